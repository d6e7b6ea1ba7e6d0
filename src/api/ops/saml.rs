//! CloudSSO's SAML operations (2021-05-15): a directory's external IdP (its configuration,
//! signing certificates and the SSO logon switch) and cloudsso's service provider side of it,
//! over `signin::saml`. Each operation decodes its parameters, calls one `SignIn` function and
//! shapes the answer. Must not decide a rule (metadata, certificate and SSO checks live in
//! `signin::saml::external`).

use super::super::error::ApiFault;
use super::super::params::Params;
use super::resource::only::directory;
use super::signin::{maybe_flag, maybe_spelled, status};
use super::{Ctx, Handler, shape};
use crate::signin::saml::external::{
    self, Binding, IdpChange, IdpState, SetIdpParams, SigningCertificate,
};
use crate::signin::saml::{sp, sp_metadata};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(
        CloudSso,
        "SetExternalSAMLIdentityProvider",
        directory,
        set_idp
    ),
    op!(
        CloudSso,
        "GetExternalSAMLIdentityProvider",
        directory,
        get_idp
    ),
    op!(
        CloudSso,
        "ClearExternalSAMLIdentityProvider",
        directory,
        clear_idp
    ),
    op!(
        CloudSso,
        "AddExternalSAMLIdPCertificate",
        directory,
        add_certificate
    ),
    op!(
        CloudSso,
        "RemoveExternalSAMLIdPCertificate",
        directory,
        remove_certificate
    ),
    op!(
        CloudSso,
        "ListExternalSAMLIdPCertificates",
        directory,
        list_certificates
    ),
    op!(
        CloudSso,
        "GetDirectorySAMLServiceProviderInfo",
        directory,
        get_sp_info
    ),
];

/// `SSOStatus`: `Enabled` or `Disabled`, absent keeps.
fn maybe_switch(p: &Params, name: &str) -> Result<Option<bool>, ApiFault> {
    Ok(p.maybe_one_of(name, &["Enabled", "Disabled"])?
        .map(|s| s == "Enabled"))
}

async fn set_idp(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    let change = IdpChange::parse(SetIdpParams {
        encoded_metadata: p.get("EncodedMetadataDocument"),
        entity_id: p.get("EntityId"),
        login_url: p.get("LoginUrl"),
        certificate: p.get("X509Certificate"),
        binding: maybe_spelled(p, "BindingType", Binding::ALL)?,
        want_request_signed: maybe_flag(p, "WantRequestSigned")?,
        sso: maybe_switch(p, "SSOStatus")?,
    })?;
    let state = ctx.signin().set_external_idp(&d, change).await?;
    Ok(json!({"SAMLIdentityProviderConfiguration": configuration(d.as_str(), &state)}))
}

async fn get_idp(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    let state = ctx.signin().idp_state(&d).await?;
    Ok(json!({"SAMLIdentityProviderConfiguration": configuration(d.as_str(), &state)}))
}

async fn clear_idp(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.signin().clear_external_idp(&p.directory_id()?).await?;
    Ok(json!({}))
}

async fn add_certificate(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    let cert = SigningCertificate::from_pem(p.required("X509Certificate")?)
        .map_err(|m| ApiFault::invalid("X509Certificate", m))?;
    let id = ctx.signin().add_idp_certificate(&d, cert).await?;
    Ok(json!({"CertificateId": id}))
}

async fn remove_certificate(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let id = p.id("CertificateId")?;
    ctx.signin()
        .remove_idp_certificate(&p.directory_id()?, id)
        .await?;
    Ok(json!({}))
}

async fn list_certificates(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let state = ctx.signin().idp_state(&p.directory_id()?).await?;
    let list: Vec<Value> = state
        .idp
        .iter()
        .flat_map(|i| &i.certificates)
        .map(|c| certificate(&c.id, &c.der_b64))
        .collect();
    Ok(json!({"TotalCounts": list.len(), "SAMLIdPCertificates": list}))
}

async fn get_sp_info(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    let metadata = ctx.signin().sp_metadata(&d).await?;
    let public = ctx.signin().public_url();
    Ok(json!({"SAMLServiceProvider": {
        "DirectoryId": d.as_str(),
        "EntityId": sp::sp_entity_id(public, d.as_str()),
        "AcsUrl": sp::acs_url(public, d.as_str()),
        "EncodedMetadataDocument": B64.encode(metadata),
        "AuthnSignAlgo": sp_metadata::AUTHN_SIGN_ALGO,
        "CertificateType": sp_metadata::CERTIFICATE_TYPE,
        "SupportEncryptedAssertion": false,
    }}))
}

/// `SAMLIdentityProviderConfiguration`: the switch and, once configured, the IdP (fields not
/// set yet are left out).
fn configuration(dir: &str, s: &IdpState) -> Value {
    let mut c = Map::new();
    c.insert("DirectoryId".into(), json!(dir));
    c.insert("SSOStatus".into(), json!(status(s.sso_enabled)));
    let Some(idp) = &s.idp else {
        c.insert("WantRequestSigned".into(), json!(false));
        c.insert("CertificateIds".into(), json!([]));
        return Value::Object(c);
    };
    if !idp.entity_id.is_empty() {
        c.insert("EntityId".into(), json!(idp.entity_id));
    }
    if !idp.login_url.is_empty() {
        c.insert("LoginUrl".into(), json!(idp.login_url));
    }
    c.insert("BindingType".into(), json!(idp.binding.as_str()));
    c.insert("WantRequestSigned".into(), json!(idp.want_request_signed));
    let ids: Vec<&str> = idp.certificates.iter().map(|c| c.id.as_str()).collect();
    c.insert("CertificateIds".into(), json!(ids));
    if let Some(m) = &idp.encoded_metadata {
        c.insert("EncodedMetadataDocument".into(), json!(m));
    }
    c.insert("CreateTime".into(), json!(shape::unix_time(idp.created_at)));
    c.insert("UpdateTime".into(), json!(shape::unix_time(idp.updated_at)));
    Value::Object(c)
}

/// An entry of `SAMLIdPCertificates`.
fn certificate(id: &str, der_b64: &str) -> Value {
    let mut c = json!({"CertificateId": id, "X509Certificate": der_b64});
    if let (Some(info), Some(o)) = (external::describe(der_b64), c.as_object_mut()) {
        o.insert("Issuer".into(), json!(info.issuer));
        o.insert("Subject".into(), json!(info.subject));
        o.insert("SerialNumber".into(), json!(info.serial_number));
        o.insert("NotBefore".into(), json!(shape::unix_time(info.not_before)));
        o.insert("NotAfter".into(), json!(shape::unix_time(info.not_after)));
        o.insert("PublicKey".into(), json!(info.public_key));
        o.insert("SignatureAlgorithm".into(), json!(info.signature_algorithm));
        o.insert("Version".into(), json!(info.version));
    }
    c
}
