//! The sign-in wire protocols, as a client: AWS sso-oidc (`/client/register`,
//! `/device_authorization`, `/token`), the AWS portal (`/federation/credentials`, `/logout`,
//! bearer in `x-amz-sso_bearer_token`) and CloudSSO's portal protocol (the account and access
//! configuration lists, `/cloud-credentials`, bearer in `Authorization`). Typed answers, and
//! every refusal as the protocol's code and message.
//!
//! Knows nothing about files or clap; speaks only the wire protocol (research/portal.md
//! sections 1.3 and 2).

use super::client::{ClientError, send_json};
use super::formats::TempCredentials;
use super::tokens::{Registration, Token};
use crate::api::signature::percent_encode;
use hyper::{HeaderMap, Method, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

/// The device-code grant type (RFC 8628 section 3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const REFRESH_GRANT: &str = "refresh_token";
/// The scope the CLI registers for, as `aws sso login` does.
pub const SCOPE: &str = "sso:account:access";
/// The name the CLI registers under (the approval page shows it).
pub const CLIENT_NAME: &str = "cloudsso CLI";
/// The header AWS's portal reads the bearer token from.
pub const AWS_BEARER_HEADER: &str = "x-amz-sso_bearer_token";
/// Most pages read of one list before the CLI gives up (a server that always says
/// `IsTruncated` must not keep it looping).
pub const LIST_PAGES_MAX: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(
        "sign-in URL `{0}` is not the http:// URL of a portal's sign-in page, such as http://127.0.0.1:8080/default/login"
    )]
    SignInUrl(String),
    #[error("{code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected answer to {0} (HTTP {1}): {2}")]
    Answer(&'static str, u16, String),
    #[error("a list of the server has more than {0} pages")]
    Pages(usize),
}

impl PortalError {
    /// The protocol's error code of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            PortalError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A portal's sign-in URL, `http://host[:port]/<directory>/login`: the device flow's
/// `startUrl`, and the key of the token cache. Every request goes to the root of its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInUrl {
    url: String,
    origin: String,
}

impl SignInUrl {
    pub fn parse(text: &str) -> Result<SignInUrl, PortalError> {
        let url = text.trim();
        let bad = || PortalError::SignInUrl(url.to_owned());
        let uri: Uri = url.parse().map_err(|_| bad())?;
        if uri.scheme_str() == Some("https") {
            return Err(ClientError::Scheme(url.to_owned()).into());
        }
        if uri.scheme_str() != Some("http") || uri.path().trim_matches('/').is_empty() {
            return Err(bad());
        }
        let authority = uri.authority().ok_or_else(bad)?;
        Ok(SignInUrl {
            url: url.to_owned(),
            origin: format!("http://{authority}"),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `http://host[:port]`, where every protocol's paths are.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// What `/device_authorization` answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStart {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    #[serde(default)]
    pub interval: Option<u64>,
}

/// The grant `/token` is asked for.
#[derive(Debug, Clone, Copy)]
pub enum Grant<'a> {
    DeviceCode(&'a str),
    Refresh(&'a str),
}

/// An account the user may use (CloudSSO's list).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    #[serde(rename = "AccountId")]
    pub id: String,
    #[serde(rename = "DisplayName", default)]
    pub name: String,
}

/// An access configuration the user may use on an account (CloudSSO's list).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Configuration {
    #[serde(rename = "AccessConfigurationId")]
    pub id: String,
    #[serde(rename = "AccessConfigurationName", default)]
    pub name: String,
}

/// The code and message of a refused call, in whichever protocol answered: AWS's
/// `x-amzn-ErrorType` header (`Code:uri` or `prefix#Code`) or body `__type`/`code`/`error`
/// with `error_description`/`message`; CloudSSO's `ErrorCode`/`ErrorMessage`.
pub fn refusal(status: u16, error_type: Option<&str>, body: &Value) -> (String, String) {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let from_header = error_type.map(|h| {
        let h = h.split(':').next().unwrap_or(h);
        h.rsplit('#').next().unwrap_or(h).trim().to_owned()
    });
    let code = from_header
        .filter(|c| !c.is_empty())
        .or_else(|| {
            ["ErrorCode", "__type", "code", "error", "Code"]
                .iter()
                .find_map(|k| text(k))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "HttpError".to_owned());
    let message = ["error_description", "message", "ErrorMessage", "Message"]
        .iter()
        .find_map(|k| text(k))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP status {status}"));
    (code, message)
}

/// One call: the JSON answer of a 2xx, else the refusal.
async fn call(
    method: Method,
    origin: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Result<(u16, Value), PortalError> {
    let (status, head, raw): (u16, HeaderMap, _) =
        send_json(method, origin, path, headers, body).await?;
    let parsed: Value = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw).unwrap_or(Value::Null)
    };
    if (200..300).contains(&status) {
        return Ok((status, parsed));
    }
    let error_type = head.get("x-amzn-errortype").and_then(|v| v.to_str().ok());
    let (code, message) = refusal(status, error_type, &parsed);
    Err(PortalError::Refused {
        status,
        code,
        message,
    })
}

fn typed<T: serde::de::DeserializeOwned>(
    what: &'static str,
    (status, body): (u16, Value),
) -> Result<T, PortalError> {
    serde_json::from_value(body).map_err(|e| PortalError::Answer(what, status, e.to_string()))
}

/// `body[key]`, or null.
fn member(body: &Value, key: &str) -> Value {
    body.get(key).cloned().unwrap_or(Value::Null)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `POST /client/register`: a public client for the device-code and refresh grants.
pub async fn register(origin: &str) -> Result<Registration, PortalError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        client_id: String,
        client_secret: String,
        client_secret_expires_at: i64,
    }
    let body = json!({"clientName": CLIENT_NAME, "clientType": "public", "scopes": [SCOPE],
                      "grantTypes": [DEVICE_GRANT, REFRESH_GRANT]});
    let answer = call(Method::POST, origin, "/client/register", &[], Some(&body)).await?;
    let a: Answer = typed("RegisterClient", answer)?;
    Ok(Registration {
        client_id: a.client_id,
        client_secret: a.client_secret,
        expires_at: a.client_secret_expires_at,
    })
}

/// `POST /device_authorization` for `start_url`.
pub async fn start_device(
    origin: &str,
    reg: &Registration,
    start_url: &str,
) -> Result<DeviceStart, PortalError> {
    let body = json!({"clientId": reg.client_id, "clientSecret": reg.client_secret,
                      "startUrl": start_url});
    let answer = call(
        Method::POST,
        origin,
        "/device_authorization",
        &[],
        Some(&body),
    )
    .await?;
    typed("StartDeviceAuthorization", answer)
}

/// `POST /token`: a new access token (and refresh token) for `grant`.
pub async fn create_token(
    origin: &str,
    reg: &Registration,
    grant: Grant<'_>,
) -> Result<Token, PortalError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        access_token: String,
        expires_in: i64,
        #[serde(default)]
        refresh_token: Option<String>,
    }
    let body = match grant {
        Grant::DeviceCode(code) => json!({"clientId": reg.client_id,
            "clientSecret": reg.client_secret, "grantType": DEVICE_GRANT, "deviceCode": code}),
        Grant::Refresh(token) => json!({"clientId": reg.client_id,
            "clientSecret": reg.client_secret, "grantType": REFRESH_GRANT, "refreshToken": token}),
    };
    let answer = call(Method::POST, origin, "/token", &[], Some(&body)).await?;
    let a: Answer = typed("CreateToken", answer)?;
    Ok(Token {
        access_token: a.access_token,
        expires_at: now().saturating_add(a.expires_in),
        refresh_token: a.refresh_token,
    })
}

/// The paging of CloudSSO's lists, without the IO: which `NextToken` comes after a page.
#[derive(Debug, Default)]
pub struct Pages {
    read: usize,
}

impl Pages {
    /// The `NextToken` to ask for after the page `body` (`None`: the list is complete, no
    /// `IsTruncated` or no `NextToken`); refused once `LIST_PAGES_MAX` pages were read and
    /// the server still says there are more.
    pub fn after(&mut self, body: &Value) -> Result<Option<String>, PortalError> {
        self.read += 1;
        let truncated = body
            .get("IsTruncated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let next = body
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty() && truncated);
        match next {
            None => Ok(None),
            Some(_) if self.read >= LIST_PAGES_MAX => Err(PortalError::Pages(LIST_PAGES_MAX)),
            Some(n) => Ok(Some(n.to_owned())),
        }
    }
}

/// `path` asking for the page after `next`.
pub fn page_path(path: &str, next: Option<&str>) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    match next {
        Some(n) => format!("{path}{sep}NextToken={}", percent_encode(n)),
        None => path.to_owned(),
    }
}

/// Every page of a CloudSSO list at `path`, items under `field`.
async fn list_all<T: serde::de::DeserializeOwned>(
    origin: &str,
    token: &str,
    path: &str,
    field: &'static str,
) -> Result<Vec<T>, PortalError> {
    let auth = format!("Bearer {token}");
    let mut items = Vec::new();
    let (mut pages, mut next) = (Pages::default(), None);
    loop {
        let target = page_path(path, next.as_deref());
        let headers = [("authorization", auth.as_str())];
        let (status, body) = call(Method::GET, origin, &target, &headers, None).await?;
        let page: Vec<T> = typed(field, (status, member(&body, field)))?;
        items.extend(page);
        next = pages.after(&body)?;
        if next.is_none() {
            return Ok(items);
        }
    }
}

/// `GET /access-assignments/accounts`, every page.
pub async fn accounts(origin: &str, token: &str) -> Result<Vec<Account>, PortalError> {
    list_all(origin, token, "/access-assignments/accounts", "Accounts").await
}

/// `GET /access-assignments/access-configurations?AccountId=`, every page.
pub async fn configurations(
    origin: &str,
    token: &str,
    account_id: &str,
) -> Result<Vec<Configuration>, PortalError> {
    let path = format!(
        "/access-assignments/access-configurations?AccountId={}",
        percent_encode(account_id)
    );
    list_all(origin, token, &path, "AccessConfigurationsForAccount").await
}

fn expiration(what: &'static str, t: &str) -> Result<time::OffsetDateTime, PortalError> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|e| PortalError::Answer(what, 200, format!("Expiration `{t}`: {e}")))
}

/// `POST /cloud-credentials` (CloudSSO): `STS.` credentials for the account and configuration.
pub async fn cloud_credentials(
    origin: &str,
    token: &str,
    account_id: &str,
    configuration_id: &str,
) -> Result<TempCredentials, PortalError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Cred {
        access_key_id: String,
        access_key_secret: String,
        security_token: String,
        expiration: String,
    }
    let auth = format!("Bearer {token}");
    let body = json!({"AccountId": account_id, "AccessConfigurationId": configuration_id});
    let (status, answer) = call(
        Method::POST,
        origin,
        "/cloud-credentials",
        &[("authorization", &auth)],
        Some(&body),
    )
    .await?;
    let c: Cred = typed(
        "CreateCloudCredential",
        (status, member(&answer, "CloudCredential")),
    )?;
    Ok(TempCredentials {
        expiration: expiration("CreateCloudCredential", &c.expiration)?,
        access_key_id: c.access_key_id,
        access_key_secret: c.access_key_secret,
        security_token: c.security_token,
    })
}

/// `GET /federation/credentials` (AWS portal): `ASIA` credentials for the account and the
/// role (the access configuration's name).
pub async fn role_credentials(
    origin: &str,
    token: &str,
    account_id: &str,
    role_name: &str,
) -> Result<TempCredentials, PortalError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Cred {
        access_key_id: String,
        secret_access_key: String,
        session_token: String,
        /// Epoch milliseconds.
        expiration: i64,
    }
    let path = format!(
        "/federation/credentials?role_name={}&account_id={}",
        percent_encode(role_name),
        percent_encode(account_id)
    );
    let (status, answer) = call(
        Method::GET,
        origin,
        &path,
        &[(AWS_BEARER_HEADER, token)],
        None,
    )
    .await?;
    let c: Cred = typed(
        "GetRoleCredentials",
        (status, member(&answer, "roleCredentials")),
    )?;
    let expiration = time::OffsetDateTime::from_unix_timestamp(c.expiration.div_euclid(1000))
        .map_err(|e| PortalError::Answer("GetRoleCredentials", status, e.to_string()))?;
    Ok(TempCredentials {
        access_key_id: c.access_key_id,
        access_key_secret: c.secret_access_key,
        security_token: c.session_token,
        expiration,
    })
}

/// `POST /logout` (AWS portal): the server ends the token.
pub async fn logout(origin: &str, token: &str) -> Result<(), PortalError> {
    call(
        Method::POST,
        origin,
        "/logout",
        &[(AWS_BEARER_HEADER, token)],
        None,
    )
    .await
    .map(|_| ())
}

/// What the device flow does after a refused poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollStep {
    /// Not decided yet: poll again after the interval.
    Wait,
    /// Too fast: add `SLOW_DOWN_SECONDS` to the interval, then poll again.
    SlowDown,
    /// Expired, denied or refused for good.
    Stop,
}

/// Seconds added to the interval on `SlowDownException` (RFC 8628 section 3.5).
pub const SLOW_DOWN_SECONDS: u64 = 5;
/// The interval when the server names none (botocore's default).
pub const POLL_INTERVAL_DEFAULT_SECONDS: u64 = 5;
/// Longest interval the CLI waits between polls, whatever the server asks.
pub const POLL_INTERVAL_MAX_SECONDS: u64 = 60;

pub fn poll_step(code: &str) -> PollStep {
    match code {
        "AuthorizationPendingException" | "authorization_pending" => PollStep::Wait,
        "SlowDownException" | "slow_down" => PollStep::SlowDown,
        _ => PollStep::Stop,
    }
}

/// The interval to wait next: the server's (or the default) at first, longer after a
/// slow-down, never past `POLL_INTERVAL_MAX_SECONDS` nor under one second.
pub fn next_interval(current: u64, step: PollStep) -> u64 {
    let next = match step {
        PollStep::SlowDown => current.saturating_add(SLOW_DOWN_SECONDS),
        PollStep::Wait | PollStep::Stop => current,
    };
    next.clamp(1, POLL_INTERVAL_MAX_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_urls_are_http_portal_pages() {
        for (text, origin) in [
            (
                "http://127.0.0.1:8080/default/login",
                Some("http://127.0.0.1:8080"),
            ),
            (" http://sso.example/d-1/login ", Some("http://sso.example")),
            ("http://h:1/x", Some("http://h:1")),
            ("http://h:1/", None),
            ("http://h:1", None),
            ("https://h/default/login", None),
            ("ftp://h/default/login", None),
            ("/default/login", None),
            ("not a url", None),
        ] {
            let parsed = SignInUrl::parse(text);
            assert_eq!(
                parsed.as_ref().ok().map(SignInUrl::origin),
                origin,
                "{text}: {parsed:?}"
            );
        }
        let https = SignInUrl::parse("https://h/default/login").unwrap_err();
        assert!(https.to_string().contains("only http://"), "{https}");
        assert_eq!(
            SignInUrl::parse(" http://h:1/d/login").unwrap().as_str(),
            "http://h:1/d/login"
        );
    }

    #[test]
    fn refusals_read_either_protocols_error() {
        let aws_pending = json!({"error": "authorization_pending",
                                 "error_description": "Authorization is still pending"});
        for (status, header, body, code, message) in [
            (
                400,
                Some(
                    "AuthorizationPendingException:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/",
                ),
                aws_pending.clone(),
                "AuthorizationPendingException",
                "Authorization is still pending",
            ),
            (
                400,
                Some("aws.protocols#SlowDownException"),
                json!({"error": "slow_down"}),
                "SlowDownException",
                "HTTP status 400",
            ),
            (
                400,
                None,
                aws_pending,
                "authorization_pending",
                "Authorization is still pending",
            ),
            (
                401,
                None,
                json!({"__type": "UnauthorizedException", "message": "expired"}),
                "UnauthorizedException",
                "expired",
            ),
            (
                403,
                None,
                json!({"ErrorCode": "NoPermission", "ErrorMessage": "no", "RequestId": "r"}),
                "NoPermission",
                "no",
            ),
            (502, None, Value::Null, "HttpError", "HTTP status 502"),
            (400, Some(""), json!({"code": "X"}), "X", "HTTP status 400"),
        ] {
            assert_eq!(
                refusal(status, header, &body),
                (code.to_owned(), message.to_owned()),
                "{header:?} {body}"
            );
        }
    }

    #[test]
    fn paging_follows_next_token_and_stops_at_the_page_limit() {
        for (body, next) in [
            (
                json!({"IsTruncated": true, "NextToken": "a b"}),
                Some("a b"),
            ),
            (json!({"IsTruncated": false, "NextToken": "x"}), None),
            (json!({"IsTruncated": true}), None),
            (json!({"IsTruncated": true, "NextToken": ""}), None),
            (json!({}), None),
        ] {
            let got = Pages::default().after(&body).unwrap();
            assert_eq!(got.as_deref(), next, "{body}");
        }
        assert_eq!(page_path("/l", None), "/l");
        assert_eq!(page_path("/l", Some("a b")), "/l?NextToken=a%20b");
        assert_eq!(
            page_path("/l?AccountId=1", Some("n")),
            "/l?AccountId=1&NextToken=n"
        );
        // LIST_PAGES_MAX pages are read; a server still truncating after them is refused.
        let more = json!({"IsTruncated": true, "NextToken": "n"});
        let last = json!({"IsTruncated": false});
        for (final_page, ok) in [(&last, true), (&more, false)] {
            let mut pages = Pages::default();
            for _ in 1..LIST_PAGES_MAX {
                assert!(pages.after(&more).unwrap().is_some());
            }
            assert_eq!(pages.after(final_page).is_ok(), ok, "{final_page}");
        }
    }

    #[test]
    fn polling_waits_slows_down_and_stops() {
        for (code, step) in [
            ("AuthorizationPendingException", PollStep::Wait),
            ("authorization_pending", PollStep::Wait),
            ("SlowDownException", PollStep::SlowDown),
            ("slow_down", PollStep::SlowDown),
            ("ExpiredTokenException", PollStep::Stop),
            ("AccessDeniedException", PollStep::Stop),
            ("InvalidClientException", PollStep::Stop),
            ("HttpError", PollStep::Stop),
        ] {
            assert_eq!(poll_step(code), step, "{code}");
        }
        for (current, step, next) in [
            (1, PollStep::Wait, 1),
            (1, PollStep::SlowDown, 6),
            (0, PollStep::Wait, 1),
            (58, PollStep::SlowDown, POLL_INTERVAL_MAX_SECONDS),
            (POLL_INTERVAL_MAX_SECONDS + 1, PollStep::Wait, 60),
            (u64::MAX, PollStep::SlowDown, 60),
        ] {
            assert_eq!(next_interval(current, step), next, "{current} {step:?}");
        }
    }
}
