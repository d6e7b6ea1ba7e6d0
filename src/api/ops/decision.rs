//! `CheckCredentialAccess` (cloudsso's own CloudSSO operation): for a service that trusts
//! cloudsso, Allow or Deny for a request signed with a user's temporary credentials, with the
//! reason and the statement that decided. Gathers what `signin::decision::decide` needs (the
//! token opened, the optional signature checked with the credential's derived secret, the
//! credential's standing now, the access configuration's policies) and maps its verdict.
//!
//! Its parameters avoid the names the RPC protocol keeps for the caller's own request
//! (`AccessKeyId`, `SecurityToken`, `Action`, `Signature`, `SignatureMethod`), as RAM's
//! `UserAccessKeyId` does. Authorized on `account/<the resource's account id>`: an
//! administrator may be limited to the accounts whose requests it checks.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::{Ctx, Handler};
use crate::access::system_policies;
use crate::error::DomainError;
use crate::model::DirectoryId;
use crate::policy::PolicyDocument;
use crate::signin::credentials::{self, Claims, CredentialRefusal};
use crate::signin::decision::{
    self, ConfigPolicy, PolicyKind, Question, QuestionError, ResourceArn, SIGNATURE_BYTES_MAX,
    SIGNATURE_METHODS, STRING_TO_SIGN_BYTES_MAX, SignatureCheck, Standing, Verdict,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub const KEY_ID: &str = "CredentialAccessKeyId";
pub const TOKEN: &str = "CredentialSecurityToken";
pub const ACTION: &str = "ActionName";
pub const RESOURCE: &str = "ResourceArn";
pub const CONTEXT: &str = "Context";
pub const STRING_TO_SIGN: &str = "StringToSign";
pub const SIGNATURE: &str = "RequestSignature";
pub const SIGNATURE_METHOD: &str = "RequestSignatureMethod";
/// Longest AccessKeyId read, in bytes (cloudsso's are 20 or 28).
pub const KEY_ID_BYTES_MAX: usize = 64;

pub(super) static HANDLERS: &[Handler] = &[op!(
    CloudSso,
    "CheckCredentialAccess",
    resource_account,
    check
)];

fn resource(p: &Params) -> Result<ResourceArn, ApiFault> {
    ResourceArn::parse(p.required(RESOURCE)?).map_err(|e| invalid(RESOURCE, &e))
}

/// `account/<AccountId>` of the resource asked about.
fn resource_account(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![format!("account/{}", resource(p)?.account)])
}

fn invalid(name: &str, e: &QuestionError) -> ApiFault {
    ApiFault::invalid(name, e)
}

/// A required parameter of at most `max` bytes.
fn bounded<'p>(p: &'p Params, name: &str, max: usize) -> Result<&'p str, ApiFault> {
    let v = p.required(name)?;
    if v.len() > max {
        return Err(ApiFault::invalid(
            name,
            format!("must be at most {max} bytes"),
        ));
    }
    Ok(v)
}

/// `StringToSign` and `RequestSignature`, both or neither.
fn signed(p: &Params) -> Result<Option<(&str, &str)>, ApiFault> {
    p.maybe_one_of(SIGNATURE_METHOD, SIGNATURE_METHODS)?;
    match (p.get(STRING_TO_SIGN), p.get(SIGNATURE)) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiFault::missing(SIGNATURE)),
        (None, Some(_)) => Err(ApiFault::missing(STRING_TO_SIGN)),
        (Some(_), Some(_)) => Ok(Some((
            bounded(p, STRING_TO_SIGN, STRING_TO_SIGN_BYTES_MAX)?,
            bounded(p, SIGNATURE, SIGNATURE_BYTES_MAX)?,
        ))),
    }
}

async fn check(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let key_id = bounded(p, KEY_ID, KEY_ID_BYTES_MAX)?;
    let token = bounded(
        p,
        TOKEN,
        credentials::TOKEN_BYTES_MAX + credentials::TOKEN_PREFIX.len(),
    )?;
    let action = decision::check_action(p.required(ACTION)?).map_err(|e| invalid(ACTION, &e))?;
    let resource = resource(p)?;
    let context = decision::context(p.get(CONTEXT), &crate::model::now_rfc3339(), key_id)
        .map_err(|e| invalid(CONTEXT, &e))?;
    let signed = signed(p)?;
    let opened = credentials::open(ctx.signin().sealer(), key_id, token)
        .map_err(ApiFault::security_token)?;
    let signature = match signed {
        Some((to_sign, sig)) => decision::check_signature(opened.secret(), to_sign, sig),
        None => SignatureCheck::NotGiven,
    };
    let claims = opened.claims().clone();
    let standing = match ctx.signin().credential_access_now(opened).await? {
        Ok(_) => Standing::Current,
        Err(CredentialRefusal::Expired) => Standing::Expired,
        Err(_) => Standing::Revoked,
    };
    // A credential whose configuration is gone no longer stands.
    let (standing, policies) = match standing {
        Standing::Current => match policies(ctx, &claims).await? {
            Some(p) => (standing, p),
            None => (Standing::Revoked, Vec::new()),
        },
        other => (other, Vec::new()),
    };
    let q = Question {
        action,
        resource: &resource,
        context: &context,
    };
    let v = decision::decide(&claims, signature, standing, &policies, &q);
    Ok(answer(&claims, &v, &q))
}

/// The configuration's system policies (from the catalogue) and its inline policy, parsed;
/// `None` when the configuration is gone.
async fn policies(ctx: &Ctx, c: &Claims) -> Result<Option<Vec<ConfigPolicy>>, ApiFault> {
    let dir = DirectoryId::from(c.directory_id.clone());
    let config = match ctx.access().config(&dir, &c.config_id).await {
        Ok(config) => config,
        Err(DomainError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::with_capacity(config.system_policies.len() + 1);
    for name in &config.system_policies {
        // A name no longer in the catalogue allows nothing.
        if let Some(document) = system_document(name) {
            out.push(ConfigPolicy {
                kind: PolicyKind::System,
                name: name.clone(),
                document,
            });
        }
    }
    if let Some(text) = &config.inline_policy {
        let document = PolicyDocument::parse(text).map_err(|e| {
            ApiFault::from(DomainError::Internal(format!(
                "stored inline policy of `{}`: {e}",
                c.config_id
            )))
        })?;
        out.push(ConfigPolicy {
            kind: PolicyKind::Inline,
            name: config.inline_policy_name.clone(),
            document: Arc::new(document),
        });
    }
    Ok(Some(out))
}

/// The system policy `name` of the catalogue, parsed once for the process (every document of
/// the catalogue parses: `access::system_policies`' test).
fn system_document(name: &str) -> Option<Arc<PolicyDocument>> {
    static PARSED: OnceLock<HashMap<&'static str, Arc<PolicyDocument>>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            system_policies::SYSTEM_POLICIES
                .iter()
                .filter_map(|(name, _, text)| {
                    Some((*name, Arc::new(PolicyDocument::parse(text).ok()?)))
                })
                .collect()
        })
        .get(name)
        .cloned()
}

fn answer(c: &Claims, v: &Verdict, q: &Question) -> Value {
    let mut out = json!({
        "Decision": v.effect().as_str(),
        "Reason": v.reason.as_str(),
        "Explanation": explanation(c, v, q),
        "Principal": {
            "Arn": c.assumed_role_arn(),
            "AccountId": c.account_id,
            "UserId": c.user_id,
            "UserName": c.user_name,
            "DirectoryId": c.directory_id,
            "AccessConfigurationId": c.config_id,
        },
    });
    if let (Some(m), Some(o)) = (&v.matched, out.as_object_mut()) {
        let mut statement = json!({
            "PolicyType": m.kind.as_str(),
            "PolicyName": m.policy,
            "StatementIndex": m.statement,
        });
        if let (Some(e), Some(s)) = (&m.condition_error, statement.as_object_mut()) {
            s.insert("ConditionError".into(), json!(e.to_string()));
        }
        o.insert("MatchedStatement".into(), statement);
    }
    out
}

fn explanation(c: &Claims, v: &Verdict, q: &Question) -> String {
    use decision::Reason::*;
    let (action, resource) = (q.action, q.resource.text.as_str());
    let statement = || {
        v.matched.as_ref().map_or_else(String::new, |m| {
            format!(
                "statement {} of the {} policy `{}`",
                m.statement,
                m.kind.as_str().to_lowercase(),
                m.policy
            )
        })
    };
    match v.reason {
        Allowed => format!("{} allows `{action}` on `{resource}`", statement()),
        ExplicitDeny => format!("{} denies `{action}` on `{resource}`", statement()),
        ImplicitDeny => format!(
            "no statement of the access configuration's policies allows `{action}` on `{resource}`"
        ),
        AccountMismatch => format!(
            "the resource is in account `{}`, the credential's role in account `{}`",
            q.resource.account, c.account_id
        ),
        CredentialExpired => "the credential has expired".to_owned(),
        AccessRevoked => {
            "the user no longer has this access (disabled, deleted or no longer assigned)"
                .to_owned()
        }
        SignatureMismatch => {
            "the signature is not the credential's over the string to sign".to_owned()
        }
    }
}
