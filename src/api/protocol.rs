//! The RPC-style protocol of Alibaba Cloud's OpenAPI as the official SDKs speak it: which
//! operation a request names, its parameters (query string and form body), and the JSON shapes
//! of answers and errors (`RequestId`, `Code`, `Message`).
//!
//! Pure: takes decoded request parts, returns typed values. Must not know about hyper, keys or
//! the store.

use serde_json::{Value, json};

/// The CloudSSO OpenAPI version cloudsso speaks.
pub const CLOUDSSO_VERSION: &str = "2021-05-15";
/// The RAM OpenAPI version of the administrator operations.
pub const RAM_VERSION: &str = "2015-05-01";
/// The Resource Manager OpenAPI version of the resource directory operations.
pub const RESOURCE_MANAGER_VERSION: &str = "2020-03-31";
/// The ActionTrail OpenAPI version of the audit trail's `LookupEvents`.
pub const ACTIONTRAIL_VERSION: &str = "2020-07-06";
/// The STS OpenAPI version of `GetCallerIdentity`.
pub const STS_VERSION: &str = "2015-04-01";
/// Every version cloudsso answers; the version names the product.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    CLOUDSSO_VERSION,
    RAM_VERSION,
    RESOURCE_MANAGER_VERSION,
    ACTIONTRAIL_VERSION,
    STS_VERSION,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the request names no action: send `x-acs-action` (ACS3) or `Action` (RPC)")]
    MissingAction,
    #[error("the request names no version: send `x-acs-version` (ACS3) or `Version` (RPC)")]
    MissingVersion,
    #[error("version `{0}` is not supported")]
    UnsupportedVersion(String),
    #[error("parameter `{0}` is given twice with different values")]
    Conflicting(String),
    #[error(
        "header `{header}` says `{sent}` but the signed parameter `{param}` says `{signed}`; name the operation once"
    )]
    HeaderDiffers {
        header: &'static str,
        param: &'static str,
        sent: String,
        signed: String,
    },
    #[error("header `{0}` is sent more than once")]
    RepeatedHeader(&'static str),
}

/// How a request is signed, which decides what names its operation: only what the signature
/// covers may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// ACS3-HMAC-SHA256 (`Authorization` header): the `x-acs-action` and `x-acs-version`
    /// headers, which the caller checks are signed.
    Acs3,
    /// RPC HMAC-SHA1 (`Signature` parameter): the `Action` and `Version` parameters, which the
    /// signature covers; headers are not signed, so one that disagrees is refused.
    Rpc,
}

impl Signing {
    /// ACS3 when an `Authorization` header is sent, RPC when a `Signature` parameter is.
    /// A request with neither is refused when it is authenticated, whatever names it: it is
    /// named by its `x-acs-action` header when it has one (so it hears that it is unsigned).
    pub fn of(headers: &[(String, String)], params: &[(String, String)]) -> Signing {
        let signed_rpc = params.iter().any(|(k, _)| k == "Signature");
        match header(headers, "authorization") {
            Some(_) => Signing::Acs3,
            None if signed_rpc => Signing::Rpc,
            None if header(headers, "x-acs-action").is_some() => Signing::Acs3,
            None => Signing::Rpc,
        }
    }
}

/// Headers that authenticate a request or name its operation: each may be sent once at most
/// (with two, one part of the server could read one and another part the other).
pub const SINGLE_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-security-token",
];

/// Refuses a request that repeats one of `SINGLE_HEADERS`.
pub fn single_headers(headers: &[(String, String)]) -> Result<(), ProtocolError> {
    for name in SINGLE_HEADERS {
        let n = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count();
        if n > 1 {
            return Err(ProtocolError::RepeatedHeader(name));
        }
    }
    Ok(())
}

/// One API call as named by the request: action, version, and every parameter (query string
/// first, then form body), with the protocol's own parameters removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub action: String,
    pub version: String,
    pub params: Vec<(String, String)>,
}

/// Parameters the protocol itself uses, never passed to an operation.
const PROTOCOL_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "RegionId",
    "SecurityToken",
];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Names the call, by `signing`: action and version from the `x-acs-*` headers (ACS3) or the
/// `Action` and `Version` parameters (RPC); parameters from the query string and the form body.
pub fn parse_call(
    signing: Signing,
    headers: &[(String, String)],
    query: &[(String, String)],
    form: &[(String, String)],
) -> Result<Call, ProtocolError> {
    let mut params = merge(query, form)?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (action, version) = match signing {
        Signing::Acs3 => (
            header(headers, "x-acs-action").map(str::to_owned),
            header(headers, "x-acs-version").map(str::to_owned),
        ),
        Signing::Rpc => {
            let (action, version) = (param("Action"), param("Version"));
            agree(headers, "x-acs-action", "Action", action.as_deref())?;
            agree(headers, "x-acs-version", "Version", version.as_deref())?;
            (action, version)
        }
    };
    let action = action
        .filter(|a| !a.is_empty())
        .ok_or(ProtocolError::MissingAction)?;
    let version = version.ok_or(ProtocolError::MissingVersion)?;
    if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
        return Err(ProtocolError::UnsupportedVersion(version));
    }
    params.retain(|(k, _)| !PROTOCOL_PARAMS.contains(&k.as_str()));
    Ok(Call {
        action,
        version,
        params,
    })
}

/// Query then form pairs, each name once: a repeat with the same value is dropped, one with
/// another value refused.
fn merge(
    query: &[(String, String)],
    form: &[(String, String)],
) -> Result<Vec<(String, String)>, ProtocolError> {
    let mut params: Vec<(String, String)> = Vec::with_capacity(query.len() + form.len());
    for (k, v) in query.iter().chain(form) {
        match params.iter().find(|(pk, _)| pk == k) {
            Some((_, pv)) if pv != v => return Err(ProtocolError::Conflicting(k.clone())),
            Some(_) => {}
            None => params.push((k.clone(), v.clone())),
        }
    }
    Ok(params)
}

/// An unsigned header `name` may repeat the signed parameter `param`, never change it.
fn agree(
    headers: &[(String, String)],
    name: &'static str,
    param: &'static str,
    signed: Option<&str>,
) -> Result<(), ProtocolError> {
    match header(headers, name) {
        Some(sent) if Some(sent) != signed => Err(ProtocolError::HeaderDiffers {
            header: name,
            param,
            sent: sent.to_owned(),
            signed: signed.unwrap_or_default().to_owned(),
        }),
        _ => Ok(()),
    }
}

/// A successful answer: the operation's fields plus `RequestId`.
pub fn success(request_id: &str, mut body: Value) -> Value {
    match body.as_object_mut() {
        Some(o) => {
            o.insert("RequestId".into(), json!(request_id));
            body
        }
        None => json!({"RequestId": request_id}),
    }
}

/// An error answer in Alibaba Cloud's shape.
pub fn failure(request_id: &str, code: &str, message: &str) -> Value {
    json!({"RequestId": request_id, "Code": code, "Message": message})
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
    fn calls() {
        use Signing::{Acs3, Rpc};
        type Case<'a> = (
            Signing,
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            Result<(&'a str, Vec<(&'a str, &'a str)>), ProtocolError>,
        );
        let acs3_get_user: &[(&str, &str)] = &[
            ("x-acs-action", "GetUser"),
            ("x-acs-version", CLOUDSSO_VERSION),
        ];
        let rpc_get_user: &[(&str, &str)] = &[("Action", "GetUser"), ("Version", CLOUDSSO_VERSION)];
        let differs = |header, param, sent: &str, signed: &str| ProtocolError::HeaderDiffers {
            header,
            param,
            sent: sent.into(),
            signed: signed.into(),
        };
        let cases: Vec<Case> = vec![
            (
                Acs3,
                &[
                    ("x-acs-action", "ListUsers"),
                    ("X-Acs-Version", CLOUDSSO_VERSION),
                ],
                &[("DirectoryId", "d-1")],
                &[("MaxResults", "10")],
                Ok((
                    "ListUsers",
                    vec![("DirectoryId", "d-1"), ("MaxResults", "10")],
                )),
            ),
            (
                Rpc,
                &[],
                &[
                    ("Action", "GetUser"),
                    ("Version", CLOUDSSO_VERSION),
                    ("SignatureNonce", "n"),
                    ("UserId", "u-1"),
                ],
                &[],
                Ok(("GetUser", vec![("UserId", "u-1")])),
            ),
            (
                Rpc,
                &[],
                &[("Version", CLOUDSSO_VERSION)],
                &[],
                Err(ProtocolError::MissingAction),
            ),
            (
                Acs3,
                &[("x-acs-action", "GetUser")],
                &[],
                &[],
                Err(ProtocolError::MissingVersion),
            ),
            (
                Acs3,
                &[("x-acs-action", "GetUser"), ("x-acs-version", "2019-01-01")],
                &[],
                &[],
                Err(ProtocolError::UnsupportedVersion("2019-01-01".into())),
            ),
            (
                Acs3,
                acs3_get_user,
                &[("UserId", "a")],
                &[("UserId", "b")],
                Err(ProtocolError::Conflicting("UserId".into())),
            ),
            (
                Acs3,
                acs3_get_user,
                &[("UserId", "a")],
                &[("UserId", "a")],
                Ok(("GetUser", vec![("UserId", "a")])),
            ),
            // ACS3 names its operation in the signed headers only.
            (
                Acs3,
                &[],
                rpc_get_user,
                &[],
                Err(ProtocolError::MissingAction),
            ),
            // RPC signs parameters, not headers: a header may repeat them, never change them.
            (
                Rpc,
                acs3_get_user,
                rpc_get_user,
                &[],
                Ok(("GetUser", vec![])),
            ),
            (
                Rpc,
                &[("x-acs-action", "CreateAccessKey")],
                rpc_get_user,
                &[],
                Err(differs(
                    "x-acs-action",
                    "Action",
                    "CreateAccessKey",
                    "GetUser",
                )),
            ),
            (
                Rpc,
                &[("X-ACS-VERSION", RAM_VERSION)],
                rpc_get_user,
                &[],
                Err(differs(
                    "x-acs-version",
                    "Version",
                    RAM_VERSION,
                    CLOUDSSO_VERSION,
                )),
            ),
            (
                Rpc,
                &[("x-acs-action", "GetUser")],
                &[("Version", CLOUDSSO_VERSION)],
                &[],
                Err(differs("x-acs-action", "Action", "GetUser", "")),
            ),
        ];
        for (i, (signing, h, q, f, want)) in cases.into_iter().enumerate() {
            let got = parse_call(signing, &pairs(h), &pairs(q), &pairs(f));
            let want = want.map(|(a, p)| Call {
                action: a.to_owned(),
                version: CLOUDSSO_VERSION.to_owned(),
                params: pairs(&p),
            });
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn headers_that_authenticate_are_sent_once() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<(), ProtocolError>);
        let cases: &[Case] = &[
            (&[("authorization", "a"), ("x-acs-date", "d")], Ok(())),
            (&[("accept", "a"), ("Accept", "b")], Ok(())),
            (
                &[("authorization", "a"), ("Authorization", "b")],
                Err(ProtocolError::RepeatedHeader("authorization")),
            ),
            (
                &[
                    ("x-acs-signature-nonce", "a"),
                    ("x-acs-signature-nonce", "a"),
                ],
                Err(ProtocolError::RepeatedHeader("x-acs-signature-nonce")),
            ),
        ];
        for (h, want) in cases {
            assert_eq!(single_headers(&pairs(h)), *want, "{h:?}");
        }
        for name in SINGLE_HEADERS {
            let twice = pairs(&[(name, "1"), (name, "2")]);
            assert_eq!(
                single_headers(&twice),
                Err(ProtocolError::RepeatedHeader(name))
            );
        }
        let action = pairs(&[("x-acs-action", "GetUser")]);
        let signature = pairs(&[("Signature", "s")]);
        // (headers, parameters, signing)
        let cases = [
            (pairs(&[("Authorization", "x")]), vec![], Signing::Acs3),
            (
                pairs(&[("Authorization", "x")]),
                signature.clone(),
                Signing::Acs3,
            ),
            (action.clone(), signature.clone(), Signing::Rpc),
            (action.clone(), vec![], Signing::Acs3),
            (vec![], signature, Signing::Rpc),
            (vec![], vec![], Signing::Rpc),
        ];
        for (i, (headers, params, want)) in cases.iter().enumerate() {
            assert_eq!(Signing::of(headers, params), *want, "case {i}");
        }
    }

    #[test]
    fn answers() {
        assert_eq!(
            success("r1", json!({"Directory": {"DirectoryId": "d-1"}})),
            json!({"Directory": {"DirectoryId": "d-1"}, "RequestId": "r1"})
        );
        assert_eq!(
            failure("r2", "EntityNotExists.User", "the user does not exist"),
            json!({"RequestId": "r2", "Code": "EntityNotExists.User", "Message": "the user does not exist"})
        );
    }
}
