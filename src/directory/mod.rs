//! Directory operations: users, groups, memberships and SCIM credentials of each directory
//! (tenant), over validated SCIM documents and the store.
//!
//! Owns the invariants: unique userName and group displayName (case-insensitively), members
//! exist in the same directory, every write is one batch job that validates before it writes
//! and appends its change events. Refuses with `error::DomainError`, naming what it refuses
//! by `Entity` and `Conflict`. Must not know about HTTP or spell a wire code.

mod credentials;
pub mod manage;
mod members;
pub mod query;
mod resources;

pub(crate) use credentials::append as append_event;
pub use credentials::{
    AccessToken, Bootstrap, CREDENTIALS_PER_DIRECTORY_MAX, CredentialOptions, CredentialSecret,
    TOKEN_TTL_MINUTES_MAX, TOKEN_TTL_MINUTES_MIN, new_secret, now_unix,
};

use crate::config::Limits;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{ChangeKind, DirectoryId, PrincipalId, ResourceType, now_rfc3339};
use crate::scim::ScimError;
use crate::scim::filter::{self, AttrPath, Filter};
use crate::scim::patch::{self, PatchOp};
use crate::scim::schema::{self, AttributeSelection, ResourceKind, check_value_counts};
use crate::store::{Db, ReadTxn, WriteTxn};
use query::{Plan, Probe};
use serde_json::{Value, json};
use std::sync::Arc;

/// What other parts of the application keep about a directory and its users and groups,
/// asked inside a deletion's own write transaction, so nothing slips in between the check and
/// the delete. Access management answers it (`access::Access::dependents`), handed over by the
/// caller: the directory never reads another part's tables.
pub trait Dependents: Send + Sync + std::fmt::Debug {
    /// Refuses the deletion of user or group `id` while something still refers to it.
    fn check_principal(
        &self,
        txn: &WriteTxn,
        dir: &str,
        id: &PrincipalId,
    ) -> Result<(), DomainError>;
    /// Refuses the deletion of directory `dir` while something of it remains.
    fn check_directory(&self, txn: &WriteTxn, dir: &str) -> Result<(), DomainError>;
}

/// How a list or search is to be answered (RFC 7644 section 3.4.2).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    /// 1-based.
    pub start_index: usize,
    pub count: usize,
    pub selection: AttributeSelection,
}

#[derive(Debug, Clone)]
pub struct ListPage {
    pub total: usize,
    pub start_index: usize,
    pub resources: Vec<Value>,
}

/// The directory service. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// Logins already checked (see `credentials::AuthCache`).
    auth_cache: Arc<credentials::AuthCache>,
    /// Bounds concurrent argon2 hashing (`password_hash_concurrency_max`).
    hash_permits: tokio::sync::Semaphore,
    limits: Limits,
    /// `http://host:port/scim/v2`, for `meta.location` and `$ref`.
    scim_base_url: String,
    /// credential id -> when its last use was written (see `note_use`).
    last_used: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

fn resource_type(kind: ResourceKind) -> ResourceType {
    match kind {
        ResourceKind::User => ResourceType::User,
        ResourceKind::Group => ResourceType::Group,
    }
}

fn version_tag(seq: u64) -> String {
    format!("W/\"{seq}\"")
}

/// Weak comparison of an `If-Match` header value (`*` or a list of entity tags).
pub fn etag_matches(header: &str, current: &str) -> bool {
    let strip = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    let current = strip(current);
    header
        .split(',')
        .any(|t| t.trim() == "*" || strip(t) == current)
}

fn current_version(doc: &Value) -> &str {
    doc.get("meta")
        .and_then(|m| m.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn check_if_match(if_match: Option<&str>, doc: &Value) -> Result<(), DomainError> {
    match if_match {
        Some(h) if !etag_matches(h, current_version(doc)) => Err(DomainError::PreconditionFailed {
            current: current_version(doc).to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Removes a top-level `password` (any case) from a request document; it must be a string.
fn take_password(doc: &mut Value) -> Result<Option<String>, ScimError> {
    let Some(obj) = doc.as_object_mut() else {
        return Ok(None);
    };
    let Some(k) = obj
        .keys()
        .find(|k| k.eq_ignore_ascii_case("password"))
        .cloned()
    else {
        return Ok(None);
    };
    match obj.remove(&k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(ScimError::InvalidValue(
            "`password` must be a non-empty string".into(),
        )),
    }
}

/// Whether PATCH operations may set a password (then it is hashed before the write is queued):
/// a path naming `password`, or a value with a key that mentions it in any spelling
/// (`password`, `PASSWORD`, URN-qualified, inside the core schema object).
fn ops_mention_password(ops: &[PatchOp]) -> bool {
    fn mentions(v: &Value) -> bool {
        match v {
            Value::Object(o) => o
                .iter()
                .any(|(k, v)| k.to_ascii_lowercase().contains("password") || mentions(v)),
            Value::Array(items) => items.iter().any(mentions),
            _ => false,
        }
    }
    ops.iter().any(|op| {
        op.path
            .as_ref()
            .is_some_and(|p| p.attr.name.eq_ignore_ascii_case("password"))
            || op.value.as_ref().is_some_and(mentions)
    })
}

/// Memory of a password hash, KiB. With `ARGON2_PASSES` and `ARGON2_LANES` this is one of
/// the argon2id configurations OWASP's Password Storage Cheat Sheet lists as equal in strength
/// to its minimum (m=19 MiB, t=2, p=1): m=7 MiB, t=5, p=1. It is chosen over the 19 MiB one
/// because it runs in about 60% of the time here (the working set stays in cache) and holds
/// less memory per concurrent sign-in (see README, Performance, Sign-in).
pub const ARGON2_MEMORY_KIB: u32 = 7168;
/// Passes over the memory.
pub const ARGON2_PASSES: u32 = 5;
/// Degree of parallelism.
pub const ARGON2_LANES: u32 = 1;

/// The argon2id hasher every new password hash is made with (verification reads the
/// parameters from each stored hash, so older hashes still verify).
pub fn argon2id() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<String, DomainError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    crate::model::fill_random(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| DomainError::Internal(e.to_string()))?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(e.to_string()))
}

/// Whether a response with this selection includes a computed attribute (`members`, `groups`).
pub fn selects(sel: &AttributeSelection, name: &str) -> bool {
    let named = |paths: &[AttrPath]| paths.iter().any(|p| p.name.eq_ignore_ascii_case(name));
    if named(&sel.excluded) {
        return false;
    }
    sel.attributes.is_empty() || named(&sel.attributes)
}

impl Directory {
    pub fn new(db: Db, limits: Limits, scim_base_url: String) -> Directory {
        Directory {
            inner: Arc::new(Inner {
                db,
                auth_cache: Arc::default(),
                hash_permits: tokio::sync::Semaphore::new(
                    limits.password_hash_concurrency_max.max(1),
                ),
                limits,
                scim_base_url: scim_base_url.trim_end_matches('/').to_owned(),
                last_used: std::sync::Mutex::default(),
            }),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn scim_base_url(&self) -> &str {
        &self.inner.scim_base_url
    }

    /// The database this directory keeps its records in.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// A read on the blocking pool, with this directory at hand.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Directory, &ReadTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let this = self.clone();
        self.inner.db.read(move |txn| f(&this, txn)).await
    }

    /// A point read on the calling task (see `Db::read_now`).
    fn read_now<T>(
        &self,
        f: impl FnOnce(&Directory, &ReadTxn) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        self.inner.db.read_now(|txn| f(self, txn))
    }

    /// A job in the next write batch (see `Db::write`).
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&WriteTxn) -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        self.inner.db.write(f).await
    }

    fn location(&self, kind: ResourceKind, id: &str) -> String {
        let rt = schema::resource_type(kind);
        format!("{}{}/{}", self.inner.scim_base_url, rt.endpoint, id)
    }

    /// Adds `meta.resourceType` and `meta.location`; returns the document's id.
    fn add_meta(&self, kind: ResourceKind, doc: &mut Value) -> String {
        let id = doc
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let rt = schema::resource_type(kind);
        if let Some(meta) = doc.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("resourceType".into(), json!(rt.name));
            meta.insert("location".into(), json!(self.location(kind, &id)));
        }
        id
    }

    /// Adds what is not stored in the document: `meta.resourceType`, `meta.location`, and when
    /// selected, `members` (groups) or `groups` (users) from the membership rows.
    fn complete(
        &self,
        txn: &ReadTxn,
        kind: ResourceKind,
        dir: &str,
        doc: &mut Value,
        with_computed: bool,
    ) -> Result<(), DomainError> {
        let id = self.add_meta(kind, doc);
        if !with_computed {
            return Ok(());
        }
        let Some(obj) = doc.as_object_mut() else {
            return Ok(());
        };
        match kind {
            ResourceKind::Group => {
                let members: Vec<Value> = txn
                    .members(dir, &id, usize::MAX)?
                    .into_iter()
                    .map(|m| {
                        let mk = m.kind;
                        let mut v = json!({
                            "value": m.id,
                            "$ref": self.location(mk, &m.id),
                            "type": m.kind.as_str(),
                        });
                        if let (Some(d), Some(o)) = (m.display, v.as_object_mut()) {
                            o.insert("display".into(), json!(d));
                        }
                        v
                    })
                    .collect();
                if !members.is_empty() {
                    obj.insert("members".into(), Value::Array(members));
                }
            }
            ResourceKind::User => {
                let mut groups = Vec::new();
                for g in txn.groups_of(dir, &id)? {
                    let display = txn
                        .group_display(dir, &g)?
                        .map_or(Value::Null, Value::String);
                    groups.push(json!({
                        "value": g,
                        "$ref": self.location(ResourceKind::Group, &g),
                        "display": display,
                        "type": "direct",
                    }));
                }
                if !groups.is_empty() {
                    obj.insert("groups".into(), Value::Array(groups));
                }
            }
        }
        Ok(())
    }

    /// One resource, complete (computed attributes only when `sel` asks for them).
    pub async fn get(
        &self,
        dir: &DirectoryId,
        id: &PrincipalId,
        sel: &AttributeSelection,
    ) -> Result<Value, DomainError> {
        let (kind, dir, id) = (id.kind(), dir.as_str(), id.as_str());
        let with_computed = selects(sel, computed_attr(kind));
        fn read(
            this: &Directory,
            txn: &ReadTxn,
            kind: ResourceKind,
            dir: &str,
            id: &str,
            with_computed: bool,
        ) -> Result<Value, DomainError> {
            let mut doc = txn
                .resource(kind, dir, id)?
                .ok_or_else(|| DomainError::NotFound {
                    entity: kind.into(),
                    id: id.to_owned(),
                })?;
            this.complete(txn, kind, dir, &mut doc, with_computed)?;
            Ok(doc)
        }
        // A group's members are unbounded; everything else is a few lookups.
        if with_computed && kind == ResourceKind::Group {
            let (dir, id) = (dir.to_owned(), id.to_owned());
            self.read(move |this, txn| read(this, txn, kind, &dir, &id, with_computed))
                .await
        } else {
            self.read_now(|this, txn| read(this, txn, kind, dir, id, with_computed))
        }
    }

    /// A page of the resources that match a query.
    pub async fn list(
        &self,
        kind: ResourceKind,
        dir: &DirectoryId,
        q: ListQuery,
    ) -> Result<ListPage, DomainError> {
        let dir = dir.as_str();
        if is_point_query(kind, &q) {
            return self.read_now(|this, txn| this.list_in(txn, kind, dir, &q));
        }
        let dir = dir.to_owned();
        self.read(move |this, txn| this.list_in(txn, kind, &dir, &q))
            .await
    }

    /// The common unfiltered, unsorted page: the count is kept, and only the page is decoded.
    fn unfiltered_page(
        &self,
        txn: &ReadTxn,
        kind: ResourceKind,
        dir: &str,
        start: usize,
        count: usize,
        with_computed: bool,
    ) -> Result<ListPage, DomainError> {
        let total = usize::try_from(txn.count(kind, dir)?).unwrap_or(usize::MAX);
        let mut page = txn.resources_page(kind, dir, start - 1, count)?;
        for doc in &mut page {
            self.complete(txn, kind, dir, doc, with_computed)?;
        }
        Ok(ListPage {
            total,
            start_index: start,
            resources: page,
        })
    }

    fn list_in(
        &self,
        txn: &ReadTxn,
        kind: ResourceKind,
        dir: &str,
        q: &ListQuery,
    ) -> Result<ListPage, DomainError> {
        let rt = schema::resource_type(kind);
        let computed = computed_attr(kind);
        let filter_needs_computed = q
            .filter
            .as_ref()
            .is_some_and(|f| query::mentions(f, computed));
        let start = q.start_index.max(1);
        let skip = start - 1;
        let with_computed = selects(&q.selection, computed);
        if q.filter.is_none() && q.sort_by.is_none() {
            return self.unfiltered_page(txn, kind, dir, start, q.count, with_computed);
        }
        let sorting = q.sort_by.is_some();
        let mut total = 0usize;
        let mut page: Vec<Value> = Vec::new();
        let mut all: Vec<Value> = Vec::new();
        let mut failure: Option<DomainError> = None;
        let mut visit = |mut doc: Value| -> bool {
            if let Some(f) = &q.filter {
                if filter_needs_computed
                    && let Err(e) = self.complete(txn, kind, dir, &mut doc, true)
                {
                    failure = Some(e);
                    return false;
                }
                if !filter::matches(f, &doc, rt) {
                    return true;
                }
            }
            total += 1;
            if sorting {
                all.push(doc);
            } else if total > skip && page.len() < q.count {
                page.push(doc);
            }
            true
        };
        let plan = match &q.filter {
            Some(f) => query::plan(f, kind),
            None => Plan::Scan,
        };
        match plan {
            Plan::Scan => txn.for_each_resource(kind, dir, &mut visit)?,
            Plan::Probes(probes) => {
                for id in probe_ids(txn, kind, dir, probes)? {
                    if let Some(doc) = txn.resource(kind, dir, &id)?
                        && !visit(doc)
                    {
                        break;
                    }
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(sort_by) = &q.sort_by {
            sort_docs(&mut all, sort_by, q.descending, rt);
            page = all.into_iter().skip(skip).take(q.count).collect();
        }
        for doc in &mut page {
            // Docs completed for the filter already carry the computed attribute.
            let done = filter_needs_computed && doc.get(computed).is_some();
            self.complete(txn, kind, dir, doc, with_computed && !done)?;
        }
        Ok(ListPage {
            total,
            start_index: start,
            resources: page,
        })
    }
}

/// The ids the index probes of a plan name, sorted, without duplicates.
fn probe_ids(
    txn: &ReadTxn,
    kind: ResourceKind,
    dir: &str,
    probes: Vec<Probe>,
) -> Result<Vec<String>, DomainError> {
    let mut ids = Vec::new();
    for p in probes {
        match p {
            Probe::Id(id) => ids.push(id),
            Probe::Name(n) => ids.extend(txn.id_by_name(kind, dir, &n)?),
            Probe::ExternalId(e) => ids.extend(txn.ids_by_external_id(kind, dir, &e)?),
            Probe::Email(e) => ids.extend(txn.user_ids_by_email(dir, &e)?),
            Probe::HasMember(m) => ids.extend(txn.groups_of(dir, &m)?),
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A query answered by index probes alone whose page renders no group's members: the few
/// lookups `Directory::read_now` is for (a `userName eq` from a provisioning client).
fn is_point_query(kind: ResourceKind, q: &ListQuery) -> bool {
    let Some(f) = &q.filter else {
        return false;
    };
    let Plan::Probes(probes) = query::plan(f, kind) else {
        return false;
    };
    let unbounded_members = kind == ResourceKind::Group && selects(&q.selection, "members");
    q.sort_by.is_none()
        && !query::mentions(f, computed_attr(kind))
        && !unbounded_members
        && probes.iter().all(|p| !matches!(p, Probe::HasMember(_)))
}

fn computed_attr(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

/// Sorts by an attribute (RFC 7644 section 3.4.2.3): strings case-insensitively unless
/// caseExact, multi-valued attributes by their primary (else first) value, unassigned last
/// ascending (first descending), ties by id for a stable order.
fn sort_docs(docs: &mut [Value], by: &AttrPath, descending: bool, rt: &schema::ResourceTypeDef) {
    use std::cmp::Ordering;
    let Some(resolved) = rt.resolve(by) else {
        return;
    };
    let case_exact = resolved.leaf().case_exact;
    let key = |doc: &Value| -> Option<Value> {
        let mut v = resolved.get(rt, doc)?.clone();
        if let Value::Array(items) = v {
            let pick = items
                .iter()
                .find(|i| i.get("primary") == Some(&Value::Bool(true)))
                .or(items.first())
                .cloned()?;
            v = pick;
        }
        match resolved.sub {
            Some(sub) => v.get(sub.name).cloned(),
            None if v.is_object() => v.get("value").cloned(),
            None => Some(v),
        }
    };
    let cmp_values = |a: &Value, b: &Value| -> Ordering {
        match (a, b) {
            (Value::String(x), Value::String(y)) if case_exact => x.cmp(y),
            (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => a.to_string().cmp(&b.to_string()),
        }
    };
    docs.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        let ord = match (&ka, &kb) {
            (Some(x), Some(y)) => {
                let o = cmp_values(x, y);
                if descending { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        ord.then_with(|| {
            let ia = a.get("id").and_then(Value::as_str).unwrap_or_default();
            let ib = b.get("id").and_then(Value::as_str).unwrap_or_default();
            ia.cmp(ib)
        })
    });
}
