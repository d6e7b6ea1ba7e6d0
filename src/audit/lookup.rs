//! `LookupEvents`: the records in a time range that match every filter, newest first, a page
//! at a time. Pure over a read transaction; the API shapes the answer.

use super::{AuditError, AuditRecord, RESULT_SUCCESS};
use crate::store::audit::StoredAudit;
use crate::store::{Db, ReadTxn, StoreError};

/// Most records one lookup reads before it answers what it found with a `NextToken` (a
/// narrow filter over a long trail costs a bounded scan per page).
pub const LOOKUP_SCAN_MAX: usize = 10_000;

/// Most `LookupAttribute.N` filters in one lookup.
pub const LOOKUP_ATTRIBUTES_MAX: usize = 4;

/// One `LookupAttribute`: its key names the field, its value must equal it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// The caller's AccessKeyId (API calls).
    AccessKeyId(String),
    /// The actor's name or id (administrator, SCIM credential, OAuth client, portal user).
    Principal(String),
    /// The action, `cloudsso:CreateUser` (or just `CreateUser`, any namespace).
    EventName(String),
    /// One of the record's resource ARNs.
    ResourceName(String),
    /// `Success` or the error code.
    ErrorCode(String),
}

/// The keys `Filter::parse` knows, for the error message.
pub const FILTER_KEYS: &[&str] = &[
    "AccessKeyId",
    "Principal",
    "EventName",
    "ResourceName",
    "ErrorCode",
];

impl Filter {
    pub fn parse(key: &str, value: &str) -> Result<Filter, AuditError> {
        let v = value.to_owned();
        Ok(match key {
            "AccessKeyId" => Filter::AccessKeyId(v),
            "Principal" => Filter::Principal(v),
            "EventName" => Filter::EventName(v),
            "ResourceName" => Filter::ResourceName(v),
            "ErrorCode" => Filter::ErrorCode(v),
            _ => {
                return Err(AuditError::Invalid {
                    name: "LookupAttribute.Key".into(),
                    reason: format!("must be one of {}", FILTER_KEYS.join(", ")),
                });
            }
        })
    }

    pub fn matches(&self, r: &AuditRecord) -> bool {
        match self {
            Filter::AccessKeyId(v) => {
                r.actor.kind == super::ActorKind::AccessKey && r.actor.id == *v
            }
            Filter::Principal(v) => r.actor.name == *v || r.actor.id == *v,
            Filter::EventName(v) => {
                r.action == *v || r.action.split_once(':').is_some_and(|(_, n)| n == v)
            }
            Filter::ResourceName(v) => r.resources.iter().any(|a| a == v),
            Filter::ErrorCode(v) => r.result == *v,
        }
    }
}

/// What to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupQuery {
    /// Unix milliseconds, inclusive; none: unbounded.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub filters: Vec<Filter>,
    /// Page size (the caller bounds it).
    pub max: usize,
    /// Continue with records numbered below this one (from the previous page's `next`).
    pub below: Option<u64>,
}

/// One page: the events, newest first, and where the next page starts when there may be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupPage {
    pub events: Vec<StoredAudit>,
    pub next: Option<u64>,
}

impl super::super::store::JobError for AuditError {
    fn poisons_batch(&self) -> bool {
        !matches!(self, AuditError::Invalid { .. })
    }
}

/// Runs `q` on the blocking pool.
pub async fn lookup(db: &Db, q: LookupQuery) -> Result<LookupPage, AuditError> {
    db.read(move |txn| Ok::<_, AuditError>(page(txn, &q, LOOKUP_SCAN_MAX)?))
        .await
}

/// Records are in append order, which is time order (a clock stepping back can hide a few
/// records from a time range, never show one outside it).
fn page(txn: &ReadTxn, q: &LookupQuery, scan_max: usize) -> Result<LookupPage, StoreError> {
    let mut out = LookupPage {
        events: Vec::new(),
        next: None,
    };
    let mut scanned = 0usize;
    let mut last_seen = None;
    txn.audit_newest_first(q.below, |s| {
        if q.start_ms.is_some_and(|t| s.record.unix_ms < t) {
            return false;
        }
        if out.events.len() >= q.max.max(1) || scanned >= scan_max {
            out.next = last_seen;
            return false;
        }
        scanned += 1;
        last_seen = Some(s.seq);
        let in_range = q.end_ms.is_none_or(|t| s.record.unix_ms <= t);
        if in_range && q.filters.iter().all(|f| f.matches(&s.record)) {
            out.events.push(s);
        }
        true
    })?;
    Ok(out)
}

/// Whether a record's result is a success (for shaping `errorCode`).
pub fn succeeded(r: &AuditRecord) -> bool {
    r.result == RESULT_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::audit::{Actor, ActorKind};

    fn trail(actions: &[(&str, &str, &str)]) -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.redb")).unwrap();
        for (action, key, result) in actions {
            let txn = store.write().unwrap();
            let mut r = AuditRecord {
                action: (*action).into(),
                actor: Actor {
                    kind: ActorKind::AccessKey,
                    id: (*key).into(),
                    name: "admin".into(),
                    directory: None,
                },
                resources: vec![format!("arn/{action}")],
                result: (*result).into(),
                ..AuditRecord::default()
            };
            txn.append_audit(&mut r).unwrap();
            txn.commit().unwrap();
        }
        (store, dir)
    }

    fn seqs(p: &LookupPage) -> Vec<u64> {
        p.events.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn filters_pages_and_the_scan_bound() {
        let (store, _d) = trail(&[
            ("cloudsso:CreateUser", "K1", "Success"),
            ("cloudsso:GetUser", "K2", "NoPermission"),
            ("scim:CreateUser", "K1", "Success"),
            ("cloudsso:CreateUser", "K2", "Success"),
        ]);
        let txn = store.read().unwrap();
        let q = |filters: Vec<Filter>, max: usize, below: Option<u64>| LookupQuery {
            start_ms: None,
            end_ms: None,
            filters,
            max,
            below,
        };
        type Case = (&'static str, LookupQuery, usize, Vec<u64>, Option<u64>);
        let cases: Vec<Case> = vec![
            ("all", q(vec![], 10, None), 100, vec![4, 3, 2, 1], None),
            ("page of 1", q(vec![], 1, None), 100, vec![4], Some(4)),
            ("next page", q(vec![], 1, Some(4)), 100, vec![3], Some(3)),
            ("last page", q(vec![], 1, Some(2)), 100, vec![1], None),
            (
                "key",
                q(vec![Filter::AccessKeyId("K1".into())], 10, None),
                100,
                vec![3, 1],
                None,
            ),
            (
                "name in any namespace",
                q(vec![Filter::EventName("CreateUser".into())], 10, None),
                100,
                vec![4, 3, 1],
                None,
            ),
            (
                "qualified name",
                q(vec![Filter::EventName("scim:CreateUser".into())], 10, None),
                100,
                vec![3],
                None,
            ),
            (
                "resource",
                q(
                    vec![Filter::ResourceName("arn/cloudsso:GetUser".into())],
                    10,
                    None,
                ),
                100,
                vec![2],
                None,
            ),
            (
                "error",
                q(vec![Filter::ErrorCode("NoPermission".into())], 10, None),
                100,
                vec![2],
                None,
            ),
            (
                "principal",
                q(vec![Filter::Principal("admin".into())], 10, None),
                100,
                vec![4, 3, 2, 1],
                None,
            ),
            (
                "and",
                q(
                    vec![
                        Filter::AccessKeyId("K2".into()),
                        Filter::ErrorCode("Success".into()),
                    ],
                    10,
                    None,
                ),
                100,
                vec![4],
                None,
            ),
            (
                "scan bound",
                q(vec![Filter::ErrorCode("NoPermission".into())], 10, None),
                1,
                vec![],
                Some(4),
            ),
            (
                "scan bound, second page",
                q(vec![Filter::ErrorCode("NoPermission".into())], 10, Some(4)),
                2,
                vec![2],
                Some(2),
            ),
        ];
        for (name, query, scan, expected, next) in cases {
            let p = page(&txn, &query, scan).unwrap();
            assert_eq!((seqs(&p), p.next), (expected, next), "{name}");
        }
    }

    #[test]
    fn unknown_filter_keys_are_refused() {
        for (key, ok) in [
            ("EventName", true),
            ("eventname", false),
            ("Password", false),
        ] {
            assert_eq!(Filter::parse(key, "x").is_ok(), ok, "{key}");
        }
    }
}
