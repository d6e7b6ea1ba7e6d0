//! CloudSSO access assignments, provisioning, tasks and effective access.

use super::super::error::ApiFault;
use super::super::params::{Params, page_fields};
use super::super::service::Api;
use super::shape::time;
use crate::access::assignments::{Filter, Target, role_name, saml_provider_name};
use crate::access::records::{PrincipalType, ProvisioningStatus, Task, TaskStatus};
use serde_json::{Value, json};

/// Largest `MaxResults` of these lists (CloudSSO's).
pub const LIST_MAX_RESULTS_MAX: usize = 20;

pub fn handles(op: &str) -> bool {
    super::super::catalog::ASSIGNMENT_OPERATIONS
        .iter()
        .any(|o| o.name == op)
}

fn target(p: &Params) -> Result<Target, ApiFault> {
    p.one_of("TargetType", &["RD-Account"])?;
    Ok(Target {
        directory_id: p.id("DirectoryId")?.to_owned(),
        config_id: p.id("AccessConfigurationId")?.to_owned(),
        account_id: p.id("TargetId")?.to_owned(),
    })
}

fn principal(p: &Params) -> Result<(PrincipalType, String), ApiFault> {
    let t = match p.one_of("PrincipalType", &["User", "Group"])? {
        "User" => PrincipalType::User,
        _ => PrincipalType::Group,
    };
    Ok((t, p.id("PrincipalId")?.to_owned()))
}

/// The paired filters: `TargetType` with `TargetId`, `PrincipalType` with `PrincipalId`.
fn filter(p: &Params) -> Result<Filter, ApiFault> {
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

pub fn resources(op: &str, p: &Params) -> Result<Vec<String>, ApiFault> {
    let dir = || p.id("DirectoryId").map(|d| format!("directory/{d}"));
    let config = || {
        Ok::<_, ApiFault>(format!(
            "{}/access-configuration/{}",
            dir()?,
            p.id("AccessConfigurationId")?
        ))
    };
    let principal_arn = || {
        let (t, pid) = principal(p)?;
        let kind = match t {
            PrincipalType::User => "user",
            PrincipalType::Group => "group",
        };
        Ok::<_, ApiFault>(format!("{}/{kind}/{pid}", dir()?))
    };
    Ok(match op {
        "CreateAccessAssignment" | "DeleteAccessAssignment" => vec![config()?, principal_arn()?],
        "ProvisionAccessConfiguration" | "DeprovisionAccessConfiguration" => vec![config()?],
        "ListAccessAssignments" | "ListAccessConfigurationProvisionings" => {
            vec![format!("{}/access-configuration/*", dir()?)]
        }
        "GetTask" | "GetTaskStatus" | "ListTasks" => vec![dir()?],
        "GetUserEffectiveAccess" => vec![format!("{}/user/{}", dir()?, p.id("UserId")?)],
        other => return Err(super::unknown(other)),
    })
}

async fn config_name(api: &Api, dir: &str, config: &str) -> String {
    let (d, c) = (dir.to_owned(), config.to_owned());
    api.dir
        .read(move |_, txn| {
            Ok(txn
                .record::<crate::access::records::AccessConfiguration>(
                    crate::store::Records::AccessConfigs,
                    &crate::store::record_key(&[&d, &c]),
                )?
                .map(|c| c.name))
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn task_json(api: &Api, t: &Task) -> Value {
    let mut v = json!({
        "TaskId": t.id,
        "TaskType": t.kind.as_str(),
        "Status": t.status.as_str(),
        "AccessConfigurationId": t.config_id,
        "AccessConfigurationName": config_name(api, &t.directory_id, &t.config_id).await,
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
    v
}

fn paged<T>(all: Vec<T>, offset: usize, count: usize) -> (usize, Vec<T>) {
    let total = all.len();
    (total, all.into_iter().skip(offset).take(count).collect())
}

pub async fn call(api: &Api, op: &str, p: &Params) -> Result<Value, ApiFault> {
    let access = &api.access;
    match op {
        "CreateAccessAssignment" => {
            let task = access.create_assignment(target(p)?, principal(p)?).await?;
            Ok(json!({"Task": task_json(api, &task).await}))
        }
        "DeleteAccessAssignment" => {
            let last = p
                .maybe_one_of(
                    "DeprovisionStrategy",
                    &["None", "DeprovisionForLastAccessAssignmentOnAccount"],
                )?
                .is_some_and(|s| s == "DeprovisionForLastAccessAssignmentOnAccount");
            let task = access
                .delete_assignment(target(p)?, principal(p)?, last)
                .await?;
            Ok(json!({"Task": task_json(api, &task).await}))
        }
        "ProvisionAccessConfiguration" => {
            let task = access.provision(target(p)?).await?;
            Ok(json!({"Tasks": [task_json(api, &task).await]}))
        }
        "DeprovisionAccessConfiguration" => {
            let task = access.deprovision(target(p)?).await?;
            Ok(json!({"Tasks": [task_json(api, &task).await]}))
        }
        "ListAccessAssignments" => {
            let d = p.id("DirectoryId")?;
            let (offset, count) = p.page_up_to(LIST_MAX_RESULTS_MAX)?;
            let all = access.assignments(d, filter(p)?).await?;
            let (total, page) = paged(all, offset, count);
            let mut items = Vec::with_capacity(page.len());
            for a in &page {
                items.push(json!({
                    "AccessConfigurationId": a.config_id,
                    "AccessConfigurationName": config_name(api, d, &a.config_id).await,
                    "TargetType": "RD-Account",
                    "TargetId": a.account_id,
                    "PrincipalType": a.principal_type.as_str(),
                    "PrincipalId": a.principal_id,
                    "CreateTime": time(&a.created),
                }));
            }
            let mut body = page_fields(offset, count, items.len(), total);
            if let Some(o) = body.as_object_mut() {
                o.insert("AccessAssignments".into(), Value::Array(items));
            }
            Ok(body)
        }
        "ListAccessConfigurationProvisionings" => {
            let d = p.id("DirectoryId")?;
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
            let all = access.provisionings(d, filter(p)?, status).await?;
            let (total, page) = paged(all, offset, count);
            let mut items = Vec::with_capacity(page.len());
            for r in &page {
                let name = config_name(api, d, &r.config_id).await;
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
            let mut body = page_fields(offset, count, items.len(), total);
            if let Some(o) = body.as_object_mut() {
                o.insert(
                    "AccessConfigurationProvisionings".into(),
                    Value::Array(items),
                );
            }
            Ok(body)
        }
        "GetTask" => {
            let t = access.task(p.id("DirectoryId")?, p.id("TaskId")?).await?;
            Ok(json!({"Task": task_json(api, &t).await}))
        }
        "GetTaskStatus" => {
            let t = access.task(p.id("DirectoryId")?, p.id("TaskId")?).await?;
            let full = task_json(api, &t).await;
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
        "ListTasks" => {
            let d = p.id("DirectoryId")?;
            let (offset, count) = p.page_up_to(LIST_MAX_RESULTS_MAX)?;
            let want = match p.maybe_one_of("Status", &["InProgress", "Success", "Failed"])? {
                Some("InProgress") => Some(TaskStatus::InProgress),
                Some("Success") => Some(TaskStatus::Success),
                Some(_) => Some(TaskStatus::Failed),
                None => None,
            };
            let all: Vec<Task> = access
                .tasks(d, filter(p)?)
                .await?
                .into_iter()
                .filter(|t| want.is_none_or(|w| w == t.status))
                .collect();
            let (total, page) = paged(all, offset, count);
            let mut items = Vec::with_capacity(page.len());
            for t in &page {
                items.push(task_json(api, t).await);
            }
            let mut body = page_fields(offset, count, items.len(), total);
            if let Some(o) = body.as_object_mut() {
                o.insert("Tasks".into(), Value::Array(items));
            }
            Ok(body)
        }
        "GetUserEffectiveAccess" => {
            let (d, u) = (p.id("DirectoryId")?, p.id("UserId")?);
            api.dir.directory(d).await?;
            let grants = access.effective_access(d, u).await?;
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
            Ok(json!({"EffectiveAccess": list}))
        }
        other => Err(super::unknown(other)),
    }
}
