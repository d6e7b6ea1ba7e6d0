//! Issue 4 over real HTTP: an IdP-style SCIM flow, an assignment through the management API,
//! effective access following SCIM changes, reprovisioning after a policy edit, the deletion
//! guards, and a SIGKILL between a SCIM write and its reconciliation.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const RM: &str = "2020-03-31";

pub(crate) struct Setup {
    pub key: Key,
    pub d: String,
    pub account: String,
    pub config: String,
}

impl Server {
    pub(crate) async fn setup_access(&self, config_name: &str) -> Setup {
        let key = self.admin_key();
        let d = self.directory_id.clone();
        let account = self
            .api_ok(
                &key,
                RM,
                "CreateResourceAccount",
                &[("DisplayName", "prod")],
            )
            .await["Account"]["AccountId"]
            .as_str()
            .unwrap()
            .to_owned();
        let config = self
            .api_ok(
                &key,
                SSO,
                "CreateAccessConfiguration",
                &[
                    ("DirectoryId", &d),
                    ("AccessConfigurationName", config_name),
                ],
            )
            .await["AccessConfiguration"]["AccessConfigurationId"]
            .as_str()
            .unwrap()
            .to_owned();
        self.api_ok(
            &key,
            SSO,
            "AddPermissionPolicyToAccessConfiguration",
            &[
                ("DirectoryId", &d),
                ("AccessConfigurationId", &config),
                ("PermissionPolicyType", "System"),
                ("PermissionPolicyName", "AdministratorAccess"),
            ],
        )
        .await;
        Setup {
            key,
            d,
            account,
            config,
        }
    }

    pub(crate) async fn assign(&self, s: &Setup, principal_type: &str, principal: &str) -> Value {
        let task = self
            .api_ok(
                &s.key,
                SSO,
                "CreateAccessAssignment",
                &[
                    ("DirectoryId", &s.d),
                    ("AccessConfigurationId", &s.config),
                    ("TargetType", "RD-Account"),
                    ("TargetId", &s.account),
                    ("PrincipalType", principal_type),
                    ("PrincipalId", principal),
                ],
            )
            .await;
        let id = task["Task"]["TaskId"].as_str().unwrap().to_owned();
        self.wait_task(s, &id).await
    }

    /// Provisions or deprovisions (`action`) the configuration on the account and waits for
    /// the task; its final `Task`.
    async fn pair_task(&self, s: &Setup, action: &str) -> Value {
        let tasks = self
            .api_ok(
                &s.key,
                SSO,
                action,
                &[
                    ("DirectoryId", &s.d),
                    ("AccessConfigurationId", &s.config),
                    ("TargetType", "RD-Account"),
                    ("TargetId", &s.account),
                ],
            )
            .await;
        let id = tasks["Tasks"][0]["TaskId"].as_str().unwrap().to_owned();
        self.wait_task(s, &id).await
    }

    /// Polls a task until it ends; its final `Task`.
    pub(crate) async fn wait_task(&self, s: &Setup, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let t = self
                .api_ok(
                    &s.key,
                    SSO,
                    "GetTask",
                    &[("DirectoryId", &s.d), ("TaskId", id)],
                )
                .await["Task"]
                .clone();
            if t["Status"] != "InProgress" {
                return t;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "task stuck: {t}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) async fn effective(&self, s: &Setup, user: &str) -> Value {
        self.effective_access_answer(s, user).await["EffectiveAccess"].clone()
    }

    /// `GetUserEffectiveAccess`'s whole answer (roles in `EffectiveAccess`, RAM users in
    /// `RamUsers`).
    pub(crate) async fn effective_access_answer(&self, s: &Setup, user: &str) -> Value {
        self.api_ok(
            &s.key,
            SSO,
            "GetUserEffectiveAccess",
            &[("DirectoryId", &s.d), ("UserId", user)],
        )
        .await
    }

    /// Waits until `user`'s effective access is `want` (the engine works in the background).
    async fn expect_effective(&self, s: &Setup, user: &str, want: Value) {
        let started = Instant::now();
        loop {
            let got = self.effective(s, user).await;
            if got == want {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "effective access of {user}: got {got}, want {want}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn provisioning_status(&self, s: &Setup) -> Value {
        let list = self
            .api_ok(
                &s.key,
                SSO,
                "ListAccessConfigurationProvisionings",
                &[("DirectoryId", &s.d), ("AccessConfigurationId", &s.config)],
            )
            .await;
        list["AccessConfigurationProvisionings"][0].clone()
    }
}

pub(crate) fn grant(s: &Setup, config_name: &str, sources: &[(&str, &str)]) -> Value {
    json!([{
        "AccountId": s.account,
        "AccessConfigurationId": s.config,
        "AccessConfigurationName": config_name,
        "Sources": sources.iter().map(|(t, id)| json!({"PrincipalType": t, "PrincipalId": id})).collect::<Vec<_>>(),
    }])
}

#[tokio::test]
async fn scim_changes_move_effective_access_and_policy_edits_need_reprovisioning() {
    let srv = Server::start();
    // The IdP provisions a user, a group and the membership over SCIM.
    let alice = srv.user("alice").await;
    let eng = srv.group("eng", &[&alice]).await;
    let s = srv.setup_access("Admin").await;
    let task = srv.assign(&s, "Group", &eng).await;
    assert_eq!(task["Status"], "Success", "{task}");
    let via_group = grant(&s, "Admin", &[("Group", &eng)]);
    srv.expect_effective(&s, &alice, via_group.clone()).await;
    let p = srv.provisioning_status(&s).await;
    assert_eq!(p["Status"], "Provisioned", "{p}");
    assert_eq!(p["RAMRoleName"], "AliyunReservedSSO-Admin");

    // A SCIM PATCH removes the member: access goes.
    let r = srv
        .patch_ops(
            &format!("/Groups/{eng}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    srv.expect_effective(&s, &alice, json!([])).await;
    srv.patch_ops(
        &format!("/Groups/{eng}"),
        json!([{"op": "add", "path": "members", "value": [{"value": alice}]}]),
    )
    .await;
    srv.expect_effective(&s, &alice, via_group.clone()).await;

    // active=false removes everything, active=true restores it.
    for (active, want) in [(false, json!([])), (true, via_group.clone())] {
        let r = srv
            .patch_ops(
                &format!("/Users/{alice}"),
                json!([{"op": "replace", "path": "active", "value": active}]),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        srv.expect_effective(&s, &alice, want).await;
    }

    // A policy edit flips the provisioning; provisioning again brings it back.
    srv.api_ok(
        &s.key,
        SSO,
        "AddPermissionPolicyToAccessConfiguration",
        &[
            ("DirectoryId", &s.d),
            ("AccessConfigurationId", &s.config),
            ("PermissionPolicyType", "System"),
            ("PermissionPolicyName", "ReadOnlyAccess"),
        ],
    )
    .await;
    assert_eq!(
        srv.provisioning_status(&s).await["Status"],
        "ReprovisionRequired"
    );
    assert_eq!(
        srv.pair_task(&s, "ProvisionAccessConfiguration").await["Status"],
        "Success"
    );
    assert_eq!(srv.provisioning_status(&s).await["Status"], "Provisioned");
    let c = srv
        .api_ok(
            &s.key,
            SSO,
            "GetAccessConfiguration",
            &[("DirectoryId", &s.d), ("AccessConfigurationId", &s.config)],
        )
        .await;
    assert_eq!(
        c["AccessConfiguration"]["StatusNotifications"],
        json!([]),
        "{c}"
    );
}

#[tokio::test]
async fn deletion_guards() {
    let srv = Server::start();
    let s = srv.setup_access("Ops").await;
    let bob = srv
        .api_ok(
            &s.key,
            SSO,
            "CreateUser",
            &[("DirectoryId", &s.d), ("UserName", "bob")],
        )
        .await["User"]["UserId"]
        .as_str()
        .unwrap()
        .to_owned();
    let ops = srv
        .api_ok(
            &s.key,
            SSO,
            "CreateGroup",
            &[("DirectoryId", &s.d), ("GroupName", "ops")],
        )
        .await["Group"]["GroupId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(srv.assign(&s, "User", &bob).await["Status"], "Success");
    srv.assign(&s, "Group", &ops).await;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "DeleteUser",
            vec![("DirectoryId", &s.d), ("UserId", &bob)],
            409,
            "DeletionConflict.User.AccessAssignment",
        ),
        (
            "DeleteGroup",
            vec![("DirectoryId", &s.d), ("GroupId", &ops)],
            409,
            "DeletionConflict.Group.AccessAssignment",
        ),
        (
            "DeprovisionAccessConfiguration",
            vec![
                ("DirectoryId", &s.d),
                ("AccessConfigurationId", &s.config),
                ("TargetType", "RD-Account"),
                ("TargetId", &s.account),
            ],
            409,
            "DeletionConflict.AccessConfigurationProvisioning.AccessAssignment",
        ),
    ];
    for (action, params, status, code) in &cases {
        let r = srv.api(&s.key, SSO, action, params).await;
        assert_fault(&r, *status, code);
    }
    // The configuration, still assigned (and provisioned), cannot go; nor can its account.
    let r = srv
        .api(
            &s.key,
            SSO,
            "DeleteAccessConfiguration",
            &[("DirectoryId", &s.d), ("AccessConfigurationId", &s.config)],
        )
        .await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.body);
    assert!(
        r.body["Code"]
            .as_str()
            .unwrap()
            .starts_with("DeletionConflict.AccessConfiguration"),
        "{}",
        r.body
    );
    let r = srv
        .api(&s.key, RM, "DeleteAccount", &[("AccountId", &s.account)])
        .await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.body);

    // Once the assignments go (the last one deprovisioning), everything can be deleted.
    for (t, id, strategy) in [
        ("User", bob.as_str(), "None"),
        (
            "Group",
            ops.as_str(),
            "DeprovisionForLastAccessAssignmentOnAccount",
        ),
    ] {
        let task = srv
            .api_ok(
                &s.key,
                SSO,
                "DeleteAccessAssignment",
                &[
                    ("DirectoryId", &s.d),
                    ("AccessConfigurationId", &s.config),
                    ("TargetType", "RD-Account"),
                    ("TargetId", &s.account),
                    ("PrincipalType", t),
                    ("PrincipalId", id),
                    ("DeprovisionStrategy", strategy),
                ],
            )
            .await;
        let id = task["Task"]["TaskId"].as_str().unwrap().to_owned();
        assert_eq!(srv.wait_task(&s, &id).await["Status"], "Success");
    }
    assert_eq!(
        srv.provisioning_status(&s).await,
        Value::Null,
        "deprovisioned"
    );
    srv.api_ok(
        &s.key,
        SSO,
        "DeleteUser",
        &[("DirectoryId", &s.d), ("UserId", &bob)],
    )
    .await;
    srv.api_ok(
        &s.key,
        SSO,
        "DeleteGroup",
        &[("DirectoryId", &s.d), ("GroupId", &ops)],
    )
    .await;
}

#[tokio::test]
async fn sigkill_between_a_scim_write_and_its_reconciliation_loses_nothing() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let eng = srv.group("eng", &[&alice]).await;
    let s = srv.setup_access("Admin").await;
    srv.assign(&s, "Group", &eng).await;
    let granted = grant(&s, "Admin", &[("Group", &eng)]);
    srv.expect_effective(&s, &alice, granted.clone()).await;
    let data = srv.data.clone();
    let (_, tmp) = srv.stop_keep();

    // The engine now waits 10 s after a change: the write is acknowledged, not reconciled.
    let srv = Server::start_on(&data, &["--reconcile-delay-ms", "10000"]);
    srv.expect_effective(&s, &alice, granted.clone()).await;
    // The engine's start-up full pass (which does not wait) is over long before this.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = srv
        .patch_ops(
            &format!("/Groups/{eng}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(
        srv.effective(&s, &alice).await,
        granted,
        "not reconciled yet"
    );
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .arg(srv.pid().to_string())
        .status();
    drop(srv.stop_keep());

    // Restarted without the delay: the event was durable and the engine catches up.
    let srv = Server::start_on(&data, &[]);
    srv.expect_effective(&s, &alice, json!([])).await;
    let group = srv.get(&format!("/Groups/{eng}")).await;
    assert!(
        group.body.get("members").is_none(),
        "the acknowledged write survived: {}",
        group.body
    );
    drop(tmp);
}

#[tokio::test]
async fn a_failing_provider_fails_the_task_with_its_reason_and_a_retry_succeeds() {
    let srv = Server::start_with(&["--provider-faults", "1"]);
    let alice = srv.user("alice").await;
    let s = srv.setup_access("Dev").await;
    let task = srv.assign(&s, "User", &alice).await;
    assert_eq!(task["Status"], "Failed", "{task}");
    assert!(
        task["FailureReason"]
            .as_str()
            .unwrap_or("")
            .contains("injected failure"),
        "{task}"
    );
    assert_eq!(
        srv.effective(&s, &alice).await,
        json!([]),
        "nothing provisioned"
    );
    assert_eq!(
        srv.pair_task(&s, "ProvisionAccessConfiguration").await["Status"],
        "Success"
    );
    srv.expect_effective(&s, &alice, grant(&s, "Dev", &[("User", &alice)]))
        .await;
}

#[tokio::test]
async fn a_provisioned_configuration_and_its_account_cannot_be_deleted_until_deprovisioned() {
    let srv = Server::start();
    let s = srv.setup_access("Ops").await;
    assert_eq!(
        srv.pair_task(&s, "ProvisionAccessConfiguration").await["Status"],
        "Success"
    );
    let delete_config = |force: &'static str| {
        [
            ("DirectoryId", s.d.clone()),
            ("AccessConfigurationId", s.config.clone()),
            ("ForceRemovePermissionPolicies", force.to_owned()),
        ]
    };
    let p = delete_config("true");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = srv.api(&s.key, SSO, "DeleteAccessConfiguration", &p).await;
    assert_fault(&r, 409, "DeletionConflict.AccessConfiguration.Provisioning");
    let r = srv
        .api(&s.key, RM, "DeleteAccount", &[("AccountId", &s.account)])
        .await;
    assert_fault(
        &r,
        409,
        "DeleteConflict.Account.AccessConfigurationProvisioning",
    );
    assert_eq!(
        srv.pair_task(&s, "DeprovisionAccessConfiguration").await["Status"],
        "Success"
    );
    let p = delete_config("false");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = srv.api(&s.key, SSO, "DeleteAccessConfiguration", &p).await;
    assert_fault(
        &r,
        409,
        "DeletionConflict.AccessConfiguration.PermissionPolicy",
    );
    let p = delete_config("true");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = srv.api(&s.key, SSO, "DeleteAccessConfiguration", &p).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    srv.api_ok(&s.key, RM, "DeleteAccount", &[("AccountId", &s.account)])
        .await;
}
