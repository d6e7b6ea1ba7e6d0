//! `Metered`: wraps an account provider and counts every failed call, by operation, into
//! the process's metrics (`cloudsso_provider_failures_total`). Must not change what a call
//! does or answers.

use super::provider::{
    BoxFuture, Grant, Provider, ProviderError, RamUser, RamUserOwner, RamUserSpec, RoleSpec,
};
use crate::metrics::Metrics;
use std::future::Future;
use std::sync::Arc;

pub struct Metered {
    inner: Arc<dyn Provider>,
    metrics: Arc<Metrics>,
}

impl Metered {
    pub fn new(inner: Arc<dyn Provider>, metrics: Arc<Metrics>) -> Metered {
        Metered { inner, metrics }
    }

    /// Runs `call`, counting its failure under `operation`.
    fn count<'a, T: Send + 'a>(
        &'a self,
        operation: &'static str,
        call: impl Future<Output = Result<T, ProviderError>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T, ProviderError>> {
        Box::pin(async move {
            let r = call.await;
            if r.is_err() {
                self.metrics.provider_failure(operation);
            }
            r
        })
    }
}

impl Provider for Metered {
    fn ensure_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let call = self.inner.ensure_saml_provider(account, name, metadata);
        self.count("ensure_saml_provider", call)
    }
    fn delete_saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let call = self.inner.delete_saml_provider(account, name);
        self.count("delete_saml_provider", call)
    }
    fn saml_provider<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<bool, ProviderError>> {
        self.count("saml_provider", self.inner.saml_provider(account, name))
    }
    fn saml_provider_metadata<'a>(
        &'a self,
        account: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>> {
        let call = self.inner.saml_provider_metadata(account, name);
        self.count("saml_provider_metadata", call)
    }
    fn ensure_role<'a>(&'a self, role: &'a RoleSpec) -> BoxFuture<'a, Result<(), ProviderError>> {
        self.count("ensure_role", self.inner.ensure_role(role))
    }
    fn delete_role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        self.count("delete_role", self.inner.delete_role(account, role_name))
    }
    fn role<'a>(
        &'a self,
        account: &'a str,
        role_name: &'a str,
    ) -> BoxFuture<'a, Result<Option<RoleSpec>, ProviderError>> {
        self.count("role", self.inner.role(account, role_name))
    }
    fn set_grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
        grants: &'a [Grant],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        self.count("set_grants", self.inner.set_grants(dir, user, grants))
    }
    fn grants<'a>(
        &'a self,
        dir: &'a str,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Grant>, ProviderError>> {
        self.count("grants", self.inner.grants(dir, user))
    }
    fn set_grants_many<'a>(
        &'a self,
        dir: &'a str,
        users: &'a [(String, Vec<Grant>)],
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        self.count("set_grants_many", self.inner.set_grants_many(dir, users))
    }
    fn granted_users<'a>(
        &'a self,
        dir: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, ProviderError>> {
        self.count("granted_users", self.inner.granted_users(dir))
    }
    fn ensure_ram_user<'a>(
        &'a self,
        spec: &'a RamUserSpec,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        self.count("ensure_ram_user", self.inner.ensure_ram_user(spec))
    }
    fn remove_ram_user<'a>(
        &'a self,
        account: &'a str,
        owner: &'a RamUserOwner,
        keep: bool,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let call = self.inner.remove_ram_user(account, owner, keep);
        self.count("remove_ram_user", call)
    }
    fn ram_users<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>> {
        self.count("ram_users", self.inner.ram_users(account))
    }
    fn ram_users_of<'a>(
        &'a self,
        owner: &'a RamUserOwner,
    ) -> BoxFuture<'a, Result<Vec<RamUser>, ProviderError>> {
        self.count("ram_users_of", self.inner.ram_users_of(owner))
    }
    fn ensure_user_sso<'a>(
        &'a self,
        account: &'a str,
        dir: &'a str,
        metadata: &'a str,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let call = self.inner.ensure_user_sso(account, dir, metadata);
        self.count("ensure_user_sso", call)
    }
    fn user_sso<'a>(
        &'a self,
        account: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, ProviderError>> {
        self.count("user_sso", self.inner.user_sso(account))
    }
}
