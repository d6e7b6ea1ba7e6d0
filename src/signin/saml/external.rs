//! A directory's external SAML IdP: the customer's identity provider that cloudsso, as a SAML
//! service provider, trusts for portal sign-in (CloudSSO's `SetExternalSAMLIdentityProvider`
//! family). Owns the stored configuration (`saml_idps`, by directory) and its validation.
//! Must not import hyper.

use super::super::SignIn;
use crate::error::DomainError;
use crate::model::DirectoryId;
use crate::store::keys::SamlIdpKey;
use serde::{Deserialize, Serialize};

/// How the portal sends its AuthnRequest to the IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Binding {
    /// HTTP-POST: a form the browser posts to `LoginUrl`.
    #[default]
    Post,
    /// HTTP-Redirect: a 302 to `LoginUrl` with the deflated request in the query.
    Redirect,
}

/// One of the IdP's signing certificates (at most two, for rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpCertificate {
    /// `idp-c-...`.
    pub id: String,
    /// The certificate, DER in standard base64.
    pub der_b64: String,
}

/// A directory's external IdP as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalIdp {
    pub entity_id: String,
    /// Where AuthnRequests go (the IdP's SingleSignOnService for `binding`).
    pub login_url: String,
    pub binding: Binding,
    /// Whether AuthnRequests are signed with the directory's key.
    pub want_request_signed: bool,
    pub certificates: Vec<IdpCertificate>,
    /// The metadata document last uploaded (base64, as sent), if the IdP was configured
    /// from metadata.
    pub encoded_metadata: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

impl SignIn {
    /// Directory `dir`'s external IdP, if one is configured.
    pub async fn external_idp(
        &self,
        dir: &DirectoryId,
    ) -> Result<Option<ExternalIdp>, DomainError> {
        let d = dir.to_string();
        self.read(move |txn| Ok(txn.get(SamlIdpKey { dir: &d })?))
            .await
    }
}
