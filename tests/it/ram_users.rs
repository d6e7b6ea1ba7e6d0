//! Issue 14, RAM users in accounts kept by the running reconciliation engine, through the
//! library over a real redb file: SCIM-style writes through `Directory` (the SCIM handlers'
//! entry points), provisionings through `Access`, the RAM users read from the provider.
//! No management operation lists an account's RAM users yet, so the provider is read here.

use cloudsso::access::Access;
use cloudsso::access::provider::{EmbeddedProvider, RamUser};
use cloudsso::access::records::{Account, DeletionStrategy, DuplicationStrategy};
use cloudsso::access::user_provisioning::NewUserProvisioning;
use cloudsso::app::{App, EngineTask, Options};
use cloudsso::config::Limits;
use cloudsso::directory::Directory;
use cloudsso::error::DomainError;
use cloudsso::model::{DirectoryId, PrincipalId, ResourceKind};
use cloudsso::scim::patch;
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::store::keys::AccountKey;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "1000000000000001";

struct Fixture {
    dir: Directory,
    access: Access,
    embedded: EmbeddedProvider,
    faults: std::sync::Arc<cloudsso::access::provider::FaultyProvider>,
    d: DirectoryId,
    engine: Option<EngineTask>,
    _app: App,
    _tmp: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    fixture_with(true).await
}

/// With the engine running (`engine`), or driven by hand.
async fn fixture_with(engine: bool) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        public_url: "http://x".into(),
        engine,
        ..Options::default()
    };
    let (app, _writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .unwrap();
    let dir = app.directory.clone();
    let boot = dir
        .bootstrap("d-ramusers000000".into(), "secret".into())
        .await
        .unwrap()
        .unwrap();
    app.db
        .write(|w| {
            w.put(
                AccountKey { id: ACCOUNT },
                &Account {
                    id: ACCOUNT.into(),
                    display_name: "A".into(),
                    account_name: String::new(),
                    folder_id: "r-root".into(),
                    created: "2026-11-23T00:00:00Z".into(),
                    modified: "2026-11-23T00:00:00Z".into(),
                },
            )?;
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    Fixture {
        dir,
        access: app.access.clone(),
        embedded: EmbeddedProvider::new(app.db.clone()),
        faults: app.faults.clone(),
        d: boot.directory_id,
        engine: Some(app.start_engine()),
        _app: app,
        _tmp: tmp,
    }
}

impl Fixture {
    async fn create(&self, kind: ResourceKind, doc: Value) -> String {
        let doc = self
            .dir
            .create(kind, &self.d, doc, &AttributeSelection::default())
            .await
            .unwrap();
        doc["id"].as_str().unwrap().to_owned()
    }

    async fn user(&self, name: &str) -> String {
        self.create(ResourceKind::User, json!({"userName": name}))
            .await
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        self.create(
            ResourceKind::Group,
            json!({"displayName": name, "members": members}),
        )
        .await
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

    async fn provision(
        &self,
        principal: PrincipalId,
        duplication: DuplicationStrategy,
        deletion: DeletionStrategy,
    ) -> String {
        self.access
            .create_user_provisioning(
                &self.d,
                NewUserProvisioning {
                    principal,
                    account_id: ACCOUNT.into(),
                    duplication,
                    deletion,
                    description: String::new(),
                },
            )
            .await
            .unwrap()
            .id
    }

    /// The account's RAM users as `name` or `name (owner user id)`, sorted.
    async fn ram_users(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .access
            .provider()
            .ram_users(ACCOUNT)
            .await
            .unwrap()
            .into_iter()
            .map(|u: RamUser| match u.owner {
                Some(o) => format!("{} ({})", u.name, o.user_id),
                None => u.name,
            })
            .collect();
        out.sort();
        out
    }

    /// Waits at most a second for the account's RAM users to be `want`.
    async fn expect(&self, want: &[String]) {
        let started = Instant::now();
        loop {
            let got = self.ram_users().await;
            if got == want {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "RAM users: got {got:?}, want {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn stop(mut self) {
        if let Some(e) = self.engine.take() {
            e.stop().await;
        }
    }
}

fn owned(name: &str, user: &str) -> String {
    format!("{name} ({user})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_membership_and_user_status_move_ram_users_within_a_second() {
    let f = fixture().await;
    let alice = f.user("alice").await;
    let bob = f.user("bob").await;
    let carol = f.user("carol").await;
    let inner = f.group("inner", &[&carol]).await;
    let eng = f.group("eng", &[&alice, &inner]).await;
    // A RAM user the account made itself: bob's clashes with it.
    f.embedded
        .put_unowned_ram_user(ACCOUNT, "bob")
        .await
        .unwrap();
    f.expect(&["bob".into()]).await;
    f.provision(
        PrincipalId::new(ResourceKind::Group, &eng),
        DuplicationStrategy::KeepBoth,
        DeletionStrategy::Delete,
    )
    .await;
    // The group's members, nested group included.
    f.expect(&[owned("alice", &alice), "bob".into(), owned("carol", &carol)])
        .await;

    // SCIM adds bob to the group: KeepBoth gives him `bob_sso` beside the account's `bob`.
    f.patch(
        ResourceKind::Group,
        &eng,
        json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]),
    )
    .await;
    f.expect(&[
        owned("alice", &alice),
        "bob".into(),
        owned("bob_sso", &bob),
        owned("carol", &carol),
    ])
    .await;

    // SCIM removes alice from the group, and carol from the nested group: their RAM users go
    // (DeletionStrategy Delete); the account's own `bob` stays.
    f.patch(
        ResourceKind::Group,
        &eng,
        json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]),
    )
    .await;
    f.patch(
        ResourceKind::Group,
        &inner,
        json!([{"op": "remove", "path": format!("members[value eq \"{carol}\"]")}]),
    )
    .await;
    f.expect(&["bob".into(), owned("bob_sso", &bob)]).await;

    // Disabling bob removes his RAM user; enabling him brings it back.
    f.patch(
        ResourceKind::User,
        &bob,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    f.expect(&["bob".into()]).await;
    f.patch(
        ResourceKind::User,
        &bob,
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    f.expect(&["bob".into(), owned("bob_sso", &bob)]).await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_leaves_the_ram_user_and_take_over_owns_the_existing_one() {
    let f = fixture().await;
    let dave = f.user("dave").await;
    let erin = f.user("erin").await;
    f.embedded
        .put_unowned_ram_user(ACCOUNT, "dave")
        .await
        .unwrap();
    // TakeOver: dave's provisioning owns the account's `dave`; Keep: it stays when he is
    // disabled, no longer owned.
    f.provision(
        PrincipalId::new(ResourceKind::User, &dave),
        DuplicationStrategy::TakeOver,
        DeletionStrategy::Keep,
    )
    .await;
    f.expect(&[owned("dave", &dave)]).await;
    f.patch(
        ResourceKind::User,
        &dave,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    f.expect(&["dave".into()]).await;

    // Delete: erin's RAM user goes when the provisioning is deleted with its default
    // strategy.
    let up = f
        .provision(
            PrincipalId::new(ResourceKind::User, &erin),
            DuplicationStrategy::KeepBoth,
            DeletionStrategy::Delete,
        )
        .await;
    f.expect(&["dave".into(), owned("erin", &erin)]).await;
    f.access
        .delete_user_provisioning(&f.d, &up, None)
        .await
        .unwrap();
    f.expect(&["dave".into()]).await;

    // The deletion's own strategy wins over the provisioning's: Keep leaves a Delete
    // provisioning's RAM user, Delete removes a Keep provisioning's.
    let frank = f.user("frank").await;
    let gina = f.user("gina").await;
    let by_delete = f
        .provision(
            PrincipalId::new(ResourceKind::User, &frank),
            DuplicationStrategy::KeepBoth,
            DeletionStrategy::Delete,
        )
        .await;
    let by_keep = f
        .provision(
            PrincipalId::new(ResourceKind::User, &gina),
            DuplicationStrategy::KeepBoth,
            DeletionStrategy::Keep,
        )
        .await;
    f.expect(&["dave".into(), owned("frank", &frank), owned("gina", &gina)])
        .await;
    f.access
        .delete_user_provisioning(&f.d, &by_delete, Some(DeletionStrategy::Keep))
        .await
        .unwrap();
    f.access
        .delete_user_provisioning(&f.d, &by_keep, Some(DeletionStrategy::Delete))
        .await
        .unwrap();
    f.expect(&["dave".into(), "frank".into()]).await;
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_makes_an_event_that_a_retry_clears() {
    let f = fixture_with(false).await;
    let hana = f.user("hana").await;
    let team = f.group("team", &[&hana]).await;
    let up = f
        .provision(
            PrincipalId::new(ResourceKind::Group, &team),
            DuplicationStrategy::KeepBoth,
            DeletionStrategy::Delete,
        )
        .await;
    let dir = f.d.to_string();
    // The provider fails twice: two passes, one event counting both.
    f.faults.fail_next(2);
    for _ in 0..2 {
        let pass = f.access.reconcile_ram_users(&dir).await.unwrap();
        assert_eq!((pass.ensured, pass.failed), (0, 1));
    }
    let events = f.access.user_provisioning_events(&f.d, None).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.user_provisioning_id, up);
    assert_eq!(e.source.as_str(), "AddUserToGroup");
    assert_eq!(e.error_count, 2);
    assert!(e.error_info.contains("injected failure"), "{e:?}");
    assert!(f.ram_users().await.is_empty());
    let stats = f
        .access
        .user_provisioning_statistics(&f.d, &up)
        .await
        .unwrap();
    assert_eq!(stats.failed_events, 1);
    // The retry's change event brings a round; it succeeds and clears the event.
    f.access
        .retry_user_provisioning_event(&f.d, &e.id, None)
        .await
        .unwrap();
    while f.access.round().await.unwrap() {}
    assert_eq!(f.ram_users().await, [owned("hana", &hana)]);
    assert!(
        f.access
            .user_provisioning_events(&f.d, None)
            .await
            .unwrap()
            .is_empty()
    );
    // Removal failures are events too: hana leaves the group while the provider fails.
    f.faults.fail_next(1);
    f.patch(
        ResourceKind::Group,
        &team,
        json!([{"op": "remove", "path": format!("members[value eq \"{hana}\"]")}]),
    )
    .await;
    while f.access.round().await.unwrap() {}
    let events = f.access.user_provisioning_events(&f.d, None).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].source.as_str(), "RemoveUserFromGroup");
    assert_eq!(f.ram_users().await, [owned("hana", &hana)]);
    f.access
        .retry_user_provisioning_event(&f.d, &events[0].id, None)
        .await
        .unwrap();
    while f.access.round().await.unwrap() {}
    assert!(f.ram_users().await.is_empty());
    assert!(
        f.access
            .user_provisioning_events(&f.d, None)
            .await
            .unwrap()
            .is_empty()
    );
}
