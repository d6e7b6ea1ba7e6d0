//! The system policies an access configuration may name, with their RAM names and documents
//! (what provisioning attaches to the role in a member account). Data only; a test parses
//! every document with the policy engine.

/// (name, description, document)
pub type SystemPolicy = (&'static str, &'static str, &'static str);

pub static SYSTEM_POLICIES: &[SystemPolicy] = &[
    (
        "AdministratorAccess",
        "Manage all Alibaba Cloud resources",
        r#"{"Version":"1","Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "ReadOnlyAccess",
        "Read-only access to all Alibaba Cloud resources",
        r#"{"Version":"1","Statement":[{"Action":["*:Describe*","*:List*","*:Get*","*:BatchGet*","*:Query*","*:BatchQuery*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunECSFullAccess",
        "Manage Elastic Compute Service (ECS)",
        r#"{"Version":"1","Statement":[{"Action":"ecs:*","Resource":"*","Effect":"Allow"},{"Action":["vpc:DescribeVpcs","vpc:DescribeVSwitches"],"Resource":"*","Effect":"Allow"}]}"#,
    ),
    (
        "AliyunECSReadOnlyAccess",
        "Read-only access to Elastic Compute Service (ECS)",
        r#"{"Version":"1","Statement":[{"Action":"ecs:Describe*","Resource":"*","Effect":"Allow"},{"Action":"ecs:List*","Resource":"*","Effect":"Allow"},{"Action":["vpc:DescribeVpcs","vpc:DescribeVSwitches"],"Resource":"*","Effect":"Allow"}]}"#,
    ),
    (
        "AliyunOSSFullAccess",
        "Manage Object Storage Service (OSS)",
        r#"{"Version":"1","Statement":[{"Action":"oss:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunOSSReadOnlyAccess",
        "Read-only access to Object Storage Service (OSS)",
        r#"{"Version":"1","Statement":[{"Action":["oss:Get*","oss:List*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunRDSFullAccess",
        "Manage ApsaraDB RDS",
        r#"{"Version":"1","Statement":[{"Action":"rds:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunRDSReadOnlyAccess",
        "Read-only access to ApsaraDB RDS",
        r#"{"Version":"1","Statement":[{"Action":["rds:Describe*","rds:List*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunVPCFullAccess",
        "Manage Virtual Private Cloud (VPC)",
        r#"{"Version":"1","Statement":[{"Action":"vpc:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunVPCReadOnlyAccess",
        "Read-only access to Virtual Private Cloud (VPC)",
        r#"{"Version":"1","Statement":[{"Action":["vpc:Describe*","vpc:List*","vpc:Get*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunSLBFullAccess",
        "Manage Server Load Balancer (SLB)",
        r#"{"Version":"1","Statement":[{"Action":"slb:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunRAMReadOnlyAccess",
        "Read-only access to Resource Access Management (RAM)",
        r#"{"Version":"1","Statement":[{"Action":["ram:Get*","ram:List*","ram:GenerateCredentialReport"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunLogFullAccess",
        "Manage Simple Log Service (SLS)",
        r#"{"Version":"1","Statement":[{"Action":"log:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunCloudMonitorFullAccess",
        "Manage CloudMonitor",
        r#"{"Version":"1","Statement":[{"Action":"cms:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunKMSFullAccess",
        "Manage Key Management Service (KMS)",
        r#"{"Version":"1","Statement":[{"Action":"kms:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
];

/// A system policy by its exact name.
pub fn find(name: &str) -> Option<&'static SystemPolicy> {
    SYSTEM_POLICIES.iter().find(|(n, _, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_parses_and_names_are_unique() {
        for (i, (name, _, doc)) in SYSTEM_POLICIES.iter().enumerate() {
            if let Err(e) = crate::policy::PolicyDocument::parse(doc) {
                panic!("{name}: {e}");
            }
            assert!(
                SYSTEM_POLICIES
                    .iter()
                    .skip(i + 1)
                    .all(|(n, _, _)| n != name),
                "{name} twice"
            );
        }
        assert!(SYSTEM_POLICIES.len() >= 12);
        assert!(find("AdministratorAccess").is_some());
        assert!(find("administratoraccess").is_none());
    }
}
