//! Administrator operations in RAM's shape (2015-05-01): administrators, custom policies,
//! attachments and AccessKey pairs, over `ctx.iam()`, answered with RAM's own error codes
//! (`ApiFault::ram`). Each operation is one async fn, listed with its resources in `HANDLERS`.
//!
//! cloudsso's extension: `CreateUser` takes an optional `AccountId`, the administrator's home
//! account, a member account of the resource directory (checked here through `ctx.access()`,
//! refused `EntityNotExists.Account` as Resource Manager refuses it; naming the management
//! account is the same as leaving it out). `GetUser` and `ListUsers` show it as `AccountId`
//! when set, RAM's shape otherwise. `api::service` authorizes such an administrator.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::resourcemanager::account_id;
use super::shape::time;
use super::{Ctx, Handler};
use crate::iam::Caller;
use crate::iam::{AdminUser, CustomPolicy, KeyStatus, PolicyType};
use crate::policy;
use serde_json::{Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(Ram, "CreateUser", users, create_user),
    op!(Ram, "GetUser", user, get_user),
    op!(Ram, "ListUsers", users, list_users),
    op!(Ram, "DeleteUser", user, delete_user, caller),
    op!(Ram, "CreateAccessKey", user, create_access_key),
    op!(Ram, "ListAccessKeys", user, list_access_keys),
    op!(Ram, "UpdateAccessKey", user, update_access_key),
    op!(Ram, "DeleteAccessKey", user, delete_access_key, caller),
    op!(Ram, "CreatePolicy", policies, create_policy),
    op!(Ram, "GetPolicy", policy, get_policy),
    op!(Ram, "ListPolicies", policies, list_policies),
    op!(Ram, "DeletePolicy", policy, delete_policy),
    op!(Ram, "AttachPolicyToUser", attachment, attach_policy),
    op!(Ram, "DetachPolicyFromUser", attachment, detach_policy),
    op!(Ram, "ListPoliciesForUser", user, list_policies_for_user),
];

fn name<'a>(p: &'a Params, param: &str) -> Result<&'a str, ApiFault> {
    let v = p.required(param)?;
    if v.len() > 128
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
    {
        return Err(ApiFault::invalid(param, "not a valid name"));
    }
    Ok(v)
}

fn users(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec!["user/*".into()])
}

fn user(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![format!("user/{}", name(p, "UserName")?)])
}

fn policies(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec!["policy/*".into()])
}

fn policy(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![format!("policy/{}", name(p, "PolicyName")?)])
}

fn attachment(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![
        format!("user/{}", name(p, "UserName")?),
        format!("policy/{}", name(p, "PolicyName")?),
    ])
}

fn user_json(u: &AdminUser) -> Value {
    let mut v = json!({
        "UserId": u.id,
        "UserName": u.name,
        "DisplayName": u.display_name,
        "Comments": u.comments,
        "CreateDate": time(&u.created),
        "UpdateDate": time(&u.updated),
    });
    if let (Some(account), Some(o)) = (&u.account_id, v.as_object_mut()) {
        o.insert("AccountId".into(), json!(account));
    }
    v
}

/// `CreateUser`'s optional home account: `None` for the management account (left out or
/// named), else a member account of the resource directory.
async fn home_account<'a>(ctx: &Ctx, p: &'a Params) -> Result<Option<&'a str>, ApiFault> {
    if p.get("AccountId").is_none() {
        return Ok(None);
    }
    let id = account_id(p)?;
    if id == ctx.account() {
        return Ok(None);
    }
    ctx.access().account(id).await?;
    Ok(Some(id))
}

fn policy_json(p: &CustomPolicy, kind: PolicyType, attachments: usize) -> Value {
    json!({
        "PolicyName": p.name,
        "PolicyType": kind.as_str(),
        "Description": p.description,
        "DefaultVersion": "v1",
        "AttachmentCount": attachments,
        "CreateDate": time(&p.created),
        "UpdateDate": time(&p.updated),
    })
}

fn policy_type(p: &Params) -> Result<PolicyType, ApiFault> {
    let t = p.one_of("PolicyType", &["System", "Custom"])?;
    PolicyType::parse(t).ok_or_else(|| ApiFault::invalid("PolicyType", "System or Custom"))
}

async fn attachments(ctx: &Ctx, name: &str, kind: PolicyType) -> Result<usize, ApiFault> {
    Ok(ctx
        .iam()
        .admin_users()
        .await?
        .iter()
        .filter(|u| {
            u.policies
                .iter()
                .any(|a| a.policy_name == name && a.policy_type == kind)
        })
        .count())
}

async fn create_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (user, display, comments) = (
        name(p, "UserName")?,
        p.text("DisplayName", 128)?.unwrap_or_default(),
        p.text("Comments", 128)?.unwrap_or_default(),
    );
    let home = home_account(ctx, p).await?;
    let u = ctx
        .iam()
        .create_admin_user(user, display, comments, home)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({"User": user_json(&u)}))
}

async fn get_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let u = ctx
        .iam()
        .admin_user(name(p, "UserName")?)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({"User": user_json(&u)}))
}

async fn list_users(ctx: &Ctx, _: &Params) -> Result<Value, ApiFault> {
    let all = ctx.iam().admin_users().await.map_err(ApiFault::ram)?;
    let list: Vec<Value> = all.iter().map(user_json).collect();
    Ok(json!({"IsTruncated": false, "Users": {"User": list}}))
}

async fn delete_user(ctx: &Ctx, caller: &Caller, p: &Params) -> Result<Value, ApiFault> {
    let target = name(p, "UserName")?;
    if target == caller.user {
        return Err(ApiFault::self_deletion());
    }
    ctx.iam()
        .delete_admin_user(target)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({}))
}

async fn create_access_key(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let k = ctx
        .iam()
        .create_access_key(name(p, "UserName")?)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({"AccessKey": {
        "AccessKeyId": k.key.id,
        "AccessKeySecret": k.secret,
        "Status": k.key.status.as_str(),
        "CreateDate": time(&k.key.created),
    }}))
}

async fn list_access_keys(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let keys = ctx
        .iam()
        .access_keys(name(p, "UserName")?)
        .await
        .map_err(ApiFault::ram)?;
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "AccessKeyId": k.id,
                "Status": k.status.as_str(),
                "CreateDate": time(&k.created),
            })
        })
        .collect();
    Ok(json!({"AccessKeys": {"AccessKey": list}}))
}

async fn update_access_key(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let status = match p.one_of("Status", &["Active", "Inactive"])? {
        "Active" => KeyStatus::Active,
        _ => KeyStatus::Inactive,
    };
    ctx.iam()
        .set_access_key_status(name(p, "UserName")?, p.required("UserAccessKeyId")?, status)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({}))
}

async fn delete_access_key(ctx: &Ctx, caller: &Caller, p: &Params) -> Result<Value, ApiFault> {
    let key = p.required("UserAccessKeyId")?;
    if key == caller.access_key_id {
        return Err(ApiFault::key_in_use());
    }
    ctx.iam()
        .delete_access_key(name(p, "UserName")?, key)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({}))
}

async fn create_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let doc = p.required("PolicyDocument")?;
    let created = ctx
        .iam()
        .create_admin_policy(
            name(p, "PolicyName")?,
            doc,
            p.text("Description", 1024)?.unwrap_or_default(),
        )
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({"Policy": policy_json(&created, PolicyType::Custom, 0)}))
}

async fn get_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (n, kind) = (name(p, "PolicyName")?, policy_type(p)?);
    let found = ctx
        .iam()
        .admin_policy(n, kind)
        .await
        .map_err(ApiFault::ram)?;
    let count = attachments(ctx, n, kind).await?;
    Ok(json!({
        "Policy": policy_json(&found, kind, count),
        "DefaultPolicyVersion": {
            "VersionId": "v1",
            "IsDefaultVersion": true,
            "PolicyDocument": found.document,
            "CreateDate": time(&found.created),
        },
    }))
}

async fn list_policies(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let want = p.maybe_one_of("PolicyType", &["System", "Custom"])?;
    let mut list = Vec::new();
    if want != Some("Custom") {
        for n in policy::SYSTEM_POLICY_NAMES {
            let sys = ctx
                .iam()
                .admin_policy(n, PolicyType::System)
                .await
                .map_err(ApiFault::ram)?;
            let count = attachments(ctx, n, PolicyType::System).await?;
            list.push(policy_json(&sys, PolicyType::System, count));
        }
    }
    if want != Some("System") {
        for c in ctx.iam().admin_policies().await.map_err(ApiFault::ram)? {
            let count = attachments(ctx, &c.name, PolicyType::Custom).await?;
            list.push(policy_json(&c, PolicyType::Custom, count));
        }
    }
    Ok(json!({"IsTruncated": false, "Policies": {"Policy": list}}))
}

async fn delete_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.iam()
        .delete_admin_policy(name(p, "PolicyName")?)
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({}))
}

async fn attach_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.iam()
        .attach_admin_policy(
            name(p, "UserName")?,
            name(p, "PolicyName")?,
            policy_type(p)?,
        )
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({}))
}

async fn detach_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.iam()
        .detach_admin_policy(
            name(p, "UserName")?,
            name(p, "PolicyName")?,
            policy_type(p)?,
        )
        .await
        .map_err(ApiFault::ram)?;
    Ok(json!({}))
}

async fn list_policies_for_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let u = ctx
        .iam()
        .admin_user(name(p, "UserName")?)
        .await
        .map_err(ApiFault::ram)?;
    let list: Vec<Value> = u
        .policies
        .iter()
        .map(|a| {
            json!({
                "PolicyName": a.policy_name,
                "PolicyType": a.policy_type.as_str(),
                "DefaultVersion": "v1",
                "AttachDate": time(&a.attached),
            })
        })
        .collect();
    Ok(json!({"Policies": {"Policy": list}}))
}
