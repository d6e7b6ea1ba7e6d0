//! CloudSSO's delegated administrator account (2021-05-15): `EnableDelegateAccount`,
//! `DisableDelegateAccount` and `GetDelegateAccount`, over `access::delegate`. Authorized on
//! `*` like the service switch (Alibaba documents these actions on "all resources").
//! `GetDelegateAccount` is newer than the pinned SDK (1.7.0); its answer carries the fields
//! Terraform's `alicloud_cloud_sso_delegate_account` reads (`AccountId`, `DelegateStatus`).

use super::super::error::ApiFault;
use super::super::params::Params;
use super::resource::only::installation;
use super::resourcemanager::account_id;
use super::signin::status;
use super::{Ctx, Handler};
use serde_json::{Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(CloudSso, "EnableDelegateAccount", installation, enable),
    op!(CloudSso, "DisableDelegateAccount", installation, disable),
    op!(CloudSso, "GetDelegateAccount", installation, get),
];

async fn enable(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let id = account_id(p)?;
    ctx.access()
        .enable_delegate_account(id, ctx.account())
        .await?;
    Ok(json!({}))
}

async fn disable(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    ctx.access()
        .disable_delegate_account(account_id(p)?)
        .await?;
    Ok(json!({}))
}

async fn get(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let v = ctx.access().delegate_account(account_id(p)?).await?;
    Ok(json!({"DelegateAccount": {
        "AccountId": v.account.id,
        "DisplayName": v.account.display_name,
        "DelegateStatus": status(v.delegate.is_some()),
    }}))
}
