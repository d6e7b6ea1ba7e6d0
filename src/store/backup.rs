//! Backup copies of the database: every table of `tables`, row by row, copied from one read
//! transaction (a snapshot: the writer goes on) into a new redb file; the row counts of a copy;
//! a copy checked page by page before it is restored.
//!
//! Owns which tables a backup holds and how rows are copied. Must not decide where files go,
//! what a manifest says or whether a folder may be overwritten (the `backup` command module
//! does), and must never write into the live database. Blocking: run it off the async executor.

use super::tables::*;
use super::{ReadTxn, Store, StoreError};
use redb::{
    MultimapTableDefinition, MultimapTableHandle, ReadableDatabase, ReadableMultimapTable,
    ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Rows written to a copy between two of its commits (the last one is durable): bounds the
/// memory a copy of a large database holds in one write transaction.
pub const COPY_ROWS_PER_COMMIT: u64 = 16_384;

/// Rows per table, by table name.
pub type RowCounts = BTreeMap<String, u64>;

/// What a copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The newest outbox sequence number in the copy: every write acknowledged with a version
    /// up to it is in the copy, and nothing after it.
    pub outbox_seq: u64,
    pub tables: RowCounts,
}

/// Why a copy could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database holds table `{0}`, which the backup does not know: it would be lost")]
    TableNotCopied(String),
    #[error("the database is open in another process (a running server?)")]
    InUse,
    #[error("not a readable database: {0}")]
    Unreadable(String),
    #[error("{action} `{path}`: {source}")]
    File {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl From<redb::StorageError> for SnapshotError {
    fn from(e: redb::StorageError) -> Self {
        SnapshotError::Store(e.into())
    }
}

/// Something done to every table a backup holds, each with its own key and value types.
/// Copies rows into a new database, committing every `COPY_ROWS_PER_COMMIT` rows.
struct Copier<'a> {
    src: &'a redb::ReadTransaction,
    dst: &'a redb::Database,
    txn: Option<redb::WriteTransaction>,
    since_commit: u64,
}

impl Copier<'_> {
    fn txn(&mut self) -> Result<&redb::WriteTransaction, SnapshotError> {
        let txn = match self.txn.take() {
            Some(t) => t,
            None => {
                let mut t = self.dst.begin_write().map_err(StoreError::from)?;
                t.set_durability(redb::Durability::None)
                    .map_err(|e| StoreError::Db(e.into()))?;
                t
            }
        };
        Ok(self.txn.insert(txn))
    }

    /// Commits once enough rows wait (not durably: the last commit is).
    fn rows_written(&mut self, n: u64) -> Result<(), SnapshotError> {
        self.since_commit += n;
        if self.since_commit >= COPY_ROWS_PER_COMMIT
            && let Some(t) = self.txn.take()
        {
            t.commit().map_err(StoreError::from)?;
            self.since_commit = 0;
        }
        Ok(())
    }

    /// The last commit, durable: returns once the copy is on disk.
    fn finish(mut self) -> Result<(), SnapshotError> {
        self.txn()?;
        if let Some(mut t) = self.txn.take() {
            t.set_durability(redb::Durability::Immediate)
                .map_err(|e| StoreError::Db(e.into()))?;
            t.commit().map_err(StoreError::from)?;
        }
        Ok(())
    }
}

impl EveryTable for Copier<'_> {
    type Error = SnapshotError;
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), SnapshotError> {
        let src = self.src.open_table(def).map_err(StoreError::from)?;
        let mut rows = src.iter()?;
        loop {
            let mut n = 0;
            {
                let mut out = self.txn()?.open_table(def).map_err(StoreError::from)?;
                for row in rows.by_ref() {
                    let (k, v) = row?;
                    out.insert(k.value(), v.value())?;
                    n += 1;
                    if n == COPY_ROWS_PER_COMMIT {
                        break;
                    }
                }
            }
            self.rows_written(n)?;
            if n < COPY_ROWS_PER_COMMIT {
                return Ok(());
            }
        }
    }

    fn multimap<K: redb::Key + 'static, V: redb::Key + 'static>(
        &mut self,
        def: MultimapTableDefinition<'static, K, V>,
    ) -> Result<(), SnapshotError> {
        let src = self
            .src
            .open_multimap_table(def)
            .map_err(StoreError::from)?;
        for row in src.iter()? {
            let (k, values) = row?;
            let mut n = 0;
            {
                let mut out = self
                    .txn()?
                    .open_multimap_table(def)
                    .map_err(StoreError::from)?;
                for v in values {
                    out.insert(k.value(), v?.value())?;
                    n += 1;
                }
            }
            self.rows_written(n)?;
        }
        Ok(())
    }
}

/// Counts the rows of every table (a multimap: its key-value pairs).
struct Counter<'a> {
    txn: &'a redb::ReadTransaction,
    counts: RowCounts,
}

impl EveryTable for Counter<'_> {
    type Error = SnapshotError;
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<(), SnapshotError> {
        let n = match self.txn.open_table(def) {
            Ok(t) => t.len()?,
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(StoreError::from(e).into()),
        };
        self.counts.insert(def.name().to_owned(), n);
        Ok(())
    }

    fn multimap<K: redb::Key + 'static, V: redb::Key + 'static>(
        &mut self,
        def: MultimapTableDefinition<'static, K, V>,
    ) -> Result<(), SnapshotError> {
        let n = match self.txn.open_multimap_table(def) {
            Ok(t) => t.len()?,
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(StoreError::from(e).into()),
        };
        self.counts.insert(def.name().to_owned(), n);
        Ok(())
    }
}

/// Names of the tables a backup holds.
fn known_tables() -> Result<Vec<String>, SnapshotError> {
    struct Names(Vec<String>);
    impl EveryTable for Names {
        type Error = SnapshotError;
        fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
            &mut self,
            def: TableDefinition<'static, K, V>,
        ) -> Result<(), SnapshotError> {
            self.0.push(def.name().to_owned());
            Ok(())
        }
        fn multimap<K: redb::Key + 'static, V: redb::Key + 'static>(
            &mut self,
            def: MultimapTableDefinition<'static, K, V>,
        ) -> Result<(), SnapshotError> {
            self.0.push(def.name().to_owned());
            Ok(())
        }
    }
    let mut names = Names(Vec::new());
    every_table(&mut names)?;
    Ok(names.0)
}

/// Refuses a database holding a table the backup does not copy.
fn check_all_known(txn: &redb::ReadTransaction) -> Result<(), SnapshotError> {
    let known = known_tables()?;
    let normal = txn.list_tables()?.map(|t| t.name().to_owned());
    let multi = txn.list_multimap_tables()?.map(|t| t.name().to_owned());
    match normal.chain(multi).find(|n| !known.contains(n)) {
        Some(name) => Err(SnapshotError::TableNotCopied(name)),
        None => Ok(()),
    }
}

fn summary(txn: &redb::ReadTransaction) -> Result<Snapshot, SnapshotError> {
    let mut counter = Counter {
        txn,
        counts: RowCounts::new(),
    };
    every_table(&mut counter)?;
    let outbox_seq = match txn.open_table(COUNTERS) {
        Ok(t) => t.get("seq")?.map(|v| v.value()).unwrap_or(0),
        Err(redb::TableError::TableDoesNotExist(_)) => 0,
        Err(e) => return Err(StoreError::from(e).into()),
    };
    Ok(Snapshot {
        outbox_seq,
        tables: counter.counts,
    })
}

/// Copies everything `txn` sees into `out`, a new empty file the caller made, open for reading
/// and writing (its permissions are the caller's), and returns what the copy holds once it is durable.
pub fn snapshot(txn: &ReadTxn, out: std::fs::File) -> Result<Snapshot, SnapshotError> {
    check_all_known(&txn.0)?;
    let backend = redb::backends::FileBackend::new(out).map_err(StoreError::from)?;
    let dst = redb::Builder::new()
        .create_with_backend(backend)
        .map_err(StoreError::from)?;
    let mut copier = Copier {
        src: &txn.0,
        dst: &dst,
        txn: None,
        since_commit: 0,
    };
    every_table(&mut copier)?;
    copier.finish()?;
    let copied = summary(&dst.begin_read().map_err(StoreError::from)?)?;
    let source = summary(&txn.0)?;
    if copied != source {
        return Err(SnapshotError::Unreadable(format!(
            "the copy holds {copied:?} but the snapshot {source:?}"
        )));
    }
    Ok(copied)
}

/// Opens a copy (or a stopped server's database), checking the checksum of every page first
/// (a plain open of an altered file may panic), and says what it holds.
pub fn inspect(path: &Path) -> Result<Snapshot, SnapshotError> {
    let db = redb::Builder::new()
        .set_check_integrity_on_open(true)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    let txn = db.begin_read().map_err(StoreError::from)?;
    check_all_known(&txn)?;
    summary(&txn)
}

fn open_error(path: &Path, e: redb::DatabaseError) -> SnapshotError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => SnapshotError::InUse,
        redb::DatabaseError::Storage(redb::StorageError::Io(source)) => SnapshotError::File {
            action: "opening",
            path: path.display().to_string(),
            source,
        },
        other => SnapshotError::Unreadable(other.to_string()),
    }
}

impl Store {
    /// Opens an existing database (never creates one) with the default page cache: a stopped
    /// server's, to back it up. `SnapshotError::InUse` while a server has it open.
    pub fn open_existing(path: &Path) -> Result<Store, SnapshotError> {
        let db = redb::Builder::new()
            .set_cache_size(crate::config::Limits::default().db_cache_bytes)
            .open(path)
            .map_err(|e| open_error(path, e))?;
        Ok(Store {
            db: std::sync::Arc::new(db),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, ResourceKind, ResourceType, UserId};
    use serde_json::json;

    /// A database with a row in as many tables as the store's own writes reach.
    fn populated(path: &Path) -> Store {
        let store = Store::open(path).unwrap();
        let w = store.write().unwrap();
        let doc = json!({"userName": "alice", "externalId": "x1",
            "emails": [{"value": "a@example.com"}]});
        w.put_resource(ResourceKind::User, "d-1", "u-1", None, &doc)
            .unwrap();
        w.set_password_hash("d-1", &UserId::new("u-1"), "$argon2id$x")
            .unwrap();
        w.append_change("d-1", ResourceType::User, "u-1", ChangeKind::Created)
            .unwrap();
        w.commit().unwrap();
        store
    }

    fn new_file(path: &Path) -> std::fs::File {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .unwrap()
    }

    fn copy_of(store: &Store, path: &Path) -> Snapshot {
        let file = new_file(path);
        snapshot(&store.read().unwrap(), file).unwrap()
    }

    #[test]
    fn a_backup_knows_every_table_of_a_populated_database() {
        let tmp = tempfile::tempdir().unwrap();
        let store = populated(&tmp.path().join("db.redb"));
        let txn = store.read().unwrap();
        let mut present: Vec<String> = txn
            .0
            .list_tables()
            .unwrap()
            .map(|t| t.name().to_owned())
            .collect();
        present.extend(
            txn.0
                .list_multimap_tables()
                .unwrap()
                .map(|t| t.name().to_owned()),
        );
        present.sort();
        let mut known = known_tables().unwrap();
        known.sort();
        assert_eq!(
            known, present,
            "store/backup.rs every_table must list every table"
        );
    }

    #[test]
    fn a_copy_holds_every_row_and_the_outbox_sequence() {
        let tmp = tempfile::tempdir().unwrap();
        let store = populated(&tmp.path().join("db.redb"));
        let snap = copy_of(&store, &tmp.path().join("copy.redb"));
        assert_eq!(snap.outbox_seq, 1);
        for (table, rows) in [
            ("users", 1),
            ("idx_user_name", 1),
            ("idx_user_email", 1),
            ("idx_user_external_id", 1),
            ("passwords", 1),
            ("outbox", 1),
            ("groups", 0),
        ] {
            assert_eq!(snap.tables[table], rows, "{table}");
        }
        let back = inspect(&tmp.path().join("copy.redb")).unwrap();
        assert_eq!(back, snap);
        let copy = Store::open(&tmp.path().join("copy.redb")).unwrap();
        let doc = copy
            .read()
            .unwrap()
            .resource(ResourceKind::User, "d-1", "u-1")
            .unwrap();
        assert_eq!(doc.unwrap()["userName"], "alice");
    }

    #[test]
    fn a_table_is_copied_whole_at_either_side_of_a_commit() {
        let n = COPY_ROWS_PER_COMMIT;
        for rows in [n - 1, n, n + 1, 2 * n + 7] {
            let tmp = tempfile::tempdir().unwrap();
            let store = Store::open(&tmp.path().join("db.redb")).unwrap();
            let w = store.write().unwrap();
            {
                let mut t = w.0.open_table(OUTBOX).unwrap();
                for i in 0..rows {
                    t.insert(i, [1u8, b'{', b'}'].as_slice()).unwrap();
                }
            }
            w.commit().unwrap();
            let snap = copy_of(&store, &tmp.path().join("copy.redb"));
            assert_eq!(snap.tables["outbox"], rows);
            let back = inspect(&tmp.path().join("copy.redb")).unwrap();
            assert_eq!(back.tables["outbox"], rows);
        }
    }

    #[test]
    fn a_table_the_backup_does_not_know_refuses_the_backup() {
        let tmp = tempfile::tempdir().unwrap();
        let store = populated(&tmp.path().join("db.redb"));
        let w = store.write().unwrap();
        let extra: TableDefinition<&str, u64> = TableDefinition::new("added_later");
        w.0.open_table(extra).unwrap().insert("k", 1).unwrap();
        w.commit().unwrap();
        let file = new_file(&tmp.path().join("copy.redb"));
        let err = snapshot(&store.read().unwrap(), file).unwrap_err();
        assert!(
            matches!(err, SnapshotError::TableNotCopied(ref t) if t == "added_later"),
            "{err}"
        );
    }

    #[test]
    fn an_open_database_is_in_use_and_an_altered_copy_is_unreadable() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("db.redb");
        let store = populated(&path);
        assert!(matches!(
            Store::open_existing(&path),
            Err(SnapshotError::InUse)
        ));
        let copy = tmp.path().join("copy.redb");
        copy_of(&store, &copy);
        let bytes = std::fs::read(&copy).unwrap();
        std::fs::write(&copy, &bytes[..bytes.len() / 2]).unwrap();
        assert!(inspect(&copy).is_err(), "a truncated copy");
        assert!(matches!(
            Store::open_existing(&tmp.path().join("missing.redb")),
            Err(SnapshotError::File { .. })
        ));
    }
}
