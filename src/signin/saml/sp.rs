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
    let allowed = [
        (SAML, "Issuer"),
        (DS, "Signature"),
        (SAMLP, "Extensions"),
        (SAMLP, "Status"),
        (SAML, "Assertion"),
        (SAML, "EncryptedAssertion"),
    ];
    if response
        .children()
        .filter(|c| c.is_element())
        .any(|c| !allowed.iter().any(|name| c.has_tag_name(*name)))
    {
        return Err(bad(
            "the SAML response holds an element the SAML schema does not allow there",
        ));
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
    let value = text(n).trim_matches([' ', '\t', '\r', '\n']).to_owned();
    if value.is_empty() || value.chars().count() > NAME_ID_CHARS_MAX {
        return Err(denied(format!(
            "the NameID must be 1 to {NAME_ID_CHARS_MAX} characters"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() && !c.is_ascii() || invisible(c))
    {
        return Err(denied(
            "the NameID holds control, non-ASCII space or invisible formatting characters",
        ));
    }
    Ok(value)
}

/// Characters that change nothing visible (zero-width, bidirectional controls, the BOM).
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
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
    let unknown =
        || denied("the SAML response answers a request this service provider did not send");
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
    let enc = crate::model::percent_encode;
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
/// `segments`, printable ASCII, no `//`, `\`, `..` or `%` (an escaped dot segment), at most
/// `SP_RELAY_STATE_BYTES_MAX`):
/// the ACS never sends a browser anywhere else.
pub fn portal_relay_state<'a>(relay: &'a str, segments: &[&str]) -> Option<&'a str> {
    let clean = relay.len() <= SP_RELAY_STATE_BYTES_MAX
        && relay.bytes().all(|b| b.is_ascii_graphic())
        && !relay.contains("//")
        && !relay.contains('\\')
        && !relay.contains("..")
        && !relay.contains('%');
    let path = relay.split(['?', '#']).next().unwrap_or("");
    let ours = segments
        .iter()
        .filter(|s| !s.is_empty())
        .any(|s| path.starts_with(&format!("/{s}/")));
    (clean && ours).then_some(relay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sealer() -> Sealer {
        Sealer::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn request_ids_open_only_for_their_directory_and_time() {
        let s = sealer();
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let id = new_request_id(&s, "d-1", t0);
        assert!(id.starts_with('_'));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)),
            "{id} is an NCName"
        );
        let at = |secs: i64| t0 + time::Duration::seconds(secs);
        assert_eq!(
            open_request_id(&s, "d-1", &id, at(1)),
            Ok(t0.unix_timestamp() + AUTHN_REQUEST_TTL_SECONDS)
        );
        assert!(open_request_id(&s, "d-1", &id, at(AUTHN_REQUEST_TTL_SECONDS - 1)).is_ok());
        let refused = [
            ("expired", "d-1", id.clone(), at(AUTHN_REQUEST_TTL_SECONDS)),
            ("other directory", "d-2", id.clone(), at(1)),
            (
                "issued in the future",
                "d-1",
                id.clone(),
                at(-CLOCK_SKEW_SECONDS - 1),
            ),
            (
                "tampered",
                "d-1",
                format!("{}x", &id[..id.len() - 1]),
                at(1),
            ),
            ("not ours", "d-1", "_abc".to_owned(), at(1)),
            ("no underscore", "d-1", id[1..].to_owned(), at(1)),
            (
                "other key",
                "d-1",
                new_request_id(&Sealer::new(&[8u8; 32]).unwrap(), "d-1", t0),
                at(1),
            ),
        ];
        for (what, dir, id, now) in refused {
            assert!(open_request_id(&s, dir, &id, now).is_err(), "{what}");
        }
    }

    #[test]
    fn relay_states_stay_in_the_portal() {
        let segs = ["d-1", "acme"];
        let cases = [
            ("/d-1/portal", true),
            ("/acme/console/123/ac-1", true),
            ("/acme/portal?x=1#y", true),
            ("/other/portal", false),
            ("/acme", false),
            ("https://evil.example/acme/", false),
            ("//evil.example/acme/", false),
            ("/acme//evil.example", false),
            ("/acme/\\evil", false),
            ("/acme/../x", false),
            ("/acme/a b", false),
            ("/acme/%2e%2e/other/portal", false),
            ("/acme/\u{e9}", false),
            ("", false),
        ];
        for (relay, ok) in cases {
            assert_eq!(portal_relay_state(relay, &segs).is_some(), ok, "{relay:?}");
        }
        let long = format!("/acme/{}", "a".repeat(SP_RELAY_STATE_BYTES_MAX - 6));
        assert!(portal_relay_state(&long, &segs).is_some());
        assert!(portal_relay_state(&format!("{long}a"), &segs).is_none());
        assert!(portal_relay_state("/d-1/portal", &["", ""]).is_none());
    }

    #[test]
    fn redirect_binding_deflates_and_signs_the_query() {
        use rsa::signature::Verifier;
        let key = rsa::RsaPrivateKey::new(&mut rand_core(), 1024).unwrap();
        let signing = SigningKey::<Sha256>::new(key.clone());
        let names = SpNames::of("https://sso.example", "d-1");
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let xml = authn_request("_r1", &names, "https://idp.example/sso?x=1", now, None);
        let url = redirect_url(
            "https://idp.example/sso?x=1",
            &xml,
            Some("/d-1/portal"),
            Some(&signing),
        );
        let query = url.strip_prefix("https://idp.example/sso?x=1&").unwrap();
        let (signed, sig) = query.split_once("&Signature=").unwrap();
        assert!(
            signed.contains("&RelayState=%2Fd-1%2Fportal&SigAlg="),
            "{signed}"
        );
        let b64 = signed
            .strip_prefix("SAMLRequest=")
            .and_then(|r| r.split('&').next())
            .unwrap();
        let raw = B64.decode(unescape(b64)).unwrap();
        let mut inflated = String::new();
        flate2::read::DeflateDecoder::new(raw.as_slice())
            .read_to_string(&mut inflated)
            .unwrap();
        assert_eq!(inflated, xml);
        assert!(xml.contains("ID=\"_r1\""), "{xml}");
        assert!(xml.contains("AssertionConsumerServiceURL=\"https://sso.example/d-1/saml/acs\""));
        let sig = B64.decode(unescape(sig)).unwrap();
        let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.to_public_key())
            .verify(signed.as_bytes(), &sig)
            .unwrap();
        let plain = redirect_url("https://idp.example/sso", &xml, None, None);
        assert!(plain.starts_with("https://idp.example/sso?SAMLRequest="));
        assert!(!plain.contains("Signature") && !plain.contains("RelayState"));
    }

    struct Shape {
        name_id: &'static str,
        audience: &'static str,
        recipient: &'static str,
        issuer: &'static str,
        in_response_to: Option<&'static str>,
        sign_assertion: bool,
        sign_response: bool,
        age: i64,
    }

    const GOOD: Shape = Shape {
        name_id: "Alice",
        audience: "https://sso.example/d-1/saml/metadata",
        recipient: "https://sso.example/d-1/saml/acs",
        issuer: "https://idp.example",
        in_response_to: None,
        sign_assertion: true,
        sign_response: false,
        age: 0,
    };

    fn response(k: &SigningKey<Sha256>, sh: &Shape, now: OffsetDateTime) -> String {
        let at = format_instant(now - time::Duration::seconds(sh.age));
        let until = format_instant(now + time::Duration::seconds(300));
        let mut data = El::new("saml", SAML, "SubjectConfirmationData")
            .attr("NotOnOrAfter", until.clone())
            .attr("Recipient", sh.recipient);
        if let Some(r) = sh.in_response_to {
            data = data.attr("InResponseTo", r);
        }
        let mut assertion = El::new("saml", SAML, "Assertion")
            .attr("ID", "_a1")
            .attr("IssueInstant", at.clone())
            .attr("Version", "2.0")
            .child(El::new("saml", SAML, "Issuer").text(sh.issuer))
            .child(
                El::new("saml", SAML, "Subject")
                    .child(El::new("saml", SAML, "NameID").text(sh.name_id))
                    .child(
                        El::new("saml", SAML, "SubjectConfirmation")
                            .attr("Method", BEARER)
                            .child(data),
                    ),
            )
            .child(
                El::new("saml", SAML, "Conditions")
                    .attr("NotOnOrAfter", until)
                    .child(
                        El::new("saml", SAML, "AudienceRestriction")
                            .child(El::new("saml", SAML, "Audience").text(sh.audience)),
                    ),
            );
        if sh.sign_assertion {
            let sig = super::super::response::signature(&assertion, "_a1", k, "");
            assertion.insert(1, sig);
        }
        let mut resp = El::new("samlp", SAMLP, "Response")
            .attr("Destination", sh.recipient)
            .attr("ID", "_r1")
            .attr("IssueInstant", at)
            .attr("Version", "2.0")
            .child(El::new("saml", SAML, "Issuer").text(sh.issuer))
            .child(
                El::new("samlp", SAMLP, "Status")
                    .child(El::new("samlp", SAMLP, "StatusCode").attr("Value", STATUS_SUCCESS)),
            )
            .child(assertion);
        if let Some(r) = sh.in_response_to {
            resp = resp.attr("InResponseTo", r);
        }
        if sh.sign_response {
            let sig = super::super::response::signature(&resp, "_r1", k, "");
            resp.insert(1, sig);
        }
        resp.render()
    }

    #[test]
    fn responses_are_checked_claim_by_claim() {
        let key = rsa::RsaPrivateKey::new(&mut rand_core(), 1024).unwrap();
        let other = rsa::RsaPrivateKey::new(&mut rand_core(), 1024).unwrap();
        let k = SigningKey::<Sha256>::new(key.clone());
        let keys = [key.to_public_key()];
        let trust = Trust {
            entity_id: "https://idp.example",
            keys: &keys,
        };
        let names = SpNames::of("https://sso.example/", "d-1");
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let verdict = |xml: &str| {
            let doc = roxmltree::Document::parse(xml).unwrap();
            verify_response(&doc, &trust, &names, now)
        };
        let ok = verdict(&response(&k, &GOOD, now)).unwrap();
        assert_eq!(ok.name_id, "Alice");
        assert_eq!(ok.in_response_to, None);
        let both = Shape {
            sign_response: true,
            in_response_to: Some("_q"),
            ..GOOD
        };
        assert_eq!(
            verdict(&response(&k, &both, now))
                .unwrap()
                .in_response_to
                .as_deref(),
            Some("_q")
        );
        let only_response = Shape {
            sign_assertion: false,
            sign_response: true,
            ..GOOD
        };
        assert!(verdict(&response(&k, &only_response, now)).is_ok());
        let refused: Vec<(&str, String)> = vec![
            (
                "unsigned",
                response(
                    &k,
                    &Shape {
                        sign_assertion: false,
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "other key",
                response(&SigningKey::<Sha256>::new(other), &GOOD, now),
            ),
            (
                "audience",
                response(
                    &k,
                    &Shape {
                        audience: "https://x",
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "recipient",
                response(
                    &k,
                    &Shape {
                        recipient: "https://x",
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "issuer",
                response(
                    &k,
                    &Shape {
                        issuer: "https://x",
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "old",
                response(
                    &k,
                    &Shape {
                        age: ISSUE_INSTANT_AGE_MAX_SECONDS + CLOCK_SKEW_SECONDS + 1,
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "future",
                response(
                    &k,
                    &Shape {
                        age: -CLOCK_SKEW_SECONDS - 1,
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "tampered",
                response(&k, &GOOD, now).replace(">Alice<", ">Admin<"),
            ),
            (
                "comment",
                response(&k, &GOOD, now).replace(">Alice<", ">Al<!--x-->ice<"),
            ),
            (
                "cdata",
                response(&k, &GOOD, now).replace(">Alice<", "><![CDATA[Alice]]><"),
            ),
            (
                "empty name",
                response(
                    &k,
                    &Shape {
                        name_id: " ",
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "ideographic space",
                response(
                    &k,
                    &Shape {
                        name_id: "Alice\u{3000}",
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "zero-width space",
                response(
                    &k,
                    &Shape {
                        name_id: "\u{200b}Alice",
                        ..GOOD
                    },
                    now,
                ),
            ),
            (
                "comment text completing another SP's audience",
                response(
                    &k,
                    &Shape {
                        audience: "https://sso.example/d-1/saml/meta",
                        ..GOOD
                    },
                    now,
                )
                .replace(
                    ">https://sso.example/d-1/saml/meta<",
                    ">https://sso.example/d-1/saml/meta<!--data--><",
                ),
            ),
        ];
        for (what, xml) in refused {
            assert!(verdict(&xml).is_err(), "{what} was accepted");
        }
        let spaced = verdict(&response(
            &k,
            &Shape {
                name_id: " \tAlice\n",
                ..GOOD
            },
            now,
        ));
        assert_eq!(spaced.unwrap().name_id, "Alice");
        let edge = Shape {
            age: ISSUE_INSTANT_AGE_MAX_SECONDS + CLOCK_SKEW_SECONDS,
            ..GOOD
        };
        assert!(verdict(&response(&k, &edge, now)).is_ok());
    }

    #[test]
    fn namespace_declarations_are_bounded_before_parsing() {
        use super::super::xml::RESPONSE_NAMESPACE_DECLARATIONS_MAX as MAX;
        let doc = |n: usize| {
            let decls: String = (1..n).map(|i| format!(" xmlns:p{i}=\"urn:x\"")).collect();
            format!("<samlp:Response xmlns:samlp=\"{SAMLP}\"{decls}/>")
        };
        assert!(super::super::verify::parse(&doc(MAX)).is_ok());
        let err = super::super::verify::parse(&doc(MAX + 1)).unwrap_err();
        assert!(err.message.contains("namespaces"), "{err}");
    }

    fn unescape(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    fn rand_core() -> rsa::rand_core::OsRng {
        rsa::rand_core::OsRng
    }
}
