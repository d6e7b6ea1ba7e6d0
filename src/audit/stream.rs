//! `--audit-log FILE`: every committed record appended to a file as one JSON line, for a
//! SIEM. A follower of the trail: after each commit it reads the records after the last one
//! it wrote (at most `STREAM_CHUNK_MAX` a round) and appends them. Its cursor is the file
//! itself (the `seq` of its last line), so a restart neither repeats nor skips a record that
//! is still kept. Must not hold the writer: it only reads.

use super::AuditError;
use crate::store::Db;
use crate::store::audit::StoredAudit;
use serde_json::{Value, json};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Most records appended in one round.
pub const STREAM_CHUNK_MAX: usize = 1_000;

/// How much of the file's end is read to find its last line, in bytes.
const TAIL_BYTES: u64 = 64 * 1024;

/// One record as its JSON line (no trailing newline).
pub fn line(s: &StoredAudit) -> String {
    let mut v = serde_json::to_value(&s.record).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("seq".into(), json!(s.seq));
        o.insert("digest".into(), json!(s.digest));
    }
    v.to_string()
}

/// The `seq` of the file's last complete line (0 for a missing or empty file).
fn last_seq(path: &Path) -> std::io::Result<u64> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
    let mut tail = String::new();
    f.read_to_string(&mut tail)?;
    Ok(tail
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v.get("seq").and_then(Value::as_u64))
        .unwrap_or(0))
}

/// Appends the records after `cursor`; the new cursor.
async fn round(db: &Db, path: &Path, cursor: u64) -> Result<u64, AuditError> {
    let batch = db
        .read(move |txn| Ok::<_, AuditError>(txn.audit_after(cursor, STREAM_CHUNK_MAX)?))
        .await?;
    let Some(last) = batch.last().map(|s| s.seq) else {
        return Ok(cursor);
    };
    let mut text = String::new();
    for s in &batch {
        text.push_str(&line(s));
        text.push('\n');
    }
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        f.write_all(text.as_bytes())?;
        f.flush()
    })
    .await
    .map_err(|e| io_error(e.to_string()))?
    .map_err(|e| io_error(e.to_string()))?;
    Ok(last)
}

fn io_error(reason: String) -> AuditError {
    AuditError::Log(reason)
}

/// Follows the trail into `path` until `stop` resolves.
pub async fn run(db: Db, path: PathBuf, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    let mut commits = db.commits();
    let mut cursor = match last_seq(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, file = %path.display(), "cannot read the audit log");
            return;
        }
    };
    loop {
        match round(&db, &path, cursor).await {
            Ok(c) if c != cursor => {
                cursor = c;
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, file = %path.display(), "audit log append failed"),
        }
        tokio::select! {
            changed = commits.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            () = &mut stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_the_last_complete_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&str, Option<&str>, u64)] = &[
            ("missing file", None, 0),
            ("empty file", Some(""), 0),
            ("two lines", Some("{\"seq\":1}\n{\"seq\":2}\n"), 2),
            (
                "a cut last line",
                Some("{\"seq\":1}\n{\"seq\":2}\n{\"se"),
                2,
            ),
        ];
        for (name, content, expected) in cases {
            let path = dir.path().join(name.replace(' ', "-"));
            if let Some(c) = content {
                std::fs::write(&path, c).unwrap();
            }
            assert_eq!(last_seq(&path).unwrap(), *expected, "{name}");
        }
    }
}
