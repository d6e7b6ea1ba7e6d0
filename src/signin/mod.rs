//! The sign-in wing: a directory's sign-in settings, passwords and lockout, TOTP MFA, portal
//! sessions, the account list a signed-in user sees, and console sign-in, where cloudsso is the
//! SAML identity provider of every account.
//!
//! Owns the sign-in tables (`signin_settings`, `signin_users`, `mfa_devices`, `sessions`,
//! `portal_prefs`, `idp_keys`, `saml_idps`, `device_codes`, `device_user_codes`, `device_tokens`). Must not import hyper (`http::signin` routes,
//! decodes and encodes); `directory`, `access` and `store` never import this module.
//!
//! - `settings`: per-directory settings (password policy, MFA, login preference, attribute
//!   passing, SSO switch) and the installation-wide service status; their validation.
//! - `state`: a user's sign-in record (password age and history, failures, lockout, TOTP
//!   replay guard, per-user MFA switch).
//! - `password`: checking and setting passwords under the policy.
//! - `flow`: the sign-in steps (password, forced change, MFA enrollment and codes) and the
//!   one answer every failure gets.
//! - `session`: portal sessions, checked whole on every request; their administration.
//! - `ratelimit`: attempt counters per source address and per user name.
//! - `portal`: the account list, favourites and last used.
//! - `follow`: follows the outbox: sessions end for good when their user is disabled or
//!   deleted.
//! - `sweep`: forgets expired sessions and what deleted users and directories left.
//! - `totp`: TOTP enrollment (secret, otpauth URI, QR SVG), one-time codes, a user's devices.
//! - `credentials`: temporary credentials (AccessKeyId, secret, sealed SecurityToken) for a
//!   user's account and access configuration, issued with no write, verified against
//!   effective access on every use.
//! - `decision`: the policy decision for a request signed with temporary credentials (pure:
//!   claims, standing, signature check, policies, action, resource, context -> a verdict).
//! - `device`: CLI sign-in by the device flow (CloudSSO's portal protocol): device
//!   authorizations approved in the portal, access tokens, the lists they open.
//! - `saml`: console sign-in as the accounts' SAML IdP (keys, metadata, the signed Response,
//!   console sites) and the embedded console's verification of a Response.

pub mod credentials;
pub mod decision;
pub mod device;
pub mod flow;
pub mod follow;
pub mod password;
pub mod portal;
pub mod ratelimit;
pub mod saml;
pub mod session;
pub mod settings;
pub mod state;
pub mod sweep;
pub mod totp;

use crate::access::Access;
use crate::config::Limits;
use crate::directory::Directory;
use crate::error::DomainError;
use crate::seal::Sealer;
use crate::store::{Db, ReadTxn, WriteTxn};
use std::sync::Arc;

/// First path segments the server's own routes use (now or planned: CLI sign-in, health,
/// metrics): a directory may not be named one of them, since its portal lives at
/// `/<DirectoryName>/login`.
pub const RESERVED_PATH_NAMES: &[&str] = &[
    "access-assignments",
    "api",
    "assignment",
    "authorize",
    "client",
    "cloud-credentials",
    "console",
    "device",
    "device-authorization",
    "federation",
    "healthz",
    "login",
    "logout",
    "metrics",
    "oauth2",
    "portal",
    "readyz",
    "saml",
    "saml-role",
    "scim",
    "sso",
    "static",
    "token",
];

/// A user's document as a transaction read it, or `NotFound`: `existing(txn.resource(..)?, id)`.
pub(crate) fn existing(
    doc: Option<serde_json::Value>,
    user: &str,
) -> Result<serde_json::Value, DomainError> {
    doc.ok_or_else(|| DomainError::NotFound {
        entity: crate::error::Entity::User,
        id: user.to_owned(),
    })
}

/// The sign-in service. Cheap to clone.
#[derive(Clone)]
pub struct SignIn {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    directory: Directory,
    access: Access,
    sealer: Sealer,
    limits: Limits,
    /// `<public-url>`, where the portal answers.
    public_url: String,
    /// Sign-in attempts by source address.
    per_source: ratelimit::Limiter,
    /// Sign-in attempts by user name (case-folded).
    per_user: ratelimit::Limiter,
    /// The IdP keys and metadata of console sign-in.
    idp: saml::IdpKeys,
    /// Assertion ids the embedded console accepted (replay guard).
    seen_assertions: saml::verify::SeenAssertions,
    /// When each device code was last polled (slows fast pollers before the store).
    device_polls: device::PollClock,
}

impl SignIn {
    pub fn new(
        db: Db,
        directory: Directory,
        access: Access,
        sealer: Sealer,
        limits: Limits,
        public_url: String,
    ) -> SignIn {
        let idp = saml::IdpKeys::new(db.clone(), sealer.clone(), &public_url);
        SignIn {
            inner: Arc::new(Inner {
                idp,
                seen_assertions: saml::verify::SeenAssertions::default(),
                device_polls: device::PollClock::default(),
                db,
                directory,
                access,
                sealer,
                per_source: ratelimit::Limiter::new(
                    limits.signin_attempts_per_source_per_minute,
                    ratelimit::RATE_LIMIT_KEYS_MAX,
                ),
                per_user: ratelimit::Limiter::new(
                    limits.signin_attempts_per_user_per_minute,
                    ratelimit::RATE_LIMIT_KEYS_MAX,
                ),
                limits,
                public_url: public_url.trim_end_matches('/').to_owned(),
            }),
        }
    }

    pub fn directory(&self) -> &Directory {
        &self.inner.directory
    }

    pub fn access(&self) -> &Access {
        &self.inner.access
    }

    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// `<public-url>` (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// Whether the portal is served over https (cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.inner.public_url.starts_with("https://")
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ReadTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.inner.db.read(f).await
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&WriteTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.inner.db.write(f).await
    }
}
