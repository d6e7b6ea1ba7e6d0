//! Verifying signed API requests exactly as Alibaba Cloud documents and its SDKs sign them:
//! ACS3-HMAC-SHA256 (V3, the SDK default: `Authorization` header over a canonical request)
//! and the older RPC signature (HMAC-SHA1, `SignatureVersion=1.0`, a `Signature` parameter).
//!
//! Pure functions over already-decoded request parts. Must not look up keys, check clocks or
//! nonces (the caller does), or know about hyper.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<sha1::Sha1>;

pub const ACS3_HMAC_SHA256: &str = "ACS3-HMAC-SHA256";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("malformed `Authorization` header: {0}")]
    Malformed(String),
    #[error("unsupported signature algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    #[error("signed header `{0}` is missing from the request")]
    MissingSignedHeader(String),
    #[error("`x-acs-content-sha256` does not match the body")]
    ContentHashMismatch,
    #[error("the signature does not match")]
    Mismatch,
}

/// The parts of an `Authorization: ACS3-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acs3Authorization {
    pub access_key_id: String,
    /// Lowercase header names, in the order given (the SDK sorts them).
    pub signed_headers: Vec<String>,
    /// Lowercase hex.
    pub signature: String,
}

/// A request as received: the raw path, the decoded query pairs, the headers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// As sent (still percent-encoded), `/` for RPC-style calls.
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
}

/// Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`.
pub fn parse_acs3(header: &str) -> Result<Acs3Authorization, SignatureError> {
    let (algorithm, rest) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| SignatureError::Malformed("no algorithm".into()))?;
    if algorithm != ACS3_HMAC_SHA256 {
        return Err(SignatureError::UnsupportedAlgorithm(algorithm.to_owned()));
    }
    let (mut ak, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| SignatureError::Malformed(format!("`{part}` is not key=value")))?;
        match k {
            "Credential" => ak = Some(v.to_owned()),
            "SignedHeaders" => {
                signed = Some(
                    v.split(';')
                        .map(str::to_ascii_lowercase)
                        .collect::<Vec<_>>(),
                )
            }
            "Signature" => sig = Some(v.to_ascii_lowercase()),
            other => {
                return Err(SignatureError::Malformed(format!(
                    "unknown element `{other}`"
                )));
            }
        }
    }
    let missing = |what: &str| SignatureError::Malformed(format!("no {what}"));
    Ok(Acs3Authorization {
        access_key_id: ak
            .filter(|a| !a.is_empty())
            .ok_or_else(|| missing("Credential"))?,
        signed_headers: signed.ok_or_else(|| missing("SignedHeaders"))?,
        signature: sig.ok_or_else(|| missing("Signature"))?,
    })
}

/// RFC 3986 percent-encoding (`model::percent_encode`, here for the signers' callers).
pub use crate::model::percent_encode;

fn hex(bytes: &[u8]) -> String {
    crate::model::hex_lower(bytes)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// The ACS3 canonical request: method, path, sorted query (values encoded), the signed
/// headers (`name:v1,v2` with trimmed, sorted values), their names, the payload hash.
pub fn acs3_canonical_request(
    req: &RequestParts<'_>,
    signed_headers: &[String],
    payload_hash_hex: &str,
) -> Result<String, SignatureError> {
    let mut query: Vec<(&str, String)> = req
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), percent_encode(v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers = String::new();
    for name in signed_headers {
        let mut values: Vec<&str> = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        if values.is_empty() {
            return Err(SignatureError::MissingSignedHeader(name.clone()));
        }
        values.sort_unstable();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let path = if req.path.is_empty() { "/" } else { req.path };
    Ok(format!(
        "{}\n{path}\n{}\n{headers}\n{}\n{payload_hash_hex}",
        req.method,
        query.join("&"),
        signed_headers.join(";"),
    ))
}

fn acs3_mac(secret: &str, canonical_request: &str) -> Result<HmacSha256, SignatureError> {
    let to_sign = format!(
        "{ACS3_HMAC_SHA256}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    mac.update(to_sign.as_bytes());
    Ok(mac)
}

/// The ACS3-HMAC-SHA256 signature (lowercase hex) a client with `secret` sends.
pub fn acs3_signature(
    secret: &str,
    req: &RequestParts<'_>,
    signed_headers: &[String],
    payload_hash_hex: &str,
) -> Result<String, SignatureError> {
    let canonical = acs3_canonical_request(req, signed_headers, payload_hash_hex)?;
    Ok(hex(&acs3_mac(secret, &canonical)?.finalize().into_bytes()))
}

/// Verifies an ACS3 request in constant time. The payload hash is `x-acs-content-sha256` when
/// sent, and must then equal the body's SHA-256.
pub fn verify_acs3(
    secret: &str,
    req: &RequestParts<'_>,
    auth: &Acs3Authorization,
    body: &[u8],
) -> Result<(), SignatureError> {
    let body_hash = hex(&Sha256::digest(body));
    let payload_hash = match req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-acs-content-sha256"))
    {
        Some((_, v)) if !v.trim().eq_ignore_ascii_case(&body_hash) => {
            return Err(SignatureError::ContentHashMismatch);
        }
        Some((_, v)) => v.trim().to_owned(),
        None => body_hash,
    };
    let canonical = acs3_canonical_request(req, &auth.signed_headers, &payload_hash)?;
    let expected = unhex(&auth.signature).ok_or(SignatureError::Mismatch)?;
    acs3_mac(secret, &canonical)?
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

fn rpc_mac(
    secret: &str,
    method: &str,
    params: &[(String, String)],
) -> Result<HmacSha1, SignatureError> {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    let canonical: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("{method}&%2F&{}", percent_encode(&canonical.join("&")));
    let mut mac = HmacSha1::new_from_slice(format!("{secret}&").as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(to_sign.as_bytes());
    Ok(mac)
}

/// The RPC (HMAC-SHA1, version 1.0) signature, base64, over every parameter but `Signature`.
pub fn rpc_signature(
    secret: &str,
    method: &str,
    params: &[(String, String)],
) -> Result<String, SignatureError> {
    let mac = rpc_mac(secret, method, params)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Verifies the `Signature` parameter of an RPC request in constant time.
pub fn verify_rpc(
    secret: &str,
    method: &str,
    params: &[(String, String)],
) -> Result<(), SignatureError> {
    let sent = params
        .iter()
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v.as_str())
        .ok_or(SignatureError::Mismatch)?;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(sent)
        .map_err(|_| SignatureError::Mismatch)?;
    rpc_mac(secret, method, params)?
        .verify_slice(&sent)
        .map_err(|_| SignatureError::Mismatch)
}

/// A request to sign with ACS3: who signs (`access_key_id`, `secret`), what the signature
/// covers, and the `x-acs-date` and nonce to send.
#[derive(Debug, Clone, Copy)]
pub struct Acs3Request<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub method: &'a str,
    pub action: &'a str,
    pub version: &'a str,
    /// Sent as `percent_encode`d pairs.
    pub query: &'a [(String, String)],
    /// The other headers to sign (at least `host`).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub date: &'a str,
    pub nonce: &'a str,
}

/// Signs a request the way the official SDK does (for cloudsso's own CLI and tests): returns
/// the headers to send, `x-acs-*` and `Authorization`.
pub fn sign_acs3(req: &Acs3Request<'_>) -> Result<Vec<(String, String)>, SignatureError> {
    let Acs3Request {
        access_key_id,
        secret,
        method,
        action,
        version,
        query,
        headers,
        body,
        date,
        nonce,
    } = *req;
    let body_hash = hex(&Sha256::digest(body));
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let acs = [
        ("x-acs-action", action.to_owned()),
        ("x-acs-version", version.to_owned()),
        ("x-acs-date", date.to_owned()),
        ("x-acs-signature-nonce", nonce.to_owned()),
        ("x-acs-content-sha256", body_hash.clone()),
    ];
    all.extend(acs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let mut signed: Vec<String> = all.iter().map(|(k, _)| k.clone()).collect();
    signed.sort();
    signed.dedup();
    let parts = RequestParts {
        method,
        path: "/",
        query,
        headers: &all,
    };
    let signature = acs3_signature(secret, &parts, &signed, &body_hash)?;
    let mut out: Vec<(String, String)> = acs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    out.push((
        "authorization".into(),
        format!(
            "{ACS3_HMAC_SHA256} Credential={access_key_id},SignedHeaders={},Signature={signature}",
            signed.join(";")
        ),
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Vectors captured from the unmodified official SDK by
    //! `conformance/api/make_signature_vectors.py`.
    use super::*;
    use serde_json::Value;

    fn form_decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    fn vectors() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/conformance/api/signature-vectors.json"
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn sdk_acs3_requests_verify_and_tampering_is_caught() {
        let v = vectors();
        let secret = v["access_key_secret"].as_str().unwrap();
        let mut failures = Vec::new();
        for (i, r) in v["acs3"].as_array().unwrap().iter().enumerate() {
            let query: Vec<(String, String)> = r["query"]
                .as_str()
                .unwrap()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (form_decode(k), form_decode(v))
                })
                .collect();
            let headers: Vec<(String, String)> = r["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap().to_owned(),
                        h[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let auth_header = &headers
                .iter()
                .find(|(k, _)| k == "Authorization")
                .unwrap()
                .1;
            let auth = parse_acs3(auth_header).unwrap();
            assert_eq!(auth.access_key_id, v["access_key_id"]);
            let body = r["body"].as_str().unwrap().as_bytes();
            let parts = RequestParts {
                method: r["method"].as_str().unwrap(),
                path: r["path"].as_str().unwrap(),
                query: &query,
                headers: &headers,
            };
            if let Err(e) = verify_acs3(secret, &parts, &auth, body) {
                failures.push(format!("request {i}: {e}"));
            }
            if verify_acs3("wrong", &parts, &auth, body) != Err(SignatureError::Mismatch) {
                failures.push(format!("request {i}: a wrong secret verified"));
            }
            let mut tampered = query.clone();
            tampered.push(("Extra".into(), "1".into()));
            let t = RequestParts {
                query: &tampered,
                ..parts
            };
            if verify_acs3(secret, &t, &auth, body).is_ok() {
                failures.push(format!("request {i}: an added parameter verified"));
            }
            if verify_acs3(secret, &parts, &auth, b"other body")
                != Err(SignatureError::ContentHashMismatch)
            {
                failures.push(format!("request {i}: a changed body verified"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn sdk_rpc_signatures_match() {
        let v = vectors();
        let secret = v["access_key_secret"].as_str().unwrap();
        for r in v["rpc"].as_array().unwrap() {
            let mut params: Vec<(String, String)> = r["params"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let method = r["method"].as_str().unwrap();
            assert_eq!(
                rpc_signature(secret, method, &params).unwrap(),
                r["signature"].as_str().unwrap()
            );
            params.push((
                "Signature".into(),
                r["signature"].as_str().unwrap().to_owned(),
            ));
            assert_eq!(verify_rpc(secret, method, &params), Ok(()));
            assert_eq!(
                verify_rpc("wrong", method, &params),
                Err(SignatureError::Mismatch)
            );
        }
    }

    #[test]
    fn authorization_headers_parse_or_fail_clearly() {
        let ok =
            parse_acs3("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=AB")
                .unwrap();
        assert_eq!(ok.signed_headers, ["host", "x-acs-date"]);
        assert_eq!(ok.signature, "ab");
        let cases = [
            ("", "no algorithm"),
            (
                "ACS3-HMAC-SM3 Credential=a,SignedHeaders=b,Signature=c",
                "unsupported",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=a,Signature=c",
                "no SignedHeaders",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=,SignedHeaders=b,Signature=c",
                "no Credential",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=b,Signature=c,Extra=d",
                "unknown element",
            ),
            ("ACS3-HMAC-SHA256 garbage", "not key=value"),
        ];
        for (h, want) in cases {
            let e = parse_acs3(h).unwrap_err().to_string();
            assert!(e.contains(want), "{h}: {e}");
        }
    }
}

#[cfg(test)]
mod sign_tests {
    use super::*;

    #[test]
    fn what_sign_acs3_signs_verify_acs3_accepts() {
        let query = vec![("UserName".to_owned(), "a b+c".to_owned())];
        let host = vec![("host".to_owned(), "127.0.0.1:1".to_owned())];
        let added = sign_acs3(&Acs3Request {
            access_key_id: "AK",
            secret: "secret",
            method: "POST",
            action: "GetUser",
            version: "2021-05-15",
            query: &query,
            headers: &host,
            body: b"",
            date: "2026-11-23T12:00:00Z",
            nonce: "n1",
        })
        .unwrap();
        let mut headers = host.clone();
        headers.extend(added.iter().cloned());
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap()
            .1
            .clone();
        let parsed = parse_acs3(&auth).unwrap();
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
        };
        assert_eq!(verify_acs3("secret", &parts, &parsed, b""), Ok(()));
        assert_eq!(
            verify_acs3("other", &parts, &parsed, b""),
            Err(SignatureError::Mismatch)
        );
    }
}
