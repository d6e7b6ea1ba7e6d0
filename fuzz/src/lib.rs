//! Shared pieces of the fuzz targets: the fixed documents a fuzzed filter or PATCH runs
//! against, and the splitting of one input into the parts a target needs.
//!
//! Owns nothing of cloudsso's behaviour: every target calls cloudsso's public APIs, and a
//! panic anywhere under them is a finding. Must not catch panics or hide an input from the
//! code under test.

use cloudsso::scim::schema::{GROUP, ResourceTypeDef, USER, validate_create};
use serde_json::{Value, json};
use std::sync::LazyLock;

/// A User body with every kind of attribute (strings, booleans, complex, multi-valued with
/// primary, the enterprise extension), as a client sends it.
pub fn user_body() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "bjensen@example.com",
        "externalId": "701984",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen",
                 "givenName": "Barbara", "middleName": "Jane"},
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "addresses": [{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                       "region": "CA", "postalCode": "91608", "country": "USA",
                       "type": "work", "primary": true}],
        "roles": [{"value": "admin", "display": "Admin"}],
        "x509Certificates": [{"value": "TUlJQ0lqQU4="}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
            "division": "Theme Park", "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        }
    })
}

/// A Group body as a client sends it (members are rows in cloudsso, never in the document).
pub fn group_body() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Tour Guides",
        "externalId": "g-7"
    })
}

static STORED: LazyLock<[Value; 2]> = LazyLock::new(|| [make_stored(&USER), make_stored(&GROUP)]);

/// The canonical stored document of `rt` (what `directory` keeps and PATCH applies to), with
/// the read-only attributes a stored document has.
pub fn stored(rt: &ResourceTypeDef) -> &'static Value {
    let [user, group] = &*STORED;
    if rt.name == GROUP.name { group } else { user }
}

fn make_stored(rt: &ResourceTypeDef) -> Value {
    let body = if rt.name == GROUP.name {
        group_body()
    } else {
        user_body()
    };
    let mut doc =
        validate_create(body, rt).unwrap_or_else(|e| panic!("fixed {} body: {e}", rt.name));
    if let Some(o) = doc.as_object_mut() {
        o.insert("id".into(), json!("2819c223-7f76-453a-919d-413861904646"));
        o.insert(
            "meta".into(),
            json!({"resourceType": rt.name, "created": "2026-01-01T00:00:00Z",
                   "lastModified": "2026-01-01T00:00:00Z", "version": "W/\"1\""}),
        );
    }
    doc
}

/// Both resource types.
pub fn resource_types() -> [&'static ResourceTypeDef; 2] {
    [&USER, &GROUP]
}

/// The resource type a case names (`"User"`, `"Group"`), User when it names none.
pub fn resource_type_named(name: Option<&str>) -> &'static ResourceTypeDef {
    match name {
        Some(n) if n.eq_ignore_ascii_case("group") => &GROUP,
        _ => &USER,
    }
}

/// A string field of a JSON case.
pub fn field<'a>(case: &'a Value, name: &str) -> Option<&'a str> {
    case.get(name).and_then(Value::as_str)
}

/// An HTTP request as the management API's adapter hands it over: method, raw path, decoded
/// query pairs, headers, body, and the decoded form pairs when the body is a form.
#[derive(Debug, Default)]
pub struct HttpParts {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub form: Vec<(String, String)>,
}

/// Reads `METHOD PATH[?QUERY]`, then `Name: value` lines, an empty line and the body (the
/// layout of an HTTP/1.1 request, with `\n` line ends). Header names are kept only when they
/// are HTTP tokens, as hyper delivers them.
pub fn http_parts(data: &[u8]) -> Option<HttpParts> {
    let text = std::str::from_utf8(data).ok()?;
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.split('\n');
    let (method, target) = lines.next()?.split_once(' ')?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| is_token(k))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect();
    let is_form = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    });
    Some(HttpParts {
        method: method.to_owned(),
        path: path.to_owned(),
        query: form_pairs(query),
        form: if is_form {
            form_pairs(body)
        } else {
            Vec::new()
        },
        headers,
        body: body.as_bytes().to_vec(),
    })
}

/// RFC 7230 `token`: what a header name can be.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `a=b&c=d`, `+` a space and `%XX` a byte (the form encoding; the server's own decoder,
/// `http::query`, is private to `http`).
pub fn form_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
