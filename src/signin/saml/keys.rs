//! A directory's IdP signing keys: an RSA 2048 key pair and its self-signed X.509 certificate
//! (SHA-256 with RSA), made on first need, stored under `IdpKeysKey{dir}` with the private key
//! sealed, and rotated: rotation makes a new current key and keeps the previous certificate
//! published until the next rotation or `finish_rotation`. Also the IdP metadata document
//! that lists every published certificate.
//!
//! Pure Rust: `rsa` for the keys and signatures, `x509-cert`'s builder for the certificate.
//! Owns the `idp_keys` records. Must not log or return a private key.

use super::xml::{DS, El, MD};
use crate::error::DomainError;
use crate::model::{fill_random, format_rfc3339, new_prefixed_id};
use crate::seal::Sealer;
use crate::store::Db;
use crate::store::keys::IdpKeysKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Modulus size of a new signing key.
pub const IDP_KEY_BITS: usize = 2048;
/// How long a new signing certificate is valid (SAML metadata certificates are trusted as
/// published, not by chain; rotation is how they are replaced).
pub const IDP_CERT_VALIDITY_DAYS: u64 = 3650;

/// One signing key: its id, the sealed PKCS#8 private key and the certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdpKey {
    /// `idpkey-` and 16 alphanumerics.
    pub id: String,
    /// `seal("idp/<dir>/<id>", base64(PKCS#8 DER))`.
    sealed_key: String,
    /// The certificate, DER in base64 (the `ds:X509Certificate` text).
    pub certificate: String,
    pub not_before: String,
    pub not_after: String,
}

/// A directory's keys: the one that signs and the one still published after a rotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdpKeySet {
    pub current: IdpKey,
    pub previous: Option<IdpKey>,
}

impl IdpKeySet {
    /// Every published certificate, current first.
    pub fn published(&self) -> impl Iterator<Item = &IdpKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("{what}: {e}"))
}

fn seal_owner(dir: &str, key: &str) -> String {
    format!("idp/{dir}/{key}")
}

/// One RSA key made ahead of need, process-wide, and whether one is being made: generation
/// takes up to seconds, so a directory's first provisioning or sign-in should not wait for it.
static SPARE: Mutex<Option<RsaPrivateKey>> = Mutex::new(None);
static MAKING_SPARE: AtomicBool = AtomicBool::new(false);

fn new_rsa() -> Result<RsaPrivateKey, DomainError> {
    let mut rng = rsa::rand_core::OsRng;
    RsaPrivateKey::new(&mut rng, IDP_KEY_BITS).map_err(|e| internal("rsa", e))
}

/// Starts making the spare key on a thread of its own, unless there is one or one is being
/// made.
pub fn prefetch() {
    let has = SPARE.lock().map(|s| s.is_some()).unwrap_or(true);
    if has || MAKING_SPARE.swap(true, Ordering::SeqCst) {
        return;
    }
    let started = std::thread::Builder::new()
        .name("idp-keygen".into())
        .spawn(|| {
            if let (Ok(k), Ok(mut spare)) = (new_rsa(), SPARE.lock()) {
                *spare = Some(k);
            }
            MAKING_SPARE.store(false, Ordering::SeqCst);
        });
    if started.is_err() {
        MAKING_SPARE.store(false, Ordering::SeqCst);
    }
}

/// The spare key (then another is started), or a new one made now.
fn take_rsa() -> Result<RsaPrivateKey, DomainError> {
    let spare = SPARE.lock().ok().and_then(|mut s| s.take());
    prefetch();
    match spare {
        Some(k) => Ok(k),
        None => new_rsa(),
    }
}

/// A new key pair and certificate for `dir` (slow unless a spare key is ready).
pub fn generate(dir: &str, sealer: &Sealer) -> Result<IdpKey, DomainError> {
    let private = take_rsa()?;
    let id = new_prefixed_id("idpkey-", 16);
    let (certificate, not_before, not_after) = self_signed(dir, &private)?;
    let der = private.to_pkcs8_der().map_err(|e| internal("pkcs8", e))?;
    Ok(IdpKey {
        sealed_key: sealer.seal(&seal_owner(dir, &id), &B64.encode(der.as_bytes())),
        id,
        certificate: B64.encode(certificate),
        not_before,
        not_after,
    })
}

/// A self-signed certificate of `private`'s public key: DER, not-before, not-after.
fn self_signed(
    dir: &str,
    private: &RsaPrivateKey,
) -> Result<(Vec<u8>, String, String), DomainError> {
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::Encode;
    let signer = SigningKey::<Sha256>::new(private.clone());
    let spki_der = RsaPublicKey::from(private)
        .to_public_key_der()
        .map_err(|e| internal("spki", e))?;
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes())
        .map_err(|e| internal("spki", e))?;
    let mut serial = [0u8; 16];
    fill_random(&mut serial);
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    let serial =
        x509_cert::serial_number::SerialNumber::new(&serial).map_err(|e| internal("serial", e))?;
    let days = Duration::from_secs(IDP_CERT_VALIDITY_DAYS * 86_400);
    let validity = x509_cert::time::Validity::from_now(days).map_err(|e| internal("time", e))?;
    let subject = x509_cert::name::Name::from_str(&format!("CN=cloudsso IdP {dir},O=cloudsso"))
        .map_err(|e| internal("name", e))?;
    let (nb, na) = (validity.not_before, validity.not_after);
    let cert = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer)
        .map_err(|e| internal("certificate", e))?
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| internal("certificate", e))?;
    let der = cert.to_der().map_err(|e| internal("certificate", e))?;
    Ok((der, rfc3339(nb), rfc3339(na)))
}

fn rfc3339(t: x509_cert::time::Time) -> String {
    let t = time::OffsetDateTime::from(t.to_system_time());
    format_rfc3339(t)
}

/// The signing key of `key`, unsealed.
pub fn signing_key(
    dir: &str,
    key: &IdpKey,
    sealer: &Sealer,
) -> Result<SigningKey<Sha256>, DomainError> {
    let b64 = sealer
        .open(&seal_owner(dir, &key.id), &key.sealed_key)
        .map_err(|e| internal("opening the IdP key", e))?;
    let der = B64.decode(b64).map_err(|e| internal("IdP key", e))?;
    let private = RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| internal("IdP key", e))?;
    Ok(SigningKey::<Sha256>::new(private))
}

/// The public key in a certificate (base64 DER, as metadata carries it), if it is RSA.
pub fn certificate_key(b64: &str) -> Option<RsaPublicKey> {
    use rsa::pkcs8::DecodePublicKey;
    use x509_cert::der::{Decode, Encode};
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let der = B64.decode(compact).ok()?;
    let cert = x509_cert::Certificate::from_der(&der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

/// The directory's keys, made and stored on first need (two racing first uses keep the one
/// stored first).
pub async fn key_set(db: &Db, sealer: &Sealer, dir: &str) -> Result<IdpKeySet, DomainError> {
    let d = dir.to_owned();
    let existing = db
        .read(move |txn| Ok::<_, DomainError>(txn.get::<IdpKeySet>(IdpKeysKey { dir: &d })?))
        .await?;
    if let Some(set) = existing {
        return Ok(set);
    }
    let fresh = new_key(dir, sealer).await?;
    let d = dir.to_owned();
    db.write(move |txn| {
        let k = IdpKeysKey { dir: &d };
        if let Some(set) = txn.get::<IdpKeySet>(k)? {
            return Ok(set);
        }
        let set = IdpKeySet {
            current: fresh,
            previous: None,
        };
        txn.put(k, &set)?;
        Ok(set)
    })
    .await
}

/// `generate` on the blocking pool.
async fn new_key(dir: &str, sealer: &Sealer) -> Result<IdpKey, DomainError> {
    let (d, s) = (dir.to_owned(), sealer.clone());
    tokio::task::spawn_blocking(move || generate(&d, &s))
        .await
        .map_err(|e| internal("key generation", e))?
}

/// Makes a new current key; the old current one stays published as the previous one (an
/// older previous one is dropped).
pub async fn rotate(db: &Db, sealer: &Sealer, dir: &str) -> Result<IdpKeySet, DomainError> {
    key_set(db, sealer, dir).await?;
    let fresh = new_key(dir, sealer).await?;
    let d = dir.to_owned();
    db.write(move |txn| {
        let k = IdpKeysKey { dir: &d };
        let old = txn
            .get::<IdpKeySet>(k)?
            .ok_or_else(|| DomainError::Internal("IdP keys vanished".into()))?;
        let set = IdpKeySet {
            current: fresh,
            previous: Some(old.current),
        };
        txn.put(k, &set)?;
        Ok(set)
    })
    .await
}

/// Stops publishing the previous certificate.
pub async fn finish_rotation(
    db: &Db,
    sealer: &Sealer,
    dir: &str,
) -> Result<IdpKeySet, DomainError> {
    key_set(db, sealer, dir).await?;
    let d = dir.to_owned();
    db.write(move |txn| {
        let k = IdpKeysKey { dir: &d };
        let mut set = txn
            .get::<IdpKeySet>(k)?
            .ok_or_else(|| DomainError::Internal("IdP keys vanished".into()))?;
        set.previous = None;
        txn.put(k, &set)?;
        Ok(set)
    })
    .await
}

/// The IdP metadata: `entity_id`, one signing `KeyDescriptor` per published certificate, the
/// persistent NameID format and `sso_url`.
pub fn metadata(entity_id: &str, sso_url: &str, set: &IdpKeySet) -> String {
    let mut idp = El::new("md", MD, "IDPSSODescriptor")
        .attr("WantAuthnRequestsSigned", "false")
        .attr(
            "protocolSupportEnumeration",
            "urn:oasis:names:tc:SAML:2.0:protocol",
        );
    for k in set.published() {
        let cert = El::new("ds", DS, "X509Certificate").text(k.certificate.clone());
        let info = El::new("ds", DS, "KeyInfo").child(El::new("ds", DS, "X509Data").child(cert));
        idp = idp.child(
            El::new("md", MD, "KeyDescriptor")
                .attr("use", "signing")
                .child(info),
        );
    }
    idp = idp
        .child(El::new("md", MD, "NameIDFormat").text(super::NAMEID_PERSISTENT))
        .child(
            El::new("md", MD, "SingleSignOnService")
                .attr(
                    "Binding",
                    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                )
                .attr("Location", sso_url),
        );
    El::new("md", MD, "EntityDescriptor")
        .attr("entityID", entity_id)
        .child(idp)
        .render()
}

/// What metadata says: the entity id and the signing certificates (base64 DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMetadata {
    pub entity_id: String,
    pub certificates: Vec<String>,
}

/// Reads IdP metadata (the document a SAML provider was registered with).
pub fn parse_metadata(doc: &str) -> Option<ParsedMetadata> {
    let doc = roxmltree::Document::parse(doc).ok()?;
    let root = doc.root_element();
    if !root.has_tag_name((MD, "EntityDescriptor")) {
        return None;
    }
    let entity_id = root.attribute("entityID")?.to_owned();
    let certificates = root
        .descendants()
        .filter(|n| n.has_tag_name((MD, "KeyDescriptor")))
        .filter(|n| n.attribute("use").is_none_or(|u| u == "signing"))
        .flat_map(|n| n.descendants())
        .filter(|n| n.has_tag_name((DS, "X509Certificate")))
        .filter_map(|n| n.text())
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).collect())
        .collect();
    Some(ParsedMetadata {
        entity_id,
        certificates,
    })
}
