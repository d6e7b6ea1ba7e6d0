//! XML signatures as SAML uses them (XML-DSig, enveloped): the one `ds:Signature` that is a
//! child of the signed element, referencing that element's unique ID, with exc-c14n (an
//! `InclusiveNamespaces` prefix list allowed, as Okta sends) and RSA PKCS#1 v1.5 over
//! SHA-256, SHA-384 or SHA-512, checked against keys the caller trusts (never KeyInfo).
//!
//! Owns the algorithm allow-list. Must not read any SAML claim.

use super::response::{ALG_ENVELOPED, ALG_EXC_C14N, ALG_RSA_SHA256, ALG_SHA256};
use super::verify::{Refusal, bad, child, children, denied, text};
use super::xml::{DS, canonicalize_with};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::Node;
use rsa::RsaPublicKey;
use rsa::signature::Verifier;
use sha2::{Digest, Sha256, Sha384, Sha512};

const ALG_RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
const ALG_RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
const ALG_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const ALG_SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
const EC_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// Most prefixes an `InclusiveNamespaces` list may name.
pub const INCLUSIVE_PREFIXES_MAX: usize = 16;

/// A hash the allow-list accepts (SHA-256 or stronger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn of_digest_method(uri: &str) -> Option<Hash> {
        match uri {
            ALG_SHA256 => Some(Hash::Sha256),
            ALG_SHA384 => Some(Hash::Sha384),
            ALG_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn of_signature_method(uri: &str) -> Option<Hash> {
        match uri {
            ALG_RSA_SHA256 => Some(Hash::Sha256),
            ALG_RSA_SHA384 => Some(Hash::Sha384),
            ALG_RSA_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn verifies(self, key: &RsaPublicKey, signed: &[u8], sig: &rsa::pkcs1v15::Signature) -> bool {
        use rsa::pkcs1v15::VerifyingKey;
        match self {
            Hash::Sha256 => VerifyingKey::<Sha256>::new(key.clone())
                .verify(signed, sig)
                .is_ok(),
            Hash::Sha384 => VerifyingKey::<Sha384>::new(key.clone())
                .verify(signed, sig)
                .is_ok(),
            Hash::Sha512 => VerifyingKey::<Sha512>::new(key.clone())
                .verify(signed, sig)
                .is_ok(),
        }
    }
}

/// Verifies the enveloped signature that is a child of `el` against `keys`.
pub fn verify_signature(el: Node<'_, '_>, keys: &[RsaPublicKey]) -> Result<(), Refusal> {
    let what = el.tag_name().name();
    let mut sigs = children(el, DS, "Signature");
    let (Some(sig), None) = (sigs.next(), sigs.next()) else {
        return Err(denied(format!(
            "the {what} must carry exactly one signature"
        )));
    };
    let id = el
        .attribute("ID")
        .filter(|i| !i.is_empty())
        .ok_or_else(|| bad(format!("the {what} has no ID")))?;
    let same_id = el
        .document()
        .descendants()
        .filter(|n| n.attributes().any(|a| a.name() == "ID" && a.value() == id))
        .count();
    if same_id != 1 {
        return Err(bad(format!("the {what}'s ID is not unique")));
    }
    let info =
        child(sig, DS, "SignedInfo").ok_or_else(|| bad("the signature has no SignedInfo"))?;
    let method = signature_method(info)?;
    let reference = signed_reference(info, id)?;
    let prefixes: Vec<&str> = reference.inclusive.iter().map(String::as_str).collect();
    let computed = reference
        .hash
        .digest(canonicalize_with(el, Some(sig.id()), &prefixes).as_bytes());
    if reference.digest != computed {
        return Err(denied(format!(
            "the {what}'s digest does not match: it was changed after signing"
        )));
    }
    let value = child(sig, DS, "SignatureValue")
        .map(text)
        .unwrap_or_default();
    let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let value = B64
        .decode(value)
        .map_err(|_| bad("the SignatureValue is not base64"))?;
    let value = rsa::pkcs1v15::Signature::try_from(value.as_slice())
        .map_err(|_| denied("the signature value is malformed"))?;
    let info_prefixes: Vec<&str> = method.inclusive.iter().map(String::as_str).collect();
    let signed = canonicalize_with(info, None, &info_prefixes);
    if keys
        .iter()
        .any(|k| method.hash.verifies(k, signed.as_bytes(), &value))
    {
        Ok(())
    } else {
        Err(denied(format!(
            "the {what}'s signature does not verify with any trusted certificate"
        )))
    }
}

fn algorithm<'a>(n: Option<Node<'a, '_>>) -> &'a str {
    n.and_then(|n| n.attribute("Algorithm")).unwrap_or("")
}

/// An exc-c14n method (a `CanonicalizationMethod` or a `Transform`): its inclusive prefixes.
/// Anything else inside it is refused.
fn exc_c14n_prefixes(method: Node<'_, '_>) -> Result<Vec<String>, Refusal> {
    let mut inner = method.children().filter(|c| c.is_element());
    let prefixes = match (inner.next(), inner.next()) {
        (None, _) => Vec::new(),
        (Some(list), None) if list.has_tag_name((EC_NS, "InclusiveNamespaces")) => {
            let names: Vec<String> = list
                .attribute("PrefixList")
                .unwrap_or("")
                .split_whitespace()
                .map(|p| if p == "#default" { "" } else { p }.to_owned())
                .collect();
            if names.len() > INCLUSIVE_PREFIXES_MAX {
                return Err(bad(format!(
                    "an InclusiveNamespaces list names more than {INCLUSIVE_PREFIXES_MAX} prefixes"
                )));
            }
            names
        }
        _ => {
            return Err(bad(
                "only an InclusiveNamespaces list may parameterize exc-c14n",
            ));
        }
    };
    Ok(prefixes)
}

struct Method {
    hash: Hash,
    inclusive: Vec<String>,
}

fn signature_method(info: Node<'_, '_>) -> Result<Method, Refusal> {
    let c14n = child(info, DS, "CanonicalizationMethod")
        .filter(|c| algorithm(Some(*c)) == ALG_EXC_C14N)
        .ok_or_else(|| bad("only exclusive canonicalization (without comments) is accepted"))?;
    let inclusive = exc_c14n_prefixes(c14n)?;
    let hash = Hash::of_signature_method(algorithm(child(info, DS, "SignatureMethod")))
        .ok_or_else(|| bad("only rsa-sha256, rsa-sha384 and rsa-sha512 signatures are accepted"))?;
    Ok(Method { hash, inclusive })
}

struct Reference {
    hash: Hash,
    digest: Vec<u8>,
    inclusive: Vec<String>,
}

/// SignedInfo's one reference, to `#id`: enveloped-signature then (optionally) exc-c14n.
fn signed_reference(info: Node<'_, '_>, id: &str) -> Result<Reference, Refusal> {
    let mut refs = children(info, DS, "Reference");
    let (Some(r), None) = (refs.next(), refs.next()) else {
        return Err(bad("the signature must have exactly one Reference"));
    };
    if r.attribute("URI") != Some(&format!("#{id}")) {
        return Err(denied(
            "the signature does not reference the signed element",
        ));
    }
    let transforms: Vec<Node<'_, '_>> = child(r, DS, "Transforms")
        .map(|t| children(t, DS, "Transform").collect())
        .unwrap_or_default();
    // Enveloped-signature alone would leave XML-DSig's default, inclusive c14n 1.0, which
    // no SAML IdP uses: refused rather than digested with the wrong canonicalization.
    let inclusive = match transforms.as_slice() {
        [e, c]
            if algorithm(Some(*e)) == ALG_ENVELOPED
                && !e.has_children()
                && algorithm(Some(*c)) == ALG_EXC_C14N =>
        {
            exc_c14n_prefixes(*c)?
        }
        _ => {
            return Err(bad(
                "only the enveloped-signature then exc-c14n transforms are accepted",
            ));
        }
    };
    let hash = Hash::of_digest_method(algorithm(child(r, DS, "DigestMethod")))
        .ok_or_else(|| bad("only sha256, sha384 and sha512 digests are accepted"))?;
    let value = child(r, DS, "DigestValue").map(text).unwrap_or_default();
    let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let digest = B64
        .decode(value)
        .map_err(|_| bad("the DigestValue is not base64"))?;
    Ok(Reference {
        hash,
        digest,
        inclusive,
    })
}
