//! CloudSSO access configurations and their permission policies.

use super::super::error::ApiFault;
use super::super::params::{Params, page_fields};
use super::super::service::Api;
use super::cloudsso::{NameOp, name_filter};
use super::shape::time;
use crate::access::configs::{NewConfig, PolicyKind};
use crate::access::records::AccessConfiguration;
use serde_json::{Value, json};

pub fn handles(op: &str) -> bool {
    super::super::catalog::ACCESS_CONFIGURATION_OPERATIONS
        .iter()
        .any(|o| o.name == op)
}

pub fn resources(op: &str, p: &Params) -> Result<Vec<String>, ApiFault> {
    let dir = p.id("DirectoryId")?;
    Ok(match op {
        "CreateAccessConfiguration" | "ListAccessConfigurations" => {
            vec![format!("directory/{dir}/access-configuration/*")]
        }
        _ if handles(op) => vec![format!(
            "directory/{dir}/access-configuration/{}",
            p.id("AccessConfigurationId")?
        )],
        other => return Err(super::unknown(other)),
    })
}

fn config_json(c: &AccessConfiguration) -> Value {
    json!({
        "AccessConfigurationId": c.id,
        "AccessConfigurationName": c.name,
        "Description": c.description,
        "SessionDuration": c.session_duration,
        "RelayState": c.relay_state,
        "StatusNotifications": c.status_notifications,
        "CreateTime": time(&c.created),
        "UpdateTime": time(&c.updated),
    })
}

fn kind(p: &Params) -> Result<PolicyKind, ApiFault> {
    Ok(
        match p.one_of("PermissionPolicyType", &["System", "Inline"])? {
            "System" => PolicyKind::System,
            _ => PolicyKind::Inline,
        },
    )
}

fn seconds(p: &Params, name: &str) -> Result<Option<u32>, ApiFault> {
    Ok(p.int(name, 0..=i64::from(u32::MAX))?.map(|n| n as u32))
}

pub async fn call(api: &Api, op: &str, p: &Params) -> Result<Value, ApiFault> {
    let access = &api.access;
    let d = p.id("DirectoryId")?;
    match op {
        "CreateAccessConfiguration" => {
            let c = access
                .create_config(
                    d,
                    NewConfig {
                        name: p.required("AccessConfigurationName")?.to_owned(),
                        description: p.get("Description").unwrap_or_default().to_owned(),
                        session_duration: seconds(p, "SessionDuration")?,
                        relay_state: p.get("RelayState").unwrap_or_default().to_owned(),
                    },
                )
                .await?;
            Ok(json!({"AccessConfiguration": config_json(&c)}))
        }
        "GetAccessConfiguration" => {
            let c = access.config(d, p.id("AccessConfigurationId")?).await?;
            Ok(json!({"AccessConfiguration": config_json(&c)}))
        }
        "ListAccessConfigurations" => {
            let (offset, count) = p.page()?;
            let filter = match p.get("Filter") {
                Some(f) => Some(name_filter(f, "AccessConfigurationName")?),
                None => None,
            };
            let stale_only = p
                .maybe_one_of("StatusNotifications", &["ReprovisionRequired"])?
                .is_some();
            let all: Vec<AccessConfiguration> = access
                .configs(d)
                .await?
                .into_iter()
                .filter(|c| {
                    filter
                        .as_ref()
                        .is_none_or(|(op, v): &(NameOp, String)| op.matches(&c.name, v))
                })
                .filter(|c| !stale_only || !c.status_notifications.is_empty())
                .collect();
            let total = all.len();
            let page: Vec<Value> = all
                .iter()
                .skip(offset)
                .take(count)
                .map(config_json)
                .collect();
            let mut body = page_fields(offset, count, page.len(), total);
            if let Some(o) = body.as_object_mut() {
                o.insert("AccessConfigurations".into(), Value::Array(page));
            }
            Ok(body)
        }
        "UpdateAccessConfiguration" => {
            let c = access
                .update_config(
                    d,
                    p.id("AccessConfigurationId")?,
                    p.get("NewDescription").map(str::to_owned),
                    seconds(p, "NewSessionDuration")?,
                    p.get("NewRelayState").map(str::to_owned),
                )
                .await?;
            Ok(json!({"AccessConfiguration": config_json(&c)}))
        }
        "DeleteAccessConfiguration" => {
            let force = p
                .get("ForceRemovePermissionPolicies")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            access
                .delete_config(d, p.id("AccessConfigurationId")?, force)
                .await?;
            Ok(json!({}))
        }
        "AddPermissionPolicyToAccessConfiguration" => {
            access
                .add_policy(
                    d,
                    p.id("AccessConfigurationId")?,
                    kind(p)?,
                    p.required("PermissionPolicyName")?,
                    p.get("InlinePolicyDocument"),
                )
                .await?;
            Ok(json!({}))
        }
        "RemovePermissionPolicyFromAccessConfiguration" => {
            access
                .remove_policy(
                    d,
                    p.id("AccessConfigurationId")?,
                    kind(p)?,
                    p.required("PermissionPolicyName")?,
                )
                .await?;
            Ok(json!({}))
        }
        "ListPermissionPoliciesInAccessConfiguration" => {
            let only = match p.maybe_one_of("PermissionPolicyType", &["System", "Inline"])? {
                Some("System") => Some(PolicyKind::System),
                Some(_) => Some(PolicyKind::Inline),
                None => None,
            };
            let list: Vec<Value> = access
                .policies(d, p.id("AccessConfigurationId")?)
                .await?
                .into_iter()
                .filter(|x| only.is_none_or(|k| k == x.kind))
                .map(|x| {
                    let mut v = json!({
                        "PermissionPolicyType": x.kind.as_str(),
                        "PermissionPolicyName": x.name,
                        "AddTime": time(&x.added),
                    });
                    if let (Some(doc), Some(o)) = (x.document, v.as_object_mut()) {
                        o.insert("PermissionPolicyDocument".into(), json!(doc));
                    }
                    v
                })
                .collect();
            Ok(json!({"TotalCounts": list.len(), "PermissionPolicies": list}))
        }
        "UpdateInlinePolicyForAccessConfiguration" => {
            access
                .update_inline_policy(
                    d,
                    p.id("AccessConfigurationId")?,
                    p.required("InlinePolicyName")?,
                    p.required("NewInlinePolicyDocument")?,
                )
                .await?;
            Ok(json!({}))
        }
        other => Err(super::unknown(other)),
    }
}
