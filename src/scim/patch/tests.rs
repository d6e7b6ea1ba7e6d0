//! The PATCH conformance runner: every file in `conformance/patch/` is a list of cases, each a
//! document, a PatchOp request and the expected document and member operations (or the expected
//! `scimType`). A case runs as the directory runs a PATCH: `parse_request`, `apply`, then
//! `schema::validate_document`. Every failing case is reported, not the first.

use super::{MemberOp, apply, parse_request};
use crate::scim::ScimError;
use crate::scim::filter::FilterLimits;
use crate::scim::schema::{self, ResourceTypeDef};
use serde_json::{Value, json};
use std::path::Path;

/// The operations limit the cases run with, unless a case sets `operations_max`.
const OPERATIONS_MAX: usize = 100;

/// `{"add": [{"value", "type"}]}`, `{"remove": [ids]}`, `{"removeWhere": "(eq display \"x\")"}`,
/// `"removeAll"`.
fn member_op_json(op: &MemberOp) -> Value {
    match op {
        MemberOp::Add(refs) => json!({"add": refs
            .iter()
            .map(|r| match &r.kind {
                Some(kind) => json!({"value": r.value, "type": kind}),
                None => json!({"value": r.value}),
            })
            .collect::<Vec<_>>()}),
        MemberOp::Remove(ids) => json!({ "remove": ids }),
        MemberOp::RemoveWhere(filter) => json!({"removeWhere": filter.to_string()}),
        MemberOp::RemoveAll => json!("removeAll"),
    }
}

fn resource(name: &str) -> Option<&'static ResourceTypeDef> {
    match name {
        "User" => Some(&schema::USER),
        "Group" => Some(&schema::GROUP),
        _ => None,
    }
}

/// What a case produced: the validated document and member operations, or the error.
fn run(case: &Value) -> Result<Result<(Value, Vec<Value>), ScimError>, String> {
    let rt = case
        .get("resource")
        .and_then(Value::as_str)
        .and_then(resource)
        .ok_or("`resource` must be `User` or `Group`")?;
    let original = case.get("doc").ok_or("no `doc`")?;
    let request = case.get("request").ok_or("no `request`")?;
    let max = case
        .get("operations_max")
        .and_then(Value::as_u64)
        .map_or(OPERATIONS_MAX, |m| m as usize);
    let outcome = parse_request(request, max, &FilterLimits::default()).and_then(|ops| {
        let mut doc = original.clone();
        let effect = apply(&mut doc, &ops, rt)?;
        let doc = schema::validate_document(&doc, original, rt)?;
        Ok((doc, effect.members.iter().map(member_op_json).collect()))
    });
    Ok(outcome)
}

/// Compares one case's outcome with its `expect`; `Err` describes the difference.
fn check(case: &Value) -> Result<(), String> {
    let expect = case.get("expect").ok_or("no `expect`")?;
    let outcome = run(case)?;
    match (expect.get("error").and_then(Value::as_str), outcome) {
        (Some(want), Err(e)) if e.scim_type() == want => Ok(()),
        (Some(want), Err(e)) => Err(format!("expected {want}, got {}: {e}", e.scim_type())),
        (Some(want), Ok((doc, _))) => Err(format!("expected {want}, got success with {doc}")),
        (None, Err(e)) => Err(format!("unexpected {}: {e}", e.scim_type())),
        (None, Ok((doc, members))) => {
            let want_doc = expect
                .get("doc")
                .ok_or("`expect` has neither `doc` nor `error`")?;
            let want_members = expect.get("members").cloned().unwrap_or(json!([]));
            let mut problems = Vec::new();
            if &doc != want_doc {
                problems.push(format!("doc\n      got:  {doc}\n      want: {want_doc}"));
            }
            if Value::Array(members.clone()) != want_members {
                problems.push(format!(
                    "members\n      got:  {}\n      want: {want_members}",
                    Value::Array(members)
                ));
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("\n    "))
            }
        }
    }
}

#[test]
fn conformance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/patch");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("conformance/patch exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file).expect("readable file");
        let suite: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: not JSON: {e}"));
                continue;
            }
        };
        let Some(cases) = suite.get("cases").and_then(Value::as_array) else {
            failures.push(format!("{name}: no `cases` array"));
            continue;
        };
        for case in cases {
            count += 1;
            let title = case
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)");
            if let Err(problem) = check(case) {
                failures.push(format!("{name}: {title}\n    {problem}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} PATCH cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// User and Group have no immutable attribute outside `members` (which never reaches the
/// document), so immutability runs against a resource type made for it.
mod immutable {
    use super::super::{apply, parse_request};
    use crate::scim::ScimError;
    use crate::scim::filter::FilterLimits;
    use crate::scim::schema::{AttrDef, AttrType, ResourceKind, ResourceTypeDef, SchemaDef};
    use serde_json::{Value, json};

    static BADGE: AttrDef = crate::scim::schema::defs::attr("badge", AttrType::String, "Set once.")
        .case_exact()
        .immutable();
    static SCHEMA: SchemaDef = SchemaDef {
        id: "urn:example:params:scim:schemas:core:2.0:Badged",
        name: "Badged",
        description: "A resource with an immutable attribute.",
        attributes: std::slice::from_ref(&BADGE),
    };
    static RT: ResourceTypeDef = ResourceTypeDef {
        kind: ResourceKind::User,
        name: "Badged",
        endpoint: "/Badged",
        description: "Test only.",
        schema: &SCHEMA,
        extensions: &[],
    };

    fn check(doc: Value, ops: Value, expected: Result<Value, &str>) {
        let body = json!({"schemas": [crate::scim::schema::PATCH_OP_SCHEMA], "Operations": ops});
        let mut out = doc.clone();
        let got = parse_request(&body, 10, &FilterLimits::default())
            .and_then(|ops| apply(&mut out, &ops, &RT))
            .map(|_| out);
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{ops}"),
            (Err(ScimError::Mutability(_)), Err("mutability")) => {}
            (got, want) => panic!("{ops}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn immutable_attributes() {
        let set = json!({"badge": "b1"});
        check(
            json!({}),
            json!([{"op": "add", "path": "badge", "value": "b1"}]),
            Ok(set.clone()),
        );
        check(
            json!({}),
            json!([{"op": "replace", "value": {"badge": "b1"}}]),
            Ok(set.clone()),
        );
        check(
            set.clone(),
            json!([{"op": "replace", "path": "badge", "value": "b1"}]),
            Ok(set.clone()),
        );
        check(
            set.clone(),
            json!([{"op": "add", "value": {"badge": "b1"}}]),
            Ok(set.clone()),
        );
        check(
            set.clone(),
            json!([{"op": "replace", "path": "badge", "value": "b2"}]),
            Err("mutability"),
        );
        check(
            set.clone(),
            json!([{"op": "add", "value": {"badge": "b2"}}]),
            Err("mutability"),
        );
        check(
            set.clone(),
            json!([{"op": "remove", "path": "badge"}]),
            Err("mutability"),
        );
        check(
            set,
            json!([{"op": "replace", "path": "badge", "value": null}]),
            Err("mutability"),
        );
    }
}
