//! Policy documents: JSON text validated once into a `PolicyDocument` of typed statements with
//! compiled patterns and conditions.
//!
//! Owns the document grammar (`Version`, `Statement`, `Effect`, `Action` | `NotAction`,
//! `Resource`, `Condition`), the size limit and the formats of actions and resource ARNs. Must
//! not evaluate requests (that is `authorize`) nor keep any state beyond the parsed document.

use super::PolicyError;
use super::condition::{Condition, Operator};
use super::glob::{Case, Pattern};
use serde_json::{Map, Value};

/// The longest policy document RAM accepts, in characters (CreatePolicy: "1 to 6,144
/// characters"). Counted on the compact form of the document: whitespace between JSON tokens
/// does not count, whitespace inside strings does. RAM's documentation does not say how it
/// treats whitespace; counting the compact form means reformatting a policy never changes
/// whether it fits.
pub const POLICY_DOCUMENT_CHARS_MAX: usize = 6144;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Which actions a statement applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionSet {
    /// `Action`: the actions matching any of the patterns.
    Only(Vec<Pattern>),
    /// `NotAction`: every action matching none of the patterns.
    AllExcept(Vec<Pattern>),
}

impl ActionSet {
    pub fn contains(&self, action: &str) -> bool {
        match self {
            ActionSet::Only(patterns) => patterns.iter().any(|p| p.matches(action)),
            ActionSet::AllExcept(patterns) => !patterns.iter().any(|p| p.matches(action)),
        }
    }
}

/// One validated statement. Conditions AND; values under one condition OR.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub effect: Effect,
    pub actions: ActionSet,
    /// Resource patterns, compared case-sensitively.
    pub resources: Vec<Pattern>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// An unconditional statement. Patterns are taken as written; `PolicyDocument::parse` is
    /// what validates their format.
    pub fn new(effect: Effect, actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            effect,
            actions: ActionSet::Only(
                actions
                    .iter()
                    .map(|a| Pattern::compile(a, Case::Insensitive))
                    .collect(),
            ),
            resources: resources
                .iter()
                .map(|r| Pattern::compile(r, Case::Sensitive))
                .collect(),
            conditions: Vec::new(),
        }
    }
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Validates `text` as a RAM policy document.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        let chars = compact_chars(text);
        if chars == 0 {
            return Err(PolicyError::Empty);
        }
        if chars > POLICY_DOCUMENT_CHARS_MAX {
            return Err(PolicyError::TooLong {
                chars,
                max: POLICY_DOCUMENT_CHARS_MAX,
            });
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        let top = object(&value, "document")?;
        let mut version = None;
        let mut statements = None;
        for (name, value) in top {
            match name.as_str() {
                "Version" => version = Some(value),
                "Statement" => statements = Some(value),
                _ => return Err(unknown(name, "document")),
            }
        }
        match version.ok_or_else(|| missing("Version", "document"))? {
            Value::String(v) if v == "1" => {}
            Value::String(v) => return Err(PolicyError::BadVersion(v.clone())),
            _ => {
                return Err(PolicyError::WrongType {
                    at: "Version".to_owned(),
                    expected: "the string `1`",
                });
            }
        }
        let Value::Array(list) = statements.ok_or_else(|| missing("Statement", "document"))? else {
            return Err(PolicyError::WrongType {
                at: "Statement".to_owned(),
                expected: "an array of statements",
            });
        };
        if list.is_empty() {
            return Err(PolicyError::EmptyList {
                at: "Statement".to_owned(),
            });
        }
        let statements = list
            .iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, &format!("Statement[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok(PolicyDocument { statements })
    }

    /// A document of the given statements, as `parse` would build it. For built-in policies.
    pub fn from_statements(statements: Vec<Statement>) -> PolicyDocument {
        PolicyDocument { statements }
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// The number of characters of `text` outside whitespace between JSON tokens: the length of
/// its compact form when `text` is valid JSON.
pub fn compact_chars(text: &str) -> usize {
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for c in text.chars() {
        if in_string {
            count += 1;
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                (false, _) => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            count += 1;
            in_string = c == '"';
        }
    }
    count
}

fn parse_statement(value: &Value, at: &str) -> Result<Statement, PolicyError> {
    let fields = object(value, at)?;
    let (mut effect, mut action, mut not_action, mut resource, mut condition) =
        (None, None, None, None, None);
    for (name, value) in fields {
        let slot = match name.as_str() {
            "Effect" => &mut effect,
            "Action" => &mut action,
            "NotAction" => &mut not_action,
            "Resource" => &mut resource,
            "Condition" => &mut condition,
            _ => return Err(unknown(name, at)),
        };
        *slot = Some(value);
    }
    let effect = match effect.ok_or_else(|| missing("Effect", at))? {
        Value::String(e) if e == "Allow" => Effect::Allow,
        Value::String(e) if e == "Deny" => Effect::Deny,
        Value::String(e) => return Err(bad_effect(e, at)),
        other => return Err(bad_effect(&other.to_string(), at)),
    };
    let actions = match (action, not_action) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::ActionAndNotAction { at: at.to_owned() });
        }
        (None, None) => return Err(missing("Action", at)),
        (Some(list), None) => ActionSet::Only(actions(list, &format!("{at}.Action"))?),
        (None, Some(list)) => ActionSet::AllExcept(actions(list, &format!("{at}.NotAction"))?),
    };
    let resources = resource.ok_or_else(|| missing("Resource", at))?;
    let at_resource = format!("{at}.Resource");
    let resources = strings(resources, &at_resource)?
        .into_iter()
        .map(|r| match valid_resource(r) {
            true => Ok(Pattern::compile(r, Case::Sensitive)),
            false => Err(PolicyError::BadResource {
                value: r.to_owned(),
                at: at_resource.clone(),
            }),
        })
        .collect::<Result<_, _>>()?;
    let conditions = match condition {
        None => Vec::new(),
        Some(block) => conditions(block, &format!("{at}.Condition"))?,
    };
    Ok(Statement {
        effect,
        actions,
        resources,
        conditions,
    })
}

fn actions(value: &Value, at: &str) -> Result<Vec<Pattern>, PolicyError> {
    strings(value, at)?
        .into_iter()
        .map(|a| match valid_action(a) {
            true => Ok(Pattern::compile(a, Case::Insensitive)),
            false => Err(PolicyError::BadAction {
                value: a.to_owned(),
                at: at.to_owned(),
            }),
        })
        .collect()
}

/// `{ Operator: { Key: value | [values] } }`.
fn conditions(value: &Value, at: &str) -> Result<Vec<Condition>, PolicyError> {
    let block = object(value, at)?;
    if block.is_empty() {
        return Err(PolicyError::EmptyList { at: at.to_owned() });
    }
    let mut out = Vec::new();
    for (name, keys) in block {
        let operator = Operator::from_name(name).ok_or_else(|| PolicyError::UnknownOperator {
            operator: name.clone(),
            at: at.to_owned(),
        })?;
        let at_operator = format!("{at}.{name}");
        let keys = object(keys, &at_operator)?;
        if keys.is_empty() {
            return Err(PolicyError::EmptyList { at: at_operator });
        }
        for (key, values) in keys {
            let at_key = format!("{at_operator}.{key}");
            let values = scalars(values, &at_key)?;
            out.push(Condition::parse(operator, key, &values, &at_key)?);
        }
    }
    Ok(out)
}

/// `*`, or `<service>:<action>` where both parts are letters, digits, `-`, `_`, `.` and
/// wildcards.
fn valid_action(action: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*' | b'?'))
    };
    action == "*"
        || action
            .split_once(':')
            .is_some_and(|(service, name)| word(service) && word(name))
}

/// `*`, or `acs:<service>:<region>:<account>:<relative-id>`: a non-empty service of letters,
/// digits, `-` and wildcards; region and account of the same characters and possibly empty
/// (global services such as RAM have no region); a non-empty relative id, which may contain
/// `:`. No whitespace or control characters anywhere.
fn valid_resource(resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let segment = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*' | b'?'))
    };
    let mut parts = resource.splitn(5, ':');
    let (Some("acs"), Some(service), Some(region), Some(account), Some(relative)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    !service.is_empty()
        && segment(service)
        && segment(region)
        && segment(account)
        && !relative.is_empty()
        && !relative
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
}

fn object<'v>(value: &'v Value, at: &str) -> Result<&'v Map<String, Value>, PolicyError> {
    value.as_object().ok_or_else(|| PolicyError::WrongType {
        at: at.to_owned(),
        expected: "an object",
    })
}

/// A string or a non-empty array of strings.
fn strings<'v>(value: &'v Value, at: &str) -> Result<Vec<&'v str>, PolicyError> {
    let wrong = || PolicyError::WrongType {
        at: at.to_owned(),
        expected: "a string or an array of strings",
    };
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(list) if list.is_empty() => Err(PolicyError::EmptyList { at: at.to_owned() }),
        Value::Array(list) => list.iter().map(|v| v.as_str().ok_or_else(wrong)).collect(),
        _ => Err(wrong()),
    }
}

/// A condition value or array of values: strings, or numbers and booleans written without
/// quotes (RAM's documentation quotes them; both forms are accepted), as text.
fn scalars(value: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(PolicyError::WrongType {
            at: at.to_owned(),
            expected: "a string, number or boolean, or an array of them",
        }),
    };
    match value {
        Value::Array(list) if list.is_empty() => Err(PolicyError::EmptyList { at: at.to_owned() }),
        Value::Array(list) => list.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn unknown(element: &str, at: &str) -> PolicyError {
    PolicyError::UnknownElement {
        element: element.to_owned(),
        at: at.to_owned(),
    }
}

fn missing(element: &'static str, at: &str) -> PolicyError {
    PolicyError::Missing {
        element,
        at: at.to_owned(),
    }
}

fn bad_effect(value: &str, at: &str) -> PolicyError {
    PolicyError::BadEffect {
        value: value.to_owned(),
        at: at.to_owned(),
    }
}
