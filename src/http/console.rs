//! Console sign-in over HTTP: each directory's IdP metadata at
//! `GET /{directory name or id}/saml/metadata.xml`, the embedded console's ACSs
//! `POST /saml-role/sso` (role-based SSO) and `POST /saml/SSO` (user-based SSO, a RAM user)
//! (form `SAMLResponse`, `RelayState`; verification is `SignIn::console_accept` and
//! `SignIn::console_accept_ram_user`), and the auto-submitting form page the portal sends a
//! user to a console with (`console_post_page`).
//!
//! Only decodes, calls one `signin` function and renders (askama templates in `templates/`,
//! escaped). Must not verify or sign anything itself; refusals are 400/403 pages, never 500.

use super::Body;
use super::query::parse_query;
use crate::app::App;
use crate::signin::saml::ConsolePost;
use crate::signin::saml::verify::{
    ConsoleIdentity, ConsoleSession, Refusal, SAML_RESPONSE_CHARS_MAX,
};
use askama::Template;
use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The embedded console's ACS.
pub const ACS_PATH: &str = crate::signin::saml::EMBEDDED_ACS_PATH;
/// The embedded console's user-based SSO ACS (RAM users).
pub const USER_ACS_PATH: &str = crate::signin::saml::EMBEDDED_USER_ACS_PATH;
const METADATA_TAIL: &str = "/saml/metadata.xml";
/// Largest console form body: a `SAMLResponse` at its limit, percent-encoded, and a
/// RelayState.
pub const CONSOLE_FORM_BYTES_MAX: usize = SAML_RESPONSE_CHARS_MAX * 3 + 16 * 1024;
/// The post page's one script (its hash is the page's only allowed script).
const SUBMIT_SCRIPT: &str = "document.getElementById(\"saml-post\").submit();";

/// Whether `path` is one of this module's routes.
pub fn handles(path: &str) -> bool {
    path == ACS_PATH || path == USER_ACS_PATH || metadata_dir(path).is_some()
}

/// `/{dir}/saml/metadata.xml` -> `dir` (one non-empty segment).
fn metadata_dir(path: &str) -> Option<&str> {
    let dir = path.strip_prefix('/')?.strip_suffix(METADATA_TAIL)?;
    (!dir.is_empty() && !dir.contains('/')).then_some(dir)
}

pub async fn handle(app: &App, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    match (req.method().clone(), metadata_dir(&path)) {
        (Method::GET, Some(dir)) => metadata(app, dir).await,
        (_, Some(_)) => plain(StatusCode::METHOD_NOT_ALLOWED, "use GET"),
        (Method::POST, None) => acs(app, req, &path).await,
        _ => plain(StatusCode::METHOD_NOT_ALLOWED, "use POST"),
    }
}

/// The metadata of the directory named (or with the id) `dir`.
async fn metadata(app: &App, dir: &str) -> Response<Body> {
    let dir = super::query::decode(dir);
    let found = match app.directory.directories().await {
        Ok(all) => all.into_iter().find(|d| d.id == dir || d.name == dir),
        Err(e) => return plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    };
    let Some(d) = found else {
        return plain(StatusCode::NOT_FOUND, "no such directory");
    };
    match app.signin.idp().metadata(&d.id).await {
        Ok(xml) => {
            let mut resp = Response::new(Full::new(Bytes::from(xml)));
            set(&mut resp, CONTENT_TYPE, "application/samlmetadata+xml");
            resp
        }
        Err(e) => plain(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// The embedded console's ACS: a verified Response shows the account console page.
async fn acs(app: &App, req: Request<Incoming>, path: &str) -> Response<Body> {
    let timeout = Duration::from_millis(app.limits.request_read_timeout_ms);
    let body = match super::read_body(req, CONSOLE_FORM_BYTES_MAX, timeout).await {
        Ok(b) => b,
        Err(e) => {
            let message = e.message(CONSOLE_FORM_BYTES_MAX, timeout);
            return refused(&Refusal {
                forbidden: false,
                message,
            });
        }
    };
    let form = parse_query(&String::from_utf8_lossy(&body));
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(response) = field("SAMLResponse") else {
        let message = "the form has no SAMLResponse".to_owned();
        return refused(&Refusal {
            forbidden: false,
            message,
        });
    };
    let relay = field("RelayState");
    let accepted = if path == USER_ACS_PATH {
        app.signin.console_accept_ram_user(response, relay).await
    } else {
        app.signin.console_accept(response, relay).await
    };
    match accepted {
        Ok(session) => console_page(&session),
        Err(r) => refused(&r),
    }
}

#[derive(Template)]
#[template(path = "console.html", config = "src/http/askama.toml")]
struct ConsolePage<'a> {
    session_name: &'a str,
    subject: &'a str,
    /// The role's name, or `None` for a RAM user.
    role_name: Option<&'a str>,
    ram_user: Option<&'a str>,
    account_id: &'a str,
    expires: String,
    relay_state: Option<&'a str>,
    policies: &'a [String],
}

fn console_page(s: &ConsoleSession) -> Response<Body> {
    let (role_name, ram_user, policies) = match &s.identity {
        ConsoleIdentity::Role { name, policies } => {
            (Some(name.as_str()), None, policies.as_slice())
        }
        ConsoleIdentity::RamUser { name } => (None, Some(name.as_str()), &[][..]),
    };
    let page = ConsolePage {
        session_name: &s.session_name,
        subject: &s.subject,
        role_name,
        ram_user,
        account_id: &s.account_id,
        expires: crate::model::format_rfc3339(s.expires),
        relay_state: s.relay_state.as_deref(),
        policies,
    };
    html(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "console_error.html", config = "src/http/askama.toml")]
struct ErrorPage<'a> {
    message: &'a str,
}

fn refused(r: &Refusal) -> Response<Body> {
    let status = if r.forbidden {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    html(
        status,
        ErrorPage {
            message: &r.message,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "console_post.html", config = "src/http/askama.toml")]
struct PostPage<'a> {
    title: &'a str,
    action: &'a str,
    acs_url: &'a str,
    field: &'a str,
    saml_response: &'a str,
    relay_state: Option<&'a str>,
    script: &'static str,
}

/// The page that posts `post` to its console: `form#saml-post` submitted by one inline
/// script (allowed by its hash), with a submit button for browsers without scripts. Not
/// cached: it carries a bearer assertion.
pub fn console_post_page(post: &ConsolePost) -> Response<Body> {
    saml_post_page(
        "Signing in to the console",
        "open the console",
        &post.acs_url,
        "SAMLResponse",
        &post.saml_response,
        post.relay_state.as_deref(),
    )
}

/// The HTTP-POST binding's page: posts `field` = `value` (and the RelayState) to `url`.
pub fn saml_post_page(
    title: &str,
    action: &str,
    url: &str,
    field: &str,
    value: &str,
    relay_state: Option<&str>,
) -> Response<Body> {
    let page = PostPage {
        title,
        action,
        acs_url: url,
        field,
        saml_response: value,
        relay_state,
        script: SUBMIT_SCRIPT,
    };
    let mut resp = html(StatusCode::OK, page.render());
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SUBMIT_SCRIPT));
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; form-action {}; frame-ancestors 'none'",
        origin(url)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut().insert("content-security-policy", v);
    }
    set(&mut resp, "referrer-policy", "no-referrer");
    resp
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(after..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| after + i);
    url.get(..end).unwrap_or(url)
}

fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response<Body> {
    let Ok(text) = rendered else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rendering the page failed",
        );
    };
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    *resp.status_mut() = status;
    set(&mut resp, CONTENT_TYPE, "text/html; charset=utf-8");
    set(&mut resp, CACHE_CONTROL, "no-store");
    set(&mut resp, "x-frame-options", "DENY");
    resp
}

fn plain(status: StatusCode, message: &str) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *resp.status_mut() = status;
    set(&mut resp, CONTENT_TYPE, "text/plain; charset=utf-8");
    resp
}

fn set<K: hyper::header::IntoHeaderName>(resp: &mut Response<Body>, k: K, v: &'static str) {
    resp.headers_mut().insert(k, HeaderValue::from_static(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let cases = [
            ("/saml-role/sso", true),
            ("/d-1/saml/metadata.xml", true),
            ("/my%20dir/saml/metadata.xml", true),
            ("//saml/metadata.xml", false),
            ("/a/b/saml/metadata.xml", false),
            ("/saml-role/sso/x", false),
            ("/scim/v2/Users", false),
        ];
        for (path, want) in cases {
            assert_eq!(handles(path), want, "{path}");
        }
    }

    #[test]
    fn post_page_escapes_and_allows_only_its_script() {
        let post = ConsolePost {
            acs_url: "https://signin.aliyun.com/saml-role/sso".into(),
            saml_response: "PHg+\"<script>".into(),
            relay_state: Some("https://a.aliyun.com/?a=1&b=\"><script>".into()),
        };
        let resp = console_post_page(&post);
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("form-action https://signin.aliyun.com;"),
            "{csp}"
        );
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SUBMIT_SCRIPT));
        assert!(csp.contains(&hash));
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
        let body = String::from_utf8(resp.into_body().into_inner().unwrap().to_vec()).unwrap();
        assert!(body.contains("<form id=\"saml-post\" method=\"POST\" action=\"https://signin.aliyun.com/saml-role/sso\">"));
        assert_eq!(body.matches("<script>").count(), 1, "{body}");
        assert!(
            body.contains("value=\"https://a.aliyun.com/?a=1&#38;b=&#34;&#62;&#60;script&#62;\""),
            "{body}"
        );
        assert!(
            body.contains("value=\"PHg+&#34;&#60;script&#62;\""),
            "{body}"
        );
        assert!(body.contains("<noscript>"));
        let none = ConsolePost {
            relay_state: None,
            ..post
        };
        let body = String::from_utf8(
            console_post_page(&none)
                .into_body()
                .into_inner()
                .unwrap()
                .to_vec(),
        )
        .unwrap();
        assert!(!body.contains("RelayState"));
    }
}
