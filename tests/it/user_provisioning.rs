//! Issue 14, RAM user provisioning records over the signed API: create, get, list (filters,
//! paging), update, delete, one provisioning per principal and account, the parameters'
//! limits on both sides, unknown directory/user/group/account refused, the directory's
//! configuration, and a read-only administrator refused on every write.

use crate::harness::*;
use serde_json::Value;

const RM: &str = "2020-03-31";

/// The operation's parameters: `base` with `extra` added or replacing.
fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| extra.iter().all(|(e, _)| e != k))
        .copied()
        .collect();
    out.extend_from_slice(extra);
    out
}

fn string(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} in {v}"))
        .to_owned()
}

#[tokio::test]
async fn user_provisionings_are_created_listed_updated_and_deleted() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let eng = srv.group("eng", &[&alice]).await;
    let s = srv.setup_access("Admin").await;
    let k = &s.key;
    let create = [
        ("DirectoryId", s.d.as_str()),
        ("PrincipalType", "User"),
        ("PrincipalId", alice.as_str()),
        ("TargetType", "RD-Account"),
        ("TargetId", s.account.as_str()),
        ("DuplicationStrategy", "KeepBoth"),
        ("DeletionStrategy", "Delete"),
        ("Description", "alice as a RAM user"),
    ];
    let made = srv.api_ok(k, SSO, "CreateUserProvisioning", &create).await;
    let up = &made["UserProvisioning"];
    let id = string(up, &["UserProvisioningId"]);
    assert!(id.starts_with("up-") && id.len() == 23, "{up}");
    let account = srv
        .api_ok(k, RM, "GetAccount", &[("AccountId", &s.account)])
        .await;
    for (field, want) in [
        ("DirectoryId", s.d.as_str()),
        ("PrincipalType", "User"),
        ("PrincipalId", &alice),
        ("PrincipalName", "alice"),
        ("TargetType", "RD-Account"),
        ("TargetId", &s.account),
        ("TargetName", "prod"),
        (
            "TargetPath",
            account["Account"]["ResourceDirectoryPath"]
                .as_str()
                .unwrap_or("?"),
        ),
        ("DuplicationStrategy", "KeepBoth"),
        ("DeletionStrategy", "Delete"),
        ("Description", "alice as a RAM user"),
        ("Status", "Enabled"),
    ] {
        assert_eq!(up[field], want, "{field}: {up}");
    }
    assert!(string(up, &["OwnerPk"]).len() >= 16, "{up}");
    assert!(string(up, &["CreateTime"]).ends_with('Z'), "{up}");

    // The same principal on the same account again: refused, whatever the strategies.
    let again = srv
        .api(
            k,
            SSO,
            "CreateUserProvisioning",
            &with(&create, &[("DuplicationStrategy", "TakeOver")]),
        )
        .await;
    assert_fault(&again, 409, "EntityAlreadyExists.UserProvisioning");

    // The group on the same account is another provisioning.
    let group_up = srv
        .api_ok(
            k,
            SSO,
            "CreateUserProvisioning",
            &with(
                &create,
                &[
                    ("PrincipalType", "Group"),
                    ("PrincipalId", &eng),
                    ("DuplicationStrategy", "TakeOver"),
                    ("DeletionStrategy", "Keep"),
                ],
            ),
        )
        .await;
    let gid = string(&group_up, &["UserProvisioning", "UserProvisioningId"]);
    assert_eq!(group_up["UserProvisioning"]["PrincipalName"], "eng");

    let got = srv
        .api_ok(
            k,
            SSO,
            "GetUserProvisioning",
            &[("DirectoryId", &s.d), ("UserProvisioningId", &id)],
        )
        .await;
    assert_eq!(got["UserProvisioning"], made["UserProvisioning"]);

    // Lists: all, filtered by principal, by target, paged one by one.
    let d = [("DirectoryId", s.d.as_str())];
    let ids = |v: &Value| -> Vec<String> {
        v["UserProvisionings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| string(u, &["UserProvisioningId"]))
            .collect()
    };
    let listed = srv.api_ok(k, SSO, "ListUserProvisionings", &d).await;
    assert_eq!(ids(&listed), [id.clone(), gid.clone()], "{listed}");
    assert_eq!(listed["TotalCounts"], 2, "{listed}");
    let of_group = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisionings",
            &with(&d, &[("PrincipalType", "Group"), ("PrincipalId", &eng)]),
        )
        .await;
    assert_eq!(ids(&of_group), [gid.as_str()]);
    let on_account = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisionings",
            &with(
                &d,
                &[("TargetType", "RD-Account"), ("TargetId", &s.account)],
            ),
        )
        .await;
    assert_eq!(ids(&on_account).len(), 2);
    let elsewhere = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisionings",
            &with(
                &d,
                &[
                    ("TargetType", "RD-Account"),
                    ("TargetId", "1999999999999999"),
                ],
            ),
        )
        .await;
    assert_eq!(ids(&elsewhere).len(), 0);
    let first = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisionings",
            &with(&d, &[("MaxResults", "1")]),
        )
        .await;
    assert_eq!(ids(&first), [id.as_str()]);
    assert_eq!(first["IsTruncated"], true, "{first}");
    let token = string(&first, &["NextToken"]);
    let second = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisionings",
            &with(&d, &[("MaxResults", "1"), ("NextToken", &token)]),
        )
        .await;
    assert_eq!(ids(&second), [gid.as_str()]);
    assert_eq!(second["IsTruncated"], false, "{second}");
    let hundred = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisionings",
            &with(&d, &[("MaxResults", "100")]),
        )
        .await;
    assert_eq!(ids(&hundred).len(), 2);
    for bad in ["0", "101"] {
        let r = srv
            .api(
                k,
                SSO,
                "ListUserProvisionings",
                &with(&d, &[("MaxResults", bad)]),
            )
            .await;
        assert_fault(&r, 400, "InvalidParameter.MaxResults");
    }
    let half = srv
        .api(
            k,
            SSO,
            "ListUserProvisionings",
            &with(&d, &[("PrincipalType", "User")]),
        )
        .await;
    assert_fault(&half, 400, "MissingParameter.PrincipalId");

    // Update: description and strategies; the rest stays.
    let key = [
        ("DirectoryId", s.d.as_str()),
        ("UserProvisioningId", id.as_str()),
    ];
    let updated = srv
        .api_ok(
            k,
            SSO,
            "UpdateUserProvisioning",
            &with(
                &key,
                &[
                    ("NewDescription", "changed"),
                    ("NewDuplicationStrategy", "TakeOver"),
                    ("NewDeletionStrategy", "Keep"),
                ],
            ),
        )
        .await;
    let u = &updated["UserProvisioning"];
    assert_eq!(u["Description"], "changed");
    assert_eq!(u["DuplicationStrategy"], "TakeOver");
    assert_eq!(u["DeletionStrategy"], "Keep");
    assert_eq!(u["PrincipalId"], alice.as_str());
    assert_eq!(u["CreateTime"], up["CreateTime"]);
    let only_description = srv
        .api_ok(
            k,
            SSO,
            "UpdateUserProvisioning",
            &with(&key, &[("NewDescription", "again")]),
        )
        .await;
    assert_eq!(
        only_description["UserProvisioning"]["DeletionStrategy"],
        "Keep"
    );
    assert_eq!(only_description["UserProvisioning"]["Description"], "again");

    // A provisioned account cannot be deleted under it.
    let del_account = srv
        .api(k, RM, "DeleteAccount", &[("AccountId", &s.account)])
        .await;
    assert_fault(&del_account, 409, "DeleteConflict.Account.UserProvisioning");

    // Delete: gone for get, update, delete and the list; the pair is free again.
    srv.api_ok(
        k,
        SSO,
        "DeleteUserProvisioning",
        &with(&key, &[("DeletionStrategy", "Delete")]),
    )
    .await;
    for op in [
        "GetUserProvisioning",
        "DeleteUserProvisioning",
        "UpdateUserProvisioning",
    ] {
        let r = srv.api(k, SSO, op, &key).await;
        assert_fault(&r, 404, "EntityNotExists.UserProvisioning");
    }
    let listed = srv.api_ok(k, SSO, "ListUserProvisionings", &d).await;
    assert_eq!(ids(&listed), [gid.as_str()]);
    srv.api_ok(k, SSO, "CreateUserProvisioning", &create).await;
}

#[tokio::test]
async fn bad_and_unknown_parameters_are_refused_on_both_sides_of_each_limit() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let eng = srv.group("eng", &[]).await;
    let s = srv.setup_access("Admin").await;
    let k = &s.key;
    let create = [
        ("DirectoryId", s.d.as_str()),
        ("PrincipalType", "User"),
        ("PrincipalId", alice.as_str()),
        ("TargetType", "RD-Account"),
        ("TargetId", s.account.as_str()),
        ("DuplicationStrategy", "KeepBoth"),
        ("DeletionStrategy", "Delete"),
    ];
    let long = "d".repeat(1025);
    let fits = "d".repeat(1024);
    for (extra, status, code) in [
        (
            ("PrincipalType", "Role"),
            400,
            "InvalidParameter.PrincipalType",
        ),
        (
            ("TargetType", "RD-Folder"),
            400,
            "InvalidParameter.TargetType",
        ),
        (
            ("DuplicationStrategy", "Replace"),
            400,
            "InvalidParameter.DuplicationStrategy",
        ),
        (
            ("DeletionStrategy", "keep"),
            400,
            "InvalidParameter.DeletionStrategy",
        ),
        (
            ("Description", long.as_str()),
            400,
            "InvalidParameter.Description",
        ),
        (
            ("PrincipalId", "u-doesnotexist0000000"),
            404,
            "EntityNotExists.User",
        ),
        (
            ("TargetId", "1999999999999999"),
            404,
            "EntityNotExists.Account",
        ),
        (
            ("DirectoryId", "d-doesnotexist000000"),
            404,
            "EntityNotExists.Directory",
        ),
    ] {
        let r = srv
            .api(k, SSO, "CreateUserProvisioning", &with(&create, &[extra]))
            .await;
        assert_fault(&r, status, code);
    }
    let r = srv
        .api(
            k,
            SSO,
            "CreateUserProvisioning",
            &with(
                &create,
                &[
                    ("PrincipalType", "Group"),
                    ("PrincipalId", "g-doesnotexist0000000"),
                ],
            ),
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.Group");
    // A user id given as a group (and the other way round) names nothing.
    let r = srv
        .api(
            k,
            SSO,
            "CreateUserProvisioning",
            &with(&create, &[("PrincipalType", "Group")]),
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.Group");
    for missing in [
        "DuplicationStrategy",
        "DeletionStrategy",
        "TargetId",
        "PrincipalId",
    ] {
        let params: Vec<(&str, &str)> = create
            .iter()
            .filter(|(n, _)| *n != missing)
            .copied()
            .collect();
        let r = srv.api(k, SSO, "CreateUserProvisioning", &params).await;
        assert_fault(&r, 400, &format!("MissingParameter.{missing}"));
    }
    // Nothing was made by the refusals; the longest description is accepted.
    let listed = srv
        .api_ok(k, SSO, "ListUserProvisionings", &[("DirectoryId", &s.d)])
        .await;
    assert_eq!(listed["TotalCounts"], 0, "{listed}");
    let made = srv
        .api_ok(
            k,
            SSO,
            "CreateUserProvisioning",
            &with(
                &create,
                &[
                    ("Description", fits.as_str()),
                    ("PrincipalType", "Group"),
                    ("PrincipalId", &eng),
                ],
            ),
        )
        .await;
    let id = string(&made, &["UserProvisioning", "UserProvisioningId"]);
    let key = [
        ("DirectoryId", s.d.as_str()),
        ("UserProvisioningId", id.as_str()),
    ];
    // A provisioned group cannot be deleted under its provisioning.
    let r = srv
        .api(
            k,
            SSO,
            "DeleteGroup",
            &[("DirectoryId", &s.d), ("GroupId", &eng)],
        )
        .await;
    assert_fault(&r, 409, "DeletionConflict.Group.UserProvisioning");
    for (extra, code) in [
        (
            ("NewDescription", long.as_str()),
            "InvalidParameter.NewDescription",
        ),
        (
            ("NewDuplicationStrategy", "Both"),
            "InvalidParameter.NewDuplicationStrategy",
        ),
        (
            ("NewDeletionStrategy", "Remove"),
            "InvalidParameter.NewDeletionStrategy",
        ),
    ] {
        let r = srv
            .api(k, SSO, "UpdateUserProvisioning", &with(&key, &[extra]))
            .await;
        assert_fault(&r, 400, code);
    }
    let r = srv
        .api(
            k,
            SSO,
            "DeleteUserProvisioning",
            &with(&key, &[("DeletionStrategy", "Later")]),
        )
        .await;
    assert_fault(&r, 400, "InvalidParameter.DeletionStrategy");
    let r = srv
        .api(
            k,
            SSO,
            "GetUserProvisioning",
            &[
                ("DirectoryId", &s.d),
                ("UserProvisioningId", "up-doesnotexist0000000"),
            ],
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.UserProvisioning");

    // The configuration: defaults, then each limit on both sides.
    let d = [("DirectoryId", s.d.as_str())];
    let c = srv
        .api_ok(k, SSO, "GetUserProvisioningConfiguration", &d)
        .await;
    let c = &c["UserProvisioningConfiguration"];
    assert_eq!(c["SessionDuration"], 6, "{c}");
    assert_eq!(
        c["DefaultLandingPage"],
        "https://homenew.console.aliyun.com"
    );
    assert_eq!(c["DirectoryId"], s.d.as_str());
    for (hours, ok) in [
        ("0", false),
        ("1", true),
        ("24", true),
        ("25", false),
        ("six", false),
    ] {
        let r = srv
            .api(
                k,
                SSO,
                "UpdateUserProvisioningConfiguration",
                &with(&d, &[("NewSessionDuration", hours)]),
            )
            .await;
        if ok {
            assert_eq!(r.status, 200, "{hours}: {}", r.body);
            assert_eq!(
                r.body["UserProvisioningConfiguration"]["SessionDuration"].to_string(),
                hours
            );
        } else {
            assert_fault(&r, 400, "InvalidParameter.NewSessionDuration");
        }
    }
    let page = format!(
        "https://a.example/{}",
        "p".repeat(1024 - "https://a.example/".len())
    );
    let too_long = format!("{page}p");
    for (landing, ok) in [
        (page.as_str(), true),
        (too_long.as_str(), false),
        ("http://plain.example", false),
        ("javascript:alert(1)", false),
        ("https://ecs.console.aliyun.com", true),
    ] {
        let r = srv
            .api(
                k,
                SSO,
                "UpdateUserProvisioningConfiguration",
                &with(&d, &[("NewDefaultLandingPage", landing)]),
            )
            .await;
        if ok {
            assert_eq!(r.status, 200, "{}", r.body);
        } else {
            assert_fault(&r, 400, "InvalidParameter.NewDefaultLandingPage");
        }
    }
    let c = srv
        .api_ok(k, SSO, "GetUserProvisioningConfiguration", &d)
        .await;
    let c = &c["UserProvisioningConfiguration"];
    assert_eq!(c["SessionDuration"], 24, "{c}");
    assert_eq!(c["DefaultLandingPage"], "https://ecs.console.aliyun.com");
    let r = srv
        .api(
            k,
            SSO,
            "GetUserProvisioningConfiguration",
            &[("DirectoryId", "d-doesnotexist000000")],
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.Directory");
}

#[tokio::test]
async fn a_read_only_administrator_reads_provisionings_and_changes_none() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let s = srv.setup_access("Admin").await;
    let reader = srv
        .admin_system(&s.key, "reader", "AliyunCloudSSOReadOnlyAccess")
        .await;
    let create = [
        ("DirectoryId", s.d.as_str()),
        ("PrincipalType", "User"),
        ("PrincipalId", alice.as_str()),
        ("TargetType", "RD-Account"),
        ("TargetId", s.account.as_str()),
        ("DuplicationStrategy", "KeepBoth"),
        ("DeletionStrategy", "Delete"),
    ];
    let refused = srv
        .api(&reader, SSO, "CreateUserProvisioning", &create)
        .await;
    assert_fault(&refused, 403, "NoPermission");
    let made = srv
        .api_ok(&s.key, SSO, "CreateUserProvisioning", &create)
        .await;
    let id = string(&made, &["UserProvisioning", "UserProvisioningId"]);
    let key = [
        ("DirectoryId", s.d.as_str()),
        ("UserProvisioningId", id.as_str()),
    ];
    // Reads are allowed.
    srv.api_ok(&reader, SSO, "GetUserProvisioning", &key).await;
    srv.api_ok(&reader, SSO, "ListUserProvisionings", &key[..1])
        .await;
    srv.api_ok(&reader, SSO, "GetUserProvisioningConfiguration", &key[..1])
        .await;
    // Writes are not, and change nothing.
    for (op, params) in [
        (
            "UpdateUserProvisioning",
            with(&key, &[("NewDescription", "x")]),
        ),
        ("DeleteUserProvisioning", key.to_vec()),
        (
            "UpdateUserProvisioningConfiguration",
            vec![key[0], ("NewSessionDuration", "2")],
        ),
    ] {
        let r = srv.api(&reader, SSO, op, &params).await;
        assert_fault(&r, 403, "NoPermission");
    }
    let after = srv.api_ok(&s.key, SSO, "GetUserProvisioning", &key).await;
    assert_eq!(after["UserProvisioning"], made["UserProvisioning"]);
    let c = srv
        .api_ok(&s.key, SSO, "GetUserProvisioningConfiguration", &key[..1])
        .await;
    assert_eq!(c["UserProvisioningConfiguration"]["SessionDuration"], 6);
}

/// Waits (at most 10 s) until the directory's open events are `n`; the list.
async fn events_when(srv: &Server, s: &crate::access_http::Setup, n: usize) -> Value {
    let started = std::time::Instant::now();
    loop {
        let list = srv
            .api_ok(
                &s.key,
                SSO,
                "ListUserProvisioningEvents",
                &[("DirectoryId", &s.d)],
            )
            .await;
        if list["UserProvisioningEvents"].as_array().map(Vec::len) == Some(n) {
            return list;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "events: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits (at most 10 s) until `event`'s ErrorCount is `n`.
async fn error_count_when(srv: &Server, s: &crate::access_http::Setup, event: &str, n: u64) {
    let started = std::time::Instant::now();
    loop {
        let e = srv
            .api_ok(
                &s.key,
                SSO,
                "GetUserProvisioningEvent",
                &[("DirectoryId", &s.d), ("EventId", event)],
            )
            .await;
        if e["UserProvisioningEvent"]["ErrorCount"] == n {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "event: {e}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn provision(
    srv: &Server,
    s: &crate::access_http::Setup,
    user: &str,
    deletion: &str,
) -> String {
    let made = srv
        .api_ok(
            &s.key,
            SSO,
            "CreateUserProvisioning",
            &[
                ("DirectoryId", &s.d),
                ("PrincipalType", "User"),
                ("PrincipalId", user),
                ("TargetType", "RD-Account"),
                ("TargetId", &s.account),
                ("DuplicationStrategy", "KeepBoth"),
                ("DeletionStrategy", deletion),
            ],
        )
        .await;
    string(&made, &["UserProvisioning", "UserProvisioningId"])
}

async fn set_active(srv: &Server, user: &str, active: bool) {
    let r = srv
        .patch_ops(
            &format!("/Users/{user}"),
            serde_json::json!([{"op": "replace", "path": "active", "value": active}]),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
}

#[tokio::test]
async fn an_unresolvable_name_clash_is_an_event_that_a_take_over_retry_clears() {
    let srv = Server::start();
    let s = srv.setup_access("Admin").await;
    let k = &s.key;
    // carl_sso's RAM user takes the name KeepBoth would give carl.
    let carl_sso = srv.user("carl_sso").await;
    provision(&srv, &s, &carl_sso, "Delete").await;
    // carl's RAM user `carl`, kept in the account (no longer owned) when he is disabled.
    let carl = srv.user("carl").await;
    let up = provision(&srv, &s, &carl, "Keep").await;
    // Disabled, carl's `carl` stays in the account, no longer owned. Once the engine has
    // released it (its own round: a pause), enabling him meets `carl` taken and `carl_sso`
    // taken: KeepBoth cannot place him.
    let mut list = Value::Null;
    for pause in [300, 600, 1200, 2400] {
        set_active(&srv, &carl, false).await;
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        set_active(&srv, &carl, true).await;
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(2) {
            list = srv
                .api_ok(
                    k,
                    SSO,
                    "ListUserProvisioningEvents",
                    &[("DirectoryId", &s.d)],
                )
                .await;
            if list["UserProvisioningEvents"].as_array().map(Vec::len) == Some(1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if list["UserProvisioningEvents"].as_array().map(Vec::len) == Some(1) {
            break;
        }
    }
    let e = &list["UserProvisioningEvents"][0];
    assert_eq!(e["UserProvisioningId"], up.as_str(), "{e}");
    assert_eq!(e["SourceType"], "StartProvisioning", "{e}");
    assert_eq!(e["ErrorCount"], 1, "{e}");
    assert!(
        string(e, &["ErrorInfo"])
            .starts_with("OperationConflict.UserProvisioning.Process.fail.ImsUserExists"),
        "{e}"
    );
    assert_eq!(e["PrincipalName"], "carl", "{e}");
    assert_eq!(e["TargetId"], s.account.as_str(), "{e}");
    let first = string(e, &["EventId"]);
    assert!(first.starts_with("upe-"), "{e}");
    let got = srv
        .api_ok(
            k,
            SSO,
            "GetUserProvisioningEvent",
            &[("DirectoryId", &s.d), ("EventId", &first)],
        )
        .await;
    assert_eq!(&got["UserProvisioningEvent"], e);
    let only = srv
        .api_ok(
            k,
            SSO,
            "ListUserProvisioningEvents",
            &[
                ("DirectoryId", &s.d),
                ("UserProvisioningId", "up-00000000000000000000"),
            ],
        )
        .await;
    assert_eq!(only["UserProvisioningEvents"], serde_json::json!([]));
    let stats = srv
        .api_ok(
            k,
            SSO,
            "GetUserProvisioningStatistics",
            &[("DirectoryId", &s.d), ("UserProvisioningId", &up)],
        )
        .await;
    let st = &stats["UserProvisioningStatistics"];
    assert_eq!(st["FailedEventCount"], 1, "{stats}");
    assert_eq!(st["Type"], "User Provisioning");
    assert_eq!(st["EntityId"], up.as_str());
    assert_eq!(st["LatestAsyncTime"], e["LatestAsyncTime"]);
    let rd = srv
        .api_ok(
            k,
            SSO,
            "GetUserProvisioningRdAccountStatistics",
            &[("DirectoryId", &s.d), ("RdMemberId", &s.account)],
        )
        .await;
    assert_eq!(
        rd["UserProvisioningStatistics"]["FailedEventCount"], 1,
        "{rd}"
    );
    assert_eq!(rd["UserProvisioningStatistics"]["Type"], "RD Account");

    // A retry with the same strategy fails again: the count goes up.
    srv.api_ok(
        k,
        SSO,
        "RetryUserProvisioningEvent",
        &[("DirectoryId", &s.d), ("EventId", &first)],
    )
    .await;
    error_count_when(&srv, &s, &first, 2).await;

    // Deleting needs the event's own provisioning; a deleted event is gone.
    let wrong = srv
        .api(
            k,
            SSO,
            "DeleteUserProvisioningEvent",
            &[
                ("DirectoryId", &s.d),
                ("UserProvisioningId", "up-00000000000000000000"),
                ("EventId", &first),
            ],
        )
        .await;
    assert_fault(&wrong, 404, "EntityNotExists.UserProvisioningEvent");
    srv.api_ok(
        k,
        SSO,
        "DeleteUserProvisioningEvent",
        &[
            ("DirectoryId", &s.d),
            ("UserProvisioningId", &up),
            ("EventId", &first),
        ],
    )
    .await;
    for op in ["GetUserProvisioningEvent", "RetryUserProvisioningEvent"] {
        let r = srv
            .api(k, SSO, op, &[("DirectoryId", &s.d), ("EventId", &first)])
            .await;
        assert_fault(&r, 404, "EntityNotExists.UserProvisioningEvent");
    }

    // The next pass over the directory meets the clash again: a new event.
    let r = srv
        .patch_ops(
            &format!("/Users/{carl}"),
            serde_json::json!([{"op": "replace", "path": "displayName", "value": "Carl"}]),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    let list = events_when(&srv, &s, 1).await;
    let second = string(&list["UserProvisioningEvents"][0], &["EventId"]);
    assert_ne!(second, first);
    let bad = srv
        .api(
            k,
            SSO,
            "RetryUserProvisioningEvent",
            &[
                ("DirectoryId", &s.d),
                ("EventId", &second),
                ("DuplicationStrategy", "Both"),
            ],
        )
        .await;
    assert_fault(&bad, 400, "InvalidParameter.DuplicationStrategy");
    // Retried with TakeOver, carl takes the kept `carl` over: the event clears.
    srv.api_ok(
        k,
        SSO,
        "RetryUserProvisioningEvent",
        &[
            ("DirectoryId", &s.d),
            ("EventId", &second),
            ("DuplicationStrategy", "TakeOver"),
        ],
    )
    .await;
    events_when(&srv, &s, 0).await;
    let stats = srv
        .api_ok(
            k,
            SSO,
            "GetUserProvisioningStatistics",
            &[("DirectoryId", &s.d), ("UserProvisioningId", &up)],
        )
        .await;
    assert_eq!(stats["UserProvisioningStatistics"]["FailedEventCount"], 0);
    for bad in ["0", "101"] {
        let r = srv
            .api(
                k,
                SSO,
                "ListUserProvisioningEvents",
                &[("DirectoryId", &s.d), ("MaxResults", bad)],
            )
            .await;
        assert_fault(&r, 400, "InvalidParameter.MaxResults");
    }
    let r = srv
        .api(
            k,
            SSO,
            "GetUserProvisioningRdAccountStatistics",
            &[("DirectoryId", &s.d), ("RdMemberId", "1999999999999999")],
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.Account");
}
