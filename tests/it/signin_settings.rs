//! The sign-in settings operations over HTTP: every operation, every range on both sides,
//! login network masks (100 vs 101, bad CIDRs, `;` clears, absent keeps), ResetUserPassword
//! (policy refusal, generated passwords never stored in clear, refused while SSO logon is
//! enabled), the service switch across a restart, MFA devices written through the store, and
//! a read-only administrator refused every change.

use crate::harness::*;
use hyper::StatusCode;
use serde_json::{Value, json};

/// Parameters sent, and the status and `Code` wanted.
type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);

/// A user made through the API; its id.
async fn new_user(s: &Server, k: &Key, d: &str, name: &str) -> String {
    let r = s
        .api_ok(
            k,
            SSO,
            "CreateUser",
            &[("DirectoryId", d), ("UserName", name)],
        )
        .await;
    r["User"]["UserId"].as_str().unwrap().to_owned()
}

/// `answer[field]` without `RequestId`.
fn field(answer: Value, name: &str) -> Value {
    answer[name].clone()
}

/// Every Get of a directory's settings, for "a refused call changed nothing".
async fn settings_snapshot(s: &Server, k: &Key, d: &str) -> Value {
    let mut all = serde_json::Map::new();
    for (op, name) in [
        ("GetPasswordPolicy", "PasswordPolicy"),
        ("GetMFAAuthenticationStatus", "MFAAuthenticationStatus"),
        (
            "GetMFAAuthenticationSettingInfo",
            "MFAAuthenticationSettingInfo",
        ),
        ("GetLoginPreference", "LoginPreference"),
        ("GetAttributePassingSetting", "AttributePassingSetting"),
    ] {
        let v = s.api_ok(k, SSO, op, &[("DirectoryId", d)]).await;
        all.insert(op.into(), field(v, name));
    }
    Value::Object(all)
}

#[tokio::test]
async fn defaults_then_every_setting_round_trips() {
    let s = Server::start();
    let (k, d) = (s.admin_key(), s.directory_id.clone());
    let dir = [("DirectoryId", d.as_str())];
    let defaults = settings_snapshot(&s, &k, &d).await;
    assert_eq!(
        defaults,
        json!({
            "GetPasswordPolicy": {
                "MinPasswordLength": 8, "MinPasswordDifferentChars": 0,
                "PasswordNotContainUsername": false, "MaxPasswordAge": 90,
                "PasswordReusePrevention": 1, "MaxLoginAttempts": 5, "MaxPasswordLength": 32,
                "HardExpire": false, "RequireLowerCaseChars": true,
                "RequireUpperCaseChars": true, "RequireNumbers": true, "RequireSymbols": true,
            },
            "GetMFAAuthenticationStatus": "Enabled",
            "GetMFAAuthenticationSettingInfo": {
                "MfaAuthenticationAdvanceSettings": "Enabled",
                "AllowedVerificationTypes": ["TOTP"],
            },
            "GetLoginPreference": {"LoginNetworkMasks": "", "AllowUserToGetCredentials": false, "CliRefreshTokenDuration": 604800},
            "GetAttributePassingSetting": {"SourceIdentityPassing": "Disabled"},
        })
    );
    let sets: [(&str, &[(&str, &str)]); 6] = [
        (
            "SetPasswordPolicy",
            &[
                ("MinPasswordLength", "12"),
                ("MinPasswordDifferentChars", "6"),
                ("PasswordNotContainUsername", "true"),
                ("MaxPasswordAge", "30"),
                ("PasswordReusePrevention", "24"),
                ("MaxLoginAttempts", "0"),
            ],
        ),
        (
            "SetMFAAuthenticationStatus",
            &[("MFAAuthenticationStatus", "Disabled")],
        ),
        (
            "UpdateMFAAuthenticationSettings",
            &[
                ("MFAAuthenticationSettings", "OnlyRiskyLogin"),
                ("OperationForRiskLogin", "EnforceVerify"),
                ("AllowedVerificationTypes", r#"["TOTP"]"#),
            ],
        ),
        (
            "SetLoginPreference",
            &[
                ("LoginNetworkMasks", "10.0.0.0/8;192.168.1.7"),
                ("AllowUserToGetCredentials", "true"),
            ],
        ),
        (
            "UpdateAttributePassingSetting",
            &[("SourceIdentityPassing", "UserName")],
        ),
        ("EnableService", &[]),
    ];
    for (op, params) in sets {
        let mut all = if op == "EnableService" {
            vec![]
        } else {
            dir.to_vec()
        };
        all.extend_from_slice(params);
        s.api_ok(&k, SSO, op, &all).await;
    }
    let mut want = defaults.clone();
    want["GetPasswordPolicy"].as_object_mut().unwrap().extend(
        json!({"MinPasswordLength": 12, "MinPasswordDifferentChars": 6,
               "PasswordNotContainUsername": true, "MaxPasswordAge": 30,
               "PasswordReusePrevention": 24, "MaxLoginAttempts": 0})
        .as_object()
        .unwrap()
        .clone(),
    );
    want["GetMFAAuthenticationStatus"] = json!("Disabled");
    want["GetMFAAuthenticationSettingInfo"] = json!({
        "MfaAuthenticationAdvanceSettings": "OnlyRiskyLogin",
        "OperationForRiskLogin": "EnforceVerify",
        "AllowedVerificationTypes": ["TOTP"],
    });
    want["GetLoginPreference"] = json!({"LoginNetworkMasks": "10.0.0.0/8;192.168.1.7", "AllowUserToGetCredentials": true, "CliRefreshTokenDuration": 604800});
    want["GetAttributePassingSetting"] = json!({"SourceIdentityPassing": "UserName"});
    assert_eq!(settings_snapshot(&s, &k, &d).await, want);
    let older = s
        .api_ok(&k, SSO, "GetMFAAuthenticationSettings", &dir)
        .await;
    assert_eq!(older["MFAAuthenticationAdvanceSettings"], "OnlyRiskyLogin");

    // A partial SetPasswordPolicy keeps what it does not name.
    s.api_ok(
        &k,
        SSO,
        "SetPasswordPolicy",
        &[dir[0], ("MaxPasswordAge", "120")],
    )
    .await;
    let p = s.api_ok(&k, SSO, "GetPasswordPolicy", &dir).await;
    assert_eq!(
        (
            &p["PasswordPolicy"]["MaxPasswordAge"],
            &p["PasswordPolicy"]["MinPasswordLength"]
        ),
        (&json!(120), &json!(12))
    );
    // Enabled drops the risky-login operation.
    s.api_ok(
        &k,
        SSO,
        "UpdateMFAAuthenticationSettings",
        &[dir[0], ("MFAAuthenticationSettings", "Enabled")],
    )
    .await;
    let info = s
        .api_ok(&k, SSO, "GetMFAAuthenticationSettingInfo", &dir)
        .await;
    assert_eq!(
        info["MFAAuthenticationSettingInfo"],
        json!({"MfaAuthenticationAdvanceSettings": "Enabled", "AllowedVerificationTypes": ["TOTP"]})
    );
}

#[tokio::test]
async fn every_range_and_value_is_checked_and_a_refusal_changes_nothing() {
    let s = Server::start();
    let (k, d) = (s.admin_key(), s.directory_id.clone());
    let ok_then_bad: &[(&str, &str, &str, &str)] = &[
        // (operation, parameter, accepted at the edge, refused just past it)
        ("SetPasswordPolicy", "MinPasswordLength", "8", "7"),
        ("SetPasswordPolicy", "MinPasswordLength", "32", "33"),
        ("SetPasswordPolicy", "MinPasswordDifferentChars", "0", "-1"),
        ("SetPasswordPolicy", "MaxPasswordAge", "1", "0"),
        ("SetPasswordPolicy", "MaxPasswordAge", "120", "121"),
        ("SetPasswordPolicy", "PasswordReusePrevention", "0", "-1"),
        ("SetPasswordPolicy", "PasswordReusePrevention", "24", "25"),
        ("SetPasswordPolicy", "MaxLoginAttempts", "0", "-1"),
        ("SetPasswordPolicy", "MaxLoginAttempts", "32", "33"),
        ("SetPasswordPolicy", "MaxLoginAttempts", "5", "five"),
        (
            "SetPasswordPolicy",
            "PasswordNotContainUsername",
            "false",
            "maybe",
        ),
        (
            "SetMFAAuthenticationStatus",
            "MFAAuthenticationStatus",
            "Enabled",
            "enabled",
        ),
        (
            "UpdateMFAAuthenticationSettings",
            "MFAAuthenticationSettings",
            "Byuser",
            "ByUser",
        ),
        (
            "UpdateAttributePassingSetting",
            "SourceIdentityPassing",
            "IdP",
            "Email",
        ),
        (
            "SetLoginPreference",
            "AllowUserToGetCredentials",
            "false",
            "yes",
        ),
        (
            "SetLoginPreference",
            "LoginNetworkMasks",
            "1.2.3.4/32",
            "1.2.3.4/33",
        ),
        (
            "SetLoginPreference",
            "LoginNetworkMasks",
            "1.2.3.4",
            "1.2.3.256",
        ),
        (
            "SetLoginPreference",
            "LoginNetworkMasks",
            "1.2.3.0/24",
            "2001:db8::/32",
        ),
        (
            "SetLoginPreference",
            "LoginNetworkMasks",
            "1.2.3.4;5.6.7.8",
            "1.2.3.4,5.6.7.8",
        ),
    ];
    let mut failures = Vec::new();
    for (op, param, good, bad) in ok_then_bad {
        let dir = ("DirectoryId", d.as_str());
        let r = s.api(&k, SSO, op, &[dir, (param, good)]).await;
        if r.status != StatusCode::OK {
            failures.push(format!("{op} {param}={good}: {}", r.body));
        }
        let before = settings_snapshot(&s, &k, &d).await;
        let r = s.api(&k, SSO, op, &[dir, (param, bad)]).await;
        if let Some(m) = fault_mismatch(&r, 400, &format!("InvalidParameter.{param}")) {
            failures.push(format!("{op} {param}={bad}: {m}"));
        }
        if settings_snapshot(&s, &k, &d).await != before {
            failures.push(format!(
                "{op} {param}={bad}: the refused call changed something"
            ));
        }
    }
    // MinPasswordDifferentChars is at most MinPasswordLength (given or current).
    let dir = ("DirectoryId", d.as_str());
    let pairs: [(&[(&str, &str)], u16); 4] = [
        (
            &[
                ("MinPasswordLength", "10"),
                ("MinPasswordDifferentChars", "10"),
            ],
            200,
        ),
        (
            &[
                ("MinPasswordLength", "10"),
                ("MinPasswordDifferentChars", "11"),
            ],
            400,
        ),
        (&[("MinPasswordDifferentChars", "11")], 400),
        (&[("MinPasswordLength", "9")], 400),
    ];
    for (params, status) in pairs {
        let mut all = vec![dir];
        all.extend_from_slice(params);
        let r = s.api(&k, SSO, "SetPasswordPolicy", &all).await;
        if r.status.as_u16() != status {
            failures.push(format!("SetPasswordPolicy {params:?}: {}", r.body));
        }
    }
    // The risky-login operation goes with Byuser and OnlyRiskyLogin only; TOTP only.
    let mfa: [Case; 4] = [
        (
            &[
                ("MFAAuthenticationSettings", "Disabled"),
                ("OperationForRiskLogin", "Autonomous"),
            ],
            400,
            "InvalidParameter.OperationForRiskLogin",
        ),
        (
            &[
                ("MFAAuthenticationSettings", "Byuser"),
                ("OperationForRiskLogin", "Sometimes"),
            ],
            400,
            "InvalidParameter.OperationForRiskLogin",
        ),
        (
            &[
                ("MFAAuthenticationSettings", "Byuser"),
                ("AllowedVerificationTypes", r#"["SMS"]"#),
            ],
            400,
            "InvalidParameter.AllowedVerificationTypes",
        ),
        (
            &[("OperationForRiskLogin", "Autonomous")],
            400,
            "MissingParameter.MFAAuthenticationSettings",
        ),
    ];
    for (params, status, code) in mfa {
        let mut all = vec![dir];
        all.extend_from_slice(params);
        let r = s
            .api(&k, SSO, "UpdateMFAAuthenticationSettings", &all)
            .await;
        if let Some(m) = fault_mismatch(&r, status, code) {
            failures.push(format!("UpdateMFAAuthenticationSettings {params:?}: {m}"));
        }
    }
    // Every directory-level operation names an unknown directory.
    for op in [
        "GetPasswordPolicy",
        "SetPasswordPolicy",
        "GetMFAAuthenticationStatus",
        "GetMFAAuthenticationSettings",
        "GetMFAAuthenticationSettingInfo",
        "GetLoginPreference",
        "SetLoginPreference",
        "GetAttributePassingSetting",
        "UpdateAttributePassingSetting",
    ] {
        let r = s.api(&k, SSO, op, &[("DirectoryId", "d-nothere")]).await;
        if let Some(m) = fault_mismatch(&r, 404, "EntityNotExists.Directory") {
            failures.push(format!("{op} of an unknown directory: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn login_network_masks_limit_clear_and_keep() {
    let s = Server::start();
    let (k, d) = (s.admin_key(), s.directory_id.clone());
    let dir = ("DirectoryId", d.as_str());
    let masks = |n: usize| {
        (0..n)
            .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
            .collect::<Vec<_>>()
            .join(";")
    };
    let get = || async {
        s.api_ok(&k, SSO, "GetLoginPreference", &[dir]).await["LoginPreference"].clone()
    };
    let hundred = masks(100);
    s.api_ok(
        &k,
        SSO,
        "SetLoginPreference",
        &[dir, ("LoginNetworkMasks", &hundred)],
    )
    .await;
    assert_eq!(get().await["LoginNetworkMasks"], hundred.as_str());
    let r = s
        .api(
            &k,
            SSO,
            "SetLoginPreference",
            &[dir, ("LoginNetworkMasks", &masks(101))],
        )
        .await;
    assert_fault(&r, 400, "InvalidParameter.LoginNetworkMasks");
    assert!(
        r.body["Message"].as_str().unwrap().contains("at most 100"),
        "{}",
        r.body
    );
    assert_eq!(get().await["LoginNetworkMasks"], hundred.as_str());
    // Absent keeps the masks; credentials alone change.
    s.api_ok(
        &k,
        SSO,
        "SetLoginPreference",
        &[dir, ("AllowUserToGetCredentials", "true")],
    )
    .await;
    assert_eq!(
        get().await,
        json!({"LoginNetworkMasks": hundred, "AllowUserToGetCredentials": true, "CliRefreshTokenDuration": 604800})
    );
    // A lone `;` clears; absent credentials keep theirs.
    s.api_ok(
        &k,
        SSO,
        "SetLoginPreference",
        &[dir, ("LoginNetworkMasks", ";")],
    )
    .await;
    assert_eq!(
        get().await,
        json!({"LoginNetworkMasks": "", "AllowUserToGetCredentials": true, "CliRefreshTokenDuration": 604800})
    );
}

#[tokio::test]
async fn reset_user_password_follows_the_policy_and_never_stores_it_in_clear() {
    let s = Server::start();
    let (k, d) = (s.admin_key(), s.directory_id.clone());
    let u = new_user(&s, &k, &d, "alice").await;
    let who = [("DirectoryId", d.as_str()), ("UserId", u.as_str())];
    s.api_ok(
        &k,
        SSO,
        "SetPasswordPolicy",
        &[
            who[0],
            ("MinPasswordLength", "14"),
            ("PasswordNotContainUsername", "true"),
        ],
    )
    .await;
    let refusals: [Case; 7] = [
        (
            &[("Password", "Aa1!bcdefghi")],
            400,
            "InvalidParameter.Password",
        ),
        (&[("Password", "Aa1!bcdefghijklm")], 200, ""),
        (
            &[("Password", "aa1!bcdefghijklm")],
            400,
            "InvalidParameter.Password",
        ),
        (
            &[("Password", "Aa1!xALICExyzwvu")],
            400,
            "InvalidParameter.Password",
        ),
        (&[], 400, "MissingParameter.Password"),
        (
            &[
                ("GenerateRandomPassword", "true"),
                ("Password", "Aa1!bcdefghijklm"),
            ],
            400,
            "InvalidParameter.Password",
        ),
        (
            &[
                ("GenerateRandomPassword", "False"),
                ("Password", "Aa1!bcdefghijklm"),
                ("RequirePasswordResetForNextLogin", "true"),
            ],
            200,
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (params, status, code) in refusals {
        let mut all = who.to_vec();
        all.extend_from_slice(params);
        let r = s.api(&k, SSO, "ResetUserPassword", &all).await;
        let wrong = if status == 200 {
            (r.status != StatusCode::OK || r.body.get("NewPassword").is_some())
                .then(|| r.body.to_string())
        } else {
            fault_mismatch(&r, status, code)
        };
        if let Some(m) = wrong {
            failures.push(format!("{params:?}: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let mut generated = Vec::new();
    for _ in 0..3 {
        let r = s
            .api_ok(
                &k,
                SSO,
                "ResetUserPassword",
                &[who[0], who[1], ("GenerateRandomPassword", "true")],
            )
            .await;
        let pw = r["NewPassword"].as_str().unwrap().to_owned();
        let policy = cloudsso::signin::settings::PasswordPolicy {
            min_length: 14,
            not_contain_username: true,
            ..Default::default()
        };
        assert_eq!(
            cloudsso::signin::password::check_new_password(&policy, &pw, "alice"),
            Ok(()),
            "{pw}"
        );
        assert!(!generated.contains(&pw), "the same password twice");
        generated.push(pw);
    }
    let r = s
        .api(
            &k,
            SSO,
            "ResetUserPassword",
            &[
                who[0],
                ("UserId", "u-nothere"),
                ("GenerateRandomPassword", "true"),
            ],
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.User");
    let r = s
        .api(
            &k,
            SSO,
            "ResetUserPassword",
            &[
                ("DirectoryId", "d-nothere"),
                who[1],
                ("GenerateRandomPassword", "true"),
            ],
        )
        .await;
    assert_fault(&r, 404, "EntityNotExists.Directory");

    let data = s.data.clone();
    let (stopped, _tmp) = s.stop_keep();
    assert!(stopped);
    let db = std::fs::read(data.join("cloudsso.redb")).unwrap();
    for pw in generated
        .iter()
        .map(String::as_str)
        .chain(["Aa1!bcdefghijklm"])
    {
        assert!(
            !db.windows(pw.len()).any(|w| w == pw.as_bytes()),
            "`{pw}` is in the database in plain text"
        );
    }
}

#[tokio::test]
async fn disable_service_is_a_sign_in_kill_switch_that_survives_a_restart() {
    let s = Server::start();
    let k = s.admin_key();
    let status = |b: Value| b["ServiceStatus"].clone();
    let first = status(s.api_ok(&k, SSO, "GetServiceStatus", &[]).await);
    assert_eq!(first["Status"], "Enabled", "{first}");
    assert_eq!(
        first["RegionsInUse"].as_array().unwrap().len(),
        1,
        "{first}"
    );
    assert!(
        first["AccountId"].as_str().is_some_and(|a| !a.is_empty()),
        "{first}"
    );
    assert!(first.get("PrerequisiteCheckResult").is_none(), "{first}");
    s.api_ok(&k, SSO, "DisableService", &[]).await;
    let off = status(s.api_ok(&k, SSO, "GetServiceStatus", &[]).await);
    assert_eq!(
        (&off["Status"], &off["PrerequisiteCheckResult"]),
        (&json!("Disabled"), &json!("Success"))
    );
    // The management API and SCIM keep working while directories exist.
    s.api_ok(&k, SSO, "ListDirectories", &[]).await;
    assert_eq!(s.scim_status(&s.token).await, StatusCode::OK);

    let data = s.data.clone();
    let (stopped, _tmp) = s.stop_keep();
    assert!(stopped);
    let s = Server::start_on(&data, &[]);
    let after = status(s.api_ok(&k, SSO, "GetServiceStatus", &[]).await);
    assert_eq!(after["Status"], "Disabled", "{after}");
    s.api_ok(&k, SSO, "EnableService", &[]).await;
    let on = status(s.api_ok(&k, SSO, "GetServiceStatus", &[]).await);
    assert_eq!(on["Status"], "Enabled", "{on}");
    s.stop();
}

#[tokio::test]
async fn per_user_mfa_and_unknown_users() {
    let s = Server::start();
    let (k, d) = (s.admin_key(), s.directory_id.clone());
    let u = new_user(&s, &k, &d, "bob").await;
    let who = [("DirectoryId", d.as_str()), ("UserId", u.as_str())];
    let get = || async {
        s.api_ok(&k, SSO, "GetUserMFAAuthenticationSettings", &who)
            .await["UserMFAAuthenticationSettings"]
            .clone()
    };
    assert_eq!(get().await, "Enabled");
    for v in ["Disabled", "Enabled", "Disabled"] {
        s.api_ok(
            &k,
            SSO,
            "UpdateUserMFAAuthenticationSettings",
            &[who[0], who[1], ("UserMFAAuthenticationSettings", v)],
        )
        .await;
        assert_eq!(get().await, v);
    }
    let r = s
        .api(
            &k,
            SSO,
            "UpdateUserMFAAuthenticationSettings",
            &[who[0], who[1], ("UserMFAAuthenticationSettings", "On")],
        )
        .await;
    assert_fault(&r, 400, "InvalidParameter.UserMFAAuthenticationSettings");
    assert_eq!(get().await, "Disabled");
    let listed = s.api_ok(&k, SSO, "ListMFADevicesForUser", &who).await;
    assert_eq!(
        (&listed["TotalCounts"], &listed["MFADevices"]),
        (&json!(0), &json!([]))
    );
    let nobody = [who[0], ("UserId", "u-nothere")];
    for (op, extra) in [
        ("GetUserMFAAuthenticationSettings", None),
        (
            "UpdateUserMFAAuthenticationSettings",
            Some(("UserMFAAuthenticationSettings", "Enabled")),
        ),
        ("ListMFADevicesForUser", None),
        ("DeleteMFADeviceForUser", Some(("MFADeviceId", "mfa-1"))),
    ] {
        let mut all = nobody.to_vec();
        all.extend(extra);
        let r = s.api(&k, SSO, op, &all).await;
        assert_fault(&r, 404, "EntityNotExists.User");
    }
}

#[tokio::test]
async fn a_read_only_administrator_reads_settings_and_changes_none() {
    let s = Server::start();
    let (k, d) = (s.admin_key(), s.directory_id.clone());
    let u = new_user(&s, &k, &d, "carol").await;
    s.api_ok(&k, RAM, "CreateUser", &[("UserName", "reader")])
        .await;
    s.api_ok(
        &k,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "reader"),
            ("PolicyName", "AliyunCloudSSOReadOnlyAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await;
    let key = s
        .api_ok(&k, RAM, "CreateAccessKey", &[("UserName", "reader")])
        .await;
    let reader = Key {
        id: key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
        secret: key["AccessKey"]["AccessKeySecret"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let (dir, user) = (("DirectoryId", d.as_str()), ("UserId", u.as_str()));
    let reads: [(&str, Vec<(&str, &str)>); 9] = [
        ("GetServiceStatus", vec![]),
        ("GetPasswordPolicy", vec![dir]),
        ("GetMFAAuthenticationStatus", vec![dir]),
        ("GetMFAAuthenticationSettings", vec![dir]),
        ("GetMFAAuthenticationSettingInfo", vec![dir]),
        ("GetUserMFAAuthenticationSettings", vec![dir, user]),
        ("ListMFADevicesForUser", vec![dir, user]),
        ("GetAttributePassingSetting", vec![dir]),
        ("GetLoginPreference", vec![dir]),
    ];
    for (op, params) in &reads {
        s.api_ok(&reader, SSO, op, params).await;
    }
    let writes: [(&str, Vec<(&str, &str)>); 10] = [
        ("EnableService", vec![]),
        ("DisableService", vec![]),
        (
            "ResetUserPassword",
            vec![dir, user, ("GenerateRandomPassword", "true")],
        ),
        ("SetPasswordPolicy", vec![dir, ("MaxPasswordAge", "10")]),
        (
            "SetMFAAuthenticationStatus",
            vec![dir, ("MFAAuthenticationStatus", "Disabled")],
        ),
        (
            "UpdateMFAAuthenticationSettings",
            vec![dir, ("MFAAuthenticationSettings", "Disabled")],
        ),
        (
            "UpdateUserMFAAuthenticationSettings",
            vec![dir, user, ("UserMFAAuthenticationSettings", "Disabled")],
        ),
        (
            "DeleteMFADeviceForUser",
            vec![dir, user, ("MFADeviceId", "mfa-1")],
        ),
        (
            "UpdateAttributePassingSetting",
            vec![dir, ("SourceIdentityPassing", "IdP")],
        ),
        (
            "SetLoginPreference",
            vec![dir, ("LoginNetworkMasks", "10.0.0.1")],
        ),
    ];
    let before = settings_snapshot(&s, &k, &d).await;
    let mut failures = Vec::new();
    for (op, params) in &writes {
        let r = s.api(&reader, SSO, op, params).await;
        if let Some(m) = fault_mismatch(&r, 403, "NoPermission") {
            failures.push(format!("{op}: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(settings_snapshot(&s, &k, &d).await, before);
    let svc = s.api_ok(&k, SSO, "GetServiceStatus", &[]).await;
    assert_eq!(svc["ServiceStatus"]["Status"], "Enabled");
}

/// MFA devices and the SSO switch are written by other parts of sign-in (enrollment, the
/// SAML settings); these tests write them through the store, so they run the API in-process
/// (`LibApi`: the same signed requests, authorization and handlers, without the socket).
mod in_process {
    use super::*;
    use cloudsso::model::DirectoryId;
    use cloudsso::signin::state::MfaDevice;
    use cloudsso::store::keys::MfaDeviceKey;

    const V: &str = SSO;

    async fn put_device(api: &LibApi, user: &str, id: &str, name: &str) {
        let (d, u) = (api.directory_id.clone(), user.to_owned());
        let device = MfaDevice {
            id: id.to_owned(),
            name: name.to_owned(),
            secret_sealed: "sealed".into(),
            effective_time: "2026-12-01T10:00:00.123Z".into(),
        };
        api.app
            .db
            .write(move |txn| {
                let key = MfaDeviceKey {
                    dir: &d,
                    user: &u,
                    device: &device.id,
                };
                Ok::<_, cloudsso::error::DomainError>(txn.put(key, &device)?)
            })
            .await
            .unwrap();
    }

    async fn user(api: &LibApi, name: &str) -> String {
        let (status, body) = api
            .call(
                V,
                "CreateUser",
                &[("DirectoryId", &api.directory_id), ("UserName", name)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["User"]["UserId"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn devices_are_listed_and_deleted() {
        let api = LibApi::start().await;
        let (a, b) = (user(&api, "dana").await, user(&api, "eve").await);
        put_device(&api, &a, "mfa-1", "phone").await;
        put_device(&api, &a, "mfa-2", "tablet").await;
        put_device(&api, &b, "mfa-3", "eve's phone").await;
        let d = api.directory_id.clone();
        let list = |u: String| {
            let d = d.clone();
            let api = &api;
            async move {
                let (status, body) = api
                    .call(
                        V,
                        "ListMFADevicesForUser",
                        &[("DirectoryId", &d), ("UserId", &u)],
                    )
                    .await;
                assert_eq!(status, 200, "{body}");
                body
            }
        };
        let got = list(a.clone()).await;
        assert_eq!(got["TotalCounts"], 2, "{got}");
        assert_eq!(
            got["MFADevices"],
            json!([
                {"DeviceId": "mfa-1", "DeviceName": "phone", "DeviceType": "TOTP",
                 "EffectiveTime": "2026-12-01T10:00:00Z", "UserId": a},
                {"DeviceId": "mfa-2", "DeviceName": "tablet", "DeviceType": "TOTP",
                 "EffectiveTime": "2026-12-01T10:00:00Z", "UserId": a},
            ])
        );
        assert!(!got.to_string().contains("sealed"), "{got}");
        let delete = |u: &str, device: &str| {
            let params = [
                ("DirectoryId", d.as_str()),
                ("UserId", u),
                ("MFADeviceId", device),
            ];
            let params: Vec<(String, String)> = params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let api = &api;
            async move {
                let p: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                api.call(V, "DeleteMFADeviceForUser", &p).await
            }
        };
        // Another user's device is not this user's.
        let (status, body) = delete(&a, "mfa-3").await;
        assert_eq!(
            (status, &body["Code"]),
            (404, &json!("EntityNotExists.MFADevice")),
            "{body}"
        );
        let (status, body) = delete(&a, "mfa-1").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = delete(&a, "mfa-1").await;
        assert_eq!(
            (status, &body["Code"]),
            (404, &json!("EntityNotExists.MFADevice")),
            "{body}"
        );
        let got = list(a.clone()).await;
        assert_eq!(
            (&got["TotalCounts"], &got["MFADevices"][0]["DeviceId"]),
            (&json!(1), &json!("mfa-2"))
        );
        assert_eq!(list(b.clone()).await["TotalCounts"], 1);
    }

    #[tokio::test]
    async fn reset_user_password_is_refused_while_sso_logon_is_enabled() {
        let api = LibApi::start().await;
        let u = user(&api, "frank").await;
        let d = api.directory_id.clone();
        let reset = [
            ("DirectoryId", d.as_str()),
            ("UserId", u.as_str()),
            ("GenerateRandomPassword", "true"),
        ];
        let dir = DirectoryId::new(d.as_str());
        let sso = |on: bool| {
            let signin = api.app.signin.clone();
            let dir = dir.clone();
            async move {
                signin
                    .update_settings(&dir, move |s| {
                        s.sso_enabled = on;
                        Ok(())
                    })
                    .await
                    .unwrap();
            }
        };
        sso(true).await;
        let (status, body) = api.call(V, "ResetUserPassword", &reset).await;
        assert_eq!(
            (status, &body["Code"]),
            (409, &json!("OperationConflict.SSOLogonEnabled")),
            "{body}"
        );
        assert!(body.get("NewPassword").is_none(), "{body}");
        sso(false).await;
        let (status, body) = api.call(V, "ResetUserPassword", &reset).await;
        assert_eq!(status, 200, "{body}");
        let pw = body["NewPassword"].as_str().unwrap();
        // The password set is the one answered, and it is a hash on disk.
        let (d2, u2) = (d.clone(), u.clone());
        let phc = api
            .app
            .db
            .read(move |txn| Ok::<_, cloudsso::error::DomainError>(txn.password_hash(&d2, &u2)?))
            .await
            .unwrap()
            .unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(cloudsso::signin::password::matches(&phc, pw));
        assert!(!cloudsso::signin::password::matches(
            &phc,
            "Aa1!bcdefghijklm"
        ));
    }
}
