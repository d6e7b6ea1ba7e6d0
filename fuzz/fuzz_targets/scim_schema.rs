//! SCIM document validation (`scim::schema`): a POST or PUT body bounded
//! (`check_value_counts`), validated into a canonical document (`validate_create`), validated
//! as a replacement of the stored document (`validate_replace`), and shaped for a response
//! (`shape` with `parse_attribute_list`), for User and Group bodies.
//!
//! Input: JSON. A conformance case `{"resourceType", "input", "attributes",
//! "excludedAttributes"}` (seeds: `conformance/schema/`) is validated as its resource type;
//! any other JSON value is the body, validated as a User and as a Group.
//!
//! Checks beyond "no panic": a canonical document validates again to itself (the directory
//! re-validates stored documents after every PATCH).
#![no_main]

use cloudsso::config::Limits;
use cloudsso::scim::schema::{
    AttributeSelection, ResourceTypeDef, check_value_counts, parse_attribute_list, shape,
    validate_create, validate_document, validate_replace,
};
use cloudsso_fuzz::{field, resource_type_named, resource_types, stored};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match input.get("input") {
        Some(body) => {
            let rt = resource_type_named(field(&input, "resourceType"));
            let sel = AttributeSelection {
                attributes: parse_attribute_list(field(&input, "attributes").unwrap_or("")),
                excluded: parse_attribute_list(field(&input, "excludedAttributes").unwrap_or("")),
            };
            validate(body, rt, &sel);
        }
        None => {
            for rt in resource_types() {
                validate(&input, rt, &AttributeSelection::default());
            }
        }
    }
});

fn validate(body: &Value, rt: &ResourceTypeDef, sel: &AttributeSelection) {
    let limits = Limits::default();
    let _ = shape(body, rt, sel);
    if check_value_counts(body, limits.attribute_values_max, rt.name == "Group").is_err() {
        return;
    }
    let _ = validate_replace(body.clone(), stored(rt), rt);
    let Ok(doc) = validate_create(body.clone(), rt) else {
        return;
    };
    let again = validate_document(&doc, &doc, rt);
    assert_eq!(
        again.as_ref(),
        Ok(&doc),
        "a canonical document is not valid again"
    );
    let _ = shape(&doc, rt, sel);
}
