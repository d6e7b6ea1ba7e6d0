//! Tests for the schema layer, as data: every case is `(name, input, expected)` run through one
//! `run_case`, the same runner that executes the conformance files in `conformance/schema/`.
//! Each table reports every failing case, not just the first.

use super::*;
use crate::scim::ScimError;
use serde_json::{Value, json};

const ENT: &str = ENTERPRISE_USER_SCHEMA;

fn kind_of(name: &str) -> Result<&'static ResourceTypeDef, String> {
    match name {
        "User" => Ok(&USER),
        "Group" => Ok(&GROUP),
        "Test" => Ok(&TEST),
        other => Err(format!("unknown resourceType `{other}`")),
    }
}

/// Runs one case:
/// `{"op": "create"|"replace"|"document"|"shape", "resourceType": "User", "input": .., "existing": ..,
///   "attributes": "a,b", "excludedAttributes": "c", "expected": .. | "expectedError": "invalidValue"}`.
/// For `shape`, `input` is the stored document.
fn run_case(case: &Value) -> Result<(), String> {
    let rt = kind_of(case["resourceType"].as_str().unwrap_or("User"))?;
    let input = case["input"].clone();
    let existing = case.get("existing").cloned().unwrap_or(Value::Null);
    let got: Result<Value, ScimError> = match case["op"].as_str().unwrap_or("create") {
        "create" => validate_create(input, rt),
        "replace" => validate_replace(input, &existing, rt),
        "document" => validate_document(&input, &existing, rt),
        "shape" => {
            let sel = AttributeSelection {
                attributes: parse_attribute_list(case["attributes"].as_str().unwrap_or("")),
                excluded: parse_attribute_list(case["excludedAttributes"].as_str().unwrap_or("")),
            };
            Ok(shape(&input, rt, &sel))
        }
        other => return Err(format!("unknown op `{other}`")),
    };
    match (got, case.get("expectedError").and_then(Value::as_str)) {
        (Ok(got), None) => {
            let expected = &case["expected"];
            // Compare the text, so key order counts: shaping promises an order.
            let (got, expected) = (got.to_string(), expected.to_string());
            if got == expected {
                Ok(())
            } else {
                Err(format!("expected {expected}\n     got {got}"))
            }
        }
        (Ok(got), Some(want)) => Err(format!("expected error {want}, got {got}")),
        (Err(e), Some(want)) if e.scim_type() == want => Ok(()),
        (Err(e), want) => Err(format!(
            "expected {}, got error {} ({e})",
            want.unwrap_or("success"),
            e.scim_type()
        )),
    }
}

/// Runs named cases and panics listing every failure.
fn run_all(cases: impl IntoIterator<Item = (String, Value)>) {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, case) in cases {
        count += 1;
        if let Err(why) = run_case(&case) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_create(rt: &str, table: Vec<(&str, Value, Value)>) {
    run_all(table.into_iter().map(|(name, input, expected)| {
        (
            name.to_owned(),
            with_expected(
                json!({"op": "create", "resourceType": rt, "input": input}),
                expected,
            ),
        )
    }));
}

/// `expected` is the document, or `{"error": scimType}`.
fn with_expected(mut case: Value, expected: Value) -> Value {
    match expected.get("error") {
        Some(e) => case["expectedError"] = e.clone(),
        None => case["expected"] = expected,
    }
    case
}

fn err(kind: &str) -> Value {
    json!({"error": kind})
}

#[test]
fn create_user() {
    check_create(
        "User",
        vec![
            (
                "minimal",
                json!({"userName": "bjensen"}),
                json!({"userName": "bjensen"}),
            ),
            (
                "keys are case-insensitive and rewritten",
                json!({"USERNAME": "bjensen", "Emails": [{"Value": "b@x.org", "TYPE": "work", "Primary": true}],
                       "name": {"GIVENNAME": "Barbara"}}),
                json!({"userName": "bjensen", "emails": [{"value": "b@x.org", "type": "work", "primary": true}],
                       "name": {"givenName": "Barbara"}}),
            ),
            (
                "schemas and read-only attributes are dropped",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:whatever"],
                       "id": "x", "meta": {"resourceType": "User"}, "groups": [{"value": "g"}],
                       "userName": "a"}),
                json!({"userName": "a"}),
            ),
            (
                "schemas must be an array",
                json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": "a"}),
                err("invalidSyntax"),
            ),
            (
                "schemas must hold strings",
                json!({"schemas": [1], "userName": "a"}),
                err("invalidValue"),
            ),
            (
                "body must be an object",
                json!(["userName"]),
                err("invalidSyntax"),
            ),
            (
                "Entra booleans as strings",
                json!({"userName": "a", "active": "True", "emails": [{"value": "e", "primary": "FALSE"}]}),
                json!({"userName": "a", "active": true, "emails": [{"value": "e", "primary": false}]}),
            ),
            (
                "boolean wrong type",
                json!({"userName": "a", "active": "yes"}),
                err("invalidValue"),
            ),
            (
                "boolean number",
                json!({"userName": "a", "active": 1}),
                err("invalidValue"),
            ),
            (
                "string wrong type",
                json!({"userName": "a", "displayName": 5}),
                err("invalidValue"),
            ),
            (
                "userName wrong type",
                json!({"userName": true}),
                err("invalidValue"),
            ),
            (
                "complex wrong type",
                json!({"userName": "a", "name": "Barbara"}),
                err("invalidValue"),
            ),
            (
                "single-valued given an array",
                json!({"userName": "a", "title": ["x"]}),
                err("invalidValue"),
            ),
            (
                "sub-attribute wrong type",
                json!({"userName": "a", "emails": [{"value": 3}]}),
                err("invalidValue"),
            ),
            (
                "missing userName",
                json!({"displayName": "x"}),
                err("invalidValue"),
            ),
            (
                "empty userName",
                json!({"userName": ""}),
                err("invalidValue"),
            ),
            (
                "blank userName",
                json!({"userName": "  "}),
                err("invalidValue"),
            ),
            (
                "null userName",
                json!({"userName": null}),
                err("invalidValue"),
            ),
            (
                "two primaries",
                json!({"userName": "a", "emails": [{"value": "x", "primary": true}, {"value": "y", "primary": "true"}]}),
                err("invalidValue"),
            ),
            (
                "one primary among several",
                json!({"userName": "a", "phoneNumbers": [{"value": "1", "primary": true}, {"value": "2", "primary": false}]}),
                json!({"userName": "a", "phoneNumbers": [{"value": "1", "primary": true}, {"value": "2", "primary": false}]}),
            ),
            (
                "unknown attributes and sub-attributes dropped",
                json!({"userName": "a", "favouriteColour": "blue", "emails": [{"value": "x", "label": "y"}],
                       "urn:example:custom:1.0:User": {"tag": "t"}}),
                json!({"userName": "a", "emails": [{"value": "x"}]}),
            ),
            (
                "null and empty array are unassigned",
                json!({"userName": "a", "displayName": null, "emails": [], "phoneNumbers": [null], "name": {}}),
                json!({"userName": "a"}),
            ),
            (
                "single value for multi-valued is wrapped",
                json!({"userName": "a", "emails": {"value": "x"}}),
                json!({"userName": "a", "emails": [{"value": "x"}]}),
            ),
            (
                "scalar for multi-valued complex becomes value",
                json!({"userName": "a", "emails": ["x", "y"]}),
                json!({"userName": "a", "emails": [{"value": "x"}, {"value": "y"}]}),
            ),
            (
                "canonical values take the canonical spelling",
                json!({"userName": "a", "emails": [{"value": "x", "type": "WORK"}, {"value": "y", "type": "Custom"}]}),
                json!({"userName": "a", "emails": [{"value": "x", "type": "work"}, {"value": "y", "type": "Custom"}]}),
            ),
            (
                "externalId keeps its case, password is kept",
                json!({"userName": "a", "externalId": "AbC", "password": "s3cret"}),
                json!({"userName": "a", "externalId": "AbC", "password": "s3cret"}),
            ),
            (
                "binary must be base64",
                json!({"userName": "a", "x509Certificates": [{"value": "not base64!"}]}),
                err("invalidValue"),
            ),
            (
                "binary base64 with line breaks",
                json!({"userName": "a", "x509Certificates": [{"value": "TUlJ\nREFE"}]}),
                json!({"userName": "a", "x509Certificates": [{"value": "TUlJ\nREFE"}]}),
            ),
            (
                "reference must be a string",
                json!({"userName": "a", "profileUrl": {}}),
                err("invalidValue"),
            ),
        ],
    );
}

#[test]
fn create_user_enterprise_extension() {
    check_create(
        "User",
        vec![
            (
                "nested under the URN key",
                json!({"userName": "a", ENT: {"Department": "R&D", "manager": {"value": "m1", "displayName": "Boss"}}}),
                json!({"userName": "a", ENT: {"department": "R&D", "manager": {"value": "m1"}}}),
            ),
            (
                "URN-qualified top-level keys move under the URN key",
                json!({"userName": "a", (format!("{ENT}:department")): "R&D", (format!("{ENT}:employeeNumber")): "42"}),
                json!({"userName": "a", ENT: {"department": "R&D", "employeeNumber": "42"}}),
            ),
            (
                "URN key matched case-insensitively",
                json!({"userName": "a", (ENT.to_uppercase()): {"costCenter": "c"}}),
                json!({"userName": "a", ENT: {"costCenter": "c"}}),
            ),
            (
                "manager as a plain id",
                json!({"userName": "a", ENT: {"manager": "abc"}}),
                json!({"userName": "a", ENT: {"manager": {"value": "abc"}}}),
            ),
            (
                "manager as an empty string is unassigned",
                json!({"userName": "a", ENT: {"manager": "", "division": "d"}}),
                json!({"userName": "a", ENT: {"division": "d"}}),
            ),
            (
                "extension with nothing known is dropped",
                json!({"userName": "a", ENT: {"shoeSize": 44}}),
                json!({"userName": "a"}),
            ),
            (
                "extension must be an object",
                json!({"userName": "a", ENT: "x"}),
                err("invalidValue"),
            ),
            (
                "extension value wrong type",
                json!({"userName": "a", ENT: {"department": 1}}),
                err("invalidValue"),
            ),
            (
                "core URN-qualified key",
                json!({"urn:ietf:params:scim:schemas:core:2.0:User:userName": "a"}),
                json!({"userName": "a"}),
            ),
        ],
    );
}

#[test]
fn create_group() {
    check_create(
        "Group",
        vec![
            (
                "minimal",
                json!({"displayName": "Admins"}),
                json!({"displayName": "Admins"}),
            ),
            (
                "missing displayName",
                json!({"members": []}),
                err("invalidValue"),
            ),
            (
                "members kept, type normalized",
                json!({"DisplayName": "Admins", "members": [{"value": "u1", "type": "user"}, {"value": "g1", "TYPE": "GROUP", "display": "Ops"}]}),
                json!({"displayName": "Admins", "members": [{"value": "u1", "type": "User"}, {"value": "g1", "type": "Group", "display": "Ops"}]}),
            ),
            (
                "member without value",
                json!({"displayName": "A", "members": [{"type": "User"}]}),
                err("invalidValue"),
            ),
            (
                "member with empty value",
                json!({"displayName": "A", "members": [{"value": ""}]}),
                err("invalidValue"),
            ),
            (
                "member of unknown type",
                json!({"displayName": "A", "members": [{"value": "x", "type": "Device"}]}),
                err("invalidValue"),
            ),
            (
                "members not objects",
                json!({"displayName": "A", "members": [true]}),
                err("invalidValue"),
            ),
        ],
    );
}

/// A resource type with an immutable attribute, since the RFC schemas have none at top level.
use super::defs::attr;

static TEST_ATTRIBUTES: &[AttrDef] = &[
    attr("userName", AttrType::String, "")
        .required()
        .unique(Uniqueness::Server),
    attr("badge", AttrType::String, "").case_exact().immutable(),
    attr("secretHint", AttrType::String, "").returned(Returned::Request),
    attr("count", AttrType::Integer, ""),
    attr("since", AttrType::DateTime, ""),
    attr("weight", AttrType::Decimal, ""),
];

static TEST_SCHEMA: SchemaDef = SchemaDef {
    id: "urn:example:test:1.0:Thing",
    name: "Thing",
    description: "",
    attributes: TEST_ATTRIBUTES,
};

static TEST: ResourceTypeDef = ResourceTypeDef {
    kind: ResourceKind::User,
    name: "Test",
    endpoint: "/Tests",
    description: "",
    schema: &TEST_SCHEMA,
    extensions: &[],
};

#[test]
fn scalar_types() {
    check_create(
        "Test",
        vec![
            (
                "integer",
                json!({"userName": "a", "count": 3}),
                json!({"userName": "a", "count": 3}),
            ),
            (
                "integer rejects fractions",
                json!({"userName": "a", "count": 3.5}),
                err("invalidValue"),
            ),
            (
                "integer rejects strings",
                json!({"userName": "a", "count": "3"}),
                err("invalidValue"),
            ),
            (
                "decimal",
                json!({"userName": "a", "weight": 3.5}),
                json!({"userName": "a", "weight": 3.5}),
            ),
            (
                "decimal rejects strings",
                json!({"userName": "a", "weight": "3.5"}),
                err("invalidValue"),
            ),
            (
                "dateTime RFC 3339",
                json!({"userName": "a", "since": "2015-09-01T12:00:00Z"}),
                json!({"userName": "a", "since": "2015-09-01T12:00:00Z"}),
            ),
            (
                "dateTime rejects other formats",
                json!({"userName": "a", "since": "01/09/2015"}),
                err("invalidValue"),
            ),
        ],
    );
}

#[test]
fn replace() {
    let existing =
        json!({"id": "1", "userName": "a", "badge": "B-1", "meta": {"resourceType": "Thing"}});
    let table = vec![
        (
            "same immutable value, read-only carried over",
            json!({"userName": "b", "badge": "B-1", "id": "ignored"}),
            json!({"userName": "b", "badge": "B-1", "id": "1", "meta": {"resourceType": "Thing"}}),
        ),
        (
            "omitted immutable keeps its value",
            json!({"userName": "b"}),
            json!({"userName": "b", "badge": "B-1", "id": "1", "meta": {"resourceType": "Thing"}}),
        ),
        (
            "changed immutable",
            json!({"userName": "b", "badge": "B-2"}),
            err("mutability"),
        ),
        (
            "immutable is case-exact",
            json!({"userName": "b", "badge": "b-1"}),
            err("mutability"),
        ),
        (
            "required still required",
            json!({"badge": "B-1"}),
            err("invalidValue"),
        ),
    ];
    run_all(table.into_iter().map(|(name, input, expected)| {
        let case =
            json!({"op": "replace", "resourceType": "Test", "input": input, "existing": existing});
        (name.to_owned(), with_expected(case, expected))
    }));

    let stored = json!({"id": "1", "userName": "a", "badge": "B-1"});
    let table = vec![
        (
            "patched value is re-checked",
            json!({"id": "1", "userName": "a", "badge": "B-1", "count": "x"}),
            err("invalidValue"),
        ),
        (
            "patched immutable",
            json!({"id": "1", "userName": "a", "badge": "B-9"}),
            err("mutability"),
        ),
        (
            "patched away required",
            json!({"id": "1", "badge": "B-1"}),
            err("invalidValue"),
        ),
        (
            "patched id restored",
            json!({"id": "2", "userName": "c", "badge": "B-1"}),
            json!({"userName": "c", "badge": "B-1", "id": "1"}),
        ),
    ];
    run_all(table.into_iter().map(|(name, input, expected)| {
        let case =
            json!({"op": "document", "resourceType": "Test", "input": input, "existing": stored});
        (name.to_owned(), with_expected(case, expected))
    }));
}

#[test]
fn coerce_value_for_patch() {
    let emails = USER
        .resolve(&parse_attribute_list("emails")[0])
        .unwrap()
        .attr;
    let active = USER
        .resolve(&parse_attribute_list("active")[0])
        .unwrap()
        .attr;
    let cases = [
        (emails, json!({"value": "x"}), Ok(json!([{"value": "x"}]))),
        (emails, json!([]), Ok(Value::Null)),
        (
            emails,
            json!([{"primary": true, "value": "a"}, {"primary": true, "value": "b"}]),
            Err("invalidValue"),
        ),
        (active, json!("False"), Ok(json!(false))),
        (active, Value::Null, Ok(Value::Null)),
    ];
    let mut failures = Vec::new();
    for (def, input, expected) in cases {
        let got = coerce_value(def, input.clone()).map_err(|e| e.scim_type());
        if got != expected {
            failures.push(format!(
                "{} {input}: expected {expected:?}, got {got:?}",
                def.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn stored_user() -> Value {
    json!({
        "id": "2819c223",
        "externalId": "ext-1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "password": "hash-or-cleartext",
        "emails": [{"value": "b@x.org", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
        ENT: {"department": "R&D", "manager": {"value": "m1"}},
        "meta": {"resourceType": "User", "created": "2015-09-01T12:00:00Z"}
    })
}

fn check_shape(table: Vec<(&str, &str, &str, Value)>) {
    run_all(table.into_iter().map(|(name, attributes, excluded, expected)| {
        let case = json!({"op": "shape", "resourceType": "User", "input": stored_user(),
                          "attributes": attributes, "excludedAttributes": excluded, "expected": expected});
        (name.to_owned(), case)
    }));
}

#[test]
fn shaping() {
    let core = USER_SCHEMA;
    check_shape(vec![
        (
            "default: everything but password, meta last",
            "",
            "",
            json!({"schemas": [core, ENT], "id": "2819c223", "externalId": "ext-1", "userName": "bjensen",
                   "name": {"givenName": "Barbara", "familyName": "Jensen"},
                   "emails": [{"value": "b@x.org", "type": "work", "primary": true}, {"value": "b@home.org", "type": "home"}],
                   ENT: {"department": "R&D", "manager": {"value": "m1"}},
                   "meta": {"resourceType": "User", "created": "2015-09-01T12:00:00Z"}}),
        ),
        (
            "password never, even when asked",
            "password",
            "",
            json!({"schemas": [core], "id": "2819c223"}),
        ),
        (
            "attributes: id always",
            "userName",
            "",
            json!({"schemas": [core], "id": "2819c223", "userName": "bjensen"}),
        ),
        (
            "case-insensitive names",
            "USERNAME",
            "",
            json!({"schemas": [core], "id": "2819c223", "userName": "bjensen"}),
        ),
        (
            "sub-attribute of multi-valued",
            "emails.value",
            "",
            json!({"schemas": [core], "id": "2819c223", "emails": [{"value": "b@x.org"}, {"value": "b@home.org"}]}),
        ),
        (
            "sub-attribute of single-valued",
            "name.familyName",
            "",
            json!({"schemas": [core], "id": "2819c223", "name": {"familyName": "Jensen"}}),
        ),
        (
            "URN-qualified extension attribute",
            &format!("{ENT}:department"),
            "",
            json!({"schemas": [core, ENT], "id": "2819c223", ENT: {"department": "R&D"}}),
        ),
        (
            "URN-qualified sub-attribute",
            &format!("{ENT}:manager.value"),
            "",
            json!({"schemas": [core, ENT], "id": "2819c223", ENT: {"manager": {"value": "m1"}}}),
        ),
        (
            "whole extension URN",
            ENT,
            "",
            json!({"schemas": [core, ENT], "id": "2819c223", ENT: {"department": "R&D", "manager": {"value": "m1"}}}),
        ),
        (
            "URN-qualified core attribute",
            &format!("{core}:userName"),
            "",
            json!({"schemas": [core], "id": "2819c223", "userName": "bjensen"}),
        ),
        (
            "excluded: whole attributes, sub-attributes and an extension",
            "",
            &format!("emails,name.givenName,meta,{ENT}:department,{ENT}:manager,externalId"),
            json!({"schemas": [core], "id": "2819c223", "userName": "bjensen", "name": {"familyName": "Jensen"}}),
        ),
        (
            "id cannot be excluded",
            "",
            "id,userName,name,emails,externalId,meta,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            json!({"schemas": [core], "id": "2819c223"}),
        ),
        (
            "both lists: excluded narrows the selection",
            "emails,userName",
            "emails.type",
            json!({"schemas": [core], "id": "2819c223", "userName": "bjensen",
                   "emails": [{"value": "b@x.org", "primary": true}, {"value": "b@home.org"}]}),
        ),
        (
            "unknown names select nothing",
            "shoeSize",
            "nothing",
            json!({"schemas": [core], "id": "2819c223"}),
        ),
    ]);
}

#[test]
fn shaping_request_only() {
    let doc = json!({"id": "1", "userName": "a", "secretHint": "h"});
    let table = vec![
        (
            "not by default",
            "",
            json!({"schemas": ["urn:example:test:1.0:Thing"], "id": "1", "userName": "a"}),
        ),
        (
            "when named",
            "secretHint",
            json!({"schemas": ["urn:example:test:1.0:Thing"], "id": "1", "secretHint": "h"}),
        ),
    ];
    run_all(table.into_iter().map(|(name, attributes, expected)| {
        let case = json!({"op": "shape", "resourceType": "Test", "input": doc, "attributes": attributes, "expected": expected});
        (name.to_owned(), case)
    }));
}

#[test]
fn attribute_lists_parse() {
    let path =
        |schema: Option<&str>, name: &str, sub: Option<&str>| crate::scim::schema::AttrPath {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        };
    let cases = vec![
        ("", vec![]),
        (
            " userName , ,emails.value",
            vec![
                path(None, "userName", None),
                path(None, "emails", Some("value")),
            ],
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            vec![path(
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                "manager",
                Some("value"),
            )],
        ),
        (
            ENT,
            vec![path(
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0"),
                "User",
                None,
            )],
        ),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(text, expected)| {
            let got = parse_attribute_list(text);
            (got != expected).then(|| format!("`{text}`: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn attribute<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

#[test]
fn schema_documents() {
    let user = schemas_document(&USER_SCHEMA_DEF, "https://example.com/scim/v2/");
    assert_eq!(user["schemas"], json!([SCHEMA_SCHEMA]));
    assert_eq!(user["id"], USER_SCHEMA);
    assert_eq!(user["attributes"].as_array().unwrap().len(), 21);
    assert_eq!(
        user["meta"],
        json!({"resourceType": "Schema", "location": format!("https://example.com/scim/v2/Schemas/{USER_SCHEMA}")})
    );
    let user_name = attribute(&user, "userName");
    assert_eq!(
        *user_name,
        json!({"name": "userName", "type": "string", "multiValued": false,
               "description": USER_SCHEMA_DEF.attributes[0].description, "required": true, "caseExact": false,
               "mutability": "readWrite", "returned": "default", "uniqueness": "server"})
    );
    assert_eq!(attribute(&user, "password")["returned"], "never");
    assert_eq!(attribute(&user, "password")["mutability"], "writeOnly");
    assert_eq!(attribute(&user, "groups")["mutability"], "readOnly");
    assert_eq!(
        attribute(&user, "profileUrl")["referenceTypes"],
        json!(["external"])
    );
    let emails = attribute(&user, "emails");
    assert_eq!(emails["multiValued"], true);
    let subs: Vec<&str> = emails["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subs, ["value", "display", "type", "primary"]);
    assert_eq!(
        emails["subAttributes"][2]["canonicalValues"],
        json!(["work", "home", "other"])
    );
    assert_eq!(
        attribute(&user, "x509Certificates")["subAttributes"][0]["type"],
        "binary"
    );
    for common in ["id", "externalId", "meta"] {
        assert!(
            user["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["name"] != common),
            "{common} listed"
        );
    }

    let ent = schemas_document(&ENTERPRISE_USER_SCHEMA_DEF, "https://example.com/scim/v2");
    let names: Vec<&str> = ent["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager"
        ]
    );
    let manager = attribute(&ent, "manager");
    assert_eq!(
        manager["subAttributes"][1]["referenceTypes"],
        json!(["User"])
    );
    assert_eq!(manager["subAttributes"][2]["mutability"], "readOnly");

    let group = schemas_document(&GROUP_SCHEMA_DEF, "https://example.com/scim/v2");
    assert_eq!(attribute(&group, "displayName")["uniqueness"], "server");
    assert_eq!(attribute(&group, "displayName")["required"], true);
    let members = attribute(&group, "members");
    assert_eq!(members["subAttributes"][0]["mutability"], "immutable");
    assert_eq!(
        members["subAttributes"][3]["canonicalValues"],
        json!(["User", "Group"])
    );
    assert_eq!(
        all_schemas().map(|s| s.id),
        [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA]
    );
}

#[test]
fn resource_type_and_config_documents() {
    let user = resource_type_document(
        resource_type(ResourceKind::User),
        "https://example.com/scim/v2",
    );
    assert_eq!(
        user,
        json!({"schemas": [RESOURCE_TYPE_SCHEMA], "id": "User", "name": "User", "endpoint": "/Users",
               "description": "User Account", "schema": USER_SCHEMA,
               "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": false}],
               "meta": {"resourceType": "ResourceType", "location": "https://example.com/scim/v2/ResourceTypes/User"}})
    );
    let group = resource_type_document(
        resource_type(ResourceKind::Group),
        "https://example.com/scim/v2",
    );
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schemaExtensions"], json!([]));
    assert!(resource_type_by_name("user").is_some_and(|rt| rt.kind == ResourceKind::User));
    assert!(schema_by_id(&GROUP_SCHEMA.to_lowercase()).is_some());

    let spc = service_provider_config(250, "https://example.com/scim/v2");
    assert_eq!(spc["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
    assert_eq!(spc["patch"], json!({"supported": true}));
    assert_eq!(
        spc["bulk"],
        json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0})
    );
    assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 250}));
    assert_eq!(spc["changePassword"]["supported"], true);
    assert_eq!(spc["sort"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(spc["authenticationSchemes"][0]["primary"], true);
    assert_eq!(
        spc["meta"]["location"],
        "https://example.com/scim/v2/ServiceProviderConfig"
    );
}

#[test]
fn definitions_resolve_common_attributes() {
    for text in [
        "id",
        "externalId",
        "meta.lastModified",
        "urn:ietf:params:scim:schemas:core:2.0:User:id",
    ] {
        let path = &parse_attribute_list(text)[0];
        let resolved = USER
            .resolve(path)
            .unwrap_or_else(|| panic!("{text} does not resolve"));
        assert!(resolved.schema.is_none(), "{text}");
    }
    assert_eq!(
        COMMON_ATTRIBUTES.iter().map(|a| a.name).collect::<Vec<_>>(),
        ["id", "externalId", "meta"]
    );
}

/// Runs every case of every file in `conformance/schema/`, reporting all failures.
#[test]
fn conformance_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/schema");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no conformance files in {}",
        dir.display()
    );
    let mut cases = Vec::new();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{stem}: {e}"));
        for case in doc["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{stem}: no `cases` array"))
        {
            let name = format!("{stem}: {}", case["name"].as_str().unwrap_or("unnamed"));
            cases.push((name, case.clone()));
        }
    }
    run_all(cases);
}

#[test]
fn value_counts_at_the_limit_and_one_past() {
    let cases = [
        (json!({"emails": [1, 2]}), false, true),
        (json!({"emails": [1, 2, 3]}), false, false),
        (json!({"name": {"x": [[1, 2], [1, 2, 3]]}}), false, false),
        (json!({"members": [1, 2, 3]}), true, true),
        (json!({"members": [1, 2, 3]}), false, false),
        (json!({"a": {"members": [1, 2, 3]}}), true, false),
    ];
    for (value, members_exempt, ok) in cases {
        let got = check_value_counts(&value, 2, members_exempt);
        assert_eq!(got.is_ok(), ok, "{value} exempt={members_exempt}: {got:?}");
    }
}
