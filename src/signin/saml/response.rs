//! The SAML Response cloudsso posts to a console (wave2 §A.2): an IdP-initiated Response
//! whose Assertion carries the persistent NameID, the bearer confirmation to the ACS, the
//! audience, the time window, the session length and the role attributes, with the Assertion
//! signed and then the Response signed (enveloped, exc-c14n, rsa-sha256, sha256 digest).
//!
//! Pure: time, ids and the key come in. Must not decide who may sign in (`console_sign_in`
//! does) and must not emit anything but canonical XML (`xml::El`).

use super::xml::{DS, El, SAML, SAMLP};
use super::{ConsoleSite, NAMEID_PERSISTENT};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const ATTR_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
const AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// How long a Response may be used (Conditions and SubjectConfirmationData `NotOnOrAfter`).
pub const RESPONSE_VALIDITY_SECONDS: i64 = 300;

/// Everything a Response says.
pub struct Claims<'a> {
    pub site: &'a ConsoleSite,
    pub issuer: &'a str,
    /// The NameID: the directory user id (role logon) or the RAM user's logon name (RAM
    /// user logon).
    pub subject: &'a str,
    pub account_id: &'a str,
    /// Seconds the console session may last.
    pub session_duration: u32,
    pub logon: Logon<'a>,
    pub now: OffsetDateTime,
}

/// What the Response signs the user in as.
pub enum Logon<'a> {
    /// A role, through the account's SAML provider (role-based SSO: the Role attributes).
    Role {
        role_name: &'a str,
        provider_name: &'a str,
        session_name: &'a str,
        source_identity: Option<String>,
    },
    /// The RAM user the NameID names (user-based SSO: no attributes).
    RamUser,
}

/// The NameID format of user-based SSO (the RAM user's logon name).
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// The signed Response, serialized (exc-c14n, no XML declaration).
pub fn signed_response(c: &Claims<'_>, key: &SigningKey<Sha256>, certificate: &str) -> String {
    let (response_id, assertion_id) = (new_id(), new_id());
    let mut assertion = assertion(c, &assertion_id);
    let sig = signature(&assertion, &assertion_id, key, certificate);
    assertion.insert(1, sig);
    let mut response = El::new("samlp", SAMLP, "Response")
        .attr("ID", response_id.clone())
        .attr("Version", "2.0")
        .attr("IssueInstant", instant(c.now))
        .attr("Destination", c.site.acs_url.clone())
        .child(El::new("saml", SAML, "Issuer").text(c.issuer))
        .child(
            El::new("samlp", SAMLP, "Status")
                .child(El::new("samlp", SAMLP, "StatusCode").attr("Value", STATUS_SUCCESS)),
        )
        .child(assertion);
    let sig = signature(&response, &response_id, key, certificate);
    response.insert(1, sig);
    response.render()
}

fn assertion(c: &Claims<'_>, id: &str) -> El {
    let until = instant(c.now + time::Duration::seconds(RESPONSE_VALIDITY_SECONDS));
    let session_end = c.now + time::Duration::seconds(i64::from(c.session_duration));
    let name_id_format = match c.logon {
        Logon::Role { .. } => NAMEID_PERSISTENT,
        Logon::RamUser => NAMEID_UNSPECIFIED,
    };
    let subject = El::new("saml", SAML, "Subject")
        .child(
            El::new("saml", SAML, "NameID")
                .attr("Format", name_id_format)
                .text(c.subject),
        )
        .child(
            El::new("saml", SAML, "SubjectConfirmation")
                .attr("Method", BEARER)
                .child(
                    El::new("saml", SAML, "SubjectConfirmationData")
                        .attr("NotOnOrAfter", until.clone())
                        .attr("Recipient", c.site.acs_url.clone()),
                ),
        );
    let conditions = El::new("saml", SAML, "Conditions")
        .attr("NotBefore", instant(c.now))
        .attr("NotOnOrAfter", until)
        .child(
            El::new("saml", SAML, "AudienceRestriction")
                .child(El::new("saml", SAML, "Audience").text(c.site.audience.clone())),
        );
    let authn = El::new("saml", SAML, "AuthnStatement")
        .attr("AuthnInstant", instant(c.now))
        .attr("SessionIndex", id)
        .attr("SessionNotOnOrAfter", instant(session_end))
        .child(
            El::new("saml", SAML, "AuthnContext")
                .child(El::new("saml", SAML, "AuthnContextClassRef").text(AUTHN_CONTEXT)),
        );
    let assertion = El::new("saml", SAML, "Assertion")
        .attr("ID", id)
        .attr("Version", "2.0")
        .attr("IssueInstant", instant(c.now))
        .child(El::new("saml", SAML, "Issuer").text(c.issuer))
        .child(subject)
        .child(conditions)
        .child(authn);
    match &c.logon {
        Logon::Role {
            role_name,
            provider_name,
            session_name,
            source_identity,
        } => {
            let role = c.site.role_value(c.account_id, role_name, provider_name);
            let mut values = vec![
                ("Role", role),
                ("RoleSessionName", (*session_name).to_owned()),
                ("SessionDuration", c.session_duration.to_string()),
            ];
            if let Some(s) = source_identity {
                values.push(("SourceIdentity", s.clone()));
            }
            assertion.child(attributes(c.site, values))
        }
        Logon::RamUser => assertion,
    }
}

fn attributes(site: &ConsoleSite, values: Vec<(&str, String)>) -> El {
    let mut st = El::new("saml", SAML, "AttributeStatement");
    for (name, value) in values {
        st = st.child(
            El::new("saml", SAML, "Attribute")
                .attr("Name", format!("{}{name}", site.attribute_prefix))
                .attr("NameFormat", ATTR_UNSPECIFIED)
                .child(El::new("saml", SAML, "AttributeValue").text(value)),
        );
    }
    st
}

/// The enveloped signature of `el` (which has no signature yet), referencing `#id`.
pub(super) fn signature(el: &El, id: &str, key: &SigningKey<Sha256>, certificate: &str) -> El {
    let digest = B64.encode(Sha256::digest(el.render().as_bytes()));
    let transforms = El::new("ds", DS, "Transforms")
        .child(El::new("ds", DS, "Transform").attr("Algorithm", ALG_ENVELOPED))
        .child(El::new("ds", DS, "Transform").attr("Algorithm", ALG_EXC_C14N));
    let reference = El::new("ds", DS, "Reference")
        .attr("URI", format!("#{id}"))
        .child(transforms)
        .child(El::new("ds", DS, "DigestMethod").attr("Algorithm", ALG_SHA256))
        .child(El::new("ds", DS, "DigestValue").text(digest));
    let signed_info = El::new("ds", DS, "SignedInfo")
        .child(El::new("ds", DS, "CanonicalizationMethod").attr("Algorithm", ALG_EXC_C14N))
        .child(El::new("ds", DS, "SignatureMethod").attr("Algorithm", ALG_RSA_SHA256))
        .child(reference);
    let value = B64.encode(key.sign(signed_info.render().as_bytes()).to_bytes());
    let cert = El::new("ds", DS, "X509Certificate").text(certificate);
    El::new("ds", DS, "Signature")
        .child(signed_info)
        .child(El::new("ds", DS, "SignatureValue").text(value))
        .child(El::new("ds", DS, "KeyInfo").child(El::new("ds", DS, "X509Data").child(cert)))
}

/// `_` and 40 hex digits (an NCName, as XML IDs must be).
fn new_id() -> String {
    let mut b = [0u8; 20];
    crate::model::fill_random(&mut b);
    format!("_{}", crate::model::hex_lower(&b))
}

/// UTC with milliseconds and `Z`, as SAML responses spell instants.
pub fn instant(t: OffsetDateTime) -> String {
    crate::model::format_rfc3339(t.to_offset(time::UtcOffset::UTC))
}
