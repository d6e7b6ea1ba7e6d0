//! The SCIM filter language (RFC 7644 section 3.4.2.2): parsing text into a `Filter` AST with
//! the pest grammar in `grammar/scim_filter.pest`, PATCH paths (RFC 7644 section 3.5.2) from
//! the same grammar, schema type checks, and evaluation against a resource document.
//!
//! Owns the filter types, their canonical S-expression form (`Display`) and the limits applied
//! before pest runs. `parser` turns pest pairs into the AST; `eval` type-checks and evaluates.
//! Must not know where documents come from: no store, no HTTP.

mod eval;
mod parser;
#[cfg(test)]
mod tests;

use crate::scim::ScimError;
/// Filters name attributes with the schema's path type; re-exported so `filter::AttrPath` keeps
/// working for callers.
pub use crate::scim::schema::AttrPath;
use crate::scim::schema::ResourceTypeDef;
use serde_json::Value;
use std::fmt;

/// Limits applied before or while parsing, so hostile input is a 400, never a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Longest filter or path accepted, in bytes.
    pub len_max: usize,
    /// Deepest nesting of parentheses, brackets and `not` accepted. `not (` counts twice.
    /// Values above `DEPTH_CEILING` act as `DEPTH_CEILING`.
    pub depth_max: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            len_max: 4096,
            depth_max: 32,
        }
    }
}

/// The deepest nesting any configuration gets. pest's recursive descent uses the stack for
/// every level: about 200 levels exhaust a 2 MiB thread stack (tokio's default) in a debug
/// build, so this keeps a wide margin.
pub const DEPTH_CEILING: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

/// A parsed filter. Chains of `and`/`or` come out of the parser as balanced trees (both are
/// associative, operand order is kept), so nesting grows with the logarithm of a chain's length
/// and recursion over a parsed filter stays shallow.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath pr`
    Present(AttrPath),
    /// `attrPath compareOp compValue`
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Literal,
    },
    /// `attrPath "[" valFilter "]"`: `filter` is evaluated against each element of the
    /// multi-valued complex attribute `path` (whose `sub` is `None`); paths inside are relative.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// A PATCH target: `attrPath` or `valuePath ["." subAttr]`.
/// `emails[type eq "work"].value` is `{attr: emails, filter: Some(..), sub: Some("value")}`;
/// `name.givenName` is `{attr: {name, sub: givenName}, filter: None, sub: None}`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Parses a `filter` query parameter or SearchRequest `filter` (errors are `invalidFilter`).
pub fn parse_filter(text: &str, limits: &FilterLimits) -> Result<Filter, ScimError> {
    check_limits(text, limits)
        .and_then(|()| simple_filter(text).map_or_else(|| parser::filter(text), Ok))
        .map_err(ScimError::InvalidFilter)
}

/// An attribute name as the fast paths accept it: `ALPHA *(ALPHA / DIGIT / "-" / "_")`.
fn simple_name(s: &str) -> Option<String> {
    let mut chars = s.chars();
    let first = chars.next()?;
    let ok = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| s.to_owned())
}

/// A string literal as the fast paths accept it: no quote, backslash or control character.
fn simple_literal(s: &str) -> Option<Literal> {
    let plain = !s.chars().any(|c| c == '"' || c == '\\' || c.is_control());
    plain.then(|| Literal::String(s.to_owned()))
}

/// `name[.sub]`, as the fast paths accept it.
fn simple_attr(s: &str) -> Option<AttrPath> {
    let (name, sub) = match s.split_once('.') {
        Some((n, sub)) => (n, Some(simple_name(sub)?)),
        None => (s, None),
    };
    Some(AttrPath {
        schema: None,
        name: simple_name(name)?,
        sub,
    })
}

/// The filter provisioning clients send before nearly every create, `name eq "literal"`
/// (`userName`, `displayName`, `externalId`, `emails.value`), read without the grammar; any
/// other form or spelling is left to pest. `tests::simple_filters_parse_as_the_grammar_does`
/// holds both equal.
fn simple_filter(text: &str) -> Option<Filter> {
    let (attr, literal) = text.strip_suffix('"')?.split_once(" eq \"")?;
    Some(Filter::Compare {
        path: simple_attr(attr)?,
        op: CompareOp::Eq,
        value: simple_literal(literal)?,
    })
}

/// Parses a PATCH operation's `path` (errors are `invalidPath`).
pub fn parse_path(text: &str, limits: &FilterLimits) -> Result<PatchPath, ScimError> {
    check_limits(text, limits)
        .and_then(|()| simple_path(text).map_or_else(|| parser::path(text), Ok))
        .map_err(ScimError::InvalidPath)
}

/// The forms nearly every PATCH uses, `name`, `name.sub` and `name[value eq "literal"]`,
/// read without the grammar (a PATCH removing 100 members carries 100 of them). Anything else,
/// or anything unusual inside these forms (escapes, a URN, other spacing or case), is left to
/// pest; `tests::simple_paths_parse_as_the_grammar_does` holds both equal.
fn simple_path(text: &str) -> Option<PatchPath> {
    if let Some(inner) = text.strip_suffix("\"]") {
        let (attr, literal) = inner.split_once("[value eq \"")?;
        let element = Filter::Compare {
            path: AttrPath {
                schema: None,
                name: "value".into(),
                sub: None,
            },
            op: CompareOp::Eq,
            value: simple_literal(literal)?,
        };
        return Some(PatchPath {
            attr: AttrPath {
                schema: None,
                name: simple_name(attr)?,
                sub: None,
            },
            filter: Some(element),
            sub: None,
        });
    }
    Some(PatchPath {
        attr: simple_attr(text)?,
        filter: None,
        sub: None,
    })
}

/// Checks a parsed filter against the resource type's schema (operator/type compatibility).
/// Attributes the schema does not define pass: they evaluate to false (see `eval`).
pub fn check(filter: &Filter, rt: &ResourceTypeDef) -> Result<(), ScimError> {
    eval::check(filter, rt, eval::Scope::Resource).map_err(ScimError::InvalidFilter)
}

/// Evaluates a checked filter against a full resource document.
pub fn matches(filter: &Filter, doc: &Value, rt: &ResourceTypeDef) -> bool {
    eval::matches(filter, rt, eval::Scope::Resource, doc)
}

/// Checks a value filter whose paths are relative to the elements of `attr`, as in the PATCH
/// path `emails[type eq "work"]` (`attr` is `emails`, `filter` is `type eq "work"`).
pub fn check_element(
    attr: &AttrPath,
    filter: &Filter,
    rt: &ResourceTypeDef,
) -> Result<(), ScimError> {
    check(
        &Filter::ValuePath {
            path: attr.clone(),
            filter: Box::new(filter.clone()),
        },
        rt,
    )
}

/// Whether one element of the complex attribute `attr` satisfies a value filter (PATCH targets).
pub fn matches_element(
    attr: &AttrPath,
    filter: &Filter,
    element: &Value,
    rt: &ResourceTypeDef,
) -> bool {
    match eval::element_scope(attr, rt) {
        Some(scope) => eval::matches(filter, rt, scope, element),
        None => false,
    }
}

/// Rejects text over `len_max` bytes or nested deeper than `depth_max` before pest sees it, so
/// no input can make the recursive-descent parser exhaust the stack. Counts `(`, `[` and `not (`
/// outside string literals; the grammar still decides whether the text is well formed.
fn check_limits(text: &str, limits: &FilterLimits) -> Result<(), String> {
    if text.len() > limits.len_max {
        return Err(format!(
            "filter is {} bytes long, more than the {} allowed",
            text.len(),
            limits.len_max
        ));
    }
    let depth_max = limits.depth_max.min(DEPTH_CEILING);
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'(' | b'[' => {
                let weight = if follows_not(bytes, i) { 2 } else { 1 };
                depth += weight;
                open.push(weight);
                if depth > depth_max {
                    return Err(format!(
                        "filter nests deeper than the {depth_max} levels allowed"
                    ));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(open.pop().unwrap_or(0)),
            _ => {}
        }
    }
    Ok(())
}

/// Whether the bytes before `at` are the word `not` and optional blanks.
fn follows_not(bytes: &[u8], at: usize) -> bool {
    let before = bytes.get(..at).unwrap_or_default();
    let trimmed = before.trim_ascii_end();
    let Some(start) = trimmed.len().checked_sub(3) else {
        return false;
    };
    let word = trimmed.get(start..).unwrap_or_default();
    let boundary = match start.checked_sub(1).and_then(|p| trimmed.get(p)) {
        None => true,
        Some(c) => c.is_ascii_whitespace() || *c == b'(' || *c == b'[',
    };
    boundary && word.eq_ignore_ascii_case(b"not")
}

impl CompareOp {
    /// The operator as the filter language spells it, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The literal as JSON: strings quoted and escaped, numbers as serde_json prints them.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => f.write_str(&Value::from(s.as_str()).to_string()),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}

/// The canonical S-expression: `(and (eq userName "bjensen") (not (pr title)))`. Chains of one
/// logical operator print flat, `(or a b c)`, whatever the tree's shape.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present(path) => write!(f, "(pr {path})"),
            Filter::Compare { path, op, value } => write!(f, "({op} {path} {value})"),
            Filter::ValuePath { path, filter } => write!(f, "(valuePath {path} {filter})"),
            Filter::Not(inner) => write!(f, "(not {inner})"),
            Filter::And(..) | Filter::Or(..) => {
                let name = if matches!(self, Filter::And(..)) {
                    "and"
                } else {
                    "or"
                };
                write!(f, "({name}")?;
                for operand in self.chain() {
                    write!(f, " {operand}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Filter {
    /// The operands of a chain of the same logical operator, left to right: `a`, `b`, `c` for
    /// `a and b and c` whatever the tree's shape; `[self]` for any other node. Iterative.
    pub fn chain(&self) -> Vec<&Filter> {
        fn split<'f>(head: &Filter, node: &'f Filter) -> Option<(&'f Filter, &'f Filter)> {
            match (head, node) {
                (Filter::And(..), Filter::And(l, r)) | (Filter::Or(..), Filter::Or(l, r)) => {
                    Some((l, r))
                }
                _ => None,
            }
        }
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match split(self, node) {
                Some((l, r)) => {
                    stack.push(r);
                    stack.push(l);
                }
                None => out.push(node),
            }
        }
        out
    }
}

/// `(path name.givenName)`, `(path emails (eq type "work") value)`.
impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(path {}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, " {filter}")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, " {sub}")?;
        }
        f.write_str(")")
    }
}
