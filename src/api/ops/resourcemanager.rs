//! Resource Manager (2020-03-31): accounts and folders of the resource directory, over
//! `access::accounts`, in Resource Manager's shapes (lists wrapped as `{"Accounts":{"Account":
//! [...]}}`, pages by `PageNumber`/`PageSize`/`TotalCount`). Each operation is one async fn,
//! listed with its resources in `HANDLERS`.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::shape::time;
use super::{Ctx, Handler};
use crate::access::accounts::{AccountView, NewAccount};
use crate::access::records::Folder;
use serde_json::{Map, Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(
        ResourceManager,
        "CreateResourceAccount",
        accounts,
        create_account
    ),
    op!(ResourceManager, "GetAccount", account_arn, get_account),
    op!(ResourceManager, "ListAccounts", accounts, list_accounts),
    op!(
        ResourceManager,
        "DeleteAccount",
        account_arn,
        delete_account
    ),
    op!(ResourceManager, "CreateFolder", folders, create_folder),
    op!(
        ResourceManager,
        "ListFoldersForParent",
        folders,
        list_folders_for_parent
    ),
];

/// A member account id: digits only (it goes into an ARN).
pub(super) fn account_id(p: &Params) -> Result<&str, ApiFault> {
    let v = p.required("AccountId")?;
    if v.len() > 32 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiFault::invalid("AccountId", "must be digits"));
    }
    Ok(v)
}

fn accounts(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec!["account/*".into()])
}

fn account_arn(p: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec![format!("account/{}", account_id(p)?)])
}

fn folders(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec!["folder/*".into()])
}

/// The fields every account answer has (`CreateResourceAccount`'s whole `Account`).
fn account(v: &AccountView) -> Map<String, Value> {
    let a = &v.account;
    let mut o = Map::new();
    for (k, val) in [
        ("AccountId", a.id.as_str()),
        ("AccountName", a.account_name.as_str()),
        ("DisplayName", a.display_name.as_str()),
        ("FolderId", a.folder_id.as_str()),
        ("ResourceDirectoryId", v.resource_directory_id.as_str()),
        ("JoinMethod", "created"),
        ("Status", "CreateSuccess"),
        ("Type", "ResourceAccount"),
    ] {
        o.insert(k.into(), json!(val));
    }
    o.insert("JoinTime".into(), json!(time(&a.created)));
    o.insert("ModifyTime".into(), json!(time(&a.modified)));
    o
}

fn folder(f: &Folder) -> Value {
    json!({
        "FolderId": f.id,
        "FolderName": f.name,
        "ParentFolderId": f.parent_id.clone().unwrap_or_default(),
        "CreateTime": time(&f.created),
    })
}

fn merge(mut base: Value, more: Value) -> Value {
    if let (Some(b), Value::Object(m)) = (base.as_object_mut(), more) {
        b.extend(m);
    }
    base
}

async fn create_account(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let v = ctx
        .access()
        .create_account(NewAccount {
            display_name: p.required("DisplayName")?.to_owned(),
            parent_folder_id: p.get("ParentFolderId").map(str::to_owned),
            account_name_prefix: p.get("AccountNamePrefix").map(str::to_owned),
        })
        .await?;
    Ok(json!({ "Account": account(&v) }))
}

async fn get_account(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let tags = p.flag("IncludeTags")?;
    let v = ctx.access().account(account_id(p)?).await?;
    let mut o = account(&v);
    o.insert("ResourceDirectoryPath".into(), json!(v.path));
    o.insert("Location".into(), json!(v.location));
    o.insert("IdentityInformation".into(), json!(""));
    o.insert("EmailStatus".into(), json!(""));
    if tags {
        o.insert("Tags".into(), json!([]));
    }
    Ok(json!({ "Account": o }))
}

async fn list_accounts(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let tags = p.flag("IncludeTags")?;
    let page = p.page_number()?;
    let found = ctx.access().accounts(page.offset(), page.size).await?;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|v| {
            let mut o = account(v);
            o.insert("ResourceDirectoryPath".into(), json!(v.path));
            if tags {
                o.insert("Tags".into(), json!({ "Tag": [] }));
            }
            Value::Object(o)
        })
        .collect();
    Ok(merge(
        page.fields(found.total),
        json!({ "Accounts": { "Account": items } }),
    ))
}

async fn delete_account(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.access().delete_account(account_id(p)?).await?;
    Ok(json!({ "DeletionType": "0" }))
}

async fn create_folder(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let f = ctx
        .access()
        .create_folder(p.required("FolderName")?, p.get("ParentFolderId"))
        .await?;
    Ok(json!({ "Folder": folder(&f) }))
}

async fn list_folders_for_parent(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let page = p.page_number()?;
    let found = ctx
        .access()
        .folders_for_parent(
            p.get("ParentFolderId"),
            p.get("QueryKeyword"),
            page.offset(),
            page.size,
        )
        .await?;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|f| {
            json!({
                "FolderId": f.id,
                "FolderName": f.name,
                "CreateTime": time(&f.created),
            })
        })
        .collect();
    Ok(merge(
        page.fields(found.total),
        json!({ "Folders": { "Folder": items } }),
    ))
}
