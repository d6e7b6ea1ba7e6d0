//! AWS STS (2011-06-15, the query protocol botocore speaks: `Action=...&Version=2011-06-15`
//! as a form body or a query, answers in XML) on the management endpoint: `GetCallerIdentity`
//! for a user's temporary credentials of the AWS kind (`ASIA` AccessKeyIds), signed with
//! SigV4 (`sigv4`).
//!
//! Authentication mirrors the Alibaba path (`service`): the SigV4 claims are read and checked
//! (`sigv4::parse`), the SecurityToken must open and belong to the AccessKeyId
//! (`credentials::open`), the signature is verified with the secret derived from it, and only
//! then are the expiry and the user's access asked (`SignIn::credential_access_now`), so an
//! unsigned request learns nothing of the user. Like AWS, SigV4 keeps no nonces: a request
//! may be sent again while its `X-Amz-Date` is within the clock skew (the operation reads).
//!
//! Every failure answers AWS's `ErrorResponse` with its code and status (`StsError::wire`,
//! the one table). Knows nothing of hyper: `http::api` routes a request here when it carries a
//! SigV4 signature or names this version.

use super::service::{Api, CallerName};
use super::sigv4::{self, SigV4Error};
use crate::signin::credentials::{self, CredentialKind, CredentialRefusal, VerifiedCaller};

/// The API version this answers.
pub const VERSION: &str = "2011-06-15";
/// The signing service name.
const SERVICE: &str = "sts";
const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";
/// STS's other operations (botocore's `sts/2011-06-15/service-2.json`): known, but not for
/// temporary credentials.
const OTHER_ACTIONS: &[&str] = &[
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "DecodeAuthorizationMessage",
    "GetAccessKeyInfo",
    "GetDelegatedAccessToken",
    "GetFederationToken",
    "GetScopedCredentials",
    "GetSessionToken",
    "GetWebIdentityToken",
];
/// Longest action name echoed in an error message.
const ACTION_ECHO_CHARS_MAX: usize = 64;

/// A request as the HTTP edge read it.
#[derive(Debug, Clone, Default)]
pub struct AwsRequest {
    pub method: String,
    /// As sent, still percent-encoded.
    pub path: String,
    /// As sent, without the `?`.
    pub raw_query: String,
    /// Query pairs, decoded.
    pub query: Vec<(String, String)>,
    /// Form body pairs, when the body is `application/x-www-form-urlencoded`.
    pub form: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request's id, answered as `RequestId`.
    pub request_id: String,
}

/// The answer: status, the XML body, what the access log and the audit trail name.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsAnswer {
    pub status: u16,
    pub body: String,
    /// The STS action the request named, when it is one.
    pub action: Option<&'static str>,
    pub caller: Option<CallerName>,
    /// The error code, when it failed.
    pub code: Option<&'static str>,
}

/// Whether a request is for this endpoint: a SigV4 `Authorization` header, a presigned
/// query, or `Version=2011-06-15` (no Alibaba product has that version).
pub fn is_aws_sts(
    headers: &[(String, String)],
    query: &[(String, String)],
    form: &[(String, String)],
) -> bool {
    let sigv4_header = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("authorization")
            && v.trim_start()
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("AWS4-"))
    });
    sigv4_header
        || query.iter().any(|(k, _)| k == "X-Amz-Algorithm")
        || query
            .iter()
            .chain(form)
            .any(|(k, v)| k == "Version" && v == VERSION)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("{0}")]
    IncompleteSignature(String),
    /// Unknown, malformed or another credential's token; a key of another kind; no token.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,
    /// The scope or the time, in AWS's words (answered as `SignatureDoesNotMatch`).
    #[error("{0}")]
    SignatureRefused(String),
    /// Expired, or the user no longer has the access (disabled, deleted, removed).
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error("{0}")]
    TooLarge(String),
    #[error("Could not find operation {action} for version {version}")]
    InvalidAction { action: String, version: String },
    #[error("The request must contain the parameter Action")]
    MissingAction,
    #[error("User: {arn} is not authorized to perform: sts:{action}")]
    AccessDenied { arn: String, action: &'static str },
    #[error("the service could not answer; retry later")]
    Internal,
}

impl StsError {
    /// Status, `Code` and `Type` on the wire: the one table.
    pub fn wire(&self) -> (u16, &'static str, &'static str) {
        match self {
            StsError::MissingAuthenticationToken => (403, "MissingAuthenticationToken", "Sender"),
            StsError::IncompleteSignature(_) => (400, "IncompleteSignature", "Sender"),
            StsError::InvalidClientTokenId => (403, "InvalidClientTokenId", "Sender"),
            StsError::SignatureDoesNotMatch | StsError::SignatureRefused(_) => {
                (403, "SignatureDoesNotMatch", "Sender")
            }
            StsError::ExpiredToken => (400, "ExpiredToken", "Sender"),
            StsError::TooLarge(_) => (413, "RequestEntityTooLarge", "Sender"),
            StsError::InvalidAction { .. } => (400, "InvalidAction", "Sender"),
            StsError::MissingAction => (400, "MissingAction", "Sender"),
            StsError::AccessDenied { .. } => (403, "AccessDenied", "Sender"),
            StsError::Internal => (500, "InternalFailure", "Receiver"),
        }
    }
}

impl From<SigV4Error> for StsError {
    fn from(e: SigV4Error) -> Self {
        match e {
            SigV4Error::Unsigned => StsError::MissingAuthenticationToken,
            SigV4Error::Incomplete(m) => StsError::IncompleteSignature(m),
            SigV4Error::MissingToken => StsError::InvalidClientTokenId,
            SigV4Error::Scope(m) | SigV4Error::Stale(m) => StsError::SignatureRefused(m),
            e @ SigV4Error::TooLarge { .. } => StsError::TooLarge(e.to_string()),
            SigV4Error::Mismatch => StsError::SignatureDoesNotMatch,
        }
    }
}

impl From<CredentialRefusal> for StsError {
    fn from(r: CredentialRefusal) -> Self {
        match r {
            CredentialRefusal::Malformed | CredentialRefusal::MismatchWithAccessKey => {
                StsError::InvalidClientTokenId
            }
            CredentialRefusal::Expired | CredentialRefusal::NoAccess => StsError::ExpiredToken,
        }
    }
}

/// What `run` learnt about a request so far.
#[derive(Default)]
struct Who {
    action: Option<&'static str>,
    caller: Option<CallerName>,
}

impl Api {
    /// Answers one AWS STS request.
    pub async fn handle_aws_sts(&self, req: &AwsRequest) -> AwsAnswer {
        let mut who = Who::default();
        let (status, body, code) = match self.run_aws_sts(req, &mut who).await {
            Ok(body) => (200, body, None),
            Err(e) => {
                let (status, code, kind) = e.wire();
                let body = format!(
                    "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                    escape(&e.to_string()),
                    escape(&req.request_id)
                );
                (status, body, Some(code))
            }
        };
        AwsAnswer {
            status,
            body,
            action: who.action,
            caller: who.caller,
            code,
        }
    }

    async fn run_aws_sts(&self, req: &AwsRequest, who: &mut Who) -> Result<String, StsError> {
        let params = || req.query.iter().chain(&req.form);
        let param = |name: &str| params().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let named = param("Action");
        who.action = named.and_then(known_action);
        let caller = self.authenticate_aws(req).await?;
        who.caller = Some(CallerName::temporary(&caller));
        let action = named.ok_or(StsError::MissingAction)?;
        let version = param("Version").unwrap_or("NO_VERSION_SPECIFIED");
        let known = known_action(action).filter(|_| version == VERSION);
        match known {
            Some(GET_CALLER_IDENTITY) => Ok(caller_identity(&caller, &req.request_id)),
            Some(other) => Err(StsError::AccessDenied {
                arn: aws_arn(&caller),
                action: other,
            }),
            None => Err(StsError::InvalidAction {
                action: action.chars().take(ACTION_ECHO_CHARS_MAX).collect(),
                version: version.chars().take(ACTION_ECHO_CHARS_MAX).collect(),
            }),
        }
    }

    /// The SigV4 claims (and `content-type` signed for a form body), the token (opened, of
    /// this AccessKeyId), the signature with the derived secret, then the expiry and the
    /// user's access now.
    async fn authenticate_aws(&self, req: &AwsRequest) -> Result<VerifiedCaller, StsError> {
        let parts = sigv4::Request {
            method: &req.method,
            path: &req.path,
            query: &req.raw_query,
            headers: &req.headers,
            body: &req.body,
        };
        let signed = sigv4::parse(&parts, SERVICE, time::OffsetDateTime::now_utc())?;
        // The body's hash is signed, but whether it is read as a form depends on its type.
        if !req.form.is_empty() && !signed.signs("content-type") {
            return Err(StsError::IncompleteSignature(
                "`content-type` must be among the signed headers of a form body".into(),
            ));
        }
        if CredentialKind::of_key(&signed.access_key_id) != Some(CredentialKind::Aws) {
            return Err(StsError::InvalidClientTokenId);
        }
        let signin = self.ctx().signin();
        let opened = credentials::open(
            signin.sealer(),
            &signed.access_key_id,
            &signed.security_token,
        )?;
        signed.verify(&parts, opened.secret())?;
        match signin.credential_access_now(opened).await {
            Ok(verdict) => Ok(verdict?),
            Err(e) => {
                tracing::error!(error = %e, "checking temporary credentials failed");
                Err(StsError::Internal)
            }
        }
    }
}

/// The STS action `name` spells, if it is one.
fn known_action(name: &str) -> Option<&'static str> {
    std::iter::once(GET_CALLER_IDENTITY)
        .chain(OTHER_ACTIONS.iter().copied())
        .find(|a| *a == name)
}

/// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
fn aws_arn(caller: &VerifiedCaller) -> String {
    let c = caller.claims();
    format!(
        "arn:aws:sts::{}:assumed-role/{}/{}",
        c.account_id,
        c.role_name,
        c.session_name()
    )
}

/// A stable AWS-style role id (`AROA` and 17 characters of base32), derived from the
/// account and role name, so nothing is stored for it.
fn aws_role_id(account_id: &str, role_name: &str) -> String {
    use sha2::Digest;
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = sha2::Sha256::digest(
        [
            b"cloudsso aws role id v1\0",
            account_id.as_bytes(),
            b"\0",
            role_name.as_bytes(),
        ]
        .concat(),
    );
    let id: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'A')))
        .collect();
    format!("AROA{id}")
}

fn caller_identity(caller: &VerifiedCaller, request_id: &str) -> String {
    let c = caller.claims();
    let user_id = format!(
        "{}:{}",
        aws_role_id(&c.account_id, &c.role_name),
        c.session_name()
    );
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        escape(&aws_arn(caller)),
        escape(&user_id),
        escape(&c.account_id),
        escape(request_id)
    )
}

/// XML character data and attribute text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn which_requests_are_aws_sts() {
        let sig = pairs(&[("authorization", "AWS4-HMAC-SHA256 Credential=x")]);
        let acs3 = pairs(&[("authorization", "ACS3-HMAC-SHA256 Credential=x")]);
        let version = pairs(&[("Action", "GetCallerIdentity"), ("Version", VERSION)]);
        let alibaba = pairs(&[("Action", "GetCallerIdentity"), ("Version", "2015-04-01")]);
        let presigned = pairs(&[("X-Amz-Algorithm", "AWS4-HMAC-SHA256")]);
        assert!(is_aws_sts(&sig, &[], &[]));
        assert!(is_aws_sts(&acs3, &[], &version), "the version names it");
        assert!(is_aws_sts(&[], &version, &[]));
        assert!(is_aws_sts(&[], &presigned, &[]));
        assert!(!is_aws_sts(&acs3, &alibaba, &[]));
        assert!(!is_aws_sts(&[], &[], &alibaba));
        assert!(!is_aws_sts(&[], &[], &[]));
    }

    #[test]
    fn the_wire_table_and_escaping() {
        let cases = [
            (
                StsError::MissingAuthenticationToken,
                403,
                "MissingAuthenticationToken",
            ),
            (
                StsError::IncompleteSignature("x".into()),
                400,
                "IncompleteSignature",
            ),
            (StsError::InvalidClientTokenId, 403, "InvalidClientTokenId"),
            (
                StsError::SignatureDoesNotMatch,
                403,
                "SignatureDoesNotMatch",
            ),
            (
                StsError::SignatureRefused("x".into()),
                403,
                "SignatureDoesNotMatch",
            ),
            (StsError::ExpiredToken, 400, "ExpiredToken"),
            (StsError::MissingAction, 400, "MissingAction"),
            (StsError::Internal, 500, "InternalFailure"),
        ];
        for (e, status, code) in cases {
            let (s, c, _) = e.wire();
            assert_eq!((s, c), (status, code), "{e:?}");
        }
        assert_eq!(
            StsError::from(SigV4Error::MissingToken),
            StsError::InvalidClientTokenId
        );
        assert_eq!(
            StsError::from(CredentialRefusal::NoAccess),
            StsError::ExpiredToken
        );
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        let id = aws_role_id("1234567890123456", "AliyunReservedSSO-Admin");
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        assert_eq!(
            id,
            aws_role_id("1234567890123456", "AliyunReservedSSO-Admin")
        );
        assert_ne!(
            id,
            aws_role_id("1234567890123457", "AliyunReservedSSO-Admin")
        );
        assert_eq!(known_action("GetSessionToken"), Some("GetSessionToken"));
        assert_eq!(known_action("getcalleridentity"), None);
    }
}
