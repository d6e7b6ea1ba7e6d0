//! `cloudsso backup` and `cloudsso restore`: a consistent copy of the database written to a
//! temporary file, made durable, then renamed, with its manifest beside it; and a restore that
//! checks the manifest (format, version, SHA-256, row counts, the sealing key's fingerprint)
//! before the copy replaces a data folder's database.
//!
//! A running server holds redb's exclusive lock on its file, so `backup` first asks the server
//! through its control socket (`control`) to take the snapshot on its own read transaction; with
//! no server answering it opens the file itself. Owns the backup and restore procedures and the
//! files they write. Must not copy tables (`store::backup` does), talk HTTP, or ever copy
//! `seal.key`: it must be backed up separately.

pub mod control;
pub mod manifest;

use crate::app::{DB_FILE, SEAL_KEY_FILE};
use crate::store::backup::{Snapshot, SnapshotError};
use crate::store::{Db, Store};
pub use manifest::Manifest;
use std::path::{Path, PathBuf};

/// What is appended to a file's name while it is written (never a partial file at its name).
const PARTIAL_SUFFIX: &str = ".partial";

/// Why a backup or a restore did not happen. Each one leaves the target as it was.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    #[error("{action} `{}`: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not empty; restore with --force to replace its database", .0.display())]
    NotEmpty(PathBuf),
    #[error("a server is running on `{}` (its control socket answers); stop it before restoring", .0.display())]
    ServerRunning(PathBuf),
    #[error("no manifest `{}` beside the backup file", .0.display())]
    ManifestMissing(PathBuf),
    #[error("manifest `{}` is not valid: {reason}", path.display())]
    ManifestInvalid { path: PathBuf, reason: String },
    #[error("the backup cannot be restored here: {0}")]
    Incompatible(String),
    #[error("the backup file `{}` is corrupt or truncated: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "`{}` is not the sealing key this backup's secrets were sealed under (fingerprint {found}, the backup needs {wanted}); put the original seal.key there, or restore into a folder without one",
        path.display()
    )]
    SealKeyMismatch {
        path: PathBuf,
        found: String,
        wanted: String,
    },
    #[error("the server's control socket: {0}")]
    Control(String),
    #[error("`{}` is in the data folder; write backups elsewhere (one there dies with the database's disk, and could replace its files)", .0.display())]
    InsideData(PathBuf),
}

impl BackupError {
    fn file(action: &'static str, path: &Path, source: std::io::Error) -> BackupError {
        BackupError::File {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

/// What a restore left in the data folder besides the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub manifest: Manifest,
    /// Whether the folder holds the `seal.key` the backup needs (false: it must be put there
    /// before the server can start).
    pub seal_key_present: bool,
}

/// `cloudsso backup`: asks the server running on `data` to write the backup, or, when none
/// answers, copies the stopped server's database itself. Blocking.
pub fn backup(data: &Path, out: &Path) -> Result<Manifest, BackupError> {
    let out = std::path::absolute(out).map_err(|e| BackupError::file("resolving", out, e))?;
    if let Some(m) = control::request_backup(data, &out)? {
        return Ok(m);
    }
    let store = Store::open_existing(&data.join(DB_FILE)).map_err(|e| match e {
        SnapshotError::InUse => BackupError::Control(format!(
            "the database is open in another process but `{}` does not answer",
            control::socket_path(data).display()
        )),
        other => other.into(),
    })?;
    write_backup(data, &out, false, |file| {
        crate::store::backup::snapshot(&store.read()?, file)
    })
}

/// The running server's half of `backup`: a snapshot of its own read transaction. Blocking.
pub fn backup_from(db: &Db, data: &Path, out: &Path) -> Result<Manifest, BackupError> {
    write_backup(data, out, true, |file| {
        db.read_now(|txn| crate::store::backup::snapshot(txn, file))
    })
}

/// Writes the copy `copy` makes to `<out>.partial`, then its manifest, both durably, then
/// renames them into place; a failure removes what it wrote.
fn write_backup(
    data: &Path,
    out: &Path,
    online: bool,
    copy: impl FnOnce(std::fs::File) -> Result<Snapshot, SnapshotError>,
) -> Result<Manifest, BackupError> {
    check_outside(data, out)?;
    let partial = partial_of(out);
    let manifest_path = manifest::path_of(out);
    let manifest_partial = partial_of(&manifest_path);
    let result = (|| {
        let snapshot = copy(create_private(&partial)?)?;
        sync(&partial)?;
        let (bytes, sha256) = manifest::digest_file(&partial)?;
        let m = Manifest {
            format: manifest::MANIFEST_FORMAT,
            cloudsso_version: env!("CARGO_PKG_VERSION").into(),
            created: crate::model::now_rfc3339(),
            outbox_seq: snapshot.outbox_seq,
            online,
            file: file_name(out),
            bytes,
            sha256,
            seal_key_fingerprint: seal_fingerprint(data)?,
            tables: snapshot.tables,
        };
        let text = serde_json::to_vec_pretty(&m).unwrap_or_default();
        write_durably(&manifest_partial, &text)?;
        rename(&partial, out)?;
        rename(&manifest_partial, &manifest_path)?;
        sync_parent(out)?;
        Ok(m)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(&manifest_partial);
    }
    result
}

/// Refuses a backup file directly in the data folder.
fn check_outside(data: &Path, out: &Path) -> Result<(), BackupError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(data), std::fs::canonicalize(parent)) {
        (Ok(d), Ok(p)) if d == p => Err(BackupError::InsideData(out.to_owned())),
        _ => Ok(()),
    }
}

/// `cloudsso restore`: checks the backup and its manifest, then puts the copy in place of
/// `data`'s database. Refuses a folder that is not empty unless `force`, a folder a server
/// runs on, and a `seal.key` other than the backup's. Blocking.
pub fn restore(from: &Path, data: &Path, force: bool) -> Result<Restored, BackupError> {
    let m = manifest::read(from)?;
    check_digest(from, &m)?;
    check_folder(data, force)?;
    let seal_key_present = check_seal_key(data, &m)?;
    let created = !data.exists();
    if created {
        create_private_dir(data)?;
    }
    let db = data.join(DB_FILE);
    let partial = partial_of(&db);
    let result = copy_checked(from, &partial, &m)
        .and_then(|()| rename(&partial, &db))
        .and_then(|()| sync_dir(data));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
        if created {
            let _ = std::fs::remove_dir(data);
        }
    }
    result.map(|()| Restored {
        manifest: m,
        seal_key_present,
    })
}

fn check_digest(file: &Path, m: &Manifest) -> Result<(), BackupError> {
    let (bytes, sha256) = manifest::digest_file(file)?;
    if bytes != m.bytes || sha256 != m.sha256 {
        return Err(BackupError::Corrupt {
            path: file.to_owned(),
            reason: format!(
                "{bytes} bytes with SHA-256 {sha256}, but the manifest says {} bytes with SHA-256 {}",
                m.bytes, m.sha256
            ),
        });
    }
    Ok(())
}

/// A folder may be restored into when it is missing or empty; with `force`, when no server
/// runs on it.
fn check_folder(data: &Path, force: bool) -> Result<(), BackupError> {
    let mut entries = match std::fs::read_dir(data) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BackupError::file("reading", data, e)),
    };
    if entries.next().is_none() {
        return Ok(());
    }
    if !force {
        return Err(BackupError::NotEmpty(data.to_owned()));
    }
    if control::answers(data) {
        return Err(BackupError::ServerRunning(data.to_owned()));
    }
    let db = data.join(DB_FILE);
    if db.exists() {
        // Opening takes redb's lock: a server holding the file refuses it.
        drop(Store::open_existing(&db)?);
    }
    Ok(())
}

/// Whether `data` holds the backup's sealing key; refuses another key.
fn check_seal_key(data: &Path, m: &Manifest) -> Result<bool, BackupError> {
    let Some(found) = seal_fingerprint(data)? else {
        return Ok(false);
    };
    match &m.seal_key_fingerprint {
        Some(wanted) if *wanted != found => Err(BackupError::SealKeyMismatch {
            path: data.join(SEAL_KEY_FILE),
            found,
            wanted: wanted.clone(),
        }),
        _ => Ok(true),
    }
}

/// Copies the backup to `partial` (owner-only), durably, and checks the copy: the digest
/// again, then every page and the row counts of the manifest.
fn copy_checked(from: &Path, partial: &Path, m: &Manifest) -> Result<(), BackupError> {
    let mut src = open(from)?;
    let mut dst = create_private(partial)?;
    std::io::copy(&mut src, &mut dst).map_err(|e| BackupError::file("copying to", partial, e))?;
    dst.sync_all()
        .map_err(|e| BackupError::file("syncing", partial, e))?;
    drop(dst);
    check_digest(partial, m)?;
    let inside = crate::store::backup::inspect(partial).map_err(|e| BackupError::Corrupt {
        path: from.to_owned(),
        reason: e.to_string(),
    })?;
    if inside.outbox_seq != m.outbox_seq || inside.tables != m.tables {
        return Err(BackupError::Corrupt {
            path: from.to_owned(),
            reason: "its tables do not hold what the manifest counts".into(),
        });
    }
    Ok(())
}

/// The fingerprint of `<data>/seal.key`, if there is one.
fn seal_fingerprint(data: &Path) -> Result<Option<String>, BackupError> {
    let path = data.join(SEAL_KEY_FILE);
    match std::fs::read(&path) {
        Ok(key) => Ok(Some(crate::seal::fingerprint(&key))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BackupError::file("reading", &path, e)),
    }
}

fn partial_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(PARTIAL_SUFFIX);
    path.with_file_name(name)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn open(path: &Path) -> Result<std::fs::File, BackupError> {
    std::fs::File::open(path).map_err(|e| BackupError::file("opening", path, e))
}

/// A new file (replacing a leftover one) readable by its owner only: a backup holds personal
/// data and password hashes.
fn create_private(path: &Path) -> Result<std::fs::File, BackupError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .map_err(|e| BackupError::file("creating", path, e))
}

fn create_private_dir(path: &Path) -> Result<(), BackupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|e| BackupError::file("creating", path, e))
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let mut f = create_private(path)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| BackupError::file("writing", path, e))
}

fn sync(path: &Path) -> Result<(), BackupError> {
    open(path)?
        .sync_all()
        .map_err(|e| BackupError::file("syncing", path, e))
}

fn sync_parent(path: &Path) -> Result<(), BackupError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
        _ => sync_dir(Path::new(".")),
    }
}

/// Makes the renames inside `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    sync(dir)
}

fn rename(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::rename(from, to).map_err(|e| BackupError::file("renaming", from, e))
}
