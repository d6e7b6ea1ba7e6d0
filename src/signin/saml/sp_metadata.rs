//! The metadata document of cloudsso as a SAML service provider of a directory's external IdP
//! (`GetDirectorySAMLServiceProviderInfo`'s `EncodedMetadataDocument`, also served at
//! `/<directory>/saml/metadata`): its entity id, the certificate it signs AuthnRequests with
//! (the directory's current IdP signing key, `keys`), whether it signs them, the NameID
//! formats it takes and its HTTP-POST assertion consumer service.
//!
//! Must not import hyper. Every XML byte goes through `xml::El`.

use super::super::SignIn;
use super::super::settings::need;
use super::keys::IdpKey;
use super::sp::{acs_url, sp_entity_id};
use super::xml::{DS, El, MD};
use crate::error::{DomainError, Entity};
use crate::model::DirectoryId;
use crate::store::keys::SamlIdpKey;

pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// The SP's signing algorithm (`AuthnSignAlgo`) and certificate kind (`CertificateType`).
pub const AUTHN_SIGN_ALGO: &str = "rsa-sha256";
pub const CERTIFICATE_TYPE: &str = "self-signed";

/// The SP metadata: `md:EntityDescriptor entityID=<entity_id>` > `md:SPSSODescriptor` (SAML
/// 2.0, `AuthnRequestsSigned` = `requests_signed`, assertions signed) with `signing`'s
/// certificate, the unspecified and email NameID formats and the HTTP-POST ACS at index 0.
pub fn sp_metadata(entity_id: &str, acs: &str, signing: &IdpKey, requests_signed: bool) -> String {
    let cert = El::new("ds", DS, "X509Certificate").text(signing.certificate.clone());
    let key = El::new("md", MD, "KeyDescriptor")
        .attr("use", "signing")
        .child(El::new("ds", DS, "KeyInfo").child(El::new("ds", DS, "X509Data").child(cert)));
    let sp = El::new("md", MD, "SPSSODescriptor")
        .attr("AuthnRequestsSigned", requests_signed.to_string())
        .attr("WantAssertionsSigned", "true")
        .attr("protocolSupportEnumeration", SAML2_PROTOCOL)
        .child(key)
        .child(El::new("md", MD, "NameIDFormat").text(NAMEID_UNSPECIFIED))
        .child(El::new("md", MD, "NameIDFormat").text(NAMEID_EMAIL))
        .child(
            El::new("md", MD, "AssertionConsumerService")
                .attr("Binding", BINDING_POST)
                .attr("Location", acs)
                .attr("index", "0")
                .attr("isDefault", "true"),
        );
    El::new("md", MD, "EntityDescriptor")
        .attr("entityID", entity_id)
        .child(sp)
        .render()
}

impl SignIn {
    /// Directory `dir`'s SP metadata (`NotFound` without the directory). Makes the
    /// directory's signing key on first need, like the IdP metadata does.
    pub async fn sp_metadata(&self, dir: &DirectoryId) -> Result<String, DomainError> {
        let d = dir.to_string();
        let requests_signed = self
            .read(move |txn| {
                need(txn.directory(&d)?.is_some(), Entity::Directory, &d)?;
                let idp: Option<super::external::ExternalIdp> = txn.get(SamlIdpKey { dir: &d })?;
                Ok(idp.is_some_and(|i| i.want_request_signed))
            })
            .await?;
        let set = self.idp().key_set(dir.as_str()).await?;
        let public = self.public_url();
        Ok(sp_metadata(
            &sp_entity_id(public, dir.as_str()),
            &acs_url(public, dir.as_str()),
            &set.current,
            requests_signed,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sp_metadata_names_the_sp_its_key_and_its_acs() {
        let key: IdpKey = serde_json::from_value(serde_json::json!({
            "id": "idpkey-1", "sealed_key": "x", "certificate": "MIIC", "not_before": "a",
            "not_after": "b",
        }))
        .unwrap();
        let xml = sp_metadata(
            "https://sso.example/d-1/saml/metadata",
            "https://sso.example/d-1/saml/acs",
            &key,
            true,
        );
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((MD, "EntityDescriptor")));
        assert_eq!(
            root.attribute("entityID"),
            Some("https://sso.example/d-1/saml/metadata")
        );
        let sp = root.first_element_child().unwrap();
        assert!(sp.has_tag_name((MD, "SPSSODescriptor")));
        assert_eq!(sp.attribute("AuthnRequestsSigned"), Some("true"));
        assert_eq!(sp.attribute("WantAssertionsSigned"), Some("true"));
        assert_eq!(
            sp.attribute("protocolSupportEnumeration"),
            Some(SAML2_PROTOCOL)
        );
        let names: Vec<&str> = sp
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert_eq!(
            names,
            [
                "KeyDescriptor",
                "NameIDFormat",
                "NameIDFormat",
                "AssertionConsumerService"
            ]
        );
        let cert = sp
            .descendants()
            .find(|n| n.has_tag_name((DS, "X509Certificate")))
            .and_then(|n| n.text());
        assert_eq!(cert, Some("MIIC"));
        let acs = sp
            .children()
            .find(|n| n.has_tag_name((MD, "AssertionConsumerService")))
            .unwrap();
        assert_eq!(
            (
                acs.attribute("Binding"),
                acs.attribute("Location"),
                acs.attribute("index")
            ),
            (
                Some(BINDING_POST),
                Some("https://sso.example/d-1/saml/acs"),
                Some("0")
            )
        );
        let unsigned = sp_metadata("e", "a", &key, false);
        assert!(
            unsigned.contains("AuthnRequestsSigned=\"false\""),
            "{unsigned}"
        );
    }
}
