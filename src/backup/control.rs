//! The server's control socket, `<data>/control.sock` (mode 0600, inside the owner-only data
//! folder): the way `cloudsso backup` reaches a running server, whose redb file no other
//! process can open. One request a connection, one JSON line each way:
//! `{"op":"backup","out":"/abs/file"}` answered `{"manifest":{...}}` or `{"error":"..."}`.
//!
//! Why a socket and not a signed management operation: a backup is a file on the server's own
//! disk, beside a `seal.key` that must be copied by hand anyway, so whoever takes one already
//! has the data folder's owner's access; the socket asks exactly that (file permissions and
//! the peer's uid) and no AccessKey, and a management operation would let a network caller
//! name a path the server writes to.
//!
//! Owns the socket and its protocol. Must not copy tables or write files itself (the parent
//! module does) and must not run the copy on the async executor.

use super::{BackupError, Manifest};
use crate::store::Db;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The control socket's file name inside the data folder.
pub const SOCKET_FILE: &str = "control.sock";
/// Largest request line, in bytes (a path is at most a few kilobytes).
pub const REQUEST_BYTES_MAX: u64 = 16 * 1024;
/// Largest answer line, in bytes (a manifest is a few kilobytes).
pub const ANSWER_BYTES_MAX: u64 = 1 << 20;
/// Longest wait for a client's request line.
pub const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Backup { out: PathBuf },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Manifest(Manifest),
    Error(String),
}

pub fn socket_path(data: &Path) -> PathBuf {
    data.join(SOCKET_FILE)
}

/// The control socket a server serves until `stop`.
pub struct ControlSocket {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl ControlSocket {
    /// Stops answering and removes the socket file.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `<data>/control.sock` (removing a socket a killed server left: the caller holds
/// the database's lock, so no other server runs on this folder). Requests are served one at a
/// time, so at most one backup is written at once.
pub fn listen(data: &Path, db: Db) -> Result<ControlSocket, BackupError> {
    listen_with(data, db, REQUEST_READ_TIMEOUT)
}

/// `listen` with the wait for a request line given (tests shorten it).
fn listen_with(data: &Path, db: Db, read_timeout: Duration) -> Result<ControlSocket, BackupError> {
    use std::os::unix::fs::FileTypeExt;
    let path = socket_path(data);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
        std::fs::remove_file(&path).map_err(|e| BackupError::file("removing", &path, e))?;
    }
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| BackupError::file("listening on", &path, e))?;
    set_owner_only(&path)?;
    let data = data.to_owned();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors, say: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            serve_one(stream, &data, &db, read_timeout).await;
        }
    });
    Ok(ControlSocket { path, task })
}

fn set_owner_only(path: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| BackupError::file("setting permissions of", path, e))
}

/// Answers one connection: a peer running as another user (root excepted) is refused.
async fn serve_one(stream: tokio::net::UnixStream, data: &Path, db: &Db, read_timeout: Duration) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let allowed = peer_allowed(&stream, data);
    let (read, mut write) = stream.into_split();
    let answer = match allowed {
        false => Answer::Error("refused: the peer runs as another user".into()),
        true => {
            let mut line = Vec::new();
            let mut reader = tokio::io::BufReader::new(read.take(REQUEST_BYTES_MAX));
            let read =
                tokio::time::timeout(read_timeout, reader.read_until(b'\n', &mut line)).await;
            match read {
                Ok(Ok(_)) if line.last() == Some(&b'\n') => run(&line, data, db).await,
                Ok(Ok(n)) if n as u64 == REQUEST_BYTES_MAX => Answer::Error(format!(
                    "a request line is at most {REQUEST_BYTES_MAX} bytes"
                )),
                Ok(_) => Answer::Error("the request line is incomplete".into()),
                Err(_) => Answer::Error("no request line in time".into()),
            }
        }
    };
    let mut text = serde_json::to_vec(&answer).unwrap_or_default();
    text.push(b'\n');
    let _ = write.write_all(&text).await;
}

fn peer_allowed(stream: &tokio::net::UnixStream, data: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(peer) = stream.peer_cred() else {
        return false;
    };
    let owner = std::fs::metadata(socket_path(data)).map(|m| m.uid());
    peer.uid() == 0 || owner.is_ok_and(|uid| uid == peer.uid())
}

async fn run(line: &[u8], data: &Path, db: &Db) -> Answer {
    let request: Request = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => return Answer::Error(format!("not a request: {e}")),
    };
    let Request::Backup { out } = request;
    if !out.is_absolute() {
        return Answer::Error(format!("`{}` is not an absolute path", out.display()));
    }
    let (db, data) = (db.clone(), data.to_owned());
    let job = tokio::task::spawn_blocking(move || super::backup_from(&db, &data, &out)).await;
    match job {
        Ok(Ok(m)) => {
            tracing::info!(file = %m.file, outbox_seq = m.outbox_seq, bytes = m.bytes, "backup written");
            Answer::Manifest(m)
        }
        Ok(Err(e)) => Answer::Error(e.to_string()),
        Err(e) => Answer::Error(format!("the backup was interrupted: {e}")),
    }
}

/// Whether a server answers on `data`'s control socket.
pub fn answers(data: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket_path(data)).is_ok()
}

/// Asks the server running on `data` to write a backup to `out` (absolute) and waits for its
/// manifest; `None` when no server listens there. Blocking.
pub fn request_backup(data: &Path, out: &Path) -> Result<Option<Manifest>, BackupError> {
    let path = socket_path(data);
    let mut stream = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(BackupError::file("connecting to", &path, e)),
    };
    let mut line = serde_json::to_vec(&Request::Backup {
        out: out.to_owned(),
    })
    .unwrap_or_default();
    line.push(b'\n');
    stream
        .write_all(&line)
        .map_err(|e| BackupError::file("writing to", &path, e))?;
    let mut answer = Vec::new();
    std::io::BufReader::new(stream.take(ANSWER_BYTES_MAX))
        .read_until(b'\n', &mut answer)
        .map_err(|e| BackupError::file("reading from", &path, e))?;
    match serde_json::from_slice(&answer) {
        Ok(Answer::Manifest(m)) => Ok(Some(m)),
        Ok(Answer::Error(e)) => Err(BackupError::Control(e)),
        Err(e) => Err(BackupError::Control(format!(
            "an answer that is not one: {e}"
        ))),
    }
}

/// No server listens: no socket file, or one a killed server left.
fn gone(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::store::{Store, Writer};

    async fn ask(data: &Path, request: Vec<u8>) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::UnixStream::connect(socket_path(data))
            .await
            .unwrap();
        s.write_all(&request).await.unwrap();
        let _ = s.shutdown().await;
        let mut answer = Vec::new();
        // A request the server did not read to its end is reset after the answer.
        let _ = s.read_to_end(&mut answer).await;
        serde_json::from_slice(&answer).unwrap()
    }

    /// A request line of exactly `len` bytes (newline included), padded with spaces.
    fn request(out: &Path, len: usize) -> Vec<u8> {
        let mut line = serde_json::to_vec(&Request::Backup {
            out: out.to_owned(),
        })
        .unwrap();
        line.resize(len - 1, b' ');
        line.push(b'\n');
        line
    }

    fn error_of(a: Answer) -> String {
        match a {
            Answer::Error(e) => e,
            Answer::Manifest(m) => panic!("a backup was written: {m:?}"),
        }
    }

    #[tokio::test]
    async fn the_socket_answers_a_request_within_its_limits_and_refuses_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let data = &tmp.path().join("data");
        std::fs::create_dir(data).unwrap();
        let store = Store::open(&data.join(crate::app::DB_FILE)).unwrap();
        let (writer, _thread) = Writer::start(store.clone(), 8, 8).unwrap();
        let timeout = Duration::from_millis(300);
        let control = listen_with(data, Db::new(store, writer), timeout).unwrap();
        let out = tmp.path().join("b.redb");
        let at_limit = ask(data, request(&out, REQUEST_BYTES_MAX as usize)).await;
        let Answer::Manifest(m) = at_limit else {
            panic!("a request of REQUEST_BYTES_MAX bytes: {at_limit:?}")
        };
        assert!(m.online && out.exists() && m.file == "b.redb", "{m:?}");
        let cases: [(Vec<u8>, &str); 6] = [
            (request(&out, REQUEST_BYTES_MAX as usize + 1), "is at most"),
            (
                b"{\"op\":\"backup\",\"out\":\"rel.redb\"}\n".to_vec(),
                "not an absolute path",
            ),
            (b"{\"op\":\"drop\"}\n".to_vec(), "not a request"),
            (b"garbage\n".to_vec(), "not a request"),
            (b"{\"op\":".to_vec(), "incomplete"),
            (
                request(&data.join(crate::app::DB_FILE), 200),
                "is in the data folder",
            ),
        ];
        for (line, want) in cases {
            let got = error_of(ask(data, line).await);
            assert!(got.contains(want), "{want}: {got}");
        }
        // A client that connects and says nothing is answered once the wait is over.
        let mut silent = tokio::net::UnixStream::connect(socket_path(data))
            .await
            .unwrap();
        let mut answer = Vec::new();
        let read = tokio::io::AsyncReadExt::read_to_end(&mut silent, &mut answer);
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .unwrap()
            .unwrap();
        let got = error_of(serde_json::from_slice(&answer).unwrap());
        assert!(got.contains("no request line in time"), "{got}");
        control.stop().await;
        assert!(!socket_path(data).exists(), "stop removes the socket");
        assert!(!answers(data));
    }
}
