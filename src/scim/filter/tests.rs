//! Tests for the filter module: the conformance runner over `conformance/filter/*.json` (every
//! case runs, failures are reported together) and table-driven tests of `check` and `matches`
//! against a small test-only resource type, so they do not depend on the real User/Group
//! definitions.

use super::*;
use crate::scim::schema::{AttrDef, AttrType, ResourceKind, ResourceTypeDef, SchemaDef};
use serde_json::json;

// ---- Conformance runner

/// Runs every case of one conformance file; returns one line per failure.
fn run_file(
    name: &str,
    key: &str,
    parse: impl Fn(&str, &FilterLimits) -> Result<String, ScimError>,
) -> (usize, Vec<String>) {
    let file = format!("{}/conformance/filter/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let cases = doc["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let input = case[key].as_str().expect("input");
        let defaults = FilterLimits::default();
        let limits = FilterLimits {
            len_max: case["len_max"]
                .as_u64()
                .map_or(defaults.len_max, |n| n as usize),
            depth_max: case["depth_max"]
                .as_u64()
                .map_or(defaults.depth_max, |n| n as usize),
        };
        let got = match parse(input, &limits) {
            Ok(ast) => format!("ast {ast}"),
            Err(e) => format!("error {} ({e})", e.scim_type()),
        };
        let want = match (case["ast"].as_str(), case["error"].as_str()) {
            (Some(ast), None) => format!("ast {ast}"),
            (None, Some(error)) => format!("error {error}"),
            _ => {
                failures.push(format!("{name} case {i}: needs exactly one of ast/error"));
                continue;
            }
        };
        let ok = match case["error"].as_str() {
            Some(error) => got.starts_with(&format!("error {error} (")),
            None => got == want,
        };
        if !ok {
            failures.push(format!(
                "{name} case {i} `{input}` ({}):\n    want {want}\n    got  {got}",
                case["note"].as_str().unwrap_or("")
            ));
        }
    }
    (cases.len(), failures)
}

#[test]
fn conformance() {
    let (filters, mut failures) = run_file("rfc7644-3.4.2.2.json", "filter", |text, limits| {
        parse_filter(text, limits).map(|f| f.to_string())
    });
    let (paths, more) = run_file("rfc7644-3.5.2-paths.json", "path", |text, limits| {
        parse_path(text, limits).map(|p| p.to_string())
    });
    failures.extend(more);
    assert!(
        filters > 100 && paths > 20,
        "conformance files look truncated"
    );
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases failed:\n{}",
        failures.len(),
        filters + paths,
        failures.join("\n")
    );
}

#[test]
fn ten_thousand_parentheses_are_a_clean_error() {
    let deep = format!("{}userName pr{}", "(".repeat(10_000), ")".repeat(10_000));
    let roomy = FilterLimits {
        len_max: 1 << 20,
        ..FilterLimits::default()
    };
    let misconfigured = FilterLimits {
        len_max: 1 << 20,
        depth_max: usize::MAX,
    };
    for limits in [FilterLimits::default(), roomy, misconfigured] {
        let err = parse_filter(&deep, &limits).unwrap_err();
        assert_eq!(err.scim_type(), "invalidFilter", "{err}");
        let err = parse_path(&format!("emails[{deep}]"), &limits).unwrap_err();
        assert_eq!(err.scim_type(), "invalidPath", "{err}");
    }
    let nots = format!("{}a pr{}", "not (".repeat(10_000), ")".repeat(10_000));
    assert!(parse_filter(&nots, &misconfigured).is_err());
}

#[test]
fn depth_is_capped_whatever_the_configuration() {
    let limits = FilterLimits {
        len_max: 1 << 20,
        depth_max: usize::MAX,
    };
    let at = |n: usize| format!("{}userName pr{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_filter(&at(DEPTH_CEILING), &limits).is_ok());
    assert!(parse_filter(&at(DEPTH_CEILING + 1), &limits).is_err());
    let nots = |n: usize| format!("{}userName pr{}", "not (".repeat(n), ")".repeat(n));
    assert!(parse_filter(&nots(DEPTH_CEILING / 2), &limits).is_ok());
}

#[test]
fn long_chains_do_not_overflow() {
    let limits = FilterLimits {
        len_max: 4 << 20,
        depth_max: 32,
    };
    // Every operand but the last is false for `or` and true for `and`, so the whole chain is
    // evaluated; both chains match the user document.
    for (joiner, filler) in [(" and ", "title pr"), (" or ", "title eq \"x\"")] {
        let mut terms = vec![filler; 100_000];
        terms.push("userName pr");
        let text = terms.join(joiner);
        let filter = parse_filter(&text, &limits).unwrap();
        let printed = filter.to_string();
        assert!(
            printed.starts_with(&format!("({} ", joiner.trim())),
            "{printed:.40}"
        );
        assert_eq!(filter.chain().len(), 100_001);
        assert!(check(&filter, &USER).is_ok());
        assert!(matches(&filter, &user_doc(), &USER));
        let copy = filter.clone();
        assert_eq!(copy, filter);
        drop(copy);
    }
}

#[test]
fn chains_are_balanced_and_keep_operand_order() {
    let f = parse_filter("a pr and b pr and c pr", &FilterLimits::default()).unwrap();
    let pr = |n: &str| {
        Box::new(Filter::Present(AttrPath {
            schema: None,
            name: n.into(),
            sub: None,
        }))
    };
    assert_eq!(
        f,
        Filter::And(Box::new(Filter::And(pr("a"), pr("b"))), pr("c"))
    );
    let f = parse_filter("a pr or b pr or c pr or d pr", &FilterLimits::default()).unwrap();
    assert_eq!(
        f,
        Filter::Or(
            Box::new(Filter::Or(pr("a"), pr("b"))),
            Box::new(Filter::Or(pr("c"), pr("d")))
        )
    );
}

#[test]
fn urn_is_split_at_the_last_colon_before_the_name() {
    let p = parse_path(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        &FilterLimits::default(),
    )
    .unwrap();
    assert_eq!(
        p.attr,
        AttrPath {
            schema: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into()),
            name: "manager".into(),
            sub: Some("value".into()),
        }
    );
    assert_eq!((p.filter, p.sub), (None, None));
}

// ---- A test-only resource type

const fn attr(name: &'static str, ty: AttrType) -> AttrDef {
    crate::scim::schema::defs::attr(name, ty, "")
}

const fn complex(name: &'static str, multi_valued: bool, subs: &'static [AttrDef]) -> AttrDef {
    AttrDef {
        multi_valued,
        sub_attributes: subs,
        ..attr(name, AttrType::Complex)
    }
}

static USER_CORE: SchemaDef = SchemaDef {
    id: "urn:ietf:params:scim:schemas:core:2.0:User",
    name: "User",
    description: "",
    attributes: &[
        attr("userName", AttrType::String),
        AttrDef {
            case_exact: true,
            ..attr("externalId", AttrType::String)
        },
        attr("title", AttrType::String),
        attr("userType", AttrType::String),
        attr("displayName", AttrType::String),
        attr("active", AttrType::Boolean),
        attr("loginCount", AttrType::Integer),
        attr("score", AttrType::Decimal),
        attr("photo", AttrType::Binary),
        complex(
            "name",
            false,
            &[
                attr("givenName", AttrType::String),
                attr("familyName", AttrType::String),
            ],
        ),
        complex(
            "emails",
            true,
            &[
                attr("value", AttrType::String),
                attr("type", AttrType::String),
                attr("primary", AttrType::Boolean),
            ],
        ),
        complex(
            "meta",
            false,
            &[
                attr("created", AttrType::DateTime),
                attr("lastModified", AttrType::DateTime),
            ],
        ),
        complex(
            "groups",
            true,
            &[
                attr("value", AttrType::String),
                attr("display", AttrType::String),
            ],
        ),
    ],
};

static ENTERPRISE: SchemaDef = SchemaDef {
    id: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    name: "EnterpriseUser",
    description: "",
    attributes: &[
        attr("employeeNumber", AttrType::String),
        attr("department", AttrType::String),
        complex(
            "manager",
            false,
            &[
                attr("value", AttrType::String),
                attr("displayName", AttrType::String),
            ],
        ),
    ],
};

static USER: ResourceTypeDef = ResourceTypeDef {
    kind: ResourceKind::User,
    name: "User",
    endpoint: "/Users",
    description: "",
    schema: &USER_CORE,
    extensions: &[(&ENTERPRISE, false)],
};

static GROUP_CORE: SchemaDef = SchemaDef {
    id: "urn:ietf:params:scim:schemas:core:2.0:Group",
    name: "Group",
    description: "",
    attributes: &[
        attr("displayName", AttrType::String),
        complex(
            "members",
            true,
            &[
                AttrDef {
                    case_exact: true,
                    ..attr("value", AttrType::String)
                },
                attr("display", AttrType::String),
                attr("type", AttrType::String),
                AttrDef {
                    case_exact: true,
                    ..attr("$ref", AttrType::Reference)
                },
            ],
        ),
    ],
};

static GROUP: ResourceTypeDef = ResourceTypeDef {
    kind: ResourceKind::Group,
    name: "Group",
    endpoint: "/Groups",
    description: "",
    schema: &GROUP_CORE,
    extensions: &[],
};

fn user_doc() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": "BJensen",
        "externalId": "Ext-1",
        "title": "Tour Guide",
        "userType": "Employee",
        "displayName": "",
        "active": true,
        "loginCount": 7,
        "score": 2.5,
        "photo": "aGVsbG8=",
        "name": {"givenName": "Barbara", "familyName": "O'Malley"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34+02:00"
        },
        "groups": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    })
}

fn group_doc() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User",
             "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User"}
        ]
    })
}

// ---- check: each case is (filter, Ok(()) or Err(part of the message))

fn check_case(rt: &ResourceTypeDef, text: &str) -> Result<(), String> {
    let filter = parse_filter(text, &FilterLimits::default()).map_err(|e| format!("parse: {e}"))?;
    check(&filter, rt).map_err(|e| {
        assert_eq!(e.scim_type(), "invalidFilter", "{e}");
        e.to_string()
    })
}

#[test]
fn check_table() {
    let cases: &[(&str, Result<(), &str>)] = &[
        ("userName eq \"bjensen\"", Ok(())),
        ("userName gt \"a\"", Ok(())),
        ("active eq true", Ok(())),
        ("active eq \"true\"", Ok(())),
        ("active eq \"FALSE\"", Ok(())),
        ("active eq \"notabool\"", Err("boolean")),
        ("active eq 1", Err("boolean")),
        ("active gt true", Err("not ordered")),
        ("active le false", Err("not ordered")),
        ("photo lt \"a\"", Err("not ordered")),
        ("photo eq \"aGVsbG8=\"", Ok(())),
        ("emails gt \"a\"", Err("complex")),
        ("name ge \"a\"", Err("complex")),
        ("name eq \"a\"", Err("complex")),
        ("emails co \"example.com\"", Ok(())),
        ("emails.primary eq true", Ok(())),
        ("emails.primary co \"t\"", Err("applies to strings")),
        ("active sw \"t\"", Err("applies to strings")),
        ("loginCount co \"1\"", Err("applies to strings")),
        ("meta.created ew \"Z\"", Err("applies to strings")),
        ("loginCount gt 5", Ok(())),
        ("loginCount gt \"5\"", Ok(())),
        ("loginCount gt \"five\"", Err("number")),
        ("score le 2.5e0", Ok(())),
        ("meta.lastModified gt \"2011-05-13T04:42:34Z\"", Ok(())),
        ("meta.lastModified gt \"yesterday\"", Err("RFC 3339")),
        ("meta.lastModified gt 2011", Err("RFC 3339")),
        ("meta.created gt 2015-10-10T14:38:21.8617979-07:00", Ok(())),
        ("title eq null", Ok(())),
        ("title gt null", Err("null")),
        ("externalId eq 42", Ok(())),
        ("emails[type eq \"work\" and primary eq true]", Ok(())),
        ("emails[primary gt true]", Err("not ordered")),
        ("emails[type eq \"work\"].value co \"@\"", Ok(())),
        ("userName[value eq \"x\"]", Err("not a complex attribute")),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"1\"",
            Ok(()),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager gt \"x\"",
            Err("complex"),
        ),
        ("noSuchAttribute eq \"x\"", Ok(())),
        ("noSuchAttribute gt true", Ok(())),
        ("emails.noSuchSub eq \"x\"", Ok(())),
        ("urn:example:unknown:2.0:User:userName eq \"x\"", Ok(())),
        ("not (active gt true)", Err("not ordered")),
        ("title pr or active lt true", Err("not ordered")),
        (
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            Ok(()),
        ),
    ];
    let mut failures = Vec::new();
    for (text, want) in cases {
        let got = check_case(&USER, text);
        let ok = match (want, &got) {
            (Ok(()), Ok(())) => true,
            (Err(part), Err(msg)) => msg.contains(part),
            _ => false,
        };
        if !ok {
            failures.push(format!("`{text}`: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- matches: each case is (filter, expected result) against user_doc() / group_doc()

fn run_matches(rt: &ResourceTypeDef, doc: &Value, cases: &[(&str, bool)]) -> Vec<String> {
    let mut failures = Vec::new();
    for (text, want) in cases {
        match parse_filter(text, &FilterLimits::default()) {
            Err(e) => failures.push(format!("`{text}`: parse error {e}")),
            Ok(filter) => {
                if let Err(e) = check(&filter, rt) {
                    failures.push(format!("`{text}`: check error {e}"));
                } else if matches(&filter, doc, rt) != *want {
                    failures.push(format!("`{text}`: want {want}, got {}", !want));
                }
            }
        }
    }
    failures
}

#[test]
fn matches_user_table() {
    let cases: &[(&str, bool)] = &[
        // Strings: case-insensitive unless caseExact.
        ("userName eq \"bjensen\"", true),
        ("USERNAME EQ \"BJENSEN\"", true),
        ("userName eq \"bjensen2\"", false),
        ("externalId eq \"Ext-1\"", true),
        ("externalId eq \"ext-1\"", false),
        ("externalId sw \"Ext\"", true),
        ("externalId sw \"ext\"", false),
        ("userName sw \"bj\"", true),
        ("userName ew \"SEN\"", true),
        ("userName co \"JENS\"", true),
        ("userName co \"x\"", false),
        ("userName sw O", false),
        ("userName eq BJensen", true),
        ("userName gt \"a\"", true),
        ("userName lt \"a\"", false),
        ("name.familyName co \"O'Malley\"", true),
        ("title pr", true),
        ("displayName pr", false),
        ("nickName pr", false),
        ("title pr and userType eq \"Employee\"", true),
        ("title pr or userType eq \"Intern\"", true),
        ("userType eq \"Intern\" or title eq \"x\"", false),
        // ne: not eq; an absent attribute satisfies ne.
        ("userType ne \"Employee\"", false),
        ("userType ne \"Intern\"", true),
        ("profileUrl ne \"x\"", false),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userType ne \"x\"",
            true,
        ),
        ("name.middleName ne \"x\"", false),
        ("emails.type ne \"work\"", false),
        ("emails.type ne \"other\"", true),
        // null and presence.
        ("title eq null", false),
        ("title ne null", true),
        ("displayName eq null", true),
        ("groups pr", false),
        ("groups eq null", true),
        ("emails pr", true),
        ("name pr", true),
        ("emails.primary pr", true),
        // Booleans, numbers.
        ("active eq true", true),
        ("active eq false", false),
        ("active ne false", true),
        ("active eq \"true\"", true),
        ("active eq \"TRUE\"", true),
        ("loginCount eq 7", true),
        ("loginCount gt 6.5", true),
        ("loginCount ge 7", true),
        ("loginCount lt 7", false),
        ("loginCount le 7.0", true),
        ("loginCount eq \"7\"", true),
        ("score gt 2", true),
        ("score eq 2.5", true),
        ("score lt 25e-1", false),
        // dateTime: instants, not strings.
        ("meta.lastModified eq \"2011-05-13T02:42:34Z\"", true),
        ("meta.lastModified eq \"2011-05-13T02:42:34.000Z\"", true),
        ("meta.lastModified gt \"2011-05-13T04:42:34Z\"", false),
        ("meta.lastModified lt \"2011-05-13T04:42:34Z\"", true),
        ("meta.lastModified ge \"2011-05-13T02:42:34Z\"", true),
        ("meta.lastModified le \"2011-05-13T02:42:33Z\"", false),
        (
            "meta.created gt \"2010-01-01T00:00:00Z\" and meta.created lt \"2010-02-01T00:00:00Z\"",
            true,
        ),
        ("meta.created gt 2009-10-10T14:38:21.8617979-07:00", true),
        // Multi-valued: any value matches.
        ("emails.value eq \"babs@jensen.org\"", true),
        ("emails.value ew \"@example.com\"", true),
        ("emails co \"example.com\"", true),
        ("emails eq \"BABS@jensen.org\"", true),
        ("emails co \"example.net\"", false),
        ("emails.type eq \"home\"", true),
        ("emails.type eq \"other\"", false),
        (
            "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
            true,
        ),
        (
            "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
            false,
        ),
        (
            "userType eq \"Employee\" and (emails.type eq \"work\")",
            true,
        ),
        // Value paths: one element satisfies the whole inner filter.
        (
            "emails[type eq \"work\" and value co \"@example.com\"]",
            true,
        ),
        (
            "emails[type eq \"home\" and value co \"@example.com\"]",
            false,
        ),
        ("emails[type eq \"home\" and not (primary eq true)]", true),
        (
            "emails[type eq \"work\"].value eq \"bjensen@example.com\"",
            true,
        ),
        (
            "emails[type eq \"home\"].value eq \"bjensen@example.com\"",
            false,
        ),
        ("emails[type eq \"home\"].primary pr", false),
        ("emails[primary eq true]", true),
        ("emails[noSuchSub eq \"x\"]", false),
        ("emails[not (noSuchSub eq \"x\")]", true),
        ("ims[type eq \"xmpp\"]", false),
        (
            "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            true,
        ),
        ("name[givenName eq \"barbara\"]", true),
        // Extension attributes, by URN or by bare name.
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"",
            true,
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw \"tour\"",
            true,
        ),
        ("employeeNumber eq \"701984\"", true),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
            true,
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
            true,
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName co \"smith\"]",
            true,
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
            false,
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"B\"",
            true,
        ),
        // schemas.
        (
            "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"",
            true,
        ),
        (
            "schemas eq \"urn:ietf:params:scim:schemas:core:2.0:Group\"",
            false,
        ),
        // Unknown attributes evaluate to false; not of false is true.
        ("noSuchAttribute eq \"x\"", false),
        ("not (noSuchAttribute eq \"x\")", true),
        ("noSuchAttribute ne \"x\"", false),
        (
            "urn:example:unknown:2.0:User:userName eq \"bjensen\"",
            false,
        ),
    ];
    let failures = run_matches(&USER, &user_doc(), cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn matches_group_table() {
    let cases: &[(&str, bool)] = &[
        ("displayName eq \"tour guides\"", true),
        (
            "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]",
            true,
        ),
        (
            "members[value eq \"2819C223-7F76-453A-919D-413861904646\"]",
            false,
        ),
        (
            "members.value eq \"902c246b-6245-4190-8e05-00816be7344a\"",
            true,
        ),
        ("members eq \"902c246b-6245-4190-8e05-00816be7344a\"", true),
        ("members[display co \"mandy\" and type eq \"user\"]", true),
        ("members[$ref pr]", true),
        ("members.$ref sw \"https://example.com/\"", true),
        (
            "members[$ref pr and display eq \"Mandy Pepperidge\"]",
            false,
        ),
        ("members.display eq \"nobody\"", false),
    ];
    let failures = run_matches(&GROUP, &group_doc(), cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn element_helpers_select_patch_targets() {
    let limits = FilterLimits::default();
    let path = parse_path("emails[type eq \"home\"].value", &limits).unwrap();
    let filter = path.filter.as_ref().unwrap();
    assert!(check_element(&path.attr, filter, &USER).is_ok());
    let doc = user_doc();
    let picked: Vec<&Value> = doc["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| matches_element(&path.attr, filter, e, &USER))
        .collect();
    assert_eq!(picked, vec![&doc["emails"][1]]);
    let bad = parse_path("emails[primary gt true]", &limits).unwrap();
    assert!(check_element(&bad.attr, bad.filter.as_ref().unwrap(), &USER).is_err());
    let not_complex = parse_path("userName[value eq \"x\"]", &limits).unwrap();
    assert!(!matches_element(
        &not_complex.attr,
        not_complex.filter.as_ref().unwrap(),
        &json!({"value": "x"}),
        &USER
    ));
}

#[test]
fn simple_paths_parse_as_the_grammar_does() {
    let taken = [
        "members",
        "active",
        "userName",
        "name.givenName",
        "x-y_z1",
        "not",
        "and",
        "members[value eq \"u-0123456789abcdefghij\"]",
        "members[value eq \"\"]",
        "members[value eq \"a b]c\"]",
        "members[value eq \"é ü 中\"]",
        "emails[value eq \"a@example.com\"]",
    ];
    for text in taken {
        let fast = simple_path(text).unwrap_or_else(|| panic!("`{text}` takes the fast path"));
        assert_eq!(Ok(fast), parser::path(text), "`{text}`");
    }
    // Left to the grammar: it decides (escapes, URNs, spacing, case, other operators, junk).
    let left = [
        "members[value eq \"a\\\"b\"]",
        "members[value eq \"a\\\\b\"]",
        "members[value  eq \"a\"]",
        "members[VALUE eq \"a\"]",
        "members[value EQ \"a\"]",
        "members[value eq \"a\"].display",
        "members[type eq \"User\"]",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "name.givenName.x",
        "1abc",
        "$ref",
        "",
        ".x",
        "x.",
        "members[value eq \"a\"]]",
        "members[value eq \"a\nb\"]",
    ];
    for text in left {
        assert_eq!(simple_path(text), None, "`{text}` is left to pest");
    }
}

#[test]
fn simple_filters_parse_as_the_grammar_does() {
    let taken = [
        "userName eq \"bjensen\"",
        "userName eq \"user-0001234@example.com\"",
        "displayName eq \"Sales Team (EU) [2026]\"",
        "externalId eq \"\"",
        "emails.value eq \"a@example.com\"",
        "userName eq \"a eq \"",
        "userName eq \"名前\"",
    ];
    for text in taken {
        let fast = simple_filter(text).unwrap_or_else(|| panic!("`{text}` takes the fast path"));
        assert_eq!(Ok(fast), parser::filter(text), "`{text}`");
    }
    let left = [
        "userName eq \"a\\\"b\"",
        "userName eq \"a\\\\b\"",
        "userName EQ \"a\"",
        "userName  eq \"a\"",
        "userName eq  \"a\"",
        "userName eq \"a\" ",
        "userName eq \"a\" and active eq true",
        "userName eq \"a\" or userName eq \"b\"",
        "userName eq \"a\"b\"",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"a\"",
        "emails[value eq \"a\"]",
        "name.givenName.x eq \"a\"",
        "userName ne \"a\"",
        "userName eq 1",
        "(userName eq \"a\")",
        "not (userName eq \"a\")",
        " eq \"a\"",
        "userName eq \"a\tb\"",
    ];
    for text in left {
        assert_eq!(simple_filter(text), None, "`{text}` is left to pest");
    }
}
