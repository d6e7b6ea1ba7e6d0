//! PATCH (`scim::patch`): a PatchOp body parsed (`parse_request`, paths included), its
//! values bounded (`check_value_counts`) and applied to a stored document (`apply`), then the
//! result re-validated (`validate_document`), in the order `directory` runs them.
//!
//! Input: JSON. A conformance case `{"resource", "doc", "request"}` (seeds:
//! `conformance/patch/`) patches its own `doc` (validated first, as stored documents are);
//! any other JSON value is the PatchOp body, applied to the stored User and Group.
//!
//! Checks beyond "no panic": applying the same operations twice gives the same result (the
//! directory applies them once to hash a password and again in its write job, and refuses a
//! difference), and a document that passed re-validation passes it again unchanged.
#![no_main]

use cloudsso::config::Limits;
use cloudsso::scim::patch;
use cloudsso::scim::schema::{
    ResourceTypeDef, check_value_counts, validate_create, validate_document,
};
use cloudsso_fuzz::{resource_type_named, resource_types, stored};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match input.get("request") {
        Some(request) => {
            let rt = resource_type_named(input.get("resource").and_then(Value::as_str));
            let doc = input
                .get("doc")
                .and_then(|d| validate_create(d.clone(), rt).ok())
                .unwrap_or_else(|| stored(rt).clone());
            patch_once(request, &doc, rt);
        }
        None => {
            for rt in resource_types() {
                patch_once(&input, stored(rt), rt);
            }
        }
    }
});

fn patch_once(body: &Value, doc: &Value, rt: &ResourceTypeDef) {
    let limits = Limits::default();
    let Ok(ops) = patch::parse_request(body, limits.patch_operations_max, &limits.filter) else {
        return;
    };
    let group = rt.name == "Group";
    for op in &ops {
        let on_members = op
            .path
            .as_ref()
            .is_some_and(|p| p.attr.name.eq_ignore_ascii_case("members"));
        if let Some(v) = &op.value
            && !on_members
            && check_value_counts(v, limits.attribute_values_max, group).is_err()
        {
            return;
        }
    }
    let (mut first, mut second) = (doc.clone(), doc.clone());
    let a = patch::apply(&mut first, &ops, rt);
    let b = patch::apply(&mut second, &ops, rt);
    assert_eq!(a, b, "the same PATCH gave two effects");
    if a.is_err() {
        return;
    }
    assert_eq!(first, second, "the same PATCH gave two documents");
    if let Ok(valid) = validate_document(&first, doc, rt) {
        let again = validate_document(&valid, &valid, rt);
        assert_eq!(
            again.as_ref(),
            Ok(&valid),
            "a valid document is not valid again"
        );
    }
}
