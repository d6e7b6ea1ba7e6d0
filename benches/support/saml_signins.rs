//! Part 3 of the sign-in benchmark (issue 12): SAML sign-ins from the directory's external IdP
//! per second (target at least 500). The directory trusts an IdP key made here; responses are
//! built and signed (Assertion signed: enveloped, exc-c14n, rsa-sha256, as Entra ID and Okta
//! send by default) before timing, one per sign-in, since each assertion is accepted once.
//! Measured twice: verification alone (`sso::check`: base64, parse, the signature, every
//! claim) on 1 thread and on N threads, and whole sign-ins through `SignIn::sso_finish`
//! (settings and IdP read, verification, the user looked up by NameID, the replay guard and
//! the new session committed) from 2N concurrent tasks.

use super::Bench;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cloudsso::error::DomainError;
use cloudsso::signin::saml::external::{Binding, ExternalIdp, IdpCertificate};
use cloudsso::signin::saml::keys::{certificate_key, generate, signing_key};
use cloudsso::signin::saml::sp::{SpNames, Trust};
use cloudsso::signin::saml::sso::check;
use cloudsso::signin::saml::xml::{DS, El, SAML, SAMLP};
use cloudsso::signin::session::Origin;
use cloudsso::signin::settings::DirectorySettings;
use cloudsso::store::keys::{SamlIdpKey, SigninSettingsKey};
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Target: verified SAML sign-ins per second on this machine.
const TARGET_PER_SECOND: f64 = 500.0;
const IDP: &str = "https://idp.bench.example/metadata";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

impl Bench {
    /// Configures the directory's external IdP (SSO on), returns its signing key.
    async fn trust_an_idp(&self) -> (SigningKey<Sha256>, String) {
        let key = generate("saml-bench", &self.app.signin.sealer().clone()).expect("key");
        let signer = signing_key("saml-bench", &key, self.app.signin.sealer()).expect("open");
        let idp = ExternalIdp {
            entity_id: IDP.into(),
            login_url: "https://idp.bench.example/sso".into(),
            binding: Binding::Redirect,
            want_request_signed: false,
            certificates: vec![IdpCertificate {
                id: "idp-c-bench".into(),
                der_b64: key.certificate.clone(),
            }],
            encoded_metadata: None,
            created_at: 0,
            updated_at: 0,
        };
        let dir = self.d.to_string();
        self.app
            .db
            .write(move |txn| {
                let k = SigninSettingsKey { dir: &dir };
                let mut settings: DirectorySettings = txn.get(k)?.unwrap_or_default();
                settings.sso_enabled = true;
                txn.put(k, &settings)?;
                txn.put(SamlIdpKey { dir: &dir }, &idp)?;
                Ok::<_, DomainError>(())
            })
            .await
            .expect("idp");
        (signer, key.certificate)
    }

    /// SAML sign-ins: verification alone, then whole sign-ins, for `run` each.
    pub(super) async fn saml_sign_ins(&self, users: &[String], run: Duration, cores: usize) {
        let (signer, certificate) = self.trust_an_idp().await;
        let names = SpNames::of("http://x", self.d.as_str());
        // Enough for the fastest plausible rate; signing them is not timed.
        let count = (run.as_secs_f64() * 3000.0) as usize;
        let made = Instant::now();
        let responses = signed_responses(&signer, &names, users, count, cores);
        println!(
            "SAML sign-ins from an external IdP (target at least {TARGET_PER_SECOND}/s): \
             {} responses signed in {:.1?} (not timed)",
            responses.len(),
            made.elapsed()
        );
        let keys = vec![certificate_key(&certificate).expect("certificate key")];
        for threads in [1, cores] {
            let rate = verifications_per_second(&responses, &keys, &names, threads, run);
            println!(
                "  verification only (sso::check), {threads} thread(s): {rate:>8.0}/s  ({:.2}x target)",
                rate / TARGET_PER_SECOND
            );
        }
        let tasks = 2 * cores;
        let rate = self.whole_saml_sign_ins(responses, tasks, run).await;
        println!(
            "  whole sign-ins (SignIn::sso_finish: verify, user, replay guard, session), {tasks} tasks: \
             {rate:>8.0}/s  ({:.2}x target)",
            rate / TARGET_PER_SECOND
        );
    }

    async fn whole_saml_sign_ins(
        &self,
        responses: Vec<String>,
        tasks: usize,
        run: Duration,
    ) -> f64 {
        let responses = Arc::new(responses);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let (signin, d) = (self.app.signin.clone(), self.d.clone());
            let (responses, next) = (responses.clone(), next.clone());
            set.spawn(async move {
                let origin = Origin {
                    source_ip: "127.0.0.1".into(),
                    user_agent: "signin-bench/1.0".into(),
                };
                let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
                let mut done = 0usize;
                while started.elapsed() < run {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(r) = responses.get(i) else { break };
                    let out = signin.sso_finish(&d, r, &origin, ip).await.expect("sso");
                    out.expect("a valid response signs in");
                    done += 1;
                }
                done
            });
        }
        let total: usize = set.join_all().await.into_iter().sum();
        total as f64 / started.elapsed().as_secs_f64()
    }
}

fn verifications_per_second(
    responses: &[String],
    keys: &[rsa::RsaPublicKey],
    names: &SpNames,
    threads: usize,
    run: Duration,
) -> f64 {
    let started = Instant::now();
    let total: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let trust = Trust {
                        entity_id: IDP,
                        keys,
                    };
                    let mut done = 0;
                    for r in responses.iter().skip(t).step_by(threads) {
                        let now = OffsetDateTime::now_utc();
                        check(r, &trust, names, now).expect("verifies");
                        done += 1;
                        if started.elapsed() >= run {
                            break;
                        }
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// `count` responses (base64, as posted) for `users` in turn, signed on `threads` threads.
fn signed_responses(
    signer: &SigningKey<Sha256>,
    names: &SpNames,
    users: &[String],
    count: usize,
    threads: usize,
) -> Vec<String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|i| response(signer, names, &users[i % users.len()], i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    })
}

fn instant(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("instant")
}

/// One IdP-initiated Response for `user`, its Assertion signed.
fn response(signer: &SigningKey<Sha256>, names: &SpNames, user: &str, n: usize) -> String {
    let now = OffsetDateTime::now_utc();
    let until = instant(now + time::Duration::minutes(10));
    let id = format!("_bench{n:012}");
    let mut assertion = El::new("saml", SAML, "Assertion")
        .attr("ID", id.clone())
        .attr("IssueInstant", instant(now))
        .attr("Version", "2.0")
        .child(El::new("saml", SAML, "Issuer").text(IDP))
        .child(
            El::new("saml", SAML, "Subject")
                .child(El::new("saml", SAML, "NameID").text(user))
                .child(
                    El::new("saml", SAML, "SubjectConfirmation")
                        .attr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
                        .child(
                            El::new("saml", SAML, "SubjectConfirmationData")
                                .attr("NotOnOrAfter", until.clone())
                                .attr("Recipient", names.acs_url.clone()),
                        ),
                ),
        )
        .child(
            El::new("saml", SAML, "Conditions")
                .attr("NotOnOrAfter", until)
                .child(
                    El::new("saml", SAML, "AudienceRestriction")
                        .child(El::new("saml", SAML, "Audience").text(names.entity_id.clone())),
                ),
        );
    let digest = B64.encode(Sha256::digest(assertion.render().as_bytes()));
    let info = El::new("ds", DS, "SignedInfo")
        .child(El::new("ds", DS, "CanonicalizationMethod").attr("Algorithm", EXC_C14N))
        .child(El::new("ds", DS, "SignatureMethod").attr(
            "Algorithm",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        ))
        .child(
            El::new("ds", DS, "Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    El::new("ds", DS, "Transforms")
                        .child(El::new("ds", DS, "Transform").attr(
                            "Algorithm",
                            "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                        ))
                        .child(El::new("ds", DS, "Transform").attr("Algorithm", EXC_C14N)),
                )
                .child(
                    El::new("ds", DS, "DigestMethod")
                        .attr("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256"),
                )
                .child(El::new("ds", DS, "DigestValue").text(digest)),
        );
    let value = B64.encode(signer.sign(info.render().as_bytes()).to_bytes());
    assertion.insert(
        1,
        El::new("ds", DS, "Signature")
            .child(info)
            .child(El::new("ds", DS, "SignatureValue").text(value)),
    );
    let response = El::new("samlp", SAMLP, "Response")
        .attr("Destination", names.acs_url.clone())
        .attr("ID", format!("_r{n:012}"))
        .attr("IssueInstant", instant(now))
        .attr("Version", "2.0")
        .child(El::new("saml", SAML, "Issuer").text(IDP))
        .child(
            El::new("samlp", SAMLP, "Status").child(
                El::new("samlp", SAMLP, "StatusCode")
                    .attr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success"),
            ),
        )
        .child(assertion);
    B64.encode(response.render())
}
