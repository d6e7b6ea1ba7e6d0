//! The reconciliation engine and provisioning tasks over a real redb file, through the
//! library: SCIM-style writes through `Directory`, assignments through `Access`, rounds of the
//! engine driven by hand, a fault-injecting provider.

use cloudsso::access::Access;
use cloudsso::access::assignments::Target;
use cloudsso::access::provider::{FaultyProvider, Provider};
use cloudsso::access::records::{AccessConfiguration, Account, TaskStatus};
use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::directory::Directory;
use cloudsso::error::DomainError;
use cloudsso::model::{DirectoryId, PrincipalId, ResourceKind};
use cloudsso::scim::patch;
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::store::keys::{AccountKey, ConfigKey};
use cloudsso::store::{StoreError, WriteTxn};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

struct Fixture {
    dir: Directory,
    access: Access,
    faults: Arc<FaultyProvider>,
    d: DirectoryId,
    _app: App,
    _tmp: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        public_url: "http://x".into(),
        ..Options::default()
    };
    let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .unwrap();
    let dir = app.directory.clone();
    let boot = dir
        .bootstrap("d-engine00000000".into(), "secret".into())
        .await
        .unwrap()
        .unwrap();
    // An account and a configuration, put directly (their operations are tested elsewhere).
    let d = boot.directory_id.clone();
    app.db
        .write(move |w| {
            put_account_and_config(w, &d)?;
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    Fixture {
        dir,
        access: app.access.clone(),
        faults: app.faults.clone(),
        d: boot.directory_id,
        _app: app,
        _tmp: tmp,
    }
}

/// Account `1000000000000001` and configuration `ac-admin` of `dir`.
fn put_account_and_config(w: &WriteTxn, dir: &str) -> Result<(), StoreError> {
    w.put(
        AccountKey {
            id: "1000000000000001",
        },
        &Account {
            id: "1000000000000001".into(),
            display_name: "A".into(),
            account_name: String::new(),
            folder_id: "r-root".into(),
            created: "2026-11-23T00:00:00Z".into(),
            modified: "2026-11-23T00:00:00Z".into(),
        },
    )?;
    let config = AccessConfiguration {
        id: "ac-admin".into(),
        directory_id: dir.to_owned(),
        name: "Admin".into(),
        description: String::new(),
        session_duration: 3600,
        relay_state: String::new(),
        system_policies: vec!["AdministratorAccess".into()],
        inline_policy: None,
        status_notifications: Vec::new(),
        created: "2026-11-23T00:00:00Z".into(),
        updated: "2026-11-23T00:00:00Z".into(),
        ..Default::default()
    };
    let key = ConfigKey {
        dir,
        id: "ac-admin",
    };
    w.put(key, &config)?;
    Ok(())
}

fn target(f: &Fixture) -> Target {
    Target {
        directory_id: f.d.clone(),
        config_id: "ac-admin".into(),
        account_id: "1000000000000001".into(),
    }
}

impl Fixture {
    async fn user(&self, name: &str) -> String {
        let doc = self
            .dir
            .create(
                ResourceKind::User,
                &self.d,
                json!({"userName": name}),
                &AttributeSelection::default(),
            )
            .await
            .unwrap();
        doc["id"].as_str().unwrap().to_owned()
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let doc = self
            .dir
            .create(
                ResourceKind::Group,
                &self.d,
                json!({"displayName": name, "members": members}),
                &AttributeSelection::default(),
            )
            .await
            .unwrap();
        doc["id"].as_str().unwrap().to_owned()
    }

    async fn patch(&self, kind: ResourceKind, id: &str, ops: Value) {
        let limits = Limits::default();
        let ops = patch::parse_request(
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops}),
            100,
            &limits.filter,
        )
        .unwrap();
        self.dir
            .patch(&self.d, &PrincipalId::new(kind, id), ops, None, None)
            .await
            .unwrap();
    }

    /// Runs rounds until the outbox is drained, then waits for running tasks (at most about
    /// 10 s: a directory's first provisioning makes its IdP key, an RSA generation).
    async fn settle(&self) {
        for _ in 0..500 {
            while self.access.round().await.unwrap() {}
            let running = self
                .access
                .tasks(&self.d, Default::default())
                .await
                .unwrap()
                .iter()
                .any(|t| t.status == TaskStatus::InProgress);
            if !running {
                while self.access.round().await.unwrap() {}
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("tasks did not finish");
    }

    async fn access_of(&self, user: &str) -> Vec<String> {
        self.access
            .granted(&self.d, user)
            .await
            .unwrap()
            .iter()
            .map(|g| {
                let sources: BTreeSet<String> = g
                    .sources
                    .iter()
                    .map(|(t, id)| format!("{}:{id}", t.as_str()))
                    .collect();
                format!(
                    "{}/{} via {}",
                    g.account_id,
                    g.config_name,
                    sources.into_iter().collect::<Vec<_>>().join(",")
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn group_assignment_follows_membership_and_user_status() {
    let f = fixture().await;
    let alice = f.user("alice").await;
    let eng = f.group("eng", &[&alice]).await;
    let task = f
        .access
        .create_assignment(target(&f), PrincipalId::Group(eng.clone().into()))
        .await
        .unwrap();
    assert_eq!(
        task.status,
        TaskStatus::InProgress,
        "the first assignment provisions"
    );
    f.settle().await;
    let done = f.access.task(&f.d, &task.id).await.unwrap();
    assert_eq!(done.status, TaskStatus::Success, "{done:?}");
    let role = f
        .faults
        .role("1000000000000001", "AliyunReservedSSO-Admin")
        .await
        .unwrap()
        .expect("the provider holds the role");
    assert_eq!(role.system_policies, vec!["AdministratorAccess".to_owned()]);
    let want = vec![format!("1000000000000001/Admin via Group:{eng}")];
    assert_eq!(f.access_of(&alice).await, want);

    // Removed from the group over SCIM: access goes.
    f.patch(
        ResourceKind::Group,
        &eng,
        json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
    )
    .await;
    f.settle().await;
    assert!(f.access_of(&alice).await.is_empty());

    // Back in the group, then deactivated and reactivated.
    f.patch(
        ResourceKind::Group,
        &eng,
        json!([{"op": "add", "path": "members", "value": [{"value": alice}]}]),
    )
    .await;
    f.settle().await;
    assert_eq!(f.access_of(&alice).await, want);
    f.patch(
        ResourceKind::User,
        &alice,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    f.settle().await;
    assert!(
        f.access_of(&alice).await.is_empty(),
        "active=false removes everything"
    );
    f.patch(
        ResourceKind::User,
        &alice,
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    f.settle().await;
    assert_eq!(f.access_of(&alice).await, want, "active=true restores it");

    // Nested groups count; deleting the user leaves nothing.
    let bob = f.user("bob").await;
    let _outer = f.group("platform", &[&bob]).await;
    let inner = f.group("sre", &[&bob]).await;
    f.patch(
        ResourceKind::Group,
        &eng,
        json!([{"op": "add", "path": "members", "value": [{"value": inner}]}]),
    )
    .await;
    f.settle().await;
    assert_eq!(
        f.access_of(&bob).await,
        vec![format!("1000000000000001/Admin via Group:{eng}")]
    );
    f.dir
        .delete(&f.d, &PrincipalId::new(ResourceKind::User, &alice), None)
        .await
        .unwrap();
    f.settle().await;
    assert!(
        f.access_of(&alice).await.is_empty(),
        "a deleted user has none"
    );

    // The directory's last assignment deleted: nobody keeps access (the engine's path for a
    // directory without assignments).
    f.access
        .delete_assignment(target(&f), PrincipalId::Group(eng.clone().into()), false)
        .await
        .unwrap();
    f.settle().await;
    assert!(
        f.access_of(&bob).await.is_empty(),
        "no assignment left, no access"
    );
}

#[tokio::test]
async fn a_failing_provider_fails_the_task_with_its_reason_and_a_retry_succeeds() {
    let f = fixture().await;
    let alice = f.user("alice").await;
    f.faults.fail_next(1);
    let task = f
        .access
        .create_assignment(target(&f), PrincipalId::User(alice.clone().into()))
        .await
        .unwrap();
    f.settle().await;
    let failed = f.access.task(&f.d, &task.id).await.unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap_or("")
            .contains("injected failure"),
        "{failed:?}"
    );
    assert!(
        f.access_of(&alice).await.is_empty(),
        "not provisioned: no access"
    );
    let retry = f.access.provision(target(&f)).await.unwrap();
    f.settle().await;
    assert_eq!(
        f.access.task(&f.d, &retry.id).await.unwrap().status,
        TaskStatus::Success
    );
    assert_eq!(
        f.access_of(&alice).await,
        vec![format!("1000000000000001/Admin via User:{alice}")]
    );
}

#[tokio::test]
async fn a_second_task_on_the_same_pair_while_one_runs_is_refused() {
    let f = fixture().await;
    f.faults.set_delay_ms(300);
    let first = f.access.provision(target(&f)).await.unwrap();
    let second = f.access.provision(target(&f)).await;
    assert!(
        matches!(&second, Err(cloudsso::error::DomainError::Conflict { rule, .. }) if rule.code() == "OperationConflict.Task"),
        "{second:?}"
    );
    let busy = f.access.delete_config(&f.d, "ac-admin", true).await;
    assert!(
        matches!(&busy, Err(cloudsso::error::DomainError::Conflict { rule, .. }) if rule.code() == "DeletionConflict.AccessConfiguration.Task"),
        "{busy:?}"
    );
    f.faults.set_delay_ms(0);
    f.settle().await;
    assert_eq!(
        f.access.task(&f.d, &first.id).await.unwrap().status,
        TaskStatus::Success
    );
    f.access
        .provision(target(&f))
        .await
        .expect("free again once it finished");
    f.settle().await;
    // Deprovisioning the last configuration on the account removes the SAML provider too.
    let saml = "AliyunReservedSSO-".to_owned() + &f.d;
    assert!(
        f.faults
            .saml_provider("1000000000000001", &saml)
            .await
            .unwrap()
    );
    f.access.deprovision(target(&f)).await.unwrap();
    f.settle().await;
    assert!(
        f.faults
            .role("1000000000000001", "AliyunReservedSSO-Admin")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !f.faults
            .saml_provider("1000000000000001", &saml)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_full_pass_heals_a_role_deleted_behind_its_back() {
    let f = fixture().await;
    f.access.provision(target(&f)).await.unwrap();
    f.settle().await;
    f.faults
        .delete_role("1000000000000001", "AliyunReservedSSO-Admin")
        .await
        .unwrap();
    f.access.full_pass(false).await.unwrap();
    assert!(
        f.faults
            .role("1000000000000001", "AliyunReservedSSO-Admin")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_configuration_of_the_same_name_in_another_directory_does_not_take_over_the_role() {
    let f = fixture().await;
    let alice = f.user("alice").await;
    let mine = f
        .access
        .create_assignment(target(&f), PrincipalId::User(alice.clone().into()))
        .await
        .unwrap();
    f.settle().await;
    assert_eq!(
        f.access.task(&f.d, &mine.id).await.unwrap().status,
        TaskStatus::Success
    );

    // A second tenant, its own configuration named "Admin" too, on the same account.
    let other = DirectoryId::new(f.dir.create_directory("other").await.unwrap().id);
    let theirs = f
        .access
        .create_config(
            &other,
            cloudsso::access::configs::NewConfig {
                name: "Admin".into(),
                description: String::new(),
                session_duration: None,
                relay_state: String::new(),
            },
        )
        .await
        .unwrap();
    let bob = f
        .dir
        .create(
            ResourceKind::User,
            &other,
            json!({"userName": "bob"}),
            &AttributeSelection::default(),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let their_target = Target {
        directory_id: other.clone(),
        config_id: theirs.id.clone(),
        account_id: "1000000000000001".into(),
    };
    let task = f
        .access
        .create_assignment(their_target.clone(), PrincipalId::User(bob.into()))
        .await
        .unwrap();
    for _ in 0..100 {
        while f.access.round().await.unwrap() {}
        if f.access.task(&other, &task.id).await.unwrap().status != TaskStatus::InProgress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = f.access.task(&other, &task.id).await.unwrap();
    assert_eq!(failed.status, TaskStatus::Failed, "{failed:?}");
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap_or("")
            .contains("ac-admin"),
        "names the configuration that holds the role: {failed:?}"
    );
    let role = f
        .faults
        .role("1000000000000001", "AliyunReservedSSO-Admin")
        .await
        .unwrap()
        .expect("the first directory's role is still there");
    assert_eq!(role.config_id, "ac-admin");
    assert_eq!(
        f.access_of(&alice).await,
        vec![format!("1000000000000001/Admin via User:{alice}")],
        "the first directory's user keeps access"
    );
}
