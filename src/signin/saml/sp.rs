//! cloudsso as a SAML service provider of the customer's IdP: its names (entity id, ACS URL),
//! the AuthnRequest, and the verification of a posted Response.
//! Must not import hyper.

/// The SP's entity id for directory `dir` (also where its metadata is served):
/// `<public-url>/<directory id>/saml/metadata`.
pub fn sp_entity_id(public_url: &str, dir: &str) -> String {
    format!("{}/{dir}/saml/metadata", public_url.trim_end_matches('/'))
}

/// The SP's assertion consumer service (HTTP-POST): `<public-url>/<directory id>/saml/acs`.
pub fn acs_url(public_url: &str, dir: &str) -> String {
    format!("{}/{dir}/saml/acs", public_url.trim_end_matches('/'))
}

use super::dsig::verify_signature;
use super::response::{STATUS_SUCCESS, instant as format_instant};
use super::verify::{
    CLOCK_SKEW_SECONDS, Refusal, bad, check_conditions, child, children, denied, instant, text,
    the_assertion,
};
use super::xml::{DS, El, SAML, SAMLP};
use crate::seal::Sealer;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::{Document, Node};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;
use std::io::Write;
use time::OffsetDateTime;

/// The oldest a Response's or Assertion's `IssueInstant` may be (plus the clock skew).
pub const ISSUE_INSTANT_AGE_MAX_SECONDS: i64 = 300;
/// How long an AuthnRequest may wait for its answer.
pub const AUTHN_REQUEST_TTL_SECONDS: i64 = 600;
/// Longest NameID accepted (a `userName` is at most 128 characters).
pub const NAME_ID_CHARS_MAX: usize = 256;
/// Longest RelayState the SP sends or follows.
pub const SP_RELAY_STATE_BYTES_MAX: usize = 1024;

const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
const SIG_ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// The SP's names in one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpNames {
    pub entity_id: String,
    pub acs_url: String,
}

impl SpNames {
    pub fn of(public_url: &str, dir: &str) -> SpNames {
        SpNames {
            entity_id: sp_entity_id(public_url, dir),
            acs_url: acs_url(public_url, dir),
        }
    }
}

/// What the SP trusts: the IdP's entity id and its signing keys (from the configuration,
/// never from the Response).
pub struct Trust<'a> {
    pub entity_id: &'a str,
    pub keys: &'a [RsaPublicKey],
}

/// What a verified Response says, read from its one signed (or signed-over) Assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpAssertion {
    pub assertion_id: String,
    pub name_id: String,
    /// The AuthnRequest answered (`None`: IdP-initiated).
    pub in_response_to: Option<String>,
    /// Until when the assertion could be presented (the replay guard keeps its id so long).
    pub not_on_or_after: OffsetDateTime,
}

/// Checks a parsed Response for this SP at `now`: a signature by a trusted key on the
/// Response or the Assertion (each one present must verify), the status, Destination,
/// issuers, issue instants, InResponseTo agreement, the Conditions (window and audience), a
/// bearer confirmation to the ACS, and a NameID of plain text.
pub fn verify_response(
    doc: &Document<'_>,
    trust: &Trust<'_>,
    sp: &SpNames,
    now: OffsetDateTime,
) -> Result<SpAssertion, Refusal> {
    if trust.keys.is_empty() {
        return Err(denied("the IdP has no signing certificate configured"));
    }
    let response = doc.root_element();
    let assertion = the_assertion(doc)?;
    let response_signed = child(response, DS, "Signature").is_some();
    let assertion_signed = child(assertion, DS, "Signature").is_some();
    if !response_signed && !assertion_signed {
        return Err(denied(
            "the SAML response is not signed: the Response or the Assertion must be signed by the IdP",
        ));
    }
    if response_signed {
        verify_signature(response, trust.keys)?;
    }
    if assertion_signed {
        verify_signature(assertion, trust.keys)?;
    }
    check_response(response, trust, sp, response_signed, now)?;
    check_issuer(assertion, trust, true)?;
    check_issue_instant(assertion, now)?;
    let not_on_or_after = check_conditions(assertion, &sp.entity_id, now)?;
    let in_response_to = check_confirmation(response, assertion, sp, now)?;
    Ok(SpAssertion {
        assertion_id: assertion.attribute("ID").unwrap_or("").to_owned(),
        name_id: name_id(assertion)?,
        in_response_to,
        not_on_or_after,
    })
}

fn check_response(
    response: Node<'_, '_>,
    trust: &Trust<'_>,
    sp: &SpNames,
    signed: bool,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    if response.attribute("Version") != Some("2.0") {
        return Err(bad("the SAML response's Version is not 2.0"));
    }
    match response.attribute("Destination") {
        Some(d) if d != sp.acs_url => {
            return Err(denied(
                "the response's Destination is not this service provider's ACS URL",
            ));
        }
        None if signed => {
            return Err(denied("a signed SAML response must name its Destination"));
        }
        _ => {}
    }
    let status = child(response, SAMLP, "Status")
        .and_then(|s| child(s, SAMLP, "StatusCode"))
        .and_then(|c| c.attribute("Value"));
    if status != Some(STATUS_SUCCESS) {
        return Err(denied(
            "the IdP did not sign you in (the SAML response's status is not Success)",
        ));
    }
    check_issuer(response, trust, false)?;
    check_issue_instant(response, now)
}

/// The element's Issuer is the IdP's entity id (required on the Assertion).
fn check_issuer(el: Node<'_, '_>, trust: &Trust<'_>, required: bool) -> Result<(), Refusal> {
    match child(el, SAML, "Issuer").map(text) {
        Some(i) if i.trim() == trust.entity_id => Ok(()),
        None if !required => Ok(()),
        _ => Err(denied(format!(
            "the {}'s Issuer is not the configured IdP",
            el.tag_name().name()
        ))),
    }
}

fn check_issue_instant(el: Node<'_, '_>, now: OffsetDateTime) -> Result<(), Refusal> {
    let what = el.tag_name().name();
    let at = instant(Some(el), "IssueInstant")?
        .ok_or_else(|| bad(format!("the {what} has no IssueInstant")))?;
    let skew = time::Duration::seconds(CLOCK_SKEW_SECONDS);
    if at > now + skew {
        return Err(denied(format!("the {what} was issued in the future")));
    }
    if at + time::Duration::seconds(ISSUE_INSTANT_AGE_MAX_SECONDS) + skew < now {
        return Err(denied(format!(
            "the {what} was issued more than {ISSUE_INSTANT_AGE_MAX_SECONDS} seconds ago"
        )));
    }
    Ok(())
}

/// A bearer confirmation to the ACS, still valid; returns the request answered, which the
/// Response and the confirmation must agree on.
fn check_confirmation(
    response: Node<'_, '_>,
    assertion: Node<'_, '_>,
    sp: &SpNames,
    now: OffsetDateTime,
) -> Result<Option<String>, Refusal> {
    let skew = time::Duration::seconds(CLOCK_SKEW_SECONDS);
    let answered = response.attribute("InResponseTo");
    let subject =
        child(assertion, SAML, "Subject").ok_or_else(|| denied("the Assertion has no Subject"))?;
    for conf in children(subject, SAML, "SubjectConfirmation") {
        let Some(data) = child(conf, SAML, "SubjectConfirmationData") else {
            continue;
        };
        let until = instant(Some(data), "NotOnOrAfter")?;
        let fits = conf.attribute("Method") == Some(BEARER)
            && data.attribute("Recipient") == Some(sp.acs_url.as_str())
            && until.is_some_and(|u| now - skew < u)
            && instant(Some(data), "NotBefore")?.is_none();
        if !fits {
            continue;
        }
        let confirmed = data.attribute("InResponseTo");
        if answered.is_some() && confirmed.is_some() && answered != confirmed {
            return Err(denied(
                "the Response and its Assertion answer different requests",
            ));
        }
        return Ok(answered.or(confirmed).map(str::to_owned));
    }
    Err(denied(
        "the SAML assertion has no valid bearer confirmation for this service provider's ACS URL",
    ))
}

/// The Subject's NameID: plain text only (a comment, CDATA section or processing
/// instruction inside it is refused: they are how a NameID is cut short after signing).
fn name_id(assertion: Node<'_, '_>) -> Result<String, Refusal> {
    let n = child(assertion, SAML, "Subject")
        .and_then(|s| child(s, SAML, "NameID"))
        .ok_or_else(|| denied("the Assertion has no NameID"))?;
    let input = n.document().input_text();
    let raw = input.get(n.range()).unwrap_or("");
    let inner = raw
        .find('>')
        .and_then(|open| raw.get(open + 1..))
        .and_then(|rest| rest.rfind("</").and_then(|close| rest.get(..close)))
        .unwrap_or("");
    if inner.contains('<') || n.children().any(|c| !c.is_text()) {
        return Err(denied(
            "the NameID holds markup (a comment, CDATA or processing instruction): refused",
        ));
    }
    let value = text(n).trim().to_owned();
    if value.is_empty() || value.chars().count() > NAME_ID_CHARS_MAX {
        return Err(denied(format!(
            "the NameID must be 1 to {NAME_ID_CHARS_MAX} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(denied("the NameID holds control characters"));
    }
    Ok(value)
}

/// A fresh AuthnRequest id for directory `dir`: `_` then the issue time sealed for the
/// directory, so the ACS can tell its own unexpired requests without storing them
/// (each is then accepted once: the replay guard keeps the ids answered).
pub fn new_request_id(sealer: &Sealer, dir: &str, now: OffsetDateTime) -> String {
    let sealed = sealer.seal(&request_owner(dir), &now.unix_timestamp().to_string());
    let body = sealed.strip_prefix("v1:").unwrap_or(&sealed);
    format!("_{}", body.replace('+', "-").replace('/', "."))
}

/// Checks that `id` is an unexpired AuthnRequest id this SP issued for `dir`; returns when
/// it expires (unix seconds).
pub fn open_request_id(
    sealer: &Sealer,
    dir: &str,
    id: &str,
    now: OffsetDateTime,
) -> Result<i64, Refusal> {
    let unknown = || denied("the SAML response answers a request this service provider did not send");
    let body = id.strip_prefix('_').ok_or_else(unknown)?;
    let sealed = format!("v1:{}", body.replace('-', "+").replace('.', "/"));
    let issued: i64 = sealer
        .open(&request_owner(dir), &sealed)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(unknown)?;
    let expires = issued + AUTHN_REQUEST_TTL_SECONDS;
    if now.unix_timestamp() >= expires || issued > now.unix_timestamp() + CLOCK_SKEW_SECONDS {
        return Err(denied(
            "the sign-in request has expired: start the sign-in again",
        ));
    }
    Ok(expires)
}

fn request_owner(dir: &str) -> String {
    format!("saml-authn-request:{dir}")
}

/// The AuthnRequest, canonical XML; enveloped-signed when `key` is given (POST binding).
pub fn authn_request(
    id: &str,
    sp: &SpNames,
    destination: &str,
    now: OffsetDateTime,
    key: Option<(&SigningKey<Sha256>, &str)>,
) -> String {
    let mut req = El::new("samlp", SAMLP, "AuthnRequest")
        .attr("AssertionConsumerServiceURL", sp.acs_url.clone())
        .attr("Destination", destination)
        .attr("ID", id)
        .attr("IssueInstant", format_instant(now))
        .attr("ProtocolBinding", BINDING_POST)
        .attr("Version", "2.0")
        .child(El::new("saml", SAML, "Issuer").text(sp.entity_id.clone()))
        .child(
            El::new("samlp", SAMLP, "NameIDPolicy")
                .attr("AllowCreate", "false")
                .attr("Format", NAMEID_UNSPECIFIED),
        );
    if let Some((key, certificate)) = key {
        let sig = super::response::signature(&req, id, key, certificate);
        req.insert(1, sig);
    }
    req.render()
}

/// The HTTP-Redirect binding's URL: `login_url` with the deflated request, the RelayState
/// and, when `key` is given, `SigAlg` and the `Signature` over that query.
pub fn redirect_url(
    login_url: &str,
    request_xml: &str,
    relay_state: Option<&str>,
    key: Option<&SigningKey<Sha256>>,
) -> String {
    let enc = crate::api::signature::percent_encode;
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let deflated = deflater
        .write_all(request_xml.as_bytes())
        .and_then(|()| deflater.finish())
        .unwrap_or_default();
    let mut query = format!("SAMLRequest={}", enc(&B64.encode(deflated)));
    if let Some(r) = relay_state {
        query.push_str(&format!("&RelayState={}", enc(r)));
    }
    if let Some(key) = key {
        query.push_str(&format!("&SigAlg={}", enc(SIG_ALG_RSA_SHA256)));
        let sig = B64.encode(key.sign(query.as_bytes()).to_bytes());
        query.push_str(&format!("&Signature={}", enc(&sig)));
    }
    let join = if login_url.contains('?') { '&' } else { '?' };
    format!("{login_url}{join}{query}")
}

/// `relay` if it is a path of this directory's portal (under `/<segment>/` for one of
/// `segments`, printable ASCII, no `//`, `\` or `..`, at most `SP_RELAY_STATE_BYTES_MAX`):
/// the ACS never sends a browser anywhere else.
pub fn portal_relay_state<'a>(relay: &'a str, segments: &[&str]) -> Option<&'a str> {
    let clean = relay.len() <= SP_RELAY_STATE_BYTES_MAX
        && relay.bytes().all(|b| b.is_ascii_graphic())
        && !relay.contains("//")
        && !relay.contains('\\')
        && !relay.contains("..");
    let path = relay.split(['?', '#']).next().unwrap_or("");
    let ours = segments
        .iter()
        .filter(|s| !s.is_empty())
        .any(|s| path.starts_with(&format!("/{s}/")));
    (clean && ours).then_some(relay)
}
