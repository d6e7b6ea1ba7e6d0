//! The portal's pages: one askama template (in `templates/portal/`, compile-time checked,
//! HTML-escaped) per page, and the headers every page carries. Must not decide anything: the
//! routes in `super` choose the page and fill it.

use crate::http::Body;
use crate::signin::portal::AccountList;
use askama::Template;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

#[derive(Template)]
#[template(path = "portal/login.html", config = "src/http/askama.toml")]
pub struct Login<'a> {
    pub directory: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/mfa_enroll.html", config = "src/http/askama.toml")]
pub struct MfaEnroll<'a> {
    pub directory: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub secret: &'a str,
    /// Made by `signin::totp` from the QR code of the otpauth URI (no client input in it).
    pub qr_svg: &'a str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/mfa.html", config = "src/http/askama.toml")]
pub struct Mfa<'a> {
    pub directory: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/password.html", config = "src/http/askama.toml")]
pub struct Password<'a> {
    pub directory: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    pub rules: &'a str,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/accounts.html", config = "src/http/askama.toml")]
pub struct Accounts<'a> {
    pub directory: &'a str,
    /// `/<directory segment>`.
    pub base: &'a str,
    pub csrf: &'a str,
    pub user_name: &'a str,
    pub search: &'a str,
    /// `search`, percent-encoded for the pager's links.
    pub search_q: &'a str,
    /// The RAM user tab (each entry's one `configs` item is the RAM user) rather than the
    /// roles'.
    pub ram_users: bool,
    pub list: &'a AccountList,
}

/// A CLI sign-in waiting for approval, as the page shows it.
pub struct DeviceRequest {
    /// `XXXX-XXXX`.
    pub user_code: String,
    /// The client asking (e.g. "CloudSSO CLI").
    pub client: &'static str,
}

#[derive(Template)]
#[template(path = "portal/device.html", config = "src/http/askama.toml")]
pub struct Device<'a> {
    pub directory: &'a str,
    /// The page's own path (`/<directory>/device`).
    pub action: &'a str,
    pub csrf: &'a str,
    pub user_name: &'a str,
    /// The request to approve, or none (the code entry form).
    pub request: Option<DeviceRequest>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/message.html", config = "src/http/askama.toml")]
pub struct Message<'a> {
    pub directory: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub link: Option<String>,
}

/// A rendered page with the portal's security headers: no caching, no framing, no scripts,
/// forms only to this origin, no referrer.
pub fn page(status: StatusCode, t: &impl Template) -> Response<Body> {
    let body = t
        .render()
        .unwrap_or_else(|e| format!("<!doctype html><p>page error: {e}</p>"));
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    security_headers(h);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    resp
}

/// The approval page of a CLI sign-in: as `page`, but its form may also end at a loopback
/// address (browsers hold a form's redirects to `form-action`, and approving an
/// authorization-code request redirects to the client's loopback listener).
pub fn approval_page(status: StatusCode, t: &impl Template) -> Response<Body> {
    let mut resp = page(status, t);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self' http://127.0.0.1:* http://localhost:* http://[::1]:*; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    resp
}

/// Headers every portal answer carries.
pub fn security_headers(h: &mut hyper::HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A 303 to `location` (a path this server made), with optional cookies.
pub fn redirect(location: &str, cookies: &[String]) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SEE_OTHER;
    let h = resp.headers_mut();
    security_headers(h);
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}
