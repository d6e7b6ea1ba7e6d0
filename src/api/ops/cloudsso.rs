//! CloudSSO operations (2021-05-15): directories, users, groups, memberships, SCIM
//! credentials and synchronization status, over `directory`. Each operation is one async fn,
//! listed with its resources in `HANDLERS`. Must not build SCIM text: filters and documents
//! are built as values.

use super::super::error::ApiFault;
use super::super::params::{Params, page_fields};
use super::resource::only::{directory, user};
use super::{Ctx, Handler, resource, shape};
use crate::directory::CredentialOptions;
use crate::directory::manage::{ApiGuard, Managed, Page};
use crate::error::Entity;
use crate::model::PrincipalId;
use crate::scim::filter::{AttrPath, CompareOp, Filter, Literal};
use crate::scim::schema::{GROUP_SCHEMA, ResourceKind, StringLimits, USER_SCHEMA};
use crate::store::CredentialKind;
use serde_json::{Map, Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(CloudSso, "CreateDirectory", directories, create_directory),
    op!(CloudSso, "GetDirectory", directory, get_directory),
    op!(CloudSso, "ListDirectories", directories, list_directories),
    op!(CloudSso, "UpdateDirectory", directory, update_directory),
    op!(CloudSso, "DeleteDirectory", directory, delete_directory),
    op!(
        CloudSso,
        "GetDirectoryStatistics",
        directory,
        get_directory_statistics
    ),
    op!(CloudSso, "CreateUser", users, create_user),
    op!(CloudSso, "GetUser", user, get_user),
    op!(CloudSso, "ListUsers", users, list_users),
    op!(CloudSso, "UpdateUser", user, update_user),
    op!(CloudSso, "UpdateUserStatus", user, update_user_status),
    op!(CloudSso, "DeleteUser", user, delete_user),
    op!(CloudSso, "GetUserId", users, get_user_id),
    op!(CloudSso, "CreateGroup", groups, create_group),
    op!(CloudSso, "GetGroup", group, get_group),
    op!(CloudSso, "ListGroups", groups, list_groups),
    op!(CloudSso, "UpdateGroup", group, update_group),
    op!(CloudSso, "DeleteGroup", group, delete_group),
    op!(CloudSso, "AddUserToGroup", membership, add_user_to_group),
    op!(
        CloudSso,
        "RemoveUserFromGroup",
        membership,
        remove_user_from_group
    ),
    op!(CloudSso, "ListGroupMembers", group, list_group_members),
    op!(
        CloudSso,
        "ListJoinedGroupsForUser",
        user,
        list_joined_groups_for_user
    ),
    op!(
        CloudSso,
        "CreateSCIMServerCredential",
        credentials,
        create_credential
    ),
    op!(
        CloudSso,
        "ListSCIMServerCredentials",
        credentials,
        list_credentials
    ),
    op!(
        CloudSso,
        "UpdateSCIMServerCredentialStatus",
        credential,
        update_credential_status
    ),
    op!(
        CloudSso,
        "DeleteSCIMServerCredential",
        credential,
        delete_credential
    ),
    op!(
        CloudSso,
        "SetSCIMSynchronizationStatus",
        directory,
        set_sync_status
    ),
    op!(
        CloudSso,
        "GetSCIMSynchronizationStatus",
        directory,
        get_sync_status
    ),
];

fn directories(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec!["directory/*".into()])
}

fn users(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![resource::all_in_dir(p, "user")?])
}

fn groups(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![resource::all_in_dir(p, "group")?])
}

fn group(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![resource::group(p)?])
}

fn membership(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![resource::group(p)?, resource::user(p)?])
}

fn credentials(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![resource::all_in_dir(p, "scim-credential")?])
}

fn credential(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![format!(
        "{}/scim-credential/{}",
        resource::dir(p)?,
        p.id("CredentialId")?
    )])
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

fn email(p: &Params, param: &str, l: &StringLimits) -> Result<Option<String>, ApiFault> {
    let Some(v) = p.text(param, l.email_chars_max)? else {
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
    if crate::signin::RESERVED_PATH_NAMES.contains(&v) {
        return Err(ApiFault::invalid(
            param,
            format!("`{v}` is reserved: the server's own routes use it"),
        ));
    }
    Ok(Some(v.to_owned()))
}

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
    let value = unquote(value).ok_or_else(bad)?;
    if value.is_empty() {
        return Err(bad());
    }
    Ok((op, value.to_owned()))
}

/// A filter value, bare or in double quotes; `None` when a quote opens or closes alone.
fn unquote(value: &str) -> Option<&str> {
    match (value.strip_prefix('"'), value.ends_with('"')) {
        (Some(inner), true) => inner.strip_suffix('"'),
        (None, false) => Some(value),
        _ => None,
    }
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

/// `attr op value` over a top-level attribute.
fn compare(attr: &str, op: CompareOp, value: Literal) -> Filter {
    Filter::Compare {
        path: AttrPath {
            schema: None,
            name: attr.to_owned(),
            sub: None,
        },
        op,
        value,
    }
}

/// A list filter as a SCIM filter over `scim_attr`.
///
/// A filter longer than the SCIM filter length limit (`filter_len_max`) is refused, as the
/// same filter sent over SCIM would be.
fn list_filter(
    raw: &str,
    api_attr: &str,
    scim_attr: &str,
    len_max: usize,
) -> Result<Filter, ApiFault> {
    if raw.len() > len_max {
        return Err(ApiFault::invalid(
            "Filter",
            format!("the filter is longer than {len_max} bytes"),
        ));
    }
    let (op, value) = name_filter(raw, api_attr)?;
    let op = match op {
        NameOp::Eq => CompareOp::Eq,
        NameOp::Sw => CompareOp::Sw,
    };
    Ok(compare(scim_attr, op, Literal::String(value)))
}

async fn create_directory(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let name = directory_name(p, "DirectoryName")?
        .unwrap_or_else(|| crate::model::new_prefixed_id("directory-", 8));
    let d = ctx.dir().create_directory(&name).await?;
    Ok(json!({"Directory": shape::directory(&d, ctx.region())}))
}

async fn get_directory(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = ctx.dir().directory(&p.directory_id()?).await?;
    Ok(json!({"Directory": shape::directory(&d, ctx.region())}))
}

async fn list_directories(ctx: &Ctx, _: &Params) -> Result<Value, ApiFault> {
    let all = ctx.dir().directories().await?;
    let list: Vec<Value> = all
        .iter()
        .map(|d| shape::directory(d, ctx.region()))
        .collect();
    Ok(json!({"TotalCounts": list.len(), "Directories": list}))
}

async fn update_directory(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let new_name = directory_name(p, "NewDirectoryName")?
        .ok_or_else(|| ApiFault::missing("NewDirectoryName"))?;
    let rec = ctx
        .dir()
        .update_directory(d, move |r| {
            r.name = new_name;
            Ok(())
        })
        .await?;
    Ok(json!({"Directory": shape::directory(&rec, ctx.region())}))
}

async fn delete_directory(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let dependents = ctx.signin().dependents(ctx.access().dependents());
    ctx.dir()
        .delete_directory(&p.directory_id()?, dependents)
        .await?;
    Ok(json!({}))
}

async fn get_directory_statistics(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (dir, d) = (ctx.dir(), &p.directory_id()?);
    let rec = dir.directory(d).await?;
    let (users, groups) = dir.statistics(d).await?;
    let creds = dir.credentials(d).await?.len();
    let sso = ctx.signin().settings(d).await?.sso_enabled;
    Ok(json!({"DirectoryStatistics": {
        "DirectoryId": rec.id,
        "DirectoryName": rec.name,
        "Region": ctx.region(),
        "UserCount": users,
        "GroupCount": groups,
        "SCIMServerCredentialCount": creds,
        "SCIMSyncEnabled": rec.scim_sync_enabled,
        "SSOEnabled": sso,
    }}))
}

/// The SCIM User document `CreateUser`'s parameters describe.
fn new_user(p: &Params, l: &StringLimits) -> Result<Value, ApiFault> {
    let user_name = name(p, "UserName", l.user_name_chars_max, b"@_-.")?
        .ok_or_else(|| ApiFault::missing("UserName"))?;
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([USER_SCHEMA]));
    doc.insert("userName".into(), json!(user_name));
    if let Some(v) = p.text("DisplayName", l.display_name_chars_max)? {
        doc.insert("displayName".into(), json!(v));
    }
    let mut n = Map::new();
    if let Some(v) = p.text("FirstName", l.name_part_chars_max)? {
        n.insert("givenName".into(), json!(v));
    }
    if let Some(v) = p.text("LastName", l.name_part_chars_max)? {
        n.insert("familyName".into(), json!(v));
    }
    if !n.is_empty() {
        doc.insert("name".into(), Value::Object(n));
    }
    if let Some(e) = email(p, "Email", l)? {
        doc.insert("emails".into(), json!([{"value": e, "primary": true}]));
    }
    let status = p
        .maybe_one_of("Status", &["Enabled", "Disabled"])?
        .unwrap_or("Enabled");
    doc.insert("active".into(), json!(status == "Enabled"));
    Ok(Value::Object(doc))
}

async fn create_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let doc = new_user(p, &ctx.dir().limits().strings)?;
    let description = p.text("Description", 1024)?.unwrap_or_default().to_owned();
    let m = ctx
        .dir()
        .api_create(ResourceKind::User, d, doc, description)
        .await
        .map_err(|e| ApiFault::taken(Entity::User, e))?;
    Ok(json!({"User": shape::user(&m)}))
}

async fn get_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let m = ctx
        .dir()
        .api_get(&p.directory_id()?, &p.user_id()?.into())
        .await?;
    Ok(json!({"User": shape::user(&m)}))
}

/// `ListUsers`' `Filter` and `Status`, both when both are given.
fn users_filter(p: &Params, len_max: usize) -> Result<Option<Filter>, ApiFault> {
    let mut clauses = Vec::new();
    if let Some(f) = p.get("Filter") {
        clauses.push(list_filter(f, "UserName", "userName", len_max)?);
    }
    let inactive = || compare("active", CompareOp::Eq, Literal::Bool(false));
    match p.maybe_one_of("Status", &["Enabled", "Disabled"])? {
        Some("Disabled") => clauses.push(inactive()),
        Some(_) => clauses.push(Filter::Not(Box::new(inactive()))),
        None => {}
    }
    Ok(clauses
        .into_iter()
        .reduce(|a, b| Filter::And(Box::new(a), Box::new(b))))
}

async fn list_users(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let (offset, count) = p.page()?;
    let filter = users_filter(p, ctx.dir().limits().filter.len_max)?;
    let page = ctx
        .dir()
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

async fn update_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, u) = (&p.directory_id()?, &PrincipalId::from(p.user_id()?));
    let mut ops = Vec::new();
    let l = &ctx.dir().limits().strings;
    let mut replace = |path: &str, v: Value| {
        ops.push(json!({"op": "replace", "path": path, "value": v}));
    };
    if let Some(v) = p.text("NewDisplayName", l.display_name_chars_max)? {
        replace("displayName", json!(v));
    }
    if let Some(v) = p.text("NewFirstName", l.name_part_chars_max)? {
        replace("name.givenName", json!(v));
    }
    if let Some(v) = p.text("NewLastName", l.name_part_chars_max)? {
        replace("name.familyName", json!(v));
    }
    if let Some(e) = email(p, "NewEmail", l)? {
        replace("emails", json!([{"value": e, "primary": true}]));
    }
    let guard = ApiGuard {
        description: p.text("NewDescription", 1024)?.map(str::to_owned),
        ..ApiGuard::default()
    };
    let m = ctx.dir().api_patch(d, u, ops, guard).await?;
    Ok(json!({"User": shape::user(&m)}))
}

async fn update_user_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, u) = (&p.directory_id()?, &PrincipalId::from(p.user_id()?));
    let on = p.one_of("NewStatus", &["Enabled", "Disabled"])? == "Enabled";
    let ops = vec![json!({"op": "replace", "path": "active", "value": on})];
    let guard = ApiGuard {
        status_only: true,
        ..ApiGuard::default()
    };
    ctx.dir().api_patch(d, u, ops, guard).await?;
    Ok(json!({}))
}

async fn delete_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.dir()
        .api_delete(
            &p.directory_id()?,
            &p.user_id()?.into(),
            ctx.access().dependents(),
        )
        .await?;
    Ok(json!({}))
}

async fn get_user_id(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
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
    let filter = compare("externalId", CompareOp::Eq, Literal::String(ext_id.into()));
    let page = ctx
        .dir()
        .api_list(ResourceKind::User, d, Some(filter), None, 0, 1)
        .await?;
    let m = page
        .items
        .first()
        .ok_or_else(|| ApiFault::not_found(Entity::User, ext_id))?;
    Ok(json!({"UserId": m.id()}))
}

async fn create_group(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let max = ctx.dir().limits().strings.group_name_chars_max;
    let group_name =
        name(p, "GroupName", max, b"_-. ")?.ok_or_else(|| ApiFault::missing("GroupName"))?;
    let doc = json!({"schemas": [GROUP_SCHEMA], "displayName": group_name});
    let description = p.text("Description", 1024)?.unwrap_or_default().to_owned();
    let m = ctx
        .dir()
        .api_create(ResourceKind::Group, d, doc, description)
        .await
        .map_err(|e| ApiFault::taken(Entity::Group, e))?;
    Ok(json!({"Group": shape::group(&m)}))
}

async fn get_group(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let m = ctx
        .dir()
        .api_get(&p.directory_id()?, &p.group_id()?.into())
        .await?;
    Ok(json!({"Group": shape::group(&m)}))
}

async fn list_groups(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let (offset, count) = p.page()?;
    let filter = match p.get("Filter") {
        Some(f) => Some(list_filter(
            f,
            "GroupName",
            "displayName",
            ctx.dir().limits().filter.len_max,
        )?),
        None => None,
    };
    let page = ctx
        .dir()
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

async fn update_group(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, g) = (&p.directory_id()?, &PrincipalId::from(p.group_id()?));
    let mut ops = Vec::new();
    let max = ctx.dir().limits().strings.group_name_chars_max;
    if let Some(n) = name(p, "NewGroupName", max, b"_-. ")? {
        ops.push(json!({"op": "replace", "path": "displayName", "value": n}));
    }
    let guard = ApiGuard {
        description: p.text("NewDescription", 1024)?.map(str::to_owned),
        ..ApiGuard::default()
    };
    let m = ctx
        .dir()
        .api_patch(d, g, ops, guard)
        .await
        .map_err(|e| ApiFault::taken(Entity::Group, e))?;
    Ok(json!({"Group": shape::group(&m)}))
}

async fn delete_group(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.dir()
        .api_delete(
            &p.directory_id()?,
            &p.group_id()?.into(),
            ctx.access().dependents(),
        )
        .await?;
    Ok(json!({}))
}

async fn add_user_to_group(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.dir()
        .api_add_member(&p.directory_id()?, &p.group_id()?, &p.user_id()?)
        .await?;
    Ok(json!({}))
}

async fn remove_user_from_group(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.dir()
        .api_remove_member(&p.directory_id()?, &p.group_id()?, &p.user_id()?)
        .await?;
    Ok(json!({}))
}

async fn list_group_members(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, g) = (&p.directory_id()?, &p.group_id()?);
    let (offset, count) = p.page()?;
    let page = ctx.dir().api_group_members(d, g, offset, count).await?;
    Ok(page_body("GroupMembers", offset, count, &page, |m| {
        let mut u = shape::user(m);
        if let Some(o) = u.as_object_mut() {
            o.insert("GroupId".into(), json!(g));
            for k in [
                "FirstName",
                "LastName",
                "ExternalId",
                "CreateTime",
                "UpdateTime",
            ] {
                o.remove(k);
            }
        }
        u
    }))
}

async fn list_joined_groups_for_user(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, u) = (&p.directory_id()?, &p.user_id()?);
    let (offset, count) = p.page()?;
    let page = ctx.dir().api_groups_of(d, u, offset, count).await?;
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

/// `CreateSCIMServerCredential`'s type, expiry and token lifetime.
fn credential_options(p: &Params) -> Result<CredentialOptions, ApiFault> {
    let kind = match p.maybe_one_of("CredentialType", &["BearerToken", "OAuthClientSecret"])? {
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
    Ok(CredentialOptions {
        kind,
        expires_unix,
        token_ttl_minutes,
    })
}

async fn create_credential(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let made = ctx
        .dir()
        .create_credential(d, credential_options(p)?)
        .await?;
    let mut c = shape::credential(&made.record);
    if let Some(o) = c.as_object_mut() {
        o.insert("CredentialSecret".into(), json!(made.secret));
    }
    Ok(json!({"SCIMServerCredential": c}))
}

async fn list_credentials(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let all = ctx.dir().credentials(&p.directory_id()?).await?;
    let list: Vec<Value> = all.iter().map(shape::credential).collect();
    Ok(json!({"TotalCounts": list.len(), "SCIMServerCredentials": list}))
}

async fn update_credential_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, c) = (&p.directory_id()?, p.id("CredentialId")?);
    let on = p.one_of("NewStatus", &["Enabled", "Disabled"])? == "Enabled";
    let dir = ctx.dir();
    dir.credential(d, c).await?;
    dir.set_credential_status(c, on).await?;
    let rec = dir.credential(d, c).await?;
    Ok(json!({"SCIMServerCredential": shape::credential(&rec)}))
}

async fn delete_credential(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.dir()
        .delete_credential(&p.directory_id()?, p.id("CredentialId")?)
        .await?;
    Ok(json!({}))
}

async fn set_sync_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let d = &p.directory_id()?;
    let on = p.one_of("SCIMSynchronizationStatus", &["Enabled", "Disabled"])? == "Enabled";
    ctx.dir()
        .update_directory(d, move |r| {
            r.scim_sync_enabled = on;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn get_sync_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let rec = ctx.dir().directory(&p.directory_id()?).await?;
    Ok(json!({"SCIMSynchronizationStatus": shape::enabled(rec.scim_sync_enabled)}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{FilterLimits, parse_filter};

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
            ("UserName eq \"alice", Err(())),
            ("UserName eq alice\"", Err(())),
            ("UserName eq \"", Err(())),
            ("UserName sw \"a b", Err(())),
            ("UserName eq \"x\\\"y\"", Ok("userName eq \"x\\\\\\\"y\"")),
        ];
        let at_limit = format!("UserName eq {}", "a".repeat(4096 - 12));
        assert!(list_filter(&at_limit, "UserName", "userName", 4096).is_ok());
        let past = format!("{at_limit}a");
        assert!(list_filter(&past, "UserName", "userName", 4096).is_err());
        for (raw, want) in cases {
            let got = list_filter(raw, "UserName", "userName", 4096).map_err(|_| ());
            let want = want.map(|t| parse_filter(t, &FilterLimits::default()).unwrap());
            assert_eq!(got, want, "{raw}");
        }
    }

    #[test]
    fn status_filters_are_what_the_scim_text_meant() {
        let parse = |t: &str| parse_filter(t, &FilterLimits::default()).unwrap();
        let params = |pairs: &[(&str, &str)]| {
            Params::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let cases = [
            (params(&[("Status", "Disabled")]), "active eq false"),
            (params(&[("Status", "Enabled")]), "not (active eq false)"),
            (
                params(&[("Filter", "UserName sw a"), ("Status", "Enabled")]),
                "userName sw \"a\" and not (active eq false)",
            ),
        ];
        for (p, text) in cases {
            assert_eq!(users_filter(&p, 4096).unwrap(), Some(parse(text)), "{text}");
        }
        assert_eq!(users_filter(&params(&[]), 4096).unwrap(), None);
    }
}
