//! `cloudsso backup` while 16 clients write, and `cloudsso restore`: the restored server holds
//! exactly the writes acknowledged up to the manifest's outbox sequence, its engine converges;
//! restore refuses a folder that is not empty (without --force), a folder a server runs on,
//! another seal.key, and a corrupt, truncated or manifest-less backup, changing nothing; a
//! stopped server's folder backs up too; a restored folder without its seal.key does not start.

use crate::access_http::{Setup, grant};
use crate::harness::{PATCH_OP, Server, USER};
use hyper::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
/// Writes acknowledged before the backup starts, and after it returns, across all clients.
const WRITES_BEFORE: usize = 48;
const WRITES_AFTER: usize = 32;
const CONFIG_NAME: &str = "BackupAdmin";
/// Generous on a shared, noisy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(90);

/// One client's acknowledged writes: user id -> (its version, the version of the PATCH that
/// added it to the shared group, if acknowledged).
type Acks = BTreeMap<String, (u64, Option<u64>)>;

/// Runs the binary; (success, stdout, stderr).
fn cloudsso(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cloudsso"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn version_of(tag: &str) -> u64 {
    tag.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("version tag {tag}"))
}

/// POSTs users and adds each to `shared` until `stop`, recording every acknowledgement.
async fn client(
    srv: Arc<Server>,
    i: usize,
    shared: String,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
) -> Acks {
    let mut acks = Acks::new();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let r = srv
            .post(
                "/Users",
                json!({"schemas": [USER], "userName": format!("c{i}-{n}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.id();
        acks.insert(
            id.clone(),
            (
                version_of(r.body["meta"]["version"].as_str().unwrap()),
                None,
            ),
        );
        acked.fetch_add(1, Ordering::SeqCst);
        let ops = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
        let r = srv
            .patch(&format!("/Groups/{shared}?attributes=displayName"), ops)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let etag = r.header("etag").unwrap().to_owned();
        acks.get_mut(&id).unwrap().1 = Some(version_of(&etag));
        acked.fetch_add(1, Ordering::SeqCst);
    }
    acks
}

async fn wait_for(acked: &AtomicUsize, at_least: usize) {
    let started = Instant::now();
    while acked.load(Ordering::SeqCst) < at_least {
        assert!(
            started.elapsed() < DEADLINE,
            "clients stalled at {}",
            acked.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes under load, a backup in the middle; returns the setup, the shared group, every
/// acknowledgement and the backup's manifest.
async fn backup_under_load(
    srv: Server,
    file: &Path,
) -> (Setup, String, Acks, Value, tempfile::TempDir) {
    let s = srv.setup_access(CONFIG_NAME).await;
    let shared = srv.group("shared", &[]).await;
    assert_eq!(srv.assign(&s, "Group", &shared).await["Status"], "Success");
    let srv = Arc::new(srv);
    let (stop, acked) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(client(
                srv.clone(),
                i,
                shared.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    wait_for(&acked, WRITES_BEFORE).await;
    let data = srv.data.to_str().unwrap().to_owned();
    let out = file.to_str().unwrap().to_owned();
    let (ok, stdout, stderr) =
        tokio::task::spawn_blocking(move || cloudsso(&["backup", "--data", &data, "--out", &out]))
            .await
            .unwrap();
    assert!(ok, "backup: {stderr}");
    let at_backup = acked.load(Ordering::SeqCst);
    wait_for(&acked, at_backup + WRITES_AFTER).await;
    stop.store(true, Ordering::SeqCst);
    let mut acks = Acks::new();
    for t in tasks {
        acks.extend(t.await.unwrap());
    }
    let srv = Arc::into_inner(srv).unwrap();
    let (stopped, tmp) = srv.stop_keep();
    assert!(stopped, "the server stops cleanly");
    (
        s,
        shared,
        acks,
        serde_json::from_str(&stdout).unwrap(),
        tmp.unwrap(),
    )
}

fn copy(from: &Path, to: &Path, names: &[&str]) {
    for n in names {
        std::fs::copy(from.join(n), to.join(n)).unwrap();
    }
}

/// Every write acknowledged up to `seq` is in the restored server, and nothing after it.
async fn check_restored(srv: &Server, shared: &str, acks: &Acks, seq: u64) {
    let mut present = 0;
    for (id, (version, _)) in acks {
        let r = srv.get(&format!("/Users/{id}")).await;
        let want = if *version <= seq {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(
            r.status, want,
            "user {id} version {version}, backup at {seq}"
        );
        present += usize::from(*version <= seq);
    }
    let list = srv.get("/Users?count=0").await;
    assert_eq!(
        list.body["totalResults"],
        json!(present),
        "no user that was not acknowledged"
    );
    let group = srv.get(&format!("/Groups/{shared}")).await;
    let members: BTreeSet<String> = group.body["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let want: BTreeSet<String> = acks
        .iter()
        .filter(|(_, (_, m))| m.is_some_and(|v| v <= seq))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(members, want, "memberships acknowledged up to {seq}");
    assert!(
        present > 0 && present < acks.len(),
        "the backup was taken mid-load: {present} of {}",
        acks.len()
    );
}

/// Waits until every restored user has the shared group's grant exactly when it is a member;
/// returns how many were wrong at the first look (the engine's work after the restore).
async fn converges(srv: &Server, s: &Setup, shared: &str, acks: &Acks, seq: u64) -> usize {
    let with = grant(s, CONFIG_NAME, &[("Group", shared)]);
    let started = Instant::now();
    let mut first = None;
    loop {
        let mut wrong = Vec::new();
        for (id, (version, member)) in acks.iter().filter(|(_, (v, _))| *v <= seq) {
            let want = if member.is_some_and(|m| m <= seq) {
                with.clone()
            } else {
                json!([])
            };
            let got = srv.effective(s, id).await;
            if got != want {
                wrong.push(format!("{id} (version {version}): got {got}, want {want}"));
            }
        }
        let first = *first.get_or_insert(wrong.len());
        if wrong.is_empty() {
            return first;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the restored engine did not converge:\n{}",
            wrong.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn digest(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

/// A server on a restored folder refuses to start, saying why, without seal.key and with
/// another key; it makes no key of its own.
fn refuses_to_start_without_its_seal_key(data: &Path) {
    let key = data.join("seal.key");
    let cases: [(Option<[u8; 32]>, &str); 2] = [
        (None, "seal.key is missing"),
        (
            Some([9u8; 32]),
            "is not the key this database's secrets are sealed under",
        ),
    ];
    for (wrong_key, error) in cases {
        if let Some(k) = wrong_key {
            std::fs::write(&key, k).unwrap();
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cloudsso"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                data.to_str().unwrap(),
            ])
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(error),
            "{error}: {stderr}"
        );
        assert_eq!(
            std::fs::read(&key).ok(),
            wrong_key.map(Vec::from),
            "{error}: the key is untouched"
        );
    }
    std::fs::remove_file(&key).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_every_acknowledged_write_and_the_engine_converges() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("backup.redb");
    // The engine lags behind the writes, so the snapshot holds events it has not applied.
    let srv = Server::start_with(&["--reconcile-delay-ms", "5000"]);
    let (s, shared, acks, manifest, source) = backup_under_load(srv, &file).await;
    let seq = manifest["outbox_seq"].as_u64().unwrap();
    assert_eq!(
        manifest["online"], true,
        "taken by the running server: {manifest}"
    );
    let data = source.path().join("data");

    let restored = tmp.path().join("restored");
    let (ok, _, stderr) = cloudsso(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
    ]);
    assert!(ok, "restore: {stderr}");
    assert!(
        stderr.contains("seal.key"),
        "restore says seal.key is still needed: {stderr}"
    );
    refuses_to_start_without_its_seal_key(&restored);
    copy(&data, &restored, &["seal.key", "bootstrap.json"]);
    let srv = Server::start_on(&restored, &[]);
    check_restored(&srv, &shared, &acks, seq).await;
    let members = acks
        .values()
        .filter(|(_, m)| m.is_some_and(|m| m <= seq))
        .count();
    let granted = manifest["tables"]["provider_grants"].as_u64().unwrap();
    assert!(
        granted < members as u64,
        "the backup holds memberships the engine had not applied ({granted} grants, {members} members)"
    );
    let healed = converges(&srv, &s, &shared, &acks, seq).await;
    eprintln!(
        "backup: {} acknowledged users, backup at outbox seq {seq} with {members} members and {granted} grants; {healed} users' access still to apply at the first look",
        acks.len()
    );

    let (ok, _, stderr) = cloudsso(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
        "--force",
    ]);
    assert!(!ok && stderr.contains("a server is running"), "{stderr}");
    assert!(srv.stop());
    refusals_change_nothing(tmp.path(), &file, &restored, &data);
    let (ok, _, stderr) = cloudsso(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
        "--force",
    ]);
    assert!(ok, "--force replaces the database: {stderr}");
    assert!(
        !stderr.contains("seal.key"),
        "the folder holds the right seal.key: {stderr}"
    );

    stopped_server_backs_up(tmp.path(), &data, &acks);
}

/// A damaged backup: its name, its bytes, its manifest (if any), the error it gets.
type BadBackup<'a> = (&'a str, Vec<u8>, Option<&'a [u8]>, &'a str);

/// Refusals: a non-empty folder without --force, another seal.key, a corrupt, truncated or
/// manifest-less backup. Each leaves its target as it was.
fn refusals_change_nothing(dir: &Path, file: &Path, restored: &Path, data: &Path) {
    let before = digest(&restored.join("cloudsso.redb"));
    let (ok, _, stderr) = cloudsso(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
    ]);
    assert!(
        !ok && stderr.contains("is not empty") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(digest(&restored.join("cloudsso.redb")), before);

    let other_key = dir.join("other-key");
    std::fs::create_dir(&other_key).unwrap();
    std::fs::write(other_key.join("seal.key"), [9u8; 32]).unwrap();
    let (ok, _, stderr) = cloudsso(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        other_key.to_str().unwrap(),
        "--force",
    ]);
    assert!(!ok && stderr.contains("is not the sealing key"), "{stderr}");
    assert!(!other_key.join("cloudsso.redb").exists());

    let bytes = std::fs::read(file).unwrap();
    let manifest = std::fs::read(dir.join("backup.redb.manifest.json")).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let cases: [BadBackup; 3] = [
        ("flipped", flipped, Some(&manifest), "corrupt or truncated"),
        (
            "truncated",
            bytes[..bytes.len() / 3].to_vec(),
            Some(&manifest),
            "corrupt or truncated",
        ),
        ("no-manifest", bytes.clone(), None, "no manifest"),
    ];
    for (name, content, manifest, error) in cases {
        let bad = dir.join(format!("{name}.redb"));
        std::fs::write(&bad, content).unwrap();
        if let Some(m) = manifest {
            std::fs::write(dir.join(format!("{name}.redb.manifest.json")), m).unwrap();
        }
        let target = dir.join(format!("into-{name}"));
        let (ok, _, stderr) = cloudsso(&[
            "restore",
            "--from",
            bad.to_str().unwrap(),
            "--data",
            target.to_str().unwrap(),
        ]);
        assert!(!ok && stderr.contains(error), "{name}: {stderr}");
        assert!(!target.exists(), "{name}: the folder was not made");
    }
    assert!(data.join("seal.key").exists());
}

/// With the server stopped, the command copies the file itself: every acknowledged write.
fn stopped_server_backs_up(dir: &Path, data: &Path, acks: &Acks) {
    let file = dir.join("offline.redb");
    let (ok, stdout, stderr) = cloudsso(&[
        "backup",
        "--data",
        data.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let m: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(m["online"], false, "{m}");
    assert_eq!(m["tables"]["users"], json!(acks.len()), "{m}");
    let newest = acks
        .values()
        .flat_map(|(u, g)| [Some(*u), *g])
        .flatten()
        .max()
        .unwrap();
    assert!(m["outbox_seq"].as_u64().unwrap() >= newest, "{m}");
    let target = dir.join("from-offline");
    let (ok, _, stderr) = cloudsso(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        target.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
}
