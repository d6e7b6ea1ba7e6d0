//! The manifest written beside a backup file (`<FILE>.manifest.json`): what the copy holds
//! (outbox sequence, row counts), when and by which cloudsso it was made, the SHA-256 of the
//! file, and the fingerprint of the sealing key its secrets are sealed under (never the key).
//!
//! Owns the manifest's format and the checks a restore makes against it. Must not copy tables
//! (`store::backup` does) nor decide about folders.

use super::BackupError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The manifest format this cloudsso writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;
/// What is appended to a backup file's name to name its manifest.
pub const MANIFEST_SUFFIX: &str = ".manifest.json";
/// Largest manifest read, in bytes (a manifest is a few kilobytes).
pub const MANIFEST_BYTES_MAX: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The version of the cloudsso that wrote the backup.
    pub cloudsso_version: String,
    /// When the snapshot was taken (RFC 3339).
    pub created: String,
    /// The newest outbox sequence in the copy: every write acknowledged with a `meta.version`
    /// up to it is in the backup, and none after it.
    pub outbox_seq: u64,
    /// Taken by a running server (through its control socket) rather than from a stopped one's
    /// file.
    pub online: bool,
    /// The backup file's name (the manifest sits beside it).
    pub file: String,
    pub bytes: u64,
    /// SHA-256 of the backup file, hex.
    pub sha256: String,
    /// Fingerprint of the `seal.key` beside the database when the backup was taken (the key
    /// is not in the backup); absent when there was none.
    pub seal_key_fingerprint: Option<String>,
    /// Rows per table.
    pub tables: std::collections::BTreeMap<String, u64>,
}

/// Where the manifest of backup file `file` is.
pub fn path_of(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(MANIFEST_SUFFIX);
    file.with_file_name(name)
}

/// Size and SHA-256 (hex) of a file, read in one pass.
pub fn digest_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut f = super::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|source| BackupError::file("reading", path, source))?;
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            return Ok((bytes, hex(&hasher.finalize())));
        };
        hasher.update(chunk);
        bytes += n as u64;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and checks the manifest beside `file`: its format, and a cloudsso version this one
/// can read (the same or older).
pub fn read(file: &Path) -> Result<Manifest, BackupError> {
    let path = path_of(file);
    let f = std::fs::File::open(&path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => BackupError::ManifestMissing(path.clone()),
        _ => BackupError::file("opening", &path, source),
    })?;
    let mut text = Vec::new();
    f.take(MANIFEST_BYTES_MAX)
        .read_to_end(&mut text)
        .map_err(|source| BackupError::file("reading", &path, source))?;
    let m: Manifest = serde_json::from_slice(&text).map_err(|e| BackupError::ManifestInvalid {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    check_compatible(&m, env!("CARGO_PKG_VERSION"))?;
    Ok(m)
}

/// A backup this cloudsso (`ours`) can restore: the same manifest format, made by the same or
/// an older version (a newer one may have written a database format this one cannot read).
pub fn check_compatible(m: &Manifest, ours: &str) -> Result<(), BackupError> {
    if m.format != MANIFEST_FORMAT {
        return Err(BackupError::Incompatible(format!(
            "manifest format {} (this cloudsso reads {MANIFEST_FORMAT})",
            m.format
        )));
    }
    match (version(&m.cloudsso_version), version(ours)) {
        (Some(theirs), Some(mine)) if theirs <= mine => Ok(()),
        _ => Err(BackupError::Incompatible(format!(
            "made by cloudsso `{}`, which is not this version ({ours}) or an older one",
            m.cloudsso_version
        ))),
    }
}

/// `major.minor.patch` of a version (a pre-release or build suffix ignored).
fn version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let out = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn manifest(format: u32, version: &str) -> Manifest {
        Manifest {
            format,
            cloudsso_version: version.into(),
            created: "2026-12-03T00:00:00Z".into(),
            outbox_seq: 1,
            online: true,
            file: "b.redb".into(),
            bytes: 1,
            sha256: String::new(),
            seal_key_fingerprint: None,
            tables: Default::default(),
        }
    }

    #[test]
    fn a_backup_restores_on_the_same_or_a_newer_cloudsso_only() {
        let cases = [
            (1, "0.1.0", "0.1.0", true),
            (1, "0.1.0", "0.2.0", true),
            (1, "0.9.9", "1.0.0", true),
            (1, "0.1.0-rc.1", "0.1.0", true),
            (1, "0.2.0", "0.1.9", false),
            (1, "1.0.0", "0.9.9", false),
            (1, "garbage", "0.1.0", false),
            (1, "0.1", "0.1.0", false),
            (2, "0.1.0", "0.1.0", false),
            (0, "0.1.0", "0.1.0", false),
        ];
        for (format, theirs, ours, ok) in cases {
            let got = check_compatible(&manifest(format, theirs), ours);
            assert_eq!(
                got.is_ok(),
                ok,
                "format {format}, {theirs} on {ours}: {got:?}"
            );
        }
    }

    #[test]
    fn a_manifest_sits_beside_its_file() {
        assert_eq!(
            path_of(Path::new("/b/x.redb")),
            Path::new("/b/x.redb.manifest.json")
        );
    }
}
