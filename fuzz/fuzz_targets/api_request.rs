//! The management API's request parsing and signature checks (`api`): `protocol::Signing::of`
//! and `parse_call` name the call (`single_headers` refuses repeats), `params::Params` parses its parameters (ids, pages, tokens, flags,
//! integers, texts), `signature::parse_acs3` reads the `Authorization` header and
//! `verify_acs3` (or `verify_rpc` without one) checks it with the conformance vectors' secret.
//!
//! Input: an HTTP request as text (see `cloudsso_fuzz::http_parts`). Seeds: the SDK requests
//! captured in `conformance/api/signature-vectors.json`, whose signatures verify.
//!
//! Checks beyond "no panic": a request signed by `sign_acs3` (ACS3) or `rpc_signature` (RPC)
//! over the fuzzed parameters and headers verifies (the CLI signs with them, the server
//! verifies with the others).
#![no_main]

use cloudsso::api::params::Params;
use cloudsso::api::protocol::{Signing, parse_call, single_headers};
use cloudsso::api::signature::{
    Acs3Request, RequestParts, parse_acs3, rpc_signature, sign_acs3, verify_acs3, verify_rpc,
};
use cloudsso_fuzz::{HttpParts, http_parts};
use libfuzzer_sys::fuzz_target;

/// The conformance vectors' AccessKey (`conformance/api/signature-vectors.json`).
const ACCESS_KEY_ID: &str = "LTAI5tTestKeyId0000000000";
const SECRET: &str = "TestSecretValueThatIsNotReal000000000";

fuzz_target!(|data: &[u8]| {
    let Some(req) = http_parts(data) else {
        return;
    };
    let _ = single_headers(&req.headers);
    let params: Vec<(String, String)> = req.query.iter().chain(&req.form).cloned().collect();
    let signing = Signing::of(&req.headers, &params);
    if let Ok(call) = parse_call(signing, &req.headers, &req.query, &req.form) {
        parameters(&Params::new(call.params));
    }
    verify(&req);
    sign_then_verify(&req);
});

/// Every typed reading an operation may make of its parameters.
fn parameters(p: &Params) {
    let _ = (p.directory_id(), p.user_id(), p.group_id());
    let _ = (p.page(), p.page_up_to(20), p.page_number(), p.next_token());
    let _ = p.one_of("PrincipalType", &["User", "Group"]);
    let _ = p.maybe_one_of("TargetType", &["RD-Account"]);
    let _ = p.int("SessionDuration", 900..=43_200);
    for (name, _) in p.pairs() {
        let _ = (p.id(name), p.flag(name), p.text(name, 64));
        let _ = p.int(name, i64::MIN..=i64::MAX);
    }
}

/// The server's check: ACS3 when an `Authorization` header is sent, else RPC.
fn verify(req: &HttpParts) {
    let auth = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    match auth {
        Some((_, header)) => {
            let Ok(auth) = parse_acs3(header) else { return };
            let parts = RequestParts {
                method: &req.method,
                path: &req.path,
                query: &req.query,
                headers: &req.headers,
            };
            let _ = verify_acs3(SECRET, &parts, &auth, &req.body);
        }
        None => {
            let params: Vec<_> = req.query.iter().chain(&req.form).cloned().collect();
            let _ = verify_rpc(SECRET, &req.method, &params);
        }
    }
}

/// Signs the fuzzed request as the CLI would and checks the server accepts it.
fn sign_then_verify(req: &HttpParts) {
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("x-acs-") && k != "authorization"
        })
        .cloned()
        .collect();
    let signing = Acs3Request {
        access_key_id: ACCESS_KEY_ID,
        secret: SECRET,
        method: &req.method,
        action: "ListUsers",
        version: "2021-05-15",
        query: &req.query,
        headers: &headers,
        body: &req.body,
        date: "2026-11-23T20:07:35Z",
        nonce: "fbf2a0c5e268df5343d931af0785a928",
    };
    let Ok(added) = sign_acs3(&signing) else {
        return;
    };
    let sent: Vec<(String, String)> = headers.iter().chain(&added).cloned().collect();
    let header = sent
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let auth = parse_acs3(header).unwrap_or_else(|e| panic!("our own Authorization: {e}"));
    let parts = RequestParts {
        method: &req.method,
        path: "/",
        query: &req.query,
        headers: &sent,
    };
    if let Err(e) = verify_acs3(SECRET, &parts, &auth, &req.body) {
        panic!("a request signed by sign_acs3 does not verify: {e}");
    }
    let mut params: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let Ok(signature) = rpc_signature(SECRET, &req.method, &params) else {
        return;
    };
    params.push(("Signature".into(), signature));
    if let Err(e) = verify_rpc(SECRET, &req.method, &params) {
        panic!("a request signed by rpc_signature does not verify: {e}");
    }
}
