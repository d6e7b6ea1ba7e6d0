//! A directory's external SAML IdP: the customer's identity provider that cloudsso, as a SAML
//! service provider, trusts for portal sign-in (CloudSSO's `SetExternalSAMLIdentityProvider`
//! family). Owns the stored configuration (`saml_idps`, by directory), its validation and the
//! SSO switch's rule: SSO logon (`DirectorySettings::sso_enabled`) is on only over a complete
//! configuration, written in the same job as the configuration it depends on.
//!
//! A pure core parses what the management API sends into types at the boundary (`EntityId`,
//! `LoginUrl`, `SigningCertificate`, `IdpMetadata`, `IdpChange`) and applies a change to an
//! `ExternalIdp`; the `SignIn` methods below each run one write job over it.
//!
//! INVARIANT: while `sso_enabled` is true, the directory's `ExternalIdp` exists and is
//! complete (an entity id, a login URL, at least one certificate): enabling checks it, a
//! change is checked against the switch it leaves, the last certificate cannot be removed and
//! the configuration cannot be cleared while SSO logon is on.
//!
//! Must not import hyper; must not verify a Response (that is `verify`).

use super::super::SignIn;
use super::super::settings::{DirectorySettings, need};
use super::super::state::now_unix;
use super::xml::{DS, MD};
use crate::directory::Dependents;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{DirectoryId, PrincipalId, new_prefixed_id};
use crate::store::WriteTxn;
use crate::store::keys::{SamlIdpKey, SigninSettingsKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest metadata document accepted, in bytes (after base64 decoding).
pub const METADATA_BYTES_MAX: usize = 256 * 1024;
/// Longest `EncodedMetadataDocument` value: the base64 of `METADATA_BYTES_MAX`, with 5% for
/// line breaks (base64 tools wrap at 64 or 76 columns).
pub const ENCODED_METADATA_BYTES_MAX: usize = METADATA_BYTES_MAX.div_ceil(3) * 4 * 21 / 20;
/// Most XML nodes in a metadata document (roxmltree's `nodes_limit`).
pub const METADATA_NODES_MAX: u32 = 10_000;
/// Most namespace declarations in a metadata document (see
/// `xml::RESPONSE_NAMESPACE_DECLARATIONS_MAX` for why; Entra ID's metadata has a few dozen).
pub const METADATA_NAMESPACE_DECLARATIONS_MAX: usize = 256;
/// Longest IdP entity id (SAML 2.0 core, section 8.3.6: a URI of at most 1024 characters).
pub const ENTITY_ID_CHARS_MAX: usize = 1024;
/// Longest login URL, in bytes.
pub const LOGIN_URL_BYTES_MAX: usize = 2048;
/// Most IdP signing certificates (CloudSSO's: two, so one can be rotated in).
pub const IDP_CERTIFICATES_MAX: usize = 2;
/// Smallest RSA modulus of an IdP signing key, in bits.
pub const RSA_KEY_BITS_MIN: usize = 2048;
/// Largest RSA modulus, in bits (the verifier's `rsa` crate refuses larger keys).
pub const RSA_KEY_BITS_MAX: usize = 4096;
/// Largest certificate, in bytes of DER.
pub const CERTIFICATE_DER_BYTES_MAX: usize = 8 * 1024;
/// Longest `X509Certificate` value (PEM text), in bytes.
pub const CERTIFICATE_PEM_BYTES_MAX: usize = 16 * 1024;
/// Most characters of a sent value quoted back in a message.
const EXCERPT_CHARS_MAX: usize = 40;

const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// `rsaEncryption`, the only key algorithm accepted.
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// How the portal sends its AuthnRequest to the IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Binding {
    /// HTTP-POST: a form the browser posts to `LoginUrl`.
    #[default]
    Post,
    /// HTTP-Redirect: a 302 to `LoginUrl` with the deflated request in the query.
    Redirect,
}

impl Binding {
    /// Every binding with its `BindingType` spelling.
    pub const ALL: &'static [(Binding, &'static str)] =
        &[(Binding::Post, "Post"), (Binding::Redirect, "Redirect")];

    /// The `BindingType` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Binding::Post => "Post",
            Binding::Redirect => "Redirect",
        }
    }

    /// The SAML binding URN metadata names it by.
    pub fn urn(self) -> &'static str {
        match self {
            Binding::Post => BINDING_POST,
            Binding::Redirect => BINDING_REDIRECT,
        }
    }
}

/// One of the IdP's signing certificates (at most two, for rotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpCertificate {
    /// `idp-c-...`.
    pub id: String,
    /// The certificate, DER in standard base64.
    pub der_b64: String,
}

/// A directory's external IdP as configured. A field set in manual mode may still be empty
/// (`entity_id`, `login_url`: `""`; no certificates) until SSO logon is enabled, which needs
/// all three (`missing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalIdp {
    pub entity_id: String,
    /// Where AuthnRequests go (the IdP's SingleSignOnService for `binding`).
    pub login_url: String,
    pub binding: Binding,
    /// Whether AuthnRequests are signed with the directory's key.
    pub want_request_signed: bool,
    pub certificates: Vec<IdpCertificate>,
    /// The metadata document last uploaded (base64, whitespace removed), if the IdP was
    /// configured from metadata.
    pub encoded_metadata: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

impl ExternalIdp {
    /// Nothing configured yet, as of `now`.
    fn unconfigured(now: i64) -> ExternalIdp {
        ExternalIdp {
            entity_id: String::new(),
            login_url: String::new(),
            binding: Binding::default(),
            want_request_signed: false,
            certificates: Vec::new(),
            encoded_metadata: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The parameters SSO logon still needs, by their API names (empty: complete).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.entity_id.is_empty() {
            out.push("EntityId");
        }
        if self.login_url.is_empty() {
            out.push("LoginUrl");
        }
        if self.certificates.is_empty() {
            out.push("X509Certificate");
        }
        out
    }
}

/// At most `EXCERPT_CHARS_MAX` characters of `s`, escaped, to quote in a message.
fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(EXCERPT_CHARS_MAX) {
        match c {
            '`' => out.push('\''),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    if s.chars().nth(EXCERPT_CHARS_MAX).is_some() {
        out.push_str("...");
    }
    out
}

fn invalid(param: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        param,
        message: message.into(),
    }
}

/// An IdP entity id: 1 to `ENTITY_ID_CHARS_MAX` characters, no whitespace or control
/// characters (a URI, typically a URL or a URN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityId(String);

impl EntityId {
    /// `s` as an entity id, or why not.
    pub fn parse(s: &str) -> Result<EntityId, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().count() > ENTITY_ID_CHARS_MAX {
            return Err(format!("must be at most {ENTITY_ID_CHARS_MAX} characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "`{}` must not contain spaces or control characters",
                excerpt(s)
            ));
        }
        Ok(EntityId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where AuthnRequests go: an absolute `http` or `https` URL with a host and no user
/// information, at most `LOGIN_URL_BYTES_MAX` bytes, without spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUrl(String);

impl LoginUrl {
    /// `s` as a login URL, or why not.
    pub fn parse(s: &str) -> Result<LoginUrl, String> {
        if s.len() > LOGIN_URL_BYTES_MAX {
            return Err(format!("must be at most {LOGIN_URL_BYTES_MAX} bytes"));
        }
        let not_url = || {
            format!(
                "`{}` is not an absolute http or https URL with a host",
                excerpt(s)
            )
        };
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "`{}` must not contain spaces or control characters",
                excerpt(s)
            ));
        }
        let lower = s.to_ascii_lowercase();
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|p| lower.starts_with(p))
            .ok_or_else(not_url)?;
        let rest = s.get(scheme.len()..).unwrap_or_default();
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(format!("`{}` must not carry user information", excerpt(s)));
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        if host.is_empty() {
            return Err(not_url());
        }
        Ok(LoginUrl(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IdP signing certificate that passed every check: an X.509 certificate (DER) whose key
/// is RSA of `RSA_KEY_BITS_MIN` to `RSA_KEY_BITS_MAX` bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    der: Vec<u8>,
}

impl SigningCertificate {
    /// A DER certificate, or why not.
    pub fn from_der(der: Vec<u8>) -> Result<SigningCertificate, String> {
        use x509_cert::der::{Decode, Encode};
        if der.len() > CERTIFICATE_DER_BYTES_MAX {
            return Err(format!(
                "the certificate is larger than {CERTIFICATE_DER_BYTES_MAX} bytes"
            ));
        }
        let cert = x509_cert::Certificate::from_der(&der)
            .map_err(|e| format!("not an X.509 certificate ({e})"))?;
        let spki = &cert.tbs_certificate.subject_public_key_info;
        let algorithm = spki.algorithm.oid.to_string();
        if algorithm != OID_RSA {
            return Err(format!(
                "the certificate's key is {}, not RSA",
                key_algorithm_name(&algorithm)
            ));
        }
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(|k| rsa::pkcs1::RsaPublicKey::from_der(k).ok())
            .map(|k| modulus_bits(k.modulus.as_bytes()))
            .ok_or("the certificate's RSA key is unreadable")?;
        if !(RSA_KEY_BITS_MIN..=RSA_KEY_BITS_MAX).contains(&bits) {
            return Err(format!(
                "the certificate's RSA key has {bits} bits; {RSA_KEY_BITS_MIN} to {RSA_KEY_BITS_MAX} are accepted"
            ));
        }
        // INVARIANT: the verifier reads the key the same way (`keys::certificate_key`).
        let spki_der = spki.to_der().map_err(|e| e.to_string())?;
        <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&spki_der)
            .map_err(|e| format!("the certificate's RSA key is unusable ({e})"))?;
        Ok(SigningCertificate { der })
    }

    /// The base64 of a DER certificate (whitespace ignored: metadata wraps it), or why not.
    pub fn from_base64(text: &str) -> Result<SigningCertificate, String> {
        if text.len() > CERTIFICATE_PEM_BYTES_MAX {
            return Err(format!(
                "the certificate is longer than {CERTIFICATE_PEM_BYTES_MAX} bytes"
            ));
        }
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = B64
            .decode(compact)
            .map_err(|_| "the certificate is not base64".to_owned())?;
        Self::from_der(der)
    }

    /// `X509Certificate`: one PEM `CERTIFICATE` block (text around it is ignored), or the
    /// base64 of the DER alone; no private key.
    pub fn from_pem(text: &str) -> Result<SigningCertificate, String> {
        use rustls_pemfile::Item;
        if text.len() > CERTIFICATE_PEM_BYTES_MAX {
            return Err(format!(
                "the certificate is longer than {CERTIFICATE_PEM_BYTES_MAX} bytes"
            ));
        }
        if !text.contains("-----BEGIN") {
            return Self::from_base64(text);
        }
        let mut certs = Vec::new();
        for item in rustls_pemfile::read_all(&mut text.as_bytes()) {
            match item {
                Ok(Item::X509Certificate(c)) => certs.push(c.to_vec()),
                Ok(Item::Pkcs1Key(_) | Item::Pkcs8Key(_) | Item::Sec1Key(_)) => {
                    return Err(
                        "holds a private key: give the IdP's certificate only (and keep the key secret)"
                            .into(),
                    );
                }
                Ok(_) => {}
                Err(_) => return Err("is not valid PEM".into()),
            }
        }
        match <[Vec<u8>; 1]>::try_from(certs) {
            Ok([der]) => Self::from_der(der),
            Err(certs) if certs.is_empty() => {
                Err("has no `-----BEGIN CERTIFICATE-----` block".into())
            }
            Err(certs) => Err(format!(
                "holds {} certificates; give one per call",
                certs.len()
            )),
        }
    }

    /// DER in standard base64, as stored and as metadata carries it.
    pub fn base64(&self) -> String {
        B64.encode(&self.der)
    }
}

/// Bits of a big-endian unsigned integer (leading zero bytes ignored).
fn modulus_bits(bytes: &[u8]) -> usize {
    let mut digits = bytes.iter().skip_while(|b| **b == 0);
    match digits.next() {
        Some(first) => {
            let rest = digits.count();
            rest * 8 + (8 - first.leading_zeros() as usize)
        }
        None => 0,
    }
}

/// A key algorithm OID as people name it.
fn key_algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.2.1" => "EC".into(),
        "1.2.840.10040.4.1" => "DSA".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        other => format!("`{}`", excerpt(other)),
    }
}

/// A signature algorithm OID as Java (and CloudSSO's answers) names it.
fn signature_algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.4" => "MD5withRSA",
        "1.2.840.113549.1.1.5" => "SHA1withRSA",
        "1.2.840.113549.1.1.11" => "SHA256withRSA",
        "1.2.840.113549.1.1.12" => "SHA384withRSA",
        "1.2.840.113549.1.1.13" => "SHA512withRSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.3.2" => "SHA256withECDSA",
        "1.2.840.10045.4.3.3" => "SHA384withECDSA",
        "1.2.840.10045.4.3.4" => "SHA512withECDSA",
        other => other,
    };
    name.to_owned()
}

/// What `ListExternalSAMLIdPCertificates` says of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// RFC 4514 (most specific first).
    pub issuer: String,
    pub subject: String,
    /// Decimal.
    pub serial_number: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The SubjectPublicKeyInfo, DER in base64 (a PEM public key's body).
    pub public_key: String,
    /// `SHA256withRSA` and the like (else the OID).
    pub signature_algorithm: String,
    /// 1 to 3.
    pub version: u8,
}

/// What a stored certificate (DER in base64) says, if it reads.
pub fn describe(der_b64: &str) -> Option<CertificateInfo> {
    use x509_cert::certificate::Version;
    use x509_cert::der::{Decode, Encode};
    let der = B64.decode(der_b64).ok()?;
    let cert = x509_cert::Certificate::from_der(&der).ok()?;
    let tbs = &cert.tbs_certificate;
    let unix = |t: x509_cert::time::Time| {
        let d = t.to_unix_duration();
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
    };
    Some(CertificateInfo {
        issuer: tbs.issuer.to_string(),
        subject: tbs.subject.to_string(),
        serial_number: decimal(tbs.serial_number.as_bytes()),
        not_before: unix(tbs.validity.not_before),
        not_after: unix(tbs.validity.not_after),
        public_key: B64.encode(tbs.subject_public_key_info.to_der().ok()?),
        signature_algorithm: signature_algorithm_name(&cert.signature_algorithm.oid.to_string()),
        version: match tbs.version {
            Version::V1 => 1,
            Version::V2 => 2,
            Version::V3 => 3,
        },
    })
}

/// A big-endian unsigned integer in decimal.
fn decimal(bytes: &[u8]) -> String {
    // Little-endian decimal digits, multiplied by 256 and added to per byte.
    let mut digits: Vec<u32> = Vec::new();
    for b in bytes {
        let mut carry = u32::from(*b);
        for d in digits.iter_mut() {
            let v = *d * 256 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push(carry % 10);
            carry /= 10;
        }
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits
        .iter()
        .rev()
        .filter_map(|d| char::from_digit(*d, 10))
        .collect()
}

/// What an IdP's metadata document says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: EntityId,
    pub login_url: LoginUrl,
    /// The binding of `login_url`'s SingleSignOnService.
    pub binding: Binding,
    /// The IDPSSODescriptor's `WantAuthnRequestsSigned`.
    pub want_request_signed: bool,
    /// One or two, distinct.
    pub certificates: Vec<SigningCertificate>,
}

const METADATA: &str = "EncodedMetadataDocument";

/// `EncodedMetadataDocument`: the base64 of a SAML 2.0 metadata document with one IdP entity
/// (an `md:EntityDescriptor`, or an `md:EntitiesDescriptor` holding exactly one entity with an
/// `IDPSSODescriptor`): its entity id, its SingleSignOnService for `binding` (absent: the
/// HTTP-Redirect one, else the HTTP-POST one), `WantAuthnRequestsSigned`, and its one or two
/// signing certificates (a `KeyDescriptor` with `use="signing"` or no `use`). Refused before
/// parsing: more than `METADATA_BYTES_MAX` bytes, not UTF-8, any DOCTYPE or ENTITY
/// declaration; while parsing: more than `METADATA_NODES_MAX` nodes.
pub fn parse_metadata(encoded: &str, binding: Option<Binding>) -> Result<IdpMetadata, DomainError> {
    let bad = |m: String| invalid(METADATA, m);
    if encoded.len() > ENCODED_METADATA_BYTES_MAX {
        return Err(bad(format!(
            "the document is larger than {METADATA_BYTES_MAX} bytes"
        )));
    }
    let compact: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = B64
        .decode(compact)
        .map_err(|_| bad("is not base64 (standard alphabet, padded)".into()))?;
    if bytes.len() > METADATA_BYTES_MAX {
        return Err(bad(format!(
            "the document is larger than {METADATA_BYTES_MAX} bytes"
        )));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| bad("is not UTF-8 text".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Err(bad(
            "must not contain a DOCTYPE or ENTITY declaration".into()
        ));
    }
    if super::xml::namespace_declarations(text) > METADATA_NAMESPACE_DECLARATIONS_MAX {
        return Err(bad(format!(
            "declares more than {METADATA_NAMESPACE_DECLARATIONS_MAX} namespaces"
        )));
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: METADATA_NODES_MAX,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => {
            bad(format!("has more than {METADATA_NODES_MAX} XML nodes"))
        }
        other => bad(format!(
            "is not well-formed XML ({})",
            excerpt(&other.to_string())
        )),
    })?;
    read_metadata(doc.root_element(), binding).map_err(bad)
}

/// The checked IdP of a parsed metadata document, or why not.
fn read_metadata(root: roxmltree::Node, binding: Option<Binding>) -> Result<IdpMetadata, String> {
    let entity = idp_entity(root)?;
    let idp = idp_descriptor(entity).ok_or("the EntityDescriptor has no md:IDPSSODescriptor")?;
    let protocols = idp.attribute("protocolSupportEnumeration").unwrap_or("");
    if !protocols.split_whitespace().any(|p| p == SAML2_PROTOCOL) {
        return Err(
            "the IDPSSODescriptor does not support SAML 2.0 (protocolSupportEnumeration)".into(),
        );
    }
    let entity_id = EntityId::parse(entity.attribute("entityID").unwrap_or(""))
        .map_err(|e| format!("entityID: {e}"))?;
    let (binding, location) = sso_service(idp, binding)?;
    let login_url =
        LoginUrl::parse(location).map_err(|e| format!("SingleSignOnService Location: {e}"))?;
    let want_request_signed = match idp.attribute("WantAuthnRequestsSigned") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(format!(
                "WantAuthnRequestsSigned `{}` is not a boolean",
                excerpt(other)
            ));
        }
    };
    Ok(IdpMetadata {
        entity_id,
        login_url,
        binding,
        want_request_signed,
        certificates: signing_certificates(idp)?,
    })
}

fn is_md(n: &roxmltree::Node, name: &str) -> bool {
    n.is_element() && n.has_tag_name((MD, name))
}

/// The entity that describes the IdP: the root `EntityDescriptor`, or the one entity with an
/// IDPSSODescriptor in a root `EntitiesDescriptor`.
fn idp_entity<'a, 'i>(root: roxmltree::Node<'a, 'i>) -> Result<roxmltree::Node<'a, 'i>, String> {
    if is_md(&root, "EntityDescriptor") {
        return Ok(root);
    }
    if !is_md(&root, "EntitiesDescriptor") {
        return Err(format!(
            "the root element must be md:EntityDescriptor or md:EntitiesDescriptor (in the SAML 2.0 metadata namespace), not `{}`",
            excerpt(root.tag_name().name())
        ));
    }
    let idps: Vec<roxmltree::Node> = root
        .descendants()
        .filter(|n| is_md(n, "EntityDescriptor") && idp_descriptor(*n).is_some())
        .collect();
    match idps.as_slice() {
        [one] => Ok(*one),
        [] => {
            Err("the EntitiesDescriptor holds no EntityDescriptor with an IDPSSODescriptor".into())
        }
        many => Err(format!(
            "the EntitiesDescriptor holds {} IdP entities; upload the metadata of one",
            many.len()
        )),
    }
}

fn idp_descriptor<'a, 'i>(entity: roxmltree::Node<'a, 'i>) -> Option<roxmltree::Node<'a, 'i>> {
    entity.children().find(|n| is_md(n, "IDPSSODescriptor"))
}

/// The SingleSignOnService of `wanted` (absent: HTTP-Redirect, else HTTP-POST): its binding
/// and Location.
fn sso_service<'a>(
    idp: roxmltree::Node<'a, '_>,
    wanted: Option<Binding>,
) -> Result<(Binding, &'a str), String> {
    let find = |b: Binding| -> Result<Option<(Binding, &'a str)>, String> {
        let Some(service) = idp
            .children()
            .find(|n| is_md(n, "SingleSignOnService") && n.attribute("Binding") == Some(b.urn()))
        else {
            return Ok(None);
        };
        let location = service
            .attribute("Location")
            .ok_or_else(|| format!("the {} SingleSignOnService has no Location", b.urn()))?;
        Ok(Some((b, location)))
    };
    match wanted {
        Some(b) => find(b)?.ok_or_else(|| {
            format!(
                "the IDPSSODescriptor has no SingleSignOnService with the {} binding (BindingType {})",
                b.urn(),
                b.as_str()
            )
        }),
        None => match find(Binding::Redirect)? {
            Some(found) => Ok(found),
            None => find(Binding::Post)?.ok_or_else(|| {
                "the IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding".into()
            }),
        },
    }
}

/// The IDPSSODescriptor's signing certificates (a `KeyDescriptor` with `use="signing"` or no
/// `use`; encryption keys are skipped): one or two distinct, each checked.
fn signing_certificates(idp: roxmltree::Node) -> Result<Vec<SigningCertificate>, String> {
    let mut texts: Vec<String> = Vec::new();
    for kd in idp.children().filter(|n| is_md(n, "KeyDescriptor")) {
        match kd.attribute("use") {
            None | Some("signing") => {}
            Some("encryption") => continue,
            Some(other) => {
                return Err(format!(
                    "KeyDescriptor use `{}` is neither signing nor encryption",
                    excerpt(other)
                ));
            }
        }
        for x in kd
            .descendants()
            .filter(|n| n.is_element() && n.has_tag_name((DS, "X509Certificate")))
        {
            let text: String = x
                .text()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            if !texts.contains(&text) {
                texts.push(text);
            }
        }
    }
    if texts.is_empty() {
        return Err("has no signing certificate (an md:KeyDescriptor with use=\"signing\" or no use, holding a ds:X509Certificate)".into());
    }
    if texts.len() > IDP_CERTIFICATES_MAX {
        return Err(format!(
            "has {} signing certificates; at most {IDP_CERTIFICATES_MAX} are allowed",
            texts.len()
        ));
    }
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            SigningCertificate::from_base64(t)
                .map_err(|e| format!("signing certificate {}: {e}", i + 1))
        })
        .collect()
}

/// `SetExternalSAMLIdentityProvider`'s parameters as sent (`None`: absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct SetIdpParams<'a> {
    pub encoded_metadata: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub login_url: Option<&'a str>,
    pub certificate: Option<&'a str>,
    pub binding: Option<Binding>,
    pub want_request_signed: Option<bool>,
    /// `SSOStatus`: `Enabled` is `Some(true)`.
    pub sso: Option<bool>,
}

/// Where a change's IdP settings come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdpSource {
    /// A metadata upload: replaces the whole configuration.
    Metadata {
        metadata: IdpMetadata,
        /// As sent, whitespace removed.
        encoded: String,
    },
    /// Manual fields: each one given replaces its value; a certificate replaces all.
    Manual {
        entity_id: Option<EntityId>,
        login_url: Option<LoginUrl>,
        certificate: Option<SigningCertificate>,
        binding: Option<Binding>,
    },
}

/// A `SetExternalSAMLIdentityProvider` call, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpChange {
    pub source: IdpSource,
    /// Given: replaces the value (also over what metadata says).
    pub want_request_signed: Option<bool>,
    /// `SSOStatus`: `Some(true)` turns SSO logon on, `Some(false)` off; absent keeps it.
    pub sso: Option<bool>,
}

impl IdpChange {
    /// The parameters as a change: a metadata document, or manual fields (not both).
    pub fn parse(p: SetIdpParams) -> Result<IdpChange, DomainError> {
        let source = match p.encoded_metadata {
            Some(encoded) => {
                for (param, given) in [
                    ("EntityId", p.entity_id),
                    ("LoginUrl", p.login_url),
                    ("X509Certificate", p.certificate),
                ] {
                    if given.is_some() {
                        return Err(invalid(
                            param,
                            "cannot be given with EncodedMetadataDocument (the metadata sets it)",
                        ));
                    }
                }
                IdpSource::Metadata {
                    metadata: parse_metadata(encoded, p.binding)?,
                    encoded: encoded
                        .chars()
                        .filter(|c| !c.is_ascii_whitespace())
                        .collect(),
                }
            }
            None => IdpSource::Manual {
                entity_id: p
                    .entity_id
                    .map(EntityId::parse)
                    .transpose()
                    .map_err(|m| invalid("EntityId", m))?,
                login_url: p
                    .login_url
                    .map(LoginUrl::parse)
                    .transpose()
                    .map_err(|m| invalid("LoginUrl", m))?,
                certificate: p
                    .certificate
                    .map(SigningCertificate::from_pem)
                    .transpose()
                    .map_err(|m| invalid("X509Certificate", m))?,
                binding: p.binding,
            },
        };
        Ok(IdpChange {
            source,
            want_request_signed: p.want_request_signed,
            sso: p.sso,
        })
    }

    /// Whether the change configures nothing (only the SSO switch, or not even that).
    fn configures_nothing(&self) -> bool {
        self.want_request_signed.is_none()
            && matches!(
                &self.source,
                IdpSource::Manual {
                    entity_id: None,
                    login_url: None,
                    certificate: None,
                    binding: None,
                }
            )
    }

    /// The configuration after this change over `current` (`None`: none yet), at `now`;
    /// `new_id` names new certificates (a certificate already configured keeps its id).
    pub fn apply(
        self,
        current: Option<ExternalIdp>,
        now: i64,
        new_id: &mut dyn FnMut() -> String,
    ) -> ExternalIdp {
        let mut idp = current.unwrap_or_else(|| ExternalIdp::unconfigured(now));
        match self.source {
            IdpSource::Metadata { metadata, encoded } => {
                idp.certificates = keep_ids(metadata.certificates, &idp.certificates, new_id);
                idp.entity_id = metadata.entity_id.0;
                idp.login_url = metadata.login_url.0;
                idp.binding = metadata.binding;
                idp.want_request_signed = metadata.want_request_signed;
                idp.encoded_metadata = Some(encoded);
            }
            IdpSource::Manual {
                entity_id,
                login_url,
                certificate,
                binding,
            } => {
                if let Some(e) = entity_id {
                    idp.entity_id = e.0;
                }
                if let Some(u) = login_url {
                    idp.login_url = u.0;
                }
                if let Some(c) = certificate {
                    idp.certificates = keep_ids(vec![c], &idp.certificates, new_id);
                }
                if let Some(b) = binding {
                    idp.binding = b;
                }
            }
        }
        if let Some(w) = self.want_request_signed {
            idp.want_request_signed = w;
        }
        idp.updated_at = now;
        idp
    }
}

/// `certs` as stored: each keeps the id it has in `old` (same DER), else gets a new one.
fn keep_ids(
    certs: Vec<SigningCertificate>,
    old: &[IdpCertificate],
    new_id: &mut dyn FnMut() -> String,
) -> Vec<IdpCertificate> {
    certs
        .into_iter()
        .map(|c| {
            let der_b64 = c.base64();
            let id = old
                .iter()
                .find(|o| o.der_b64 == der_b64)
                .map_or_else(&mut *new_id, |o| o.id.clone());
            IdpCertificate { id, der_b64 }
        })
        .collect()
}

/// Refuses SSO logon `on` over `idp` unless it is complete.
pub fn check_sso(idp: Option<&ExternalIdp>, on: bool) -> Result<(), DomainError> {
    if !on {
        return Ok(());
    }
    let missing = idp.map_or_else(
        || vec!["EntityId", "LoginUrl", "X509Certificate"],
        ExternalIdp::missing,
    );
    if missing.is_empty() {
        return Ok(());
    }
    Err(invalid(
        "SSOStatus",
        format!(
            "SSO logon needs a complete IdP configuration; missing: {}",
            missing.join(", ")
        ),
    ))
}

/// `idp` with `cert` added as `id`: refused when it already has it or has
/// `IDP_CERTIFICATES_MAX`.
pub fn add_certificate(
    mut idp: ExternalIdp,
    cert: &SigningCertificate,
    id: String,
    now: i64,
) -> Result<ExternalIdp, DomainError> {
    let der_b64 = cert.base64();
    if let Some(same) = idp.certificates.iter().find(|c| c.der_b64 == der_b64) {
        return Err(DomainError::AlreadyExists {
            entity: Entity::IdpCertificate,
            id: same.id.clone(),
        });
    }
    if idp.certificates.len() >= IDP_CERTIFICATES_MAX {
        return Err(DomainError::Quota {
            entity: Entity::IdpCertificate,
            max: IDP_CERTIFICATES_MAX,
        });
    }
    idp.certificates.push(IdpCertificate { id, der_b64 });
    idp.updated_at = now;
    Ok(idp)
}

/// `idp` without certificate `id`: refused when it has no such certificate, or when it is the
/// last one while SSO logon is on.
pub fn remove_certificate(
    mut idp: ExternalIdp,
    id: &str,
    sso_on: bool,
    now: i64,
) -> Result<ExternalIdp, DomainError> {
    let before = idp.certificates.len();
    idp.certificates.retain(|c| c.id != id);
    if idp.certificates.len() == before {
        return Err(DomainError::NotFound {
            entity: Entity::IdpCertificate,
            id: id.to_owned(),
        });
    }
    if sso_on && idp.certificates.is_empty() {
        return Err(DomainError::Conflict {
            rule: Conflict::SsoEnabled,
            message: format!(
                "certificate `{id}` is the IdP's last one and SSO logon is enabled; add another or disable SSO logon first"
            ),
        });
    }
    idp.updated_at = now;
    Ok(idp)
}

/// A new certificate id: `idp-c-` and 20 lowercase alphanumerics.
fn new_certificate_id() -> String {
    new_prefixed_id("idp-c-", 20)
}

/// A directory's external IdP and SSO switch, as the management API shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpState {
    pub idp: Option<ExternalIdp>,
    pub sso_enabled: bool,
}

/// The directory `d`'s IdP and settings in a write job (`NotFound` without the directory).
fn load(txn: &WriteTxn, d: &str) -> Result<(Option<ExternalIdp>, DirectorySettings), DomainError> {
    need(txn.directory(d)?.is_some(), Entity::Directory, d)?;
    let idp = txn.get(SamlIdpKey { dir: d })?;
    let settings = txn.get(SigninSettingsKey { dir: d })?.unwrap_or_default();
    Ok((idp, settings))
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

    /// `GetExternalSAMLIdentityProvider`: the IdP (if any) and the SSO switch of an existing
    /// directory.
    pub async fn idp_state(&self, dir: &DirectoryId) -> Result<IdpState, DomainError> {
        let d = dir.to_string();
        self.read(move |txn| {
            need(txn.directory(&d)?.is_some(), Entity::Directory, &d)?;
            let settings: DirectorySettings =
                txn.get(SigninSettingsKey { dir: &d })?.unwrap_or_default();
            Ok(IdpState {
                idp: txn.get(SamlIdpKey { dir: &d })?,
                sso_enabled: settings.sso_enabled,
            })
        })
        .await
    }

    /// `SetExternalSAMLIdentityProvider`: applies `change` and its SSO switch in one job
    /// (SSO logon on only over a complete configuration).
    pub async fn set_external_idp(
        &self,
        dir: &DirectoryId,
        change: IdpChange,
    ) -> Result<IdpState, DomainError> {
        let d = dir.to_string();
        self.write(move |txn| {
            let (current, mut settings) = load(txn, &d)?;
            let sso = change.sso.unwrap_or(settings.sso_enabled);
            let idp = if current.is_none() && change.configures_nothing() {
                None
            } else {
                Some(change.apply(current, now_unix(), &mut new_certificate_id))
            };
            check_sso(idp.as_ref(), sso)?;
            if let Some(idp) = &idp {
                txn.put(SamlIdpKey { dir: &d }, idp)?;
            }
            if sso != settings.sso_enabled {
                settings.sso_enabled = sso;
                txn.put(SigninSettingsKey { dir: &d }, &settings)?;
            }
            Ok(IdpState {
                idp,
                sso_enabled: sso,
            })
        })
        .await
    }

    /// `ClearExternalSAMLIdentityProvider`: forgets the IdP (nothing to do when there is
    /// none); refused while SSO logon is enabled.
    pub async fn clear_external_idp(&self, dir: &DirectoryId) -> Result<(), DomainError> {
        let d = dir.to_string();
        self.write(move |txn| {
            let (_, settings) = load(txn, &d)?;
            if settings.sso_enabled {
                return Err(DomainError::Conflict {
                    rule: Conflict::SsoEnabled,
                    message: "the IdP configuration cannot be cleared while SSO logon is enabled; set SSOStatus to Disabled first".into(),
                });
            }
            txn.delete(SamlIdpKey { dir: &d })?;
            Ok(())
        })
        .await
    }

    /// `AddExternalSAMLIdPCertificate`: the new certificate's id.
    pub async fn add_idp_certificate(
        &self,
        dir: &DirectoryId,
        cert: SigningCertificate,
    ) -> Result<String, DomainError> {
        let d = dir.to_string();
        self.write(move |txn| {
            let (current, _) = load(txn, &d)?;
            let now = now_unix();
            let id = new_certificate_id();
            let current = current.unwrap_or_else(|| ExternalIdp::unconfigured(now));
            let idp = add_certificate(current, &cert, id.clone(), now)?;
            txn.put(SamlIdpKey { dir: &d }, &idp)?;
            Ok(id)
        })
        .await
    }

    /// `RemoveExternalSAMLIdPCertificate`.
    pub async fn remove_idp_certificate(
        &self,
        dir: &DirectoryId,
        id: &str,
    ) -> Result<(), DomainError> {
        let (d, id) = (dir.to_string(), id.to_owned());
        self.write(move |txn| {
            let (current, settings) = load(txn, &d)?;
            let current = current.ok_or_else(|| DomainError::NotFound {
                entity: Entity::IdpCertificate,
                id: id.clone(),
            })?;
            let idp = remove_certificate(current, &id, settings.sso_enabled, now_unix())?;
            txn.put(SamlIdpKey { dir: &d }, &idp)?;
            Ok(())
        })
        .await
    }

    /// What the directory must ask before it deletes a directory: `then`'s questions, and
    /// whether the directory still has an external IdP configuration.
    pub fn dependents(&self, then: Arc<dyn Dependents>) -> Arc<dyn Dependents> {
        Arc::new(IdpDependents { then })
    }
}

/// Sign-in's answer to the directory's deletion checks, before another part's.
#[derive(Debug)]
struct IdpDependents {
    then: Arc<dyn Dependents>,
}

impl Dependents for IdpDependents {
    fn check_principal(
        &self,
        txn: &WriteTxn,
        dir: &str,
        id: &PrincipalId,
    ) -> Result<(), DomainError> {
        self.then.check_principal(txn, dir, id)
    }

    fn check_directory(&self, txn: &WriteTxn, dir: &str) -> Result<(), DomainError> {
        if txn
            .get::<serde::de::IgnoredAny>(SamlIdpKey { dir })?
            .is_some()
        {
            return Err(DomainError::Conflict {
                rule: Conflict::DirectoryHasExternalIdp,
                message: format!(
                    "directory `{dir}` still has an external SAML IdP configuration; clear it first (ClearExternalSAMLIdentityProvider)"
                ),
            });
        }
        self.then.check_directory(txn, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    use std::sync::OnceLock;
    use x509_cert::der::asn1::{BitString, ObjectIdentifier, UintRef};
    use x509_cert::der::{Any, Encode};
    use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

    /// One 2048-bit key per test binary (generation takes a while): it signs every test
    /// certificate.
    fn signer() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap())
    }

    /// A certificate for `spki`, `CN=<cn>`, signed by `signer()`.
    fn cert_for(spki: SubjectPublicKeyInfoOwned, cn: &str) -> Vec<u8> {
        use std::str::FromStr;
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signer().clone());
        let serial = x509_cert::serial_number::SerialNumber::new(&[0x01, 0x00]).unwrap();
        let validity =
            x509_cert::time::Validity::from_now(std::time::Duration::from_secs(86_400)).unwrap();
        let subject = x509_cert::name::Name::from_str(&format!("CN={cn},O=Test IdP")).unwrap();
        CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signing)
            .unwrap()
            .build::<rsa::pkcs1v15::Signature>()
            .unwrap()
            .to_der()
            .unwrap()
    }

    fn spki_of(key: &RsaPrivateKey) -> SubjectPublicKeyInfoOwned {
        let der = rsa::RsaPublicKey::from(key).to_public_key_der().unwrap();
        SubjectPublicKeyInfoOwned::try_from(der.as_bytes()).unwrap()
    }

    /// An SPKI of algorithm `oid` holding `key` (not necessarily a real key).
    fn fake_spki(oid: &str, key: &[u8]) -> SubjectPublicKeyInfoOwned {
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap(oid),
                parameters: Some(Any::null()),
            },
            subject_public_key: BitString::from_bytes(key).unwrap(),
        }
    }

    /// An RSA SPKI with an odd modulus of exactly `bits` bits (not a real key: the checks
    /// read its size only).
    fn rsa_spki_of_bits(bits: usize) -> SubjectPublicKeyInfoOwned {
        let mut n = vec![0xffu8; bits.div_ceil(8)];
        let top = bits % 8;
        if top != 0 {
            n[0] = 0xff >> (8 - top);
        }
        let pk = rsa::pkcs1::RsaPublicKey {
            modulus: UintRef::new(&n).unwrap(),
            public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
        };
        fake_spki(OID_RSA, &pk.to_der().unwrap())
    }

    /// A real RSA certificate of `bits` bits, base64.
    fn rsa_cert(bits: usize, cn: &str) -> String {
        let spki = if bits == 2048 {
            spki_of(signer())
        } else {
            spki_of(&RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).unwrap())
        };
        B64.encode(cert_for(spki, cn))
    }

    fn second_cert() -> &'static str {
        static C: OnceLock<String> = OnceLock::new();
        C.get_or_init(|| {
            B64.encode(cert_for(
                spki_of(&RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap()),
                "second",
            ))
        })
    }

    fn first_cert() -> &'static str {
        static C: OnceLock<String> = OnceLock::new();
        C.get_or_init(|| rsa_cert(2048, "first"))
    }

    fn pem(b64: &str) -> String {
        let body: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            body.join("\n")
        )
    }

    #[test]
    fn entity_ids_on_both_sides_of_their_limits() {
        let at_max = "e".repeat(ENTITY_ID_CHARS_MAX);
        let past = "e".repeat(ENTITY_ID_CHARS_MAX + 1);
        let cases: [(&str, Result<(), &str>); 6] = [
            ("https://idp.example/metadata", Ok(())),
            ("urn:example:idp", Ok(())),
            (&at_max, Ok(())),
            (&past, Err("at most 1024")),
            ("", Err("empty")),
            ("https://idp.example/a b", Err("spaces")),
        ];
        for (s, want) in cases {
            match (EntityId::parse(s), want) {
                (Ok(e), Ok(())) => assert_eq!(e.as_str(), s),
                (Err(m), Err(w)) => assert!(m.contains(w), "{s}: {m}"),
                (got, want) => panic!("{s}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn login_urls_are_absolute_http_urls_within_their_limit() {
        let prefix = "https://idp.example/";
        let at_max = format!("{prefix}{}", "a".repeat(LOGIN_URL_BYTES_MAX - prefix.len()));
        let past = format!("{at_max}a");
        let cases: [(&str, Result<(), &str>); 14] = [
            ("https://idp.example/sso/saml", Ok(())),
            ("http://localhost:8080/sso?app=1", Ok(())),
            ("HTTPS://IDP.EXAMPLE/SSO", Ok(())),
            ("https://[::1]:8443/sso", Ok(())),
            (&at_max, Ok(())),
            (&past, Err("at most 2048")),
            ("ftp://idp.example/sso", Err("not an absolute http")),
            ("javascript:alert(1)", Err("not an absolute http")),
            ("//idp.example/sso", Err("not an absolute http")),
            ("https://", Err("not an absolute http")),
            ("https:///path", Err("not an absolute http")),
            ("https://:443/", Err("not an absolute http")),
            ("https://user@idp.example/", Err("user information")),
            ("https://idp.example/ sso", Err("spaces")),
        ];
        for (s, want) in cases {
            match (LoginUrl::parse(s), want) {
                (Ok(u), Ok(())) => assert_eq!(u.as_str(), s),
                (Err(m), Err(w)) => assert!(m.contains(w), "{s}: {m}"),
                (got, want) => panic!("{s}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn certificates_need_an_rsa_key_of_2048_to_4096_bits() {
        let ec = rcgen::generate_simple_self_signed(vec!["idp".into()]).unwrap();
        let ed_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let ed = rcgen::CertificateParams::new(vec!["idp".into()])
            .unwrap()
            .self_signed(&ed_key)
            .unwrap();
        let cases: Vec<(&str, Vec<u8>, Result<(), &str>)> = vec![
            ("real 2048", B64.decode(first_cert()).unwrap(), Ok(())),
            ("2048", cert_for(rsa_spki_of_bits(2048), "x"), Ok(())),
            ("4096", cert_for(rsa_spki_of_bits(4096), "x"), Ok(())),
            (
                "2047",
                cert_for(rsa_spki_of_bits(2047), "x"),
                Err("has 2047 bits"),
            ),
            (
                "4097",
                cert_for(rsa_spki_of_bits(4097), "x"),
                Err("has 4097 bits"),
            ),
            (
                "1024",
                cert_for(rsa_spki_of_bits(1024), "x"),
                Err("has 1024 bits"),
            ),
            ("EC", ec.cert.der().to_vec(), Err("is EC, not RSA")),
            ("Ed25519", ed.der().to_vec(), Err("is Ed25519, not RSA")),
            (
                "DSA",
                cert_for(fake_spki("1.2.840.10040.4.1", &[2, 1, 5]), "x"),
                Err("is DSA, not RSA"),
            ),
            (
                "RSA key unreadable",
                cert_for(fake_spki(OID_RSA, &[1, 2, 3]), "x"),
                Err("unreadable"),
            ),
            ("not a certificate", b"hello".to_vec(), Err("not an X.509")),
            (
                "too large",
                vec![0x30; CERTIFICATE_DER_BYTES_MAX + 1],
                Err("larger than 8192"),
            ),
        ];
        for (name, der, want) in cases {
            match (SigningCertificate::from_der(der.clone()), want) {
                (Ok(c), Ok(())) => assert_eq!(c.base64(), B64.encode(&der), "{name}"),
                (Err(m), Err(w)) => assert!(m.contains(w), "{name}: {m}"),
                (got, want) => panic!("{name}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn pem_certificates_one_block_and_no_key() {
        let one = pem(first_cert());
        let two = format!("{}{}", pem(first_cert()), pem(second_cert()));
        let key = signer().to_pkcs8_pem(Default::default()).unwrap();
        let with_key = format!("{one}{}", key.as_str());
        let chatty = format!("Subject: CN=first\n{one}trailing words\n");
        let long = format!("{one}{}", " ".repeat(CERTIFICATE_PEM_BYTES_MAX));
        let cases: [(&str, &str, Result<(), &str>); 9] = [
            ("one block", &one, Ok(())),
            ("text around it", &chatty, Ok(())),
            ("bare base64", first_cert(), Ok(())),
            ("two blocks", &two, Err("holds 2 certificates")),
            ("private key", &with_key, Err("private key")),
            (
                "other block",
                "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                Err("no `-----BEGIN CERTIFICATE-----`"),
            ),
            ("not base64", "not a certificate!", Err("not base64")),
            ("base64 of junk", "aGVsbG8=", Err("not an X.509")),
            ("too long", &long, Err("longer than 16384")),
        ];
        for (name, text, want) in cases {
            match (SigningCertificate::from_pem(text), want) {
                (Ok(c), Ok(())) => assert_eq!(c.base64(), first_cert(), "{name}"),
                (Err(m), Err(w)) => assert!(m.contains(w), "{name}: {m}"),
                (got, want) => panic!("{name}: {got:?}, want {want:?}"),
            }
        }
    }

    /// An IdP metadata document.
    struct Doc<'a> {
        entity: &'a str,
        services: &'a [(&'a str, &'a str)],
        keys: &'a [(Option<&'a str>, &'a str)],
        want_signed: Option<&'a str>,
        protocols: &'a str,
        extra: &'a str,
    }

    impl Default for Doc<'_> {
        fn default() -> Self {
            Doc {
                entity: "https://idp.example/metadata",
                services: &[
                    (BINDING_POST, "https://idp.example/sso/post"),
                    (BINDING_REDIRECT, "https://idp.example/sso/redirect"),
                ],
                keys: &[],
                want_signed: None,
                protocols: SAML2_PROTOCOL,
                extra: "",
            }
        }
    }

    impl Doc<'_> {
        fn xml(&self) -> String {
            let mut out = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{}">{}<md:IDPSSODescriptor protocolSupportEnumeration="{}"{}>"#,
                self.entity,
                self.extra,
                self.protocols,
                self.want_signed
                    .map(|w| format!(r#" WantAuthnRequestsSigned="{w}""#))
                    .unwrap_or_default()
            );
            for (usage, cert) in self.keys {
                let usage = usage.map(|u| format!(r#" use="{u}""#)).unwrap_or_default();
                out.push_str(&format!(
                    "<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n{cert}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
                ));
            }
            for (binding, location) in self.services {
                out.push_str(&format!(
                    r#"<md:SingleSignOnService Binding="{binding}" Location="{location}"/>"#
                ));
            }
            out.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>");
            out
        }

        fn encoded(&self) -> String {
            B64.encode(self.xml())
        }
    }

    fn parse(xml: &str, binding: Option<Binding>) -> Result<IdpMetadata, String> {
        parse_metadata(&B64.encode(xml), binding).map_err(|e| e.to_string())
    }

    #[test]
    fn metadata_gives_entity_login_url_binding_and_signing_certificates() {
        let (a, b) = (first_cert(), second_cert());
        let doc = Doc {
            keys: &[(Some("signing"), a), (None, b), (Some("encryption"), b)],
            ..Doc::default()
        };
        let m = parse(&doc.xml(), None).unwrap();
        assert_eq!(m.entity_id.as_str(), "https://idp.example/metadata");
        assert_eq!(
            (m.login_url.as_str(), m.binding),
            ("https://idp.example/sso/redirect", Binding::Redirect)
        );
        assert!(!m.want_request_signed);
        let certs: Vec<String> = m
            .certificates
            .iter()
            .map(SigningCertificate::base64)
            .collect();
        assert_eq!(certs, [a, b]);
        // Asked for Post; only Post offered; wrapped base64; WantAuthnRequestsSigned.
        let m = parse(&doc.xml(), Some(Binding::Post)).unwrap();
        assert_eq!(
            (m.login_url.as_str(), m.binding),
            ("https://idp.example/sso/post", Binding::Post)
        );
        let post_only = Doc {
            keys: &[(None, a)],
            services: &[(BINDING_POST, "https://idp.example/p")],
            want_signed: Some("true"),
            ..Doc::default()
        };
        let wrapped: String = post_only
            .encoded()
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
            .collect();
        let m = parse_metadata(&wrapped, None).unwrap();
        assert_eq!(m.binding, Binding::Post);
        assert!(m.want_request_signed);
        let e = parse(&post_only.xml(), Some(Binding::Redirect)).unwrap_err();
        assert!(e.contains("no SingleSignOnService with the urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect binding"), "{e}");
        // The same certificate twice is one certificate.
        let twice = Doc {
            keys: &[(None, a), (Some("signing"), a)],
            ..Doc::default()
        };
        assert_eq!(parse(&twice.xml(), None).unwrap().certificates.len(), 1);
    }

    #[test]
    fn metadata_refusals_name_what_is_wrong() {
        let (a, b) = (first_cert(), second_cert());
        let third = rsa_cert(2048, "third");
        let small = rsa_cert(1024, "small");
        let ec = B64.encode(
            rcgen::generate_simple_self_signed(vec!["i".into()])
                .unwrap()
                .cert
                .der(),
        );
        let ok = Doc {
            keys: &[(None, a)],
            ..Doc::default()
        };
        let one = [(None, a)];
        let three = [(None, a), (None, b), (None, third.as_str())];
        let enc_only = [(Some("encryption"), a)];
        let small_key = [(None, small.as_str())];
        let ec_key = [(None, ec.as_str())];
        let odd_use = [(Some("both"), a)];
        let entities = |n: usize| {
            let idp = ok
                .xml()
                .replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "");
            let sp = format!(
                r#"<md:EntityDescriptor xmlns:md="{MD}" entityID="sp"><md:SPSSODescriptor protocolSupportEnumeration="{SAML2_PROTOCOL}"/></md:EntityDescriptor>"#
            );
            format!(
                r#"<md:EntitiesDescriptor xmlns:md="{MD}">{sp}{}</md:EntitiesDescriptor>"#,
                idp.repeat(n)
            )
        };
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "no signing certificate",
                Doc {
                    keys: &[],
                    ..Doc::default()
                }
                .xml(),
                "has no signing certificate",
            ),
            (
                "encryption only",
                Doc {
                    keys: &enc_only,
                    ..Doc::default()
                }
                .xml(),
                "has no signing certificate",
            ),
            (
                "three certificates",
                Doc {
                    keys: &three,
                    ..Doc::default()
                }
                .xml(),
                "has 3 signing certificates; at most 2",
            ),
            (
                "1024-bit key",
                Doc {
                    keys: &small_key,
                    ..Doc::default()
                }
                .xml(),
                "signing certificate 1: the certificate's RSA key has 1024 bits",
            ),
            (
                "EC key",
                Doc {
                    keys: &ec_key,
                    ..Doc::default()
                }
                .xml(),
                "is EC, not RSA",
            ),
            (
                "odd use",
                Doc {
                    keys: &odd_use,
                    ..Doc::default()
                }
                .xml(),
                "use `both`",
            ),
            (
                "no SSO service",
                Doc {
                    keys: &one,
                    services: &[],
                    ..Doc::default()
                }
                .xml(),
                "no SingleSignOnService with the HTTP-Redirect or HTTP-POST",
            ),
            (
                "SSO not http",
                Doc {
                    keys: &one,
                    services: &[(BINDING_POST, "ftp://idp/x")],
                    ..Doc::default()
                }
                .xml(),
                "SingleSignOnService Location: `ftp://idp/x` is not an absolute http",
            ),
            (
                "no entityID",
                Doc {
                    keys: &one,
                    entity: "",
                    ..Doc::default()
                }
                .xml(),
                "entityID: must not be empty",
            ),
            (
                "not SAML 2",
                Doc {
                    keys: &one,
                    protocols: "urn:oasis:names:tc:SAML:1.1:protocol",
                    ..Doc::default()
                }
                .xml(),
                "does not support SAML 2.0",
            ),
            (
                "bad boolean",
                Doc {
                    keys: &one,
                    want_signed: Some("yes"),
                    ..Doc::default()
                }
                .xml(),
                "WantAuthnRequestsSigned `yes`",
            ),
            (
                "DOCTYPE",
                ok.xml()
                    .replace("<md:EntityDescriptor", "<!DOCTYPE x><md:EntityDescriptor"),
                "DOCTYPE or ENTITY",
            ),
            (
                "doctype",
                ok.xml()
                    .replace("<md:EntityDescriptor", "<!doctype x><md:EntityDescriptor"),
                "DOCTYPE or ENTITY",
            ),
            (
                "ENTITY",
                ok.xml().replace(
                    "<md:EntityDescriptor",
                    "<!ENTITY x \"y\"><md:EntityDescriptor",
                ),
                "DOCTYPE or ENTITY",
            ),
            (
                "not XML",
                "this is not <xml".into(),
                "is not well-formed XML",
            ),
            (
                "other root",
                format!("<evil xmlns=\"{MD}x\">{}</evil>", "`".repeat(50)),
                "not `evil`",
            ),
            ("two IdPs", entities(2), "holds 2 IdP entities"),
            (
                "no IdP",
                entities(0),
                "holds no EntityDescriptor with an IDPSSODescriptor",
            ),
        ];
        for (name, xml, want) in cases {
            let e = parse(&xml, None).unwrap_err();
            assert!(
                e.starts_with("EncodedMetadataDocument: ") && e.contains(want),
                "{name}: {e}"
            );
        }
        // One IdP among other entities is the IdP.
        assert_eq!(parse(&entities(1), None).unwrap().certificates.len(), 1);
        for (name, raw, want) in [
            ("not base64", "%%%".to_owned(), "is not base64"),
            ("not UTF-8", B64.encode([0xff, 0xfe, 0x3c]), "is not UTF-8"),
        ] {
            let e = parse_metadata(&raw, None).unwrap_err().to_string();
            assert!(e.contains(want), "{name}: {e}");
        }
    }

    #[test]
    fn metadata_bytes_and_nodes_on_both_sides_of_their_limits() {
        let base = Doc {
            keys: &[(None, first_cert())],
            ..Doc::default()
        };
        // Bytes: a comment pads the document to the limit, then one past it.
        let plain = base.xml();
        let pad = METADATA_BYTES_MAX - plain.len() - "<!---->".len();
        let at_max = plain.replace(
            "<md:IDPSSODescriptor",
            &format!("<!--{}--><md:IDPSSODescriptor", "x".repeat(pad)),
        );
        assert_eq!(at_max.len(), METADATA_BYTES_MAX);
        assert!(parse(&at_max, None).is_ok());
        let past = at_max.replacen("<!--", "<!-- ", 1);
        let e = parse(&past, None).unwrap_err();
        assert!(e.contains("larger than 262144 bytes"), "{e}");
        let long = "A".repeat(ENCODED_METADATA_BYTES_MAX + 1);
        let e = parse_metadata(&long, None).unwrap_err().to_string();
        assert!(e.contains("larger than 262144 bytes"), "{e}");
        // Nodes: empty elements in md:Extensions up to the limit, then one more.
        let nodes = |extra: usize| {
            let d = Doc {
                extra: &format!("<md:Extensions>{}</md:Extensions>", "<x/>".repeat(extra)),
                keys: &[(None, first_cert())],
                ..Doc::default()
            };
            d.xml()
        };
        let counted = roxmltree::Document::parse(&nodes(0))
            .unwrap()
            .descendants()
            .count();
        let room = METADATA_NODES_MAX as usize - counted;
        assert!(parse(&nodes(room), None).is_ok());
        let e = parse(&nodes(room + 1), None).unwrap_err();
        assert!(e.contains("more than 10000 XML nodes"), "{e}");
    }

    fn manual(
        entity: Option<&str>,
        url: Option<&str>,
        cert: Option<&str>,
    ) -> SetIdpParams<'static> {
        // Leaked for the tests' 'static parameters.
        let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
        SetIdpParams {
            entity_id: entity.map(leak),
            login_url: url.map(leak),
            certificate: cert.map(leak),
            ..SetIdpParams::default()
        }
    }

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("idp-c-{n}")
        }
    }

    #[test]
    fn manual_changes_replace_only_what_they_name_and_a_certificate_replaces_all() {
        let mut ids = counter();
        let full = IdpChange::parse(manual(
            Some("https://idp.example/e"),
            Some("https://idp.example/sso"),
            Some(&pem(first_cert())),
        ))
        .unwrap()
        .apply(None, 100, &mut ids);
        assert_eq!(full.missing(), Vec::<&str>::new());
        assert_eq!(
            (full.binding, full.created_at, full.certificates.len()),
            (Binding::Post, 100, 1)
        );
        let two = add_certificate(
            full.clone(),
            &SigningCertificate::from_base64(second_cert()).unwrap(),
            "idp-c-x".into(),
            150,
        )
        .unwrap();
        // Only LoginUrl and WantRequestSigned: the rest stays.
        let mut p = manual(None, Some("https://idp.example/other"), None);
        p.want_request_signed = Some(true);
        let next = IdpChange::parse(p)
            .unwrap()
            .apply(Some(two.clone()), 200, &mut ids);
        assert_eq!(next.login_url, "https://idp.example/other");
        assert_eq!(
            (
                &next.entity_id,
                &next.certificates,
                next.want_request_signed
            ),
            (&two.entity_id, &two.certificates, true)
        );
        assert_eq!((next.created_at, next.updated_at), (100, 200));
        // X509Certificate replaces both; the same certificate keeps its id.
        let replaced = IdpChange::parse(manual(None, None, Some(second_cert())))
            .unwrap()
            .apply(Some(two), 300, &mut ids);
        assert_eq!(replaced.certificates.len(), 1);
        assert_eq!(replaced.certificates[0].id, "idp-c-x");
        // Refused values name their parameter.
        for (p, param) in [
            (manual(Some("a b"), None, None), "EntityId"),
            (manual(None, Some("idp.example/sso"), None), "LoginUrl"),
            (manual(None, None, Some("junk!")), "X509Certificate"),
        ] {
            let e = IdpChange::parse(p).unwrap_err().to_string();
            assert!(e.starts_with(param), "{e}");
        }
    }

    #[test]
    fn metadata_replaces_the_whole_configuration() {
        let mut ids = counter();
        let (a, b) = (first_cert(), second_cert());
        let current = IdpChange::parse(manual(
            Some("https://old.example/e"),
            Some("https://old.example/sso"),
            Some(a),
        ))
        .unwrap()
        .apply(None, 10, &mut ids);
        let doc = Doc {
            keys: &[(None, b), (None, a)],
            want_signed: Some("true"),
            ..Doc::default()
        };
        let encoded = doc.encoded();
        let p = SetIdpParams {
            encoded_metadata: Some(&encoded),
            binding: Some(Binding::Post),
            ..SetIdpParams::default()
        };
        let next = IdpChange::parse(p)
            .unwrap()
            .apply(Some(current.clone()), 20, &mut ids);
        assert_eq!(next.entity_id, "https://idp.example/metadata");
        assert_eq!(
            (
                next.login_url.as_str(),
                next.binding,
                next.want_request_signed
            ),
            ("https://idp.example/sso/post", Binding::Post, true)
        );
        let kept: Vec<&str> = next.certificates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(kept, ["idp-c-2", "idp-c-1"], "a's id stays");
        assert_eq!(next.encoded_metadata.as_deref(), Some(encoded.as_str()));
        // WantRequestSigned given overrides the metadata's.
        let p = SetIdpParams {
            encoded_metadata: Some(&encoded),
            want_request_signed: Some(false),
            ..SetIdpParams::default()
        };
        let next = IdpChange::parse(p)
            .unwrap()
            .apply(Some(current), 30, &mut ids);
        assert!(!next.want_request_signed);
        assert_eq!(next.binding, Binding::Redirect);
        // Manual fields do not go with a metadata document.
        for field in ["EntityId", "LoginUrl", "X509Certificate"] {
            let mut p = SetIdpParams {
                encoded_metadata: Some(&encoded),
                ..SetIdpParams::default()
            };
            match field {
                "EntityId" => p.entity_id = Some("e"),
                "LoginUrl" => p.login_url = Some("https://x/"),
                _ => p.certificate = Some(a),
            }
            let e = IdpChange::parse(p).unwrap_err().to_string();
            assert!(
                e.starts_with(field) && e.contains("EncodedMetadataDocument"),
                "{e}"
            );
        }
    }

    #[test]
    fn sso_needs_a_complete_configuration() {
        let mut ids = counter();
        let partial = IdpChange::parse(manual(Some("e"), None, None))
            .unwrap()
            .apply(None, 1, &mut ids);
        let cases: [(Option<&ExternalIdp>, bool, Result<(), &str>); 4] = [
            (None, false, Ok(())),
            (
                None,
                true,
                Err("missing: EntityId, LoginUrl, X509Certificate"),
            ),
            (
                Some(&partial),
                true,
                Err("missing: LoginUrl, X509Certificate"),
            ),
            (Some(&partial), false, Ok(())),
        ];
        for (idp, on, want) in cases {
            match (check_sso(idp, on), want) {
                (Ok(()), Ok(())) => {}
                (Err(e), Err(w)) => {
                    let e = e.to_string();
                    assert!(e.starts_with("SSOStatus") && e.contains(w), "{e}");
                }
                (got, want) => panic!("{idp:?} {on}: {got:?}, want {want:?}"),
            }
        }
        let full = IdpChange::parse(manual(None, Some("https://i/sso"), Some(first_cert())))
            .unwrap()
            .apply(Some(partial), 2, &mut ids);
        assert!(check_sso(Some(&full), true).is_ok());
        assert!(
            IdpChange::parse(SetIdpParams {
                sso: Some(true),
                ..SetIdpParams::default()
            })
            .unwrap()
            .configures_nothing()
        );
        assert!(
            !IdpChange::parse(SetIdpParams {
                want_request_signed: Some(false),
                ..SetIdpParams::default()
            })
            .unwrap()
            .configures_nothing()
        );
    }

    #[test]
    fn at_most_two_certificates_and_never_none_under_sso() {
        let a = SigningCertificate::from_base64(first_cert()).unwrap();
        let b = SigningCertificate::from_base64(second_cert()).unwrap();
        let c = SigningCertificate::from_base64(&rsa_cert(2048, "third")).unwrap();
        let one = add_certificate(ExternalIdp::unconfigured(1), &a, "idp-c-a".into(), 2).unwrap();
        let e = add_certificate(one.clone(), &a, "idp-c-z".into(), 3).unwrap_err();
        assert!(
            matches!(e, DomainError::AlreadyExists { entity: Entity::IdpCertificate, ref id } if id == "idp-c-a"),
            "{e:?}"
        );
        let two = add_certificate(one, &b, "idp-c-b".into(), 3).unwrap();
        assert_eq!(two.updated_at, 3);
        let e = add_certificate(two.clone(), &c, "idp-c-c".into(), 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at most 2 of ExternalSAMLIdPCertificate are allowed"
        );
        let e = remove_certificate(two.clone(), "idp-c-nope", false, 5).unwrap_err();
        assert!(
            matches!(
                e,
                DomainError::NotFound {
                    entity: Entity::IdpCertificate,
                    ..
                }
            ),
            "{e:?}"
        );
        let last = remove_certificate(two, "idp-c-a", true, 5).unwrap();
        let e = remove_certificate(last.clone(), "idp-c-b", true, 6).unwrap_err();
        assert!(
            matches!(
                e,
                DomainError::Conflict {
                    rule: Conflict::SsoEnabled,
                    ..
                }
            ),
            "{e:?}"
        );
        let none = remove_certificate(last, "idp-c-b", false, 6).unwrap();
        assert!(none.certificates.is_empty());
    }

    #[test]
    fn certificates_are_described_as_cloudsso_lists_them() {
        let info = describe(first_cert()).unwrap();
        assert_eq!(info.subject, "CN=first,O=Test IdP");
        assert_eq!(info.issuer, "CN=first,O=Test IdP");
        assert_eq!(info.serial_number, "256");
        assert_eq!(info.signature_algorithm, "SHA256withRSA");
        assert_eq!(info.version, 3);
        assert!(
            info.public_key
                .starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"),
            "{}",
            info.public_key
        );
        assert!(info.not_after - info.not_before >= 86_400 - 1);
        assert_eq!(describe("junk"), None);
        let cases: [(&[u8], &str); 4] = [
            (&[], "0"),
            (&[0], "0"),
            (&[0x01, 0x00], "256"),
            (
                &[0xff; 20],
                "1461501637330902918203684832716283019655932542975",
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decimal(bytes), want);
        }
        assert_eq!(modulus_bits(&[0, 0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[]), 0);
    }

    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(excerpt("a`b\nc"), "a'b\\nc");
        let long = excerpt(&"x".repeat(100));
        assert_eq!(long, format!("{}...", "x".repeat(EXCERPT_CHARS_MAX)));
    }
}
