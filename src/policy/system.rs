//! Built-in system policies of CloudSSO, as RAM defines them.
//!
//! Owns their names, their JSON text (what an API returns for them) and their parsed form.
//! Must not hold custom policies or any attachment: where a policy is attached is the caller's
//! business.

use super::document::{Effect, PolicyDocument, Statement};

pub const FULL_ACCESS: &str = "AliyunCloudSSOFullAccess";
pub const READ_ONLY_ACCESS: &str = "AliyunCloudSSOReadOnlyAccess";
/// Everything: the first administrator's policy.
pub const ADMINISTRATOR_ACCESS: &str = "AdministratorAccess";
pub const RAM_FULL_ACCESS: &str = "AliyunRAMFullAccess";
pub const RAM_READ_ONLY_ACCESS: &str = "AliyunRAMReadOnlyAccess";

/// The names of every system policy, in a stable order.
pub const SYSTEM_POLICY_NAMES: [&str; 5] = [
    ADMINISTRATOR_ACCESS,
    FULL_ACCESS,
    READ_ONLY_ACCESS,
    RAM_FULL_ACCESS,
    RAM_READ_ONLY_ACCESS,
];

const ADMINISTRATOR_ACCESS_JSON: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}"#;

const RAM_FULL_ACCESS_JSON: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ram:*",
      "Resource": "*"
    }
  ]
}"#;

const RAM_READ_ONLY_ACCESS_JSON: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ram:Get*", "ram:List*"],
      "Resource": "*"
    }
  ]
}"#;

const FULL_ACCESS_JSON: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "cloudsso:*",
      "Resource": "*"
    }
  ]
}"#;

const READ_ONLY_ACCESS_JSON: &str = r#"{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["cloudsso:Get*", "cloudsso:List*"],
      "Resource": "*"
    }
  ]
}"#;

/// The document text of the system policy `name` (exact spelling), if there is one.
pub fn system_policy_text(name: &str) -> Option<&'static str> {
    match name {
        FULL_ACCESS => Some(FULL_ACCESS_JSON),
        READ_ONLY_ACCESS => Some(READ_ONLY_ACCESS_JSON),
        ADMINISTRATOR_ACCESS => Some(ADMINISTRATOR_ACCESS_JSON),
        RAM_FULL_ACCESS => Some(RAM_FULL_ACCESS_JSON),
        RAM_READ_ONLY_ACCESS => Some(RAM_READ_ONLY_ACCESS_JSON),
        _ => None,
    }
}

/// The system policy `name` (exact spelling), if there is one. Built directly rather than
/// parsed, so it cannot fail; a test checks it equals the parsed text.
pub fn system_policy(name: &str) -> Option<PolicyDocument> {
    let statement = match name {
        FULL_ACCESS => Statement::new(Effect::Allow, &["cloudsso:*"], &["*"]),
        READ_ONLY_ACCESS => {
            Statement::new(Effect::Allow, &["cloudsso:Get*", "cloudsso:List*"], &["*"])
        }
        ADMINISTRATOR_ACCESS => Statement::new(Effect::Allow, &["*"], &["*"]),
        RAM_FULL_ACCESS => Statement::new(Effect::Allow, &["ram:*"], &["*"]),
        RAM_READ_ONLY_ACCESS => Statement::new(Effect::Allow, &["ram:Get*", "ram:List*"], &["*"]),
        _ => return None,
    };
    Some(PolicyDocument::from_statements(vec![statement]))
}
