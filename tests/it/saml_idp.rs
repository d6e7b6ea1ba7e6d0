//! The test IdP of the SAML service-provider corpus (issue 12): SAML Responses built at test
//! time, signed with Debian's `xmlsec1` CLI (never with cloudsso's own code), for the valid
//! shapes real IdPs send and for every attack the service provider must refuse. Keys (two IdP
//! certificates, the SP trusts both, and an attacker's) are made once per test process with
//! the `openssl` CLI. `corpus_signatures_verify_with_xmlsec1` checks the corpus against
//! `xmlsec1 --verify` alone, so the cases are real whatever the server says about them.
//!
//! Attack documents are made from signed ones by cutting and pasting text at element
//! boundaries that `roxmltree` finds, so every signed part keeps the bytes `xmlsec1` wrote.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const HOLDER_OF_KEY: &str = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key";

/// Where the metadata says the IdP signs users in (nothing listens there).
pub const LOGIN_URL: &str = "http://127.0.0.1:9/sso";
/// The user every forged response tries to become. The server test creates it, so an attack
/// the SP wrongly accepts signs someone in and is seen.
pub const EVIL_NAME_ID: &str = "admin@corp.example";
/// The signed-in user of the tests: a name with an i, a k and an s, for the look-alikes.
pub const VICTIM: &str = "kim.ross@corp.example";
/// What the text-node tricks append to the victim's name: the attacker's own account at the
/// IdP is `<victim>.evil.test`, and a comment, CDATA section or PI cuts it after `<victim>`.
const ATTACKER_SUFFIX: &str = ".evil.test";

/// The three signing keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Idp1,
    Idp2,
    Attacker,
}

impl Key {
    fn file(self) -> &'static str {
        match self {
            Key::Idp1 => "idp1",
            Key::Idp2 => "idp2",
            Key::Attacker => "attacker",
        }
    }
}

/// The key files, made once per test process and kept for its life.
fn key_dir() -> &'static Path {
    static KEYS: OnceLock<tempfile::TempDir> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for k in [Key::Idp1, Key::Idp2, Key::Attacker] {
            let name = k.file();
            let out = Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                ])
                .args(["-subj", &format!("/CN=cloudsso test {name}")])
                .arg("-keyout")
                .arg(dir.path().join(format!("{name}.key")))
                .arg("-out")
                .arg(dir.path().join(format!("{name}.crt")))
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        dir
    })
    .path()
}

/// Whether the tools the corpus needs (`xmlsec1`, and `openssl` for the keys) run here.
pub fn xmlsec1_available() -> bool {
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let xmlsec1 = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    xmlsec1 && runs("openssl")
}

/// Whether a test needing `xmlsec1` skips (with a notice): the tools are missing and
/// `CLOUDSSO_REQUIRE_XMLSEC1=1` is not set (with it, a missing tool fails the test).
pub fn skip_without_xmlsec1(what: &str) -> bool {
    if xmlsec1_available() {
        return false;
    }
    assert!(
        std::env::var("CLOUDSSO_REQUIRE_XMLSEC1").as_deref() != Ok("1"),
        "CLOUDSSO_REQUIRE_XMLSEC1=1 but xmlsec1 or openssl is missing"
    );
    eprintln!("NOTICE: xmlsec1 is not installed: {what} is skipped");
    true
}

pub struct TestIdp {
    pub entity_id: String,
    dir: PathBuf,
}

impl TestIdp {
    pub fn new() -> TestIdp {
        TestIdp {
            entity_id: "https://idp.test/metadata".into(),
            dir: key_dir().to_owned(),
        }
    }

    fn key_path(&self, which: Key) -> PathBuf {
        self.dir.join(format!("{}.key", which.file()))
    }

    fn cert_path(&self, which: Key) -> PathBuf {
        self.dir.join(format!("{}.crt", which.file()))
    }

    pub fn cert_pem(&self, which: Key) -> String {
        std::fs::read_to_string(self.cert_path(which)).unwrap()
    }

    /// The certificate's DER in base64 on one line, as metadata and KeyInfo carry it.
    pub fn cert_der_b64(&self, which: Key) -> String {
        self.cert_pem(which)
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect()
    }

    /// The IdP's metadata: both signing certificates, SSO by Redirect and POST.
    pub fn metadata_xml(&self) -> String {
        let key = |k: Key| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\
                 {}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                self.cert_der_b64(k)
            )
        };
        let sso = |binding: &str| {
            format!(
                "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" \
                 Location=\"{LOGIN_URL}\"/>"
            )
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <md:EntityDescriptor xmlns:md=\"{METADATA}\" xmlns:ds=\"{DSIG}\" entityID=\"{}\">\
             <md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" \
             protocolSupportEnumeration=\"{PROTOCOL}\">{}{}\
             <md:NameIDFormat>{UNSPECIFIED}</md:NameIDFormat>{}{}\
             </md:IDPSSODescriptor></md:EntityDescriptor>\n",
            esc(&self.entity_id),
            key(Key::Idp1),
            key(Key::Idp2),
            sso("HTTP-Redirect"),
            sso("HTTP-POST"),
        )
    }
}

/// The service provider a corpus is made for.
#[derive(Clone, Debug)]
pub struct Target {
    pub sp_entity_id: String,
    pub acs_url: String,
    pub name_id: String,
    /// The AuthnRequest's ID (SP-initiated); `None` for IdP-initiated responses.
    pub in_response_to: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Accept,
    Refuse,
}

/// Which signature of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed {
    Assertion,
    Response,
}

/// What `xmlsec1 --verify` must say of one signature with one certificate alone.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub key: Key,
    pub signature: Signed,
    pub verifies: bool,
}

pub struct Case {
    pub name: &'static str,
    /// Base64 of the XML, as the form field carries it.
    pub saml_response: String,
    pub expect: Expect,
    /// The signature checks that hold of this document (the self-check runs them).
    pub checks: Vec<Check>,
}

impl Case {
    pub fn xml(&self) -> String {
        String::from_utf8(B64.decode(&self.saml_response).unwrap()).unwrap()
    }
}

/// Every case for `t`, timestamps relative to now. `in_response_to_mismatch` is left out when
/// `t` is IdP-initiated.
pub fn corpus(idp: &TestIdp, t: &Target) -> Vec<Case> {
    RECIPES.iter().filter_map(|r| build(idp, t, r)).collect()
}

/// One case of the corpus by name (`None` for an unknown name or one `t` does not apply to).
pub fn case(idp: &TestIdp, t: &Target, name: &str) -> Option<Case> {
    let r = RECIPES.iter().find(|r| r.name == name)?;
    build(idp, t, r)
}

/// The names of every case, in the corpus's order.
pub fn case_names() -> Vec<&'static str> {
    RECIPES.iter().map(|r| r.name).collect()
}

/// A valid Assertion-signed response with fresh IDs: the one to post twice (replay).
pub fn valid(idp: &TestIdp, t: &Target) -> Case {
    case(idp, t, "valid_assertion_signed").unwrap()
}

fn build(idp: &TestIdp, t: &Target, r: &Recipe) -> Option<Case> {
    let ctx = Ctx {
        idp,
        t,
        now: time::OffsetDateTime::now_utc(),
    };
    let Built { xml, checks } = (r.build)(&ctx)?;
    Some(Case {
        name: r.name,
        saml_response: B64.encode(xml),
        expect: r.expect,
        checks,
    })
}

struct Recipe {
    name: &'static str,
    expect: Expect,
    build: fn(&Ctx) -> Option<Built>,
}

struct Built {
    xml: String,
    checks: Vec<Check>,
}

const fn accept(name: &'static str, build: fn(&Ctx) -> Option<Built>) -> Recipe {
    Recipe {
        name,
        expect: Expect::Accept,
        build,
    }
}

const fn refuse(name: &'static str, build: fn(&Ctx) -> Option<Built>) -> Recipe {
    Recipe {
        name,
        expect: Expect::Refuse,
        build,
    }
}

const RECIPES: &[Recipe] = &[
    // Valid shapes.
    accept("valid_assertion_signed", |c| {
        Some(c.signed(c.doc().assertion_by(Key::Idp1)))
    }),
    accept("valid_response_signed", |c| {
        Some(c.signed(c.doc().response_by(Key::Idp1)))
    }),
    accept("valid_both_signed", |c| {
        Some(c.signed(c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1)))
    }),
    accept("valid_second_certificate", |c| {
        Some(c.signed(c.doc().assertion_by(Key::Idp2)))
    }),
    accept("valid_default_namespaces", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp2);
        d.style = Style::DEFAULT_NS;
        Some(c.signed(d))
    }),
    accept("valid_ds_declared_on_response", |c| {
        // The signatures' `ds` prefix is declared on the Response only, outside what is signed.
        let mut d = c.doc().assertion_by(Key::Idp2).response_by(Key::Idp1);
        d.style = Style::DS_ON_RESPONSE;
        Some(c.signed(d))
    }),
    accept("valid_escaped_characters", |c| {
        // What canonicalization escapes or drops: `&`, `<`, `>`, quotes, CR, tab and newline
        // in text and attribute values, non-ASCII text, an unused namespace declaration.
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp2);
        d.groups_xml =
            "R&amp;D &lt;team&gt; \"quoted\" 'single' \u{fc}ber \u{65e5}\u{672c}&#13;&#9;end"
                .into();
        d.groups_attrs = " FriendlyName=\"a&quot;b&#9;c&#10;d&amp;e&lt;f&gt;\"";
        d.assertion_attrs = " xmlns:unused=\"urn:unused\"";
        Some(c.signed(d))
    }),
    accept("valid_crlf_line_endings", |c| {
        // Signed, then every line ending made CRLF: a parser reads the same document.
        let s = c.signed(c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1));
        Some(Built {
            xml: s.xml.replace('\n', "\r\n"),
            ..s
        })
    }),
    accept("valid_okta_style", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1);
        d.style = Style::OKTA;
        Some(c.signed(d))
    }),
    // Signatures missing, broken or by the wrong key.
    refuse("unsigned", |c| Some(c.signed(c.doc()))),
    refuse("signature_stripped", |c| {
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let sig = range(&s.xml, &[RESPONSE, AA, SIG]);
        let xml = cut(&s.xml, sig);
        Some(unchecked(c.impersonate(&xml)))
    }),
    refuse("tampered_nameid", |c| {
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let xml = c.impersonate(&s.xml);
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, false)]))
    }),
    refuse("tampered_nameid_response_signed", |c| {
        let s = c.signed(c.doc().response_by(Key::Idp1));
        let xml = c.impersonate(&s.xml);
        Some(checked(xml, &[(Key::Idp1, Signed::Response, false)]))
    }),
    refuse("tampered_envelope_both_signed", |c| {
        // The Assertion's signature holds, the Response's (present, so binding) does not.
        let s = c.signed(c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1));
        let xml = s.xml.replacen(
            "</samlp:Status>",
            "<samlp:StatusMessage>fine</samlp:StatusMessage></samlp:Status>",
            1,
        );
        Some(checked(
            xml,
            &[
                (Key::Idp1, Signed::Assertion, true),
                (Key::Idp1, Signed::Response, false),
            ],
        ))
    }),
    refuse("attacker_signed_cert_in_keyinfo", |c| {
        let mut d = c.doc().assertion_by(Key::Attacker);
        d.name_id = EVIL_NAME_ID.into();
        d.email = EVIL_NAME_ID.into();
        let s = c.signed(d);
        Some(checked(
            s.xml,
            &[
                (Key::Idp1, Signed::Assertion, false),
                (Key::Idp2, Signed::Assertion, false),
                (Key::Attacker, Signed::Assertion, true),
            ],
        ))
    }),
    refuse("attacker_signed_idp_cert_in_keyinfo", |c| {
        let mut d = c.doc().assertion_by(Key::Attacker);
        d.name_id = EVIL_NAME_ID.into();
        d.email = EVIL_NAME_ID.into();
        let s = c.signed(d);
        let cert = range(&s.xml, &[RESPONSE, AA, SIG, KEY_INFO, X509_DATA, X509_CERT]);
        let body = cert.start + s.xml[cert.clone()].find('>').unwrap() + 1;
        let end = cert.start + s.xml[cert.clone()].rfind("</").unwrap();
        let xml = splice(&s.xml, body..end, &c.idp.cert_der_b64(Key::Idp1));
        Some(checked(
            xml,
            &[
                (Key::Idp1, Signed::Assertion, false),
                (Key::Attacker, Signed::Assertion, true),
            ],
        ))
    }),
    refuse("rsa_sha1", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.assertion_sig = Some((Key::Idp1, Alg::Sha1));
        let s = c.signed(d);
        Some(checked(s.xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    // A second assertion beside a signed one.
    refuse("injected_assertion_after", |c| {
        // CVE-2022-41912: Response > [signed Assertion, evil unsigned Assertion].
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let evil = c.evil_assertion(&unsigned(&s.xml, a.clone()));
        let xml = splice(&s.xml, a.end..a.end, &evil);
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    refuse("injected_assertion_same_id_before", |c| {
        // Response > [evil unsigned Assertion with the signed one's ID, signed Assertion].
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let evil = c.impersonate(&unsigned(&s.xml, a.clone()));
        let xml = splice(&s.xml, a.start..a.start, &evil);
        Some(unchecked(xml))
    }),
    refuse("injected_assertion_in_signed_response", |c| {
        // Response (signed) > [Assertion, evil unsigned Assertion]: the Response digest breaks.
        let s = c.signed(c.doc().response_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let evil = c.evil_assertion(&s.xml[a.clone()]);
        let xml = splice(&s.xml, a.end..a.end, &evil);
        Some(checked(xml, &[(Key::Idp1, Signed::Response, false)]))
    }),
    // Signature wrapping, after "On Breaking SAML" (Somorovsky et al., 2012) as SAML Raider
    // numbers them. XSW1 and XSW2 wrap a Response signature, XSW3 to XSW8 an Assertion one.
    // Where the signed element stays outside its Signature, the signature still verifies
    // (checked); xmlsec1 refuses XSW1, XSW6 and XSW8 itself (an element in Signature is not
    // allowed there, or is removed by the enveloped-signature transform), lax verifiers did not.
    refuse("xsw1", |c| {
        // Evil Response (new ID, evil Assertion) > Signature > [.., copy of the signed Response
        // without its Signature]: the Reference finds the copy.
        let s = c.signed(c.doc().response_by(Key::Idp1));
        let (root, sig, a) = (
            range(&s.xml, &[RESPONSE]),
            range(&s.xml, &[RESPONSE, SIG]),
            range(&s.xml, &[RESPONSE, AA]),
        );
        let original = unsigned(&s.xml, root);
        let signature = insert_before_close(&s.xml[sig.clone()], &original);
        let xml = format!(
            "{}{signature}{}{}{}",
            &s.xml[..sig.start],
            &s.xml[sig.end..a.start],
            c.evil_assertion(&s.xml[a.clone()]),
            &s.xml[a.end..]
        );
        Some(unchecked(renamed(&xml)))
    }),
    refuse("xsw2", |c| {
        // Evil Response (new ID, evil Assertion) > [Issuer, copy of the signed Response without
        // its Signature, Signature (now detached), Status, evil Assertion].
        let s = c.signed(c.doc().response_by(Key::Idp1));
        let (root, sig, a) = (
            range(&s.xml, &[RESPONSE]),
            range(&s.xml, &[RESPONSE, SIG]),
            range(&s.xml, &[RESPONSE, AA]),
        );
        let original = unsigned(&s.xml, root);
        let xml = format!(
            "{}{original}{}{}{}",
            &s.xml[..sig.start],
            &s.xml[sig.start..a.start],
            c.evil_assertion(&s.xml[a.clone()]),
            &s.xml[a.end..]
        );
        Some(checked(renamed(&xml), &[WRAPPED_RESPONSE_VERIFIES]))
    }),
    refuse("xsw3", |c| {
        // Response > [evil Assertion (new ID, no Signature), signed Assertion].
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let evil = c.evil_assertion(&unsigned(&s.xml, a.clone()));
        Some(checked(
            splice(&s.xml, a.start..a.start, &evil),
            &[WRAPPED_ASSERTION_VERIFIES],
        ))
    }),
    refuse("xsw4", |c| {
        // Response > evil Assertion (new ID, no Signature) > [..., signed Assertion].
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let evil = c.evil_assertion(&unsigned(&s.xml, a.clone()));
        let wrapper = insert_before_close(&evil, &s.xml[a.clone()]);
        Some(checked(
            splice(&s.xml, a, &wrapper),
            &[WRAPPED_ASSERTION_VERIFIES],
        ))
    }),
    refuse("xsw5", |c| {
        // Response > [evil Assertion (new ID) holding the Signature, copy of the signed
        // Assertion without its Signature at the end of the Response].
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let copy = unsigned(&s.xml, a.clone());
        let evil = c.evil_assertion(&s.xml[a.clone()]);
        let xml = format!(
            "{}{evil}{}",
            &s.xml[..a.start],
            insert_before_close(&s.xml[a.end..], &copy)
        );
        Some(checked(xml, &[WRAPPED_ASSERTION_VERIFIES]))
    }),
    refuse("xsw6", |c| {
        // Response > evil Assertion (new ID) > Signature > [..., copy of the signed Assertion
        // without its Signature].
        Some(unchecked(c.copy_into_own_signature(false)))
    }),
    refuse("xsw7", |c| {
        // Response > [Extensions > signed Assertion, evil Assertion (new ID, no Signature)].
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let (issuer, a) = (
            range(&s.xml, &[RESPONSE, ISSUER]),
            range(&s.xml, &[RESPONSE, AA]),
        );
        let evil = c.evil_assertion(&unsigned(&s.xml, a.clone()));
        let p = "samlp:";
        let xml = format!(
            "{}<{p}Extensions>{}</{p}Extensions>{}{evil}{}",
            &s.xml[..issuer.end],
            &s.xml[a.clone()],
            &s.xml[issuer.end..a.start],
            &s.xml[a.end..]
        );
        Some(checked(xml, &[WRAPPED_ASSERTION_VERIFIES]))
    }),
    refuse("xsw_namespace_confusion", |c| {
        // Response > [evil Assertion in another namespace that spells itself `saml:`, signed
        // Assertion]: read by local names, the evil NameID comes first.
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let a = range(&s.xml, &[RESPONSE, AA]);
        let evil = c.evil_assertion(&unsigned(&s.xml, a.clone()));
        let evil = evil.replacen(
            "<saml:Assertion ",
            "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion:evil\" ",
            1,
        );
        let xml = splice(&s.xml, a.start..a.start, &evil);
        Some(checked(xml, &[WRAPPED_ASSERTION_VERIFIES]))
    }),
    refuse("xsw8", |c| {
        // Response > evil Assertion (new ID) > Signature > [..., Object > copy of the signed
        // Assertion without its Signature].
        Some(unchecked(c.copy_into_own_signature(true)))
    }),
    // Text-node tricks in NameID (CERT VU#475445): the signature still verifies.
    refuse("comment_in_nameid", |c| {
        let (s, signed_name) = c.signed_as_attacker(c.doc().assertion_by(Key::Idp1));
        let xml = c.split_name(&s.xml, &signed_name, "<!---->");
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    refuse("comment_in_nameid_response_signed", |c| {
        let (s, signed_name) = c.signed_as_attacker(c.doc().response_by(Key::Idp1));
        let xml = c.split_name(&s.xml, &signed_name, "<!-- x -->");
        Some(checked(xml, &[(Key::Idp1, Signed::Response, true)]))
    }),
    refuse("comment_in_audience", |c| {
        // Issued to another SP, `<our entity id>.evil.test`, and cut after our entity id.
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.audience = format!("{}{ATTACKER_SUFFIX}", c.t.sp_entity_id);
        let s = c.signed(d);
        let from = format!(">{}{ATTACKER_SUFFIX}<", esc(&c.t.sp_entity_id));
        let to = format!(">{}<!---->{ATTACKER_SUFFIX}<", esc(&c.t.sp_entity_id));
        let xml = s.xml.replacen(&from, &to, 1);
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    refuse("cdata_in_nameid", |c| {
        let (s, signed_name) = c.signed_as_attacker(c.doc().assertion_by(Key::Idp1));
        let xml = c.split_name(&s.xml, &signed_name, "<![CDATA[]]>");
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    refuse("pi_in_nameid", |c| {
        // A processing instruction is canonicalized, so it is signed in place.
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.name_id = format!("{}<?cut here?>{ATTACKER_SUFFIX}", esc(&c.t.name_id));
        d.email = format!("{}{ATTACKER_SUFFIX}", c.t.name_id);
        let s = c.signed(d);
        Some(checked(s.xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    // Protocol checks: each properly signed, one thing wrong.
    refuse("wrong_audience", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.audience = "https://other-sp.example/saml/metadata".into();
        Some(c.signed(d))
    }),
    refuse("wrong_recipient", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.recipient = "https://other-sp.example/saml/acs".into();
        Some(c.signed(d))
    }),
    refuse("wrong_destination", |c| {
        let mut d = c.doc().response_by(Key::Idp1);
        d.destination = "https://other-sp.example/saml/acs".into();
        Some(c.signed(d))
    }),
    refuse("wrong_destination_assertion_signed", |c| {
        // Destination is in the unsigned envelope here: still checked when present.
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.destination = "https://other-sp.example/saml/acs".into();
        Some(c.signed(d))
    }),
    refuse("wrong_issuer", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1);
        d.issuer = "https://other-idp.example/metadata".into();
        Some(c.signed(d))
    }),
    refuse("wrong_response_issuer_assertion_signed", |c| {
        // The unsigned envelope names another IdP.
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let from = format!(">{}</saml:Issuer>", esc(&c.idp.entity_id));
        assert!(s.xml.contains(&from));
        let xml = s.xml.replacen(
            &from,
            ">https://other-idp.example/metadata</saml:Issuer>",
            1,
        );
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
    refuse("expired_conditions", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        (d.not_before, d.not_on_or_after) = (-20 * 60, -10 * 60);
        Some(c.signed(d))
    }),
    refuse("expired_subject_confirmation", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.confirmation_not_on_or_after = -10 * 60;
        Some(c.signed(d))
    }),
    refuse("not_yet_valid", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        (d.not_before, d.not_on_or_after) = (10 * 60, 20 * 60);
        Some(c.signed(d))
    }),
    refuse("old_issue_instant", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1);
        d.issue_instant = -60 * 60;
        d.not_before = -60 * 60 - 30;
        Some(c.signed(d))
    }),
    refuse("in_response_to_mismatch", |c| {
        c.t.in_response_to.as_ref()?;
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1);
        d.in_response_to = Some(new_id());
        Some(c.signed(d))
    }),
    refuse("status_responder", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1).response_by(Key::Idp1);
        d.status = "Responder";
        Some(c.signed(d))
    }),
    refuse("status_responder_assertion_signed", |c| {
        // The IdP says it did not sign the user in, in the unsigned envelope.
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.status = "Responder";
        Some(c.signed(d))
    }),
    refuse("holder_of_key_confirmation", |c| {
        let mut d = c.doc().assertion_by(Key::Idp1);
        d.confirmation_method = HOLDER_OF_KEY;
        Some(c.signed(d))
    }),
    // Parser attacks.
    refuse("xxe", |c| {
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let dtd = "<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM \"file:///etc/hostname\">]>";
        let xml = with_doctype(&s.xml, dtd).replacen(
            &format!(">{}</saml:NameID>", esc(&c.t.name_id)),
            ">&xxe;</saml:NameID>",
            1,
        );
        Some(unchecked(xml))
    }),
    refuse("billion_laughs", |c| {
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let mut dtd = String::from("<!DOCTYPE samlp:Response [<!ENTITY lol0 \"lol\">");
        for i in 1..10 {
            let p = i - 1;
            let refs = format!("&lol{p};").repeat(10);
            dtd.push_str(&format!("<!ENTITY lol{i} \"{refs}\">"));
        }
        dtd.push_str("]>");
        let xml = with_doctype(&s.xml, &dtd).replacen(
            &format!(">{}</saml:NameID>", esc(&c.t.name_id)),
            ">&lol9;</saml:NameID>",
            1,
        );
        Some(unchecked(xml))
    }),
    refuse("deep_nesting", |c| {
        // 8,000 nested elements (within the size bound): refused, and the server lives on.
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let depth = 8_000;
        let nest = format!("{}{}", "<x>".repeat(depth), "</x>".repeat(depth));
        let xml = s
            .xml
            .replacen("</saml:Subject>", &format!("{nest}</saml:Subject>"), 1);
        Some(unchecked(xml))
    }),
    // Unicode look-alikes of the victim's name, which an IdP that checks uniqueness by exact
    // string would let another user hold: none may match by case folding.
    refuse("lookalike_dotless_i_nameid", |c| {
        c.lookalike('i', '\u{131}')
    }),
    refuse("lookalike_kelvin_sign_nameid", |c| {
        c.lookalike('k', '\u{212a}')
    }),
    refuse("lookalike_long_s_nameid", |c| c.lookalike('s', '\u{17f}')),
    refuse("doctype", |c| {
        // A harmless DOCTYPE on a valid response: the signature still verifies.
        let s = c.signed(c.doc().assertion_by(Key::Idp1));
        let xml = with_doctype(&s.xml, "<!DOCTYPE samlp:Response>");
        Some(checked(xml, &[(Key::Idp1, Signed::Assertion, true)]))
    }),
];

/// The signature of a wrapped document, found by XPath, still verifies with idp1.
const WRAPPED_ASSERTION_VERIFIES: (Key, Signed, bool) = (Key::Idp1, Signed::Assertion, true);
const WRAPPED_RESPONSE_VERIFIES: (Key, Signed, bool) = (Key::Idp1, Signed::Response, true);

fn unchecked(xml: String) -> Built {
    Built {
        xml,
        checks: Vec::new(),
    }
}

fn checked(xml: String, checks: &[(Key, Signed, bool)]) -> Built {
    Built {
        xml,
        checks: checks
            .iter()
            .map(|&(key, signature, verifies)| Check {
                key,
                signature,
                verifies,
            })
            .collect(),
    }
}

#[derive(Clone, Copy, Debug)]
enum Alg {
    Sha256,
    Sha1,
}

impl Alg {
    fn uris(self) -> (&'static str, &'static str) {
        match self {
            Alg::Sha256 => (
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "http://www.w3.org/2001/04/xmlenc#sha256",
            ),
            Alg::Sha1 => (
                "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                "http://www.w3.org/2000/09/xmldsig#sha1",
            ),
        }
    }
}

/// How a document spells its namespaces (real IdPs differ).
#[derive(Clone, Copy)]
struct Style {
    /// Prefixes with their colon, or "" for a default namespace.
    p: &'static str,
    a: &'static str,
    ds: &'static str,
    /// Declarations on the Response, its Issuer, the Assertion and each Signature.
    on_response: &'static str,
    on_issuer: &'static str,
    on_assertion: &'static str,
    on_signature: &'static str,
    /// Between elements ("\n" for an indented-looking document).
    sep: &'static str,
    /// Okta's spelling: `xs:string` typed values with `xs` declared on the Response, named in
    /// the exc-c14n transforms' `InclusiveNamespaces PrefixList`.
    okta: bool,
}

impl Style {
    const STANDARD: Style = Style {
        p: "samlp:",
        a: "saml:",
        ds: "ds:",
        on_response: " xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                       xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        on_issuer: "",
        on_assertion: "",
        on_signature: " xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
        sep: "\n",
        okta: false,
    };
    const DEFAULT_NS: Style = Style {
        p: "",
        a: "",
        ds: "",
        on_response: " xmlns=\"urn:oasis:names:tc:SAML:2.0:protocol\"",
        on_issuer: " xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        on_assertion: " xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        on_signature: " xmlns=\"http://www.w3.org/2000/09/xmldsig#\"",
        sep: "",
        okta: false,
    };
    const DS_ON_RESPONSE: Style = Style {
        on_response: " xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                       xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
                       xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
        on_signature: "",
        sep: "",
        ..Style::STANDARD
    };
    const OKTA: Style = Style {
        p: "saml2p:",
        a: "saml2:",
        ds: "ds:",
        on_response: " xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
                       xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"",
        on_issuer: " xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        on_assertion: " xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        on_signature: " xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
        sep: "",
        okta: true,
    };
}

/// One response before signing. Times are seconds from the corpus's now.
#[derive(Clone)]
struct Doc {
    style: Style,
    response_id: String,
    assertion_id: String,
    issue_instant: i64,
    destination: String,
    in_response_to: Option<String>,
    issuer: String,
    status: &'static str,
    /// NameID content as XML (escaped; the PI case puts markup in it).
    name_id: String,
    email: String,
    recipient: String,
    confirmation_method: &'static str,
    confirmation_not_on_or_after: i64,
    not_before: i64,
    not_on_or_after: i64,
    audience: String,
    assertion_sig: Option<(Key, Alg)>,
    response_sig: Option<(Key, Alg)>,
    /// The `groups` attribute's value as XML, and more XML attributes for its `Attribute`
    /// and for the `Assertion`.
    groups_xml: String,
    groups_attrs: &'static str,
    assertion_attrs: &'static str,
}

impl Doc {
    fn assertion_by(mut self, key: Key) -> Doc {
        self.assertion_sig = Some((key, Alg::Sha256));
        self
    }
    fn response_by(mut self, key: Key) -> Doc {
        self.response_sig = Some((key, Alg::Sha256));
        self
    }
}

struct Ctx<'a> {
    idp: &'a TestIdp,
    t: &'a Target,
    now: time::OffsetDateTime,
}

impl Ctx<'_> {
    fn at(&self, offset_s: i64) -> String {
        let t = self.now + time::Duration::seconds(offset_s);
        t.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap()
    }

    /// A valid response to `t`, unsigned.
    fn doc(&self) -> Doc {
        Doc {
            style: Style::STANDARD,
            response_id: new_id(),
            assertion_id: new_id(),
            issue_instant: 0,
            destination: self.t.acs_url.clone(),
            in_response_to: self.t.in_response_to.clone(),
            issuer: self.idp.entity_id.clone(),
            status: "Success",
            name_id: esc(&self.t.name_id),
            email: self.t.name_id.clone(),
            recipient: self.t.acs_url.clone(),
            confirmation_method: BEARER,
            confirmation_not_on_or_after: 5 * 60,
            not_before: -30,
            not_on_or_after: 5 * 60,
            audience: self.t.sp_entity_id.clone(),
            assertion_sig: None,
            response_sig: None,
            groups_xml: "engineering".into(),
            groups_attrs: "",
            assertion_attrs: "",
        }
    }

    /// The template: empty signatures right after each Issuer, filled by `signed`.
    fn render(&self, d: &Doc) -> String {
        let s = d.style;
        let (p, a, n) = (s.p, s.a, s.sep);
        let irt = d
            .in_response_to
            .as_ref()
            .map(|id| format!(" InResponseTo=\"{}\"", esc(id)))
            .unwrap_or_default();
        let sig = |signer: Option<(Key, Alg)>, id: &str| {
            signer
                .map(|(_, alg)| signature_template(&s, id, alg))
                .unwrap_or_default()
        };
        let typed = if s.okta {
            format!(" xmlns:xsi=\"{XSI}\" xsi:type=\"xs:string\"")
        } else {
            String::new()
        };
        let attribute = |name: &str, more: &str, value_xml: &str| {
            format!(
                "<{a}Attribute Name=\"{name}\"{more} \
                 NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\">\
                 <{a}AttributeValue{typed}>{value_xml}</{a}AttributeValue></{a}Attribute>"
            )
        };
        let issue = self.at(d.issue_instant);
        let issuer = |decl: &str| {
            format!(
                "<{a}Issuer{decl} Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">\
                 {}</{a}Issuer>",
                esc(&d.issuer)
            )
        };
        let assertion = format!(
            "<{a}Assertion{decl} ID=\"{aid}\" Version=\"2.0\" IssueInstant=\"{issue}\"{more}>{n}\
             {issuer_a}{n}{asig}\
             <{a}Subject>{n}<{a}NameID Format=\"{UNSPECIFIED}\">{name}</{a}NameID>{n}\
             <{a}SubjectConfirmation Method=\"{method}\">{n}\
             <{a}SubjectConfirmationData{irt} NotOnOrAfter=\"{sc_noa}\" Recipient=\"{recipient}\"/>{n}\
             </{a}SubjectConfirmation>{n}</{a}Subject>{n}\
             <{a}Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{noa}\">{n}\
             <{a}AudienceRestriction><{a}Audience>{audience}</{a}Audience></{a}AudienceRestriction>{n}\
             </{a}Conditions>{n}\
             <{a}AuthnStatement AuthnInstant=\"{issue}\" SessionIndex=\"{session}\">{n}\
             <{a}AuthnContext><{a}AuthnContextClassRef>\
             urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport\
             </{a}AuthnContextClassRef></{a}AuthnContext>{n}</{a}AuthnStatement>{n}\
             <{a}AttributeStatement>{n}{email}{n}{groups}{n}</{a}AttributeStatement>{n}\
             </{a}Assertion>",
            decl = s.on_assertion,
            aid = d.assertion_id,
            more = d.assertion_attrs,
            issuer_a = issuer(""),
            asig = sig(d.assertion_sig, &d.assertion_id),
            name = d.name_id,
            method = d.confirmation_method,
            sc_noa = self.at(d.confirmation_not_on_or_after),
            recipient = esc(&d.recipient),
            nb = self.at(d.not_before),
            noa = self.at(d.not_on_or_after),
            audience = esc(&d.audience),
            session = new_id(),
            email = attribute("email", "", &esc(&d.email)),
            groups = attribute("groups", d.groups_attrs, &d.groups_xml),
        );
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <{p}Response{decl} ID=\"{rid}\" Version=\"2.0\" IssueInstant=\"{issue}\" \
             Destination=\"{dest}\"{irt}>{n}{issuer_r}{n}{rsig}\
             <{p}Status><{p}StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:{status}\"/>\
             </{p}Status>{n}{assertion}{n}</{p}Response>\n",
            decl = s.on_response,
            rid = d.response_id,
            dest = esc(&d.destination),
            issuer_r = issuer(s.on_issuer),
            rsig = sig(d.response_sig, &d.response_id),
            status = d.status,
        )
    }

    /// The document signed by `xmlsec1`: the Assertion first, then the Response. Checks: each
    /// signature verifies with its signer's certificate.
    fn signed(&self, d: Doc) -> Built {
        let mut xml = self.render(&d);
        let mut checks = Vec::new();
        for (signer, which) in [
            (d.assertion_sig, Signed::Assertion),
            (d.response_sig, Signed::Response),
        ] {
            if let Some((key, _)) = signer {
                xml = xmlsec1_sign(self.idp, &xml, key, which);
                checks.push((key, which, true));
            }
        }
        checked(xml, &checks)
    }

    /// Signed for the attacker's own IdP account `<victim>.evil.test`; the account's name.
    fn signed_as_attacker(&self, mut d: Doc) -> (Built, String) {
        let name = format!("{}{ATTACKER_SUFFIX}", self.t.name_id);
        d.name_id = esc(&name);
        d.email = name.clone();
        (self.signed(d), name)
    }

    /// `<victim><markup>.evil.test` in place of the signed `<victim>.evil.test` NameID.
    fn split_name(&self, xml: &str, signed_name: &str, markup: &str) -> String {
        let from = format!(">{}</", esc(signed_name));
        assert!(xml.contains(&from), "{from} in {xml}");
        let to = format!(">{}{markup}{ATTACKER_SUFFIX}</", esc(&self.t.name_id));
        xml.replacen(&from, &to, 1)
    }

    /// Signed for the victim's name with `letter` spelled `like` (dotless i and long s
    /// upper-case to I and S, the Kelvin sign lower-cases to k); `None` if the name has no
    /// `letter`.
    fn lookalike(&self, letter: char, like: char) -> Option<Built> {
        let name = &self.t.name_id;
        name.contains(letter).then_some(())?;
        let spoof = name.replace(letter, &like.to_string());
        let mut d = self.doc().assertion_by(Key::Idp1);
        d.name_id = esc(&spoof);
        d.email = spoof;
        Some(self.signed(d))
    }

    /// Every mention of the victim's name turned into the evil one.
    fn impersonate(&self, xml: &str) -> String {
        let victim = format!(">{}<", esc(&self.t.name_id));
        assert!(xml.contains(&victim), "{victim} in {xml}");
        xml.replace(&victim, &format!(">{EVIL_NAME_ID}<"))
    }

    /// An Assertion's text as the attacker's: the evil name and a new ID.
    fn evil_assertion(&self, assertion: &str) -> String {
        renamed(&self.impersonate(assertion))
    }

    /// XSW6 (or XSW8 with `object`): the signed Assertion becomes the evil one (new ID, evil
    /// name) and keeps its Signature, inside which sits a copy of the original without it.
    fn copy_into_own_signature(&self, object: bool) -> String {
        let s = self.signed(self.doc().assertion_by(Key::Idp1));
        let xml = s.xml;
        let (a, sig) = (
            range(&xml, &[RESPONSE, AA]),
            range(&xml, &[RESPONSE, AA, SIG]),
        );
        let copy = unsigned(&xml, a.clone());
        let copy = if object {
            format!("<ds:Object>{copy}</ds:Object>")
        } else {
            copy
        };
        let signature = insert_before_close(&xml[sig.clone()], &copy);
        let before = renamed(&xml[a.start..sig.start]);
        let after = self.impersonate(&xml[sig.end..a.end]);
        format!(
            "{}{before}{signature}{after}{}",
            &xml[..a.start],
            &xml[a.end..]
        )
    }
}

fn signature_template(s: &Style, reference: &str, alg: Alg) -> String {
    let ds = s.ds;
    let (sign, digest) = alg.uris();
    let inclusive = if s.okta {
        format!("<ec:InclusiveNamespaces xmlns:ec=\"{EXC_C14N}\" PrefixList=\"xs\"/>")
    } else {
        String::new()
    };
    format!(
        "<{ds}Signature{decl}><{ds}SignedInfo>\
         <{ds}CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <{ds}SignatureMethod Algorithm=\"{sign}\"/>\
         <{ds}Reference URI=\"#{reference}\"><{ds}Transforms>\
         <{ds}Transform Algorithm=\"{ENVELOPED}\"/>\
         <{ds}Transform Algorithm=\"{EXC_C14N}\">{inclusive}</{ds}Transform>\
         </{ds}Transforms><{ds}DigestMethod Algorithm=\"{digest}\"/>\
         <{ds}DigestValue></{ds}DigestValue></{ds}Reference></{ds}SignedInfo>\
         <{ds}SignatureValue></{ds}SignatureValue>\
         <{ds}KeyInfo><{ds}X509Data/></{ds}KeyInfo></{ds}Signature>{n}",
        decl = s.on_signature,
        n = s.sep,
    )
}

const ID_ATTRS: [&str; 4] = [
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:protocol:Response",
    "--id-attr:ID",
    "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
];

/// The XPath of one signature of a document, whatever its prefixes.
fn signature_xpath(which: Signed) -> String {
    let sig = format!("*[local-name()='Signature' and namespace-uri()='{DSIG}']");
    match which {
        Signed::Assertion => {
            format!("//*[local-name()='Assertion' and namespace-uri()='{ASSERTION}']/{sig}")
        }
        Signed::Response => {
            format!("/*[local-name()='Response' and namespace-uri()='{PROTOCOL}']/{sig}")
        }
    }
}

fn xmlsec1_sign(idp: &TestIdp, xml: &str, key: Key, which: Signed) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.xml"), dir.path().join("out.xml"));
    std::fs::write(&input, xml).unwrap();
    let pair = format!(
        "{},{}",
        idp.key_path(key).display(),
        idp.cert_path(key).display()
    );
    let out = Command::new("xmlsec1")
        .arg("--sign")
        .args(["--privkey-pem", &pair])
        .args(ID_ATTRS)
        .args(["--node-xpath", &signature_xpath(which)])
        .arg("--output")
        .arg(&output)
        .arg(&input)
        .output()
        .expect("run xmlsec1");
    assert!(
        out.status.success(),
        "xmlsec1 --sign: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&output).unwrap()
}

/// `xmlsec1 --verify` of one signature with one certificate alone (KeyInfo ignored).
pub fn xmlsec1_verify(idp: &TestIdp, xml: &str, key: Key, which: Signed) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.xml");
    std::fs::write(&input, xml).unwrap();
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(idp.cert_path(key))
        .args(["--enabled-key-data", "key-name"])
        .args(ID_ATTRS)
        .args(["--node-xpath", &signature_xpath(which)])
        .arg(&input)
        .output()
        .expect("run xmlsec1");
    out.status.success()
}

// ---- Cutting and pasting signed documents. ----

type Step = (&'static str, &'static str);
const RESPONSE: Step = (PROTOCOL, "Response");
const AA: Step = (ASSERTION, "Assertion");
const ISSUER: Step = (ASSERTION, "Issuer");
const SIG: Step = (DSIG, "Signature");
const KEY_INFO: Step = (DSIG, "KeyInfo");
const X509_DATA: Step = (DSIG, "X509Data");
const X509_CERT: Step = (DSIG, "X509Certificate");

/// The byte range of the element at `path`: the root, then one child element per step.
fn range(xml: &str, path: &[Step]) -> Range<usize> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let is = |n: &roxmltree::Node, (ns, name): Step| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
    };
    let (first, rest) = path.split_first().unwrap();
    let root = doc.root_element();
    assert!(is(&root, *first), "root of {xml}");
    let mut node = root;
    for step in rest {
        node = node
            .children()
            .find(|c| is(c, *step))
            .unwrap_or_else(|| panic!("{step:?} in {xml}"));
    }
    node.range()
}

fn splice(xml: &str, at: Range<usize>, with: &str) -> String {
    format!("{}{with}{}", &xml[..at.start], &xml[at.end..])
}

fn cut(xml: &str, at: Range<usize>) -> String {
    splice(xml, at, "")
}

/// The element in `element` (a range of `xml`) without its own Signature child.
fn unsigned(xml: &str, element: Range<usize>) -> String {
    let text = &xml[element.clone()];
    let doc = roxmltree::Document::parse(xml).unwrap();
    let node = doc.descendants().find(|n| n.range() == element).unwrap();
    let sig = node
        .children()
        .find(|c| c.tag_name().name() == "Signature" && c.tag_name().namespace() == Some(DSIG))
        .unwrap()
        .range();
    cut(text, sig.start - element.start..sig.end - element.start)
}

/// `inner` put just before the last end tag of `outer`.
fn insert_before_close(outer: &str, inner: &str) -> String {
    let at = outer.rfind("</").unwrap();
    splice(outer, at..at, inner)
}

/// `dtd` put after the XML declaration.
fn with_doctype(xml: &str, dtd: &str) -> String {
    let at = xml.find("?>").unwrap() + 2;
    splice(xml, at..at, &format!("\n{dtd}"))
}

/// `text` with a new value in its first `ID` attribute (that of its first element).
fn renamed(text: &str) -> String {
    let at = text.find(" ID=\"").unwrap() + 5;
    let end = at + text[at..].find('"').unwrap();
    splice(text, at..end, &new_id())
}

fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

/// Text and attribute values escaped for XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn corpus_signatures_verify_with_xmlsec1() {
    if skip_without_xmlsec1("the SAML corpus self-check") {
        return;
    }
    let idp = TestIdp::new();
    let sp_initiated = Target {
        sp_entity_id: "https://sp.test/d-1/saml/metadata".into(),
        acs_url: "https://sp.test/d-1/saml/acs".into(),
        name_id: VICTIM.into(),
        in_response_to: Some(new_id()),
    };
    let idp_initiated = Target {
        in_response_to: None,
        ..sp_initiated.clone()
    };
    let mut failures = Vec::new();
    let mut counted = 0;
    for t in [&sp_initiated, &idp_initiated] {
        let cases = corpus(&idp, t);
        let mode = if t.in_response_to.is_some() {
            "sp-initiated"
        } else {
            "idp-initiated"
        };
        let names: std::collections::BTreeSet<_> = cases.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), cases.len(), "case names are unique");
        let keep = std::env::var_os("CLOUDSSO_SAML_CORPUS_DIR").map(PathBuf::from);
        for c in &cases {
            counted += 1;
            let xml = c.xml();
            if let Some(dir) = &keep {
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(dir.join(format!("{mode}-{}.xml", c.name)), &xml).unwrap();
            }
            if c.expect == Expect::Accept {
                let proven = c
                    .checks
                    .iter()
                    .any(|k| k.verifies && matches!(k.key, Key::Idp1 | Key::Idp2));
                if !proven {
                    failures.push(format!("{mode} {}: no signature check", c.name));
                }
                if let Some(irt) = &t.in_response_to
                    && !xml.contains(&format!("InResponseTo=\"{irt}\""))
                {
                    failures.push(format!("{mode} {}: no InResponseTo", c.name));
                }
            }
            for k in &c.checks {
                let got = xmlsec1_verify(&idp, &xml, k.key, k.signature);
                if got != k.verifies {
                    failures.push(format!(
                        "{mode} {}: {:?} signature with {:?}: verifies {got}, want {}",
                        c.name, k.signature, k.key, k.verifies
                    ));
                }
            }
        }
    }
    // Every case the issue names is there.
    let names = case_names();
    for want in [
        "valid_assertion_signed",
        "valid_response_signed",
        "valid_both_signed",
        "valid_second_certificate",
        "unsigned",
        "tampered_nameid",
        "attacker_signed_cert_in_keyinfo",
        "rsa_sha1",
        "injected_assertion_after",
        "xsw1",
        "xsw2",
        "xsw3",
        "xsw4",
        "xsw5",
        "xsw6",
        "xsw7",
        "xsw8",
        "comment_in_nameid",
        "cdata_in_nameid",
        "pi_in_nameid",
        "wrong_audience",
        "wrong_recipient",
        "wrong_destination",
        "wrong_issuer",
        "expired_conditions",
        "not_yet_valid",
        "old_issue_instant",
        "in_response_to_mismatch",
        "xxe",
        "billion_laughs",
        "doctype",
    ] {
        if !names.contains(&want) {
            failures.push(format!("no case {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {counted} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
