//! Resource Manager (2020-03-31): accounts and folders of the resource directory.

use super::super::error::ApiFault;
use super::super::params::Params;
use super::super::service::Api;
use serde_json::Value;

pub fn resources(op: &str, _p: &Params) -> Result<Vec<String>, ApiFault> {
    Err(super::unknown(op))
}

pub async fn call(_api: &Api, op: &str, _p: &Params) -> Result<Value, ApiFault> {
    Err(super::unknown(op))
}
