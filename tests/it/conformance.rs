//! Runs the request -> expected-response cases in `conformance/http/*.json` against a live
//! server (a fresh server per scenario), reporting every failing step, not just the first.
//!
//! A file is `{"section": "...", "scenarios": [{"name", "steps": [step...]}]}`. A step is
//! `{"method", "path", "body"?, "headers"?, "auth"? (default true), "expect": {"status",
//! "body"? (subset match), "headers"? (subset), "absent"? [JSON pointers], "empty"? bool},
//! "save"? {"var": "/json/pointer"}}`. `${var}` in a path, header or body string is replaced
//! by a saved value.

use crate::harness::*;
use hyper::Method;
use serde_json::{Map, Value};
use std::collections::HashMap;

fn substitute(v: &Value, vars: &HashMap<String, String>) -> Value {
    match v {
        Value::String(s) => Value::String(subst_str(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (subst_str(k, vars), substitute(x, vars)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

fn subst_str(s: &str, vars: &HashMap<String, String>) -> String {
    let mut out = s.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

/// Every key of `want` is in `got` with a matching value; arrays match element by element.
fn subset(want: &Value, got: &Value, at: &str, errs: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => subset(wv, gv, &format!("{at}/{k}"), errs),
                    None => errs.push(format!("{at}/{k} missing")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                errs.push(format!("{at}: {} elements, want {}", g.len(), w.len()));
            } else {
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    subset(wv, gv, &format!("{at}/{i}"), errs);
                }
            }
        }
        (w, g) if w == g => {}
        (w, g) => errs.push(format!("{at}: got {g}, want {w}")),
    }
}

#[tokio::test]
async fn http_conformance_cases() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/http");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut steps_run = 0;
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap())
            .unwrap_or_else(|e| panic!("{fname}: {e}"));
        for sc in doc["scenarios"].as_array().unwrap() {
            let s = Server::start();
            let name = sc["name"].as_str().unwrap_or("?");
            let mut vars: HashMap<String, String> = HashMap::new();
            vars.insert("base".into(), s.base.clone());
            for (i, step) in sc["steps"].as_array().unwrap().iter().enumerate() {
                steps_run += 1;
                let step = substitute(step, &vars);
                let method =
                    Method::from_bytes(step["method"].as_str().unwrap().as_bytes()).unwrap();
                let path = step["path"].as_str().unwrap();
                let mut headers: Vec<(String, String)> = Vec::new();
                if step.get("auth") != Some(&Value::Bool(false)) {
                    headers.push(("authorization".into(), format!("Bearer {}", s.token)));
                }
                let body = step.get("body").map(|b| match b {
                    Value::String(raw) if step.get("raw") == Some(&Value::Bool(true)) => {
                        raw.clone().into_bytes()
                    }
                    b => serde_json::to_vec(b).unwrap(),
                });
                if body.is_some() {
                    headers.push(("content-type".into(), SCIM.into()));
                }
                if let Some(Value::Object(h)) = step.get("headers") {
                    for (k, v) in h {
                        headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
                        headers.push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
                    }
                }
                let hrefs: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let r = s.send(method, path, &hrefs, body).await;
                let exp = &step["expect"];
                let mut errs = Vec::new();
                if let Some(st) = exp.get("status").and_then(Value::as_u64)
                    && u64::from(r.status.as_u16()) != st
                {
                    errs.push(format!("status {} want {st}", r.status.as_u16()));
                }
                if let Some(want) = exp.get("body") {
                    subset(want, &r.body, "", &mut errs);
                }
                if let Some(Value::Object(h)) = exp.get("headers") {
                    for (k, v) in h {
                        let got = r.header(k);
                        let ok = match v {
                            Value::Bool(true) => got.is_some(),
                            Value::Bool(false) => got.is_none(),
                            Value::String(w) => got == Some(w.as_str()),
                            _ => false,
                        };
                        if !ok {
                            errs.push(format!("header {k}: got {got:?}, want {v}"));
                        }
                    }
                }
                for p in exp
                    .get("absent")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let p = p.as_str().unwrap();
                    if r.body.pointer(p).is_some() {
                        errs.push(format!("{p} present"));
                    }
                }
                if exp.get("empty") == Some(&Value::Bool(true)) && !r.raw.is_empty() {
                    errs.push("body not empty".into());
                }
                if let Some(Value::Object(save)) = step.get("save") {
                    for (var, ptr) in save {
                        match r.body.pointer(ptr.as_str().unwrap_or_default()) {
                            Some(Value::String(v)) => {
                                vars.insert(var.clone(), v.clone());
                            }
                            Some(v) => {
                                vars.insert(var.clone(), v.to_string());
                            }
                            None => errs.push(format!("cannot save {var}: {ptr} missing")),
                        }
                    }
                }
                if !errs.is_empty() {
                    failures.push(format!(
                        "{fname} / {name} / step {}: {}\n    body: {}",
                        i + 1,
                        errs.join("; "),
                        r.body
                    ));
                }
            }
        }
    }
    assert!(steps_run > 0);
    assert!(
        failures.is_empty(),
        "{} failing steps:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
