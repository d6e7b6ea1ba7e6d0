//! Bounds on string values in a canonical document: a length in characters per named attribute
//! (user and group names, name parts, emails, `externalId`), a general length for every other
//! string at any depth, and no control characters in names. One definition shared by SCIM and
//! the management API (both reach the directory with a SCIM document). Must not know where
//! the limits come from (`config` fills `StringLimits`) nor touch the store.

use super::ResourceTypeDef;
use crate::model::ResourceKind;
use crate::scim::ScimError;
use serde_json::Value;

/// Longest string values, in characters (Unicode scalar values, as the management API counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringLimits {
    /// A user's `userName` (CloudSSO's `UserName`: 64).
    pub user_name_chars_max: usize,
    /// A user's `displayName` and `name.formatted` (CloudSSO's `DisplayName`: 256).
    pub display_name_chars_max: usize,
    /// A group's `displayName` (CloudSSO's `GroupName`: 128).
    pub group_name_chars_max: usize,
    /// `name.givenName`, `name.familyName` and the other name parts (`FirstName`: 64).
    pub name_part_chars_max: usize,
    /// `emails.value` (CloudSSO's `Email`: 128).
    pub email_chars_max: usize,
    /// `externalId`, the identity provider's id of a user or group.
    pub external_id_chars_max: usize,
    /// Any other string value, at any depth (CloudSSO's `Description`: 1,024).
    pub string_chars_max: usize,
}

impl Default for StringLimits {
    fn default() -> Self {
        StringLimits {
            user_name_chars_max: 64,
            display_name_chars_max: 256,
            group_name_chars_max: 128,
            name_part_chars_max: 64,
            email_chars_max: 128,
            external_id_chars_max: 256,
            string_chars_max: 1024,
        }
    }
}

/// A named attribute with its own bound; names never hold control characters.
struct Rule {
    kind: Option<ResourceKind>,
    attr: &'static str,
    sub: Option<&'static str>,
    max: fn(&StringLimits) -> usize,
}

const fn rule(
    kind: Option<ResourceKind>,
    attr: &'static str,
    sub: Option<&'static str>,
    max: fn(&StringLimits) -> usize,
) -> Rule {
    Rule {
        kind,
        attr,
        sub,
        max,
    }
}

const USER: Option<ResourceKind> = Some(ResourceKind::User);
const RULES: &[Rule] = &[
    rule(USER, "userName", None, |l| l.user_name_chars_max),
    rule(USER, "displayName", None, |l| l.display_name_chars_max),
    rule(Some(ResourceKind::Group), "displayName", None, |l| {
        l.group_name_chars_max
    }),
    rule(None, "externalId", None, |l| l.external_id_chars_max),
    rule(USER, "name", Some("formatted"), |l| {
        l.display_name_chars_max
    }),
    rule(USER, "name", Some("familyName"), |l| l.name_part_chars_max),
    rule(USER, "name", Some("givenName"), |l| l.name_part_chars_max),
    rule(USER, "name", Some("middleName"), |l| l.name_part_chars_max),
    rule(USER, "name", Some("honorificPrefix"), |l| {
        l.name_part_chars_max
    }),
    rule(USER, "name", Some("honorificSuffix"), |l| {
        l.name_part_chars_max
    }),
    rule(USER, "emails", Some("value"), |l| l.email_chars_max),
];

/// Refuses a canonical document (as `validate_create`, `validate_replace` and
/// `validate_document` return it, `members` and `password` still in it) with a string longer
/// than its bound, or a name with a control character (C0 including NUL, DEL, C1).
pub fn check_strings(
    doc: &Value,
    rt: &ResourceTypeDef,
    limits: &StringLimits,
) -> Result<(), ScimError> {
    for r in RULES.iter().filter(|r| r.kind.is_none_or(|k| k == rt.kind)) {
        let path = match r.sub {
            Some(sub) => format!("{}.{sub}", r.attr),
            None => r.attr.to_owned(),
        };
        for s in strings_at(doc.get(r.attr), r.sub) {
            check_name(&path, s, (r.max)(limits))?;
        }
    }
    let Some(doc) = doc.as_object() else {
        return Ok(());
    };
    doc.iter()
        .filter(|(k, _)| !SERVER_KEYS.contains(&k.as_str()))
        .try_for_each(|(k, v)| check_all(v, k, limits.string_chars_max))
}

/// The read-only attributes a canonical document carries from the server, never the client.
const SERVER_KEYS: &[&str] = &["id", "meta", "groups"];

/// The strings at `attr[.sub]`: `attr` single or multi-valued.
fn strings_at<'a>(value: Option<&'a Value>, sub: Option<&str>) -> Vec<&'a str> {
    let items: Vec<&Value> = match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|v| match sub {
            Some(sub) => v.get(sub),
            None => Some(v),
        })
        .filter_map(Value::as_str)
        .collect()
}

fn check_name(path: &str, s: &str, max: usize) -> Result<(), ScimError> {
    check_len(path, s, max)?;
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(ScimError::InvalidValue(format!(
            "attribute `{path}` must not contain control characters (found U+{:04X})",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

fn check_len(path: &str, s: &str, max: usize) -> Result<(), ScimError> {
    // Counting stops one past the bound: a huge value costs no more than a short one.
    let len = s.chars().take(max.saturating_add(1)).count();
    if len > max {
        return Err(ScimError::InvalidValue(format!(
            "attribute `{path}` is longer than {max} characters, the most accepted"
        )));
    }
    Ok(())
}

/// Refuses a request value (a PATCH operation's `value` on `members`, which never becomes part
/// of a document) with a string longer than the general bound, at any depth.
pub fn check_string_lengths(v: &Value, path: &str, limits: &StringLimits) -> Result<(), ScimError> {
    check_all(v, path, limits.string_chars_max)
}

/// Every string in `v`, at any depth, against the general bound.
fn check_all(v: &Value, path: &str, max: usize) -> Result<(), ScimError> {
    match v {
        Value::String(s) => check_len(path, s, max),
        Value::Array(items) => items.iter().try_for_each(|i| check_all(i, path, max)),
        Value::Object(o) => o.iter().try_for_each(|(k, i)| {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_all(i, &sub, max)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing))]
mod tests {
    use super::*;
    use crate::scim::schema::{GROUP, USER as USER_RT, validate_create};
    use serde_json::json;

    /// Small bounds, so "at the limit" and "one past" are short strings.
    const L: StringLimits = StringLimits {
        user_name_chars_max: 5,
        display_name_chars_max: 6,
        group_name_chars_max: 7,
        name_part_chars_max: 3,
        email_chars_max: 8,
        external_id_chars_max: 4,
        string_chars_max: 9,
    };

    fn s(n: usize) -> String {
        // Multi-byte characters: bounds count characters, not bytes.
        "é".repeat(n)
    }

    /// (case, resource type, document, the attribute a refusal names or None for accepted)
    fn cases() -> Vec<(&'static str, bool, Value, Option<&'static str>)> {
        let u = |extra: Value| {
            let mut d = json!({"userName": "u"});
            d.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            d
        };
        vec![
            ("userName at", true, json!({"userName": s(5)}), None),
            (
                "userName past",
                true,
                json!({"userName": s(6)}),
                Some("userName"),
            ),
            (
                "displayName at",
                true,
                u(json!({"displayName": s(6)})),
                None,
            ),
            (
                "displayName past",
                true,
                u(json!({"displayName": s(7)})),
                Some("displayName"),
            ),
            (
                "givenName at",
                true,
                u(json!({"name": {"givenName": s(3)}})),
                None,
            ),
            (
                "givenName past",
                true,
                u(json!({"name": {"givenName": s(4)}})),
                Some("name.givenName"),
            ),
            (
                "familyName past",
                true,
                u(json!({"name": {"familyName": s(4)}})),
                Some("name.familyName"),
            ),
            (
                "formatted at",
                true,
                u(json!({"name": {"formatted": s(6)}})),
                None,
            ),
            (
                "formatted past",
                true,
                u(json!({"name": {"formatted": s(7)}})),
                Some("name.formatted"),
            ),
            (
                "email at",
                true,
                u(json!({"emails": [{"value": "a@bcdefg"}]})),
                None,
            ),
            (
                "email past",
                true,
                u(json!({"emails": [{"value": "a@bcdefgh"}]})),
                Some("emails.value"),
            ),
            (
                "second email past",
                true,
                u(json!({"emails": [{"value": "a@b"}, {"value": "a@bcdefgh"}]})),
                Some("emails.value"),
            ),
            ("externalId at", true, u(json!({"externalId": s(4)})), None),
            (
                "externalId past",
                true,
                u(json!({"externalId": s(5)})),
                Some("externalId"),
            ),
            ("other string at", true, u(json!({"title": s(9)})), None),
            (
                "other string past",
                true,
                u(json!({"title": s(10)})),
                Some("title"),
            ),
            (
                "sub-attribute past",
                true,
                u(json!({"addresses": [{"formatted": s(10)}]})),
                Some("addresses.formatted"),
            ),
            (
                "extension past",
                true,
                u(json!({ENTERPRISE: {"department": s(10)}})),
                Some("department"),
            ),
            (
                "password past",
                true,
                u(json!({"password": s(10)})),
                Some("password"),
            ),
            (
                "NUL in userName",
                true,
                json!({"userName": "a\u{0}b"}),
                Some("control"),
            ),
            (
                "tab in userName",
                true,
                json!({"userName": "a\tb"}),
                Some("control"),
            ),
            (
                "DEL in displayName",
                true,
                u(json!({"displayName": "a\u{7f}"})),
                Some("control"),
            ),
            (
                "C1 in externalId",
                true,
                u(json!({"externalId": "a\u{85}"})),
                Some("control"),
            ),
            (
                "newline in givenName",
                true,
                u(json!({"name": {"givenName": "a\n"}})),
                Some("control"),
            ),
            (
                "newline in an address",
                true,
                u(json!({"addresses": [{"formatted": "a\nb"}]})),
                None,
            ),
            ("group name at", false, json!({"displayName": s(7)}), None),
            (
                "group name past",
                false,
                json!({"displayName": s(8)}),
                Some("displayName"),
            ),
            (
                "NUL in group name",
                false,
                json!({"displayName": "g\u{0}"}),
                Some("control"),
            ),
            (
                "member display past",
                false,
                json!({"displayName": "g", "members": [{"value": "x", "display": s(10)}]}),
                Some("members.display"),
            ),
        ]
    }

    const ENTERPRISE: &str = crate::scim::schema::ENTERPRISE_USER_SCHEMA;

    #[test]
    fn string_bounds_on_both_sides() {
        let mut failures = Vec::new();
        for (name, user, input, refused) in cases() {
            let rt = if user { &USER_RT } else { &GROUP };
            let doc = validate_create(input, rt).unwrap();
            match (check_strings(&doc, rt, &L), refused) {
                (Ok(()), None) => {}
                (Err(ScimError::InvalidValue(m)), Some(word)) if m.contains(word) => {}
                (got, want) => failures.push(format!("{name}: got {got:?}, want {want:?}")),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_huge_value_is_refused_without_counting_it_whole() {
        let doc = json!({"userName": "x".repeat(1_000_000)});
        let e = check_strings(&doc, &USER_RT, &StringLimits::default()).unwrap_err();
        assert!(e.to_string().contains("64"), "{e}");
    }
}
