//! The embedded console's SAML verifier (`signin::saml::verify`) on untrusted Responses:
//! `decode` (the form value), `parse` (roxmltree without DTDs, a node limit), `the_assertion`,
//! `role_pair`, `verify_signature` (exc-c14n digest and RSA-SHA256 against the registered
//! certificate), `verify` (every claim) and `verify_user` (a RAM user's, user-based SSO), plus
//! the `xml::canonicalize` of the whole tree (also with an `InclusiveNamespaces` prefix list);
//! and the service provider's verifier of a customer IdP's Responses
//! (`signin::saml::sp::verify_response`) on the same inputs.
//!
//! Input: a mode byte, then the mode's bytes:
//! - 0: Response XML as text;
//! - 1: the `SAMLResponse` form value (base64 of the XML);
//! - 2: edits to a valid Response signed by this process's IdP key: each edit is a 16-bit
//!   offset, a count of bytes to delete, a count of bytes to insert and those bytes, so the
//!   fuzzer explores near a Response that verifies instead of failing at the first tag;
//!
//! Checks beyond "no panic": the Response cloudsso signs (mode 2 with no edit) passes the
//! verifier's signature check. Signing fuzzed claims in the loop was tried and dropped: an
//! RSA 2048 signature takes seconds under the fuzzer's instrumentation.
#![no_main]

use cloudsso::seal::Sealer;
use cloudsso::signin::saml::ConsoleSite;
use cloudsso::signin::saml::keys::{self, ParsedMetadata};
use cloudsso::signin::saml::response::{Claims, Logon, signed_response};
use cloudsso::signin::saml::sp::{SpNames, Trust, verify_response};
use cloudsso::signin::saml::verify::{
    decode, parse, role_pair, the_assertion, verify, verify_signature, verify_user,
};
use cloudsso::signin::saml::xml::{canonicalize, canonicalize_with};
use libfuzzer_sys::fuzz_target;
use rsa::pkcs1v15::SigningKey;
use sha2::Sha256;
use std::sync::LazyLock;
use time::OffsetDateTime;

const DIRECTORY: &str = "d-fuzz";
const ISSUER: &str = "https://sso.example.com/d-fuzz/saml/metadata";

/// The IdP: its signing key, its metadata as the SAML provider registered it, the console
/// site, the instant Responses are signed and verified at, and one valid Response.
struct Idp {
    key: SigningKey<Sha256>,
    certificate: String,
    metadata: ParsedMetadata,
    site: ConsoleSite,
    now: OffsetDateTime,
    valid: String,
}

static IDP: LazyLock<Idp> = LazyLock::new(|| {
    let sealer = Sealer::new(&Sealer::new_key()).unwrap_or_else(|e| panic!("sealer: {e}"));
    let idp_key = keys::generate(DIRECTORY, &sealer).unwrap_or_else(|e| panic!("IdP key: {e}"));
    let key = keys::signing_key(DIRECTORY, &idp_key, &sealer)
        .unwrap_or_else(|e| panic!("signing key: {e}"));
    let site = ConsoleSite::embedded("https://sso.example.com");
    let now = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap_or_else(|e| panic!("{e}"));
    let mut idp = Idp {
        key,
        certificate: idp_key.certificate.clone(),
        metadata: ParsedMetadata {
            entity_id: ISSUER.to_owned(),
            certificates: vec![idp_key.certificate],
        },
        site,
        now,
        valid: String::new(),
    };
    let parts = [
        "u-1",
        "1234567890",
        "admin",
        "cloudsso-d-fuzz",
        "alice",
        ISSUER,
    ];
    idp.valid = sign(&idp, &parts);
    idp
});

fuzz_target!(
    // The IdP key (RSA 2048, slow under the sanitizer) is made before the first input, outside
    // libFuzzer's per-input timeout.
    init: {
        LazyLock::force(&IDP);
    },
    |data: &[u8]| {
    let idp = &*IDP;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(xml) = std::str::from_utf8(rest) {
                check(idp, xml, false);
            }
        }
        1 => {
            let form = String::from_utf8_lossy(rest);
            if let Ok(xml) = decode(&form) {
                check(idp, &xml, false);
            }
        }
        _ => {
            let edited = edit(idp.valid.as_bytes(), rest);
            if let Ok(xml) = std::str::from_utf8(&edited) {
                check(idp, xml, edited == idp.valid.as_bytes());
            }
        }
    }
    }
);

/// A Response signed with the claims in `parts` (missing ones empty).
fn sign(idp: &Idp, parts: &[&str]) -> String {
    let part = |i: usize| parts.get(i).copied().unwrap_or("");
    let claims = Claims {
        site: &idp.site,
        issuer: part(5),
        subject: part(0),
        account_id: part(1),
        session_duration: 3600,
        logon: Logon::Role {
            role_name: part(2),
            provider_name: part(3),
            session_name: part(4),
            source_identity: None,
        },
        now: idp.now,
    };
    signed_response(&claims, &idp.key, &idp.certificate)
}

/// Applies the edits in `ops` to `base`.
fn edit(base: &[u8], mut ops: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    while let [hi, lo, del, ins, tail @ ..] = ops {
        let at = (usize::from(*hi) << 8 | usize::from(*lo)) % (out.len() + 1);
        let end = (at + usize::from(*del)).min(out.len());
        let take = usize::from(*ins).min(tail.len());
        let (insert, next) = tail.split_at(take);
        out.splice(at..end, insert.iter().copied());
        ops = next;
    }
    out
}

/// The verifier's steps; with `ours`, the Response is cloudsso's own and must verify.
fn check(idp: &Idp, xml: &str, ours: bool) {
    let Ok(doc) = parse(xml) else {
        assert!(!ours, "our own Response does not parse");
        return;
    };
    let _ = canonicalize(doc.root_element(), None);
    let _ = canonicalize_with(doc.root_element(), None, &["saml", "xs", ""]);
    let Ok(assertion) = the_assertion(&doc) else {
        assert!(!ours, "our own Response has no Assertion");
        return;
    };
    let _ = role_pair(assertion, &idp.site);
    let keys: Vec<_> = idp
        .metadata
        .certificates
        .iter()
        .filter_map(|c| keys::certificate_key(c))
        .collect();
    let signed = verify_signature(assertion, &keys);
    if ours && let Err(e) = &signed {
        panic!("our own Response's Assertion does not verify: {e}");
    }
    let _ = verify(&doc, &idp.metadata, &idp.site, idp.now);
    // The same Response at the user-based SSO console (a RAM user's sign-in).
    let user_site = ConsoleSite::embedded_user_sso("https://sso.example.com", "1234567890");
    let _ = verify_user(&doc, &idp.metadata, &user_site, idp.now);
    let _ = cloudsso::signin::saml::parse_logon_name(xml);
    let trust = Trust {
        entity_id: ISSUER,
        keys: &keys,
    };
    let _ = verify_response(
        &doc,
        &trust,
        &SpNames::of("https://sso.example.com", DIRECTORY),
        idp.now,
    );
}
