//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) as botocore signs requests: the
//! `Authorization` header form and the presigned query form (`X-Amz-Algorithm`, ...).
//!
//! Two steps, so a caller can find the secret between them: `parse` reads and checks what the
//! request claims (one `Authorization` header, its credential scope, the signed headers that
//! must be there, `X-Amz-Date` within `CLOCK_SKEW_SECONDS` of now and on the scope's day, the
//! security token present and signed, the sizes within their limits), then `Signed::verify`
//! rebuilds the canonical request (RFC 3986 encoding, dot segments removed from the path,
//! sorted query, trimmed header values, the SHA-256 of the body as read), the string to sign
//! and the signing key (the HMAC chain over date, region, service, `aws4_request`), and
//! compares in constant time. `sign` makes the `Authorization` header the same way, for tests
//! and benchmarks.
//!
//! Pure: no key lookup, no clock (the caller passes now), no hyper. The vectors in
//! `conformance/api/sigv4-vectors.json` are requests botocore signed.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far `X-Amz-Date` may be from the server's clock, either way.
pub const CLOCK_SKEW_SECONDS: i64 = 15 * 60;
/// Longest `Authorization` header read.
pub const AUTHORIZATION_BYTES_MAX: usize = 4096;
/// Most headers a signature may sign.
pub const SIGNED_HEADERS_MAX: usize = 32;
/// Longest body hashed and verified (an STS query-protocol form is a few hundred bytes).
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Longest validity a presigned request may claim (`X-Amz-Expires`, seconds): seven days.
pub const PRESIGNED_EXPIRES_MAX: i64 = 7 * 24 * 3600;
/// The credential scope's last part.
const TERMINATOR: &str = "aws4_request";
const DATE_HEADER: &str = "x-amz-date";
const TOKEN_HEADER: &str = "x-amz-security-token";
/// Headers a request may carry once only: a second one would be a second claim.
const SINGLE_HEADERS: &[&str] = &["authorization", "host", DATE_HEADER, TOKEN_HEADER];
/// Headers every header-form signature must cover.
const MUST_SIGN: &[&str] = &["host", DATE_HEADER, TOKEN_HEADER];
const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor `X-Amz-Algorithm`.
    #[error("the request is not signed")]
    Unsigned,
    /// The signature's own parts are missing, malformed or inconsistent.
    #[error("{0}")]
    Incomplete(String),
    #[error("the request has no `X-Amz-Security-Token`")]
    MissingToken,
    /// The credential scope names another service, or another day than `X-Amz-Date`.
    #[error("{0}")]
    Scope(String),
    /// `X-Amz-Date` too far from now (or a presigned request past its expiry).
    #[error("{0}")]
    Stale(String),
    #[error("the {what} is larger than {max} bytes")]
    TooLarge { what: &'static str, max: usize },
    #[error("the signature does not match")]
    Mismatch,
}

/// A request as received.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// As sent, still percent-encoded.
    pub path: &'a str,
    /// As sent, without the `?`, still percent-encoded.
    pub query: &'a str,
    /// Names in any case, in the order received; a header sent twice appears twice.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The credential scope: `<date>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `yyyymmdd`.
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    fn text(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }
}

/// Where the signature was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Header,
    /// Presigned: every parameter in the query, `X-Amz-Signature` outside the canonical query.
    Query,
}

/// What a request claims, checked except the signature itself (`verify`).
#[derive(Debug, Clone)]
pub struct Signed {
    pub access_key_id: String,
    pub security_token: String,
    pub scope: Scope,
    pub form: Form,
    /// `X-Amz-Date`, `yyyymmddThhmmssZ`.
    amz_date: String,
    /// Lowercase, strictly ascending.
    signed_headers: Vec<String>,
    signature: [u8; 32],
}

/// Reads and checks the request's SigV4 claims for `service` at `now`.
pub fn parse(req: &Request, service: &str, now: OffsetDateTime) -> Result<Signed, SigV4Error> {
    for name in SINGLE_HEADERS {
        if headers_named(req.headers, name).nth(1).is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "the request repeats the `{name}` header"
            )));
        }
    }
    if req.body.len() > BODY_BYTES_MAX {
        return Err(SigV4Error::TooLarge {
            what: "request body",
            max: BODY_BYTES_MAX,
        });
    }
    let query = query_pairs(req.query);
    let authorization = headers_named(req.headers, "authorization").next();
    let presigned = query.iter().any(|(k, _)| k == "X-Amz-Algorithm");
    let signed = match (authorization, presigned) {
        (Some(_), true) => {
            return Err(SigV4Error::Incomplete(
                "the request is signed both in the `Authorization` header and in the query".into(),
            ));
        }
        (None, false) => return Err(SigV4Error::Unsigned),
        (Some(a), false) => from_header(req, a, now)?,
        (None, true) => from_query(req, &query, now)?,
    };
    if signed.scope.service != service {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    Ok(signed)
}

/// The header form: `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
fn from_header(req: &Request, header: &str, now: OffsetDateTime) -> Result<Signed, SigV4Error> {
    if header.len() > AUTHORIZATION_BYTES_MAX {
        return Err(SigV4Error::TooLarge {
            what: "`Authorization` header",
            max: AUTHORIZATION_BYTES_MAX,
        });
    }
    let (algorithm, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "unsupported signature algorithm `{algorithm}`"
        )));
    }
    let (mut credential, mut names, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            SigV4Error::Incomplete(format!(
                "`{part}` in the Authorization header is not key=value"
            ))
        })?;
        let slot = match k {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut names,
            "Signature" => &mut signature,
            other => {
                return Err(SigV4Error::Incomplete(format!(
                    "unknown `{other}` in the Authorization header"
                )));
            }
        };
        if slot.replace(v).is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "the Authorization header repeats `{k}`"
            )));
        }
    }
    fn need<'a>(v: Option<&'a str>, k: &str) -> Result<&'a str, SigV4Error> {
        v.ok_or_else(|| {
            SigV4Error::Incomplete(format!("Authorization header requires '{k}' parameter."))
        })
    }
    let (access_key_id, scope) = credential_of(need(credential, "Credential")?)?;
    let signed_headers = signed_headers_of(need(names, "SignedHeaders")?)?;
    let signature = signature_of(need(signature, "Signature")?)?;
    for must in MUST_SIGN {
        if !signed_headers.iter().any(|h| h == must) {
            if *must == TOKEN_HEADER && header_value(req.headers, TOKEN_HEADER).is_none() {
                return Err(SigV4Error::MissingToken);
            }
            return Err(SigV4Error::Incomplete(format!(
                "`{must}` must be among the signed headers"
            )));
        }
    }
    let amz_date = header_value(req.headers, DATE_HEADER).ok_or_else(|| {
        SigV4Error::Incomplete(
            "Authorization header requires existence of a 'X-Amz-Date' header.".into(),
        )
    })?;
    let at = parse_date(&amz_date)?;
    check_window(&amz_date, at, now, CLOCK_SKEW_SECONDS)?;
    check_scope_day(&scope, &amz_date)?;
    let security_token = header_value(req.headers, TOKEN_HEADER)
        .filter(|t| !t.is_empty())
        .ok_or(SigV4Error::MissingToken)?;
    Ok(Signed {
        access_key_id,
        security_token,
        scope,
        form: Form::Header,
        amz_date,
        signed_headers,
        signature,
    })
}

/// The presigned form: `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-SignedHeaders`, `X-Amz-Signature`, `X-Amz-Security-Token` in the query.
fn from_query(
    req: &Request,
    query: &[(String, Vec<u8>)],
    now: OffsetDateTime,
) -> Result<Signed, SigV4Error> {
    let one = |name: &str| -> Result<Option<String>, SigV4Error> {
        let mut found = query.iter().filter(|(k, _)| k == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "the query repeats `{name}`"
            )));
        }
        Ok(first.map(|(_, v)| String::from_utf8_lossy(v).into_owned()))
    };
    let need = |name: &str| -> Result<String, SigV4Error> {
        one(name)?.ok_or_else(|| {
            SigV4Error::Incomplete(format!("a presigned request requires '{name}'."))
        })
    };
    let algorithm = need("X-Amz-Algorithm")?;
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "unsupported signature algorithm `{algorithm}`"
        )));
    }
    let (access_key_id, scope) = credential_of(&need("X-Amz-Credential")?)?;
    let signed_headers = signed_headers_of(&need("X-Amz-SignedHeaders")?)?;
    let signature = signature_of(&need("X-Amz-Signature")?)?;
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::Incomplete(
            "`host` must be among the signed headers".into(),
        ));
    }
    let expires: i64 = need("X-Amz-Expires")?
        .parse()
        .ok()
        .filter(|e| (1..=PRESIGNED_EXPIRES_MAX).contains(e))
        .ok_or_else(|| {
            SigV4Error::Incomplete(format!(
                "X-Amz-Expires must be a number of seconds from 1 to {PRESIGNED_EXPIRES_MAX}"
            ))
        })?;
    let amz_date = need("X-Amz-Date")?;
    let at = parse_date(&amz_date)?;
    // Presigned: valid from a little before its date (the clock skew) until it expires.
    if at > now {
        check_window(&amz_date, at, now, CLOCK_SKEW_SECONDS)?;
    }
    if now > at + time::Duration::seconds(expires) {
        return Err(SigV4Error::Stale(format!(
            "Signature expired: the request presigned at {amz_date} was valid for {expires} seconds."
        )));
    }
    check_scope_day(&scope, &amz_date)?;
    // The token is covered by the canonical query; a header one only when signed.
    let security_token = match one("X-Amz-Security-Token")? {
        Some(t) => Some(t),
        None if signed_headers.iter().any(|h| h == TOKEN_HEADER) => {
            header_value(req.headers, TOKEN_HEADER)
        }
        None => None,
    }
    .filter(|t| !t.is_empty())
    .ok_or(SigV4Error::MissingToken)?;
    Ok(Signed {
        access_key_id,
        security_token,
        scope,
        form: Form::Query,
        amz_date,
        signed_headers,
        signature,
    })
}

/// `AKID/yyyymmdd/region/service/aws4_request`.
fn credential_of(text: &str) -> Result<(String, Scope), SigV4Error> {
    let parts: Vec<&str> = text.split('/').collect();
    let [key, date, region, service, terminator] = parts.as_slice() else {
        return Err(SigV4Error::Incomplete(format!(
            "Credential `{text}` is not <AccessKeyId>/<date>/<region>/<service>/aws4_request"
        )));
    };
    if *terminator != TERMINATOR {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }
    let token_chars = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    if !token_chars(key, b"._-") {
        return Err(SigV4Error::Incomplete(
            "the Credential's AccessKeyId is empty or malformed".into(),
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SigV4Error::Incomplete(format!(
            "the Credential's date `{date}` is not yyyymmdd"
        )));
    }
    if !token_chars(region, b"-") || !token_chars(service, b"-") {
        return Err(SigV4Error::Scope(
            "Credential should be scoped to a valid region and service.".into(),
        ));
    }
    Ok((
        (*key).to_owned(),
        Scope {
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
        },
    ))
}

/// `a;b;c`: lowercase names, strictly ascending, at most `SIGNED_HEADERS_MAX`.
fn signed_headers_of(text: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = text.split(';').map(str::to_owned).collect();
    if names.len() > SIGNED_HEADERS_MAX {
        return Err(SigV4Error::Incomplete(format!(
            "more than {SIGNED_HEADERS_MAX} signed headers"
        )));
    }
    let well_formed = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    });
    if !well_formed || names.windows(2).any(|w| w.first() >= w.get(1)) {
        return Err(SigV4Error::Incomplete(format!(
            "SignedHeaders `{text}` must be lowercase names, sorted, each once"
        )));
    }
    Ok(names)
}

/// 64 lowercase hex digits.
fn signature_of(text: &str) -> Result<[u8; 32], SigV4Error> {
    let bad = || SigV4Error::Incomplete("Signature must be 64 lowercase hex digits".into());
    if text.len() != 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = text
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(bad)?;
    }
    Ok(out)
}

fn parse_date(amz_date: &str) -> Result<OffsetDateTime, SigV4Error> {
    time::PrimitiveDateTime::parse(amz_date, DATE_FORMAT)
        .map(time::PrimitiveDateTime::assume_utc)
        .map_err(|_| {
            SigV4Error::Incomplete(format!(
                "X-Amz-Date `{amz_date}` is not in the form yyyymmddThhmmssZ"
            ))
        })
}

fn format_date(at: OffsetDateTime) -> String {
    at.format(DATE_FORMAT).unwrap_or_default()
}

/// `at` within `skew` seconds of `now`, either way, in AWS's words.
fn check_window(
    amz_date: &str,
    at: OffsetDateTime,
    now: OffsetDateTime,
    skew: i64,
) -> Result<(), SigV4Error> {
    let skew_d = time::Duration::seconds(skew);
    let minutes = skew / 60;
    if at < now - skew_d {
        return Err(SigV4Error::Stale(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - {minutes} min.)",
            format_date(now - skew_d),
            format_date(now)
        )));
    }
    if at > now + skew_d {
        return Err(SigV4Error::Stale(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + {minutes} min.)",
            format_date(now + skew_d),
            format_date(now)
        )));
    }
    Ok(())
}

fn check_scope_day(scope: &Scope, amz_date: &str) -> Result<(), SigV4Error> {
    if amz_date.get(..8) != Some(scope.date.as_str()) {
        return Err(SigV4Error::Scope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            scope.date,
            amz_date.get(..8).unwrap_or_default()
        )));
    }
    Ok(())
}

impl Signed {
    /// Whether `name` (lowercase) is among the signed headers.
    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers.iter().any(|h| h == name)
    }

    /// Checks the signature with `secret` over `req` (the request `parse` read).
    pub fn verify(&self, req: &Request, secret: &str) -> Result<(), SigV4Error> {
        let exclude = match self.form {
            Form::Header => None,
            Form::Query => Some("X-Amz-Signature"),
        };
        let canonical = canonical_request(req, &self.signed_headers, exclude)?;
        let mac = string_mac(secret, &self.scope, &self.amz_date, &canonical)?;
        mac.verify_slice(&self.signature)
            .map_err(|_| SigV4Error::Mismatch)
    }
}

/// The HMAC of the string to sign under the signing key: the signature, not yet finalized.
fn string_mac(
    secret: &str,
    scope: &Scope,
    amz_date: &str,
    canonical: &str,
) -> Result<HmacSha256, SigV4Error> {
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        scope.text(),
        crate::model::hex_lower(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes())?;
    let k_region = hmac(&k_date, scope.region.as_bytes())?;
    let k_service = hmac(&k_region, scope.service.as_bytes())?;
    let k_signing = hmac(&k_service, TERMINATOR.as_bytes())?;
    let mut mac = keyed(&k_signing)?;
    mac.update(string_to_sign.as_bytes());
    Ok(mac)
}

/// HMAC-SHA256 under `key` (HMAC takes keys of any length: this does not fail).
fn keyed(key: &[u8]) -> Result<HmacSha256, SigV4Error> {
    HmacSha256::new_from_slice(key).map_err(|_| SigV4Error::Mismatch)
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, SigV4Error> {
    let mut mac = keyed(key)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The canonical request over `signed` headers; `exclude` leaves a query parameter out.
fn canonical_request(
    req: &Request,
    signed: &[String],
    exclude: Option<&str>,
) -> Result<String, SigV4Error> {
    let mut query: Vec<(String, String)> = query_pairs(req.query)
        .into_iter()
        .filter(|(k, _)| Some(k.as_str()) != exclude)
        .map(|(k, v)| (encode(k.as_bytes()), encode(&v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers = String::new();
    for name in signed {
        let values: Vec<String> = headers_named(req.headers, name)
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(SigV4Error::Incomplete(format!(
                "the signed header `{name}` is not in the request"
            )));
        }
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n{}\n{}\n{headers}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        query.join("&"),
        signed.join(";"),
        crate::model::hex_lower(&Sha256::digest(req.body))
    ))
}

/// The path with dot segments and empty segments removed (as botocore normalizes it), then
/// percent-encoded again, `/` kept.
fn canonical_uri(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let trailing = path.ends_with('/') && !kept.is_empty();
    let joined = format!("/{}{}", kept.join("/"), if trailing { "/" } else { "" });
    joined
        .split('/')
        .map(|s| encode(s.as_bytes()))
        .collect::<Vec<_>>()
        .join("/")
}

/// RFC 3986: unreserved bytes kept, every other byte `%XX` (uppercase).
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(b) {
            out.push(char::from(*b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The raw query's pairs, percent-decoded (`+` stays `+`); the key as text.
fn query_pairs(raw: &str) -> Vec<(String, Vec<u8>)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (String::from_utf8_lossy(&decode(k)).into_owned(), decode(v))
        })
        .collect()
}

/// Percent-decoding; a `%` not followed by two hex digits stays as it is.
fn decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn headers_named<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers_named(headers, name)
        .next()
        .map(|v| v.trim().to_owned())
}

/// What `sign` needs: the key, the scope, the time and the request (its headers must hold
/// `host`, `x-amz-date` and `x-amz-security-token`; every one of them is signed).
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub request: Request<'a>,
}

/// The `Authorization` header value for `input` (the header form), signing every header of
/// the request; `X-Amz-Date` is read from the headers.
pub fn sign(input: &SignInput) -> Result<String, SigV4Error> {
    let req = &input.request;
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| k != "authorization")
        .collect();
    names.sort();
    names.dedup();
    let amz_date = header_value(req.headers, DATE_HEADER)
        .ok_or_else(|| SigV4Error::Incomplete("no `x-amz-date` header to sign".into()))?;
    let scope = Scope {
        date: amz_date.get(..8).unwrap_or_default().to_owned(),
        region: input.region.to_owned(),
        service: input.service.to_owned(),
    };
    let canonical = canonical_request(req, &names, None)?;
    let mac = string_mac(input.secret, &scope, &amz_date, &canonical)?;
    Ok(format!(
        "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={}",
        input.access_key_id,
        scope.text(),
        names.join(";"),
        crate::model::hex_lower(&mac.finalize().into_bytes())
    ))
}

/// `X-Amz-Date` for `at`.
pub fn amz_date(at: OffsetDateTime) -> String {
    format_date(at.to_offset(time::UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const SECRET: &str = "test-secret";
    const TOKEN: &str = "CSSO1.token";
    const AKID: &str = "ASIATESTKEY000000000";

    fn t(s: &str) -> OffsetDateTime {
        parse_date(s).unwrap()
    }

    fn vectors() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/conformance/api/sigv4-vectors.json"
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// A vector's request: headers, path, query, body.
    struct Owned {
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Owned {
        fn of(v: &Value) -> Owned {
            Owned {
                method: v["method"].as_str().unwrap().to_owned(),
                path: v["path"].as_str().unwrap().to_owned(),
                query: v["query"].as_str().unwrap().to_owned(),
                headers: v["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        (
                            h[0].as_str().unwrap().to_owned(),
                            h[1].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect(),
                body: v["body"].as_str().unwrap().as_bytes().to_vec(),
            }
        }

        fn req(&self) -> Request<'_> {
            Request {
                method: &self.method,
                path: &self.path,
                query: &self.query,
                headers: &self.headers,
                body: &self.body,
            }
        }

        /// The time the request was signed.
        fn signed_at(&self) -> OffsetDateTime {
            let from_query = query_pairs(&self.query)
                .into_iter()
                .find(|(k, _)| k == "X-Amz-Date")
                .map(|(_, v)| String::from_utf8(v).unwrap());
            t(&from_query
                .or_else(|| header_value(&self.headers, DATE_HEADER))
                .unwrap())
        }

        fn check(&self, secret: &str) -> Result<Signed, SigV4Error> {
            let s = parse(&self.req(), "sts", self.signed_at())?;
            s.verify(&self.req(), secret)?;
            Ok(s)
        }

        fn set_header(&mut self, name: &str, value: &str) {
            for (k, v) in &mut self.headers {
                if k.eq_ignore_ascii_case(name) {
                    *v = value.to_owned();
                }
            }
        }
    }

    /// Every request botocore signed verifies with its secret, names its key, scope and
    /// token; the Authorization header `sign` makes is botocore's, byte for byte; and changing
    /// any signed part (or the secret) breaks it.
    #[test]
    fn botocore_signed_requests_verify_and_tampering_is_caught() {
        let v = vectors();
        let secret = v["secret"].as_str().unwrap();
        let vectors = v["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 9);
        let mut failures = Vec::new();
        for vec in vectors {
            let name = vec["name"].as_str().unwrap();
            let r = Owned::of(vec);
            match r.check(secret) {
                Ok(s) => {
                    if s.access_key_id != v["access_key_id"]
                        || s.security_token != v["security_token"]
                    {
                        failures.push(format!("{name}: {s:?}"));
                    }
                }
                Err(e) => failures.push(format!("{name}: {e}")),
            }
            if let Some(auth) = header_value(&r.headers, "authorization") {
                let region = auth.split('/').nth(2).unwrap();
                let signed_names = auth
                    .split("SignedHeaders=")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap();
                let headers: Vec<(String, String)> = r
                    .headers
                    .iter()
                    .filter(|(k, _)| signed_names.split(';').any(|n| k.eq_ignore_ascii_case(n)))
                    .cloned()
                    .collect();
                let mine = sign(&SignInput {
                    access_key_id: v["access_key_id"].as_str().unwrap(),
                    secret,
                    region,
                    service: "sts",
                    request: Request {
                        headers: &headers,
                        ..r.req()
                    },
                })
                .unwrap();
                if mine != auth {
                    failures.push(format!("{name}: signed\n  {mine}\nbotocore\n  {auth}"));
                }
            }
            if r.check("another-secret").err() != Some(SigV4Error::Mismatch) {
                failures.push(format!("{name}: another secret verified"));
            }
            let mut tampered = Vec::new();
            let mut body = Owned::of(vec);
            body.body.push(b'x');
            tampered.push(("body", body));
            let mut method = Owned::of(vec);
            method.method = if method.method == "GET" {
                "POST"
            } else {
                "GET"
            }
            .into();
            tampered.push(("method", method));
            let mut path = Owned::of(vec);
            path.path.push('x');
            tampered.push(("path", path));
            let mut query = Owned::of(vec);
            query.query = if query.query.is_empty() {
                "Action=AssumeRole".into()
            } else {
                query
                    .query
                    .replacen("Action=GetCallerIdentity", "Action=AssumeRole", 1)
                    + "&x=1"
            };
            tampered.push(("query", query));
            let mut host = Owned::of(vec);
            host.set_header("host", "evil.example");
            tampered.push(("host", host));
            for (what, t) in tampered {
                if t.check(secret).is_ok() {
                    failures.push(format!("{name}: tampered {what} verified"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// A request signed with `sign` now, with `extra` headers.
    fn signed(now: OffsetDateTime, extra: &[(&str, &str)], body: &[u8]) -> Owned {
        let mut headers = vec![
            ("host".to_owned(), "127.0.0.1:8080".to_owned()),
            ("x-amz-date".to_owned(), amz_date(now)),
            ("x-amz-security-token".to_owned(), TOKEN.to_owned()),
        ];
        headers.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut r = Owned {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers,
            body: body.to_vec(),
        };
        let auth = sign(&SignInput {
            access_key_id: AKID,
            secret: SECRET,
            region: "us-east-1",
            service: "sts",
            request: r.req(),
        })
        .unwrap();
        r.headers.push(("authorization".into(), auth));
        r
    }

    fn now() -> OffsetDateTime {
        t("20261203T120000Z")
    }

    fn at(r: &Owned, when: OffsetDateTime) -> Result<Signed, SigV4Error> {
        let s = parse(&r.req(), "sts", when)?;
        s.verify(&r.req(), SECRET)?;
        Ok(s)
    }

    fn kind(r: &Result<Signed, SigV4Error>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(SigV4Error::Unsigned) => "Unsigned",
            Err(SigV4Error::Incomplete(_)) => "Incomplete",
            Err(SigV4Error::MissingToken) => "MissingToken",
            Err(SigV4Error::Scope(_)) => "Scope",
            Err(SigV4Error::Stale(_)) => "Stale",
            Err(SigV4Error::TooLarge { .. }) => "TooLarge",
            Err(SigV4Error::Mismatch) => "Mismatch",
        }
    }

    #[test]
    fn attacks_and_malformed_signatures() {
        let body = b"Action=GetCallerIdentity&Version=2011-06-15";
        let good = || signed(now(), &[], body);
        let auth = |r: &Owned| header_value(&r.headers, "authorization").unwrap();
        let with_auth = |f: &dyn Fn(String) -> String| {
            let mut r = good();
            let a = f(auth(&r));
            r.set_header("authorization", &a);
            r
        };
        let minute = time::Duration::minutes(1);
        let mut cases: Vec<(&str, Owned, OffsetDateTime, &str)> = vec![
            ("genuine", good(), now(), "ok"),
            (
                "genuine, 15 minutes later",
                good(),
                now() + 15 * minute,
                "ok",
            ),
            (
                "genuine, 15 minutes early",
                good(),
                now() - 15 * minute,
                "ok",
            ),
            (
                "stale: 16 minutes later",
                good(),
                now() + 16 * minute,
                "Stale",
            ),
            (
                "future: 16 minutes early",
                good(),
                now() - 16 * minute,
                "Stale",
            ),
            (
                "signature flipped",
                with_auth(&|a| {
                    let last = a.chars().last().unwrap();
                    format!(
                        "{}{}",
                        &a[..a.len() - 1],
                        if last == '0' { '1' } else { '0' }
                    )
                }),
                now(),
                "Mismatch",
            ),
            // The key id is not signed: it names the secret, so another key id checks the
            // signature against that key's secret (the caller derives it; see aws_sts).
            (
                "another key id, same secret",
                with_auth(&|a| a.replace(AKID, "ASIAOTHERKEY00000000")),
                now(),
                "ok",
            ),
            (
                "another region in the scope",
                with_auth(&|a| a.replace("us-east-1", "us-west-2")),
                now(),
                "Mismatch",
            ),
            (
                "another service",
                with_auth(&|a| a.replace("/sts/", "/s3/")),
                now(),
                "Scope",
            ),
            (
                "another terminator",
                with_auth(&|a| a.replace("aws4_request", "aws5_request")),
                now(),
                "Scope",
            ),
            (
                "scope on another day",
                with_auth(&|a| a.replace("/20261203/", "/20261202/")),
                now(),
                "Scope",
            ),
            (
                "another algorithm",
                with_auth(&|a| a.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")),
                now(),
                "Incomplete",
            ),
            (
                "no Signature",
                with_auth(&|a| a.split(", Signature=").next().unwrap().to_owned()),
                now(),
                "Incomplete",
            ),
            (
                "Signature twice",
                with_auth(&|a| format!("{a}, Signature={}", "0".repeat(64))),
                now(),
                "Incomplete",
            ),
            (
                "short signature",
                with_auth(&|a| a[..a.len() - 2].to_owned()),
                now(),
                "Incomplete",
            ),
            (
                "uppercase signature",
                with_auth(&|a| {
                    let (head, sig) = a.split_once("Signature=").unwrap();
                    format!("{head}Signature={}", sig.to_uppercase())
                }),
                now(),
                "Incomplete",
            ),
            (
                "credential of four parts",
                with_auth(&|a| a.replace("/aws4_request", "")),
                now(),
                "Incomplete",
            ),
            (
                "host not signed",
                with_auth(&|a| a.replace("host;", "")),
                now(),
                "Incomplete",
            ),
            (
                "date not signed",
                with_auth(&|a| a.replace("x-amz-date;", "")),
                now(),
                "Incomplete",
            ),
            (
                "token not signed",
                with_auth(&|a| a.replace(";x-amz-security-token", "")),
                now(),
                "Incomplete",
            ),
            (
                "signed headers unsorted",
                with_auth(&|a| a.replace("host;x-amz-date", "x-amz-date;host")),
                now(),
                "Incomplete",
            ),
            (
                "a signed header absent",
                with_auth(&|a| a.replace("x-amz-security-token", "x-amz-security-token;x-zz")),
                now(),
                "Incomplete",
            ),
            (
                "unknown part",
                with_auth(&|a| format!("{a}, Foo=bar")),
                now(),
                "Incomplete",
            ),
            ("empty", with_auth(&|_| String::new()), now(), "Incomplete"),
        ];
        let mut no_token = good();
        no_token
            .headers
            .retain(|(k, _)| k != "x-amz-security-token");
        no_token.set_header(
            "authorization",
            &auth(&no_token).replace(";x-amz-security-token", ""),
        );
        cases.push(("no token at all", no_token, now(), "MissingToken"));
        let mut token_changed = good();
        token_changed.set_header("x-amz-security-token", "CSSO1.another");
        cases.push(("token changed", token_changed, now(), "Mismatch"));
        let mut date_changed = good();
        date_changed.set_header("x-amz-date", "20261203T120001Z");
        cases.push(("date changed", date_changed, now(), "Mismatch"));
        let mut bad_date = good();
        bad_date.set_header("x-amz-date", "2026-12-03T12:00:00Z");
        cases.push(("date not yyyymmddThhmmssZ", bad_date, now(), "Incomplete"));
        let mut no_date = good();
        no_date.headers.retain(|(k, _)| k != "x-amz-date");
        cases.push(("no date header", no_date, now(), "Incomplete"));
        for dup in [
            "authorization",
            "x-amz-date",
            "x-amz-security-token",
            "host",
        ] {
            let mut twice = good();
            let v = header_value(&twice.headers, dup).unwrap();
            twice.headers.push((dup.to_ascii_uppercase(), v));
            cases.push((dup, twice, now(), "Incomplete"));
        }
        let mut unsigned = good();
        unsigned.headers.retain(|(k, _)| k != "authorization");
        cases.push(("no Authorization", unsigned, now(), "Unsigned"));
        let mut both = good();
        both.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
        cases.push(("header and query", both, now(), "Incomplete"));
        // A header that is not signed may change (botocore leaves out user-agent).
        let mut ua = good();
        ua.headers.push(("user-agent".into(), "anything".into()));
        cases.push(("an unsigned user-agent added", ua, now(), "ok"));
        let mut failures = Vec::new();
        for (name, r, when, want) in &cases {
            let got = at(r, *when);
            if kind(&got) != *want {
                failures.push(format!("{name}: {got:?}, want {want}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn limits_on_both_sides() {
        // The body: at the limit verifies, one byte more is refused before hashing.
        let full = vec![b'a'; BODY_BYTES_MAX];
        assert_eq!(kind(&at(&signed(now(), &[], &full), now())), "ok");
        let over = vec![b'a'; BODY_BYTES_MAX + 1];
        assert!(matches!(
            at(&signed(now(), &[], &over), now()),
            Err(SigV4Error::TooLarge {
                max: BODY_BYTES_MAX,
                ..
            })
        ));
        // Signed headers: `SIGNED_HEADERS_MAX` of them verify, one more is refused.
        let extra = |n: usize| -> Vec<(String, String)> {
            (0..n)
                .map(|i| (format!("x-h{i:02}"), "v".to_owned()))
                .collect()
        };
        for (n, want) in [
            (SIGNED_HEADERS_MAX - 3, "ok"),
            (SIGNED_HEADERS_MAX - 2, "Incomplete"),
        ] {
            let e = extra(n);
            let refs: Vec<(&str, &str)> = e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = signed(now(), &refs, b"");
            assert_eq!(kind(&at(&r, now())), want, "{n} extra headers");
        }
        // The Authorization header: at the limit it is read (and its padding refused as an
        // unknown part), one byte more is refused as too large.
        let r = signed(now(), &[], b"");
        let a = header_value(&r.headers, "authorization").unwrap();
        let pad = |len: usize| format!("{a}, P={}", "p".repeat(len - a.len() - 4));
        let mut at_max = signed(now(), &[], b"");
        at_max.set_header("authorization", &pad(AUTHORIZATION_BYTES_MAX));
        assert!(matches!(
            at(&at_max, now()),
            Err(SigV4Error::Incomplete(m)) if m.contains("unknown `P`")
        ));
        let mut over = signed(now(), &[], b"");
        over.set_header("authorization", &pad(AUTHORIZATION_BYTES_MAX + 1));
        assert!(matches!(at(&over, now()), Err(SigV4Error::TooLarge { .. })));
    }

    #[test]
    fn presigned_requests_expire_and_are_checked_like_headers() {
        let v = vectors();
        let secret = v["secret"].as_str().unwrap();
        let vec = v["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"].as_str().unwrap().starts_with("boto3 presigned"))
            .unwrap();
        let r = Owned::of(vec);
        let signed_at = r.signed_at();
        let check = |r: &Owned, when| {
            parse(&r.req(), "sts", when).and_then(|s| s.verify(&r.req(), secret).map(|()| s))
        };
        assert_eq!(check(&r, signed_at).unwrap().form, Form::Query);
        // ExpiresIn=900: valid until then, refused after; not before the clock skew.
        assert!(check(&r, signed_at + time::Duration::seconds(900)).is_ok());
        assert_eq!(
            kind(&check(&r, signed_at + time::Duration::seconds(901))),
            "Stale"
        );
        assert_eq!(
            kind(&check(&r, signed_at - time::Duration::minutes(16))),
            "Stale"
        );
        let edit = |f: &dyn Fn(&str) -> String| {
            let mut c = Owned::of(vec);
            c.query = f(&c.query);
            c
        };
        let cases: Vec<(&str, Owned, &str)> = vec![
            (
                "action changed",
                edit(&|q| q.replace("GetCallerIdentity", "AssumeRole")),
                "Mismatch",
            ),
            (
                "expiry lengthened",
                edit(&|q| q.replace("X-Amz-Expires=900", "X-Amz-Expires=901")),
                "Mismatch",
            ),
            (
                "expiry past the maximum",
                edit(&|q| q.replace("X-Amz-Expires=900", "X-Amz-Expires=604801")),
                "Incomplete",
            ),
            (
                "token dropped",
                edit(&|q| {
                    q.split('&')
                        .filter(|p| !p.starts_with("X-Amz-Security-Token="))
                        .collect::<Vec<_>>()
                        .join("&")
                }),
                "MissingToken",
            ),
            (
                "signature twice",
                edit(&|q| format!("{q}&X-Amz-Signature={}", "0".repeat(64))),
                "Incomplete",
            ),
            (
                "parameter added",
                edit(&|q| format!("{q}&Extra=1")),
                "Mismatch",
            ),
        ];
        let mut failures = Vec::new();
        for (name, c, want) in &cases {
            let got = check(c, signed_at);
            if kind(&got) != *want {
                failures.push(format!("{name}: {got:?}, want {want}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn canonical_parts() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("/a/./b//c/../d/", "/a/b/d/"),
            ("/../..", "/"),
            ("/p%20q/%C3%BC+", "/p%2520q/%25C3%25BC%2B"),
        ] {
            assert_eq!(canonical_uri(path), want, "{path}");
        }
        assert_eq!(decode("a%2Fb%zz%4"), b"a/b%zz%4");
        assert_eq!(encode("é +~".as_bytes()), "%C3%A9%20%2B~");
    }
}
