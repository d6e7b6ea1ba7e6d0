//! CloudSSO's delegated administrator account over the signed API: Enable, Get, Disable round
//! trip; one delegate at a time (the second refused until the first is disabled); the
//! management account, an unknown account and a malformed or missing `AccountId` refused; a
//! read-only administrator may read but not change it; the account cannot be deleted from the
//! resource directory while delegated; a member account's administrators (RAM `CreateUser`
//! `AccountId`) call CloudSSO only while it is the delegate, by their own policies, and never
//! RAM, Resource Manager, the audit trail or STS. The official SDK's run is
//! `conformance/api/sdk_delegate_check.py` (from `conformance/api/run-sdk.sh`).

use crate::harness::*;
use serde_json::Value;

const RM: &str = "2020-03-31";

fn string(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} in {v}"))
        .to_owned()
}

async fn member(s: &Server, k: &Key, name: &str) -> String {
    let a = s
        .api_ok(k, RM, "CreateResourceAccount", &[("DisplayName", name)])
        .await;
    string(&a, &["Account", "AccountId"])
}

/// `GetDelegateAccount`'s `DelegateAccount`.
async fn delegate(s: &Server, k: &Key, account: &str) -> Value {
    s.api_ok(k, SSO, "GetDelegateAccount", &[("AccountId", account)])
        .await["DelegateAccount"]
        .clone()
}

#[tokio::test]
async fn one_member_account_at_a_time_is_the_delegated_administrator() {
    let s = Server::start();
    let k = s.admin_key();
    let prod = member(&s, &k, "prod").await;
    let dev = member(&s, &k, "dev").await;
    let one = [("AccountId", prod.as_str())];

    let before = delegate(&s, &k, &prod).await;
    assert_eq!(before["AccountId"], prod.as_str(), "{before}");
    assert_eq!(before["DisplayName"], "prod", "{before}");
    assert_eq!(before["DelegateStatus"], "Disabled", "{before}");

    s.api_ok(&k, SSO, "EnableDelegateAccount", &one).await;
    assert_eq!(delegate(&s, &k, &prod).await["DelegateStatus"], "Enabled");
    // Enabling the delegate again changes nothing.
    s.api_ok(&k, SSO, "EnableDelegateAccount", &one).await;
    assert_eq!(delegate(&s, &k, &prod).await["DelegateStatus"], "Enabled");

    // A second account while one is delegated: refused, nothing changes.
    let r = s
        .api(&k, SSO, "EnableDelegateAccount", &[("AccountId", &dev)])
        .await;
    assert_fault(&r, 409, "OperationConflict.DelegateAccount.Exists");
    assert!(string(&r.body, &["Message"]).contains(&prod), "{}", r.body);
    assert_eq!(delegate(&s, &k, &dev).await["DelegateStatus"], "Disabled");
    assert_eq!(delegate(&s, &k, &prod).await["DelegateStatus"], "Enabled");

    // The delegate cannot leave the resource directory while delegated.
    let r = s.api(&k, RM, "DeleteAccount", &one).await;
    assert_fault(&r, 409, "DeleteConflict.Account.DelegateAccount");
    s.api_ok(&k, RM, "GetAccount", &one).await;

    s.api_ok(&k, SSO, "DisableDelegateAccount", &one).await;
    assert_eq!(delegate(&s, &k, &prod).await["DelegateStatus"], "Disabled");
    // Disabled: disabling again is refused; the other account may now be the delegate.
    let r = s.api(&k, SSO, "DisableDelegateAccount", &one).await;
    assert_fault(&r, 404, "EntityNotExists.DelegateAccount");
    s.api_ok(&k, SSO, "EnableDelegateAccount", &[("AccountId", &dev)])
        .await;
    assert_eq!(delegate(&s, &k, &dev).await["DelegateStatus"], "Enabled");

    // The former delegate may be deleted now; then it is unknown.
    s.api_ok(&k, RM, "DeleteAccount", &one).await;
    let r = s.api(&k, SSO, "GetDelegateAccount", &one).await;
    assert_fault(&r, 404, "EntityNotExists.Account");
}

/// (operation, parameters, status, code) of one refused call.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

#[tokio::test]
async fn refusals_of_the_delegated_administrator_operations() {
    let s = Server::start();
    let k = s.admin_key();
    let prod = member(&s, &k, "prod").await;
    let management = s.api_ok(&k, SSO, "GetServiceStatus", &[]).await;
    let management = string(&management, &["ServiceStatus", "AccountId"]);
    let unknown = "1000000000000009";
    let ops = [
        "EnableDelegateAccount",
        "DisableDelegateAccount",
        "GetDelegateAccount",
    ];
    let mut cases: Vec<Case> = Vec::new();
    for op in ops {
        cases.push((op, vec![], 400, "MissingParameter.AccountId"));
        cases.push((
            op,
            vec![("AccountId", "")],
            400,
            "MissingParameter.AccountId",
        ));
        cases.push((
            op,
            vec![("AccountId", "12ab")],
            400,
            "InvalidParameter.AccountId",
        ));
        cases.push((
            op,
            vec![("AccountId", unknown)],
            404,
            "EntityNotExists.Account",
        ));
    }
    cases.push((
        "EnableDelegateAccount",
        vec![("AccountId", &management)],
        400,
        "InvalidParameter.AccountId.ManagementAccount",
    ));
    cases.push((
        "DisableDelegateAccount",
        vec![("AccountId", &prod)],
        404,
        "EntityNotExists.DelegateAccount",
    ));
    let mut wrong = Vec::new();
    for (op, params, status, code) in &cases {
        let r = s.api(&k, SSO, op, params).await;
        if let Some(m) = fault_mismatch(&r, *status, code) {
            wrong.push(format!("{op} {params:?}: {m}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // None of them made a delegate.
    assert_eq!(delegate(&s, &k, &prod).await["DelegateStatus"], "Disabled");
    let r = s
        .api(&k, SSO, "GetDelegateAccount", &[("AccountId", &management)])
        .await;
    assert_fault(&r, 404, "EntityNotExists.Account");
}

#[tokio::test]
async fn the_delegate_is_authorized_like_the_service_switch() {
    let s = Server::start();
    let root = s.admin_key();
    let prod = member(&s, &root, "prod").await;
    let dev = member(&s, &root, "dev").await;
    let reader = s
        .admin_system(&root, "reader", "AliyunCloudSSOReadOnlyAccess")
        .await;
    let full = s
        .admin_system(&root, "sso-admin", "AliyunCloudSSOFullAccess")
        .await;
    let one = [("AccountId", prod.as_str())];

    // The read-only administrator reads, and is refused both changes.
    assert_eq!(
        delegate(&s, &reader, &prod).await["DelegateStatus"],
        "Disabled"
    );
    let r = s.api(&reader, SSO, "EnableDelegateAccount", &one).await;
    assert_fault(&r, 403, "NoPermission");
    assert_eq!(
        delegate(&s, &root, &prod).await["DelegateStatus"],
        "Disabled"
    );
    s.api_ok(&full, SSO, "EnableDelegateAccount", &one).await;
    assert_eq!(
        delegate(&s, &reader, &prod).await["DelegateStatus"],
        "Enabled"
    );
    let r = s.api(&reader, SSO, "DisableDelegateAccount", &one).await;
    assert_fault(&r, 403, "NoPermission");
    assert_eq!(
        delegate(&s, &root, &prod).await["DelegateStatus"],
        "Enabled"
    );

    // A policy naming only one account's ARN grants nothing: the resource is `*`.
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"cloudsso:*DelegateAccount","Resource":"acs:cloudsso:*:*:delegate-account/{dev}"}}]}}"#
    );
    s.api_ok(
        &root,
        RAM,
        "CreatePolicy",
        &[("PolicyName", "one-account"), ("PolicyDocument", &doc)],
    )
    .await;
    s.api_ok(&root, RAM, "CreateUser", &[("UserName", "narrow")])
        .await;
    s.api_ok(
        &root,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "narrow"),
            ("PolicyName", "one-account"),
            ("PolicyType", "Custom"),
        ],
    )
    .await;
    let k = s
        .api_ok(&root, RAM, "CreateAccessKey", &[("UserName", "narrow")])
        .await;
    let narrow = Key {
        id: string(&k, &["AccessKey", "AccessKeyId"]),
        secret: string(&k, &["AccessKey", "AccessKeySecret"]),
    };
    // Nor does one naming only a directory: the delegate is the whole installation's.
    let d = &s.directory_id;
    let doc2 = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"cloudsso:*","Resource":["acs:cloudsso:*:*:directory/{d}","acs:cloudsso:*:*:directory/{d}/*"]}}]}}"#
    );
    s.api_ok(
        &root,
        RAM,
        "CreatePolicy",
        &[("PolicyName", "one-directory"), ("PolicyDocument", &doc2)],
    )
    .await;
    s.api_ok(
        &root,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "narrow"),
            ("PolicyName", "one-directory"),
            ("PolicyType", "Custom"),
        ],
    )
    .await;
    s.api_ok(&narrow, SSO, "GetDirectory", &[("DirectoryId", d)])
        .await;
    for (op, account) in [
        ("DisableDelegateAccount", prod.as_str()),
        ("EnableDelegateAccount", dev.as_str()),
        ("GetDelegateAccount", dev.as_str()),
    ] {
        let r = s.api(&narrow, SSO, op, &[("AccountId", account)]).await;
        assert_fault(&r, 403, "NoPermission");
    }
    assert_eq!(
        delegate(&s, &root, &prod).await["DelegateStatus"],
        "Enabled"
    );
    s.api_ok(&full, SSO, "DisableDelegateAccount", &one).await;
    assert_eq!(
        delegate(&s, &root, &prod).await["DelegateStatus"],
        "Disabled"
    );
}

/// An administrator of member account `account` (RAM `CreateUser`'s `AccountId`, cloudsso's
/// extension) with system policy `policy` and a new AccessKey.
async fn member_admin(s: &Server, root: &Key, name: &str, account: &str, policy: &str) -> Key {
    let made = s
        .api_ok(
            root,
            RAM,
            "CreateUser",
            &[("UserName", name), ("AccountId", account)],
        )
        .await;
    assert_eq!(made["User"]["AccountId"], account, "{made}");
    s.admin_key_for(root, name, &[("System", policy)]).await
}

/// (version, operation, parameters) of one call.
type Call<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

/// Calls that must each be refused `Forbidden.DelegateAccount` (403), the message naming
/// `account`; the mismatches, one per line.
async fn refused_as_member(s: &Server, k: &Key, account: &str, calls: &[Call<'_>]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (version, op, params) in calls {
        let r = s.api(k, version, op, params).await;
        if let Some(m) = fault_mismatch(&r, 403, "Forbidden.DelegateAccount") {
            wrong.push(format!("{version} {op}: {m}"));
        } else if !string(&r.body, &["Message"]).contains(account) {
            wrong.push(format!("{version} {op}: message {}", r.body));
        }
    }
    wrong
}

#[tokio::test]
async fn a_member_accounts_administrators_call_cloudsso_only_while_it_is_the_delegate() {
    let s = Server::start();
    let root = s.admin_key();
    let prod = member(&s, &root, "prod").await;
    let dev = member(&s, &root, "dev").await;
    let d = s.directory_id.clone();
    let full = member_admin(&s, &root, "prod-sso", &prod, "AliyunCloudSSOFullAccess").await;
    let reader = member_admin(
        &s,
        &root,
        "prod-reader",
        &prod,
        "AliyunCloudSSOReadOnlyAccess",
    )
    .await;
    let dev_full = member_admin(&s, &root, "dev-sso", &dev, "AliyunCloudSSOFullAccess").await;
    let mgmt = s
        .admin_system(&root, "mgmt-sso", "AliyunCloudSSOFullAccess")
        .await;
    let one = [("AccountId", prod.as_str())];
    let sso_calls = |user: &'static str| -> Vec<Call<'_>> {
        vec![
            (SSO, "ListDirectories", vec![]),
            (SSO, "GetDirectory", vec![("DirectoryId", d.as_str())]),
            (
                SSO,
                "CreateUser",
                vec![("DirectoryId", d.as_str()), ("UserName", user)],
            ),
        ]
    };
    // Not (yet) the delegate: every CloudSSO call refused, before any parameter is looked at.
    let mut wrong = refused_as_member(&s, &full, &prod, &sso_calls("early")).await;
    wrong.extend(refused_as_member(&s, &reader, &prod, &sso_calls("early")).await);
    wrong.extend(refused_as_member(&s, &full, &prod, &[(SSO, "ListUsers", vec![])]).await);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    s.api_ok(&root, SSO, "EnableDelegateAccount", &one).await;
    // The delegate's administrators: like the management account's, by their own policies.
    let dirs = s.api_ok(&full, SSO, "ListDirectories", &[]).await;
    assert!(dirs.to_string().contains(&d), "{dirs}");
    let made = s
        .api_ok(
            &full,
            SSO,
            "CreateUser",
            &[("DirectoryId", &d), ("UserName", "made-by-prod")],
        )
        .await;
    let user = string(&made, &["User", "UserId"]);
    s.api_ok(
        &reader,
        SSO,
        "GetUser",
        &[("DirectoryId", &d), ("UserId", &user)],
    )
    .await;
    s.api_ok(&reader, SSO, "ListDirectories", &[]).await;
    let r = s
        .api(
            &reader,
            SSO,
            "CreateUser",
            &[("DirectoryId", &d), ("UserName", "by-reader")],
        )
        .await;
    assert_fault(&r, 403, "NoPermission");
    // Never RAM, Resource Manager, the audit trail or STS: those are the management account's.
    let others: Vec<Call> = vec![
        (RAM, "ListUsers", vec![]),
        (RAM, "CreateUser", vec![("UserName", "sneaky")]),
        (RAM, "GetUser", vec![("UserName", "prod-sso")]),
        (RM, "ListAccounts", vec![]),
        (RM, "GetAccount", vec![("AccountId", prod.as_str())]),
        ("2020-07-06", "LookupEvents", vec![]),
        ("2015-04-01", "GetCallerIdentity", vec![]),
        // Nor the service switch or the delegation itself: it cannot end or move it.
        (
            SSO,
            "DisableDelegateAccount",
            vec![("AccountId", prod.as_str())],
        ),
        (
            SSO,
            "EnableDelegateAccount",
            vec![("AccountId", dev.as_str())],
        ),
        (SSO, "DisableService", vec![]),
    ];
    let mut wrong = refused_as_member(&s, &full, &prod, &others).await;
    // Another member account's administrators are still refused.
    wrong.extend(refused_as_member(&s, &dev_full, &dev, &sso_calls("by-dev")).await);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let r = s
        .api(&root, RAM, "GetUser", &[("UserName", "sneaky")])
        .await;
    assert_fault(&r, 404, "EntityNotExist.User");

    // The management account's administrators are unaffected.
    s.api_ok(&mgmt, SSO, "ListDirectories", &[]).await;
    s.api_ok(&root, RAM, "ListUsers", &[]).await;
    s.api_ok(&root, RM, "ListAccounts", &[]).await;

    // Disabled: the very next call is refused.
    s.api_ok(&root, SSO, "DisableDelegateAccount", &one).await;
    let wrong = refused_as_member(&s, &full, &prod, &sso_calls("late")).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    s.api_ok(&mgmt, SSO, "ListDirectories", &[]).await;
    // Delegating another account does not bring it back.
    s.api_ok(&root, SSO, "EnableDelegateAccount", &[("AccountId", &dev)])
        .await;
    s.api_ok(&dev_full, SSO, "ListDirectories", &[]).await;
    let wrong = refused_as_member(&s, &full, &prod, &[(SSO, "ListDirectories", vec![])]).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nor does its account leaving the resource directory.
    s.api_ok(&root, RM, "DeleteAccount", &one).await;
    let wrong = refused_as_member(&s, &full, &prod, &[(SSO, "ListDirectories", vec![])]).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn an_administrators_home_account_is_checked_and_shown() {
    let s = Server::start();
    let root = s.admin_key();
    let prod = member(&s, &root, "prod").await;
    let management = s.api_ok(&root, SSO, "GetServiceStatus", &[]).await;
    let management = string(&management, &["ServiceStatus", "AccountId"]);

    let cases = [
        ("1000000000000009", 404, "EntityNotExists.Account"),
        ("12ab", 400, "InvalidParameter.AccountId"),
    ];
    for (account, status, code) in cases {
        let r = s
            .api(
                &root,
                RAM,
                "CreateUser",
                &[("UserName", "nobody"), ("AccountId", account)],
            )
            .await;
        assert_fault(&r, status, code);
        let r = s
            .api(&root, RAM, "GetUser", &[("UserName", "nobody")])
            .await;
        assert_fault(&r, 404, "EntityNotExist.User");
    }

    s.api_ok(
        &root,
        RAM,
        "CreateUser",
        &[("UserName", "prod-admin"), ("AccountId", &prod)],
    )
    .await;
    // Naming the management account is leaving it out: RAM's shape, no AccountId.
    let m = s
        .api_ok(
            &root,
            RAM,
            "CreateUser",
            &[("UserName", "mgmt-admin"), ("AccountId", &management)],
        )
        .await;
    assert!(m["User"].get("AccountId").is_none(), "{m}");
    let got = s
        .api_ok(&root, RAM, "GetUser", &[("UserName", "prod-admin")])
        .await;
    assert_eq!(got["User"]["AccountId"], prod.as_str(), "{got}");
    let list = s.api_ok(&root, RAM, "ListUsers", &[]).await;
    let users = list["Users"]["User"].as_array().unwrap();
    let account_of = |name: &str| {
        users
            .iter()
            .find(|u| u["UserName"] == name)
            .map(|u| u.get("AccountId").cloned())
            .unwrap_or_else(|| panic!("{name} in {list}"))
    };
    assert_eq!(account_of("prod-admin"), Some(Value::from(prod.as_str())));
    assert_eq!(account_of("mgmt-admin"), None);
    assert_eq!(account_of("admin"), None);
}

#[tokio::test]
async fn the_delegates_administrator_access_does_not_reach_ram_or_the_resource_directory() {
    let s = Server::start();
    let root = s.admin_key();
    let prod = member(&s, &root, "prod").await;
    let boss = member_admin(&s, &root, "prod-boss", &prod, "AdministratorAccess").await;
    s.api_ok(&root, SSO, "EnableDelegateAccount", &[("AccountId", &prod)])
        .await;
    s.api_ok(&boss, SSO, "ListDirectories", &[]).await;
    // No way up: no management administrator, no policy, no key, no account for itself.
    let escalations: Vec<Call> = vec![
        (RAM, "CreateUser", vec![("UserName", "boss-2")]),
        (
            RAM,
            "AttachPolicyToUser",
            vec![
                ("UserName", "prod-boss"),
                ("PolicyName", "AliyunRAMFullAccess"),
                ("PolicyType", "System"),
            ],
        ),
        (RAM, "CreateAccessKey", vec![("UserName", "admin")]),
        (RAM, "DeleteUser", vec![("UserName", "admin")]),
        (RM, "CreateResourceAccount", vec![("DisplayName", "mine")]),
        (RM, "DeleteAccount", vec![("AccountId", prod.as_str())]),
    ];
    let wrong = refused_as_member(&s, &boss, &prod, &escalations).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let pols = s
        .api_ok(
            &root,
            RAM,
            "ListPoliciesForUser",
            &[("UserName", "prod-boss")],
        )
        .await;
    assert_eq!(pols["Policies"]["Policy"].as_array().map(Vec::len), Some(1));
    let users = s.api_ok(&root, RAM, "ListUsers", &[]).await;
    assert_eq!(users["Users"]["User"].as_array().map(Vec::len), Some(2));
    let keys = s
        .api_ok(&root, RAM, "ListAccessKeys", &[("UserName", "admin")])
        .await;
    assert_eq!(
        keys["AccessKeys"]["AccessKey"].as_array().map(Vec::len),
        Some(1)
    );
    let accounts = s.api_ok(&root, RM, "ListAccounts", &[]).await;
    assert_eq!(accounts["TotalCount"], 1, "{accounts}");
}
