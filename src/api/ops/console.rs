//! Console sign-in (cloudsso's own operations, not in Alibaba's API): a directory's IdP
//! signing certificates, their rotation and its end, over `signin::saml`. A rotation or its
//! end re-registers the metadata with the directory's SAML provider in every account at once
//! (the engine's full pass would too, later). Each operation is one async fn, listed with its
//! resources in `HANDLERS`.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::resource::only::directory;
use super::{Ctx, Handler};
use crate::signin::saml::keys::IdpKeySet;
use serde_json::{Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(
        CloudSso,
        "GetIdPSigningCertificates",
        directory,
        get_certificates
    ),
    op!(
        CloudSso,
        "RotateIdPSigningCertificate",
        directory,
        rotate_certificate
    ),
    op!(
        CloudSso,
        "FinishIdPSigningCertificateRotation",
        directory,
        finish_rotation
    ),
];

/// The certificates as the answer lists them, current first, and the metadata URL.
fn certificates(ctx: &Ctx, dir: &str, set: &IdpKeySet) -> serde_json::Map<String, Value> {
    let list: Vec<Value> = set
        .published()
        .enumerate()
        .map(|(i, k)| {
            json!({
                "CertificateId": k.id,
                "Status": if i == 0 { "Current" } else { "Previous" },
                "NotBefore": k.not_before,
                "NotAfter": k.not_after,
                "X509Certificate": k.certificate,
            })
        })
        .collect();
    let mut out = serde_json::Map::new();
    let public = ctx.signin().public_url();
    out.insert("DirectoryId".into(), json!(dir));
    let entity = crate::signin::saml::entity_id(public, dir);
    out.insert("EntityId".into(), json!(entity));
    let url = format!("{public}/{dir}/saml/metadata.xml");
    out.insert("MetadataUrl".into(), json!(url));
    out.insert("Certificates".into(), Value::Array(list));
    out
}

/// The directory, which must exist (keys are made only for existing directories).
async fn existing(ctx: &Ctx, p: &Params) -> Result<String, ApiFault> {
    let d = p.directory_id()?;
    ctx.dir().directory(&d).await?;
    Ok(d.into_string())
}

async fn get_certificates(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = existing(ctx, p).await?;
    let set = ctx.signin().idp().key_set(&d).await?;
    Ok(Value::Object(certificates(ctx, &d, &set)))
}

async fn rotate_certificate(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = existing(ctx, p).await?;
    let set = ctx.signin().idp().rotate(&d).await?;
    let registered = ctx.access().refresh_saml_providers(&d).await?;
    let mut out = certificates(ctx, &d, &set);
    out.insert("UpdatedSAMLProviders".into(), json!(registered));
    Ok(Value::Object(out))
}

async fn finish_rotation(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = existing(ctx, p).await?;
    let set = ctx.signin().idp().finish_rotation(&d).await?;
    let registered = ctx.access().refresh_saml_providers(&d).await?;
    let mut out = certificates(ctx, &d, &set);
    out.insert("UpdatedSAMLProviders".into(), json!(registered));
    Ok(Value::Object(out))
}
