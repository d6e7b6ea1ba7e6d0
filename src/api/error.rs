//! The one place where management API errors get their HTTP status, `Code` and `Message`:
//! named constructors for the API's own refusals, `From` arms for the services' errors, and
//! RAM's spellings (`ApiFault::ram`). Must not decide when an error happens, only how it reads.

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

    /// A version no product answers to.
    pub fn unsupported_version() -> ApiFault {
        Self::new(400, "InvalidVersion", "unsupported version")
    }

    /// An action the catalog does not list for the version.
    pub fn unknown_action(action: &str, version: &str) -> ApiFault {
        Self::new(
            404,
            "InvalidAction.NotFound",
            format!("The action `{action}` of version {version} does not exist."),
        )
    }

    /// A catalog row without its implementation (a test keeps this from happening).
    pub fn not_implemented(action: &str) -> ApiFault {
        Self::new(
            404,
            "InvalidAction.NotFound",
            format!("The action `{action}` is not implemented."),
        )
    }

    pub fn param_too_long(max: usize) -> ApiFault {
        Self::new(
            400,
            "InvalidParameter",
            format!("a parameter value is longer than {max} bytes"),
        )
    }

    pub fn key_inactive() -> ApiFault {
        Self::new(
            400,
            "InvalidAccessKeyId.Inactive",
            "Specified access key is disabled.",
        )
    }

    pub fn key_not_found() -> ApiFault {
        Self::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }

    /// An ACS3 `Authorization` that leaves `header` out of its signed headers.
    pub fn unsigned_header(header: &str) -> ApiFault {
        Self::new(
            400,
            "InvalidAuthorization",
            format!("`{header}` must be one of the signed headers"),
        )
    }

    /// `DeleteUser` of the administrator signing the request.
    pub fn self_deletion() -> ApiFault {
        Self::new(
            409,
            "DeleteConflict.User.Self",
            "An administrator cannot delete itself.",
        )
    }

    /// `DeleteAccessKey` of the AccessKey signing the request.
    pub fn key_in_use() -> ApiFault {
        Self::new(
            409,
            "DeleteConflict.User.AccessKey.InUse",
            "The AccessKey signing this request cannot delete itself.",
        )
    }

    /// A request body too large to read (`message` says the limit).
    pub fn body_too_large(message: String) -> ApiFault {
        Self::new(413, "RequestBodyTooLarge", message)
    }

    /// A request body that did not arrive in time (`message` says the limit).
    pub fn body_timeout(message: String) -> ApiFault {
        Self::new(408, "RequestTimeout", message)
    }

    /// A request body that could not be read.
    pub fn body_unreadable(message: String) -> ApiFault {
        Self::new(400, "InvalidRequestBody", message)
    }

    /// A directory error where `Uniqueness` means a name is taken: CloudSSO's code then names
    /// the entity (`EntityAlreadyExists.User`).
    pub fn taken(entity: &str, e: DirectoryError) -> ApiFault {
        match e {
            DirectoryError::Uniqueness(m) => {
                Self::new(409, format!("EntityAlreadyExists.{entity}"), m)
            }
            other => other.into(),
        }
    }

    /// A directory error as RAM spells it (`EntityNotExist.User`, `LimitExceeded.*`, ...).
    /// RAM's entity names differ per code: a full attachment list stays `Policy.Attachment`.
    pub fn ram(e: DirectoryError) -> ApiFault {
        match e {
            DirectoryError::NotFound { what, id } => {
                let entity = match what {
                    "admin user" => "User",
                    "AccessKey" => "User.AccessKey",
                    "Policy.Attachment" => "User.Policy",
                    other => other,
                };
                Self::new(
                    404,
                    format!("EntityNotExist.{entity}"),
                    format!("The {entity} `{id}` does not exist."),
                )
            }
            DirectoryError::AlreadyExists { what, id } => {
                let entity = match what {
                    "admin user" => "User",
                    "Policy.Attachment" => "User.Policy",
                    other => other,
                };
                Self::new(
                    409,
                    format!("EntityAlreadyExists.{entity}"),
                    format!("The {entity} `{id}` already exists."),
                )
            }
            DirectoryError::Quota { what, max } => {
                let entity = match what {
                    "AccessKey" => "User.AccessKey",
                    "admin user" => "User",
                    other => other,
                };
                Self::new(
                    409,
                    format!("LimitExceeded.{entity}"),
                    format!("At most {max} of {entity} are allowed."),
                )
            }
            DirectoryError::Conflict { what, message } => {
                Self::new(409, format!("DeleteConflict.{what}"), message)
            }
            other => other.into(),
        }
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
