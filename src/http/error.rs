//! The one place where SCIM errors become wire responses: RFC 7644 section 3.12 error bodies
//! with their HTTP status and `scimType`, from `ScimError`, the domain error (`DomainError`)
//! and the edge's own refusals. The OAuth token endpoint writes RFC 6749 errors in `oauth`; the management API
//! maps its errors in `api`. Must not decide whether something is an error, only how it reads.

use crate::error::DomainError;
use crate::scim::ScimError;
use crate::scim::schema::ERROR_SCHEMA;
use crate::store::WriteError;
use hyper::StatusCode;
use serde_json::json;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn body(&self) -> serde_json::Value {
        let mut v = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(o)) = (self.scim_type, v.as_object_mut()) {
            o.insert("scimType".into(), json!(t));
        }
        v
    }
}

impl From<ScimError> for ApiError {
    fn from(e: ScimError) -> Self {
        let t = e.scim_type();
        ApiError::new(StatusCode::BAD_REQUEST, Some(t), e.to_string())
    }
}

/// SCIM's reading of every domain error.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let detail = e.to_string();
        match e {
            DomainError::Scim(s) => s.into(),
            DomainError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, None, detail),
            DomainError::Uniqueness(_) => {
                ApiError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
            }
            DomainError::PreconditionFailed { .. } => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, None, detail)
            }
            DomainError::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, None, detail),
            DomainError::SyncDisabled(_) => ApiError::new(StatusCode::FORBIDDEN, None, detail),
            DomainError::Invalid { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
            }
            DomainError::AlreadyExists { .. } => {
                ApiError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
            }
            DomainError::Quota { .. } | DomainError::Conflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, None, detail)
            }
            DomainError::Synchronized { .. } => ApiError::new(StatusCode::FORBIDDEN, None, detail),
            DomainError::Write(WriteError::QueueFull) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "too many writes in flight, retry",
            ),
            DomainError::Store(_) | DomainError::Write(_) | DomainError::Internal(_) => {
                // Not the client's fault; the detail stays in the log.
                tracing::error!(error = %detail, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
            }
        }
    }
}
