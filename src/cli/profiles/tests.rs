use super::*;

const URL: &str = "http://h:1/default/login";

fn pair(account_id: &str, account: &str, config_id: &str, config: &str) -> Pair {
    Pair {
        account: Account {
            id: account_id.into(),
            name: account.into(),
        },
        configuration: Configuration {
            id: config_id.into(),
            name: config.into(),
        },
    }
}

fn token(access_token: &str) -> AliyunToken<'_> {
    AliyunToken {
        sign_in_url: URL,
        access_token,
        expires_at: 1_800_000_000,
    }
}

#[test]
fn names_are_stable_readable_and_unique() {
    let pairs = [
        pair("1001", "prod", "ac-1", "Admin"),
        pair("1001", "prod", "ac-2", "ReadOnly"),
        pair("1002", "dev team", "ac-1", "Admin"),
        pair("1003", "shared", "ac-1", "Admin"),
        pair("1004", "shared", "ac-1", "Admin"),
        pair("1005", "  ", "ac-9", ""),
        pair("1006", "a/b]c", "ac-1", "x=y"),
    ];
    assert_eq!(
        names(&pairs),
        [
            "prod.Admin",
            "prod.ReadOnly",
            "dev-team.Admin",
            "shared-1003.Admin",
            "shared-1004.Admin",
            "1005.ac-9",
            "a-b-c.x-y",
        ]
    );
    let all = names(&pairs);
    for (i, n) in all.iter().enumerate() {
        assert!(!all[i + 1..].contains(n), "{n} twice");
    }
}

fn aliyun_doc(profiles: Value) -> Value {
    json!({"current": "mine", "profiles": profiles, "meta_path": ""})
}

#[test]
fn aliyun_merge_keeps_others_and_replaces_only_its_own() {
    let p = pair("1001", "prod", "ac-1", "Admin");
    let want = |name: &str| aliyun_profile(name, &p, token("at-new"), "cn-shanghai");
    let mine = json!({"name": "mine", "mode": "AK", "access_key_id": "LTAI", "extra": 1});
    let same_name_not_ours = json!({"name": "taken", "mode": "AK"});
    let old_ours = |name: &str| {
        json!({"name": name, "mode": "CloudSSO",
        "cloud_sso_sign_in_url": URL, "access_token": "at-old"})
    };
    let other_url = json!({"name": "gone.Admin", "mode": "CloudSSO",
        "cloud_sso_sign_in_url": "http://other/d/login"});
    // (existing doc, wanted names, previous names) -> (profile names after, written, skipped)
    for (existing, wanted, previous, after, written, skipped) in [
        (
            None,
            vec!["prod.Admin"],
            vec![],
            vec!["prod.Admin"],
            vec!["prod.Admin"],
            vec![],
        ),
        (
            Some(aliyun_doc(json!([mine.clone(), old_ours("prod.Admin")]))),
            vec!["prod.Admin"],
            vec!["prod.Admin"],
            vec!["mine", "prod.Admin"],
            vec!["prod.Admin"],
            vec![],
        ),
        // A profile written before and no longer wanted goes; a same-named stranger stays.
        (
            Some(aliyun_doc(json!([
                old_ours("old.Admin"),
                mine.clone(),
                same_name_not_ours.clone()
            ]))),
            vec!["prod.Admin", "taken"],
            vec!["old.Admin"],
            vec!["mine", "taken", "prod.Admin"],
            vec!["prod.Admin"],
            vec!["taken"],
        ),
        // Another sign-in URL's profile is not ours, even when listed as previous.
        (
            Some(aliyun_doc(json!([other_url.clone(), mine.clone()]))),
            vec![],
            vec!["gone.Admin"],
            vec!["gone.Admin", "mine"],
            vec![],
            vec![],
        ),
        // Not listed as previous: kept even though it looks like ours.
        (
            Some(aliyun_doc(json!([old_ours("hand.Made")]))),
            vec![],
            vec![],
            vec!["hand.Made"],
            vec![],
            vec![],
        ),
    ] {
        let previous: Vec<String> = previous.into_iter().map(str::to_owned).collect();
        let wanted_docs = wanted.iter().map(|n| want(n)).collect();
        let m = merge_aliyun(existing.clone(), "f", wanted_docs, &previous, URL).unwrap();
        let got: Vec<&str> = m.doc["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(got, after, "{existing:?}");
        assert_eq!(m.written, written, "{existing:?}");
        assert_eq!(m.skipped, skipped, "{existing:?}");
        // Unknown fields and the current profile survive.
        if let Some(e) = &existing {
            assert_eq!(m.doc["current"], e["current"]);
            assert_eq!(m.doc["meta_path"], "");
            if got.contains(&"mine") {
                let kept = m.doc["profiles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["name"] == "mine")
                    .unwrap();
                assert_eq!(kept, &mine);
            }
        }
    }
}

#[test]
fn a_new_aliyun_file_gets_a_current_profile_with_the_fields_the_clients_read() {
    let p = pair("1001", "prod", "ac-1", "Admin");
    let doc = aliyun_profile("prod.Admin", &p, token("at"), "cn-hangzhou");
    let m = merge_aliyun(None, "f", vec![doc], &[], URL).unwrap();
    assert_eq!(m.doc["current"], "prod.Admin");
    let profile = &m.doc["profiles"][0];
    for (field, value) in [
        ("mode", json!("CloudSSO")),
        ("cloud_sso_sign_in_url", json!(URL)),
        ("access_token", json!("at")),
        ("cloud_sso_access_token_expire", json!(1_800_000_000)),
        ("cloud_sso_account_id", json!("1001")),
        ("cloud_sso_access_config", json!("ac-1")),
        ("region_id", json!("cn-hangzhou")),
    ] {
        assert_eq!(profile[field], value, "{field}");
    }
    for bad in [json!([]), json!({"profiles": {}})] {
        let e = merge_aliyun(Some(bad), "f", vec![], &[], URL).unwrap_err();
        assert!(
            e.to_string().starts_with("`f` is not an aliyun config"),
            "{e}"
        );
    }
}

#[test]
fn aliyun_refresh_touches_only_its_own_profiles() {
    let ours = json!({"name": "prod.Admin", "mode": "CloudSSO", "cloud_sso_sign_in_url": URL,
                      "access_token": "old", "cloud_sso_access_token_expire": 1});
    let not_listed = json!({"name": "hand.Made", "mode": "CloudSSO",
                            "cloud_sso_sign_in_url": URL, "access_token": "old"});
    let reconfigured = json!({"name": "dev.Admin", "mode": "AK", "access_token": "old"});
    let mut doc = aliyun_doc(json!([ours, not_listed, reconfigured]));
    let names = vec!["prod.Admin".to_owned(), "dev.Admin".to_owned()];
    assert!(refresh_aliyun(&mut doc, &names, token("new")));
    let tokens: Vec<&str> = doc["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["access_token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["new", "old", "old"]);
    assert_eq!(
        doc["profiles"][0]["cloud_sso_access_token_expire"],
        1_800_000_000
    );
    assert!(!refresh_aliyun(&mut json!({}), &names, token("new")));
}

#[test]
fn ini_round_trips_and_edits_sections_in_place() {
    for (text, rendered) in [
        ("", ""),
        ("[default]\nregion = x\n", "[default]\nregion = x\n"),
        (
            "# top\n[default]\nregion = x\n\n\n[ profile  a ]\n  nested = 1\n",
            "# top\n\n[default]\nregion = x\n\n[profile a]\n  nested = 1\n",
        ),
        ("no sections\n", "no sections\n"),
    ] {
        assert_eq!(Ini::parse(text).render(), rendered, "{text:?}");
        // Rendering is a fixed point.
        assert_eq!(Ini::parse(rendered).render(), rendered, "{rendered:?}");
    }
    let mut ini =
        Ini::parse("[a]\nk = 1\n[b]\nk = 2\n; c\nsso_session=cloudsso\n  sso_session = no\n");
    assert_eq!(ini.value("b", "sso_session"), Some("cloudsso"));
    assert_eq!(ini.value("a", "sso_session"), None);
    assert_eq!(ini.value("c", "k"), None);
    ini.set("a", vec!["k = 3".into()]);
    ini.set("z", vec!["k = 4".into()]);
    ini.remove("b");
    assert_eq!(ini.render(), "[a]\nk = 3\n\n[z]\nk = 4\n");
}

#[test]
fn aws_merge_writes_the_session_services_and_profiles_and_keeps_the_rest() {
    let session = AwsSession {
        sign_in_url: URL,
        origin: "http://h:1",
        region: "cn-shanghai",
    };
    let admin = pair("1001", "prod", "ac-1", "Admin");
    let ro = pair("1001", "prod", "ac-2", "ReadOnly");
    let existing = "\
# my settings
[default]
region = us-east-1

[profile prod.Admin]
sso_session = cloudsso
sso_account_id = 1001
sso_role_name = Old

[profile old.Gone]
sso_session = cloudsso

[profile taken]
region = eu-west-1

[sso-session cloudsso]
sso_start_url = http://stale/x/login
";
    let wanted = vec![
        ("prod.Admin".to_owned(), &admin),
        ("prod.ReadOnly".to_owned(), &ro),
        ("taken".to_owned(), &admin),
    ];
    let previous = vec!["prod.Admin".to_owned(), "old.Gone".to_owned()];
    let m = merge_aws(existing, session, &wanted, &previous);
    assert_eq!(m.written, ["prod.Admin", "prod.ReadOnly"]);
    assert_eq!(m.skipped, ["taken"]);
    let expected = "\
# my settings

[default]
region = us-east-1

[profile prod.Admin]
sso_session = cloudsso
sso_account_id = 1001
sso_role_name = Admin
region = cn-shanghai
services = cloudsso

[profile taken]
region = eu-west-1

[sso-session cloudsso]
sso_start_url = http://h:1/default/login
sso_region = cn-shanghai
sso_registration_scopes = sso:account:access

[services cloudsso]
sso_oidc =
  endpoint_url = http://h:1
sso =
  endpoint_url = http://h:1
sts =
  endpoint_url = http://h:1

[profile prod.ReadOnly]
sso_session = cloudsso
sso_account_id = 1001
sso_role_name = ReadOnly
region = cn-shanghai
services = cloudsso
";
    assert_eq!(m.doc, expected);
    // Populating again with the same answer changes nothing.
    let again = merge_aws(&m.doc, session, &wanted, &m.written);
    assert_eq!(again.doc, expected);
    // Into an empty file.
    let fresh = merge_aws("", session, &wanted[..1], &[]);
    assert!(
        fresh.doc.starts_with("[sso-session cloudsso]\n"),
        "{}",
        fresh.doc
    );
    assert!(
        fresh
            .doc
            .contains("\n[profile prod.Admin]\nsso_session = cloudsso\n")
    );
}
