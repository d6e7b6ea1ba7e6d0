//! The RAM policy engine: policy documents parsed and validated once, wildcard matching of
//! actions and resources, conditions over a request context, and `authorize`, which turns a
//! request and a set of policies into a `Decision` that names the statements behind it.
//!
//! Pure: no IO, no clock, no store, no hyper. Callers put everything a condition may read
//! (`acs:SourceIp`, `acs:CurrentTime`, ...) into the request's `Context`.
//!
//! - `document`: the grammar, validation and the size limit.
//! - `glob`: `*` and `?` patterns, compiled once, matched without allocating.
//! - `condition`: operators, keys, values, the `Context`.
//! - `authorize`: the combination rules as a truth table.
//! - `system`: the built-in policies (`AdministratorAccess`, `AliyunCloudSSOFullAccess`, ...).

mod authorize;
mod condition;
mod document;
mod glob;
mod system;
#[cfg(test)]
mod tests;

pub use authorize::{Decision, EvalFailure, Outcome, Request, StatementRef, authorize};
pub use condition::{Cidr, Condition, Context, Family, Operator};
pub use document::{
    ActionSet, Effect, POLICY_DOCUMENT_CHARS_MAX, PolicyDocument, Statement, compact_chars,
};
pub use glob::{Case, Pattern};
pub use system::{
    ADMINISTRATOR_ACCESS, FULL_ACCESS, RAM_FULL_ACCESS, RAM_READ_ONLY_ACCESS, READ_ONLY_ACCESS,
    SYSTEM_POLICY_NAMES, system_policy, system_policy_text,
};

/// Why a policy document is invalid, or why a condition could not be evaluated. `at` is the
/// place in the document, such as `Statement[0].Condition.IpAddress.acs:SourceIp`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy document is empty")]
    Empty,
    #[error(
        "policy document has {chars} characters (not counting whitespace between json tokens), more than the limit of {max}"
    )]
    TooLong { chars: usize, max: usize },
    #[error("policy document is not valid json: {0}")]
    Json(String),
    #[error("`{at}` must be {expected}")]
    WrongType { at: String, expected: &'static str },
    #[error("`{at}` must not be empty")]
    EmptyList { at: String },
    #[error("unknown element `{element}` in `{at}`")]
    UnknownElement { element: String, at: String },
    #[error("missing element `{element}` in `{at}`")]
    Missing { element: &'static str, at: String },
    #[error("unsupported version `{0}`: the only version is `1`")]
    BadVersion(String),
    #[error("bad effect `{value}` in `{at}`: expected `Allow` or `Deny`")]
    BadEffect { value: String, at: String },
    #[error("`{at}` has both `Action` and `NotAction`")]
    ActionAndNotAction { at: String },
    #[error("bad action `{value}` in `{at}`: expected `*` or `<service>:<action>`")]
    BadAction { value: String, at: String },
    #[error(
        "bad resource `{value}` in `{at}`: expected `*` or `acs:<service>:<region>:<account>:<relative-id>`"
    )]
    BadResource { value: String, at: String },
    #[error("unknown condition operator `{operator}` in `{at}`")]
    UnknownOperator { operator: String, at: String },
    #[error("unknown condition key `{key}` in `{at}`")]
    UnknownConditionKey { key: String, at: String },
    #[error("condition operator `{operator}` does not apply to key `{key}` in `{at}`")]
    OperatorKeyMismatch {
        operator: &'static str,
        key: String,
        at: String,
    },
    #[error("bad value `{value}` for `{operator}` in `{at}`: {reason}")]
    BadConditionValue {
        operator: &'static str,
        value: String,
        at: String,
        reason: &'static str,
    },
    #[error("context value `{value}` of `{key}` cannot be read by `{operator}`: {reason}")]
    BadContextValue {
        key: String,
        value: String,
        operator: &'static str,
        reason: &'static str,
    },
}
