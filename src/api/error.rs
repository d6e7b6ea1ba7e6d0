//! The one place where management API errors get their HTTP status, `Code` and `Message`.

use super::protocol::ProtocolError;
use super::replay::ReplayError;
use super::signature::SignatureError;
use crate::access::AccessError;
use crate::directory::DirectoryError;
use crate::store::WriteError;

/// An error on its way to an API client: `{"RequestId","Code","Message"}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFault {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiFault {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> ApiFault {
        ApiFault {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn missing(param: &str) -> ApiFault {
        Self::new(
            400,
            format!("MissingParameter.{param}"),
            format!(
                "The input parameter `{param}` that is mandatory for processing this request is not supplied."
            ),
        )
    }

    pub fn invalid(param: &str, why: impl std::fmt::Display) -> ApiFault {
        Self::new(
            400,
            format!("InvalidParameter.{param}"),
            format!("The specified parameter `{param}` is not valid: {why}"),
        )
    }

    pub fn not_found(entity: &str, id: &str) -> ApiFault {
        Self::new(
            404,
            format!("EntityNotExists.{entity}"),
            format!("The specified {entity} `{id}` does not exist."),
        )
    }

    pub fn no_permission(action: &str, resource: &str) -> ApiFault {
        Self::new(
            403,
            "NoPermission",
            format!("You are not authorized to do `{action}` on `{resource}`."),
        )
    }

    pub fn internal() -> ApiFault {
        Self::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error.",
        )
    }
}

/// CloudSSO's entity names for `EntityNotExists.*` and friends.
fn entity(what: &str) -> &str {
    match what {
        "user" => "User",
        "group" => "Group",
        "directory" => "Directory",
        "credential" => "SCIMCredential",
        "admin user" => "User",
        other => other,
    }
}

impl From<DirectoryError> for ApiFault {
    fn from(e: DirectoryError) -> Self {
        let message = e.to_string();
        match e {
            DirectoryError::NotFound { what, id } => ApiFault::not_found(entity(what), &id),
            DirectoryError::Invalid { param, message } => ApiFault::invalid(param, message),
            DirectoryError::Scim(s) => ApiFault::new(400, "InvalidParameter", s.to_string()),
            DirectoryError::Uniqueness(_) => ApiFault::new(409, "EntityAlreadyExists", message),
            DirectoryError::AlreadyExists { what, .. } => ApiFault::new(
                409,
                format!("EntityAlreadyExists.{}", entity(what)),
                message,
            ),
            DirectoryError::Quota { what, .. } => {
                ApiFault::new(409, format!("QuotaExceeded.{}", entity(what)), message)
            }
            DirectoryError::Conflict { what, .. } => {
                ApiFault::new(409, format!("DeletionConflict.{what}"), message)
            }
            DirectoryError::Synchronized { what, .. } => ApiFault::new(
                403,
                format!("OperationForbidden.Synchronized{}", entity(what)),
                message,
            ),
            DirectoryError::PreconditionFailed { .. } => {
                ApiFault::new(409, "OperationConflict", message)
            }
            DirectoryError::SyncDisabled(_) => {
                ApiFault::new(403, "SCIMSynchronizationDisabled", message)
            }
            DirectoryError::Unauthorized => ApiFault::new(403, "NoPermission", message),
            DirectoryError::Write(WriteError::QueueFull) => ApiFault::new(
                503,
                "ServiceUnavailable",
                "too many writes in flight, retry",
            ),
            DirectoryError::Store(_) | DirectoryError::Write(_) | DirectoryError::Internal(_) => {
                tracing::error!(error = %message, "internal error");
                ApiFault::internal()
            }
        }
    }
}

impl From<AccessError> for ApiFault {
    fn from(e: AccessError) -> Self {
        let message = e.to_string();
        match e {
            AccessError::NotFound { what, id } => ApiFault::not_found(what, &id),
            AccessError::AlreadyExists { what, .. } => {
                ApiFault::new(409, format!("EntityAlreadyExists.{what}"), message)
            }
            AccessError::Quota { what, .. } => {
                ApiFault::new(409, format!("QuotaExceeded.{what}"), message)
            }
            AccessError::Conflict { code, .. } => ApiFault::new(409, code, message),
            AccessError::Invalid { param, message } => ApiFault::invalid(param, message),
            AccessError::Directory(d) => d.into(),
        }
    }
}

impl From<ProtocolError> for ApiFault {
    fn from(e: ProtocolError) -> Self {
        let message = e.to_string();
        match e {
            ProtocolError::MissingAction => ApiFault::missing("Action"),
            ProtocolError::MissingVersion => ApiFault::missing("Version"),
            ProtocolError::UnsupportedVersion(_) => ApiFault::new(400, "InvalidVersion", message),
            ProtocolError::Conflicting(p) => ApiFault::invalid(&p, message),
        }
    }
}

impl From<SignatureError> for ApiFault {
    fn from(e: SignatureError) -> Self {
        match e {
            SignatureError::Malformed(_) | SignatureError::UnsupportedAlgorithm(_) => {
                ApiFault::new(400, "InvalidAuthorization", e.to_string())
            }
            SignatureError::MissingSignedHeader(_)
            | SignatureError::ContentHashMismatch
            | SignatureError::Mismatch => ApiFault::new(
                400,
                "SignatureDoesNotMatch",
                format!("The request signature does not conform to Alibaba Cloud standards: {e}"),
            ),
        }
    }
}

impl From<ReplayError> for ApiFault {
    fn from(e: ReplayError) -> Self {
        let message = e.to_string();
        match e {
            ReplayError::BadTimestamp(_) => ApiFault::new(400, "InvalidTimeStamp.Format", message),
            ReplayError::Expired(_) => ApiFault::new(400, "InvalidTimeStamp.Expired", message),
            ReplayError::NonceUsed(_) => ApiFault::new(400, "SignatureNonceUsed", message),
            ReplayError::Full => ApiFault::new(503, "Throttling", message),
        }
    }
}
