//! The embedded console's side of console sign-in: a posted SAML Response checked as a cloud
//! checks it. The Role attribute names the account and its SAML provider; the Assertion's
//! signature must verify against that provider's registered certificates (never KeyInfo),
//! over the exc-c14n digest recomputed here; then Issuer, Audience, Recipient/Destination,
//! the time window (bounded skew), the role and its trust policy, and a replay set of
//! assertion ids.
//!
//! Owns the refusals (`Refusal`, 400 or 403 with a clear message) and the replay set. Must not
//! import hyper; must not read a claim from anything but the one verified Assertion.

pub use super::dsig::verify_signature;
use super::keys::{ParsedMetadata, certificate_key, parse_metadata};
use super::response::STATUS_SUCCESS;
use super::xml::{DS, RESPONSE_NAMESPACE_DECLARATIONS_MAX, SAML, SAMLP, namespace_declarations};
use super::{ConsoleSite, SignIn};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::{Document, Node};
use rsa::RsaPublicKey;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest `SAMLResponse` form value accepted (STS's `SAMLAssertion` limit).
pub const SAML_RESPONSE_CHARS_MAX: usize = 100_000;
/// Most XML nodes in a Response.
pub const SAML_NODES_MAX: u32 = 2_000;
/// Clock difference tolerated on `NotBefore` and `NotOnOrAfter`.
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// Most assertion ids remembered at once (each until its `NotOnOrAfter`).
pub const SEEN_ASSERTIONS_MAX: usize = 100_000;
/// The default and the bounds of the SessionDuration attribute, in seconds.
pub const SESSION_DURATION_DEFAULT: i64 = 3600;
pub const SESSION_DURATION_MIN: i64 = 900;
pub const SESSION_DURATION_MAX: i64 = 43_200;

/// Why a Response was refused: `forbidden` (403) when it is well formed but not trusted or
/// not allowed, otherwise 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub forbidden: bool,
    pub message: String,
}

pub(super) fn bad(message: impl Into<String>) -> Refusal {
    Refusal {
        forbidden: false,
        message: message.into(),
    }
}

pub(super) fn denied(message: impl Into<String>) -> Refusal {
    Refusal {
        forbidden: true,
        message: message.into(),
    }
}

/// What the console page shows after a Response was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The role session's name, or the RAM user's logon name.
    pub session_name: String,
    /// The NameID.
    pub subject: String,
    pub account_id: String,
    pub identity: ConsoleIdentity,
    /// When the console session ends: the earliest of now + SessionDuration, the role's
    /// maximum and `SessionNotOnOrAfter` (for a RAM user, `SessionNotOnOrAfter` within
    /// `RAM_USER_SESSION_SECONDS_MAX`).
    pub expires: OffsetDateTime,
    pub relay_state: Option<String>,
}

/// Who the console session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleIdentity {
    /// A role (role-based SSO), with the names of its policies.
    Role { name: String, policies: Vec<String> },
    /// A RAM user of the account (user-based SSO).
    RamUser { name: String },
}

/// A RAM user's console session when the Response sets no `SessionNotOnOrAfter` (RAM's
/// default console session), and the longest one.
pub const RAM_USER_SESSION_SECONDS_DEFAULT: i64 = 6 * 3600;
pub const RAM_USER_SESSION_SECONDS_MAX: i64 = 24 * 3600;

/// The role pair of the Role attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePair {
    pub account: String,
    pub role: String,
    pub provider: String,
}

/// Assertion ids already accepted, each kept until its `NotOnOrAfter` (unix seconds) and the
/// clock skew have passed; at most `max` at once.
#[derive(Debug)]
pub struct SeenAssertions {
    max: usize,
    ids: Mutex<HashMap<String, i64>>,
}

impl Default for SeenAssertions {
    fn default() -> Self {
        SeenAssertions::with_max(SEEN_ASSERTIONS_MAX)
    }
}

impl SeenAssertions {
    pub fn with_max(max: usize) -> SeenAssertions {
        SeenAssertions {
            max,
            ids: Mutex::default(),
        }
    }

    /// Remembers `id` until `until`; `Err` if it was seen (or the set is full of live ids).
    fn first_use(&self, id: &str, until: i64, now: i64) -> Result<(), Refusal> {
        let mut seen = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= self.max {
            seen.retain(|_, t| *t + CLOCK_SKEW_SECONDS > now);
        }
        if seen.contains_key(id) {
            return Err(denied(
                "this SAML assertion was already used: sign in again",
            ));
        }
        if seen.len() >= self.max {
            return Err(bad("too many console sign-ins at once: try again shortly"));
        }
        seen.insert(id.to_owned(), until);
        Ok(())
    }
}

/// Decodes the form value into the Response's XML.
pub fn decode(saml_response: &str) -> Result<String, Refusal> {
    if saml_response.len() > SAML_RESPONSE_CHARS_MAX {
        return Err(bad(format!(
            "SAMLResponse is longer than {SAML_RESPONSE_CHARS_MAX} characters"
        )));
    }
    let compact: String = saml_response
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = B64
        .decode(compact)
        .map_err(|_| bad("SAMLResponse is not base64"))?;
    String::from_utf8(bytes).map_err(|_| bad("SAMLResponse is not UTF-8 XML"))
}

/// Parses a Response: no DTD, at most `SAML_NODES_MAX` nodes, a `samlp:Response` root.
pub fn parse(xml: &str) -> Result<Document<'_>, Refusal> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(bad("the SAML response has a DOCTYPE: refused"));
    }
    if namespace_declarations(xml) > RESPONSE_NAMESPACE_DECLARATIONS_MAX {
        return Err(bad(format!(
            "the SAML response declares more than {RESPONSE_NAMESPACE_DECLARATIONS_MAX} namespaces"
        )));
    }
    let opt = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: SAML_NODES_MAX,
        ..Default::default()
    };
    let doc = Document::parse_with_options(xml, opt).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => bad(format!(
            "the SAML response has more than {SAML_NODES_MAX} XML nodes"
        )),
        _ => bad("the SAML response is not well-formed XML"),
    })?;
    if !doc.root_element().has_tag_name((SAMLP, "Response")) {
        return Err(bad("the SAML response's root is not samlp:Response"));
    }
    Ok(doc)
}

/// The one Assertion, a child of the Response (a second one anywhere, or an encrypted one,
/// is refused: signature wrapping hides a second assertion).
pub fn the_assertion<'a, 'i>(doc: &'a Document<'i>) -> Result<Node<'a, 'i>, Refusal> {
    let mut all = doc.descendants().filter(|n| {
        n.has_tag_name((SAML, "Assertion")) || n.has_tag_name((SAML, "EncryptedAssertion"))
    });
    let (Some(a), None) = (all.next(), all.next()) else {
        return Err(bad("the SAML response must hold exactly one Assertion"));
    };
    if !a.has_tag_name((SAML, "Assertion")) || a.parent() != Some(doc.root_element()) {
        return Err(bad(
            "the Assertion must be an unencrypted child of the Response",
        ));
    }
    Ok(a)
}

pub(super) fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name((ns, name)))
}

pub(super) fn children<'a, 'i>(
    n: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(move |c| c.has_tag_name((ns, name)))
}

/// The text of an element: its text children only, joined, which is exactly what exc-c14n
/// (without comments) signed. A comment splits text without changing it; its own text,
/// and a child element's, are not part of the value.
pub(super) fn text(n: Node<'_, '_>) -> String {
    n.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// The values of the Assertion's attribute `name` (under the site's prefix).
fn attribute_values(assertion: Node<'_, '_>, name: &str) -> Vec<String> {
    children(assertion, SAML, "AttributeStatement")
        .flat_map(|s| children(s, SAML, "Attribute"))
        .filter(|a| a.attribute("Name") == Some(name))
        .flat_map(|a| children(a, SAML, "AttributeValue"))
        .map(text)
        .collect()
}

/// The Role attribute's one role pair (unverified: it names the provider to verify with).
pub fn role_pair(assertion: Node<'_, '_>, site: &ConsoleSite) -> Result<RolePair, Refusal> {
    let values = attribute_values(assertion, &format!("{}Role", site.attribute_prefix));
    let [value] = values.as_slice() else {
        return Err(bad(
            "the SAML response must carry exactly one Role attribute value",
        ));
    };
    let (role, provider) = value
        .split_once(',')
        .ok_or_else(|| bad("the Role attribute must be `<role ARN>,<provider ARN>`"))?;
    let (ra, role) = arn(role.trim(), "role")
        .ok_or_else(|| bad("the Role attribute's role ARN is malformed"))?;
    let (pa, provider) = arn(provider.trim(), "saml-provider")
        .ok_or_else(|| bad("the Role attribute's provider ARN is malformed"))?;
    if ra != pa {
        return Err(denied(
            "the role and the SAML provider are in different accounts",
        ));
    }
    Ok(RolePair {
        account: ra.to_owned(),
        role: role.to_owned(),
        provider: provider.to_owned(),
    })
}

/// `acs:ram::<account>:<kind>/<name>` -> (account, name).
fn arn<'a>(s: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = s.strip_prefix("acs:ram::")?;
    let (account, tail) = rest.split_once(':')?;
    let name = tail.strip_prefix(kind)?.strip_prefix('/')?;
    let ok = !account.is_empty() && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty();
    ok.then_some((account, name))
}

pub(super) fn instant(
    n: Option<Node<'_, '_>>,
    attr: &str,
) -> Result<Option<OffsetDateTime>, Refusal> {
    match n.and_then(|n| n.attribute(attr)) {
        None => Ok(None),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339)
            .map(Some)
            .map_err(|_| bad(format!("{attr} is not a UTC instant"))),
    }
}

/// What a verified Assertion says.
#[derive(Debug)]
pub struct Verified {
    pub assertion_id: String,
    pub subject: String,
    pub session_name: String,
    pub not_on_or_after: OffsetDateTime,
    pub expires: OffsetDateTime,
}

/// Checks a parsed Response against the provider's metadata and the site, at `now`: both
/// signatures (the Assertion's required, the Response's if present), then every claim, read
/// from the verified Assertion only.
pub fn verify(
    doc: &Document<'_>,
    metadata: &ParsedMetadata,
    site: &ConsoleSite,
    now: OffsetDateTime,
) -> Result<Verified, Refusal> {
    let keys = metadata_keys(metadata)?;
    let (assertion, not_on_or_after, subject) = verify_common(doc, &keys, metadata, site, now)?;
    let session_name = one_attribute(assertion, site, "RoleSessionName")?
        .ok_or_else(|| bad("RoleSessionName is required in AuthnResponse"))?;
    let session_ok = (2..=64).contains(&session_name.len())
        && session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !session_ok {
        return Err(bad(
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
        ));
    }
    let expires = session_end(assertion, site, now)?;
    Ok(Verified {
        assertion_id: assertion.attribute("ID").unwrap_or("").to_owned(),
        subject,
        session_name,
        not_on_or_after,
        expires,
    })
}

/// What role-based and user-based SSO check alike: both signatures (the Assertion's
/// required, the Response's if present), the envelope, the Conditions and the bearer
/// confirmation; returns the verified Assertion, its `NotOnOrAfter` and its NameID.
fn verify_common<'a, 'i>(
    doc: &'a Document<'i>,
    keys: &[RsaPublicKey],
    metadata: &ParsedMetadata,
    site: &ConsoleSite,
    now: OffsetDateTime,
) -> Result<(Node<'a, 'i>, OffsetDateTime, String), Refusal> {
    let response = doc.root_element();
    let assertion = the_assertion(doc)?;
    verify_signature(assertion, keys)?;
    if child(response, DS, "Signature").is_some() {
        verify_signature(response, keys)?;
    }
    check_envelope(response, assertion, metadata, site)?;
    let not_on_or_after = check_conditions(assertion, &site.audience, now)?;
    check_subject(assertion, &site.acs_url, now)?;
    let subject = child(assertion, SAML, "Subject")
        .and_then(|s| child(s, SAML, "NameID"))
        .map(text)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| denied("the Assertion has no NameID"))?;
    Ok((assertion, not_on_or_after, subject))
}

/// Checks a parsed user-based SSO Response (a RAM user's console sign-in) against the IdP
/// metadata the account trusts and the account's site, at `now`: what `verify` checks but
/// the role attributes. The session ends at `SessionNotOnOrAfter` (or after
/// `RAM_USER_SESSION_SECONDS_DEFAULT`), at most `RAM_USER_SESSION_SECONDS_MAX` from now.
pub fn verify_user(
    doc: &Document<'_>,
    metadata: &ParsedMetadata,
    site: &ConsoleSite,
    now: OffsetDateTime,
) -> Result<Verified, Refusal> {
    let keys = metadata_keys(metadata)?;
    let (assertion, not_on_or_after, subject) = verify_common(doc, &keys, metadata, site, now)?;
    let mut end = now + time::Duration::seconds(RAM_USER_SESSION_SECONDS_DEFAULT);
    for a in children(assertion, SAML, "AuthnStatement") {
        if let Some(t) = instant(Some(a), "SessionNotOnOrAfter")? {
            end = t;
        }
    }
    let expires = end.min(now + time::Duration::seconds(RAM_USER_SESSION_SECONDS_MAX));
    if expires <= now {
        return Err(denied("the SAML assertion's session has ended"));
    }
    Ok(Verified {
        assertion_id: assertion.attribute("ID").unwrap_or("").to_owned(),
        session_name: subject.clone(),
        subject,
        not_on_or_after,
        expires,
    })
}

/// The signing keys of IdP metadata (at least one).
fn metadata_keys(metadata: &ParsedMetadata) -> Result<Vec<RsaPublicKey>, Refusal> {
    let keys: Vec<RsaPublicKey> = metadata
        .certificates
        .iter()
        .filter_map(|c| certificate_key(c))
        .collect();
    if keys.is_empty() {
        return Err(denied("the SAML provider has no signing certificate"));
    }
    Ok(keys)
}

fn check_envelope(
    response: Node<'_, '_>,
    assertion: Node<'_, '_>,
    metadata: &ParsedMetadata,
    site: &ConsoleSite,
) -> Result<(), Refusal> {
    if let Some(d) = response.attribute("Destination")
        && d != site.acs_url
    {
        return Err(denied(format!(
            "the response's Destination `{d}` is not this console"
        )));
    }
    let status = child(response, SAMLP, "Status")
        .and_then(|s| child(s, SAMLP, "StatusCode"))
        .and_then(|c| c.attribute("Value"));
    if status != Some(STATUS_SUCCESS) {
        return Err(denied("the SAML response's status is not Success"));
    }
    let issuers = [
        child(response, SAML, "Issuer"),
        child(assertion, SAML, "Issuer"),
    ];
    let assertion_issuer = issuers[1].map(text);
    let all_match = issuers
        .iter()
        .flatten()
        .all(|i| text(*i) == metadata.entity_id);
    if assertion_issuer.is_none() || !all_match {
        return Err(denied("Issuer not present in specified provider"));
    }
    Ok(())
}

/// The Conditions' window and audience; returns `NotOnOrAfter`.
pub(super) fn check_conditions(
    assertion: Node<'_, '_>,
    audience: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, Refusal> {
    let skew = time::Duration::seconds(CLOCK_SKEW_SECONDS);
    let c = child(assertion, SAML, "Conditions")
        .ok_or_else(|| denied("the Assertion has no Conditions"))?;
    if let Some(nb) = instant(Some(c), "NotBefore")?
        && now + skew < nb
    {
        return Err(denied("the SAML assertion is not yet valid"));
    }
    let until = instant(Some(c), "NotOnOrAfter")?
        .ok_or_else(|| denied("the Conditions have no NotOnOrAfter"))?;
    if now - skew >= until {
        return Err(denied("the SAML assertion has expired"));
    }
    let restrictions: Vec<Node<'_, '_>> = children(c, SAML, "AudienceRestriction").collect();
    let ours = |r: &Node<'_, '_>| children(*r, SAML, "Audience").any(|a| text(a) == audience);
    if restrictions.is_empty() || !restrictions.iter().all(ours) {
        return Err(denied(format!(
            "the SAML assertion's audience is not `{audience}`"
        )));
    }
    Ok(until)
}

/// A bearer confirmation to this console's ACS, still valid.
pub(super) fn check_subject(
    assertion: Node<'_, '_>,
    acs_url: &str,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let skew = time::Duration::seconds(CLOCK_SKEW_SECONDS);
    let subject =
        child(assertion, SAML, "Subject").ok_or_else(|| denied("the Assertion has no Subject"))?;
    for conf in children(subject, SAML, "SubjectConfirmation") {
        let data = child(conf, SAML, "SubjectConfirmationData");
        let bearer = conf.attribute("Method") == Some("urn:oasis:names:tc:SAML:2.0:cm:bearer");
        let recipient = data.and_then(|d| d.attribute("Recipient"));
        let until = instant(data, "NotOnOrAfter")?;
        if bearer && recipient == Some(acs_url) && until.is_some_and(|u| now - skew < u) {
            return Ok(());
        }
    }
    Err(denied(format!(
        "the SAML assertion has no valid bearer confirmation for recipient `{acs_url}`"
    )))
}

/// The one value of attribute `name`, if any.
fn one_attribute(
    assertion: Node<'_, '_>,
    site: &ConsoleSite,
    name: &str,
) -> Result<Option<String>, Refusal> {
    let values = attribute_values(assertion, &format!("{}{name}", site.attribute_prefix));
    match values.as_slice() {
        [] => Ok(None),
        [v] => Ok(Some(v.clone())),
        _ => Err(bad(format!("the {name} attribute must have one value"))),
    }
}

/// now + SessionDuration, no later than `SessionNotOnOrAfter`.
fn session_end(
    assertion: Node<'_, '_>,
    site: &ConsoleSite,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, Refusal> {
    let seconds = match one_attribute(assertion, site, "SessionDuration")? {
        None => SESSION_DURATION_DEFAULT,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| (SESSION_DURATION_MIN..=SESSION_DURATION_MAX).contains(s))
            .ok_or_else(|| bad(format!("SessionDuration must be {SESSION_DURATION_MIN} to {SESSION_DURATION_MAX} seconds")))?,
    };
    let mut end = now + time::Duration::seconds(seconds);
    for a in children(assertion, SAML, "AuthnStatement") {
        if let Some(t) = instant(Some(a), "SessionNotOnOrAfter")? {
            end = end.min(t);
        }
    }
    Ok(end)
}

/// Whether a role's trust policy lets `provider_arn` federate to it through `acs`.
pub fn trusts(trust_policy: &str, provider_arn: &str, acs: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(trust_policy) else {
        return false;
    };
    let has = |v: Option<&serde_json::Value>, want: &str| match v {
        Some(serde_json::Value::String(s)) => s == want,
        Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(want)),
        _ => false,
    };
    let statements = doc
        .get("Statement")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    statements.iter().any(|s| {
        s.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
            && has(s.pointer("/Principal/Federated"), provider_arn)
            && has(s.pointer("/Condition/StringEquals/saml:recipient"), acs)
    })
}

impl SignIn {
    /// The embedded console's sign-in: verifies a posted Response as a cloud would and
    /// answers what the console page shows.
    pub async fn console_accept(
        &self,
        saml_response: &str,
        relay_state: Option<&str>,
    ) -> Result<ConsoleSession, Refusal> {
        let site = ConsoleSite::embedded(self.public_url());
        let xml = decode(saml_response)?;
        let pair = {
            let doc = parse(&xml)?;
            role_pair(the_assertion(&doc)?, &site)?
        };
        let metadata = self.provider_metadata(&pair).await?;
        let now = OffsetDateTime::now_utc();
        let v = {
            let doc = parse(&xml)?;
            verify(&doc, &metadata, &site, now)?
        };
        let role = self.trusted_role(&pair, &site).await?;
        let expires = v
            .expires
            .min(now + time::Duration::seconds(i64::from(role.max_session_duration)));
        self.inner.seen_assertions.first_use(
            &v.assertion_id,
            v.not_on_or_after.unix_timestamp(),
            now.unix_timestamp(),
        )?;
        let mut policies = role.system_policies.clone();
        policies.extend(role.inline_policy.map(|(name, _)| name));
        Ok(ConsoleSession {
            session_name: v.session_name,
            subject: v.subject,
            account_id: pair.account,
            identity: ConsoleIdentity::Role {
                name: pair.role,
                policies,
            },
            expires,
            relay_state: relay_state
                .filter(|r| site.relay_state_allowed(r))
                .map(str::to_owned),
        })
    }

    /// The embedded console's user-based SSO (`/saml/SSO`): verifies a posted Response as
    /// a cloud would for a RAM user's console sign-in. The NameID's logon name
    /// (`<name>@<account>.onaliyun.com`) names the account; the account's user-based SSO
    /// setting whose entity id is the Issuer gives the certificates (never KeyInfo); then
    /// every check of `verify_user`, the RAM user must exist in the account, and the
    /// assertion must not have been used.
    pub async fn console_accept_ram_user(
        &self,
        saml_response: &str,
        relay_state: Option<&str>,
    ) -> Result<ConsoleSession, Refusal> {
        let xml = decode(saml_response)?;
        let (account, issuer) = {
            let doc = parse(&xml)?;
            let a = the_assertion(&doc)?;
            let upn = child(a, SAML, "Subject")
                .and_then(|s| child(s, SAML, "NameID"))
                .map(text)
                .unwrap_or_default();
            let (_, account) = super::parse_logon_name(&upn).ok_or_else(|| {
                bad("the NameID must be a RAM user's logon name, <name>@<account id>.onaliyun.com")
            })?;
            let issuer = child(a, SAML, "Issuer").map(text).unwrap_or_default();
            (account.to_owned(), issuer)
        };
        let site = ConsoleSite::embedded_user_sso(self.public_url(), &account);
        let metadata = self.user_sso_metadata(&account, &issuer).await?;
        let now = OffsetDateTime::now_utc();
        let v = {
            let doc = parse(&xml)?;
            verify_user(&doc, &metadata, &site, now)?
        };
        // Read again from the verified Assertion.
        let Some((name, signed_account)) = super::parse_logon_name(&v.subject) else {
            return Err(bad("the NameID is not a RAM user's logon name"));
        };
        if signed_account != account {
            return Err(denied("the NameID names another account"));
        }
        let exists = self
            .access()
            .provider()
            .ram_users(&account)
            .await
            .map_err(|e| bad(format!("reading the RAM users failed: {e}")))?
            .iter()
            .any(|u| u.name == name);
        if !exists {
            return Err(denied(format!(
                "The RAM user `{name}` does not exist in account {account}"
            )));
        }
        self.inner.seen_assertions.first_use(
            &v.assertion_id,
            v.not_on_or_after.unix_timestamp(),
            now.unix_timestamp(),
        )?;
        Ok(ConsoleSession {
            identity: ConsoleIdentity::RamUser {
                name: name.to_owned(),
            },
            session_name: v.session_name,
            subject: v.subject,
            account_id: account,
            expires: v.expires,
            relay_state: relay_state
                .filter(|r| site.relay_state_allowed(r))
                .map(str::to_owned),
        })
    }

    /// The IdP metadata the account's user-based SSO trusts whose entity id is `issuer`.
    async fn user_sso_metadata(
        &self,
        account: &str,
        issuer: &str,
    ) -> Result<ParsedMetadata, Refusal> {
        let all = self
            .access()
            .provider()
            .user_sso(account)
            .await
            .map_err(|e| bad(format!("reading the account's SSO settings failed: {e}")))?;
        all.iter()
            .filter_map(|(_, m)| parse_metadata(m))
            .find(|m| m.entity_id == issuer)
            .ok_or_else(|| denied("the account's user-based SSO does not trust this Issuer"))
    }

    /// The registered metadata of the Role attribute's SAML provider.
    async fn provider_metadata(&self, pair: &RolePair) -> Result<ParsedMetadata, Refusal> {
        let found = self
            .access()
            .provider()
            .saml_provider_metadata(&pair.account, &pair.provider)
            .await
            .map_err(|e| bad(format!("reading the SAML provider failed: {e}")))?;
        let doc = found.ok_or_else(|| denied("Specified provider doesn't exist"))?;
        parse_metadata(&doc).ok_or_else(|| denied("the SAML provider's metadata is unreadable"))
    }

    /// The role, if it exists and trusts the pair's provider through this console's ACS.
    async fn trusted_role(
        &self,
        pair: &RolePair,
        site: &ConsoleSite,
    ) -> Result<crate::access::provider::RoleSpec, Refusal> {
        let not_authorized = || denied("Not authorized to perform sts:AssumeRoleWithSAML");
        let role = self
            .access()
            .provider()
            .role(&pair.account, &pair.role)
            .await
            .map_err(|e| bad(format!("reading the role failed: {e}")))?
            .ok_or_else(not_authorized)?;
        let provider_arn = format!("acs:ram::{}:saml-provider/{}", pair.account, pair.provider);
        if !trusts(&role.trust_policy, &provider_arn, &site.acs_url) {
            return Err(not_authorized());
        }
        Ok(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies() {
        let p = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
            "Principal":{"Federated":["acs:ram::1:saml-provider/P"]},
            "Condition":{"StringEquals":{"saml:recipient":"https://x/saml-role/sso"}}}]}"#;
        let cases = [
            (
                "acs:ram::1:saml-provider/P",
                "https://x/saml-role/sso",
                true,
            ),
            (
                "acs:ram::1:saml-provider/Q",
                "https://x/saml-role/sso",
                false,
            ),
            (
                "acs:ram::2:saml-provider/P",
                "https://x/saml-role/sso",
                false,
            ),
            (
                "acs:ram::1:saml-provider/P",
                "https://y/saml-role/sso",
                false,
            ),
        ];
        for (arn, acs, want) in cases {
            assert_eq!(trusts(p, arn, acs), want, "{arn} {acs}");
        }
        assert!(!trusts("not json", "a", "b"));
        let deny = p.replace("Allow", "Deny");
        assert!(!trusts(
            &deny,
            "acs:ram::1:saml-provider/P",
            "https://x/saml-role/sso"
        ));
    }

    #[test]
    fn role_arns() {
        let cases = [
            ("acs:ram::1:role/R", "role", Some(("1", "R"))),
            (
                "acs:ram::1:saml-provider/P",
                "saml-provider",
                Some(("1", "P")),
            ),
            ("acs:ram::x:role/R", "role", None),
            ("acs:ram::1:role/", "role", None),
            ("acs:ram::1:user/R", "role", None),
            ("arn:aws:iam::1:role/R", "role", None),
        ];
        for (s, kind, want) in cases {
            assert_eq!(arn(s, kind), want, "{s}");
        }
    }

    #[test]
    fn replay_set_refuses_a_second_use_and_forgets_expired_ids() {
        let seen = SeenAssertions::with_max(2);
        assert!(seen.first_use("a", 100, 0).is_ok());
        assert!(seen.first_use("a", 100, 0).unwrap_err().forbidden);
        assert!(seen.first_use("b", 200, 0).is_ok());
        // Full of live ids: a third is refused, not remembered.
        assert!(!seen.first_use("c", 100, 0).unwrap_err().forbidden);
        // Once "a" expired (with the skew), it is forgotten and room is made.
        assert!(seen.first_use("c", 300, 100 + CLOCK_SKEW_SECONDS).is_ok());
        assert!(seen.first_use("b", 200, 100 + CLOCK_SKEW_SECONDS).is_err());
    }
}

#[cfg(test)]
mod response_tests {
    use super::super::keys::{self, IdpKey, IdpKeySet};
    use super::super::response::{Claims, Logon, signed_response};
    use super::*;
    use crate::seal::Sealer;
    use std::sync::OnceLock;

    /// Two keys, made once per test process (RSA generation is slow).
    fn test_keys() -> &'static (Sealer, IdpKey, IdpKey) {
        static KEYS: OnceLock<(Sealer, IdpKey, IdpKey)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let sealer = Sealer::new(&Sealer::new_key()).unwrap();
            let a = keys::generate("d-test", &sealer).unwrap();
            let b = keys::generate("d-test", &sealer).unwrap();
            (sealer, a, b)
        })
    }

    const ISSUER: &str = "http://sso.test/d-test/saml";

    fn site() -> ConsoleSite {
        ConsoleSite::embedded("http://sso.test")
    }

    fn metadata_of(k: &IdpKey) -> ParsedMetadata {
        let set = IdpKeySet {
            current: k.clone(),
            previous: None,
        };
        parse_metadata(&keys::metadata(ISSUER, "http://sso.test/sso", &set)).unwrap()
    }

    fn signed(now: OffsetDateTime) -> String {
        let (sealer, k, _) = test_keys();
        let site = site();
        let claims = Claims {
            site: &site,
            issuer: ISSUER,
            subject: "u-1",
            account_id: "1000000000000001",
            session_duration: 3600,
            logon: Logon::Role {
                role_name: "AliyunReservedSSO-Admin",
                provider_name: "AliyunReservedSSO-d-test",
                session_name: "alice@example.com",
                source_identity: Some("acs:sso:alice@example.com".into()),
            },
            now,
        };
        let key = keys::signing_key("d-test", k, sealer).unwrap();
        signed_response(&claims, &key, &k.certificate)
    }

    fn check(
        xml: &str,
        md: &ParsedMetadata,
        site: &ConsoleSite,
        now: OffsetDateTime,
    ) -> Result<Verified, Refusal> {
        let doc = parse(xml)?;
        let pair = role_pair(the_assertion(&doc)?, site)?;
        assert_eq!(pair.account, "1000000000000001");
        verify(&doc, md, site, now)
    }

    #[test]
    fn a_signed_response_verifies_and_says_what_was_signed() {
        let now = OffsetDateTime::now_utc();
        let xml = signed(now);
        assert!(!xml.starts_with("<?xml"));
        let v = check(&xml, &metadata_of(&test_keys().1), &site(), now).unwrap();
        assert_eq!(v.subject, "u-1");
        assert_eq!(v.session_name, "alice@example.com");
        assert!(v.expires > now + time::Duration::seconds(3599));
        assert!(v.not_on_or_after <= now + time::Duration::seconds(300));
        let doc = parse(&xml).unwrap();
        let pair = role_pair(the_assertion(&doc).unwrap(), &site()).unwrap();
        assert_eq!(pair.role, "AliyunReservedSSO-Admin");
        assert_eq!(pair.provider, "AliyunReservedSSO-d-test");
        // The emitted bytes are their own canonical form.
        assert_eq!(
            super::super::xml::canonicalize(doc.root_element(), None),
            xml
        );
    }

    /// A RAM user's Response (user-based SSO) for `account`, signed with key A.
    fn signed_ram_user(now: OffsetDateTime, account: &str) -> String {
        let (sealer, k, _) = test_keys();
        let site = ConsoleSite::embedded_user_sso("http://sso.test", account);
        let logon = super::super::ram_user_logon_name("alice", account);
        let claims = Claims {
            site: &site,
            issuer: ISSUER,
            subject: &logon,
            account_id: account,
            session_duration: 7200,
            logon: Logon::RamUser,
            now,
        };
        let key = keys::signing_key("d-test", k, sealer).unwrap();
        signed_response(&claims, &key, &k.certificate)
    }

    #[test]
    fn a_ram_users_response_verifies_only_for_its_account_site_and_time() {
        let now = OffsetDateTime::now_utc();
        let account = "1000000000000001";
        let xml = signed_ram_user(now, account);
        let md = metadata_of(&test_keys().1);
        let user_site = ConsoleSite::embedded_user_sso("http://sso.test", account);
        let doc = parse(&xml).unwrap();
        let v = verify_user(&doc, &md, &user_site, now).unwrap();
        assert_eq!(v.subject, "alice@1000000000000001.onaliyun.com");
        let left = (v.expires - now).whole_seconds();
        assert!((7199..=7200).contains(&left), "{left}");
        // Another account's audience, the role console, another key, too late: refused.
        let other = ConsoleSite::embedded_user_sso("http://sso.test", "1000000000000002");
        let e = verify_user(&doc, &md, &other, now).unwrap_err();
        assert!(e.message.contains("audience"), "{e}");
        let e = verify_user(&doc, &md, &site(), now).unwrap_err();
        assert!(e.forbidden, "{e}");
        let e = verify(&doc, &md, &site(), now).unwrap_err();
        assert!(e.forbidden, "the role console refuses it: {e}");
        let wrong_key = metadata_of(&test_keys().2);
        assert!(verify_user(&doc, &wrong_key, &user_site, now).is_err());
        let late = now + time::Duration::seconds(600);
        let e = verify_user(&doc, &md, &user_site, late).unwrap_err();
        assert!(e.message.contains("expired"), "{e}");
        // A role Response is not for the user-based SSO console.
        let role = signed(now);
        let doc = parse(&role).unwrap();
        let e = verify_user(&doc, &md, &user_site, now).unwrap_err();
        assert!(e.message.contains("Destination"), "{e}");
    }

    /// Each tampering of a good response, and the refusal's expected words.
    #[test]
    fn tampered_responses_are_refused() {
        let now = OffsetDateTime::now_utc();
        let xml = signed(now);
        let md = metadata_of(&test_keys().1);
        let doc = parse(&xml).unwrap();
        let a = the_assertion(&doc).unwrap();
        let a_text = &xml[a.range()];
        let wrapped = a_text
            .replacen("ID=\"_", "ID=\"_x", 1)
            .replace("AliyunReservedSSO-Admin", "Evil");
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "tampered attribute",
                xml.replace(">alice@example.com<", ">mallory@example.com<"),
                "digest",
            ),
            ("tampered NameID", xml.replace(">u-1<", ">u-2<"), "digest"),
            (
                "tampered role",
                xml.replace("role/AliyunReservedSSO-Admin", "role/Other"),
                "digest",
            ),
            (
                "tampered signature",
                flip_assertion_signature(&xml),
                "signature does not verify",
            ),
            (
                "second assertion",
                xml.replace("</samlp:Response>", &format!("{wrapped}</samlp:Response>")),
                "exactly one Assertion",
            ),
            (
                "doctype",
                format!("<!DOCTYPE r [<!ENTITY x \"y\">]>{xml}"),
                "DOCTYPE",
            ),
            ("not base64 xml", "<<<".into(), "well-formed"),
            (
                "unsigned assertion",
                strip_assertion_signature(&xml),
                "exactly one signature",
            ),
            (
                "response destination",
                xml.replacen(
                    "Destination=\"http://sso.test/saml-role/sso\"",
                    "Destination=\"http://evil/\"",
                    1,
                ),
                "digest",
            ),
        ];
        for (name, bad_xml, words) in cases {
            let err = check(&bad_xml, &md, &site(), now)
                .err()
                .unwrap_or_else(|| panic!("{name} accepted"));
            assert!(err.message.contains(words), "{name}: {}", err.message);
        }
    }

    /// The Assertion's SignatureValue with its first character changed.
    fn flip_assertion_signature(xml: &str) -> String {
        let doc = parse(xml).unwrap();
        let a = the_assertion(&doc).unwrap();
        let v = a
            .descendants()
            .find(|c| c.has_tag_name((DS, "SignatureValue")))
            .unwrap();
        let at = v.first_child().unwrap().range().start;
        let flipped = if &xml[at..at + 1] == "A" { "B" } else { "A" };
        format!("{}{flipped}{}", &xml[..at], &xml[at + 1..])
    }

    fn strip_assertion_signature(xml: &str) -> String {
        let doc = parse(xml).unwrap();
        let a = the_assertion(&doc).unwrap();
        let sig = a
            .children()
            .find(|c| c.has_tag_name((DS, "Signature")))
            .unwrap();
        format!("{}{}", &xml[..sig.range().start], &xml[sig.range().end..])
    }

    #[test]
    fn the_bearer_confirmation_must_name_this_console() {
        let now = OffsetDateTime::now_utc();
        let xml = signed(now);
        let doc = parse(&xml).unwrap();
        let a = the_assertion(&doc).unwrap();
        assert!(check_subject(a, &site().acs_url, now).is_ok());
        let mut other = site();
        other.acs_url = "https://signin.aliyun.com/saml-role/sso".into();
        let err = check_subject(a, &other.acs_url, now).unwrap_err();
        assert!(err.message.contains("recipient"), "{}", err.message);
        let late = now + time::Duration::seconds(300 + CLOCK_SKEW_SECONDS);
        assert!(check_subject(a, &site().acs_url, late).is_err());
    }

    #[test]
    fn wrong_certificates_are_refused_even_when_keyinfo_carries_the_right_one() {
        let now = OffsetDateTime::now_utc();
        let xml = signed(now);
        // The response's KeyInfo holds the signing certificate; the provider trusts another.
        assert!(xml.contains(&test_keys().1.certificate));
        let other = metadata_of(&test_keys().2);
        let err = check(&xml, &other, &site(), now).unwrap_err();
        assert!(
            err.forbidden && err.message.contains("does not verify"),
            "{}",
            err.message
        );
        // After a rotation both are published: the old signature still verifies.
        let set = IdpKeySet {
            current: test_keys().2.clone(),
            previous: Some(test_keys().1.clone()),
        };
        let both = parse_metadata(&keys::metadata(ISSUER, "http://sso.test/sso", &set)).unwrap();
        assert_eq!(both.certificates.len(), 2);
        assert!(check(&xml, &both, &site(), now).is_ok());
        let none = ParsedMetadata {
            entity_id: ISSUER.into(),
            certificates: vec![],
        };
        assert!(check(&xml, &none, &site(), now).is_err());
    }

    #[test]
    fn time_audience_recipient_and_issuer_are_checked() {
        let now = OffsetDateTime::now_utc();
        let xml = signed(now);
        let md = metadata_of(&test_keys().1);
        let skew = time::Duration::seconds(CLOCK_SKEW_SECONDS);
        let five = time::Duration::seconds(300);
        let mut other_audience = site();
        other_audience.audience = "urn:alibaba:cloudcomputing:international".into();
        let mut other_acs = site();
        other_acs.acs_url = "https://signin.aliyun.com/saml-role/sso".into();
        let other_issuer = ParsedMetadata {
            entity_id: "http://sso.test/d-other/saml".into(),
            ..md.clone()
        };
        let cases: Vec<(
            &str,
            &ParsedMetadata,
            ConsoleSite,
            OffsetDateTime,
            Option<&str>,
        )> = vec![
            (
                "within the skew after expiry",
                &md,
                site(),
                now + five + skew - time::Duration::seconds(2),
                None,
            ),
            ("expired", &md, site(), now + five + skew, Some("expired")),
            (
                "within the skew before",
                &md,
                site(),
                now - skew + time::Duration::seconds(1),
                None,
            ),
            (
                "not yet valid",
                &md,
                site(),
                now - skew - time::Duration::seconds(1),
                Some("not yet valid"),
            ),
            ("wrong audience", &md, other_audience, now, Some("audience")),
            ("wrong recipient", &md, other_acs, now, Some("Destination")),
            ("wrong issuer", &other_issuer, site(), now, Some("Issuer")),
        ];
        for (name, md, site, at, want) in cases {
            let got = check(&xml, md, &site, at);
            match want {
                None => assert!(got.is_ok(), "{name}: {:?}", got.err()),
                Some(words) => {
                    let err = got.err().unwrap_or_else(|| panic!("{name} accepted"));
                    assert!(err.message.contains(words), "{name}: {}", err.message);
                }
            }
        }
    }
}
