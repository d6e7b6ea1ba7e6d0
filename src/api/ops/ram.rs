//! Administrator operations in RAM's shape (2015-05-01): administrators, custom policies,
//! attachments and AccessKey pairs. RAM's own error codes (`EntityNotExist.User`, ...).

use super::super::error::ApiFault;
use super::super::params::Params;
use super::super::service::Api;
use super::shape::time;
use crate::directory::DirectoryError;
use crate::iam::Caller;
use crate::iam::{AdminUser, CustomPolicy, KeyStatus, PolicyType};
use crate::policy;
use serde_json::{Value, json};

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

pub fn resources(op: &str, p: &Params) -> Result<Vec<String>, ApiFault> {
    let user = || name(p, "UserName").map(|u| format!("user/{u}"));
    let policy = || name(p, "PolicyName").map(|n| format!("policy/{n}"));
    Ok(match op {
        "CreateUser" | "ListUsers" => vec!["user/*".into()],
        "GetUser"
        | "DeleteUser"
        | "CreateAccessKey"
        | "ListAccessKeys"
        | "UpdateAccessKey"
        | "DeleteAccessKey"
        | "ListPoliciesForUser" => vec![user()?],
        "CreatePolicy" | "ListPolicies" => vec!["policy/*".into()],
        "GetPolicy" | "DeletePolicy" => vec![policy()?],
        "AttachPolicyToUser" | "DetachPolicyFromUser" => vec![user()?, policy()?],
        other => {
            return Err(ApiFault::new(
                404,
                "InvalidAction.NotFound",
                format!("no operation `{other}`"),
            ));
        }
    })
}

/// RAM spells its errors its own way.
fn ram_fault(e: DirectoryError) -> ApiFault {
    match e {
        DirectoryError::NotFound { what, id } => {
            let entity = match what {
                "admin user" => "User",
                "AccessKey" => "User.AccessKey",
                "Policy.Attachment" => "User.Policy",
                other => other,
            };
            ApiFault::new(
                404,
                format!("EntityNotExist.{entity}"),
                format!("The {entity} `{id}` does not exist."),
            )
        }
        DirectoryError::AlreadyExists { what, id } => {
            let entity = match what {
                "admin user" => "User",
                "Policy.Attachment" => "User.Policy",
                other => other,
            };
            ApiFault::new(
                409,
                format!("EntityAlreadyExists.{entity}"),
                format!("The {entity} `{id}` already exists."),
            )
        }
        DirectoryError::Quota { what, max } => {
            let entity = match what {
                "AccessKey" => "User.AccessKey",
                "admin user" => "User",
                other => other,
            };
            ApiFault::new(
                409,
                format!("LimitExceeded.{entity}"),
                format!("At most {max} of {entity} are allowed."),
            )
        }
        DirectoryError::Conflict { what, message } => {
            ApiFault::new(409, format!("DeleteConflict.{what}"), message)
        }
        other => other.into(),
    }
}

fn user_json(u: &AdminUser) -> Value {
    json!({
        "UserId": u.id,
        "UserName": u.name,
        "DisplayName": u.display_name,
        "Comments": u.comments,
        "CreateDate": time(&u.created),
        "UpdateDate": time(&u.updated),
    })
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

async fn attachments(api: &Api, name: &str, kind: PolicyType) -> Result<usize, ApiFault> {
    Ok(api
        .iam
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

pub async fn call(api: &Api, caller: &Caller, op: &str, p: &Params) -> Result<Value, ApiFault> {
    let dir = &api.iam;
    match op {
        "CreateUser" => {
            let u = dir
                .create_admin_user(
                    name(p, "UserName")?,
                    p.text("DisplayName", 128)?.unwrap_or_default(),
                    p.text("Comments", 128)?.unwrap_or_default(),
                )
                .await
                .map_err(ram_fault)?;
            Ok(json!({"User": user_json(&u)}))
        }
        "GetUser" => {
            let u = dir
                .admin_user(name(p, "UserName")?)
                .await
                .map_err(ram_fault)?;
            Ok(json!({"User": user_json(&u)}))
        }
        "ListUsers" => {
            let all = dir.admin_users().await.map_err(ram_fault)?;
            let list: Vec<Value> = all.iter().map(user_json).collect();
            Ok(json!({"IsTruncated": false, "Users": {"User": list}}))
        }
        "DeleteUser" => {
            let target = name(p, "UserName")?;
            if target == caller.user {
                return Err(ApiFault::new(
                    409,
                    "DeleteConflict.User.Self",
                    "An administrator cannot delete itself.",
                ));
            }
            dir.delete_admin_user(target).await.map_err(ram_fault)?;
            Ok(json!({}))
        }
        "CreateAccessKey" => {
            let k = dir
                .create_access_key(name(p, "UserName")?)
                .await
                .map_err(ram_fault)?;
            Ok(json!({"AccessKey": {
                "AccessKeyId": k.key.id,
                "AccessKeySecret": k.secret,
                "Status": k.key.status.as_str(),
                "CreateDate": time(&k.key.created),
            }}))
        }
        "ListAccessKeys" => {
            let keys = dir
                .access_keys(name(p, "UserName")?)
                .await
                .map_err(ram_fault)?;
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
        "UpdateAccessKey" => {
            let status = match p.one_of("Status", &["Active", "Inactive"])? {
                "Active" => KeyStatus::Active,
                _ => KeyStatus::Inactive,
            };
            dir.set_access_key_status(name(p, "UserName")?, p.required("UserAccessKeyId")?, status)
                .await
                .map_err(ram_fault)?;
            Ok(json!({}))
        }
        "DeleteAccessKey" => {
            let key = p.required("UserAccessKeyId")?;
            if key == caller.access_key_id {
                return Err(ApiFault::new(
                    409,
                    "DeleteConflict.User.AccessKey.InUse",
                    "The AccessKey signing this request cannot delete itself.",
                ));
            }
            dir.delete_access_key(name(p, "UserName")?, key)
                .await
                .map_err(ram_fault)?;
            Ok(json!({}))
        }
        "CreatePolicy" => {
            let doc = p.required("PolicyDocument")?;
            let created = dir
                .create_admin_policy(
                    name(p, "PolicyName")?,
                    doc,
                    p.text("Description", 1024)?.unwrap_or_default(),
                )
                .await
                .map_err(ram_fault)?;
            Ok(json!({"Policy": policy_json(&created, PolicyType::Custom, 0)}))
        }
        "GetPolicy" => {
            let (n, kind) = (name(p, "PolicyName")?, policy_type(p)?);
            let found = dir.admin_policy(n, kind).await.map_err(ram_fault)?;
            let count = attachments(api, n, kind).await?;
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
        "ListPolicies" => {
            let want = p.maybe_one_of("PolicyType", &["System", "Custom"])?;
            let mut list = Vec::new();
            if want != Some("Custom") {
                for n in policy::SYSTEM_POLICY_NAMES {
                    let sys = dir
                        .admin_policy(n, PolicyType::System)
                        .await
                        .map_err(ram_fault)?;
                    let count = attachments(api, n, PolicyType::System).await?;
                    list.push(policy_json(&sys, PolicyType::System, count));
                }
            }
            if want != Some("System") {
                for c in dir.admin_policies().await.map_err(ram_fault)? {
                    let count = attachments(api, &c.name, PolicyType::Custom).await?;
                    list.push(policy_json(&c, PolicyType::Custom, count));
                }
            }
            Ok(json!({"IsTruncated": false, "Policies": {"Policy": list}}))
        }
        "DeletePolicy" => {
            dir.delete_admin_policy(name(p, "PolicyName")?)
                .await
                .map_err(ram_fault)?;
            Ok(json!({}))
        }
        "AttachPolicyToUser" => {
            dir.attach_admin_policy(
                name(p, "UserName")?,
                name(p, "PolicyName")?,
                policy_type(p)?,
            )
            .await
            .map_err(ram_fault)?;
            Ok(json!({}))
        }
        "DetachPolicyFromUser" => {
            dir.detach_admin_policy(
                name(p, "UserName")?,
                name(p, "PolicyName")?,
                policy_type(p)?,
            )
            .await
            .map_err(ram_fault)?;
            Ok(json!({}))
        }
        "ListPoliciesForUser" => {
            let u = dir
                .admin_user(name(p, "UserName")?)
                .await
                .map_err(ram_fault)?;
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
        other => Err(ApiFault::new(
            404,
            "InvalidAction.NotFound",
            format!("no operation `{other}`"),
        )),
    }
}
