//! Portal sign-in through the directory's external IdP (SAML 2.0 Web Browser SSO, cloudsso as
//! the service provider): the AuthnRequest that starts an SP-initiated sign-in, and the
//! Response the ACS receives (SP- or IdP-initiated), verified, matched to a user by NameID
//! (the `userName`, case-insensitively), guarded against replay (each assertion id and each
//! request id accepted once, remembered in `saml_seen` until it expires, across restarts),
//! and turned into an ordinary active portal session (MFA is the IdP's job under SSO).
//!
//! Must not import hyper; reads claims only through `sp::verify_response`.

use super::super::SignIn;
use super::super::flow::Refusal as GateRefusal;
use super::super::session::{Origin, Stage};
use super::super::state::now_unix;
use super::external::Binding;
use super::keys::{certificate_key, signing_key};
use super::sp::{self, SpNames, Trust};
use super::verify::{self, CLOCK_SKEW_SECONDS, Refusal, bad, denied};
use crate::error::DomainError;
use crate::metrics::SigninOutcome;
use crate::model::{DirectoryId, ResourceKind, UserId};
use crate::store::WriteTxn;
use crate::store::keys::{Prefix, SamlSeenKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::RsaPublicKey;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use time::OffsetDateTime;

/// Longest assertion id remembered (ids are the replay guard's keys).
pub const ASSERTION_ID_CHARS_MAX: usize = 256;

/// How the browser goes to the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoStart {
    /// HTTP-Redirect: this URL.
    Redirect(String),
    /// HTTP-POST: a form to `url` with `SAMLRequest` (base64) and `RelayState`.
    Post {
        url: String,
        saml_request: String,
        relay_state: Option<String>,
    },
}

/// Why an SSO step was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoRefusal {
    /// A gate every sign-in passes (service off, network, rate limit).
    Gate(GateRefusal),
    /// SSO is not on for this directory (or no IdP is configured).
    Off,
    /// The Response was refused (its reason).
    Response(Refusal),
    /// The NameID names no user of the directory, or a disabled one.
    User(String),
}

impl SsoRefusal {
    pub fn message(&self) -> String {
        match self {
            SsoRefusal::Gate(r) => r.message(),
            SsoRefusal::Off => "This directory does not sign in through an identity provider: sign in with your user name and password.".into(),
            SsoRefusal::Response(r) => format!("Your identity provider's sign-in was refused: {}.", r.message),
            SsoRefusal::User(m) => m.clone(),
        }
    }
}

impl SsoRefusal {
    /// The reason for the log: the message, but never the NameID or other content.
    pub fn reason(&self) -> String {
        match self {
            SsoRefusal::User(_) => "the NameID names no active user of the directory".into(),
            other => other.message(),
        }
    }
}

/// What an accepted SSO sign-in made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSignedIn {
    /// The new active session's token (for the cookie).
    pub token: String,
    pub user: UserId,
    pub user_name: String,
}

/// A remembered id (`saml_seen`): forgotten after `until` (unix seconds) and the skew.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Seen {
    until: i64,
}

/// The two kinds of ids remembered, kept apart in one table.
fn assertion_key(id: &str) -> String {
    format!("a:{id}")
}

fn request_key(id: &str) -> String {
    format!("r:{id}")
}

impl SignIn {
    /// Starts an SP-initiated sign-in: an AuthnRequest to the IdP, by its binding, with
    /// `relay_state` (a portal path) to come back to.
    pub async fn sso_start(
        &self,
        dir: &DirectoryId,
        relay_state: Option<&str>,
        ip: IpAddr,
    ) -> Result<Result<SsoStart, SsoRefusal>, DomainError> {
        let settings = self.settings(dir).await?;
        // Starting writes nothing: the service and network gates, not the attempt counters
        // (the ACS counts the sign-in).
        if !self.service_enabled().await? {
            return Ok(Err(SsoRefusal::Gate(GateRefusal::ServiceDisabled)));
        }
        if !settings.login.allows(ip) {
            return Ok(Err(SsoRefusal::Gate(GateRefusal::NetworkNotAllowed)));
        }
        let idp = match self.external_idp(dir).await? {
            Some(idp) if settings.sso_enabled => idp,
            _ => return Ok(Err(SsoRefusal::Off)),
        };
        let now = OffsetDateTime::now_utc();
        let names = SpNames::of(self.public_url(), dir.as_str());
        let id = sp::new_request_id(self.sealer(), dir.as_str(), now);
        let key = if idp.want_request_signed {
            let set = self.idp().key_set(dir.as_str()).await?;
            let key = signing_key(dir.as_str(), &set.current, self.sealer())?;
            Some((key, set.current.certificate.clone()))
        } else {
            None
        };
        let relay = relay_state
            .filter(|r| r.len() <= sp::SP_RELAY_STATE_BYTES_MAX)
            .map(str::to_owned);
        Ok(Ok(match idp.binding {
            Binding::Redirect => {
                let xml = sp::authn_request(&id, &names, &idp.login_url, now, None);
                SsoStart::Redirect(sp::redirect_url(
                    &idp.login_url,
                    &xml,
                    relay.as_deref(),
                    key.as_ref().map(|(k, _)| k),
                ))
            }
            Binding::Post => {
                let signer = key.as_ref().map(|(k, c)| (k, c.as_str()));
                let xml = sp::authn_request(&id, &names, &idp.login_url, now, signer);
                SsoStart::Post {
                    url: idp.login_url,
                    saml_request: B64.encode(xml),
                    relay_state: relay,
                }
            }
        }))
    }

    /// The ACS: verifies a posted `SAMLResponse` for directory `dir` and, when it is
    /// accepted, starts an active session for the user its NameID names.
    pub async fn sso_finish(
        &self,
        dir: &DirectoryId,
        saml_response: &str,
        origin: &Origin,
        ip: IpAddr,
    ) -> Result<Result<SsoSignedIn, SsoRefusal>, DomainError> {
        let out = self.sso_accept(dir, saml_response, origin, ip).await;
        match &out {
            Ok(Ok(_)) => self.count(SigninOutcome::SamlSuccess),
            Ok(Err(SsoRefusal::Gate(_))) => self.count(SigninOutcome::Refused),
            Ok(Err(r)) => {
                self.count(SigninOutcome::SamlRefused);
                tracing::info!(directory = %dir, reason = %r.reason(), "SAML response refused");
            }
            Err(_) => {}
        }
        out
    }

    async fn sso_accept(
        &self,
        dir: &DirectoryId,
        saml_response: &str,
        origin: &Origin,
        ip: IpAddr,
    ) -> Result<Result<SsoSignedIn, SsoRefusal>, DomainError> {
        let settings = self.settings(dir).await?;
        if let Some(r) = self.gates(&settings, ip, None).await? {
            return Ok(Err(SsoRefusal::Gate(r)));
        }
        let idp = match self.external_idp(dir).await? {
            Some(idp) if settings.sso_enabled => idp,
            _ => return Ok(Err(SsoRefusal::Off)),
        };
        let keys: Vec<RsaPublicKey> = idp
            .certificates
            .iter()
            .filter_map(|c| certificate_key(&c.der_b64))
            .collect();
        let trust = Trust {
            entity_id: &idp.entity_id,
            keys: &keys,
        };
        let names = SpNames::of(self.public_url(), dir.as_str());
        let now = OffsetDateTime::now_utc();
        let verified = match check(saml_response, &trust, &names, now) {
            Ok(v) => v,
            Err(r) => return Ok(Err(SsoRefusal::Response(r))),
        };
        let request_until = match &verified.in_response_to {
            Some(id) => match sp::open_request_id(self.sealer(), dir.as_str(), id, now) {
                Ok(until) => Some((id.clone(), until)),
                Err(r) => return Ok(Err(SsoRefusal::Response(r))),
            },
            None => None,
        };
        let Some((user, user_name)) = self.sso_user(dir, &verified.name_id).await? else {
            return Ok(Err(SsoRefusal::User(format!(
                "No active user named `{}` can sign in to this directory. Ask your administrator.",
                verified.name_id
            ))));
        };
        let (d, assertion) = (dir.to_string(), verified.assertion_id.clone());
        let assertion_until = verified.not_on_or_after.unix_timestamp();
        let first = self
            .write(move |txn| {
                first_use(txn, &d, &assertion, assertion_until, request_until.as_ref())
            })
            .await?;
        if let Err(r) = first {
            return Ok(Err(SsoRefusal::Response(r)));
        }
        let token = self
            .start_session(dir, &user, &user_name, origin, Stage::Active, None)
            .await?;
        Ok(Ok(SsoSignedIn {
            token,
            user,
            user_name,
        }))
    }

    /// The active user whose `userName` is `name_id` (case-insensitively).
    async fn sso_user(
        &self,
        dir: &DirectoryId,
        name_id: &str,
    ) -> Result<Option<(UserId, String)>, DomainError> {
        let (d, name) = (dir.to_string(), name_id.to_owned());
        self.read(move |txn| {
            let Some(id) = txn.id_by_name(ResourceKind::User, &d, &name)? else {
                return Ok(None);
            };
            let Some(doc) = txn.resource(ResourceKind::User, &d, &id)? else {
                return Ok(None);
            };
            if doc.get("active") == Some(&serde_json::Value::Bool(false)) {
                return Ok(None);
            }
            let Some(user_name) = doc.get("userName").and_then(|v| v.as_str()) else {
                return Ok(None);
            };
            if !same_user_name(user_name, &name) {
                return Ok(None);
            }
            Ok(Some((UserId::new(id.as_str()), user_name.to_owned())))
        })
        .await
    }
}

/// Whether a NameID names this `userName`: equal but for case, where ASCII letters match
/// only ASCII letters (the name index folds with Unicode lower-casing, under which the
/// Kelvin sign is `k`: a look-alike an IdP's own uniqueness check would not catch).
pub fn same_user_name(user_name: &str, name_id: &str) -> bool {
    user_name.chars().count() == name_id.chars().count()
        && user_name.chars().zip(name_id.chars()).all(|(a, b)| {
            a == b
                || match (a.is_ascii(), b.is_ascii()) {
                    (true, true) => a.eq_ignore_ascii_case(&b),
                    (false, false) => a.to_lowercase().eq(b.to_lowercase()),
                    _ => false,
                }
        })
}

/// Decodes, parses and verifies a posted Response (pure but for the clock passed in).
pub fn check(
    saml_response: &str,
    trust: &Trust<'_>,
    names: &SpNames,
    now: OffsetDateTime,
) -> Result<sp::SpAssertion, Refusal> {
    let xml = verify::decode(saml_response)?;
    let doc = verify::parse(&xml)?;
    let v = sp::verify_response(&doc, trust, names, now)?;
    if v.assertion_id.is_empty() || v.assertion_id.len() > ASSERTION_ID_CHARS_MAX {
        return Err(bad(format!(
            "the Assertion's ID must be 1 to {ASSERTION_ID_CHARS_MAX} characters"
        )));
    }
    Ok(v)
}

/// Remembers the assertion (and the request it answers) as used; refuses either seen before.
fn first_use(
    txn: &WriteTxn,
    dir: &str,
    assertion: &str,
    assertion_until: i64,
    request: Option<&(String, i64)>,
) -> Result<Result<(), Refusal>, DomainError> {
    // Any row counts, however old: only the sweep forgets ids, after they can no longer verify.
    let live = |k: &str| -> Result<bool, DomainError> {
        Ok(txn.get::<Seen>(SamlSeenKey { dir, id: k })?.is_some())
    };
    let a = assertion_key(assertion);
    if live(&a)? {
        return Ok(Err(denied(
            "this SAML assertion was already used: sign in again",
        )));
    }
    if let Some((id, _)) = request
        && live(&request_key(id))?
    {
        return Ok(Err(denied(
            "this sign-in request was already answered: sign in again",
        )));
    }
    txn.put(
        SamlSeenKey { dir, id: &a },
        &Seen {
            until: assertion_until,
        },
    )?;
    if let Some((id, until)) = request {
        txn.put(
            SamlSeenKey {
                dir,
                id: &request_key(id),
            },
            &Seen { until: *until },
        )?;
    }
    Ok(Ok(()))
}

/// Forgets remembered ids whose time (and the skew) has passed: at most `max`; returns how
/// many.
pub(in crate::signin) fn forget_expired(txn: &WriteTxn, max: usize) -> Result<usize, DomainError> {
    let now = now_unix();
    let mut n = 0;
    for (tail, seen) in txn.scan_tails::<Seen>(Prefix::AllSamlSeen)? {
        if n >= max {
            break;
        }
        if seen.until + CLOCK_SKEW_SECONDS <= now
            && let Some((dir, id)) = tail.split_once('\0')
        {
            txn.delete(SamlSeenKey { dir, id })?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::same_user_name;

    #[test]
    fn user_names_match_by_case_but_not_by_look_alike() {
        let cases = [
            ("kim.ross@corp.example", "Kim.Ross@CORP.example", true),
            ("José", "JOSÉ", true),
            ("kim", "\u{212a}im", false),
            ("kim", "k\u{131}m", false),
            ("sam", "\u{17f}am", false),
            ("kim", "kimm", false),
            ("straße", "STRASSE", false),
        ];
        for (stored, sent, want) in cases {
            assert_eq!(same_user_name(stored, sent), want, "{stored} vs {sent}");
        }
    }
}
