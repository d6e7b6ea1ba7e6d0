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
/// Every version cloudsso answers; the version names the product.
pub const SUPPORTED_VERSIONS: &[&str] = &[CLOUDSSO_VERSION, RAM_VERSION, RESOURCE_MANAGER_VERSION];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the request names no action: send `x-acs-action` or `Action`")]
    MissingAction,
    #[error("the request names no version: send `x-acs-version` or `Version`")]
    MissingVersion,
    #[error("version `{0}` is not supported")]
    UnsupportedVersion(String),
    #[error("parameter `{0}` is given twice with different values")]
    Conflicting(String),
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
];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Names the call: action and version from the `x-acs-*` headers (ACS3) or the `Action` and
/// `Version` parameters (RPC); parameters from the query string and the form body.
pub fn parse_call(
    headers: &[(String, String)],
    query: &[(String, String)],
    form: &[(String, String)],
) -> Result<Call, ProtocolError> {
    let mut params: Vec<(String, String)> = Vec::with_capacity(query.len() + form.len());
    for (k, v) in query.iter().chain(form) {
        match params.iter().find(|(pk, _)| pk == k) {
            Some((_, pv)) if pv != v => return Err(ProtocolError::Conflicting(k.clone())),
            Some(_) => {}
            None => params.push((k.clone(), v.clone())),
        }
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let action = header(headers, "x-acs-action")
        .map(str::to_owned)
        .or_else(|| param("Action"))
        .filter(|a| !a.is_empty())
        .ok_or(ProtocolError::MissingAction)?;
    let version = header(headers, "x-acs-version")
        .map(str::to_owned)
        .or_else(|| param("Version"))
        .ok_or(ProtocolError::MissingVersion)?;
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
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            Result<(&'a str, Vec<(&'a str, &'a str)>), ProtocolError>,
        );
        let cases: Vec<Case> = vec![
            (
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
                &[],
                &[("Version", CLOUDSSO_VERSION)],
                &[],
                Err(ProtocolError::MissingAction),
            ),
            (
                &[("x-acs-action", "GetUser")],
                &[],
                &[],
                Err(ProtocolError::MissingVersion),
            ),
            (
                &[("x-acs-action", "GetUser"), ("x-acs-version", "2019-01-01")],
                &[],
                &[],
                Err(ProtocolError::UnsupportedVersion("2019-01-01".into())),
            ),
            (
                &[
                    ("x-acs-action", "GetUser"),
                    ("x-acs-version", CLOUDSSO_VERSION),
                ],
                &[("UserId", "a")],
                &[("UserId", "b")],
                Err(ProtocolError::Conflicting("UserId".into())),
            ),
            (
                &[
                    ("x-acs-action", "GetUser"),
                    ("x-acs-version", CLOUDSSO_VERSION),
                ],
                &[("UserId", "a")],
                &[("UserId", "a")],
                Ok(("GetUser", vec![("UserId", "a")])),
            ),
        ];
        for (i, (h, q, f, want)) in cases.into_iter().enumerate() {
            let got = parse_call(&pairs(h), &pairs(q), &pairs(f));
            let want = want.map(|(a, p)| Call {
                action: a.to_owned(),
                version: CLOUDSSO_VERSION.to_owned(),
                params: pairs(&p),
            });
            assert_eq!(got, want, "case {i}");
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
