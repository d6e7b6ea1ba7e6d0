//! CloudSSO access assignments, provisioning, tasks and effective access, over `access`.
//! Each operation is one async fn, listed with its resources in `HANDLERS`.

use super::super::error::ApiFault;
use super::super::params::{Params, page_fields};
use super::resource::only::{config, configs, directory, user};
use super::shape::time;
use super::{Ctx, Handler, resource};
use crate::access::assignments::{Filter, Target, role_name, saml_provider_name};
use crate::access::records::{ProvisioningStatus, Task, TaskStatus};
use crate::model::{DirectoryId, PrincipalId, ResourceKind};
use serde_json::{Value, json};

/// Largest `MaxResults` of these lists (CloudSSO's).
pub const LIST_MAX_RESULTS_MAX: usize = 20;

pub(super) static HANDLERS: &[Handler] = &[
    op!(
        CloudSso,
        "CreateAccessAssignment",
        assignment,
        create_assignment
    ),
    op!(
        CloudSso,
        "DeleteAccessAssignment",
        assignment,
        delete_assignment
    ),
    op!(CloudSso, "ProvisionAccessConfiguration", config, provision),
    op!(
        CloudSso,
        "DeprovisionAccessConfiguration",
        config,
        deprovision
    ),
    op!(CloudSso, "ListAccessAssignments", configs, list_assignments),
    op!(
        CloudSso,
        "ListAccessConfigurationProvisionings",
        configs,
        list_provisionings
    ),
    op!(CloudSso, "GetTask", directory, get_task),
    op!(CloudSso, "GetTaskStatus", directory, get_task_status),
    op!(CloudSso, "ListTasks", directory, list_tasks),
    op!(CloudSso, "GetUserEffectiveAccess", user, effective_access),
];

fn target(p: &Params) -> Result<Target, ApiFault> {
    p.one_of("TargetType", &["RD-Account"])?;
    Ok(Target {
        directory_id: p.directory_id()?,
        config_id: p.id("AccessConfigurationId")?.to_owned(),
        account_id: p.id("TargetId")?.to_owned(),
    })
}

pub(super) fn principal(p: &Params) -> Result<PrincipalId, ApiFault> {
    let t = match p.one_of("PrincipalType", &["User", "Group"])? {
        "User" => ResourceKind::User,
        _ => ResourceKind::Group,
    };
    Ok(PrincipalId::new(t, p.id("PrincipalId")?))
}

/// The paired filters: `TargetType` with `TargetId`, `ResourceKind` with `PrincipalId`.
pub(super) fn filter(p: &Params) -> Result<Filter, ApiFault> {
    let account = match (p.get("TargetType"), p.get("TargetId")) {
        (None, None) => None,
        (Some(_), Some(_)) => {
            p.one_of("TargetType", &["RD-Account"])?;
            Some(p.id("TargetId")?.to_owned())
        }
        (Some(_), None) => return Err(ApiFault::missing("TargetId")),
        (None, Some(_)) => return Err(ApiFault::missing("TargetType")),
    };
    let principal = match (p.get("PrincipalType"), p.get("PrincipalId")) {
        (None, None) => None,
        (Some(_), Some(_)) => Some(principal(p)?),
        (Some(_), None) => return Err(ApiFault::missing("PrincipalId")),
        (None, Some(_)) => return Err(ApiFault::missing("PrincipalType")),
    };
    let config_id = match p.get("AccessConfigurationId") {
        Some(_) => Some(p.id("AccessConfigurationId")?.to_owned()),
        None => None,
    };
    Ok(Filter {
        config_id,
        account_id: account,
        principal,
    })
}

fn assignment(p: &Params) -> Result<Vec<String>, ApiFault> {
    let config = resource::config(p)?;
    let pid = principal(p)?;
    let kind = match pid.kind() {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    };
    Ok(vec![config, format!("{}/{kind}/{pid}", resource::dir(p)?)])
}

/// A configuration's name as the lists show it: empty when the configuration is gone.
async fn config_name(ctx: &Ctx, dir: &DirectoryId, config: &str) -> Result<String, ApiFault> {
    Ok(ctx
        .access()
        .configuration_name(dir, config)
        .await?
        .unwrap_or_default())
}

async fn task_json(ctx: &Ctx, t: &Task) -> Result<Value, ApiFault> {
    let mut v = json!({
        "TaskId": t.id,
        "TaskType": t.kind.as_str(),
        "Status": t.status.as_str(),
        "AccessConfigurationId": t.config_id,
        "AccessConfigurationName": config_name(ctx, &DirectoryId::new(t.directory_id.as_str()), &t.config_id).await?,
        "TargetType": "RD-Account",
        "TargetId": t.account_id,
        "StartTime": time(&t.created),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some((pt, pid)) = &t.principal {
            o.insert("PrincipalType".into(), json!(pt.as_str()));
            o.insert("PrincipalId".into(), json!(pid));
        }
        if let Some(f) = &t.finished {
            o.insert("EndTime".into(), json!(time(f)));
        }
        if let Some(r) = &t.failure_reason {
            o.insert("FailureReason".into(), json!(r));
        }
    }
    Ok(v)
}

pub(super) fn paged<T>(all: Vec<T>, offset: usize, count: usize) -> (usize, Vec<T>) {
    let total = all.len();
    (total, all.into_iter().skip(offset).take(count).collect())
}

async fn create_assignment(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let task = ctx
        .access()
        .create_assignment(target(p)?, principal(p)?)
        .await?;
    Ok(json!({"Task": task_json(ctx, &task).await?}))
}

async fn delete_assignment(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let last = p
        .maybe_one_of(
            "DeprovisionStrategy",
            &["None", "DeprovisionForLastAccessAssignmentOnAccount"],
        )?
        .is_some_and(|s| s == "DeprovisionForLastAccessAssignmentOnAccount");
    let task = ctx
        .access()
        .delete_assignment(target(p)?, principal(p)?, last)
        .await?;
    Ok(json!({"Task": task_json(ctx, &task).await?}))
}

async fn provision(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let task = ctx.access().provision(target(p)?).await?;
    Ok(json!({"Tasks": [task_json(ctx, &task).await?]}))
}

async fn deprovision(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let task = ctx.access().deprovision(target(p)?).await?;
    Ok(json!({"Tasks": [task_json(ctx, &task).await?]}))
}

/// `page_fields` with the page's `items` under `list`.
pub(super) fn page_body(
    list: &str,
    offset: usize,
    count: usize,
    total: usize,
    items: Vec<Value>,
) -> Value {
    let mut body = page_fields(offset, count, items.len(), total);
    if let Some(o) = body.as_object_mut() {
        o.insert(list.into(), Value::Array(items));
    }
    body
}

async fn list_assignments(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let (offset, count) = p.page_up_to(LIST_MAX_RESULTS_MAX)?;
    let all = ctx.access().assignments(d, filter(p)?).await?;
    let (total, page) = paged(all, offset, count);
    let mut items = Vec::with_capacity(page.len());
    for a in &page {
        items.push(json!({
            "AccessConfigurationId": a.config_id,
            "AccessConfigurationName": config_name(ctx, d, &a.config_id).await?,
            "TargetType": "RD-Account",
            "TargetId": a.account_id,
            "PrincipalType": a.principal_type.as_str(),
            "PrincipalId": a.principal_id,
            "CreateTime": time(&a.created),
        }));
    }
    Ok(page_body("AccessAssignments", offset, count, total, items))
}

async fn list_provisionings(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let (offset, count) = p.page_up_to(LIST_MAX_RESULTS_MAX)?;
    let status = match p.maybe_one_of(
        "ProvisioningStatus",
        &["Provisioned", "ReprovisionRequired", "DeprovisionFailed"],
    )? {
        Some("Provisioned") => Some(ProvisioningStatus::Provisioned),
        Some("ReprovisionRequired") => Some(ProvisioningStatus::ReprovisionRequired),
        Some(_) => Some(ProvisioningStatus::DeprovisionFailed),
        None => None,
    };
    let all = ctx.access().provisionings(d, filter(p)?, status).await?;
    let (total, page) = paged(all, offset, count);
    let mut items = Vec::with_capacity(page.len());
    for r in &page {
        let name = config_name(ctx, d, &r.config_id).await?;
        items.push(json!({
            "AccessConfigurationId": r.config_id,
            "AccessConfigurationName": name,
            "TargetType": "RD-Account",
            "TargetId": r.account_id,
            "Status": r.status.as_str(),
            "RAMRoleName": role_name(&name),
            "SAMLProviderName": saml_provider_name(d),
            "UpdateTime": time(&r.updated),
        }));
    }
    Ok(page_body(
        "AccessConfigurationProvisionings",
        offset,
        count,
        total,
        items,
    ))
}

async fn get_task(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let t = ctx
        .access()
        .task(&p.directory_id()?, p.id("TaskId")?)
        .await?;
    Ok(json!({"Task": task_json(ctx, &t).await?}))
}

async fn get_task_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let t = ctx
        .access()
        .task(&p.directory_id()?, p.id("TaskId")?)
        .await?;
    let full = task_json(ctx, &t).await?;
    let mut status = json!({});
    for k in [
        "TaskId",
        "TaskType",
        "Status",
        "StartTime",
        "EndTime",
        "FailureReason",
    ] {
        if let (Some(v), Some(o)) = (full.get(k), status.as_object_mut()) {
            o.insert(k.into(), v.clone());
        }
    }
    Ok(json!({"TaskStatus": status}))
}

async fn list_tasks(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let (offset, count) = p.page_up_to(LIST_MAX_RESULTS_MAX)?;
    let want = match p.maybe_one_of("Status", &["InProgress", "Success", "Failed"])? {
        Some("InProgress") => Some(TaskStatus::InProgress),
        Some("Success") => Some(TaskStatus::Success),
        Some(_) => Some(TaskStatus::Failed),
        None => None,
    };
    let all: Vec<Task> = ctx
        .access()
        .tasks(d, filter(p)?)
        .await?
        .into_iter()
        .filter(|t| want.is_none_or(|w| w == t.status))
        .collect();
    let (total, page) = paged(all, offset, count);
    let mut items = Vec::with_capacity(page.len());
    for t in &page {
        items.push(task_json(ctx, t).await?);
    }
    Ok(page_body("Tasks", offset, count, total, items))
}

async fn effective_access(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, u) = (&p.directory_id()?, &p.user_id()?);
    ctx.dir().directory(d).await?;
    let grants = ctx.access().effective_access(d, u).await?;
    let list: Vec<Value> = grants
        .iter()
        .map(|g| {
            json!({
                "AccountId": g.account_id,
                "AccessConfigurationId": g.config_id,
                "AccessConfigurationName": g.config_name,
                "Sources": g.sources.iter().map(|(t, id)| json!({
                    "PrincipalType": t.as_str(),
                    "PrincipalId": id,
                })).collect::<Vec<Value>>(),
            })
        })
        .collect();
    let ram_users: Vec<Value> = ctx
        .access()
        .ram_user_access(d, u)
        .await?
        .iter()
        .map(|r| {
            json!({
                "AccountId": r.account_id,
                "RamUserName": r.name,
                "LogonName": crate::signin::saml::ram_user_logon_name(&r.name, &r.account_id),
                "UserProvisioningId": r.provisioning_id,
            })
        })
        .collect();
    Ok(json!({"EffectiveAccess": list, "RamUsers": ram_users}))
}
