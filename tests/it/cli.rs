//! The `cloudsso` client subcommands against a real server: configure from bootstrap.json,
//! signed calls, table and JSON output, exit codes.

use crate::harness::Server;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `cloudsso <args>` with its profiles in `config`.
fn cli(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudsso"))
        .args(args)
        .env("CLOUDSSO_CONFIG", config)
        .env_remove("CLOUDSSO_PROFILE")
        .env_remove("CLOUDSSO_ACCESS_KEY_ID")
        .env_remove("CLOUDSSO_ACCESS_KEY_SECRET")
        .output()
        .expect("run cloudsso")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: Output) -> String {
    assert!(o.status.success(), "{:?}: {}", o.status, stderr(&o));
    stdout(&o)
}

#[test]
fn configure_from_bootstrap_then_create_list_and_fail() {
    let s = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("cloudsso").join("config.json");
    let boot = s.data.join("bootstrap.json");
    let out = ok(cli(
        &config,
        &["configure", "--from-bootstrap", boot.to_str().unwrap()],
    ));
    assert!(out.contains("profile `default`"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let d = s.directory_id.as_str();

    let table = ok(cli(
        &config,
        &[
            "sso",
            "create-user",
            "--directory-id",
            d,
            "--user-name",
            "alice",
            "--display-name",
            "Alice A",
        ],
    ));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("UserName") && l.ends_with(" alice")),
        "{table}"
    );

    let json = ok(cli(
        &config,
        &["sso", "list-users", "--directory-id", d, "--output", "json"],
    ));
    let answer: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(answer["TotalCounts"], 1, "{answer}");
    assert_eq!(answer["Users"][0]["UserName"], "alice");
    assert_eq!(answer["Users"][0]["DisplayName"], "Alice A");
    assert!(answer["RequestId"].is_string());

    let listed = ok(cli(&config, &["sso", "list-users", "--directory-id", d]));
    let header = listed.lines().next().unwrap();
    assert!(
        header.starts_with("UserId") && header.contains("UserName"),
        "{listed}"
    );
    assert!(listed.contains("alice"), "{listed}");

    // RAM lists sit one level down (`Users.User`).
    let admins = ok(cli(&config, &["ram", "list-users", "-o", "json"]));
    let admins: Value = serde_json::from_str(&admins).unwrap();
    assert_eq!(admins["Users"]["User"].as_array().unwrap().len(), 1);

    let missing = cli(
        &config,
        &[
            "sso",
            "get-user",
            "--directory-id",
            d,
            "--user-id",
            "u-nobody",
        ],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).starts_with("EntityNotExists.User: "),
        "{}",
        stderr(&missing)
    );
    assert!(stdout(&missing).is_empty());

    // A wrong secret is refused by the server, not by the client.
    ok(cli(
        &config,
        &[
            "configure",
            "--profile",
            "bad",
            "--from-bootstrap",
            boot.to_str().unwrap(),
            "--access-key-secret",
            "wrong",
        ],
    ));
    let refused = cli(&config, &["sso", "--profile", "bad", "list-directories"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("Signature"),
        "{}",
        stderr(&refused)
    );

    // Usage errors are clap's (exit 2); an unknown profile and a dead server exit 1.
    assert_eq!(cli(&config, &["sso", "list-users"]).status.code(), Some(2));
    let unknown = cli(&config, &["sso", "--profile", "nope", "list-directories"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no profile `nope`"),
        "{}",
        stderr(&unknown)
    );
    assert!(s.stop());
    let down = cli(&config, &["sso", "list-directories"]);
    assert_eq!(down.status.code(), Some(1));
    assert!(stderr(&down).contains("cannot reach"), "{}", stderr(&down));
}
