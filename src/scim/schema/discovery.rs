//! The discovery documents, generated from the same definitions that drive validation and
//! shaping: `/Schemas` (RFC 7643 section 7), `/ResourceTypes` (section 6) and
//! `/ServiceProviderConfig` (section 5). Must not hold a second copy of any attribute
//! characteristic, nor read the configuration: the numbers it advertises are parameters.
//!
//! The common attributes (`id`, `externalId`, `meta`) are not listed in `/Schemas`
//! (section 3.1). `canonicalValues` and `referenceTypes` appear when non-empty and
//! `subAttributes` for complex attributes.

use super::{
    AttrDef, AttrType, ENTERPRISE_USER_SCHEMA_DEF, GROUP, GROUP_SCHEMA_DEF, RESOURCE_TYPE_SCHEMA,
    ResourceTypeDef, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, SchemaDef, USER,
    USER_SCHEMA_DEF,
};
use serde_json::{Map, Value, json};

/// Every schema cloudsso serves, in `/Schemas` order.
pub fn all_schemas() -> [&'static SchemaDef; 3] {
    [
        &USER_SCHEMA_DEF,
        &ENTERPRISE_USER_SCHEMA_DEF,
        &GROUP_SCHEMA_DEF,
    ]
}

/// Every resource type cloudsso serves, in `/ResourceTypes` order.
pub fn all_resource_types() -> [&'static ResourceTypeDef; 2] {
    [&USER, &GROUP]
}

/// Finds a served schema by URN, case-insensitively (`GET /Schemas/{id}`).
pub fn schema_by_id(id: &str) -> Option<&'static SchemaDef> {
    all_schemas()
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
}

/// Finds a served resource type by name, case-insensitively (`GET /ResourceTypes/{name}`).
pub fn resource_type_by_name(name: &str) -> Option<&'static ResourceTypeDef> {
    all_resource_types()
        .into_iter()
        .find(|rt| rt.name.eq_ignore_ascii_case(name))
}

fn location(base_url: &str, rest: &str) -> String {
    format!("{}/{rest}", base_url.trim_end_matches('/'))
}

/// One schema as RFC 7643 section 7 represents it; `base_url` is the SCIM root
/// (`https://host/scim/v2`), used for `meta.location`.
pub fn schemas_document(schema: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_document).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": location(base_url, &format!("Schemas/{}", schema.id)),
        },
    })
}

fn attribute_document(def: &AttrDef) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), def.name.into());
    out.insert("type".into(), def.ty.as_str().into());
    out.insert("multiValued".into(), def.multi_valued.into());
    out.insert("description".into(), def.description.into());
    out.insert("required".into(), def.required.into());
    out.insert("caseExact".into(), def.case_exact.into());
    if !def.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), def.canonical_values.into());
    }
    if !def.reference_types.is_empty() {
        out.insert("referenceTypes".into(), def.reference_types.into());
    }
    out.insert("mutability".into(), def.mutability.as_str().into());
    out.insert("returned".into(), def.returned.as_str().into());
    out.insert("uniqueness".into(), def.uniqueness.as_str().into());
    if def.ty == AttrType::Complex {
        let subs: Vec<Value> = def.sub_attributes.iter().map(attribute_document).collect();
        out.insert("subAttributes".into(), subs.into());
    }
    Value::Object(out)
}

/// One resource type as RFC 7643 section 6 represents it.
pub fn resource_type_document(rt: &ResourceTypeDef, base_url: &str) -> Value {
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|(schema, required)| json!({"schema": schema.id, "required": required}))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": location(base_url, &format!("ResourceTypes/{}", rt.name)),
        },
    })
}

/// The service provider configuration (RFC 7643 section 5): what cloudsso implements, with
/// `filter.maxResults` set to `max_results`, the largest page a list or search returns (the
/// caller passes its configured page size limit).
pub fn service_provider_config(max_results: usize, base_url: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": location(base_url, "ServiceProviderConfig"),
        },
    })
}
