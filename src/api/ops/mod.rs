//! The operations: for each catalog row, one `Handler` that names the resources the operation
//! acts on (ARN tails, for authorization) and runs it against the services in `Ctx`, shaped
//! into CloudSSO's, RAM's or Resource Manager's JSON.
//!
//! Owns the context operations run in and the table from `(Product, name)` to handler. Must not
//! authenticate or authorize (that is `service`), nor know about HTTP.
//!
//! - `cloudsso`: directories, users, groups, memberships, SCIM credentials and status.
//! - `configs`: access configurations and their permission policies.
//! - `assignments`: access assignments, provisioning, tasks and effective access.
//! - `user_provisioning`: RAM user provisionings and their configuration.
//! - `delegate`: CloudSSO's delegated administrator account.
//! - `ram`: administrators, their policies and AccessKeys (RAM, 2015-05-01).
//! - `resourcemanager`: accounts and folders (Resource Manager, 2020-03-31).
//! - `sessions`: a user's portal sessions (cloudsso's own operations).
//! - `signin`: sign-in settings (service switch, passwords, MFA, login preference).
//! - `saml`: a directory's external SAML IdP, its certificates, the SSO logon switch, and the
//!   service provider side.
//! - `console`: console sign-in's IdP signing certificates (cloudsso's own operations).
//! - `decision`: `CheckCredentialAccess`, Allow or Deny for a request signed with a user's
//!   temporary credentials, over `signin::decision` (cloudsso's own operation).
//! - `actiontrail`: `LookupEvents` over the audit trail (ActionTrail, 2020-07-06).
//! - `sts`: `GetCallerIdentity` (STS, 2015-04-01), for administrators and for temporary
//!   credentials, which may call nothing else (`run_temporary`).
//! - `resource`: the ARN tails operations share.
//! - `shape`: documents and records as the APIs spell them.

/// One table row: `op!(Product, "Name", resources, body)`, where `body` is an async fn of
/// `(&Ctx, &Params)`, or of `(&Ctx, &Caller, &Params)` when the row ends with `caller`.
macro_rules! op {
    ($product:ident, $name:literal, $resources:expr, $body:path) => {
        super::Handler {
            product: crate::api::catalog::Product::$product,
            name: $name,
            resources: $resources,
            call: |ctx, _, p| Box::pin($body(ctx, p)),
        }
    };
    ($product:ident, $name:literal, $resources:expr, $body:path, caller) => {
        super::Handler {
            product: crate::api::catalog::Product::$product,
            name: $name,
            resources: $resources,
            call: |ctx, caller, p| Box::pin($body(ctx, caller, p)),
        }
    };
}

mod actiontrail;
mod assignments;
mod cloudsso;
mod configs;
mod console;
mod decision;
mod delegate;
mod ram;
mod resource;
mod resourcemanager;
mod saml;
mod sessions;
mod shape;
mod signin;
mod sts;
mod user_provisioning;

use super::catalog::{Operation, Product};
use super::error::ApiFault;
use super::params::Params;
use crate::access::Access;
use crate::directory::Directory;
use crate::iam::{Caller, Iam};
use crate::signin::SignIn;
use crate::signin::credentials::VerifiedCaller;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// What an operation runs against: the directory, access management, the administrators, and
/// the region and account its ARNs name.
pub struct Ctx {
    dir: Directory,
    access: Access,
    iam: Iam,
    signin: SignIn,
    region: String,
    account: String,
}

impl Ctx {
    pub fn new(
        dir: Directory,
        access: Access,
        iam: Iam,
        signin: SignIn,
        region: String,
        account: String,
    ) -> Ctx {
        Ctx {
            dir,
            access,
            iam,
            signin,
            region,
            account,
        }
    }

    pub fn dir(&self) -> &Directory {
        &self.dir
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The RAM administrators, their custom policies and AccessKeys.
    pub fn iam(&self) -> &Iam {
        &self.iam
    }

    /// Sign-in settings, passwords, MFA devices and sessions.
    pub fn signin(&self) -> &SignIn {
        &self.signin
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The installation's account id (the one its ARNs name).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// `acs:<service>:<region>:<account>:<relative>`.
    pub fn arn(&self, product: Product, relative: &str) -> String {
        let region = match product {
            Product::Ram | Product::ResourceManager | Product::ActionTrail | Product::Sts => "*",
            Product::CloudSso => self.region.as_str(),
        };
        format!(
            "acs:{}:{region}:{}:{relative}",
            product.namespace(),
            self.account
        )
    }
}

/// A running operation's answer.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Value, ApiFault>> + Send + 'a>>;

/// One operation: the ARN tails it touches (every one must be allowed; CloudSSO's RAM table:
/// `directory/{DirectoryId}/user/{UserId}` and friends, `.../user/*` to create or list) and
/// what it does.
pub struct Handler {
    pub product: Product,
    pub name: &'static str,
    pub resources: fn(&Params) -> Result<Vec<String>, ApiFault>,
    pub call: for<'a> fn(&'a Ctx, &'a Caller, &'a Params) -> Answer<'a>,
}

fn handlers() -> impl Iterator<Item = &'static Handler> {
    cloudsso::HANDLERS
        .iter()
        .chain(configs::HANDLERS)
        .chain(assignments::HANDLERS)
        .chain(user_provisioning::HANDLERS)
        .chain(delegate::HANDLERS)
        .chain(ram::HANDLERS)
        .chain(resourcemanager::HANDLERS)
        .chain(sessions::HANDLERS)
        .chain(signin::HANDLERS)
        .chain(saml::HANDLERS)
        .chain(console::HANDLERS)
        .chain(decision::HANDLERS)
        .chain(actiontrail::HANDLERS)
        .chain(sts::HANDLERS)
}

/// What a caller signing with temporary credentials gets for `op`: STS `GetCallerIdentity`,
/// or a refusal (they carry no administrator's policies).
pub fn run_temporary(op: &Operation, caller: &VerifiedCaller) -> Result<Value, ApiFault> {
    sts::run_temporary(op, caller)
}

/// The handler of catalog row `op` (a test keeps every row with exactly one).
pub fn handler(op: &Operation) -> Option<&'static Handler> {
    handlers().find(|h| h.product == op.product && h.name == op.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_row_has_one_handler_and_every_handler_a_row() {
        for op in super::super::catalog::operations() {
            let n = handlers()
                .filter(|h| h.product == op.product && h.name == op.name)
                .count();
            assert_eq!(n, 1, "{:?} {}: {n} handlers", op.product, op.name);
        }
        for h in handlers() {
            assert!(
                super::super::catalog::find(h.product, h.name).is_some(),
                "{:?} {} has no catalog row",
                h.product,
                h.name
            );
        }
    }
}
