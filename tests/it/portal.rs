//! Issue 11, points 2 to 4 over HTTP: password sign-in of a SCIM user, TOTP enrollment and
//! codes, the account list, lockout (across a restart), equal answers for every failure,
//! forced password change, CSRF, rate limits, session expiry and revocation (disable, delete,
//! password change, administrators).

use crate::browser::{Browser, Page};
use crate::harness::*;
use crate::signin_totp::{code_at, settled_now};
use hyper::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

const DIR: &str = "default";
pub(crate) const PASSWORD: &str = "Sup3r-secret!";

impl Server {
    /// A user created over SCIM with `PASSWORD`; its id.
    pub(crate) async fn portal_user(&self, name: &str) -> String {
        let r = self
            .post(
                "/Users",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                       "userName": name, "password": PASSWORD, "active": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.id()
    }

    async fn user_status(&self, user: &str, status: &str) {
        let key = self.admin_key();
        self.api_ok(
            &key,
            SSO,
            "UpdateUserStatus",
            &[
                ("DirectoryId", &self.directory_id),
                ("UserId", user),
                ("NewStatus", status),
            ],
        )
        .await;
    }
}

pub(crate) fn at(page: &Page, path: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some(path), "{}", page.html);
}

/// Signs `user` in with `PASSWORD` and enrolls a TOTP device; the device's secret. The browser
/// ends on the account list.
pub(crate) async fn sign_in_and_enroll(b: &mut Browser<'_>, user: &str) -> String {
    let p = b.sign_in(DIR, user, PASSWORD).await;
    at(&p, &format!("/{DIR}/mfa/enroll"));
    let enroll = b.get(&format!("/{DIR}/mfa/enroll")).await;
    assert_eq!(enroll.status, StatusCode::OK, "{}", enroll.html);
    assert!(enroll.html.contains("<svg"), "a QR code is shown");
    let secret = enroll.text_of("secret").unwrap();
    let again = b.get(&format!("/{DIR}/mfa/enroll")).await;
    assert_eq!(
        again.text_of("secret").unwrap(),
        secret,
        "one secret per enrollment"
    );
    let csrf = enroll.hidden("csrf").unwrap();
    let partial_id = b.cookies.get("cloudsso_session").cloned().unwrap();
    let now = settled_now().await;
    let p = b
        .post(
            &format!("/{DIR}/mfa/enroll"),
            &[("csrf", &csrf), ("code", &code_at(&secret, now))],
        )
        .await;
    at(&p, &format!("/{DIR}/portal"));
    let active_id = b.cookies.get("cloudsso_session").cloned().unwrap();
    assert_ne!(
        partial_id, active_id,
        "the session id changes when it becomes active"
    );
    let mut stale = Browser::new(b.srv);
    stale.cookies.insert("cloudsso_session".into(), partial_id);
    at(
        &stale.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/login"),
    );
    secret
}

/// Waits, if need be, until at least `needed` seconds are left in the current minute, the
/// window the sign-in attempt limits count in, so a test's attempts fall in one window.
async fn fresh_minute(needed: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let left = 60 - now.as_secs() % 60;
    if left < needed {
        tokio::time::sleep(Duration::from_secs(left) + Duration::from_millis(200)).await;
    }
}

/// Polls the account list until it names `account` (the engine grants asynchronously).
async fn wait_for_account(b: &mut Browser<'_>, account: &str) -> Page {
    let started = Instant::now();
    loop {
        let p = b.get(&format!("/{DIR}/portal")).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        if p.html.contains(&format!("data-account-id=\"{account}\"")) {
            return p;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{}", p.html);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_scim_user_signs_in_with_totp_and_uses_its_account_list() {
    let srv = Server::start();
    let alice = srv.portal_user("alice").await;
    let s = srv.setup_access("PortalAdmin").await;
    srv.assign(&s, "User", &alice).await;
    let mut b = Browser::new(&srv);
    let secret = sign_in_and_enroll(&mut b, "alice").await;
    let list = wait_for_account(&mut b, &s.account).await;
    assert!(list.html.contains("PortalAdmin"), "{}", list.html);
    assert!(
        list.html
            .contains(&format!("/{DIR}/console/{}/{}", s.account, s.config)),
        "an Open console link per configuration"
    );
    assert_eq!(list.text_of("user-name").as_deref(), Some("alice"));
    // Search: by name part, by id part, and a miss.
    for (q, hit) in [("pro", true), (&s.account[3..9], true), ("zzz", false)] {
        let p = b.get(&format!("/{DIR}/portal?q={}", enc(q))).await;
        assert_eq!(p.html.contains("data-account-id"), hit, "{q}");
    }
    // Favourites are pinned, with the session's CSRF token only.
    let csrf = list.hidden("csrf").unwrap();
    let fav = [
        ("csrf", csrf.as_str()),
        ("account", s.account.as_str()),
        ("on", "1"),
    ];
    at(
        &b.post(&format!("/{DIR}/portal/favourite"), &fav).await,
        &format!("/{DIR}/portal"),
    );
    assert!(
        b.get(&format!("/{DIR}/portal"))
            .await
            .html
            .contains(">favourite<")
    );
    // A pin returns to the list it was made on: its tab, search and page (the form carries
    // them).
    let searched = b.get(&format!("/{DIR}/portal?q=pro")).await;
    assert!(
        searched
            .html
            .contains(r#"<input type="hidden" name="q" value="pro">"#),
        "{}",
        searched.html
    );
    assert_eq!(searched.hidden("page").as_deref(), Some("0"));
    let long = "a".repeat(300);
    let cut = format!("?q={}", &long[..128]);
    for (extra, back) in [
        (vec![("tab", "ram-users")], "?tab=ram-users"),
        (vec![("q", "pro d"), ("page", "2")], "?q=pro%20d&page=2"),
        (vec![("tab", "roles"), ("page", "x")], ""),
        (vec![("q", long.as_str())], cut.as_str()),
    ] {
        let mut form = fav.to_vec();
        form.extend(extra);
        at(
            &b.post(&format!("/{DIR}/portal/favourite"), &form).await,
            &format!("/{DIR}/portal{back}"),
        );
    }
    let forged = [
        ("csrf", "0".repeat(64).leak() as &str),
        ("account", s.account.as_str()),
        ("on", "0"),
    ];
    assert_eq!(
        b.post(&format!("/{DIR}/portal/favourite"), &forged)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The signed-in login page goes to the portal; sign-out ends the session.
    at(
        &b.get(&format!("/{DIR}/login")).await,
        &format!("/{DIR}/portal"),
    );
    let out = b.post(&format!("/{DIR}/logout"), &[("csrf", &csrf)]).await;
    at(&out, &format!("/{DIR}/login"));
    at(
        &b.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/login"),
    );
    // The next sign-in asks for a code (not enrollment); the code used above is refused.
    let p = b.sign_in(DIR, "alice", PASSWORD).await;
    at(&p, &format!("/{DIR}/mfa"));
    let mfa = b.get(&format!("/{DIR}/mfa")).await;
    let csrf = mfa.hidden("csrf").unwrap();
    let now = settled_now().await;
    let wrong = b
        .post(
            &format!("/{DIR}/mfa"),
            &[("csrf", &csrf), ("code", &code_at(&secret, now - 60))],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNAUTHORIZED,
        "an old step is refused"
    );
    tokio::time::sleep(Duration::from_secs(30 - now % 30 + 1)).await;
    let next = settled_now().await;
    let ok = b
        .post(
            &format!("/{DIR}/mfa"),
            &[("csrf", &csrf), ("code", &code_at(&secret, next))],
        )
        .await;
    at(&ok, &format!("/{DIR}/portal"));
    let mut b = Browser::new(&srv);
    let replay = b.sign_in(DIR, "alice", PASSWORD).await;
    at(&replay, &format!("/{DIR}/mfa"));
    let csrf = b.get(&format!("/{DIR}/mfa")).await.hidden("csrf").unwrap();
    let again = b
        .post(
            &format!("/{DIR}/mfa"),
            &[("csrf", &csrf), ("code", &code_at(&secret, next))],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a code is accepted once"
    );
}

#[tokio::test]
async fn every_failure_answers_alike_and_lockout_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let srv = Server::start_on(&data, &[]);
    srv.portal_user("bob").await;
    let carol = srv.portal_user("carol").await;
    srv.user_status(&carol, "Disabled").await;
    let mut b = Browser::new(&srv);
    let wrong = b.sign_in(DIR, "bob", "Wrong-pass1!").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let message = |p: &Page| {
        p.html
            .split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    for (user, pw) in [
        ("nobody", PASSWORD),
        ("carol", PASSWORD),
        ("BOB", "Wrong-pass1!"),
    ] {
        let p = b.sign_in(DIR, user, pw).await;
        assert_eq!(
            (p.status, message(&p)),
            (wrong.status, message(&wrong)),
            "{user}"
        );
    }
    // bob has had 2 failures; the default policy locks after 5.
    for _ in 0..3 {
        assert_eq!(
            b.sign_in(DIR, "bob", "Wrong-pass1!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = b.sign_in(DIR, "bob", PASSWORD).await;
    assert_eq!(
        (locked.status, message(&locked)),
        (wrong.status, message(&wrong)),
        "locked out"
    );
    assert!(srv.stop());
    let srv = Server::start_on(&data, &[]);
    let mut b = Browser::new(&srv);
    let p = b.sign_in(DIR, "bob", PASSWORD).await;
    assert_eq!(
        p.status,
        StatusCode::UNAUTHORIZED,
        "still locked after a restart"
    );
    srv.portal_user("dave").await;
    at(
        &b.sign_in(DIR, "dave", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    assert!(srv.stop());
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let srv = Server::start();
    srv.portal_user("erin").await;
    let mut b = Browser::new(&srv);
    let path = format!("/{DIR}/login");
    let creds = |csrf: &'static str| [("csrf", csrf), ("username", "erin"), ("password", PASSWORD)];
    // No login cookie at all.
    assert_eq!(
        b.post(&path, &creds("x")).await.status,
        StatusCode::FORBIDDEN
    );
    // A cookie, but another token in the form.
    let page = b.get(&path).await;
    assert!(page.hidden("csrf").is_some());
    assert_eq!(
        b.post(&path, &creds("0123")).await.status,
        StatusCode::FORBIDDEN
    );
    // The right token from a cross-site page.
    let csrf = b.get(&path).await.hidden("csrf").unwrap();
    b.extra.push(("sec-fetch-site".into(), "cross-site".into()));
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("username", "erin"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    b.extra.clear();
    // A partial session's form with another token.
    at(
        &b.sign_in(DIR, "erin", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    let p = b
        .post(
            &format!("/{DIR}/mfa/enroll"),
            &[("csrf", "1".repeat(64).leak() as &str), ("code", "123456")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Nothing was accepted: the sign-in still works with the right token.
    let mut fresh = Browser::new(&srv);
    at(
        &fresh.sign_in(DIR, "erin", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
}

#[tokio::test]
async fn sessions_end_on_disable_delete_password_change_and_revocation() {
    let srv = Server::start();
    let key = srv.admin_key();
    let d = srv.directory_id.clone();
    let sessions = |user: String| {
        let (srv, key, d) = (&srv, key.clone(), d.clone());
        async move {
            srv.api_ok(
                &key,
                SSO,
                "ListUserSessions",
                &[("DirectoryId", &d), ("UserId", &user)],
            )
            .await["TotalCounts"]
                .as_u64()
                .unwrap()
        }
    };
    // Disable: the session ends and stays ended after re-enabling.
    let frank = srv.portal_user("frank").await;
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "frank").await;
    assert_eq!(
        b.get(&format!("/{DIR}/portal")).await.status,
        StatusCode::OK
    );
    assert_eq!(sessions(frank.clone()).await, 1);
    srv.user_status(&frank, "Disabled").await;
    at(
        &b.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/login"),
    );
    srv.user_status(&frank, "Enabled").await;
    at(
        &b.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/login"),
    );
    assert_eq!(sessions(frank.clone()).await, 0);
    // A password change over SCIM.
    let grace = srv.portal_user("grace").await;
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "grace", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    let r = srv
        .patch_ops(
            &format!("/Users/{grace}"),
            json!([{"op": "replace", "path": "password", "value": "An0ther-secret!"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    at(
        &b.get(&format!("/{DIR}/mfa/enroll")).await,
        &format!("/{DIR}/login"),
    );
    // Deletion.
    let heidi = srv.portal_user("heidi").await;
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "heidi", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    assert_eq!(
        srv.delete(&format!("/Users/{heidi}")).await.status,
        StatusCode::NO_CONTENT
    );
    at(
        &b.get(&format!("/{DIR}/mfa/enroll")).await,
        &format!("/{DIR}/login"),
    );
    // Administrators list and revoke (one, then all).
    let ivan = srv.portal_user("ivan").await;
    let mut b1 = Browser::new(&srv);
    let mut b2 = Browser::new(&srv);
    b2.user_agent = "second-browser".into();
    at(
        &b1.sign_in(DIR, "ivan", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    at(
        &b2.sign_in(DIR, "ivan", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    let list = srv
        .api_ok(
            &key,
            SSO,
            "ListUserSessions",
            &[("DirectoryId", &d), ("UserId", &ivan)],
        )
        .await;
    assert_eq!(list["TotalCounts"], 2, "{list}");
    let second = list["Sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["UserAgent"] == "second-browser")
        .unwrap();
    let id = second["SessionId"].as_str().unwrap();
    assert_eq!(second["SourceIp"], "127.0.0.1");
    for bad in ["xyz", "0", &"g".repeat(32)] {
        let r = srv
            .api(
                &key,
                SSO,
                "RevokeUserSessions",
                &[("DirectoryId", &d), ("UserId", &ivan), ("SessionId", bad)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let r = srv
        .api_ok(
            &key,
            SSO,
            "RevokeUserSessions",
            &[("DirectoryId", &d), ("UserId", &ivan), ("SessionId", id)],
        )
        .await;
    assert_eq!(r["RevokedCount"], 1);
    at(
        &b2.get(&format!("/{DIR}/mfa/enroll")).await,
        &format!("/{DIR}/login"),
    );
    assert_eq!(
        b1.get(&format!("/{DIR}/mfa/enroll")).await.status,
        StatusCode::OK
    );
    let r = srv
        .api_ok(
            &key,
            SSO,
            "RevokeUserSessions",
            &[("DirectoryId", &d), ("UserId", &ivan)],
        )
        .await;
    assert_eq!(r["RevokedCount"], 1);
    at(
        &b1.get(&format!("/{DIR}/mfa/enroll")).await,
        &format!("/{DIR}/login"),
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_attempts_are_rate_limited() {
    let srv = Server::start_with(&[
        "--session-idle-seconds",
        "2",
        "--signin-attempts-per-user-per-minute",
        "3",
    ]);
    srv.portal_user("judy").await;
    let mut b = Browser::new(&srv);
    fresh_minute(20).await;
    at(
        &b.sign_in(DIR, "judy", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    assert_eq!(
        b.get(&format!("/{DIR}/mfa/enroll")).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    at(
        &b.get(&format!("/{DIR}/mfa/enroll")).await,
        &format!("/{DIR}/login"),
    );
    // judy has used 1 of 3 attempts this minute; case does not make another name.
    assert_eq!(
        b.sign_in(DIR, "JUDY", "Wrong-pass1!").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.sign_in(DIR, "judy", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let limited = b.sign_in(DIR, "judy", PASSWORD).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.html
    );
    assert!(limited.html.contains("Too many sign-in attempts"));
}

/// Rewrites a user's sign-in record in a stopped server's data folder.
async fn age_password(data: &std::path::Path, dir: &str, user: &str, days: i64) {
    use cloudsso::signin::state::UserSignIn;
    use cloudsso::store::keys::SigninUserKey;
    let (app, writer) = cloudsso::app::App::open(
        data,
        cloudsso::config::Limits::default(),
        cloudsso::app::Options::default(),
    )
    .await
    .unwrap();
    let (d, u) = (dir.to_owned(), user.to_owned());
    app.db
        .write(move |txn| {
            let key = SigninUserKey { dir: &d, user: &u };
            let mut rec: UserSignIn = txn.get(key)?.expect("a sign-in record");
            rec.password_set_at = rec.password_set_at.map(|t| t - days * 86_400);
            txn.put(key, &rec)?;
            Ok::<_, cloudsso::error::DomainError>(())
        })
        .await
        .unwrap();
    drop(app);
    writer.join();
}

#[tokio::test]
async fn an_expired_password_must_be_changed_under_the_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let srv = Server::start_on(&data, &[]);
    let kate = srv.portal_user("kate").await;
    let d = srv.directory_id.clone();
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "kate", PASSWORD).await,
        &format!("/{DIR}/mfa/enroll"),
    );
    assert!(srv.stop());
    age_password(&data, &d, &kate, 91).await;
    let srv = Server::start_on(&data, &[]);
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "kate", PASSWORD).await,
        &format!("/{DIR}/password"),
    );
    at(
        &b.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/password"),
    );
    let page = b.get(&format!("/{DIR}/password")).await;
    assert!(page.html.contains("8 to 32 characters"), "{}", page.html);
    let csrf = page.hidden("csrf").unwrap();
    let path = format!("/{DIR}/password");
    let cases = [
        ("N3w-secret!x", "N3w-secret!y", "differ"),
        ("Sh0rt!a", "Sh0rt!a", "8 to 32"),
        ("alllowercase1!", "alllowercase1!", "upper-case"),
        (PASSWORD, PASSWORD, "last 1 passwords"),
    ];
    for (new, confirm, why) in cases {
        let p = b
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("new_password", new),
                    ("confirm_password", confirm),
                ],
            )
            .await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{new}");
        assert!(p.html.contains(why), "{new}: {}", p.html);
    }
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("new_password", "N3w-secret!x"),
                ("confirm_password", "N3w-secret!x"),
            ],
        )
        .await;
    at(&p, &format!("/{DIR}/mfa/enroll"));
    assert_eq!(
        b.get(&format!("/{DIR}/mfa/enroll")).await.status,
        StatusCode::OK,
        "the session follows its own change"
    );
    let mut fresh = Browser::new(&srv);
    assert_eq!(
        fresh.sign_in(DIR, "kate", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    at(
        &fresh.sign_in(DIR, "kate", "N3w-secret!x").await,
        &format!("/{DIR}/mfa/enroll"),
    );
    assert!(srv.stop());
}

#[tokio::test]
async fn a_deep_link_leads_through_sign_in_to_its_console() {
    let srv = Server::start();
    srv.portal_user("leo").await;
    let mut b = Browser::new(&srv);
    let console = format!("/{DIR}/console/1234567890123456/ac-deeplink");
    let to_login = b.get(&console).await;
    at(
        &to_login,
        &format!("/{DIR}/login?accountId=1234567890123456&accessConfigurationId=ac-deeplink"),
    );
    let login = b.get(to_login.location.as_deref().unwrap()).await;
    assert!(
        login.html.contains("accountId=1234567890123456"),
        "the form keeps the link: {}",
        login.html
    );
    let csrf = login.hidden("csrf").unwrap();
    let p = b
        .post(
            to_login.location.as_deref().unwrap(),
            &[("csrf", &csrf), ("username", "leo"), ("password", PASSWORD)],
        )
        .await;
    at(&p, &format!("/{DIR}/mfa/enroll"));
    let enroll = b.get(&format!("/{DIR}/mfa/enroll")).await;
    let secret = enroll.text_of("secret").unwrap();
    let now = settled_now().await;
    let done = b
        .post(
            &format!("/{DIR}/mfa/enroll"),
            &[
                ("csrf", &enroll.hidden("csrf").unwrap()),
                ("code", &code_at(&secret, now)),
            ],
        )
        .await;
    at(&done, &console);
    let refused = b.get(&console).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "leo has no access there: {}",
        refused.html
    );
    // Garbage in the link is not carried.
    let odd = b
        .get(&format!(
            "/{DIR}/login?accountId=%3Cscript%3E&accessConfigurationId=x"
        ))
        .await;
    assert_eq!(
        odd.status,
        StatusCode::SEE_OTHER,
        "signed in: to the portal"
    );
}

impl Server {
    pub(crate) async fn sso_ok(&self, action: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let key = self.admin_key();
        let mut all = vec![("DirectoryId", self.directory_id.as_str())];
        all.extend_from_slice(params);
        self.api_ok(&key, SSO, action, &all).await
    }
}

#[tokio::test]
async fn network_masks_service_switch_mfa_off_and_admin_resets_rule_sign_in() {
    let srv = Server::start();
    let mia = srv.portal_user("mia").await;
    // Without MFA a password signs straight in.
    srv.sso_ok(
        "UpdateMFAAuthenticationSettings",
        &[("MFAAuthenticationSettings", "Disabled")],
    )
    .await;
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "mia", PASSWORD).await,
        &format!("/{DIR}/portal"),
    );
    // Outside the masks: refused before the password is looked at; the session in hand stays
    // (the masks guard sign-in, not account use).
    srv.sso_ok(
        "SetLoginPreference",
        &[("LoginNetworkMasks", "10.0.0.0/8;192.168.1.7")],
    )
    .await;
    let mut other = Browser::new(&srv);
    let p = other.sign_in(DIR, "mia", PASSWORD).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    assert!(p.html.contains("not allowed from your network"));
    assert_eq!(
        b.get(&format!("/{DIR}/portal")).await.status,
        StatusCode::OK
    );
    srv.sso_ok(
        "SetLoginPreference",
        &[("LoginNetworkMasks", "127.0.0.0/8")],
    )
    .await;
    at(
        &other.sign_in(DIR, "mia", PASSWORD).await,
        &format!("/{DIR}/portal"),
    );
    // The service switch ends sessions and sign-in while off.
    let key = srv.admin_key();
    srv.api_ok(&key, SSO, "DisableService", &[]).await;
    at(
        &b.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/login"),
    );
    let mut third = Browser::new(&srv);
    let p = third.sign_in(DIR, "mia", PASSWORD).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("disabled for this service"));
    srv.api_ok(&key, SSO, "EnableService", &[]).await;
    // An administrator's reset with RequirePasswordResetForNextLogin: the old password is gone,
    // the new one signs in to a forced change.
    let reset = srv
        .sso_ok(
            "ResetUserPassword",
            &[
                ("UserId", &mia),
                ("GenerateRandomPassword", "true"),
                ("RequirePasswordResetForNextLogin", "true"),
            ],
        )
        .await;
    let generated = reset["NewPassword"].as_str().unwrap().to_owned();
    let mut c = Browser::new(&srv);
    assert_eq!(
        c.sign_in(DIR, "mia", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    at(
        &c.sign_in(DIR, "mia", &generated).await,
        &format!("/{DIR}/password"),
    );
    let csrf = c
        .get(&format!("/{DIR}/password"))
        .await
        .hidden("csrf")
        .unwrap();
    let p = c
        .post(
            &format!("/{DIR}/password"),
            &[
                ("csrf", &csrf),
                ("new_password", "Ch0sen-by-mia"),
                ("confirm_password", "Ch0sen-by-mia"),
            ],
        )
        .await;
    at(&p, &format!("/{DIR}/portal"));
}

#[tokio::test]
async fn open_console_posts_a_signed_response_the_embedded_console_accepts_once() {
    let srv = Server::start();
    let nina = srv.portal_user("nina").await;
    let s = srv.setup_access("ConsoleAdmin").await;
    srv.assign(&s, "User", &nina).await;
    srv.sso_ok(
        "UpdateMFAAuthenticationSettings",
        &[("MFAAuthenticationSettings", "Disabled")],
    )
    .await;
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "nina", PASSWORD).await,
        &format!("/{DIR}/portal"),
    );
    wait_for_account(&mut b, &s.account).await;
    let post = b
        .get(&format!("/{DIR}/console/{}/{}", s.account, s.config))
        .await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.html);
    assert!(post.html.contains("id=\"saml-post\""), "{}", post.html);
    let response = post.hidden("SAMLResponse").unwrap();
    let acs = post
        .html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(acs.ends_with("/saml-role/sso"), "{acs}");
    let console = b
        .post("/saml-role/sso", &[("SAMLResponse", &response)])
        .await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.html);
    assert_eq!(
        console.text_of("account-id").as_deref(),
        Some(s.account.as_str())
    );
    assert_eq!(
        console.text_of("role-name").as_deref(),
        Some("AliyunReservedSSO-ConsoleAdmin")
    );
    let again = b
        .post("/saml-role/sso", &[("SAMLResponse", &response)])
        .await;
    assert!(
        again.status.is_client_error(),
        "a Response is accepted once: {}",
        again.status
    );
    // The portal remembers the last used configuration.
    assert!(
        b.get(&format!("/{DIR}/portal"))
            .await
            .html
            .contains(">last used<")
    );
    // Access removed: no Response.
    srv.user_status(&nina, "Disabled").await;
    srv.user_status(&nina, "Enabled").await;
    let mut b = Browser::new(&srv);
    at(
        &b.sign_in(DIR, "nina", PASSWORD).await,
        &format!("/{DIR}/portal"),
    );
    let other = b
        .get(&format!(
            "/{DIR}/console/{}/ac-notassigned0000000",
            s.account
        ))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(!other.html.contains("SAMLResponse"));
}

#[tokio::test]
async fn active_sessions_end_at_their_absolute_time_and_sources_are_rate_limited() {
    let srv = Server::start_with(&[
        "--session-absolute-seconds",
        "4",
        "--signin-attempts-per-source-per-minute",
        "4",
    ]);
    srv.portal_user("olga").await;
    srv.sso_ok(
        "UpdateMFAAuthenticationSettings",
        &[("MFAAuthenticationSettings", "Disabled")],
    )
    .await;
    let mut b = Browser::new(&srv);
    fresh_minute(20).await;
    at(
        &b.sign_in(DIR, "olga", PASSWORD).await,
        &format!("/{DIR}/portal"),
    );
    assert_eq!(
        b.get(&format!("/{DIR}/portal")).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        b.get(&format!("/{DIR}/portal")).await.status,
        StatusCode::OK,
        "in use, not idle"
    );
    tokio::time::sleep(Duration::from_millis(4000)).await;
    at(
        &b.get(&format!("/{DIR}/portal")).await,
        &format!("/{DIR}/login"),
    );
    // One source address, several user names: the per-source limit (4 a minute; 1 used).
    for name in ["p1", "p2", "p3"] {
        assert_eq!(
            b.sign_in(DIR, name, PASSWORD).await.status,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }
    let limited = b.sign_in(DIR, "olga", PASSWORD).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.html
    );
}
