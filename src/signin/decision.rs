//! The policy decision for a request signed with temporary credentials: may the credential's
//! holder do `action` on `resource` now? The self-hosted twin of a cloud checking a request.
//!
//! Pure: the credential's claims, what was found out about it (its signature over the
//! request, whether it still stands), the access configuration's policies, the action, the
//! resource and the condition context go in; a `Verdict` comes out, with the reason and the
//! statement that decided. The precedence of the reasons is the table in `decide`; the policy
//! combination rules are `policy::authorize`'s. Also the boundary parsers of what a service
//! sends: the resource ARN, the context (JSON) and the RPC signature it saw.
//!
//! Must not do IO or read the clock: `api::ops::decision` gathers (opens the token, asks
//! `SignIn::credential_access_now`, reads the configuration) and maps the verdict to the wire.

use super::credentials::Claims;
pub use crate::access::configs::PolicyKind;
use crate::policy::{self, Context, Outcome, PolicyDocument, PolicyError};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::sync::Arc;

/// Longest action name read (`<service>:<Action>`), in bytes.
pub const ACTION_BYTES_MAX: usize = 128;
/// Longest resource ARN read, in bytes.
pub const RESOURCE_BYTES_MAX: usize = 1024;
/// Most condition keys in a context.
pub const CONTEXT_KEYS_MAX: usize = 32;
/// Most values of one condition key.
pub const CONTEXT_VALUES_PER_KEY_MAX: usize = 16;
/// Longest condition key, and longest value, in bytes.
pub const CONTEXT_KEY_BYTES_MAX: usize = 128;
pub const CONTEXT_VALUE_BYTES_MAX: usize = 1024;
/// Longest string-to-sign read, in bytes (an RPC request's canonical form).
pub const STRING_TO_SIGN_BYTES_MAX: usize = 16 * 1024;
/// Longest signature read, in bytes (HMAC-SHA1 in base64 is 28).
pub const SIGNATURE_BYTES_MAX: usize = 128;
/// The signature methods a service may name; the first is the default (RPC's).
pub const SIGNATURE_METHODS: &[&str] = &["HMAC-SHA1"];

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// Why the verdict is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// An Allow statement matched and no Deny did.
    Allowed,
    /// A Deny statement matched (or one whose conditions could not be evaluated: fail closed).
    ExplicitDeny,
    /// No statement allowed.
    ImplicitDeny,
    /// The resource belongs to another account than the credential's role.
    AccountMismatch,
    /// The credential's expiry has passed.
    CredentialExpired,
    /// The user is disabled or gone, or effective access no longer grants the configuration
    /// on the account (or sign-in is off installation-wide).
    AccessRevoked,
    /// The signature the service saw is not the credential's over the string to sign.
    SignatureMismatch,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Allowed => "Allowed",
            Reason::ExplicitDeny => "ExplicitDeny",
            Reason::ImplicitDeny => "ImplicitDeny",
            Reason::AccountMismatch => "AccountMismatch",
            Reason::CredentialExpired => "CredentialExpired",
            Reason::AccessRevoked => "AccessRevoked",
            Reason::SignatureMismatch => "SignatureMismatch",
        }
    }

    pub fn effect(self) -> Effect {
        match self {
            Reason::Allowed => Effect::Allow,
            _ => Effect::Deny,
        }
    }
}

/// Whether the credential stands now, as `SignIn::credential_access_now` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Current,
    Expired,
    Revoked,
}

/// What the signature check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// No signature was given: the service vouches for the request itself.
    NotGiven,
    Verified,
    Mismatch,
}

/// One of the configuration's policies, parsed.
#[derive(Debug, Clone)]
pub struct ConfigPolicy {
    pub kind: PolicyKind,
    pub name: String,
    /// Shared: a system policy is parsed once for the process.
    pub document: Arc<PolicyDocument>,
}

/// The statement that decided: its policy, its index in the policy's `Statement` array, and
/// the error when its conditions could not be evaluated (a Deny then denies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub kind: PolicyKind,
    pub policy: String,
    pub statement: usize,
    pub condition_error: Option<PolicyError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    /// For `Allowed` and `ExplicitDeny`: the first statement that decided.
    pub matched: Option<Matched>,
}

impl Verdict {
    pub fn effect(&self) -> Effect {
        self.reason.effect()
    }

    fn only(reason: Reason) -> Verdict {
        Verdict {
            reason,
            matched: None,
        }
    }
}

/// What is asked: the action, the resource (parsed) and the condition context.
#[derive(Debug, Clone, Copy)]
pub struct Question<'q> {
    pub action: &'q str,
    pub resource: &'q ResourceArn,
    pub context: &'q Context,
}

/// The decision. In order, the first that holds decides:
///
/// | check | verdict |
/// |---|---|
/// | a signature was given and is not the credential's | `SignatureMismatch` |
/// | the credential has expired | `CredentialExpired` |
/// | the user lost the access | `AccessRevoked` |
/// | the resource's account is not the credential's | `AccountMismatch` |
/// | `policy::authorize` over the configuration's policies | `ExplicitDeny`, `Allowed` or `ImplicitDeny` |
pub fn decide(
    claims: &Claims,
    signature: SignatureCheck,
    standing: Standing,
    policies: &[ConfigPolicy],
    q: &Question,
) -> Verdict {
    if signature == SignatureCheck::Mismatch {
        return Verdict::only(Reason::SignatureMismatch);
    }
    match standing {
        Standing::Expired => return Verdict::only(Reason::CredentialExpired),
        Standing::Revoked => return Verdict::only(Reason::AccessRevoked),
        Standing::Current => {}
    }
    if q.resource.account != claims.account_id {
        return Verdict::only(Reason::AccountMismatch);
    }
    let named: Vec<(&str, &PolicyDocument)> = policies
        .iter()
        .map(|p| (p.name.as_str(), p.document.as_ref()))
        .collect();
    let decision = policy::authorize(
        &named,
        &policy::Request {
            action: q.action,
            resource: &q.resource.text,
            context: q.context,
        },
    );
    let reason = match decision.outcome {
        Outcome::Allow => Reason::Allowed,
        Outcome::ExplicitDeny => Reason::ExplicitDeny,
        Outcome::ImplicitDeny => Reason::ImplicitDeny,
    };
    let matched = decision.decided_by.first().and_then(|at| {
        let p = policies.get(at.policy_index)?;
        let condition_error = decision
            .failures
            .iter()
            .find(|f| f.statement == *at)
            .map(|f| f.error.clone());
        Some(Matched {
            kind: p.kind,
            policy: p.name.clone(),
            statement: at.statement,
            condition_error,
        })
    });
    Verdict { reason, matched }
}

/// A request's resource: `acs:<service>:<region>:<account>:<relative-id>` with a non-empty
/// service, an account of digits and a relative id; region may be empty (global services)
/// or anything without `:`. No whitespace or control characters, at most
/// `RESOURCE_BYTES_MAX` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceArn {
    pub text: String,
    pub account: String,
}

/// Why a parameter a service sent is refused (an API error, not a Deny).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    #[error(
        "the action must be `<service>:<Action>` of letters, digits, `-`, `_` and `.`, at most {ACTION_BYTES_MAX} bytes"
    )]
    Action,
    #[error(
        "the resource must be an ARN `acs:<service>:<region>:<account id>:<resource>`, at most {RESOURCE_BYTES_MAX} bytes"
    )]
    Resource,
    #[error(
        "the context must be a JSON object of at most {CONTEXT_KEYS_MAX} condition keys, each a string, number or boolean or an array of at most {CONTEXT_VALUES_PER_KEY_MAX} (keys at most {CONTEXT_KEY_BYTES_MAX} bytes, values {CONTEXT_VALUE_BYTES_MAX}): {0}"
    )]
    Context(&'static str),
}

impl ResourceArn {
    pub fn parse(text: &str) -> Result<ResourceArn, QuestionError> {
        if text.len() > RESOURCE_BYTES_MAX
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(QuestionError::Resource);
        }
        let mut parts = text.splitn(5, ':');
        let (Some("acs"), Some(service), Some(_region), Some(account), Some(relative)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(QuestionError::Resource);
        };
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        };
        if !word(service)
            || account.is_empty()
            || !account.bytes().all(|b| b.is_ascii_digit())
            || relative.is_empty()
        {
            return Err(QuestionError::Resource);
        }
        Ok(ResourceArn {
            text: text.to_owned(),
            account: account.to_owned(),
        })
    }
}

/// A request's action: `<service>:<Action>`, no wildcards (a request names one action).
pub fn check_action(action: &str) -> Result<&str, QuestionError> {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    match action.split_once(':') {
        Some((service, name))
            if action.len() <= ACTION_BYTES_MAX && word(service) && word(name) =>
        {
            Ok(action)
        }
        _ => Err(QuestionError::Action),
    }
}

/// The condition context a service sent (`{"acs:SourceIp": "10.0.0.1", "acs:ResourceTag/env":
/// ["prod"]}`), with `acs:CurrentTime` (`now`, RFC 3339) and `acs:AccessId` (the credential's
/// AccessKeyId) added when it does not name them, as RAM fills them for a request.
pub fn context(
    json: Option<&str>,
    now: &str,
    access_key_id: &str,
) -> Result<Context, QuestionError> {
    let mut out = Context::new();
    let object = match json {
        None => serde_json::Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Err(QuestionError::Context("not an object")),
            Err(_) => return Err(QuestionError::Context("not valid JSON")),
        },
    };
    if object.len() > CONTEXT_KEYS_MAX {
        return Err(QuestionError::Context("too many keys"));
    }
    for (key, value) in &object {
        if key.is_empty() || key.len() > CONTEXT_KEY_BYTES_MAX {
            return Err(QuestionError::Context("a key is empty or too long"));
        }
        let values = match value {
            Value::Array(list) if list.is_empty() => {
                return Err(QuestionError::Context("a key has no value"));
            }
            Value::Array(list) if list.len() > CONTEXT_VALUES_PER_KEY_MAX => {
                return Err(QuestionError::Context("a key has too many values"));
            }
            Value::Array(list) => list.iter().collect(),
            one => vec![one],
        };
        for v in values {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(QuestionError::Context(
                        "a value is not a string, number or boolean",
                    ));
                }
            };
            if text.len() > CONTEXT_VALUE_BYTES_MAX {
                return Err(QuestionError::Context("a value is too long"));
            }
            out.insert(key, text);
        }
    }
    if out.get("acs:CurrentTime").is_none() {
        out.insert("acs:CurrentTime", now);
    }
    if out.get("acs:AccessId").is_none() {
        out.insert("acs:AccessId", access_key_id);
    }
    Ok(out)
}

/// Whether `signature` (base64) is the RPC signature (HMAC-SHA1, key `<secret>&`) of
/// `string_to_sign`, compared in constant time.
pub fn check_signature(secret: &str, string_to_sign: &str, signature: &str) -> SignatureCheck {
    let Ok(sent) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return SignatureCheck::Mismatch;
    };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()) else {
        return SignatureCheck::Mismatch;
    };
    mac.update(string_to_sign.as_bytes());
    match mac.verify_slice(&sent) {
        Ok(()) => SignatureCheck::Verified,
        Err(_) => SignatureCheck::Mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::credentials::CredentialKind;

    const ACCOUNT: &str = "1234567890123456";

    fn claims() -> Claims {
        let t = |s| time::OffsetDateTime::from_unix_timestamp(s).unwrap();
        Claims::new(
            CredentialKind::Alibaba,
            "d-1",
            "u-1",
            "alice",
            ACCOUNT,
            "ac-1",
            "AliyunReservedSSO-Ops",
            t(1_000),
            t(5_000),
        )
    }

    fn system(name: &str, doc: &str) -> ConfigPolicy {
        ConfigPolicy {
            kind: PolicyKind::System,
            name: name.to_owned(),
            document: Arc::new(PolicyDocument::parse(doc).unwrap()),
        }
    }

    fn inline(doc: &str) -> ConfigPolicy {
        ConfigPolicy {
            kind: PolicyKind::Inline,
            name: "guard".to_owned(),
            document: Arc::new(PolicyDocument::parse(doc).unwrap()),
        }
    }

    const ECS_READ: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:List*","Resource":"*"},{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;
    const DENY_I2: &str = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:*","Resource":"acs:ecs:*:*:instance/i-2"}]}"#;
    const DENY_OUTSIDE: &str = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}"#;
    const ALLOW_BEFORE_2030: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#;

    fn arn(account: &str, tail: &str) -> ResourceArn {
        ResourceArn::parse(&format!("acs:ecs:cn-hangzhou:{account}:{tail}")).unwrap()
    }

    /// (name, signature, standing, policies, action, resource, context, expected reason,
    /// expected (policy, statement) of the deciding statement)
    type Case = (
        &'static str,
        SignatureCheck,
        Standing,
        Vec<ConfigPolicy>,
        &'static str,
        ResourceArn,
        Context,
        Reason,
        Option<(&'static str, usize)>,
    );

    #[test]
    fn verdicts() {
        use Reason::*;
        use SignatureCheck::*;
        use Standing::*;
        let read = || vec![system("AliyunECSReadOnlyAccess", ECS_READ)];
        let guarded = || vec![system("AliyunECSReadOnlyAccess", ECS_READ), inline(DENY_I2)];
        let i1 = || arn(ACCOUNT, "instance/i-1");
        let none = Context::new;
        let from = |ip: &str| Context::new().with("acs:SourceIp", ip);
        let at = |t: &str| Context::new().with("acs:CurrentTime", t);
        let cases: Vec<Case> = vec![
            (
                "allowed by the second statement",
                NotGiven,
                Current,
                read(),
                "ecs:DescribeInstances",
                i1(),
                none(),
                Allowed,
                Some(("AliyunECSReadOnlyAccess", 1)),
            ),
            (
                "allowed, action case-insensitive",
                Verified,
                Current,
                read(),
                "ECS:describeinstances",
                i1(),
                none(),
                Allowed,
                Some(("AliyunECSReadOnlyAccess", 1)),
            ),
            (
                "no statement allows",
                NotGiven,
                Current,
                read(),
                "ecs:DeleteInstance",
                i1(),
                none(),
                ImplicitDeny,
                None,
            ),
            (
                "no policy at all",
                NotGiven,
                Current,
                vec![],
                "ecs:DescribeInstances",
                i1(),
                none(),
                ImplicitDeny,
                None,
            ),
            (
                "inline deny beats a system allow",
                NotGiven,
                Current,
                guarded(),
                "ecs:DescribeInstances",
                arn(ACCOUNT, "instance/i-2"),
                none(),
                ExplicitDeny,
                Some(("guard", 0)),
            ),
            (
                "the deny names another resource",
                NotGiven,
                Current,
                guarded(),
                "ecs:DescribeInstances",
                i1(),
                none(),
                Allowed,
                Some(("AliyunECSReadOnlyAccess", 1)),
            ),
            (
                "another account",
                NotGiven,
                Current,
                read(),
                "ecs:DescribeInstances",
                arn("6543210987654321", "instance/i-1"),
                none(),
                AccountMismatch,
                None,
            ),
            (
                "expired before the account is looked at",
                NotGiven,
                Expired,
                read(),
                "ecs:DescribeInstances",
                arn("6543210987654321", "instance/i-1"),
                none(),
                CredentialExpired,
                None,
            ),
            (
                "revoked",
                NotGiven,
                Revoked,
                read(),
                "ecs:DescribeInstances",
                i1(),
                none(),
                AccessRevoked,
                None,
            ),
            (
                "a bad signature first",
                Mismatch,
                Revoked,
                read(),
                "ecs:DescribeInstances",
                i1(),
                none(),
                SignatureMismatch,
                None,
            ),
            (
                "a deny by source ip",
                NotGiven,
                Current,
                vec![
                    system("AliyunECSReadOnlyAccess", ECS_READ),
                    inline(DENY_OUTSIDE),
                ],
                "ecs:DescribeInstances",
                i1(),
                from("192.0.2.1"),
                ExplicitDeny,
                Some(("guard", 0)),
            ),
            (
                "inside the network",
                NotGiven,
                Current,
                vec![
                    system("AliyunECSReadOnlyAccess", ECS_READ),
                    inline(DENY_OUTSIDE),
                ],
                "ecs:DescribeInstances",
                i1(),
                from("10.1.2.3"),
                Allowed,
                Some(("AliyunECSReadOnlyAccess", 1)),
            ),
            (
                "no source ip: the deny cannot be evaluated and denies",
                NotGiven,
                Current,
                vec![
                    system("AliyunECSReadOnlyAccess", ECS_READ),
                    inline(DENY_OUTSIDE),
                ],
                "ecs:DescribeInstances",
                i1(),
                from("not-an-ip"),
                ExplicitDeny,
                Some(("guard", 0)),
            ),
            (
                "a time condition holds",
                NotGiven,
                Current,
                vec![inline(ALLOW_BEFORE_2030)],
                "oss:GetObject",
                i1(),
                at("2029-12-31T23:59:59Z"),
                Allowed,
                Some(("guard", 0)),
            ),
            (
                "a time condition fails",
                NotGiven,
                Current,
                vec![inline(ALLOW_BEFORE_2030)],
                "oss:GetObject",
                i1(),
                at("2030-01-01T00:00:01Z"),
                ImplicitDeny,
                None,
            ),
        ];
        let c = claims();
        let mut failures = Vec::new();
        for (name, sig, standing, policies, action, resource, context, reason, matched) in cases {
            let q = Question {
                action,
                resource: &resource,
                context: &context,
            };
            let v = decide(&c, sig, standing, &policies, &q);
            let got = v.matched.as_ref().map(|m| (m.policy.as_str(), m.statement));
            if v.reason != reason || got != matched {
                failures.push(format!("{name}: {v:?}, want {reason:?} {matched:?}"));
            }
            if v.effect()
                != if reason == Allowed {
                    Effect::Allow
                } else {
                    Effect::Deny
                }
            {
                failures.push(format!("{name}: effect {:?}", v.effect()));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn a_deny_that_cannot_be_evaluated_says_so() {
        let policies = vec![
            system("AliyunECSReadOnlyAccess", ECS_READ),
            inline(DENY_OUTSIDE),
        ];
        let resource = arn(ACCOUNT, "instance/i-1");
        let context = Context::new().with("acs:SourceIp", "nonsense");
        let q = Question {
            action: "ecs:DescribeInstances",
            resource: &resource,
            context: &context,
        };
        let v = decide(
            &claims(),
            SignatureCheck::NotGiven,
            Standing::Current,
            &policies,
            &q,
        );
        let m = v.matched.unwrap();
        assert_eq!(m.kind, PolicyKind::Inline);
        assert!(m.condition_error.is_some(), "{m:?}");
    }

    #[test]
    fn resource_arns_on_both_sides_of_each_rule() {
        let long_tail = "x".repeat(RESOURCE_BYTES_MAX - "acs:ecs::1:".len());
        let ok = [
            "acs:ecs:cn-hangzhou:1234567890123456:instance/i-1",
            "acs:ram::1234567890123456:role/ops",
            "acs:oss:*:1234567890123456:bucket/key:with:colons",
        ];
        for a in ok {
            assert_eq!(
                ResourceArn::parse(a).unwrap().account,
                a.split(':').nth(3).unwrap(),
                "{a}"
            );
        }
        assert!(ResourceArn::parse(&format!("acs:ecs::1:{long_tail}")).is_ok());
        let bad = [
            String::new(),
            "*".into(),
            "arn:aws:s3:::bucket".into(),
            "acs:ecs:cn-hangzhou:*:instance/i-1".into(),
            "acs:ecs:cn-hangzhou::instance/i-1".into(),
            "acs:ecs:cn-hangzhou:12ab:instance/i-1".into(),
            "acs::cn-hangzhou:1:instance/i-1".into(),
            "acs:ecs:cn-hangzhou:1:".into(),
            "acs:ecs:cn-hangzhou:1".into(),
            "acs:ecs:cn-hangzhou:1:instance/i 1".into(),
            "acs:ecs:cn-hangzhou:1:instance/\u{7}".into(),
            format!("acs:ecs::1:{long_tail}x"),
        ];
        for a in bad {
            assert_eq!(ResourceArn::parse(&a), Err(QuestionError::Resource), "{a}");
        }
    }

    #[test]
    fn actions() {
        let name = "A".repeat(ACTION_BYTES_MAX - 4);
        for a in [
            "ecs:DescribeInstances",
            "oss:GetObject",
            "log:Get.Logs",
            &format!("ecs:{name}"),
        ] {
            assert_eq!(check_action(a), Ok(a));
        }
        for a in [
            "",
            "ecs",
            "ecs:",
            ":Describe",
            "ecs:*",
            "ecs:Describe*",
            "*",
            "ecs:a b",
            &format!("ecs:{name}x"),
        ] {
            assert_eq!(check_action(a), Err(QuestionError::Action), "{a}");
        }
    }

    #[test]
    fn contexts_and_their_limits() {
        let now = "2026-01-01T00:00:00Z";
        let c = context(None, now, "STS.X").unwrap();
        assert_eq!(c.get("acs:currenttime").unwrap(), [now]);
        assert_eq!(c.get("acs:AccessId").unwrap(), ["STS.X"]);
        let c = context(
            Some(r#"{"acs:SourceIp":"10.0.0.1","acs:CurrentTime":"2020-01-01T00:00:00Z","acs:ResourceTag/env":["a","b"],"acs:MFAPresent":true,"n":3}"#),
            now,
            "STS.X",
        )
        .unwrap();
        assert_eq!(c.get("acs:sourceip").unwrap(), ["10.0.0.1"]);
        assert_eq!(
            c.get("acs:CurrentTime").unwrap(),
            ["2020-01-01T00:00:00Z"],
            "the service's time wins"
        );
        assert_eq!(c.get("acs:resourcetag/env").unwrap(), ["a", "b"]);
        assert_eq!(c.get("acs:MFAPresent").unwrap(), ["true"]);
        let keys = |n: usize| {
            let m: serde_json::Map<String, Value> = (0..n)
                .map(|i| (format!("k{i}"), Value::from("v")))
                .collect();
            Value::Object(m).to_string()
        };
        assert!(context(Some(&keys(CONTEXT_KEYS_MAX)), now, "K").is_ok());
        let values = |n: usize| serde_json::json!({"k": vec!["v"; n]}).to_string();
        assert!(context(Some(&values(CONTEXT_VALUES_PER_KEY_MAX)), now, "K").is_ok());
        let key = |n: usize| serde_json::json!({"k".repeat(n): "v"}).to_string();
        assert!(context(Some(&key(CONTEXT_KEY_BYTES_MAX)), now, "K").is_ok());
        let value = |n: usize| serde_json::json!({"k": "v".repeat(n)}).to_string();
        assert!(context(Some(&value(CONTEXT_VALUE_BYTES_MAX)), now, "K").is_ok());
        for bad in [
            keys(CONTEXT_KEYS_MAX + 1),
            values(CONTEXT_VALUES_PER_KEY_MAX + 1),
            key(CONTEXT_KEY_BYTES_MAX + 1),
            value(CONTEXT_VALUE_BYTES_MAX + 1),
            "[]".into(),
            "{".into(),
            r#"{"k":[]}"#.into(),
            r#"{"k":{"a":1}}"#.into(),
            r#"{"k":null}"#.into(),
            r#"{"":"v"}"#.into(),
        ] {
            assert!(context(Some(&bad), now, "K").is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures() {
        let secret = "s3cret";
        let to_sign = "GET&%2F&AccessKeyId%3DSTS.X%26Action%3DDescribeInstances";
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"s3cret&").unwrap();
        mac.update(to_sign.as_bytes());
        let good = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(
            check_signature(secret, to_sign, &good),
            SignatureCheck::Verified
        );
        assert_eq!(
            check_signature("other", to_sign, &good),
            SignatureCheck::Mismatch
        );
        assert_eq!(
            check_signature(secret, &format!("{to_sign}x"), &good),
            SignatureCheck::Mismatch
        );
        assert_eq!(
            check_signature(secret, to_sign, "not base64!"),
            SignatureCheck::Mismatch
        );
        assert_eq!(
            check_signature(secret, to_sign, ""),
            SignatureCheck::Mismatch
        );
    }
}
