//! Issue 12's management API for a directory's external SAML IdP, over HTTP: every operation
//! and its answer's shape, metadata upload (two certificates; every refusal: no signing
//! certificate, encryption only, three, DOCTYPE, not XML, not base64, too large, DSA/EC and
//! 1024-bit keys), manual mode's partial updates, certificates (at most two, never the last
//! under SSO), the SSO switch (complete configuration only; password sign-in refused while on,
//! restored when off), Clear and DeleteDirectory refused while they would break it, the audit
//! trail, a caller without permission, and the sweep of a deleted directory's row.

use crate::browser::Browser;
use crate::harness::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hyper::StatusCode;
use rsa::RsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use std::sync::OnceLock;
use x509_cert::der::Encode;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const PASSWORD: &str = "Sup3r-secret!";

fn rsa_key(bits: usize) -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).unwrap()
}

/// The key every test certificate is signed with.
fn signer() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa_key(2048))
}

fn spki_of(key: &RsaPrivateKey) -> SubjectPublicKeyInfoOwned {
    let der = rsa::RsaPublicKey::from(key).to_public_key_der().unwrap();
    SubjectPublicKeyInfoOwned::try_from(der.as_bytes()).unwrap()
}

/// A certificate (DER, base64) for `spki`, subject `CN=<cn>,O=Test IdP`.
fn cert_for(spki: SubjectPublicKeyInfoOwned, cn: &str) -> String {
    use std::str::FromStr;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signer().clone());
    let serial = x509_cert::serial_number::SerialNumber::new(&[0x30, 0x39]).unwrap();
    let validity =
        x509_cert::time::Validity::from_now(std::time::Duration::from_secs(365 * 86_400)).unwrap();
    let subject = x509_cert::name::Name::from_str(&format!("CN={cn},O=Test IdP")).unwrap();
    let der = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signing)
        .unwrap()
        .build::<rsa::pkcs1v15::Signature>()
        .unwrap()
        .to_der()
        .unwrap();
    B64.encode(der)
}

/// Three distinct RSA 2048 certificates.
fn certs() -> &'static [String; 3] {
    static C: OnceLock<[String; 3]> = OnceLock::new();
    C.get_or_init(|| {
        [
            cert_for(spki_of(signer()), "idp-one"),
            cert_for(spki_of(&rsa_key(2048)), "idp-two"),
            cert_for(spki_of(&rsa_key(2048)), "idp-three"),
        ]
    })
}

/// A certificate with a 1024-bit RSA key, one with an EC key and one with a DSA key.
fn weak_certs() -> (String, String, String) {
    let small = cert_for(spki_of(&rsa_key(1024)), "small");
    let ec = B64.encode(
        rcgen::generate_simple_self_signed(vec!["idp".into()])
            .unwrap()
            .cert
            .der(),
    );
    let dsa_spki = SubjectPublicKeyInfoOwned {
        algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: x509_cert::der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10040.4.1"),
            parameters: None,
        },
        subject_public_key: x509_cert::der::asn1::BitString::from_bytes(&[2, 1, 7]).unwrap(),
    };
    (small, ec, cert_for(dsa_spki, "dsa"))
}

fn pem(b64: &str) -> String {
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// IdP metadata with these `(use, certificate)` key descriptors, both bindings and `extra`
/// inside the EntityDescriptor.
fn metadata(keys: &[(Option<&str>, &str)], extra: &str) -> String {
    let mut kd = String::new();
    for (usage, cert) in keys {
        let usage = usage.map(|u| format!(" use=\"{u}\"")).unwrap_or_default();
        kd.push_str(&format!(
            "<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        ));
    }
    format!(
        r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="https://idp.example/metadata">{extra}<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{kd}<md:SingleSignOnService Binding="{POST}" Location="https://idp.example/sso/post"/><md:SingleSignOnService Binding="{REDIRECT}" Location="https://idp.example/sso/redirect"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn two_cert_metadata() -> String {
    let [a, b, _] = certs();
    metadata(&[(Some("signing"), a), (None, b)], "")
}

impl Server {
    /// A CloudSSO call on this server's directory as the first administrator; the answer.
    async fn saml(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        let mut all = vec![("DirectoryId", self.directory_id.as_str())];
        all.extend_from_slice(params);
        self.api(&self.admin_key(), SSO, action, &all).await
    }

    async fn saml_ok(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let r = self.saml(action, params).await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
        r.body
    }

    async fn idp_config(&self) -> Value {
        self.saml_ok("GetExternalSAMLIdentityProvider", &[]).await
            ["SAMLIdentityProviderConfiguration"]
            .clone()
    }

    async fn certificate_ids(&self) -> Vec<String> {
        let r = self.saml_ok("ListExternalSAMLIdPCertificates", &[]).await;
        assert_eq!(
            r["TotalCounts"],
            r["SAMLIdPCertificates"].as_array().unwrap().len()
        );
        r["SAMLIdPCertificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["CertificateId"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn is_api_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|t| t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T')
}

#[tokio::test]
async fn metadata_upload_and_every_operation_answer_as_the_sdk_reads_them() {
    let s = Server::start();
    let d = s.directory_id.clone();
    assert_eq!(
        s.idp_config().await,
        json!({"DirectoryId": d, "SSOStatus": "Disabled", "WantRequestSigned": false,
               "CertificateIds": []})
    );
    assert!(s.certificate_ids().await.is_empty());
    let encoded = B64.encode(two_cert_metadata());
    let set = s
        .saml_ok(
            "SetExternalSAMLIdentityProvider",
            &[("EncodedMetadataDocument", &encoded)],
        )
        .await["SAMLIdentityProviderConfiguration"]
        .clone();
    let ids: Vec<&str> = set["CertificateIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{set}");
    assert!(
        ids.iter().all(|i| i.starts_with("idp-c-") && i.len() == 26),
        "{ids:?}"
    );
    assert!(
        is_api_time(&set["CreateTime"]) && is_api_time(&set["UpdateTime"]),
        "{set}"
    );
    let mut want = json!({
        "DirectoryId": d, "SSOStatus": "Disabled", "EntityId": "https://idp.example/metadata",
        "LoginUrl": "https://idp.example/sso/redirect", "BindingType": "Redirect",
        "WantRequestSigned": false, "CertificateIds": ids, "EncodedMetadataDocument": encoded,
    });
    want["CreateTime"] = set["CreateTime"].clone();
    want["UpdateTime"] = set["UpdateTime"].clone();
    assert_eq!(set, want);
    assert_eq!(s.idp_config().await, want);

    let list = s.saml_ok("ListExternalSAMLIdPCertificates", &[]).await;
    assert_eq!(list["TotalCounts"], 2);
    let first = &list["SAMLIdPCertificates"][0];
    assert_eq!(first["CertificateId"], ids[0]);
    assert_eq!(first["Subject"], "CN=idp-one,O=Test IdP");
    assert_eq!(first["Issuer"], "CN=idp-one,O=Test IdP");
    assert_eq!(first["SerialNumber"], "12345");
    assert_eq!(first["SignatureAlgorithm"], "SHA256withRSA");
    assert_eq!(first["Version"], 3);
    assert_eq!(first["X509Certificate"], certs()[0].as_str());
    assert!(
        first["PublicKey"]
            .as_str()
            .unwrap()
            .starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")
    );
    assert!(
        is_api_time(&first["NotBefore"]) && is_api_time(&first["NotAfter"]),
        "{first}"
    );
    assert_eq!(
        list["SAMLIdPCertificates"][1]["Subject"],
        "CN=idp-two,O=Test IdP"
    );

    // The service provider side; AuthnRequestsSigned follows WantRequestSigned.
    let sp =
        s.saml_ok("GetDirectorySAMLServiceProviderInfo", &[]).await["SAMLServiceProvider"].clone();
    let entity = sp["EntityId"].as_str().unwrap().to_owned();
    let acs = sp["AcsUrl"].as_str().unwrap().to_owned();
    assert!(
        entity.starts_with("http") && entity.ends_with(&format!("/{d}/saml/metadata")),
        "{sp}"
    );
    assert!(acs.ends_with(&format!("/{d}/saml/acs")), "{sp}");
    assert_eq!(
        (
            &sp["DirectoryId"],
            &sp["AuthnSignAlgo"],
            &sp["CertificateType"],
            &sp["SupportEncryptedAssertion"]
        ),
        (
            &json!(d),
            &json!("rsa-sha256"),
            &json!("self-signed"),
            &json!(false)
        )
    );
    let sp_xml = |sp: &Value| {
        String::from_utf8(
            B64.decode(sp["EncodedMetadataDocument"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    let xml = sp_xml(&sp);
    for needle in [
        format!("entityID=\"{entity}\""),
        format!("Location=\"{acs}\""),
        "AuthnRequestsSigned=\"false\"".to_owned(),
        "WantAssertionsSigned=\"true\"".to_owned(),
        "<md:KeyDescriptor use=\"signing\">".to_owned(),
    ] {
        assert!(xml.contains(&needle), "{needle} in {xml}");
    }
    let signing =
        s.saml_ok("GetIdPSigningCertificates", &[]).await["Certificates"][0]["X509Certificate"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(
        xml.contains(&signing),
        "the directory's current certificate"
    );
    s.saml_ok(
        "SetExternalSAMLIdentityProvider",
        &[("WantRequestSigned", "true")],
    )
    .await;
    let sp =
        s.saml_ok("GetDirectorySAMLServiceProviderInfo", &[]).await["SAMLServiceProvider"].clone();
    assert!(sp_xml(&sp).contains("AuthnRequestsSigned=\"true\""));
    let stats = s.saml_ok("GetDirectoryStatistics", &[]).await;
    assert_eq!(stats["DirectoryStatistics"]["SSOEnabled"], false);

    // Certificates: at most two, no duplicate, unknown ids.
    let third = pem(&certs()[2]);
    let r = s
        .saml(
            "AddExternalSAMLIdPCertificate",
            &[("X509Certificate", &third)],
        )
        .await;
    assert_fault(&r, 409, "QuotaExceeded.ExternalSAMLIdPCertificate");
    s.saml_ok(
        "RemoveExternalSAMLIdPCertificate",
        &[("CertificateId", ids[0])],
    )
    .await;
    assert_eq!(s.certificate_ids().await, [ids[1]]);
    let r = s
        .saml(
            "AddExternalSAMLIdPCertificate",
            &[("X509Certificate", &pem(&certs()[1]))],
        )
        .await;
    assert_fault(&r, 409, "EntityAlreadyExists.ExternalSAMLIdPCertificate");
    let added = s
        .saml_ok(
            "AddExternalSAMLIdPCertificate",
            &[("X509Certificate", &third)],
        )
        .await["CertificateId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.certificate_ids().await, [ids[1], added.as_str()]);
    let r = s
        .saml(
            "RemoveExternalSAMLIdPCertificate",
            &[("CertificateId", ids[0])],
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.ExternalSAMLIdPCertificate");

    // Clear, twice.
    s.saml_ok("ClearExternalSAMLIdentityProvider", &[]).await;
    assert_eq!(s.idp_config().await["CertificateIds"], json!([]));
    assert!(s.idp_config().await.get("EntityId").is_none());
    s.saml_ok("ClearExternalSAMLIdentityProvider", &[]).await;

    // An unknown directory, every operation.
    let k = s.admin_key();
    for (op, extra) in [
        ("SetExternalSAMLIdentityProvider", vec![("EntityId", "e")]),
        ("GetExternalSAMLIdentityProvider", vec![]),
        ("ClearExternalSAMLIdentityProvider", vec![]),
        (
            "AddExternalSAMLIdPCertificate",
            vec![("X509Certificate", third.as_str())],
        ),
        (
            "RemoveExternalSAMLIdPCertificate",
            vec![("CertificateId", "idp-c-1")],
        ),
        ("ListExternalSAMLIdPCertificates", vec![]),
        ("GetDirectorySAMLServiceProviderInfo", vec![]),
    ] {
        let mut p = vec![("DirectoryId", "d-nothere")];
        p.extend(extra);
        assert_fault(
            &s.api(&k, SSO, op, &p).await,
            404,
            "EntityNotExists.Directory",
        );
    }
}

#[tokio::test]
async fn metadata_and_certificate_refusals_name_the_parameter_and_change_nothing() {
    let s = Server::start();
    let [a, b, c] = certs();
    let (small, ec, dsa) = weak_certs();
    s.saml_ok(
        "SetExternalSAMLIdentityProvider",
        &[(
            "EncodedMetadataDocument",
            &B64.encode(metadata(&[(None, a)], "")),
        )],
    )
    .await;
    let before = s.idp_config().await;
    let doctype = metadata(&[(None, a)], "").replace("<md:Entity", "<!DOCTYPE x><md:Entity");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "no signing certificate",
            B64.encode(metadata(&[], "")),
            "no signing certificate",
        ),
        (
            "encryption only",
            B64.encode(metadata(&[(Some("encryption"), a)], "")),
            "no signing certificate",
        ),
        (
            "three certificates",
            B64.encode(metadata(&[(None, a), (None, b), (None, c)], "")),
            "has 3 signing certificates",
        ),
        ("DOCTYPE", B64.encode(doctype), "DOCTYPE"),
        (
            "not XML",
            B64.encode("<md:EntityDescriptor"),
            "not well-formed XML",
        ),
        ("not base64", "PD94bWwg!!".into(), "not base64"),
        (
            "1024-bit key",
            B64.encode(metadata(&[(None, &small)], "")),
            "has 1024 bits",
        ),
        (
            "EC key",
            B64.encode(metadata(&[(None, &ec)], "")),
            "EC, not RSA",
        ),
        (
            "DSA key",
            B64.encode(metadata(&[(None, &dsa)], "")),
            "DSA, not RSA",
        ),
    ];
    let mut failures = Vec::new();
    for (name, encoded, word) in &cases {
        let r = s
            .saml(
                "SetExternalSAMLIdentityProvider",
                &[("EncodedMetadataDocument", encoded)],
            )
            .await;
        if let Some(m) = fault_mismatch(&r, 400, "InvalidParameter.EncodedMetadataDocument") {
            failures.push(format!("{name}: {m}"));
        } else if !r.body["Message"].as_str().unwrap().contains(word) {
            failures.push(format!("{name}: {}", r.body));
        }
    }
    let manual: Vec<(&str, &str, String, &str)> = vec![
        (
            "SetExternalSAMLIdentityProvider",
            "LoginUrl",
            "ftp://idp.example/sso".into(),
            "not an absolute http",
        ),
        (
            "SetExternalSAMLIdentityProvider",
            "LoginUrl",
            "idp.example/sso".into(),
            "not an absolute http",
        ),
        (
            "SetExternalSAMLIdentityProvider",
            "EntityId",
            "a b".into(),
            "spaces",
        ),
        (
            "SetExternalSAMLIdentityProvider",
            "X509Certificate",
            pem(&small),
            "has 1024 bits",
        ),
        (
            "SetExternalSAMLIdentityProvider",
            "X509Certificate",
            pem(&dsa),
            "DSA, not RSA",
        ),
        (
            "AddExternalSAMLIdPCertificate",
            "X509Certificate",
            pem(&ec),
            "EC, not RSA",
        ),
        (
            "AddExternalSAMLIdPCertificate",
            "X509Certificate",
            "junk!".into(),
            "not base64",
        ),
        (
            "SetExternalSAMLIdentityProvider",
            "BindingType",
            "Artifact".into(),
            "Post, Redirect",
        ),
        (
            "SetExternalSAMLIdentityProvider",
            "SSOStatus",
            "On".into(),
            "Enabled, Disabled",
        ),
    ];
    for (op, param, value, word) in &manual {
        let r = s.saml(op, &[(param, value)]).await;
        if let Some(m) = fault_mismatch(&r, 400, &format!("InvalidParameter.{param}")) {
            failures.push(format!("{op} {param}: {m}"));
        } else if !r.body["Message"].as_str().unwrap().contains(word) {
            failures.push(format!("{op} {param}: {}", r.body));
        }
    }
    let r = s
        .saml(
            "SetExternalSAMLIdentityProvider",
            &[
                ("EncodedMetadataDocument", &B64.encode(two_cert_metadata())),
                ("EntityId", "e"),
            ],
        )
        .await;
    if let Some(m) = fault_mismatch(&r, 400, "InvalidParameter.EntityId") {
        failures.push(format!("metadata with EntityId: {m}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(s.idp_config().await, before);
}

/// `action` on this server's directory with the parameters in a signed form body (what a
/// client sends when the query string is too short for a metadata document).
async fn saml_form(s: &Server, action: &str, params: &[(&str, &str)]) -> Reply {
    use cloudsso::api::signature::{Acs3Request, sign_acs3};
    let key = s.admin_key();
    let mut all = vec![("DirectoryId", s.directory_id.as_str())];
    all.extend_from_slice(params);
    let form = query_string(&pairs(&all));
    let given = vec![
        ("host".to_owned(), s.addr.clone()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    let mut headers = sign_acs3(&Acs3Request {
        access_key_id: &key.id,
        secret: &key.secret,
        method: "POST",
        action,
        version: SSO,
        query: &[],
        headers: &given,
        body: form.as_bytes(),
        date: &api_time(0),
        nonce: &new_nonce(),
    })
    .unwrap();
    headers.extend(given);
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let url = format!("http://{}/", s.addr);
    s.send(hyper::Method::POST, &url, &h, Some(form.into_bytes()))
        .await
}

#[tokio::test]
async fn metadata_size_limit_on_both_sides_in_a_form_body() {
    let s = Server::start();
    let base = metadata(&[(None, &certs()[0])], "");
    let max = cloudsso::signin::saml::external::METADATA_BYTES_MAX;
    let pad = max - base.len() - "<!---->".len();
    let at_max = base.replace(
        "<md:IDPSSODescriptor",
        &format!("<!--{}--><md:IDPSSODescriptor", "x".repeat(pad)),
    );
    assert_eq!(at_max.len(), max);
    let set = |doc: String| {
        let s = &s;
        async move {
            let encoded = B64.encode(doc);
            saml_form(
                s,
                "SetExternalSAMLIdentityProvider",
                &[("EncodedMetadataDocument", &encoded)],
            )
            .await
        }
    };
    let r = set(at_max.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = set(at_max.replacen("<!--", "<!-- ", 1)).await;
    assert_fault(&r, 400, "InvalidParameter.EncodedMetadataDocument");
    assert!(
        r.body["Message"]
            .as_str()
            .unwrap()
            .contains("larger than 262144 bytes"),
        "{}",
        r.body
    );
    // Other parameters keep the general limit.
    let long = "e".repeat(cloudsso::api::params::PARAM_BYTES_MAX + 1);
    let r = saml_form(
        &s,
        "SetExternalSAMLIdentityProvider",
        &[("EntityId", &long)],
    )
    .await;
    assert_fault(&r, 400, "InvalidParameter");
}

#[tokio::test]
async fn manual_mode_updates_what_it_names_and_sso_needs_and_keeps_a_complete_idp() {
    let s = Server::start();
    let [a, b, _] = certs();
    let c = s
        .saml_ok(
            "SetExternalSAMLIdentityProvider",
            &[("EntityId", "urn:example:idp")],
        )
        .await["SAMLIdentityProviderConfiguration"]
        .clone();
    assert_eq!(
        (
            &c["EntityId"],
            c.get("LoginUrl"),
            &c["BindingType"],
            &c["CertificateIds"]
        ),
        (&json!("urn:example:idp"), None, &json!("Post"), &json!([]))
    );
    let r = s
        .saml(
            "SetExternalSAMLIdentityProvider",
            &[("SSOStatus", "Enabled")],
        )
        .await;
    assert_fault(&r, 400, "InvalidParameter.SSOStatus");
    assert!(
        r.body["Message"]
            .as_str()
            .unwrap()
            .contains("missing: LoginUrl, X509Certificate"),
        "{}",
        r.body
    );
    // The rest, and the switch, in one call.
    let c = s
        .saml_ok(
            "SetExternalSAMLIdentityProvider",
            &[
                ("LoginUrl", "https://idp.example/sso"),
                ("X509Certificate", &pem(a)),
                ("BindingType", "Redirect"),
                ("SSOStatus", "Enabled"),
            ],
        )
        .await["SAMLIdentityProviderConfiguration"]
        .clone();
    assert_eq!(
        (
            &c["EntityId"],
            &c["LoginUrl"],
            &c["BindingType"],
            &c["SSOStatus"]
        ),
        (
            &json!("urn:example:idp"),
            &json!("https://idp.example/sso"),
            &json!("Redirect"),
            &json!("Enabled")
        )
    );
    let stats = s.saml_ok("GetDirectoryStatistics", &[]).await;
    assert_eq!(stats["DirectoryStatistics"]["SSOEnabled"], true);
    // A change without SSOStatus keeps the switch.
    let c = s
        .saml_ok(
            "SetExternalSAMLIdentityProvider",
            &[("EntityId", "urn:example:idp2")],
        )
        .await["SAMLIdentityProviderConfiguration"]
        .clone();
    assert_eq!(
        (&c["SSOStatus"], &c["LoginUrl"]),
        (&json!("Enabled"), &json!("https://idp.example/sso"))
    );
    // Under SSO: not cleared, never without a certificate; X509Certificate replaces all.
    assert_fault(
        &s.saml("ClearExternalSAMLIdentityProvider", &[]).await,
        409,
        "OperationConflict.SSOLogonEnabled",
    );
    let only = s.certificate_ids().await;
    assert_fault(
        &s.saml(
            "RemoveExternalSAMLIdPCertificate",
            &[("CertificateId", &only[0])],
        )
        .await,
        409,
        "OperationConflict.SSOLogonEnabled",
    );
    s.saml_ok(
        "AddExternalSAMLIdPCertificate",
        &[("X509Certificate", &pem(b))],
    )
    .await;
    s.saml_ok(
        "RemoveExternalSAMLIdPCertificate",
        &[("CertificateId", &only[0])],
    )
    .await;
    s.saml_ok(
        "AddExternalSAMLIdPCertificate",
        &[("X509Certificate", &pem(a))],
    )
    .await;
    assert_eq!(s.certificate_ids().await.len(), 2);
    s.saml_ok("SetExternalSAMLIdentityProvider", &[("X509Certificate", b)])
        .await;
    assert_eq!(s.certificate_ids().await.len(), 1);
    // DeleteDirectory is refused while the IdP is configured, and the trail has the calls.
    assert_fault(
        &s.saml("DeleteDirectory", &[]).await,
        409,
        "DeletionConflict.Directory.ExternalSAMLIdentityProvider",
    );
    s.saml_ok(
        "SetExternalSAMLIdentityProvider",
        &[("SSOStatus", "Disabled")],
    )
    .await;
    assert_eq!(
        s.saml_ok("GetDirectoryStatistics", &[]).await["DirectoryStatistics"]["SSOEnabled"],
        false
    );
    let cleared = s.saml_ok("ClearExternalSAMLIdentityProvider", &[]).await;
    s.saml_ok("DeleteDirectory", &[]).await;
    let events = s
        .api_ok(
            &s.admin_key(),
            "2020-07-06",
            "LookupEvents",
            &[("MaxResults", "50")],
        )
        .await;
    let events = events["Events"].as_array().unwrap();
    let clear = events
        .iter()
        .find(|e| e["requestId"] == cleared["RequestId"])
        .expect("the Clear call's record");
    assert_eq!(
        clear["eventName"],
        "cloudsso:ClearExternalSAMLIdentityProvider"
    );
    assert!(
        clear["resourceName"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":directory/{}", s.directory_id)),
        "{clear}"
    );
    for op in [
        "SetExternalSAMLIdentityProvider",
        "AddExternalSAMLIdPCertificate",
        "RemoveExternalSAMLIdPCertificate",
        "ListExternalSAMLIdPCertificates",
    ] {
        let name = format!("cloudsso:{op}");
        assert!(
            events.iter().any(|e| e["eventName"] == name.as_str()),
            "{op} audited"
        );
    }
    let refused = events
        .iter()
        .find(|e| e["eventName"] == "cloudsso:DeleteDirectory" && e["errorCode"].is_string())
        .expect("the refused DeleteDirectory's record");
    assert_eq!(
        refused["errorCode"],
        "DeletionConflict.Directory.ExternalSAMLIdentityProvider"
    );
}

#[tokio::test]
async fn sso_logon_stops_password_sign_in_and_turning_it_off_restores_it() {
    let s = Server::start();
    let r = s
        .post(
            "/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "sam", "password": PASSWORD, "active": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let dir_name = "default";
    let signs_in = |page: &crate::browser::Page| page.status == StatusCode::SEE_OTHER;
    let mut b = Browser::new(&s);
    assert!(signs_in(&b.sign_in(dir_name, "sam", PASSWORD).await));
    // A sign-in form loaded before SSO logon is turned on.
    let mut late = Browser::new(&s);
    let form = late.get(&format!("/{dir_name}/login")).await;
    let csrf = form.hidden("csrf").unwrap();
    s.saml_ok(
        "SetExternalSAMLIdentityProvider",
        &[
            ("EncodedMetadataDocument", &B64.encode(two_cert_metadata())),
            ("SSOStatus", "Enabled"),
        ],
    )
    .await;
    // The login page now goes to the IdP, and a password posted anyway is refused.
    let mut b = Browser::new(&s);
    let p = b.get(&format!("/{dir_name}/login")).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert!(
        p.location
            .as_deref()
            .is_some_and(|l| l.ends_with(&format!("/{dir_name}/saml/login"))),
        "{:?}",
        p.location
    );
    let p = late
        .post(
            &format!("/{dir_name}/login"),
            &[("csrf", &csrf), ("username", "sam"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    assert!(
        p.html.contains("signs in through its identity provider"),
        "{}",
        p.html
    );
    // The administrator's break-glass: SSO logon off, passwords work again.
    s.saml_ok(
        "SetExternalSAMLIdentityProvider",
        &[("SSOStatus", "Disabled")],
    )
    .await;
    let mut b = Browser::new(&s);
    assert!(signs_in(&b.sign_in(dir_name, "sam", PASSWORD).await));
}

#[tokio::test]
async fn a_caller_without_permission_is_denied_and_a_reader_only_reads() {
    let s = Server::start();
    let admin = s.admin_key();
    let key_of = |k: &Value| Key {
        id: k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
        secret: k["AccessKey"]["AccessKeySecret"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let mut keys = Vec::new();
    for (name, policy) in [
        ("reader", Some("AliyunCloudSSOReadOnlyAccess")),
        ("nobody", None),
    ] {
        s.api_ok(&admin, RAM, "CreateUser", &[("UserName", name)])
            .await;
        if let Some(policy) = policy {
            let p = [
                ("UserName", name),
                ("PolicyName", policy),
                ("PolicyType", "System"),
            ];
            s.api_ok(&admin, RAM, "AttachPolicyToUser", &p).await;
        }
        keys.push(key_of(
            &s.api_ok(&admin, RAM, "CreateAccessKey", &[("UserName", name)])
                .await,
        ));
    }
    let d = s.directory_id.as_str();
    let pem_a = pem(&certs()[0]);
    let reads = [
        "GetExternalSAMLIdentityProvider",
        "ListExternalSAMLIdPCertificates",
        "GetDirectorySAMLServiceProviderInfo",
    ];
    let writes: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "SetExternalSAMLIdentityProvider",
            vec![("EntityId", "urn:x")],
        ),
        ("ClearExternalSAMLIdentityProvider", vec![]),
        (
            "AddExternalSAMLIdPCertificate",
            vec![("X509Certificate", pem_a.as_str())],
        ),
        (
            "RemoveExternalSAMLIdPCertificate",
            vec![("CertificateId", "idp-c-1")],
        ),
    ];
    let mut failures = Vec::new();
    for op in reads {
        let r = s.api(&keys[0], SSO, op, &[("DirectoryId", d)]).await;
        if r.status != StatusCode::OK {
            failures.push(format!("reader {op}: {}", r.body));
        }
        if let Some(m) = fault_mismatch(
            &s.api(&keys[1], SSO, op, &[("DirectoryId", d)]).await,
            403,
            "NoPermission",
        ) {
            failures.push(format!("nobody {op}: {m}"));
        }
    }
    for (op, extra) in &writes {
        let mut p = vec![("DirectoryId", d)];
        p.extend(extra.iter().copied());
        for (who, k) in [("reader", &keys[0]), ("nobody", &keys[1])] {
            if let Some(m) = fault_mismatch(&s.api(k, SSO, op, &p).await, 403, "NoPermission") {
                failures.push(format!("{who} {op}: {m}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(s.idp_config().await.get("EntityId").is_none());
}

/// The sweep, in-process: a `saml_idps` row whose directory is gone is removed.
#[tokio::test]
async fn the_sweep_forgets_a_deleted_directorys_idp() {
    use cloudsso::signin::saml::external::{Binding, ExternalIdp};
    use cloudsso::store::keys::SamlIdpKey;
    let api = LibApi::start().await;
    let idp = ExternalIdp {
        entity_id: "e".into(),
        login_url: "https://idp.example/".into(),
        binding: Binding::Post,
        want_request_signed: false,
        certificates: Vec::new(),
        encoded_metadata: None,
        created_at: 1,
        updated_at: 1,
    };
    let (kept, gone) = (api.directory_id.clone(), "d-deletedlongago".to_owned());
    let rows = |dirs: Vec<String>| {
        let db = api.app.db.clone();
        async move {
            db.read(move |txn| {
                let mut out = Vec::new();
                for d in &dirs {
                    out.push(txn.get::<ExternalIdp>(SamlIdpKey { dir: d })?.is_some());
                }
                Ok::<_, cloudsso::error::DomainError>(out)
            })
            .await
            .unwrap()
        }
    };
    let (k, g) = (kept.clone(), gone.clone());
    api.app
        .db
        .write(move |txn| {
            txn.put(SamlIdpKey { dir: &k }, &idp)?;
            Ok::<_, cloudsso::error::DomainError>(txn.put(SamlIdpKey { dir: &g }, &idp)?)
        })
        .await
        .unwrap();
    assert_eq!(rows(vec![kept.clone(), gone.clone()]).await, [true, true]);
    api.app.signin.sweep().await.unwrap();
    assert_eq!(rows(vec![kept, gone]).await, [true, false]);
}

/// The CLI sends a long parameter (a large IdP's metadata) in a signed form body instead of
/// a query string the server's URI limit would refuse; short calls keep the query.
#[tokio::test]
async fn the_cli_sends_large_metadata_in_a_form_body() {
    let s = Server::start();
    let key = s.admin_key();
    let creds = cloudsso::cli::config::Credentials {
        endpoint: format!("http://{}", s.addr),
        access_key_id: key.id.clone(),
        access_key_secret: key.secret.clone(),
    };
    // About 40 KiB of XML: far over the 8 KiB request line as a query parameter.
    let doc = metadata(
        &[(None, &certs()[0])],
        &format!("<!--{}-->", "x".repeat(40 * 1024)),
    );
    let encoded = B64.encode(&doc);
    let call = |params: Vec<(String, String)>| {
        let creds = creds.clone();
        async move {
            cloudsso::cli::client::call(
                &creds,
                "SetExternalSAMLIdentityProvider",
                "2021-05-15",
                &params,
            )
            .await
            .unwrap()
        }
    };
    let dir = ("DirectoryId".to_owned(), s.directory_id.to_string());
    let a = call(vec![
        dir.clone(),
        ("EncodedMetadataDocument".to_owned(), encoded),
        ("SSOStatus".to_owned(), "Enabled".to_owned()),
    ])
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["SAMLIdentityProviderConfiguration"]["SSOStatus"],
        "Enabled"
    );
    let b = call(vec![dir, ("SSOStatus".to_owned(), "Disabled".to_owned())]).await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(s.idp_config().await["SSOStatus"], "Disabled");
}
