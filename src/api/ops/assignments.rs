//! CloudSSO access assignments, provisioning, tasks and effective access.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::super::service::Api;
use serde_json::Value;

pub fn handles(op: &str) -> bool {
    super::super::catalog::ASSIGNMENT_OPERATIONS
        .iter()
        .any(|o| o.name == op)
}

pub fn resources(op: &str, _p: &Params) -> Result<Vec<String>, ApiFault> {
    Err(super::unknown(op))
}

pub async fn call(_api: &Api, op: &str, _p: &Params) -> Result<Value, ApiFault> {
    Err(super::unknown(op))
}
