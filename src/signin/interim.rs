//! INTERIM (lead's branch only): the signature the "saml" helper is building, so the portal
//! compiles before its branch merges. Deleted at the merge.
#![allow(dead_code)]

use super::SignIn;
use crate::error::DomainError;
use crate::model::{DirectoryId, UserId};

pub struct ConsolePost {
    pub acs_url: String,
    pub saml_response: String,
    pub relay_state: Option<String>,
}

impl SignIn {
    pub async fn console_sign_in(
        &self,
        _dir: &DirectoryId,
        _user: &UserId,
        _account_id: &str,
        _config_id: &str,
    ) -> Result<ConsolePost, DomainError> {
        Err(DomainError::Internal(
            "interim: console sign-in arrives with the saml branch".into(),
        ))
    }
}
