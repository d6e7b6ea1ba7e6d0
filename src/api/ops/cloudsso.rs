//! CloudSSO operations (2021-05-15): directories, users, groups, memberships, SCIM
//! credentials and synchronization status, over `directory`.

use super::super::error::ApiFault;
use super::super::params::{Params, page_fields};
use super::super::service::Api;
use super::shape;
use crate::directory::manage::{ApiGuard, Managed, Page};
use crate::directory::{CredentialOptions, DirectoryError};
use crate::scim::schema::{GROUP_SCHEMA, ResourceKind, USER_SCHEMA};
use crate::store::CredentialKind;
use serde_json::{Map, Value, json};

pub fn resources(op: &str, p: &Params) -> Result<Vec<String>, ApiFault> {
    let dir = || p.id("DirectoryId").map(|d| format!("directory/{d}"));
    let user = || Ok::<_, ApiFault>(format!("{}/user/{}", dir()?, p.id("UserId")?));
    let group = || Ok::<_, ApiFault>(format!("{}/group/{}", dir()?, p.id("GroupId")?));
    let cred = || {
        Ok::<_, ApiFault>(format!(
            "{}/scim-credential/{}",
            dir()?,
            p.id("CredentialId")?
        ))
    };
    Ok(match op {
        "CreateDirectory" | "ListDirectories" => vec!["directory/*".into()],
        "GetDirectory"
        | "UpdateDirectory"
        | "DeleteDirectory"
        | "GetDirectoryStatistics"
        | "SetSCIMSynchronizationStatus"
        | "GetSCIMSynchronizationStatus" => vec![dir()?],
        "CreateUser" | "ListUsers" | "GetUserId" => vec![format!("{}/user/*", dir()?)],
        "GetUser"
        | "UpdateUser"
        | "UpdateUserStatus"
        | "DeleteUser"
        | "ListJoinedGroupsForUser" => vec![user()?],
        "CreateGroup" | "ListGroups" => vec![format!("{}/group/*", dir()?)],
        "GetGroup" | "UpdateGroup" | "DeleteGroup" | "ListGroupMembers" => vec![group()?],
        "AddUserToGroup" | "RemoveUserFromGroup" => vec![group()?, user()?],
        "CreateSCIMServerCredential" | "ListSCIMServerCredentials" => {
            vec![format!("{}/scim-credential/*", dir()?)]
        }
        "UpdateSCIMServerCredentialStatus" | "DeleteSCIMServerCredential" => vec![cred()?],
        other => {
            return Err(ApiFault::new(
                404,
                "InvalidAction.NotFound",
                format!("no operation `{other}`"),
            ));
        }
    })
}

/// A name of at most `max` characters from `allowed` bytes (besides ASCII alphanumerics).
fn name(p: &Params, param: &str, max: usize, allowed: &[u8]) -> Result<Option<String>, ApiFault> {
    let Some(v) = p.get(param) else {
        return Ok(None);
    };
    if v.chars().count() > max
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || allowed.contains(&b))
    {
        return Err(ApiFault::invalid(
            param,
            format!(
                "must be at most {max} characters of letters, digits and `{}`",
                String::from_utf8_lossy(allowed)
            ),
        ));
    }
    Ok(Some(v.to_owned()))
}

fn email(p: &Params, param: &str) -> Result<Option<String>, ApiFault> {
    let Some(v) = p.text(param, 128)? else {
        return Ok(None);
    };
    match v.split_once('@') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() && !v.contains(char::is_whitespace) => {
            Ok(Some(v.to_owned()))
        }
        _ => Err(ApiFault::invalid(param, "not an email address")),
    }
}

fn directory_name(p: &Params, param: &str) -> Result<Option<String>, ApiFault> {
    let Some(v) = p.get(param) else {
        return Ok(None);
    };
    let ok = (2..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
        && !v.contains("--")
        && !v.starts_with("d-");
    if !ok {
        return Err(ApiFault::invalid(
            param,
            "must be 2 to 64 characters of a-z, 0-9 and `-`, not starting with `d-`, without leading, trailing or double `-`",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// `Uniqueness` from the directory means a name is taken: CloudSSO's code names the entity.
fn taken(entity: &'static str) -> impl Fn(DirectoryError) -> ApiFault {
    move |e| match e {
        DirectoryError::Uniqueness(m) => {
            ApiFault::new(409, format!("EntityAlreadyExists.{entity}"), m)
        }
        other => other.into(),
    }
}

/// `UserName eq "x"` / `GroupName sw "x"` (quotes optional, case-insensitive) as a SCIM
/// filter over `scim_attr`.
/// `<Attr> eq|sw <value>` (quotes optional, case-insensitive): CloudSSO's list filters.
pub(super) fn name_filter(raw: &str, api_attr: &str) -> Result<(NameOp, String), ApiFault> {
    let bad = || {
        ApiFault::invalid(
            "Filter",
            format!("expected `{api_attr} eq \"value\"` or `{api_attr} sw \"value\"`"),
        )
    };
    let mut parts = raw.trim().splitn(3, char::is_whitespace);
    let (attr, op, value) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?.trim(),
    );
    if !attr.eq_ignore_ascii_case(api_attr) {
        return Err(bad());
    }
    let op = match op.to_ascii_lowercase().as_str() {
        "eq" => NameOp::Eq,
        "sw" => NameOp::Sw,
        _ => return Err(bad()),
    };
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if value.is_empty() {
        return Err(bad());
    }
    Ok((op, value.to_owned()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameOp {
    Eq,
    Sw,
}

impl NameOp {
    /// Case-insensitive, as CloudSSO compares names.
    pub(super) fn matches(self, name: &str, value: &str) -> bool {
        let (n, v) = (name.to_lowercase(), value.to_lowercase());
        match self {
            NameOp::Eq => n == v,
            NameOp::Sw => n.starts_with(&v),
        }
    }
}

/// A list filter as a SCIM filter over `scim_attr`.
fn list_filter(raw: &str, api_attr: &str, scim_attr: &str) -> Result<String, ApiFault> {
    let (op, value) = name_filter(raw, api_attr)?;
    let op = match op {
        NameOp::Eq => "eq",
        NameOp::Sw => "sw",
    };
    Ok(format!("{scim_attr} {op} {}", Value::String(value)))
}

fn parse_filter(api: &Api, text: &str) -> Result<crate::scim::filter::Filter, ApiFault> {
    crate::scim::filter::parse_filter(text, &api.dir.limits().filter)
        .map_err(|e| ApiFault::invalid("Filter", e))
}

fn page_body(
    list: &str,
    offset: usize,
    count: usize,
    page: &Page<Managed>,
    each: impl Fn(&Managed) -> Value,
) -> Value {
    let mut body = page_fields(offset, count, page.items.len(), page.total);
    if let Some(o) = body.as_object_mut() {
        o.insert(list.into(), page.items.iter().map(each).collect());
    }
    body
}

fn manual_filter(p: &Params) -> Result<Option<bool>, ApiFault> {
    Ok(
        p.maybe_one_of("ProvisionType", &["Manual", "Synchronized"])?
            .map(|t| t == "Manual"),
    )
}

pub async fn call(api: &Api, op: &str, p: &Params) -> Result<Value, ApiFault> {
    let dir = &api.dir;
    let region = api.region.as_str();
    match op {
        "CreateDirectory" => {
            let name = directory_name(p, "DirectoryName")?
                .unwrap_or_else(|| crate::model::new_prefixed_id("directory-", 8));
            let d = dir.create_directory(&name).await?;
            Ok(json!({"Directory": shape::directory(&d, region)}))
        }
        "GetDirectory" => {
            let d = dir.directory(p.id("DirectoryId")?).await?;
            Ok(json!({"Directory": shape::directory(&d, region)}))
        }
        "ListDirectories" => {
            let all = dir.directories().await?;
            let list: Vec<Value> = all.iter().map(|d| shape::directory(d, region)).collect();
            Ok(json!({"TotalCounts": list.len(), "Directories": list}))
        }
        "UpdateDirectory" => {
            let d = p.id("DirectoryId")?;
            let new_name = directory_name(p, "NewDirectoryName")?
                .ok_or_else(|| ApiFault::missing("NewDirectoryName"))?;
            let rec = dir
                .update_directory(d, move |r| {
                    r.name = new_name;
                    Ok(())
                })
                .await?;
            Ok(json!({"Directory": shape::directory(&rec, region)}))
        }
        "DeleteDirectory" => {
            dir.delete_directory(p.id("DirectoryId")?, api.access.dependents())
                .await?;
            Ok(json!({}))
        }
        "GetDirectoryStatistics" => {
            let d = p.id("DirectoryId")?;
            let rec = dir.directory(d).await?;
            let (users, groups) = dir.statistics(d).await?;
            let creds = dir.credentials(d).await?.len();
            Ok(json!({"DirectoryStatistics": {
                "DirectoryId": rec.id,
                "DirectoryName": rec.name,
                "Region": region,
                "UserCount": users,
                "GroupCount": groups,
                "SCIMServerCredentialCount": creds,
                "SCIMSyncEnabled": rec.scim_sync_enabled,
            }}))
        }
        "CreateUser" => {
            let d = p.id("DirectoryId")?;
            let user_name =
                name(p, "UserName", 64, b"@_-.")?.ok_or_else(|| ApiFault::missing("UserName"))?;
            let mut doc = Map::new();
            doc.insert("schemas".into(), json!([USER_SCHEMA]));
            doc.insert("userName".into(), json!(user_name));
            if let Some(v) = p.text("DisplayName", 256)? {
                doc.insert("displayName".into(), json!(v));
            }
            let mut n = Map::new();
            if let Some(v) = p.text("FirstName", 64)? {
                n.insert("givenName".into(), json!(v));
            }
            if let Some(v) = p.text("LastName", 64)? {
                n.insert("familyName".into(), json!(v));
            }
            if !n.is_empty() {
                doc.insert("name".into(), Value::Object(n));
            }
            if let Some(e) = email(p, "Email")? {
                doc.insert("emails".into(), json!([{"value": e, "primary": true}]));
            }
            let status = p
                .maybe_one_of("Status", &["Enabled", "Disabled"])?
                .unwrap_or("Enabled");
            doc.insert("active".into(), json!(status == "Enabled"));
            let description = p.text("Description", 1024)?.unwrap_or_default().to_owned();
            let m = dir
                .api_create(ResourceKind::User, d, Value::Object(doc), description)
                .await
                .map_err(taken("User"))?;
            Ok(json!({"User": shape::user(&m)}))
        }
        "GetUser" => {
            let m = dir
                .api_get(ResourceKind::User, p.id("DirectoryId")?, p.id("UserId")?)
                .await?;
            Ok(json!({"User": shape::user(&m)}))
        }
        "ListUsers" => {
            let d = p.id("DirectoryId")?;
            let (offset, count) = p.page()?;
            let mut clauses = Vec::new();
            if let Some(f) = p.get("Filter") {
                clauses.push(list_filter(f, "UserName", "userName")?);
            }
            match p.maybe_one_of("Status", &["Enabled", "Disabled"])? {
                Some("Disabled") => clauses.push("active eq false".into()),
                Some(_) => clauses.push("not (active eq false)".into()),
                None => {}
            }
            let filter = match clauses.is_empty() {
                true => None,
                false => Some(parse_filter(api, &clauses.join(" and "))?),
            };
            let page = dir
                .api_list(
                    ResourceKind::User,
                    d,
                    filter,
                    manual_filter(p)?,
                    offset,
                    count,
                )
                .await?;
            Ok(page_body("Users", offset, count, &page, shape::user))
        }
        "UpdateUser" => {
            let (d, u) = (p.id("DirectoryId")?, p.id("UserId")?);
            let mut ops = Vec::new();
            let mut replace = |path: &str, v: Value| {
                ops.push(json!({"op": "replace", "path": path, "value": v}));
            };
            if let Some(v) = p.text("NewDisplayName", 256)? {
                replace("displayName", json!(v));
            }
            if let Some(v) = p.text("NewFirstName", 64)? {
                replace("name.givenName", json!(v));
            }
            if let Some(v) = p.text("NewLastName", 64)? {
                replace("name.familyName", json!(v));
            }
            if let Some(e) = email(p, "NewEmail")? {
                replace("emails", json!([{"value": e, "primary": true}]));
            }
            let guard = ApiGuard {
                description: p.text("NewDescription", 1024)?.map(str::to_owned),
                ..ApiGuard::default()
            };
            let m = dir.api_patch(ResourceKind::User, d, u, ops, guard).await?;
            Ok(json!({"User": shape::user(&m)}))
        }
        "UpdateUserStatus" => {
            let (d, u) = (p.id("DirectoryId")?, p.id("UserId")?);
            let on = p.one_of("NewStatus", &["Enabled", "Disabled"])? == "Enabled";
            let ops = vec![json!({"op": "replace", "path": "active", "value": on})];
            let guard = ApiGuard {
                status_only: true,
                ..ApiGuard::default()
            };
            dir.api_patch(ResourceKind::User, d, u, ops, guard).await?;
            Ok(json!({}))
        }
        "DeleteUser" => {
            dir.api_delete(
                ResourceKind::User,
                p.id("DirectoryId")?,
                p.id("UserId")?,
                api.access.dependents(),
            )
            .await?;
            Ok(json!({}))
        }
        "GetUserId" => {
            let d = p.id("DirectoryId")?;
            let raw = p.required("ExternalId")?;
            let ext: Value = serde_json::from_str(raw).map_err(|_| {
                ApiFault::invalid(
                    "ExternalId",
                    "must be JSON: {\"Id\": \"...\", \"Issuer\": \"...\"}",
                )
            })?;
            let ext_id = ext
                .get("Id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiFault::missing("ExternalId.Id"))?;
            let filter = parse_filter(
                api,
                &format!("externalId eq {}", Value::String(ext_id.into())),
            )?;
            let page = dir
                .api_list(ResourceKind::User, d, Some(filter), None, 0, 1)
                .await?;
            let m = page
                .items
                .first()
                .ok_or_else(|| ApiFault::not_found("User", ext_id))?;
            Ok(json!({"UserId": m.id()}))
        }
        "CreateGroup" => {
            let d = p.id("DirectoryId")?;
            let group_name = name(p, "GroupName", 128, b"_-. ")?
                .ok_or_else(|| ApiFault::missing("GroupName"))?;
            let doc = json!({"schemas": [GROUP_SCHEMA], "displayName": group_name});
            let description = p.text("Description", 1024)?.unwrap_or_default().to_owned();
            let m = dir
                .api_create(ResourceKind::Group, d, doc, description)
                .await
                .map_err(taken("Group"))?;
            Ok(json!({"Group": shape::group(&m)}))
        }
        "GetGroup" => {
            let m = dir
                .api_get(ResourceKind::Group, p.id("DirectoryId")?, p.id("GroupId")?)
                .await?;
            Ok(json!({"Group": shape::group(&m)}))
        }
        "ListGroups" => {
            let d = p.id("DirectoryId")?;
            let (offset, count) = p.page()?;
            let filter = match p.get("Filter") {
                Some(f) => Some(parse_filter(
                    api,
                    &list_filter(f, "GroupName", "displayName")?,
                )?),
                None => None,
            };
            let page = dir
                .api_list(
                    ResourceKind::Group,
                    d,
                    filter,
                    manual_filter(p)?,
                    offset,
                    count,
                )
                .await?;
            Ok(page_body("Groups", offset, count, &page, shape::group))
        }
        "UpdateGroup" => {
            let (d, g) = (p.id("DirectoryId")?, p.id("GroupId")?);
            let mut ops = Vec::new();
            if let Some(n) = name(p, "NewGroupName", 128, b"_-. ")? {
                ops.push(json!({"op": "replace", "path": "displayName", "value": n}));
            }
            let guard = ApiGuard {
                description: p.text("NewDescription", 1024)?.map(str::to_owned),
                ..ApiGuard::default()
            };
            let m = dir
                .api_patch(ResourceKind::Group, d, g, ops, guard)
                .await
                .map_err(taken("Group"))?;
            Ok(json!({"Group": shape::group(&m)}))
        }
        "DeleteGroup" => {
            dir.api_delete(
                ResourceKind::Group,
                p.id("DirectoryId")?,
                p.id("GroupId")?,
                api.access.dependents(),
            )
            .await?;
            Ok(json!({}))
        }
        "AddUserToGroup" => {
            dir.api_add_member(p.id("DirectoryId")?, p.id("GroupId")?, p.id("UserId")?)
                .await?;
            Ok(json!({}))
        }
        "RemoveUserFromGroup" => {
            dir.api_remove_member(p.id("DirectoryId")?, p.id("GroupId")?, p.id("UserId")?)
                .await?;
            Ok(json!({}))
        }
        "ListGroupMembers" => {
            let (d, g) = (p.id("DirectoryId")?, p.id("GroupId")?);
            let (offset, count) = p.page()?;
            let page = dir.api_group_members(d, g, offset, count).await?;
            Ok(page_body("GroupMembers", offset, count, &page, |m| {
                let mut u = shape::user(m);
                if let Some(o) = u.as_object_mut() {
                    o.insert("GroupId".into(), json!(g));
                    o.remove("FirstName");
                    o.remove("LastName");
                    o.remove("ExternalId");
                    o.remove("CreateTime");
                    o.remove("UpdateTime");
                }
                u
            }))
        }
        "ListJoinedGroupsForUser" => {
            let (d, u) = (p.id("DirectoryId")?, p.id("UserId")?);
            let (offset, count) = p.page()?;
            let page = dir.api_groups_of(d, u, offset, count).await?;
            Ok(page_body("JoinedGroups", offset, count, &page, |m| {
                let mut g = shape::group(m);
                if let Some(o) = g.as_object_mut() {
                    o.insert("UserId".into(), json!(u));
                    o.remove("CreateTime");
                    o.remove("UpdateTime");
                }
                g
            }))
        }
        "CreateSCIMServerCredential" => {
            let d = p.id("DirectoryId")?;
            let kind =
                match p.maybe_one_of("CredentialType", &["BearerToken", "OAuthClientSecret"])? {
                    Some("OAuthClientSecret") => CredentialKind::OAuthClientSecret,
                    _ => CredentialKind::BearerToken,
                };
            let expires_unix = match p.get("ExpireTime") {
                Some(t) => Some(super::super::replay::parse_timestamp(t).map_err(|_| {
                    ApiFault::invalid("ExpireTime", "must be a time such as 2027-01-01T00:00:00Z")
                })?),
                None => None,
            };
            let token_ttl_minutes = p
                .int("TokenValidityMinutes", 1..=i64::from(u32::MAX))?
                .map(|m| m as u32);
            let made = dir
                .create_credential(
                    d,
                    CredentialOptions {
                        kind,
                        expires_unix,
                        token_ttl_minutes,
                    },
                )
                .await?;
            let mut c = shape::credential(&made.record);
            if let Some(o) = c.as_object_mut() {
                o.insert("CredentialSecret".into(), json!(made.secret));
            }
            Ok(json!({"SCIMServerCredential": c}))
        }
        "ListSCIMServerCredentials" => {
            let all = dir.credentials(p.id("DirectoryId")?).await?;
            let list: Vec<Value> = all.iter().map(shape::credential).collect();
            Ok(json!({"TotalCounts": list.len(), "SCIMServerCredentials": list}))
        }
        "UpdateSCIMServerCredentialStatus" => {
            let (d, c) = (p.id("DirectoryId")?, p.id("CredentialId")?);
            let on = p.one_of("NewStatus", &["Enabled", "Disabled"])? == "Enabled";
            dir.credential(d, c).await?;
            dir.set_credential_status(c, on).await?;
            let rec = dir.credential(d, c).await?;
            Ok(json!({"SCIMServerCredential": shape::credential(&rec)}))
        }
        "DeleteSCIMServerCredential" => {
            dir.delete_credential(p.id("DirectoryId")?, p.id("CredentialId")?)
                .await?;
            Ok(json!({}))
        }
        "SetSCIMSynchronizationStatus" => {
            let d = p.id("DirectoryId")?;
            let on = p.one_of("SCIMSynchronizationStatus", &["Enabled", "Disabled"])? == "Enabled";
            dir.update_directory(d, move |r| {
                r.scim_sync_enabled = on;
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "GetSCIMSynchronizationStatus" => {
            let rec = dir.directory(p.id("DirectoryId")?).await?;
            Ok(json!({"SCIMSynchronizationStatus": shape::enabled(rec.scim_sync_enabled)}))
        }
        other => Err(ApiFault::new(
            404,
            "InvalidAction.NotFound",
            format!("no operation `{other}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_filters() {
        let cases = [
            ("UserName eq \"alice\"", Ok("userName eq \"alice\"")),
            ("username EQ alice", Ok("userName eq \"alice\"")),
            ("UserName sw \"a b\"", Ok("userName sw \"a b\"")),
            ("UserName co \"a\"", Err(())),
            ("Email eq \"a\"", Err(())),
            ("UserName eq", Err(())),
            ("UserName eq \"\"", Err(())),
            ("UserName eq \"x\\\"y\"", Ok("userName eq \"x\\\\\\\"y\"")),
        ];
        for (raw, want) in cases {
            let got = list_filter(raw, "UserName", "userName").map_err(|_| ());
            assert_eq!(got, want.map(str::to_owned), "{raw}");
        }
    }
}
