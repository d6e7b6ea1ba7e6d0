//! The operations: for each, the resources it acts on (ARNs, for authorization) and what it
//! does (a call into `directory`, shaped into CloudSSO's or RAM's JSON).
//!
//! - `cloudsso`: directories, users, groups, memberships, SCIM credentials and status.
//! - `ram`: administrators, their policies and AccessKeys.
//! - `shape`: documents and records as the APIs spell them.

mod assignments;
mod cloudsso;
mod configs;
mod ram;
mod resourcemanager;
mod shape;

use super::catalog::{Operation, Product};
use super::error::ApiFault;
use super::params::Params;
use super::service::Api;
use crate::iam::Caller;
use serde_json::Value;

/// The ARNs an operation touches, every one of which must be allowed (CloudSSO's RAM table:
/// `directory/{DirectoryId}/user/{UserId}` and friends, `.../user/*` to create or list).
pub fn resources(api: &Api, op: &Operation, p: &Params) -> Result<Vec<String>, ApiFault> {
    let relative = match op.product {
        Product::CloudSso if configs::handles(op.name) => configs::resources(op.name, p)?,
        Product::CloudSso if assignments::handles(op.name) => assignments::resources(op.name, p)?,
        Product::CloudSso => cloudsso::resources(op.name, p)?,
        Product::Ram => ram::resources(op.name, p)?,
        Product::ResourceManager => resourcemanager::resources(op.name, p)?,
    };
    Ok(relative.iter().map(|r| api.arn(op.product, r)).collect())
}

pub async fn call(
    api: &Api,
    caller: &Caller,
    op: &Operation,
    p: &Params,
) -> Result<Value, ApiFault> {
    match op.product {
        Product::CloudSso if configs::handles(op.name) => configs::call(api, op.name, p).await,
        Product::CloudSso if assignments::handles(op.name) => {
            assignments::call(api, op.name, p).await
        }
        Product::CloudSso => cloudsso::call(api, op.name, p).await,
        Product::Ram => ram::call(api, caller, op.name, p).await,
        Product::ResourceManager => resourcemanager::call(api, op.name, p).await,
    }
}

/// The answer for an operation a module was given but does not know (a catalog row without
/// its implementation).
pub(super) fn unknown(op: &str) -> ApiFault {
    ApiFault::new(
        404,
        "InvalidAction.NotFound",
        format!("The action `{op}` is not implemented."),
    )
}
