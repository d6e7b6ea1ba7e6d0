//! INTERIM (lead's branch only): the signatures the "settings" and "totp" helpers are
//! building, so the sign-in flow compiles before their branches merge. Deleted at the merge.
#![allow(dead_code)]

use super::SignIn;
use super::settings::{DirectorySettings, LoginPreference, MfaMode};
use super::state::{MfaDevice, UserSignIn};
use crate::error::DomainError;
use crate::model::{DirectoryId, UserId};
use crate::store::keys::{Prefix, SigninSettingsKey};

impl SignIn {
    pub async fn settings(&self, dir: &DirectoryId) -> Result<DirectorySettings, DomainError> {
        let d = dir.to_string();
        self.read(move |txn| Ok(txn.get(SigninSettingsKey { dir: &d })?.unwrap_or_default()))
            .await
    }
    pub async fn service_enabled(&self) -> Result<bool, DomainError> {
        Ok(true)
    }
    pub async fn has_mfa_device(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<bool, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.read(move |txn| Ok(txn.any_under(Prefix::MfaDevicesOf { dir: &d, user: &u })?))
            .await
    }
    pub async fn add_device(
        &self,
        _dir: &DirectoryId,
        _user: &UserId,
        _name: &str,
        _secret: &str,
        _code: &str,
    ) -> Result<MfaDevice, DomainError> {
        Err(DomainError::Internal("interim".into()))
    }
    pub async fn check_code(
        &self,
        _dir: &DirectoryId,
        _user: &UserId,
        _code: &str,
    ) -> Result<bool, DomainError> {
        Ok(false)
    }
}

pub struct Enrollment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}
pub fn new_enrollment(_issuer: &str, _account_name: &str) -> Result<Enrollment, DomainError> {
    Err(DomainError::Internal("interim".into()))
}

impl LoginPreference {
    pub fn allows(&self, _ip: std::net::IpAddr) -> bool {
        true
    }
}

impl DirectorySettings {
    pub fn mfa_required(&self, user: &UserSignIn, has_device: bool) -> bool {
        match self.mfa {
            _ if !self.mfa_status_enabled => false,
            MfaMode::Disabled => false,
            MfaMode::Enabled => true,
            MfaMode::Byuser => user.mfa_enabled,
            MfaMode::OnlyRiskyLogin => has_device,
        }
    }
}

pub fn new_enrollment_with(
    _issuer: &str,
    _account_name: &str,
    _secret: &str,
) -> Result<Enrollment, DomainError> {
    Err(DomainError::Internal("interim".into()))
}

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
