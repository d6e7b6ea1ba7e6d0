//! CloudSSO access configurations and their permission policies, over `access::configs`.
//! Each operation is one async fn, listed with its resources in `HANDLERS`.

use super::super::error::ApiFault;
use super::super::params::{Params, page_fields};
use super::cloudsso::{NameOp, name_filter};
use super::resource::only::{config, configs};
use super::shape::time;
use super::{Ctx, Handler};
use crate::access::configs::{NewConfig, PolicyKind};
use crate::access::records::AccessConfiguration;
use serde_json::{Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(CloudSso, "CreateAccessConfiguration", configs, create),
    op!(CloudSso, "GetAccessConfiguration", config, get),
    op!(CloudSso, "ListAccessConfigurations", configs, list),
    op!(CloudSso, "UpdateAccessConfiguration", config, update),
    op!(CloudSso, "DeleteAccessConfiguration", config, delete),
    op!(
        CloudSso,
        "AddPermissionPolicyToAccessConfiguration",
        config,
        add_policy
    ),
    op!(
        CloudSso,
        "RemovePermissionPolicyFromAccessConfiguration",
        config,
        remove_policy
    ),
    op!(
        CloudSso,
        "ListPermissionPoliciesInAccessConfiguration",
        config,
        list_policies
    ),
    op!(
        CloudSso,
        "UpdateInlinePolicyForAccessConfiguration",
        config,
        update_inline_policy
    ),
];

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

async fn create(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let new = NewConfig {
        name: p.required("AccessConfigurationName")?.to_owned(),
        description: p.get("Description").unwrap_or_default().to_owned(),
        session_duration: seconds(p, "SessionDuration")?,
        relay_state: p.get("RelayState").unwrap_or_default().to_owned(),
    };
    let c = ctx.access().create_config(&p.directory_id()?, new).await?;
    Ok(json!({"AccessConfiguration": config_json(&c)}))
}

async fn get(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, c) = (&p.directory_id()?, p.id("AccessConfigurationId")?);
    let c = ctx.access().config(d, c).await?;
    Ok(json!({"AccessConfiguration": config_json(&c)}))
}

async fn list(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let (offset, count) = p.page()?;
    let filter = match p.get("Filter") {
        Some(f) => Some(name_filter(f, "AccessConfigurationName")?),
        None => None,
    };
    let stale_only = p
        .maybe_one_of("StatusNotifications", &["ReprovisionRequired"])?
        .is_some();
    let all: Vec<AccessConfiguration> = ctx
        .access()
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

async fn update(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let c = ctx
        .access()
        .update_config(
            &p.directory_id()?,
            p.id("AccessConfigurationId")?,
            p.get("NewDescription").map(str::to_owned),
            seconds(p, "NewSessionDuration")?,
            p.get("NewRelayState").map(str::to_owned),
        )
        .await?;
    Ok(json!({"AccessConfiguration": config_json(&c)}))
}

async fn delete(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let force = p
        .get("ForceRemovePermissionPolicies")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    ctx.access()
        .delete_config(&p.directory_id()?, p.id("AccessConfigurationId")?, force)
        .await?;
    Ok(json!({}))
}

async fn add_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.access()
        .add_policy(
            &p.directory_id()?,
            p.id("AccessConfigurationId")?,
            kind(p)?,
            p.required("PermissionPolicyName")?,
            p.get("InlinePolicyDocument"),
        )
        .await?;
    Ok(json!({}))
}

async fn remove_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.access()
        .remove_policy(
            &p.directory_id()?,
            p.id("AccessConfigurationId")?,
            kind(p)?,
            p.required("PermissionPolicyName")?,
        )
        .await?;
    Ok(json!({}))
}

async fn list_policies(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let only = match p.maybe_one_of("PermissionPolicyType", &["System", "Inline"])? {
        Some("System") => Some(PolicyKind::System),
        Some(_) => Some(PolicyKind::Inline),
        None => None,
    };
    let list: Vec<Value> = ctx
        .access()
        .policies(&p.directory_id()?, p.id("AccessConfigurationId")?)
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

async fn update_inline_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.access()
        .update_inline_policy(
            &p.directory_id()?,
            p.id("AccessConfigurationId")?,
            p.required("InlinePolicyName")?,
            p.required("NewInlinePolicyDocument")?,
        )
        .await?;
    Ok(json!({}))
}
