//! The audit trail's storage: one record per audited request in the `audit` table, keyed by a
//! sequence number in append order, each carrying the SHA-256 digest of the stored bytes of
//! the record before it (the chain); the anchor pruning leaves (the last pruned record's
//! number and digest), so the chain still starts somewhere known; and the request's audit
//! scope, which `Db::write` reads to append a write's record in the write's own transaction.
//!
//! Owns the table, its keys and the chain. Must not decide what is audited or how it is
//! named (the http edge and `audit` do); never stores a request body or a secret, because it
//! is only ever handed an `AuditRecord`.

use super::keys::MetaKey;
use super::tables::AUDIT;
use super::{ReadTxn, StoreError, WriteTxn, decode, encode};
use crate::model::{ChangeEvent, ResourceType};
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};

/// The last pruned record: its number and digest (the oldest kept record's `prev`).
const AUDIT_ANCHOR: MetaKey<'static> = MetaKey {
    name: "audit_anchor",
};

/// Who made an audited request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorKind {
    /// A management API caller: `id` is the AccessKeyId, `name` the administrator (or, for a
    /// user's temporary credentials, `assumed-role/<role>/<session>`, with the directory).
    AccessKey,
    /// A SCIM client with a bearer token: `id` is the credential id.
    ScimCredential,
    /// A SCIM client with an OAuth client secret or token: `id` is the client (credential) id.
    OAuthClient,
    /// A portal user: `id` the user id when known, `name` the user name as typed or stored.
    User,
    /// Nobody authenticated (a refused signature, an unknown token).
    #[default]
    Anonymous,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    pub name: String,
    /// The directory of a SCIM client, a portal user or a user's temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
}

/// One audited request. Never holds a body, a password, a token or a signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339, UTC, milliseconds; set when the record is appended.
    pub time: String,
    pub unix_ms: i64,
    pub request_id: String,
    pub actor: Actor,
    /// `cloudsso:CreateUser`, `scim:PatchGroup`, `signin:Login`, `oauth:IssueToken`...
    pub action: String,
    pub resources: Vec<String>,
    pub source_ip: String,
    pub user_agent: String,
    /// `Success`, or the error code (the API's `Code`, SCIM's `status scimType`, a sign-in
    /// refusal).
    pub result: String,
    /// SHA-256 hex of the previous record's stored bytes ("" for the first record ever).
    #[serde(default)]
    pub prev: String,
}

pub const RESULT_SUCCESS: &str = "Success";

/// A record as stored, with its number and the digest of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAudit {
    pub seq: u64,
    pub digest: String,
    pub record: AuditRecord,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Anchor {
    seq: u64,
    digest: String,
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub checked: u64,
    /// The oldest and newest record numbers (none when the trail is empty).
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// The first break, if any.
    pub broken: Option<ChainBreak>,
}

/// A break in the chain: record `seq` does not follow what came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: u64,
    pub reason: String,
}

/// A record as stored: a JSON array in a fixed order, names left out (the trail's bytes are
/// written in every audited transaction, so they are kept few), the time as `unix_ms` only:
/// `[unix_ms, request_id, actor kind, actor id, actor name, directory or null, action,
/// resources, source_ip, user_agent, result, prev]`.
type StoredForm<'a> = (
    i64,
    &'a str,
    u8,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a [String],
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);
type StoredOwned = (
    i64,
    String,
    u8,
    String,
    String,
    Option<String>,
    String,
    Vec<String>,
    String,
    String,
    String,
    String,
);

impl ActorKind {
    fn code(self) -> u8 {
        match self {
            ActorKind::AccessKey => 0,
            ActorKind::ScimCredential => 1,
            ActorKind::OAuthClient => 2,
            ActorKind::User => 3,
            ActorKind::Anonymous => 4,
        }
    }

    fn from_code(code: u8) -> Option<ActorKind> {
        Some(match code {
            0 => ActorKind::AccessKey,
            1 => ActorKind::ScimCredential,
            2 => ActorKind::OAuthClient,
            3 => ActorKind::User,
            4 => ActorKind::Anonymous,
            _ => return None,
        })
    }
}

/// The stored bytes of `r` (its `time` is not stored: it is `unix_ms`'s).
fn encode_record(r: &AuditRecord) -> Vec<u8> {
    let form: StoredForm<'_> = (
        r.unix_ms,
        &r.request_id,
        r.actor.kind.code(),
        &r.actor.id,
        &r.actor.name,
        r.actor.directory.as_deref(),
        &r.action,
        &r.resources,
        &r.source_ip,
        &r.user_agent,
        &r.result,
        &r.prev,
    );
    encode(&form)
}

fn decode_record(bytes: &[u8]) -> Result<AuditRecord, StoreError> {
    let (unix_ms, request_id, kind, id, name, directory, action, resources, ip, ua, result, prev): StoredOwned =
        decode("audit", bytes)?;
    let kind = ActorKind::from_code(kind).ok_or_else(|| StoreError::Corrupt {
        table: "audit",
        reason: format!("unknown actor kind {kind}"),
    })?;
    Ok(AuditRecord {
        time: time_of(unix_ms),
        unix_ms,
        request_id,
        actor: Actor {
            kind,
            id,
            name,
            directory,
        },
        action,
        resources,
        source_ip: ip,
        user_agent: ua,
        result,
        prev,
    })
}

/// RFC 3339 (UTC, milliseconds) of a Unix time in milliseconds.
fn time_of(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .map(crate::model::format_rfc3339)
        .unwrap_or_default()
}

fn digest_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Turns a change event of a write into the resource name its audit record carries.
pub type DeriveResource = Arc<dyn Fn(&EventName) -> Option<String> + Send + Sync>;

/// What names a change event's resource: all an audit record needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventName {
    pub resource: ResourceType,
    pub directory: String,
    pub id: String,
}

/// What a write transaction notes for the audit trail as it goes, so that appending a record
/// reads nothing back: the change events of the audited job running now (noted only while
/// one runs, at most `AUDIT_EVENTS_NAMED_MAX`), and the chain's head once this transaction
/// has appended a record. Lives and dies with its transaction (a batch rolled back takes its
/// notes with it).
#[derive(Default)]
pub struct TxnNotes {
    events: RefCell<Option<Vec<EventName>>>,
    head: RefCell<Option<(u64, String)>>,
}

impl TxnNotes {
    /// Called for every change event appended in the transaction.
    pub(super) fn note_event(&self, e: &ChangeEvent) {
        if let Some(events) = self.events.borrow_mut().as_mut()
            && events.len() < AUDIT_EVENTS_NAMED_MAX
        {
            events.push(EventName {
                resource: e.resource,
                directory: e.directory.clone(),
                id: e.id.clone(),
            });
        }
    }

    /// From now on, notes the events appended (forgetting any noted before).
    fn start_noting(&self) {
        *self.events.borrow_mut() = Some(Vec::new());
    }

    /// Stops noting; the events noted since `start_noting`.
    fn take_events(&self) -> Vec<EventName> {
        self.events.borrow_mut().take().unwrap_or_default()
    }
}

tokio::task_local! {
    static SCOPE: Arc<AuditScope>;
}

/// The audit record a request is building, shared between the http edge (who asked, from
/// where), the code that names the operation, and `Db::write`, which appends it in the first
/// of the request's write jobs that succeeds while the scope is armed. Later jobs of the same
/// request are folded into that record.
pub struct AuditScope(Mutex<ScopeState>);

#[derive(Default)]
struct ScopeState {
    record: AuditRecord,
    armed: bool,
    /// A job of this request has appended the record (its batch may not be committed yet).
    claimed: bool,
    /// That job's batch is committed.
    committed: bool,
    derive: Option<DeriveResource>,
}

impl AuditScope {
    pub fn new(record: AuditRecord) -> Arc<AuditScope> {
        Arc::new(AuditScope(Mutex::new(ScopeState {
            record,
            ..ScopeState::default()
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ScopeState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with this scope as the request's audit scope.
    pub async fn run<F: std::future::Future>(self: &Arc<Self>, f: F) -> F::Output {
        SCOPE.scope(self.clone(), f).await
    }

    /// The scope of the request the calling task serves, if it has one.
    pub fn current() -> Option<Arc<AuditScope>> {
        SCOPE.try_with(Arc::clone).ok()
    }

    /// Changes the record being built (action, actor, resources).
    pub fn update(&self, f: impl FnOnce(&mut AuditRecord)) {
        f(&mut self.state().record);
    }

    /// A copy of the record being built.
    pub fn snapshot(&self) -> AuditRecord {
        self.state().record.clone()
    }

    /// From now on the request's first successful write job appends the record, with the
    /// resources `derive` names from the job's change events when it names any.
    pub fn arm(&self, derive: Option<DeriveResource>) {
        let mut s = self.state();
        s.armed = true;
        s.derive = derive;
    }

    pub fn disarm(&self) {
        self.state().armed = false;
    }

    /// The record to append in a job now running, if the scope is armed and no job has
    /// taken it; the scope counts it as taken until `settle` says otherwise.
    fn claim(&self) -> Option<(AuditRecord, Option<DeriveResource>)> {
        let mut s = self.state();
        if !s.armed || s.claimed {
            return None;
        }
        s.claimed = true;
        let mut record = s.record.clone();
        record.result = RESULT_SUCCESS.to_owned();
        Some((record, s.derive.clone()))
    }

    /// After a job that claimed the record: whether its batch committed.
    fn settle(&self, committed: bool) {
        let mut s = self.state();
        if committed {
            s.committed = true;
        } else if !s.committed {
            s.claimed = false;
        }
    }

    /// Disarms the scope and answers the record still to append for a request that ended
    /// with `result`: the whole record when no write carried it, a second one when a write
    /// carried `Success` but the request then failed, nothing otherwise.
    pub fn finish(&self, result: &str) -> Option<AuditRecord> {
        let mut s = self.state();
        s.armed = false;
        if s.committed && result == RESULT_SUCCESS {
            return None;
        }
        let mut record = s.record.clone();
        record.result = result.to_owned();
        Some(record)
    }
}

/// The armed audit scope of the calling request, for `Db::write`.
pub(super) fn armed_scope() -> Option<Arc<AuditScope>> {
    AuditScope::current().filter(|s| s.state().armed)
}

/// Before a write job of an audited request: the transaction notes the job's change events.
pub(super) fn before_job(txn: &WriteTxn) {
    txn.1.start_noting();
}

/// Inside a write job that succeeded: appends the scope's record if this job is the one to
/// carry it, naming the resources of the change events the job appended. Returns whether it
/// did.
pub(super) fn append_claimed(scope: &AuditScope, txn: &WriteTxn) -> Result<bool, StoreError> {
    let events = txn.1.take_events();
    let Some((mut record, derive)) = scope.claim() else {
        return Ok(false);
    };
    if let Some(derive) = derive {
        let mut names: Vec<String> = events.iter().filter_map(|e| derive(e)).collect();
        names.dedup();
        if !names.is_empty() {
            record.resources = names;
        }
    }
    txn.append_audit(&mut record)?;
    Ok(true)
}

/// After a write job of an audited request that failed: stops noting its events.
pub(super) fn after_failed_job(txn: &WriteTxn) {
    txn.1.take_events();
}

/// After the job: tells the scope whether the job that carried the record committed.
pub(super) fn settle(scope: &AuditScope, carried: bool, committed: bool) {
    if carried || !committed {
        scope.settle(committed);
    }
}

/// At most this many change events of one write name its record's resources.
pub const AUDIT_EVENTS_NAMED_MAX: usize = 64;

impl WriteTxn {
    /// Appends `record` at the end of the chain, stamping its time and `prev`; its number.
    pub fn append_audit(&self, record: &mut AuditRecord) -> Result<u64, StoreError> {
        let mut t = self.0.open_table(AUDIT)?;
        // The head this transaction left, else the newest stored record, else the anchor.
        let known = self.1.head.borrow_mut().take();
        let (seq, prev) = match known {
            Some((last, digest)) => (last.saturating_add(1), digest),
            None => match t.last()? {
                Some((k, v)) => (k.value().saturating_add(1), digest_hex(v.value())),
                None => {
                    let anchor: Option<Anchor> = self.get(AUDIT_ANCHOR)?;
                    anchor.map_or((1, String::new()), |a| (a.seq.saturating_add(1), a.digest))
                }
            },
        };
        let now = time::OffsetDateTime::now_utc();
        record.time = crate::model::format_rfc3339(now);
        record.unix_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        record.prev = prev;
        let bytes = encode_record(record);
        t.insert(seq, bytes.as_slice())?;
        *self.1.head.borrow_mut() = Some((seq, digest_hex(&bytes)));
        Ok(seq)
    }

    /// Removes up to `max` of the oldest records older than `before_unix_ms`, moving the
    /// anchor to the last one removed; how many it removed.
    pub fn prune_audit(&self, before_unix_ms: i64, max: usize) -> Result<usize, StoreError> {
        self.1.head.borrow_mut().take();
        let mut t = self.0.open_table(AUDIT)?;
        let mut doomed: Vec<(u64, String)> = Vec::new();
        for row in t.iter()?.take(max) {
            let (k, v) = row?;
            let record: AuditRecord = decode_record(v.value())?;
            if record.unix_ms >= before_unix_ms {
                break;
            }
            doomed.push((k.value(), digest_hex(v.value())));
        }
        for (seq, _) in &doomed {
            t.remove(*seq)?;
        }
        if let Some((seq, digest)) = doomed.last() {
            let anchor = Anchor {
                seq: *seq,
                digest: digest.clone(),
            };
            drop(t);
            self.put(AUDIT_ANCHOR, &anchor)?;
        }
        Ok(doomed.len())
    }

    /// Replaces record `seq` as is, without relinking the chain: what an edit by hand does.
    /// For tests of `verify_audit` and for repair tools; the server never calls it.
    pub fn overwrite_audit(&self, seq: u64, record: &AuditRecord) -> Result<(), StoreError> {
        self.1.head.borrow_mut().take();
        self.0
            .open_table(AUDIT)?
            .insert(seq, encode_record(record).as_slice())?;
        Ok(())
    }
}

macro_rules! impl_audit_reads {
    ($txn:ty) => {
        impl $txn {
            /// Records numbered below `below` (all for `None`), newest first, until `f`
            /// returns false.
            pub fn audit_newest_first(
                &self,
                below: Option<u64>,
                mut f: impl FnMut(StoredAudit) -> bool,
            ) -> Result<(), StoreError> {
                let t = self.0.open_table(AUDIT)?;
                for row in t.range(..below.unwrap_or(u64::MAX))?.rev() {
                    let (k, v) = row?;
                    let stored = StoredAudit {
                        seq: k.value(),
                        digest: digest_hex(v.value()),
                        record: decode_record(v.value())?,
                    };
                    if !f(stored) {
                        break;
                    }
                }
                Ok(())
            }

            /// Up to `limit` records numbered above `after`, oldest first.
            pub fn audit_after(
                &self,
                after: u64,
                limit: usize,
            ) -> Result<Vec<StoredAudit>, StoreError> {
                let t = self.0.open_table(AUDIT)?;
                let mut out = Vec::new();
                for row in t.range(after.saturating_add(1)..)?.take(limit) {
                    let (k, v) = row?;
                    out.push(StoredAudit {
                        seq: k.value(),
                        digest: digest_hex(v.value()),
                        record: decode_record(v.value())?,
                    });
                }
                Ok(out)
            }

            /// The time (Unix milliseconds) of the oldest record kept, if any.
            pub fn audit_oldest_ms(&self) -> Result<Option<i64>, StoreError> {
                let t = self.0.open_table(AUDIT)?;
                let first = t.first()?;
                first
                    .map(|(_, v)| decode_record(v.value()).map(|r| r.unix_ms))
                    .transpose()
            }

            /// Number of records kept.
            pub fn audit_len(&self) -> Result<u64, StoreError> {
                Ok(self.0.open_table(AUDIT)?.len()?)
            }

            /// Walks the chain from the oldest kept record (checked against the pruning
            /// anchor) to the newest; names the first record that does not follow the one
            /// before it (a changed, removed or reordered record).
            pub fn verify_audit(&self) -> Result<ChainReport, StoreError> {
                let t = self.0.open_table(AUDIT)?;
                let anchor: Option<Anchor> = self.get(AUDIT_ANCHOR)?;
                let mut expected = anchor.map(|a| (a.seq, a.digest));
                let mut report = ChainReport {
                    checked: 0,
                    first: None,
                    last: None,
                    broken: None,
                };
                for row in t.iter()? {
                    let (k, v) = row?;
                    let seq = k.value();
                    report.first.get_or_insert(seq);
                    report.last = Some(seq);
                    report.checked += 1;
                    if report.broken.is_none() {
                        report.broken = check_link(seq, v.value(), expected.as_ref());
                    }
                    expected = Some((seq, digest_hex(v.value())));
                }
                Ok(report)
            }
        }
    };
}
impl_audit_reads!(ReadTxn);
impl_audit_reads!(WriteTxn);

/// Whether record `seq` (its stored `bytes`) follows `expected` (the number and digest of the
/// record before it; none before the first record ever).
fn check_link(seq: u64, bytes: &[u8], expected: Option<&(u64, String)>) -> Option<ChainBreak> {
    let record: AuditRecord = match decode_record(bytes) {
        Ok(r) => r,
        Err(e) => {
            return Some(ChainBreak {
                seq,
                reason: format!("unreadable: {e}"),
            });
        }
    };
    let (want_seq, want_prev) = match expected {
        Some((s, d)) => (s.saturating_add(1), d.as_str()),
        None => (1, ""),
    };
    let reason = if seq != want_seq {
        format!("expected record {want_seq} here (a record was removed or renumbered)")
    } else if record.prev != want_prev {
        format!(
            "its digest of record {} does not match (record {} was changed, or this one)",
            seq.saturating_sub(1),
            seq.saturating_sub(1)
        )
    } else {
        return None;
    };
    Some(ChainBreak { seq, reason })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::Store;
    use super::*;

    fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.redb")).unwrap();
        (store, dir)
    }

    fn append(store: &Store, action: &str) -> u64 {
        let txn = store.write().unwrap();
        let mut r = AuditRecord {
            action: action.into(),
            ..AuditRecord::default()
        };
        let seq = txn.append_audit(&mut r).unwrap();
        txn.commit().unwrap();
        seq
    }

    fn edit(store: &Store, seq: u64, f: impl FnOnce(&mut AuditRecord)) {
        let txn = store.write().unwrap();
        let mut found = None;
        txn.audit_newest_first(None, |s| {
            if s.seq == seq {
                found = Some(s.record);
            }
            true
        })
        .unwrap();
        let mut record = found.unwrap();
        f(&mut record);
        txn.overwrite_audit(seq, &record).unwrap();
        txn.commit().unwrap();
    }

    fn verify(store: &Store) -> ChainReport {
        store.read().unwrap().verify_audit().unwrap()
    }

    #[test]
    fn records_appended_in_one_transaction_chain_like_records_appended_apart() {
        let (store, _dir) = store();
        append(&store, "a");
        let txn = store.write().unwrap();
        for action in ["b", "c", "d"] {
            let mut r = AuditRecord {
                action: action.into(),
                ..AuditRecord::default()
            };
            txn.append_audit(&mut r).unwrap();
        }
        txn.commit().unwrap();
        append(&store, "e");
        let report = verify(&store);
        assert_eq!((report.checked, report.broken), (5, None));
        let mut prevs = Vec::new();
        store
            .read()
            .unwrap()
            .audit_newest_first(None, |s| {
                prevs.push((s.seq, s.record.prev.clone(), s.digest));
                true
            })
            .unwrap();
        prevs.reverse();
        for pair in prevs.windows(2) {
            assert_eq!(
                pair[1].1, pair[0].2,
                "record {} links to {}",
                pair[1].0, pair[0].0
            );
        }
    }

    #[test]
    fn records_read_back_as_written_in_their_compact_form() {
        let kinds = [
            ActorKind::AccessKey,
            ActorKind::ScimCredential,
            ActorKind::OAuthClient,
            ActorKind::User,
            ActorKind::Anonymous,
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            let r = AuditRecord {
                time: time_of(1_796_270_143_528),
                unix_ms: 1_796_270_143_528,
                request_id: "F0DA548A-8C5F-4E25-8E8C-0F13CE2B21D5".into(),
                actor: Actor {
                    kind,
                    id: format!("id-{i}"),
                    name: "n\"a\u{e9}".into(),
                    directory: (i % 2 == 0).then(|| "d-1".to_owned()),
                },
                action: "scim:CreateUser".into(),
                resources: vec!["acs:cloudsso:cn-shanghai:1:directory/d-1".into(); i],
                source_ip: "::1".into(),
                user_agent: "ua/1".into(),
                result: RESULT_SUCCESS.into(),
                prev: "ab".repeat(32),
            };
            let bytes = encode_record(&r);
            assert_eq!(decode_record(&bytes).unwrap(), r, "{kind:?}");
            assert!(!String::from_utf8_lossy(&bytes).contains("request_id"));
        }
        assert_eq!(time_of(1_796_270_143_528), "2026-12-03T03:55:43.528Z");
        let unknown_kind = encode(&(
            0i64,
            "",
            9u8,
            "",
            "",
            None::<&str>,
            "",
            &[] as &[String],
            "",
            "",
            "",
            "",
        ));
        assert!(matches!(
            decode_record(&unknown_kind),
            Err(StoreError::Corrupt { table: "audit", .. })
        ));
    }

    #[test]
    fn a_clean_chain_verifies_and_each_tampering_names_its_record() {
        type Tamper = fn(&Store);
        let cases: &[(&str, Tamper, Option<u64>)] = &[
            ("clean", |_| {}, None),
            (
                "edited action",
                |s| edit(s, 2, |r| r.action = "x".into()),
                Some(3),
            ),
            (
                "edited last prev",
                |s| edit(s, 4, |r| r.prev = "00".into()),
                Some(4),
            ),
            (
                "removed middle",
                |s| {
                    let t = s.write().unwrap();
                    t.0.open_table(AUDIT).unwrap().remove(2).unwrap();
                    t.commit().unwrap();
                },
                Some(3),
            ),
            (
                "swapped",
                |s| {
                    let t = s.write().unwrap();
                    {
                        let mut tab = t.0.open_table(AUDIT).unwrap();
                        let a = tab.get(2).unwrap().unwrap().value().to_vec();
                        let b = tab.get(3).unwrap().unwrap().value().to_vec();
                        tab.insert(2, b.as_slice()).unwrap();
                        tab.insert(3, a.as_slice()).unwrap();
                    }
                    t.commit().unwrap();
                },
                Some(2),
            ),
        ];
        for (name, tamper, broken) in cases {
            let (store, _d) = store();
            for a in ["a", "b", "c", "d"] {
                append(&store, a);
            }
            tamper(&store);
            let report = verify(&store);
            assert_eq!(report.broken.map(|b| b.seq), *broken, "{name}");
        }
    }

    /// A job's error for the tests: `Poison` rolls its batch back, `Refused` fails alone.
    #[derive(Debug)]
    enum JobErr {
        Refused,
        Poison,
        Store,
    }
    impl From<StoreError> for JobErr {
        fn from(_: StoreError) -> Self {
            JobErr::Store
        }
    }
    impl From<super::super::WriteError> for JobErr {
        fn from(_: super::super::WriteError) -> Self {
            JobErr::Store
        }
    }
    impl super::super::JobError for JobErr {
        fn poisons_batch(&self) -> bool {
            !matches!(self, JobErr::Refused)
        }
    }

    fn results(store: &Store) -> Vec<String> {
        let mut out = Vec::new();
        let txn = store.read().unwrap();
        txn.audit_newest_first(None, |s| {
            out.push(format!("{} {}", s.record.action, s.record.result));
            true
        })
        .unwrap();
        out.reverse();
        out
    }

    /// Each case: the outcomes of a request's write jobs, in order (`Ok`, `Refused`,
    /// `Poison`), and the records the trail then holds for it (its write's and, after the
    /// answer, the one `finish` asks for with the request's result).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_record_rides_on_its_first_successful_write_and_only_then() {
        type Case = (
            &'static str,
            &'static [&'static str],
            &'static str,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            ("one write", &["Ok"], "Success", &["a Success"]),
            (
                "two writes fold into one record",
                &["Ok", "Ok"],
                "Success",
                &["a Success"],
            ),
            ("a refused write", &["Refused"], "Conflict", &["a Conflict"]),
            (
                "a rolled-back write",
                &["Poison"],
                "InternalError",
                &["a InternalError"],
            ),
            (
                "refused, then a write",
                &["Refused", "Ok"],
                "Success",
                &["a Success"],
            ),
            (
                "a write, then a failure",
                &["Ok", "Refused"],
                "Conflict",
                &["a Success", "a Conflict"],
            ),
            ("no write at all", &[], "Success", &["a Success"]),
        ];
        for (name, jobs, result, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("a.redb")).unwrap();
            let (writer, _h) = super::super::Writer::start(store.clone(), 8, 8).unwrap();
            let db = super::super::Db::new(store.clone(), writer);
            let scope = AuditScope::new(AuditRecord {
                action: "a".into(),
                ..AuditRecord::default()
            });
            scope.arm(None);
            let db2 = db.clone();
            scope
                .run(async move {
                    for job in jobs.iter() {
                        let r: Result<(), JobErr> = db2
                            .write(move |txn| {
                                txn.next_seq()?;
                                match *job {
                                    "Ok" => Ok(()),
                                    "Refused" => Err(JobErr::Refused),
                                    _ => Err(JobErr::Poison),
                                }
                            })
                            .await;
                        assert_eq!(r.is_ok(), *job == "Ok", "{name}: {job}");
                    }
                })
                .await;
            if let Some(record) = scope.finish(result) {
                db.append_audit(record).await.unwrap();
            }
            assert_eq!(results(&store), *expected, "{name}");
        }
    }

    #[test]
    fn pruning_removes_only_old_records_in_chunks_and_the_rest_still_verifies() {
        let (clean, _d) = store();
        for (i, a) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            let txn = clean.write().unwrap();
            let mut r = AuditRecord {
                action: (*a).into(),
                ..AuditRecord::default()
            };
            txn.append_audit(&mut r).unwrap();
            if i < 3 {
                // Old time, kept in the chain: the record is rewritten with its own prev.
                r.unix_ms = 1_000;
                txn.overwrite_audit(i as u64 + 1, &r).unwrap();
            }
            txn.commit().unwrap();
        }
        assert_eq!(verify(&clean).broken, None);
        // Chunks of 2: the first pass removes two, the second one, the third none.
        for expected in [2, 1, 0] {
            let txn = clean.write().unwrap();
            assert_eq!(txn.prune_audit(2_000, 2).unwrap(), expected);
            txn.commit().unwrap();
        }
        let report = verify(&clean);
        assert_eq!(
            (report.first, report.last, report.checked),
            (Some(4), Some(5), 2)
        );
        assert_eq!(report.broken, None);
        // The next record continues the numbering and the chain.
        assert_eq!(append(&clean, "f"), 6);
        assert_eq!(verify(&clean).broken, None);
    }
}
