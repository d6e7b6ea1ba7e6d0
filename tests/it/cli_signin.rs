//! Issue 13 point 7, cloudsso's own CLI sign-in against a live server: the built binary with
//! `HOME` in a temporary folder runs `login` (the device flow in AWS's sso-oidc protocol; the
//! test approves the printed code in the portal as the user would), `credentials` in its three
//! formats (the Alibaba ones taken to STS GetCallerIdentity), `profiles populate` merging into
//! existing aliyun and AWS files, a refresh forced by editing the cache (no browser step, a
//! rotated refresh token; boto3's newer token adopted rather than a used one replayed), the
//! end of the refresh lifetime, and `logout` (the server refuses the token afterwards).

use crate::browser::Browser;
use crate::harness::*;
use crate::portal::sign_in_and_enroll;
use cloudsso::signin::credentials::TempCredential;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CONFIG_NAME: &str = "CliAdmin";

/// `cloudsso <args>` with `home` as `HOME` and nothing else of the caller's sign-in setup.
fn command(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cloudsso"));
    c.args(args)
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "CLOUDSSO_CONFIG",
        "CLOUDSSO_PROFILE",
        "CLOUDSSO_SIGN_IN_URL",
        "AWS_CONFIG_FILE",
        "DISPLAY",
        "WAYLAND_DISPLAY",
    ] {
        c.env_remove(var);
    }
    c
}

fn cli(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().expect("run cloudsso")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{:?}: {}{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

#[track_caller]
fn fails(o: Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(text(&o.stderr).contains(needle), "{}", text(&o.stderr));
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The lines `login` printed until the verification URL: (that URL, the code it named).
fn read_prompt(child: &mut Child) -> (String, String, Vec<String>) {
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if url.is_none() && line.trim().starts_with("http") && line.contains("user_code=") {
            url = Some(line.trim().to_owned());
        }
        let code = line
            .split("shows the code ")
            .nth(1)
            .map(|r| r.trim().to_owned());
        seen.push(line);
        if let (Some(u), Some(c)) = (&url, code) {
            // The rest of stdout is read when the command ends.
            std::thread::spawn(move || lines.for_each(drop));
            return (u.clone(), c, seen);
        }
    }
    panic!("no verification URL and code in {seen:?}");
}

/// Runs `login` and answers its code (`decision`: approve or deny) from `b`'s signed-in
/// portal session, as the user does in the browser; what `login` printed, and how it ended.
async fn login_deciding(
    srv: &Server,
    b: &mut Browser<'_>,
    home: &Path,
    args: &[&str],
    decision: &str,
) -> (Vec<String>, Output) {
    let mut child = command(home, args).spawn().unwrap();
    let (url, code, printed) = tokio::task::spawn_blocking(move || {
        let (u, c, p) = read_prompt(&mut child);
        (u, c, (p, child))
    })
    .await
    .unwrap();
    let (printed, child) = printed;
    let prefix = format!("http://{}", srv.addr);
    let path = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
    assert!(path.ends_with(&format!("user_code={code}")), "{url} {code}");
    let page = b.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(page.text_of("user-code").as_deref(), Some(code.as_str()));
    let csrf = page.hidden("csrf").unwrap();
    let dir = path.trim_start_matches('/').split('/').next().unwrap();
    let p = b
        .post(
            &format!("/{dir}/device"),
            &[
                ("csrf", &csrf),
                ("user_code", &code),
                ("decision", decision),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    (printed, out)
}

/// `login`, approved; what it printed.
async fn login(srv: &Server, b: &mut Browser<'_>, home: &Path, args: &[&str]) -> Vec<String> {
    let (printed, out) = login_deciding(srv, b, home, args, "approve").await;
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
    printed
}

fn cache_path(home: &Path, url: &str) -> PathBuf {
    home.join(".cloudsso/cache")
        .join(format!("{}.json", sha256_hex(url)))
}

fn botocore_path(home: &Path) -> PathBuf {
    use sha1::Digest;
    let name: String = sha1::Sha1::digest(b"cloudsso")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    home.join(".aws/sso/cache").join(format!("{name}.json"))
}

/// `export NAME='value'` lines into the credential they carry.
fn from_exports(out: &str) -> TempCredential {
    let get = |name: &str| {
        let prefix = format!("export {name}='");
        let line = out.lines().find(|l| l.starts_with(&prefix)).unwrap();
        line[prefix.len()..line.len() - 1].to_owned()
    };
    assert_eq!(
        get("ALIBABACLOUD_ACCESS_KEY_ID"),
        get("ALIBABA_CLOUD_ACCESS_KEY_ID")
    );
    assert_eq!(
        get("ALICLOUD_SECURITY_TOKEN"),
        get("ALIBABA_CLOUD_SECURITY_TOKEN")
    );
    assert_eq!(get("SECURITY_TOKEN"), get("ALIBABA_CLOUD_SECURITY_TOKEN"));
    TempCredential {
        access_key_id: get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        access_key_secret: get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        security_token: get("ALIBABA_CLOUD_SECURITY_TOKEN"),
        expiration: time::OffsetDateTime::now_utc(),
    }
}

fn is_api_time(t: &Value) -> bool {
    t.as_str()
        .is_some_and(|t| t.len() == 20 && t.ends_with('Z') && !t.contains('.'))
}

/// Asserts Alibaba's STS takes `c` and answers the user's assumed role on `account`.
async fn works_at_sts(srv: &Server, c: &TempCredential, account: &str) {
    note_secret(&c.access_key_secret);
    note_secret(&c.security_token);
    assert!(c.access_key_id.starts_with("STS."), "{}", c.access_key_id);
    let me = srv.caller_identity(crate::sts::Sig::Rpc, c).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["AccountId"], account, "{}", me.body);
    let arn = me.body["Arn"].as_str().unwrap();
    assert!(
        arn.contains(":assumed-role/") && arn.ends_with("/alice"),
        "{arn}"
    );
}

async fn portal_status(srv: &Server, token: &str) -> u16 {
    let url = format!("http://{}/assignment/accounts", srv.addr);
    let r = srv
        .send(
            Method::GET,
            &url,
            &[("x-amz-sso_bearer_token", token)],
            None,
        )
        .await;
    r.status.as_u16()
}

/// Waits until the engine has granted the assignment (the lists are read from it).
async fn until_granted(srv: &Server, token: &str) {
    let url = format!("http://{}/access-assignments/accounts", srv.addr);
    let auth = format!("Bearer {token}");
    let started = Instant::now();
    loop {
        let r = srv
            .send(Method::GET, &url, &[("authorization", &auth)], None)
            .await;
        if r.body["Accounts"].as_array().is_some_and(|a| !a.is_empty()) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Moves the cached access token's expiry to `expires_at`; the cache as it was.
fn expire_cache(path: &Path, expires_at: i64) -> Value {
    let before = read_json(path);
    let mut c = before.clone();
    c["token"]["expiresAt"] = json!(expires_at);
    write_json(path, &c);
    before
}

/// boto3 (from the SDK venv, `boto3_python`) gets role credentials through the populated
/// profile and the botocore token cache, then renews the token itself when it is inside its
/// refresh window, rotating the refresh token in the cache file.
async fn boto3_uses_the_profile_and_refreshes(home: &Path, profile: &str) {
    let Some(python) = boto3_python() else {
        return;
    };
    let mut cache = read_json(&botocore_path(home));
    let before = cache["refreshToken"].clone();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    cache["expiresAt"] = json!(cloudsso::cli::client::acs_date(soon));
    write_json(&botocore_path(home), &cache);
    let script = "import boto3, sys\n\
        s = boto3.Session(profile_name=sys.argv[1])\n\
        c = s.get_credentials()\n\
        f = c.get_frozen_credentials()\n\
        print(c.method, f.access_key[:4], len(f.secret_key), bool(f.token))\n\
        print(s.client('sts').get_caller_identity()['Arn'])\n";
    let mut c = Command::new(&python);
    c.args(["-c", script, profile]).env("HOME", home);
    for var in [
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ] {
        c.env_remove(var);
    }
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("sso ASIA 40 True"),
        "{}",
        text(&out.stderr)
    );
    // The profile's `services` section sends STS to cloudsso too: the assumed role.
    let arn = lines.next().unwrap_or_default();
    assert!(
        arn.starts_with("arn:aws:sts::") && arn.contains(":assumed-role/AliyunReservedSSO-"),
        "{stdout}"
    );
    let after = read_json(&botocore_path(home));
    assert_ne!(
        after["refreshToken"], before,
        "boto3 renewed and rotated: {after}"
    );
    note_secret(after["accessToken"].as_str().unwrap());
    note_secret(after["refreshToken"].as_str().unwrap());
}

#[tokio::test]
async fn cloudsso_cli_logs_in_prints_credentials_refreshes_populates_and_logs_out() {
    let srv = Server::start();
    let alice = srv.portal_user("alice").await;
    let s = srv.setup_access(CONFIG_NAME).await;
    srv.assign(&s, "User", &alice).await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let url = format!("http://{}/default/login", srv.addr);
    // Nothing to go on yet.
    fails(
        cli(
            home,
            &[
                "credentials",
                "--account-id",
                &s.account,
                "--access-configuration",
                CONFIG_NAME,
            ],
        ),
        "no sign-in URL",
    );
    fails(
        cli(home, &["login", "--sign-in-url", "https://x/default/login"]),
        "only http://",
    );

    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "alice").await;
    let printed = login(
        &srv,
        &mut b,
        home,
        &["login", "--sign-in-url", &url, "--no-browser"],
    )
    .await;
    assert!(
        !printed.iter().any(|l| l.contains("browser was opened")),
        "{printed:?}"
    );
    // The cache: private, one file per sign-in URL, the registration and both tokens.
    let cache = cache_path(home, &url);
    #[cfg(unix)]
    {
        assert_eq!(mode(&cache), 0o600);
        assert_eq!(mode(cache.parent().unwrap()), 0o700);
    }
    let c = read_json(&cache);
    assert_eq!(c["signInUrl"], url.as_str());
    let token = c["token"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = c["token"]["refreshToken"].as_str().unwrap().to_owned();
    note_secret(&token);
    note_secret(&refresh);
    assert!(c["registration"]["clientSecret"].is_string(), "{c}");
    let left = c["token"]["expiresAt"].as_i64().unwrap() - now();
    assert!((8 * 3600 - 60..=8 * 3600).contains(&left), "{left}");
    let config = read_json(&home.join(".cloudsso/config.json"));
    assert_eq!(config["sign_in_url"], url.as_str());
    until_granted(&srv, &token).await;

    // credentials, in each format, with the sign-in URL remembered.
    let by_name = [
        "credentials",
        "--account-id",
        &s.account,
        "--access-configuration",
        CONFIG_NAME,
    ];
    let env = ok(cli(home, &by_name));
    works_at_sts(&srv, &from_exports(&env), &s.account).await;
    let aliyun = ok(cli(
        home,
        &[
            "credentials",
            "--account-id",
            &s.account,
            "--access-configuration",
            &s.config,
            "--format",
            "aliyun",
        ],
    ));
    let a: Value = serde_json::from_str(&aliyun).unwrap();
    assert_eq!(a["mode"], "StsToken", "{a}");
    assert!(is_api_time(&a["expiration"]), "{a}");
    let from_aliyun = TempCredential {
        access_key_id: a["access_key_id"].as_str().unwrap().to_owned(),
        access_key_secret: a["access_key_secret"].as_str().unwrap().to_owned(),
        security_token: a["sts_token"].as_str().unwrap().to_owned(),
        expiration: time::OffsetDateTime::now_utc(),
    };
    works_at_sts(&srv, &from_aliyun, &s.account).await;
    let process = ok(cli(
        home,
        &[&by_name[..], &["--format", "process"]].concat(),
    ));
    let p: Value = serde_json::from_str(&process).unwrap();
    assert_eq!(p["Version"], 1, "{p}");
    assert!(
        p["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{p}"
    );
    assert!(
        p["SecretAccessKey"].as_str().is_some_and(|s| s.len() >= 40),
        "{p}"
    );
    assert!(
        p["SessionToken"].as_str().unwrap().starts_with("CSSO1."),
        "{p}"
    );
    assert!(is_api_time(&p["Expiration"]), "{p}");
    note_secret(p["SecretAccessKey"].as_str().unwrap());
    // Not one of the user's configurations.
    fails(
        cli(
            home,
            &[
                "credentials",
                "--account-id",
                &s.account,
                "--access-configuration",
                "Nope",
            ],
        ),
        "no access configuration `Nope`",
    );

    // profiles populate, merged into files the user already has.
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    let mine =
        json!({"name": "mine", "mode": "AK", "access_key_id": "LTAIx", "region_id": "cn-beijing"});
    write_json(
        &home.join(".aliyun/config.json"),
        &json!({"current": "mine", "profiles": [mine], "meta_path": ""}),
    );
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(home.join(".aws/config"), "[default]\nregion = us-east-1\n").unwrap();
    let out = ok(cli(
        home,
        &["profiles", "populate", "--region", "cn-hangzhou"],
    ));
    let name = format!("prod.{CONFIG_NAME}");
    assert!(out.contains(&name), "{out}");
    let ali = read_json(&home.join(".aliyun/config.json"));
    assert_eq!(ali["current"], "mine");
    assert_eq!(ali["profiles"][0], mine);
    let profile = &ali["profiles"][1];
    assert_eq!(profile["name"], name.as_str());
    assert_eq!(profile["mode"], "CloudSSO");
    assert_eq!(profile["cloud_sso_sign_in_url"], url.as_str());
    assert_eq!(profile["cloud_sso_account_id"], s.account.as_str());
    assert_eq!(profile["cloud_sso_access_config"], s.config.as_str());
    assert_eq!(profile["access_token"], token.as_str());
    assert_eq!(profile["region_id"], "cn-hangzhou");
    let aws = std::fs::read_to_string(home.join(".aws/config")).unwrap();
    assert!(aws.starts_with("[default]\nregion = us-east-1\n"), "{aws}");
    for needle in [
        format!(
            "[sso-session cloudsso]\nsso_start_url = {url}\nsso_region = cn-hangzhou\nsso_registration_scopes = sso:account:access\n"
        ),
        format!(
            "[profile {name}]\nsso_session = cloudsso\nsso_account_id = {}\nsso_role_name = {CONFIG_NAME}\nregion = cn-hangzhou\nservices = cloudsso\n",
            s.account
        ),
        format!(
            "[services cloudsso]\nsso_oidc =\n  endpoint_url = http://{}\n",
            srv.addr
        ),
    ] {
        assert!(aws.contains(&needle), "{needle}\nnot in\n{aws}");
    }
    let boto = read_json(&botocore_path(home));
    #[cfg(unix)]
    assert_eq!(mode(&botocore_path(home)), 0o600);
    assert_eq!(boto["startUrl"], url.as_str());
    assert_eq!(boto["accessToken"], token.as_str());
    assert_eq!(boto["refreshToken"], refresh.as_str());
    assert_eq!(boto["clientId"], c["registration"]["clientId"]);
    assert!(is_api_time(&boto["expiresAt"]) && is_api_time(&boto["registrationExpiresAt"]));

    // A refresh, forced by an expiry 5 minutes away: no browser step, a new access token and a
    // rotated refresh token, written to the aliyun profile and botocore's cache too.
    expire_cache(&cache, now() + 300);
    let env = ok(cli(home, &by_name));
    works_at_sts(&srv, &from_exports(&env), &s.account).await;
    let c2 = read_json(&cache);
    let token2 = c2["token"]["accessToken"].as_str().unwrap().to_owned();
    let refresh2 = c2["token"]["refreshToken"].as_str().unwrap().to_owned();
    note_secret(&token2);
    note_secret(&refresh2);
    assert!(token2 != token && refresh2 != refresh, "{c2}");
    assert!(c2["token"]["expiresAt"].as_i64().unwrap() - now() > 8 * 3600 - 60);
    assert_eq!(
        read_json(&home.join(".aliyun/config.json"))["profiles"][1]["access_token"],
        token2.as_str()
    );
    assert_eq!(
        read_json(&botocore_path(home))["refreshToken"],
        refresh2.as_str()
    );
    #[cfg(unix)]
    assert_eq!(mode(&cache), 0o600);

    // Commands renewing at the same moment (an SDK running credential_process in parallel)
    // take turns: one renews, the others use its token; no refresh token is presented twice
    // (which would end the whole sign-in).
    expire_cache(&cache, now() + 300);
    let runs: Vec<_> = (0..4)
        .map(|_| command(home, &by_name).spawn().unwrap())
        .collect();
    for run in runs {
        let out = tokio::task::spawn_blocking(move || run.wait_with_output().unwrap())
            .await
            .unwrap();
        works_at_sts(&srv, &from_exports(&ok(out)), &s.account).await;
    }
    let c2 = read_json(&cache);
    let token2 = c2["token"]["accessToken"].as_str().unwrap().to_owned();
    let refresh2 = c2["token"]["refreshToken"].as_str().unwrap().to_owned();
    note_secret(&token2);
    note_secret(&refresh2);
    assert_eq!(portal_status(&srv, &token2).await, 200);

    // boto3 refreshes on its own (rotating the refresh token) and writes its cache; the CLI
    // takes that newer token instead of presenting its used one (which would end the whole
    // sign-in).
    let reg = &c2["registration"];
    let r = srv
        .send(
            Method::POST,
            &format!("http://{}/token", srv.addr),
            &[("content-type", "application/json")],
            Some(
                serde_json::to_vec(
                    &json!({"clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
                    "grantType": "refresh_token", "refreshToken": refresh2}),
                )
                .unwrap(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token3 = r.body["accessToken"].as_str().unwrap().to_owned();
    let refresh3 = r.body["refreshToken"].as_str().unwrap().to_owned();
    note_secret(&token3);
    note_secret(&refresh3);
    let mut boto = read_json(&botocore_path(home));
    boto["accessToken"] = json!(token3);
    boto["refreshToken"] = json!(refresh3);
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(9);
    boto["expiresAt"] = json!(cloudsso::cli::client::acs_date(later));
    write_json(&botocore_path(home), &boto);
    expire_cache(&cache, now() + 300);
    works_at_sts(&srv, &from_exports(&ok(cli(home, &by_name))), &s.account).await;
    assert_eq!(read_json(&cache)["token"]["accessToken"], token3.as_str());
    let ali = read_json(&home.join(".aliyun/config.json"));
    assert_eq!(ali["profiles"][1]["access_token"], token3.as_str());
    assert_eq!(portal_status(&srv, &token3).await, 200);
    boto3_uses_the_profile_and_refreshes(home, &name).await;
    expire_cache(&cache, now() + 300);
    works_at_sts(&srv, &from_exports(&ok(cli(home, &by_name))), &s.account).await;
    let token4 = read_json(&cache)["token"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(portal_status(&srv, &token4).await, 200);

    // Signing in again (the URL remembered) replaces the sign-in: the old one ends, the new
    // token reaches the populated profiles, the registration is reused.
    login(&srv, &mut b, home, &["login", "--no-browser"]).await;
    let c5 = read_json(&cache);
    let token5 = c5["token"]["accessToken"].as_str().unwrap().to_owned();
    note_secret(&token5);
    assert_eq!(c5["registration"], c["registration"]);
    assert_eq!(portal_status(&srv, &token4).await, 401);
    assert_eq!(portal_status(&srv, &token5).await, 200);
    assert_eq!(
        read_json(&botocore_path(home))["accessToken"],
        token5.as_str()
    );
    let ali = read_json(&home.join(".aliyun/config.json"));
    assert_eq!(ali["profiles"][1]["access_token"], token5.as_str());

    // logout: the server ends the sign-in, the cache files go.
    let out = ok(cli(home, &["logout"]));
    assert!(out.contains("Signed out"), "{out}");
    assert!(!cache.exists());
    assert!(!botocore_path(home).exists());
    for t in [&token, &token2, &token3, &token4, &token5] {
        assert_eq!(portal_status(&srv, t).await, 401);
    }
    fails(cli(home, &by_name), "not signed in");
}

#[tokio::test]
async fn when_the_refresh_lifetime_ends_the_cli_says_to_log_in_again() {
    let srv = Server::start_with(&["--cli-refresh-seconds", "2"]);
    let alice = srv.portal_user("alice").await;
    let s = srv.setup_access(CONFIG_NAME).await;
    srv.assign(&s, "User", &alice).await;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let url = format!("http://{}/default/login", srv.addr);
    let mut b = Browser::new(&srv);
    sign_in_and_enroll(&mut b, "alice").await;
    // Denied in the portal: the login ends, with no token.
    let args = ["login", "--sign-in-url", &url, "--no-browser"];
    let (_, denied) = login_deciding(&srv, &mut b, home, &args, "deny").await;
    fails(denied, "the request was denied in the portal");
    assert!(read_json(&cache_path(home, &url)).get("token").is_none());
    login(&srv, &mut b, home, &args).await;
    let cache = cache_path(home, &url);
    let token = read_json(&cache)["token"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    until_granted(&srv, &token).await;
    let by_id = [
        "credentials",
        "--account-id",
        &s.account,
        "--access-configuration",
        &s.config,
    ];
    // Inside the window but still valid: a refused renewal falls back to the token.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = expire_cache(&cache, now() + 300);
    let o = cli(home, &by_id);
    assert!(
        text(&o.stderr).contains("could not renew"),
        "{}",
        text(&o.stderr)
    );
    works_at_sts(&srv, &from_exports(&ok(o)), &s.account).await;
    // Expired and not renewable: log in again.
    write_json(&cache, &before);
    expire_cache(&cache, now() - 1);
    fails(cli(home, &by_id), "run `cloudsso login` again");
}

#[tokio::test]
async fn a_code_nobody_approves_expires_and_the_login_ends() {
    let srv = Server::start_with(&["--device-code-seconds", "2"]);
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://{}/default/login", srv.addr);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking({
        let home = tmp.path().to_owned();
        move || cli(&home, &["login", "--sign-in-url", &url, "--no-browser"])
    })
    .await
    .unwrap();
    assert!(
        text(&out.stdout).contains("user_code="),
        "{}",
        text(&out.stdout)
    );
    fails(out, "expired");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
