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
    check_all(doc, "", limits.string_chars_max)
}

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
