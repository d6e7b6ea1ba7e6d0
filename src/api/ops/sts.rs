//! STS (2015-04-01) `GetCallerIdentity`: an administrator's AccessKey answers the RAM user
//! (`RAMUser`, `acs:ram::<account>:user/<name>`); temporary credentials answer the role they
//! assumed (`AssumedRoleUser`, `acs:ram::<account>:assumed-role/<role>/<session>`). Like
//! Alibaba's, the operation needs no permission: it names no resource to authorize.

use super::super::catalog::{Operation, Product};
use super::super::error::ApiFault;
use super::super::params::Params;
use super::{Ctx, Handler};
use crate::iam::Caller;
use crate::signin::credentials::{VerifiedCaller, role_id};
use serde_json::{Value, json};

const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";

pub(super) static HANDLERS: &[Handler] = &[op!(
    Sts,
    "GetCallerIdentity",
    no_resources,
    caller_identity,
    caller
)];

fn no_resources(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(Vec::new())
}

/// The administrator signing the request, as a RAM user of the installation's account.
async fn caller_identity(ctx: &Ctx, caller: &Caller, _: &Params) -> Result<Value, ApiFault> {
    let user = ctx
        .iam()
        .admin_user(&caller.user)
        .await
        .map_err(ApiFault::ram)?;
    let account = ctx.account();
    Ok(json!({
        "IdentityType": "RAMUser",
        "AccountId": account,
        "PrincipalId": user.id,
        "UserId": user.id,
        "Arn": format!("acs:ram::{account}:user/{}", user.name),
    }))
}

/// What temporary credentials may run: `GetCallerIdentity` only, answering the assumed role
/// (`UserId` is answered only for accounts and RAM users, as Alibaba's STS does).
pub(super) fn run_temporary(op: &Operation, caller: &VerifiedCaller) -> Result<Value, ApiFault> {
    if op.product != Product::Sts || op.name != GET_CALLER_IDENTITY {
        return Err(ApiFault::temporary_forbidden(&format!(
            "{}:{}",
            op.product.namespace(),
            op.name
        )));
    }
    let c = caller.claims();
    let role = role_id(&c.account_id, &c.role_name);
    Ok(json!({
        "IdentityType": "AssumedRoleUser",
        "AccountId": c.account_id,
        "PrincipalId": format!("{role}:{}", c.session_name()),
        "RoleId": role,
        "Arn": c.assumed_role_arn(),
    }))
}
