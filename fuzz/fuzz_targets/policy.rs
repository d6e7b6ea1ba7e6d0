//! RAM policy documents (`policy`): parsing and validation (`PolicyDocument::parse`), then
//! `authorize` over the parsed documents, with their conditions evaluated against a context.
//!
//! Input: JSON or text. A conformance case with `policies` and `request` (seeds:
//! `conformance/policy/matching.json`, `combination.json`, `conditions.json`) parses each
//! policy's `document` (a JSON value, or a string taken as the raw text; a `system` name
//! takes that built-in policy) and authorizes the case's request. A case with `document`
//! (`validation.json`) and any other input are one policy document's text, authorized
//! against a few fixed requests.
//!
//! Checks beyond "no panic": `authorize` is a pure function (the same answer twice).
#![no_main]

use cloudsso::policy::{Context, PolicyDocument, Request, authorize, system_policy};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Requests a fuzzed document is asked about when the input names none.
const FIXED: [(&str, &str); 3] = [
    (
        "cloudsso:GetUser",
        "acs:cloudsso:*:1234:directory/d-1/user/u-1",
    ),
    ("ram:CreateUser", "acs:ram:*:1234:user/alice"),
    ("cloudsso:DeleteDirectory", "*"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let case = serde_json::from_str::<Value>(text).ok();
    match case
        .as_ref()
        .and_then(|c| Some((c.get("policies")?.as_array()?, c.get("request")?)))
    {
        Some((policies, request)) => case_policies(policies, request),
        None => {
            let doc_text = case
                .as_ref()
                .and_then(|c| c.get("document"))
                .map_or_else(|| text.to_owned(), document_text);
            one_document(&doc_text);
        }
    }
});

/// A document as the API receives it: a string is the raw text, any other value its JSON.
fn document_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn one_document(text: &str) {
    let Ok(doc) = PolicyDocument::parse(text) else {
        return;
    };
    let context = Context::new()
        .with("acs:SourceIp", "192.168.0.1")
        .with("acs:CurrentTime", "2026-06-01T12:00:00Z")
        .with("acs:SecureTransport", "true");
    for (action, resource) in FIXED {
        decide(&[("p", &doc)], action, resource, &context);
    }
}

fn case_policies(policies: &[Value], request: &Value) {
    let mut docs = Vec::new();
    for p in policies {
        let parsed = match (p.get("system").and_then(Value::as_str), p.get("document")) {
            (Some(name), _) => system_policy(name),
            (None, Some(d)) => PolicyDocument::parse(&document_text(d)).ok(),
            (None, None) => None,
        };
        let Some(doc) = parsed else { return };
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("p")
            .to_owned();
        docs.push((name, doc));
    }
    let mut context = Context::new();
    if let Some(c) = request.get("context").and_then(Value::as_object) {
        for (k, v) in c {
            for value in v.as_array().map_or_else(|| vec![v.clone()], Clone::clone) {
                context.insert(k, document_text(&value));
            }
        }
    }
    let action = request.get("action").and_then(Value::as_str).unwrap_or("");
    let resource = request
        .get("resource")
        .and_then(Value::as_str)
        .unwrap_or("");
    let refs: Vec<(&str, &PolicyDocument)> = docs.iter().map(|(n, d)| (n.as_str(), d)).collect();
    decide(&refs, action, resource, &context);
}

fn decide(policies: &[(&str, &PolicyDocument)], action: &str, resource: &str, context: &Context) {
    let request = Request {
        action,
        resource,
        context,
    };
    let first = authorize(policies, &request);
    let second = authorize(policies, &request);
    assert_eq!(first, second, "authorize is not a function");
    let _ = format!("{first:?}");
}
