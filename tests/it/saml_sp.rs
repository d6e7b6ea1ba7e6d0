//! Issue 12 over HTTP: cloudsso as the SAML service provider of a customer's IdP. The test IdP
//! (`saml_idp`) signs every corpus case with `xmlsec1`; each is posted to the ACS of a real
//! server, as a browser coming from the IdP would (`Sec-Fetch-Site: cross-site`), and must get
//! its verdict: accepted means a 303 to the portal with a session that opens the account list
//! as the right user; refused means a 400 or 403 page, no session cookie, and no session in
//! the store (`ListUserSessions`). Also: IdP-initiated responses, replay (also across a
//! restart), an AuthnRequest ID answered twice, RelayState that points off the portal, and
//! unknown or disabled users. Skipped with a notice when `xmlsec1` is missing, unless
//! `CLOUDSSO_REQUIRE_XMLSEC1=1`.

use crate::browser::{Browser, Page};
use crate::harness::{SSO, Server, form_decode};
use crate::saml_idp::{self, EVIL_NAME_ID, Expect, LOGIN_URL, PROTOCOL, Target, TestIdp, VICTIM};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hyper::StatusCode;
use serde_json::json;
use std::io::Read;

/// A fixed public URL, so the SP's entity ID and ACS stay the same across a restart (the
/// port changes).
const PUBLIC: &str = "http://cloudsso.test";
/// The sign-in attempt limits raised: a corpus run posts dozens of responses a minute.
const SERVER_ARGS: &[&str] = &[
    "--public-url",
    PUBLIC,
    "--signin-attempts-per-source-per-minute",
    "100000",
    "--signin-attempts-per-user-per-minute",
    "100000",
];

fn skip() -> bool {
    saml_idp::skip_without_xmlsec1("the SAML service-provider test")
}

/// A server whose directory trusts the test IdP, with the user who signs in (`VICTIM`) and
/// the user every forged response tries to become (`EVIL_NAME_ID`).
struct Sp {
    srv: Server,
    idp: TestIdp,
    dir: String,
    /// The directory's name: the portal may spell its paths with it.
    dir_name: String,
    entity_id: String,
    acs_url: String,
    victim: String,
    admin: String,
    _keep: Option<tempfile::TempDir>,
}

impl Sp {
    async fn start() -> Sp {
        let srv = Server::start_with(SERVER_ARGS);
        let idp = TestIdp::new();
        let dir = srv.directory_id.clone();
        let key = srv.admin_key();
        let metadata = B64.encode(idp.metadata_xml());
        srv.api_ok(
            &key,
            SSO,
            "SetExternalSAMLIdentityProvider",
            &[
                ("DirectoryId", &dir),
                ("EncodedMetadataDocument", &metadata),
                ("SSOStatus", "Enabled"),
            ],
        )
        .await;
        let got = srv
            .api_ok(&key, SSO, "GetDirectory", &[("DirectoryId", &dir)])
            .await;
        let dir_name = got["Directory"]["DirectoryName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let victim = srv.user(VICTIM).await;
        let admin = srv.user(EVIL_NAME_ID).await;
        let mut sp = Sp {
            srv,
            idp,
            dir,
            dir_name,
            entity_id: String::new(),
            acs_url: String::new(),
            victim,
            admin,
            _keep: None,
        };
        sp.read_sp_info().await;
        sp
    }

    /// The SP's entity ID and ACS as `GetDirectorySAMLServiceProviderInfo` names them.
    async fn read_sp_info(&mut self) {
        let info = self
            .srv
            .api_ok(
                &self.srv.admin_key(),
                SSO,
                "GetDirectorySAMLServiceProviderInfo",
                &[("DirectoryId", &self.dir)],
            )
            .await;
        let sp = &info["SAMLServiceProvider"];
        let d = &self.dir;
        assert_eq!(
            sp["EntityId"],
            format!("{PUBLIC}/{d}/saml/metadata"),
            "{info}"
        );
        assert_eq!(sp["AcsUrl"], format!("{PUBLIC}/{d}/saml/acs"), "{info}");
        let metadata = B64
            .decode(sp["EncodedMetadataDocument"].as_str().unwrap())
            .unwrap();
        let metadata = String::from_utf8(metadata).unwrap();
        for want in [&sp["EntityId"], &sp["AcsUrl"]] {
            assert!(metadata.contains(want.as_str().unwrap()), "{metadata}");
        }
        self.entity_id = sp["EntityId"].as_str().unwrap().to_owned();
        self.acs_url = sp["AcsUrl"].as_str().unwrap().to_owned();
    }

    /// Stops the server and starts it again on the same data folder.
    async fn restart(mut self) -> Sp {
        let data = self.srv.data.clone();
        let (stopped, keep) = self.srv.stop_keep();
        assert!(stopped, "clean stop");
        self.srv = Server::start_on(&data, SERVER_ARGS);
        if keep.is_some() {
            self._keep = keep;
        }
        self.read_sp_info().await;
        self
    }

    fn target(&self, name_id: &str, in_response_to: Option<String>) -> Target {
        Target {
            sp_entity_id: self.entity_id.clone(),
            acs_url: self.acs_url.clone(),
            name_id: name_id.to_owned(),
            in_response_to,
        }
    }

    fn acs_path(&self) -> String {
        self.acs_url.strip_prefix(PUBLIC).unwrap().to_owned()
    }

    fn portal(&self) -> String {
        format!("/{}/portal", self.dir)
    }

    /// Whether a Location is the portal's account list (by the directory's id or name).
    fn is_portal(&self, location: &str) -> bool {
        let path = location.strip_prefix(PUBLIC).unwrap_or(location);
        [&self.dir, &self.dir_name]
            .iter()
            .filter(|s| !s.is_empty())
            .any(|s| {
                let portal = format!("/{s}/portal");
                path == portal || path.starts_with(&format!("{portal}?"))
            })
    }

    /// SP-initiated start: the AuthnRequest's ID and the RelayState to send back (if any),
    /// read from the redirect to the IdP (HTTP-Redirect binding: deflated, in the query) or
    /// from the form posted to it (HTTP-POST binding: base64).
    async fn login(&self, b: &mut Browser<'_>) -> Result<(String, Option<String>), String> {
        self.login_at(b, &format!("/{}/saml/login", self.dir)).await
    }

    /// `login` from the SP-initiated start at `path` (which may carry a RelayState).
    async fn login_at(
        &self,
        b: &mut Browser<'_>,
        path: &str,
    ) -> Result<(String, Option<String>), String> {
        let page = b.get(path).await;
        let (xml, relay) = match page.status {
            StatusCode::FOUND => {
                let location = page.location.unwrap_or_default();
                let Some(query) = location.strip_prefix(&format!("{LOGIN_URL}?")) else {
                    return Err(format!("login redirects to {location}"));
                };
                let field = |name: &str| {
                    query
                        .split('&')
                        .filter_map(|p| p.split_once('='))
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| form_decode(v))
                };
                let request =
                    field("SAMLRequest").ok_or(format!("no SAMLRequest in {location}"))?;
                let xml = inflate(&request).map_err(|e| format!("SAMLRequest {request}: {e}"))?;
                (xml, field("RelayState"))
            }
            StatusCode::OK if page.html.contains(&format!("action=\"{LOGIN_URL}\"")) => {
                let request = page
                    .hidden("SAMLRequest")
                    .map(|v| unescape_html(&v))
                    .ok_or(format!("no SAMLRequest in {}", page.html))?;
                let xml = B64
                    .decode(&request)
                    .ok()
                    .and_then(|x| String::from_utf8(x).ok())
                    .ok_or(format!("SAMLRequest {request}"))?;
                (xml, page.hidden("RelayState").map(|v| unescape_html(&v)))
            }
            status => return Err(format!("login: {status} {}", snippet(&page.html))),
        };
        let doc = roxmltree::Document::parse(&xml).map_err(|e| format!("{e}: {xml}"))?;
        let root = doc.root_element();
        let issuer = root
            .children()
            .find(|c| c.tag_name().name() == "Issuer")
            .and_then(|c| c.text());
        let acs = root.attribute("AssertionConsumerServiceURL");
        let id = root.attribute("ID").unwrap_or_default();
        let sane = root.tag_name().name() == "AuthnRequest"
            && root.tag_name().namespace() == Some(PROTOCOL)
            && issuer == Some(self.entity_id.as_str())
            && acs.is_none_or(|a| a == self.acs_url)
            && root.attribute("Destination") == Some(LOGIN_URL)
            && id.len() > 16
            && id.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic());
        if !sane {
            return Err(format!("AuthnRequest: {xml}"));
        }
        Ok((id.to_owned(), relay))
    }

    /// Posts a SAMLResponse to the ACS as a browser coming from the IdP does.
    async fn post(&self, b: &mut Browser<'_>, saml_response: &str, relay: Option<&str>) -> Page {
        b.extra = vec![("sec-fetch-site".into(), "cross-site".into())];
        let mut form = vec![("SAMLResponse", saml_response)];
        if let Some(r) = relay {
            form.push(("RelayState", r));
        }
        b.post(&self.acs_path(), &form).await
    }

    /// What is wrong with the answer to a posted response, if anything. Accepted: a 303 to
    /// the portal, a session cookie, and the account list of `name_id` behind it. Refused: 400
    /// or 403 and no session cookie, so the portal sends the browser to sign in.
    async fn verdict(
        &self,
        b: &mut Browser<'_>,
        page: &Page,
        expect: Expect,
        name_id: &str,
    ) -> Option<String> {
        let session = b.cookies.contains_key("cloudsso_session");
        let portal = self.portal();
        match expect {
            Expect::Accept => {
                let location = page.location.as_deref().unwrap_or_default();
                if page.status != StatusCode::SEE_OTHER || !self.is_portal(location) {
                    return Some(format!(
                        "accept wanted, got {} to {location:?}: {}",
                        page.status,
                        snippet(&page.html)
                    ));
                }
                if !session {
                    return Some("accepted without a session cookie".into());
                }
                let list = b.get(&portal).await;
                let user = list.text_of("user-name").unwrap_or_default();
                if list.status != StatusCode::OK || !user.eq_ignore_ascii_case(name_id) {
                    return Some(format!(
                        "the portal answers {} for {user:?}: {}",
                        list.status,
                        snippet(&list.html)
                    ));
                }
                None
            }
            Expect::Refuse => {
                if ![StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN].contains(&page.status) {
                    return Some(format!(
                        "refusal wanted, got {} to {:?}: {}",
                        page.status,
                        page.location,
                        snippet(&page.html)
                    ));
                }
                if session {
                    return Some("refused with a session cookie".into());
                }
                if page.html.trim().is_empty() {
                    return Some("refused without a page".into());
                }
                let list = b.get(&portal).await;
                (list.status == StatusCode::OK).then(|| "the portal opens after a refusal".into())
            }
        }
    }

    /// A user's sessions in the store.
    async fn sessions(&self, user: &str) -> u64 {
        let list = self
            .srv
            .api_ok(
                &self.srv.admin_key(),
                SSO,
                "ListUserSessions",
                &[("DirectoryId", &self.dir), ("UserId", user)],
            )
            .await;
        list["TotalCounts"].as_u64().unwrap()
    }

    /// Checks that the victim has `victim` sessions and the attacker's target none.
    async fn session_counts(&self, victim: u64, failures: &mut Vec<String>) {
        let (got_victim, got_admin) = (
            self.sessions(&self.victim).await,
            self.sessions(&self.admin).await,
        );
        if got_victim != victim {
            failures.push(format!("{VICTIM} has {got_victim} sessions, want {victim}"));
        }
        if got_admin != 0 {
            failures.push(format!("{EVIL_NAME_ID} has {got_admin} sessions, want 0"));
        }
    }
}

/// The entities an HTML attribute value may hold.
fn unescape_html(v: &str) -> String {
    v.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#43;", "+")
        .replace("&#61;", "=")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn snippet(html: &str) -> String {
    html.chars().take(300).collect()
}

/// A SAMLRequest of the HTTP-Redirect binding: base64 of raw DEFLATE.
fn inflate(b64: &str) -> Result<String, String> {
    let raw = B64.decode(b64).map_err(|e| e.to_string())?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(raw.as_slice())
        .read_to_string(&mut xml)
        .map_err(|e| e.to_string())?;
    Ok(xml)
}

fn report(failures: &[String], of: usize) {
    assert!(
        failures.is_empty(),
        "{} of {of} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn saml_corpus_sp_initiated_gets_every_verdict() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    let (mut failures, mut accepted, mut ran) = (Vec::new(), 0, 0);
    for name in saml_idp::case_names() {
        let mut b = Browser::new(&sp.srv);
        let (id, relay) = match sp.login(&mut b).await {
            Ok(started) => started,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let t = sp.target(VICTIM, Some(id));
        let Some(case) = saml_idp::case(&sp.idp, &t, name) else {
            continue;
        };
        ran += 1;
        let page = sp.post(&mut b, &case.saml_response, relay.as_deref()).await;
        match sp.verdict(&mut b, &page, case.expect, VICTIM).await {
            Some(wrong) => failures.push(format!("{name}: {wrong}")),
            None if case.expect == Expect::Accept => accepted += 1,
            None => {}
        }
    }
    sp.session_counts(accepted, &mut failures).await;
    report(&failures, ran);
}

#[tokio::test]
async fn saml_corpus_idp_initiated_gets_every_verdict() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    let cases = saml_idp::corpus(&sp.idp, &sp.target(VICTIM, None));
    let (mut failures, mut accepted) = (Vec::new(), 0);
    for case in &cases {
        let mut b = Browser::new(&sp.srv);
        let page = sp.post(&mut b, &case.saml_response, None).await;
        match sp.verdict(&mut b, &page, case.expect, VICTIM).await {
            Some(wrong) => failures.push(format!("{}: {wrong}", case.name)),
            None if case.expect == Expect::Accept => accepted += 1,
            None => {}
        }
    }
    sp.session_counts(accepted, &mut failures).await;
    report(&failures, cases.len());
}

#[tokio::test]
async fn saml_replayed_response_is_refused_also_after_a_restart() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    let unsolicited = saml_idp::valid(&sp.idp, &sp.target(VICTIM, None));
    let mut b = Browser::new(&sp.srv);
    let (id, relay) = sp.login(&mut b).await.unwrap();
    let solicited = saml_idp::valid(&sp.idp, &sp.target(VICTIM, Some(id)));
    let mut failures = Vec::new();
    let mut post = async |sp: &Sp, step: &str, case: &saml_idp::Case, expect: Expect| {
        let mut b = Browser::new(&sp.srv);
        let page = sp.post(&mut b, &case.saml_response, relay.as_deref()).await;
        if let Some(wrong) = sp.verdict(&mut b, &page, expect, VICTIM).await {
            failures.push(format!("{step}: {wrong}"));
        }
    };
    post(&sp, "idp-initiated, first", &unsolicited, Expect::Accept).await;
    post(&sp, "idp-initiated, again", &unsolicited, Expect::Refuse).await;
    post(&sp, "sp-initiated, first", &solicited, Expect::Accept).await;
    post(&sp, "sp-initiated, again", &solicited, Expect::Refuse).await;
    let sp = sp.restart().await;
    post(
        &sp,
        "idp-initiated, after restart",
        &unsolicited,
        Expect::Refuse,
    )
    .await;
    post(
        &sp,
        "sp-initiated, after restart",
        &solicited,
        Expect::Refuse,
    )
    .await;
    // The SP still signs users in after the restart: the refusals above are replays.
    let fresh = saml_idp::valid(&sp.idp, &sp.target(VICTIM, None));
    post(&sp, "a fresh one after restart", &fresh, Expect::Accept).await;
    sp.session_counts(3, &mut failures).await;
    report(&failures, 7);
}

#[tokio::test]
async fn saml_authn_request_id_is_answered_once() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    let mut b = Browser::new(&sp.srv);
    let (id, relay) = sp.login(&mut b).await.unwrap();
    let t = sp.target(VICTIM, Some(id));
    let mut failures = Vec::new();
    // Two distinct, valid responses (new response and assertion IDs) to the same request.
    for (step, expect) in [
        ("first answer", Expect::Accept),
        ("second answer", Expect::Refuse),
    ] {
        let case = saml_idp::valid(&sp.idp, &t);
        let mut b = Browser::new(&sp.srv);
        let page = sp.post(&mut b, &case.saml_response, relay.as_deref()).await;
        if let Some(wrong) = sp.verdict(&mut b, &page, expect, VICTIM).await {
            failures.push(format!("{step}: {wrong}"));
        }
    }
    sp.session_counts(1, &mut failures).await;
    report(&failures, 2);
}

#[tokio::test]
async fn saml_relay_state_never_leaves_the_portal() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    let mut failures = Vec::new();
    let relays = [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "http://cloudsso.test.evil.example/",
        "javascript:alert(1)",
    ];
    for relay in relays {
        let case = saml_idp::valid(&sp.idp, &sp.target(VICTIM, None));
        let mut b = Browser::new(&sp.srv);
        let page = sp.post(&mut b, &case.saml_response, Some(relay)).await;
        let location = page.location.clone().unwrap_or_default();
        if !sp.is_portal(&location) || location.contains("evil") {
            failures.push(format!("{relay}: Location {location:?}"));
        }
        if let Some(wrong) = sp.verdict(&mut b, &page, Expect::Accept, VICTIM).await {
            failures.push(format!("{relay}: {wrong}"));
        }
    }
    report(&failures, relays.len());
}

#[tokio::test]
async fn saml_unknown_and_disabled_users_are_refused() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    let carol = sp.srv.user("carol@corp.example").await;
    let r = sp
        .srv
        .patch_ops(
            &format!("/Users/{carol}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cases = [
        ("nobody@corp.example", Expect::Refuse),
        ("carol@corp.example", Expect::Refuse),
        // userName matches case-insensitively.
        ("KIM.Ross@Corp.Example", Expect::Accept),
    ];
    let mut failures = Vec::new();
    for (name_id, expect) in cases {
        for in_response_to in [false, true] {
            let mut b = Browser::new(&sp.srv);
            let (irt, relay) = if in_response_to {
                match sp.login(&mut b).await {
                    Ok((id, relay)) => (Some(id), relay),
                    Err(e) => {
                        failures.push(format!("{name_id}: {e}"));
                        continue;
                    }
                }
            } else {
                (None, None)
            };
            let case = saml_idp::valid(&sp.idp, &sp.target(name_id, irt));
            let page = sp.post(&mut b, &case.saml_response, relay.as_deref()).await;
            if let Some(wrong) = sp.verdict(&mut b, &page, expect, name_id).await {
                let mode = if in_response_to { "sp" } else { "idp" };
                failures.push(format!("{name_id} ({mode}-initiated): {wrong}"));
            }
        }
    }
    let carol_sessions = sp.sessions(&carol).await;
    if carol_sessions != 0 {
        failures.push(format!("carol has {carol_sessions} sessions"));
    }
    sp.session_counts(2, &mut failures).await;
    report(&failures, cases.len() * 2);
}

#[tokio::test]
async fn a_cli_sign_in_is_approved_after_sso_from_the_idp() {
    if skip() {
        return;
    }
    let sp = Sp::start().await;
    // The CLI asks (CloudSSO's protocol); the user follows its link.
    let verifier = "v".repeat(43);
    let challenge = cloudsso::signin::device::s256(&verifier);
    let body = json!({"PortalUrl": format!("{PUBLIC}/{}/login", sp.dir), "CodeChallenge": challenge,
                      "ClientId": "app-vaz16tltdxs96audqf35", "CodeChallengeMethod": "S256"});
    let url = format!("http://{}/device-authorization", sp.srv.addr);
    let headers = [("content-type", "application/json")];
    let bytes = serde_json::to_vec(&body).unwrap();
    let r = sp
        .srv
        .send(hyper::Method::POST, &url, &headers, Some(bytes))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let device_code = r.body["DeviceCode"].as_str().unwrap().to_owned();
    let user_code = r.body["UserCode"].as_str().unwrap().to_owned();
    let link = r.body["VerificationUriComplete"].as_str().unwrap();
    let link = link.strip_prefix(PUBLIC).unwrap().to_owned();
    // Not signed in: to the sign-in page, which (SSO on) goes to the IdP with the link as
    // RelayState.
    let mut b = Browser::new(&sp.srv);
    let page = b.get(&link).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    let login = page.location.unwrap();
    let page = b.get(&login).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    let start = page.location.unwrap();
    assert!(start.contains("/saml/login?RelayState="), "{start}");
    let (id, relay) = sp.login_at(&mut b, &start).await.unwrap();
    assert_eq!(relay.as_deref(), Some(link.as_str()));
    let case = saml_idp::valid(&sp.idp, &sp.target(VICTIM, Some(id)));
    let page = sp.post(&mut b, &case.saml_response, relay.as_deref()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    let back = page.location.unwrap();
    assert_eq!(back.strip_prefix(PUBLIC).unwrap_or(&back), link);
    // Back on the approval page, signed in by the IdP: approve, and the CLI gets its token.
    b.extra.clear();
    let page = b.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(
        page.text_of("user-code").as_deref(),
        Some(user_code.as_str())
    );
    let csrf = page.hidden("csrf").unwrap();
    let device_page = link.split('?').next().unwrap();
    let done = b
        .post(
            device_page,
            &[
                ("csrf", &csrf),
                ("user_code", &user_code),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let poll = json!({"CodeVerifier": verifier, "ClientId": "app-vaz16tltdxs96audqf35",
                      "DeviceCode": device_code,
                      "GrantType": "urn:ietf:params:oauth:grant-type:device_code"});
    let url = format!("http://{}/token", sp.srv.addr);
    let bytes = serde_json::to_vec(&poll).unwrap();
    let r = sp
        .srv
        .send(hyper::Method::POST, &url, &headers, Some(bytes))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["AccessToken"].is_string(), "{}", r.body);
}
