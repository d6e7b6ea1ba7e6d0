//! The one place where management API errors get their HTTP status, `Code` and `Message`:
//! named constructors for the API's own refusals, `From` arms for the protocol's errors and the
//! domain error (CloudSSO's spelling), and RAM's spelling of the domain error (`ApiFault::ram`).
//! Entity and conflict names come from `error::{Entity, Conflict}`, never from matching text.
//! Must not decide when an error happens, only how it reads.

use super::protocol::ProtocolError;
use super::replay::ReplayError;
use super::signature::SignatureError;
use crate::error::{DomainError, Entity, RamCode};
use crate::signin::credentials::CredentialRefusal;
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

    /// CloudSSO's "does not exist", naming the entity by its code name.
    pub fn not_found(entity: Entity, id: &str) -> ApiFault {
        let entity = entity.name();
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

    /// A request signed with temporary credentials (`STS.`) that carries no SecurityToken.
    pub fn missing_security_token() -> ApiFault {
        Self::new(
            400,
            "MissingSecurityToken",
            "SecurityToken is mandatory for temporary credentials: send the `SecurityToken` parameter (RPC) or the signed `x-acs-security-token` header (ACS3).",
        )
    }

    /// Temporary credentials refused, in Alibaba's `InvalidSecurityToken.*` codes. A credential
    /// whose user lost the access reads as expired (clients then fetch new credentials, which
    /// are refused with the reason).
    pub fn security_token(r: CredentialRefusal) -> ApiFault {
        let (code, message) = match r {
            CredentialRefusal::Malformed => (
                "InvalidSecurityToken.Malformed",
                "Specified SecurityToken is malformed.",
            ),
            CredentialRefusal::MismatchWithAccessKey => (
                "InvalidSecurityToken.MismatchWithAccessKey",
                "Specified SecurityToken mismatch with the AccessKey.",
            ),
            CredentialRefusal::Expired => (
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            ),
            CredentialRefusal::NoAccess => (
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is no longer valid: its user no longer has this access.",
            ),
        };
        Self::new(400, code, message)
    }

    /// An operation temporary credentials may not call.
    pub fn temporary_forbidden(action: &str) -> ApiFault {
        Self::new(
            403,
            "Forbidden.RAM",
            format!(
                "Temporary credentials may call only `sts:GetCallerIdentity`; `{action}` needs an administrator's AccessKey."
            ),
        )
    }

    /// An administrator of member account `account` calling CloudSSO while its account is not
    /// CloudSSO's delegated administrator.
    pub fn not_delegate(account: &str) -> ApiFault {
        Self::new(
            403,
            "Forbidden.DelegateAccount",
            format!(
                "Account `{account}` is not CloudSSO's delegated administrator: its administrators may call CloudSSO only while it is (EnableDelegateAccount, by the management account)."
            ),
        )
    }

    /// An administrator of member account `account` calling `action` of another product than
    /// CloudSSO (RAM, Resource Manager, ...), which only the management account administers.
    pub fn member_account_product(account: &str, action: &str) -> ApiFault {
        Self::new(
            403,
            "Forbidden.DelegateAccount",
            format!(
                "Administrators of member account `{account}` may call only CloudSSO's operations, and only while it is the delegated administrator; `{action}` is the management account's."
            ),
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

    /// A domain error where `Uniqueness` means a name is taken: CloudSSO's code then names
    /// the entity (`EntityAlreadyExists.User`).
    pub fn taken(entity: Entity, e: DomainError) -> ApiFault {
        match e {
            DomainError::Uniqueness(m) => {
                Self::new(409, format!("EntityAlreadyExists.{}", entity.name()), m)
            }
            other => other.into(),
        }
    }

    /// A domain error as RAM spells it (`EntityNotExist.User`, `LimitExceeded.*`, ...), with
    /// RAM's own entity names (`Entity::ram`) and conflict codes (`Conflict::ram_code`).
    pub fn ram(e: DomainError) -> ApiFault {
        match e {
            DomainError::NotFound { entity, id } => {
                let entity = entity.ram(RamCode::NotExist);
                Self::new(
                    404,
                    format!("EntityNotExist.{entity}"),
                    format!("The {entity} `{id}` does not exist."),
                )
            }
            DomainError::AlreadyExists { entity, id } => {
                let entity = entity.ram(RamCode::AlreadyExists);
                Self::new(
                    409,
                    format!("EntityAlreadyExists.{entity}"),
                    format!("The {entity} `{id}` already exists."),
                )
            }
            DomainError::Quota { entity, max } => {
                let entity = entity.ram(RamCode::LimitExceeded);
                Self::new(
                    409,
                    format!("LimitExceeded.{entity}"),
                    format!("At most {max} of {entity} are allowed."),
                )
            }
            DomainError::Conflict { rule, message } => Self::new(409, rule.ram_code(), message),
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

/// CloudSSO's spelling of every domain error.
impl From<DomainError> for ApiFault {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::NotFound { entity, id } => ApiFault::not_found(entity, &id),
            DomainError::Invalid { param, message } => ApiFault::invalid(param, message),
            DomainError::Scim(s) => ApiFault::new(400, "InvalidParameter", s.to_string()),
            DomainError::Uniqueness(_) => ApiFault::new(409, "EntityAlreadyExists", message),
            DomainError::AlreadyExists { entity, .. } => ApiFault::new(
                409,
                format!("EntityAlreadyExists.{}", entity.name()),
                message,
            ),
            DomainError::Quota { entity, .. } => {
                ApiFault::new(409, format!("QuotaExceeded.{}", entity.name()), message)
            }
            DomainError::Conflict { rule, .. } => ApiFault::new(409, rule.code(), message),
            DomainError::Synchronized { entity, .. } => ApiFault::new(
                403,
                format!("OperationForbidden.Synchronized{}", entity.name()),
                message,
            ),
            DomainError::PreconditionFailed { .. } => {
                ApiFault::new(409, "OperationConflict", message)
            }
            DomainError::SyncDisabled(_) => {
                ApiFault::new(403, "SCIMSynchronizationDisabled", message)
            }
            DomainError::Unauthorized => ApiFault::new(403, "NoPermission", message),
            DomainError::Write(WriteError::QueueFull) => ApiFault::new(
                503,
                "ServiceUnavailable",
                "too many writes in flight, retry",
            ),
            DomainError::Store(_) | DomainError::Write(_) | DomainError::Internal(_) => {
                tracing::error!(error = %message, "internal error");
                ApiFault::internal()
            }
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
            ProtocolError::HeaderDiffers { param, .. } => {
                ApiFault::new(400, format!("InvalidParameter.{param}"), message)
            }
            ProtocolError::RepeatedHeader(_) => {
                ApiFault::new(400, "InvalidHeader.Repeated", message)
            }
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
            ReplayError::BeforeStart(_) => ApiFault::new(400, "InvalidTimeStamp.Expired", message),
            ReplayError::EmptyNonce => {
                ApiFault::new(400, "MissingParameter.SignatureNonce", message)
            }
            ReplayError::NonceUsed(_) => ApiFault::new(400, "SignatureNonceUsed", message),
            ReplayError::Full(_) | ReplayError::TooManyKeys => {
                ApiFault::new(503, "Throttling", message)
            }
        }
    }
}
