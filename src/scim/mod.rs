//! SCIM 2.0 (RFC 7643/7644) wire semantics: schema definitions, validation and response
//! shaping, the filter language, and PATCH application.
//!
//! Owns pure functions over `serde_json::Value` documents. Must not touch the store or hyper.

pub mod filter;
pub mod patch;
pub mod schema;

/// Every SCIM-level failure, named after the RFC 7644 section 3.12 `scimType` it maps to.
/// The mapping to HTTP status and wire body lives in `http::error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidSyntax(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    NoTarget(String),
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    Mutability(String),
    #[error("{0}")]
    TooMany(String),
}

impl ScimError {
    /// The RFC 7644 section 3.12 `scimType` keyword this error is.
    pub fn scim_type(&self) -> &'static str {
        match self {
            ScimError::InvalidFilter(_) => "invalidFilter",
            ScimError::InvalidSyntax(_) => "invalidSyntax",
            ScimError::InvalidPath(_) => "invalidPath",
            ScimError::NoTarget(_) => "noTarget",
            ScimError::InvalidValue(_) => "invalidValue",
            ScimError::Mutability(_) => "mutability",
            ScimError::TooMany(_) => "tooMany",
        }
    }
}
