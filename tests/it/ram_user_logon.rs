//! Issue 14 over HTTP against the real server: RAM users follow SCIM group membership and
//! user status within a second (seen through `GetUserEffectiveAccess`'s `RamUsers` and the
//! account's console), the DeletionStrategy decides whether a disabled user's RAM user stays
//! in the account, the portal's RAM user tab signs in to the embedded console as the RAM user
//! (user-based SSO: verified against the account's user SSO setting, once, and refused once
//! the RAM user is gone), and a SIGKILL between a change and its reconciliation converges.

use crate::access_http::Setup;
use crate::browser::{Browser, Page};
use crate::harness::*;
use crate::portal::{PASSWORD, at};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const DIR: &str = "default";
const USER_ACS: &str = "/saml/SSO";

impl Server {
    /// The RAM users `user` has now (`GetUserEffectiveAccess`'s `RamUsers`).
    async fn ram_users(&self, s: &Setup, user: &str) -> Value {
        self.effective_access_answer(s, user).await["RamUsers"].clone()
    }

    /// Waits until `user`'s RAM users are `names` (in `s.account`); how long it took.
    async fn expect_ram_users(&self, s: &Setup, user: &str, names: &[&str]) -> Duration {
        let want: Vec<Value> = names
            .iter()
            .map(|n| {
                json!({
                    "AccountId": s.account,
                    "RamUserName": n,
                    "LogonName": format!("{n}@{}.onaliyun.com", s.account),
                })
            })
            .collect();
        let started = Instant::now();
        loop {
            let got: Vec<Value> = self
                .ram_users(s, user)
                .await
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut r| {
                    r.as_object_mut().map(|o| o.remove("UserProvisioningId"));
                    r
                })
                .collect();
            if got == want {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "RAM users of {user}: got {got:?}, want {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A RAM user provisioning of `principal` on the setup's account; its id.
    async fn provision(&self, s: &Setup, kind: &str, principal: &str, deletion: &str) -> String {
        let made = self
            .api_ok(
                &s.key,
                SSO,
                "CreateUserProvisioning",
                &[
                    ("DirectoryId", &s.d),
                    ("PrincipalType", kind),
                    ("PrincipalId", principal),
                    ("TargetType", "RD-Account"),
                    ("TargetId", &s.account),
                    ("DuplicationStrategy", "KeepBoth"),
                    ("DeletionStrategy", deletion),
                ],
            )
            .await;
        made["UserProvisioning"]["UserProvisioningId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn scim_active(&self, user: &str, active: bool) {
        let r = self
            .patch_ops(
                &format!("/Users/{user}"),
                json!([{"op": "replace", "path": "active", "value": active}]),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
}

/// A browser signed in to the portal as `user` (MFA off).
async fn signed_in<'a>(srv: &'a Server, user: &str) -> Browser<'a> {
    let mut b = Browser::new(srv);
    at(
        &b.sign_in(DIR, user, PASSWORD).await,
        &format!("/{DIR}/portal"),
    );
    b
}

/// The RAM user tab's console sign-in to `account`: the auto-posting page's SAMLResponse.
async fn ram_user_response(b: &mut Browser<'_>, account: &str) -> String {
    let post = b.get(&format!("/{DIR}/ram-user/{account}")).await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.html);
    let acs = post
        .html
        .split("action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(acs.ends_with(USER_ACS), "{acs}");
    post.hidden("SAMLResponse").unwrap()
}

async fn post_console(b: &mut Browser<'_>, path: &str, response: &str) -> Page {
    b.post(path, &[("SAMLResponse", response)]).await
}

#[tokio::test]
async fn scim_membership_gives_and_takes_the_ram_user_and_its_console_logon() {
    let srv = Server::start();
    let nina = srv.portal_user("nina").await;
    let eng = srv.group("eng", &[]).await;
    let s = srv.setup_access("Admin").await;
    srv.sso_ok(
        "UpdateMFAAuthenticationSettings",
        &[("MFAAuthenticationSettings", "Disabled")],
    )
    .await;
    srv.provision(&s, "Group", &eng, "Delete").await;
    srv.expect_ram_users(&s, &nina, &[]).await;

    // Added to the provisioned group over SCIM: a RAM user within a second.
    let r = srv
        .patch_ops(
            &format!("/Groups/{eng}"),
            json!([{"op": "add", "path": "members", "value": [{"value": nina}]}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let took = srv.expect_ram_users(&s, &nina, &["nina"]).await;
    assert!(took < Duration::from_secs(1), "RAM user after {took:?}");

    // The portal's RAM user tab lists it; the roles tab does not (no role assigned).
    let mut b = signed_in(&srv, "nina").await;
    let tab = b.get(&format!("/{DIR}/portal?tab=ram-users")).await;
    assert_eq!(tab.status, StatusCode::OK, "{}", tab.html);
    assert!(tab.html.contains("data-ram-user=\"nina\""), "{}", tab.html);
    let logon = format!("nina@{}.onaliyun.com", s.account);
    assert!(tab.html.contains(&logon), "{}", tab.html);
    let roles = b.get(&format!("/{DIR}/portal")).await;
    assert!(!roles.html.contains("data-account-id"), "{}", roles.html);

    // The session lasts the configuration's duration.
    srv.sso_ok(
        "UpdateUserProvisioningConfiguration",
        &[("NewSessionDuration", "2")],
    )
    .await;
    let response = ram_user_response(&mut b, &s.account).await;
    let xml = String::from_utf8(B64.decode(&response).unwrap()).unwrap();
    assert!(!xml.contains("AttributeStatement"), "no role attributes");

    // Tampered (another RAM user named), or posted to the role ACS: refused.
    let tampered = B64.encode(xml.replace(&logon, &format!("root@{}.onaliyun.com", s.account)));
    let refused = post_console(&mut b, USER_ACS, &tampered).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    let role_acs = post_console(&mut b, "/saml-role/sso", &response).await;
    assert!(role_acs.status.is_client_error(), "{}", role_acs.html);

    let console = post_console(&mut b, USER_ACS, &response).await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.html);
    assert_eq!(console.text_of("ram-user").as_deref(), Some("nina"));
    assert_eq!(
        console.text_of("account-id").as_deref(),
        Some(s.account.as_str())
    );
    assert_eq!(
        console.text_of("session-name").as_deref(),
        Some(logon.as_str())
    );
    assert!(console.text_of("role-name").is_none(), "{}", console.html);
    let expires = console.text_of("expires").unwrap();
    let expires =
        time::OffsetDateTime::parse(&expires, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let left = (expires - time::OffsetDateTime::now_utc()).whole_seconds();
    assert!((7000..=7200).contains(&left), "{left}");
    // Once only.
    let again = post_console(&mut b, USER_ACS, &response).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.html);

    // Removed from the group over SCIM: the RAM user is deleted within a second, the tab is
    // empty, no new Response, and one minted before is refused by the account.
    let pending = ram_user_response(&mut b, &s.account).await;
    let r = srv
        .patch_ops(
            &format!("/Groups/{eng}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{nina}\"]")}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let took = srv.expect_ram_users(&s, &nina, &[]).await;
    assert!(
        took < Duration::from_secs(1),
        "RAM user removed after {took:?}"
    );
    let tab = b.get(&format!("/{DIR}/portal?tab=ram-users")).await;
    assert!(tab.html.contains("id=\"empty\""), "{}", tab.html);
    let none = b.get(&format!("/{DIR}/ram-user/{}", s.account)).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN, "{}", none.html);
    assert!(!none.html.contains("SAMLResponse"));
    let gone = post_console(&mut b, USER_ACS, &pending).await;
    assert_eq!(gone.status, StatusCode::FORBIDDEN, "{}", gone.html);
    assert!(gone.html.contains("does not exist"), "{}", gone.html);
}

/// How many sign-ins the disabled user's Responses allow while waiting for its RAM user's
/// removal: at one try per 20 ms or more, more than the second the removal may take.
const DISABLED_TRIES: usize = 60;

#[tokio::test]
async fn a_disabled_users_ram_user_is_deleted_or_kept_by_the_deletion_strategy() {
    let srv = Server::start();
    let del = srv.portal_user("del").await;
    let keep = srv.portal_user("keep").await;
    let s = srv.setup_access("Admin").await;
    srv.sso_ok(
        "UpdateMFAAuthenticationSettings",
        &[("MFAAuthenticationSettings", "Disabled")],
    )
    .await;
    srv.provision(&s, "User", &del, "Delete").await;
    srv.provision(&s, "User", &keep, "Keep").await;
    srv.expect_ram_users(&s, &del, &["del"]).await;
    srv.expect_ram_users(&s, &keep, &["keep"]).await;
    let mut bd = signed_in(&srv, "del").await;
    let mut bk = signed_in(&srv, "keep").await;
    // Responses minted before the user is disabled, each good for one sign-in: until the
    // engine has removed the RAM user the account rightly accepts them (the account knows
    // nothing of cloudsso's directory), so the wait below spends one per try.
    let mut del_responses = Vec::new();
    for _ in 0..DISABLED_TRIES {
        del_responses.push(ram_user_response(&mut bd, &s.account).await);
    }
    let keep_response = ram_user_response(&mut bk, &s.account).await;

    // Disabled over SCIM: `del`'s RAM user leaves the account within a second (a Response
    // minted before is refused as soon as it is gone) ...
    srv.scim_active(&del, false).await;
    srv.scim_active(&keep, false).await;
    let started = Instant::now();
    let mut refused = None;
    for response in &del_responses {
        let p = post_console(&mut bd, USER_ACS, response).await;
        if p.status == StatusCode::FORBIDDEN {
            refused = Some(p);
            break;
        }
        assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        assert_eq!(p.text_of("ram-user").as_deref(), Some("del"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = refused.expect("every Response accepted: the RAM user was never removed");
    assert!(refused.html.contains("does not exist"), "{}", refused.html);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    srv.expect_ram_users(&s, &del, &[]).await;
    srv.expect_ram_users(&s, &keep, &[]).await;
    // ... and `keep`'s stays in the account, no longer the user's: the account still signs
    // it in with a Response minted before.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept = post_console(&mut bk, USER_ACS, &keep_response).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.html);
    assert_eq!(kept.text_of("ram-user").as_deref(), Some("keep"));

    // Enabled again: `del` gets a new RAM user of its name; `keep`'s name is taken by the RAM
    // user left behind, so KeepBoth makes `keep_sso`.
    srv.scim_active(&del, true).await;
    srv.scim_active(&keep, true).await;
    srv.expect_ram_users(&s, &del, &["del"]).await;
    srv.expect_ram_users(&s, &keep, &["keep_sso"]).await;

    // Renamed over SCIM: the RAM user is renamed within a second (the old name is gone from
    // the account: a Response minted for it is refused).
    let mut bd = signed_in(&srv, "del").await;
    let old_name = ram_user_response(&mut bd, &s.account).await;
    let r = srv
        .patch_ops(
            &format!("/Users/{del}"),
            json!([{"op": "replace", "path": "userName", "value": "delia"}]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let took = srv.expect_ram_users(&s, &del, &["delia"]).await;
    assert!(took < Duration::from_secs(1), "renamed after {took:?}");
    let gone = post_console(&mut bd, USER_ACS, &old_name).await;
    assert_eq!(gone.status, StatusCode::FORBIDDEN, "{}", gone.html);
    assert!(gone.html.contains("does not exist"), "{}", gone.html);
}

#[tokio::test]
async fn a_sigkill_between_a_membership_change_and_its_reconciliation_converges() {
    let srv = Server::start();
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let eng = srv.group("eng", &[&alice]).await;
    let s = srv.setup_access("Admin").await;
    srv.provision(&s, "Group", &eng, "Delete").await;
    srv.expect_ram_users(&s, &alice, &["alice"]).await;
    let data = srv.data.clone();
    let (_, tmp) = srv.stop_keep();

    // The engine now waits 10 s after a change: the writes are acknowledged, not reconciled.
    let srv = Server::start_on(&data, &["--reconcile-delay-ms", "10000"]);
    srv.expect_ram_users(&s, &alice, &["alice"]).await;
    // The engine's start-up full pass (which does not wait) is over long before this.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = srv
        .patch_ops(
            &format!("/Groups/{eng}"),
            json!([
                {"op": "remove", "path": format!("members[value eq \"{alice}\"]")},
                {"op": "add", "path": "members", "value": [{"value": bob}]}
            ]),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    tokio::time::sleep(Duration::from_millis(200)).await;
    srv.expect_ram_users(&s, &alice, &["alice"]).await;
    srv.expect_ram_users(&s, &bob, &[]).await;
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .arg(srv.pid().to_string())
        .status();
    drop(srv.stop_keep());

    // Restarted without the delay: the change was durable and the engine converges.
    let srv = Server::start_on(&data, &[]);
    srv.expect_ram_users(&s, &alice, &[]).await;
    srv.expect_ram_users(&s, &bob, &["bob"]).await;
    drop(tmp);
}
