//! CloudSSO RAM user provisioning (issue 14), over `access::user_provisioning`. Each
//! operation is one async fn, listed with its resources in `HANDLERS`.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::assignments::{filter, page_body, paged, principal};
use super::resource::only::directory;
use super::shape::{enabled, time};
use super::{Ctx, Handler, resource};
use crate::access::records::{
    DeletionStrategy, DuplicationStrategy, UserProvisioning, UserProvisioningEvent,
};
use crate::access::user_provisioning::{
    ConfigChange, DESCRIPTION_CHARS_MAX, LANDING_PAGE_CHARS_MAX, NewUserProvisioning,
    SESSION_DURATION_HOURS, UserProvisioningChange, UserProvisioningFilter,
};
use crate::error::DomainError;
use crate::model::{DirectoryId, ResourceKind};
use serde_json::{Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(CloudSso, "CreateUserProvisioning", create_resources, create),
    op!(CloudSso, "GetUserProvisioning", one, get),
    op!(CloudSso, "ListUserProvisionings", all, list),
    op!(CloudSso, "UpdateUserProvisioning", one, update),
    op!(CloudSso, "DeleteUserProvisioning", one, delete),
    op!(
        CloudSso,
        "GetUserProvisioningConfiguration",
        directory,
        get_config
    ),
    op!(
        CloudSso,
        "UpdateUserProvisioningConfiguration",
        directory,
        update_config
    ),
    op!(CloudSso, "ListUserProvisioningEvents", all, list_events),
    op!(CloudSso, "GetUserProvisioningEvent", all, get_event),
    op!(CloudSso, "RetryUserProvisioningEvent", all, retry_event),
    op!(CloudSso, "DeleteUserProvisioningEvent", one, delete_event),
    op!(CloudSso, "GetUserProvisioningStatistics", one, statistics),
    op!(
        CloudSso,
        "GetUserProvisioningRdAccountStatistics",
        all,
        account_statistics
    ),
];

/// `directory/{DirectoryId}/user-provisioning/{UserProvisioningId}`.
fn one(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![format!(
        "{}/user-provisioning/{}",
        resource::dir(p)?,
        p.id("UserProvisioningId")?
    )])
}

/// `directory/{DirectoryId}/user-provisioning/*`.
fn all(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![resource::all_in_dir(p, "user-provisioning")?])
}

/// Every provisioning of the directory, and the principal it synchronizes.
fn create_resources(p: &Params) -> Result<Vec<String>, ApiFault> {
    let pid = principal(p)?;
    let kind = match pid.kind() {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    };
    Ok(vec![
        resource::all_in_dir(p, "user-provisioning")?,
        format!("{}/{kind}/{pid}", resource::dir(p)?),
    ])
}

fn duplication(p: &Params, name: &str) -> Result<Option<DuplicationStrategy>, ApiFault> {
    Ok(p.maybe_one_of(name, &DuplicationStrategy::ALL)?
        .and_then(DuplicationStrategy::parse))
}

fn deletion(p: &Params, name: &str) -> Result<Option<DeletionStrategy>, ApiFault> {
    Ok(p.maybe_one_of(name, &DeletionStrategy::ALL)?
        .and_then(DeletionStrategy::parse))
}

/// A provisioning as CloudSSO shows it, with its principal's and account's names.
async fn shape(ctx: &Ctx, up: &UserProvisioning) -> Result<Value, ApiFault> {
    let dir = DirectoryId::new(up.directory_id.as_str());
    let principal_name = ctx
        .access()
        .principal_name(&dir, up.principal_type, &up.principal_id)
        .await?;
    let (target_name, target_path) = match ctx.access().account(&up.account_id).await {
        Ok(v) => (v.account.display_name, v.path),
        Err(DomainError::NotFound { .. }) => (String::new(), String::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(json!({
        "UserProvisioningId": up.id,
        "DirectoryId": up.directory_id,
        "OwnerPk": ctx.account(),
        "PrincipalType": up.principal_type.as_str(),
        "PrincipalId": up.principal_id,
        "PrincipalName": principal_name,
        "TargetType": "RD-Account",
        "TargetId": up.account_id,
        "TargetName": target_name,
        "TargetPath": target_path,
        "DuplicationStrategy": up.duplication.as_str(),
        "DeletionStrategy": up.deletion.as_str(),
        "Description": up.description,
        "Status": enabled(up.enabled),
        "CreateTime": time(&up.created),
        "UpdateTime": time(&up.updated),
    }))
}

async fn create(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    p.one_of("TargetType", &["RD-Account"])?;
    let new = NewUserProvisioning {
        principal: principal(p)?,
        account_id: p.id("TargetId")?.to_owned(),
        duplication: duplication(p, "DuplicationStrategy")?
            .ok_or_else(|| ApiFault::missing("DuplicationStrategy"))?,
        deletion: deletion(p, "DeletionStrategy")?
            .ok_or_else(|| ApiFault::missing("DeletionStrategy"))?,
        description: p
            .text("Description", DESCRIPTION_CHARS_MAX)?
            .unwrap_or_default()
            .to_owned(),
    };
    let up = ctx.access().create_user_provisioning(&d, new).await?;
    Ok(json!({"UserProvisioning": shape(ctx, &up).await?}))
}

async fn get(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let up = ctx
        .access()
        .user_provisioning(&p.directory_id()?, p.id("UserProvisioningId")?)
        .await?;
    Ok(json!({"UserProvisioning": shape(ctx, &up).await?}))
}

async fn list(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    let (offset, count) = p.page()?;
    let f = filter(p)?;
    let f = UserProvisioningFilter {
        principal: f.principal,
        account_id: f.account_id,
    };
    let all = ctx.access().user_provisionings(&d, f).await?;
    let (total, page) = paged(all, offset, count);
    let mut items = Vec::with_capacity(page.len());
    for up in &page {
        items.push(shape(ctx, up).await?);
    }
    Ok(page_body("UserProvisionings", offset, count, total, items))
}

async fn update(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let change = UserProvisioningChange {
        description: p
            .text("NewDescription", DESCRIPTION_CHARS_MAX)?
            .map(str::to_owned),
        duplication: duplication(p, "NewDuplicationStrategy")?,
        deletion: deletion(p, "NewDeletionStrategy")?,
    };
    let up = ctx
        .access()
        .update_user_provisioning(&p.directory_id()?, p.id("UserProvisioningId")?, change)
        .await?;
    Ok(json!({"UserProvisioning": shape(ctx, &up).await?}))
}

async fn delete(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let strategy = deletion(p, "DeletionStrategy")?;
    ctx.access()
        .delete_user_provisioning(&p.directory_id()?, p.id("UserProvisioningId")?, strategy)
        .await?;
    Ok(json!({}))
}

async fn get_config(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let c = ctx
        .access()
        .user_provisioning_config(&p.directory_id()?)
        .await?;
    Ok(config_json(&c))
}

fn config_json(c: &crate::access::records::UserProvisioningConfig) -> Value {
    json!({"UserProvisioningConfiguration": {
        "DirectoryId": c.directory_id,
        "SessionDuration": c.session_duration_hours,
        "DefaultLandingPage": c.default_landing_page,
        "CreateTime": time(&c.created),
        "UpdateTime": time(&c.updated),
    }})
}

async fn update_config(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let hours = SESSION_DURATION_HOURS;
    let change = ConfigChange {
        session_duration_hours: p
            .int(
                "NewSessionDuration",
                i64::from(*hours.start())..=i64::from(*hours.end()),
            )?
            .map(|h| h as u32),
        default_landing_page: p
            .text("NewDefaultLandingPage", LANDING_PAGE_CHARS_MAX)?
            .map(str::to_owned),
    };
    let c = ctx
        .access()
        .update_user_provisioning_config(&p.directory_id()?, change)
        .await?;
    Ok(config_json(&c))
}

/// An event as CloudSSO shows it, with its principal's and account's names.
async fn event_json(ctx: &Ctx, e: &UserProvisioningEvent) -> Result<Value, ApiFault> {
    let dir = DirectoryId::new(e.directory_id.as_str());
    let principal_name = ctx
        .access()
        .principal_name(&dir, e.principal_type, &e.principal_id)
        .await?;
    let (target_name, target_path) = match ctx.access().account(&e.account_id).await {
        Ok(v) => (v.account.display_name, v.path),
        Err(DomainError::NotFound { .. }) => (String::new(), String::new()),
        Err(err) => return Err(err.into()),
    };
    Ok(json!({
        "EventId": e.id,
        "UserProvisioningId": e.user_provisioning_id,
        "DirectoryId": e.directory_id,
        "SourceType": e.source.as_str(),
        "PrincipalType": e.principal_type.as_str(),
        "PrincipalId": e.principal_id,
        "PrincipalName": principal_name,
        "TargetType": "RD-Account",
        "TargetId": e.account_id,
        "TargetName": target_name,
        "TargetPath": target_path,
        "DuplicationStrategy": e.retry_duplication.unwrap_or(e.duplication).as_str(),
        "DeletionStrategy": e.deletion.as_str(),
        "ErrorCount": e.error_count,
        "ErrorInfo": e.error_info,
        "LatestAsyncTime": time(&e.latest_async),
        "CreateTime": time(&e.created),
        "UpdateTime": time(&e.updated),
    }))
}

async fn list_events(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = p.directory_id()?;
    let (offset, count) = p.page()?;
    let only = match p.get("UserProvisioningId") {
        Some(_) => Some(p.id("UserProvisioningId")?.to_owned()),
        None => None,
    };
    let all = ctx.access().user_provisioning_events(&d, only).await?;
    let (total, page) = paged(all, offset, count);
    let mut items = Vec::with_capacity(page.len());
    for e in &page {
        items.push(event_json(ctx, e).await?);
    }
    Ok(page_body(
        "UserProvisioningEvents",
        offset,
        count,
        total,
        items,
    ))
}

async fn get_event(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let e = ctx
        .access()
        .user_provisioning_event(&p.directory_id()?, p.id("EventId")?)
        .await?;
    Ok(json!({"UserProvisioningEvent": event_json(ctx, &e).await?}))
}

async fn retry_event(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let strategy = duplication(p, "DuplicationStrategy")?;
    ctx.access()
        .retry_user_provisioning_event(&p.directory_id()?, p.id("EventId")?, strategy)
        .await?;
    Ok(json!({}))
}

async fn delete_event(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.access()
        .delete_user_provisioning_event(
            &p.directory_id()?,
            p.id("UserProvisioningId")?,
            p.id("EventId")?,
        )
        .await?;
    Ok(json!({}))
}

fn statistics_json(
    ctx: &Ctx,
    dir: &DirectoryId,
    entity: &str,
    kind: &str,
    s: &crate::access::user_provisioning::Statistics,
) -> Value {
    json!({"UserProvisioningStatistics": {
        "EntityId": entity,
        "Type": kind,
        "DirectoryId": dir.as_str(),
        "FailedEventCount": s.failed_events,
        "OwnerPk": ctx.account(),
        "LatestAsyncTime": time(&s.latest_async),
    }})
}

async fn statistics(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, id) = (p.directory_id()?, p.id("UserProvisioningId")?);
    let s = ctx.access().user_provisioning_statistics(&d, id).await?;
    Ok(statistics_json(ctx, &d, id, "User Provisioning", &s))
}

async fn account_statistics(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, account) = (p.directory_id()?, p.id("RdMemberId")?);
    let s = ctx
        .access()
        .account_provisioning_statistics(&d, account)
        .await?;
    Ok(statistics_json(ctx, &d, account, "RD Account", &s))
}
