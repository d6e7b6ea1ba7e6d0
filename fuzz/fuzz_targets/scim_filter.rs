//! The SCIM filter parser (`scim::filter::parse_filter`) and PATCH path parser (`parse_path`)
//! on any text, then the schema check and evaluation of what parses against a stored User
//! and Group. Input: the filter or path text (UTF-8). Seeds: `conformance/filter/`.
#![no_main]

use cloudsso::scim::filter::{self, DEPTH_CEILING, FilterLimits};
use cloudsso::scim::schema::ResourceTypeDef;
use cloudsso_fuzz::{resource_types, stored};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The defaults, and a configuration that asks for more depth than the ceiling allows.
const LIMITS: [FilterLimits; 2] = [
    FilterLimits {
        len_max: 4096,
        depth_max: 32,
    },
    FilterLimits {
        len_max: 1 << 16,
        depth_max: DEPTH_CEILING * 4,
    },
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for limits in &LIMITS {
        if let Ok(f) = filter::parse_filter(text, limits) {
            let _ = f.to_string();
            let _ = f.chain();
            for rt in resource_types() {
                if filter::check(&f, rt).is_ok() {
                    let _ = filter::matches(&f, stored(rt), rt);
                }
            }
        }
        if let Ok(p) = filter::parse_path(text, limits) {
            let _ = p.to_string();
            for rt in resource_types() {
                path_against(&p, rt);
            }
        }
    }
});

/// Resolves a PATCH path and runs its value filter over the stored document's elements.
fn path_against(p: &filter::PatchPath, rt: &ResourceTypeDef) {
    let resolved = rt.resolve(&p.attr);
    let Some(f) = &p.filter else { return };
    if filter::check_element(&p.attr, f, rt).is_err() {
        return;
    }
    let doc = stored(rt);
    let elements = resolved
        .and_then(|r| r.get(rt, doc))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for e in &elements {
        let _ = filter::matches_element(&p.attr, f, e, rt);
    }
}
