//! The audit trail above its storage: the records requests leave (built by the http edge,
//! appended by `store`, see `store::audit`), their lookup in ActionTrail's `LookupEvents`
//! shape (`lookup`), retention (`retention`: the background pruner), the JSON-lines copy for
//! a SIEM (`stream`, `--audit-log`), and the chain check
//! `cloudsso audit verify` runs on a stopped server's database.
//!
//! Must not know about hyper or the API's wire format (`api::ops::actiontrail` shapes the
//! answer); never records a body, a password, a token or a signature: only what
//! `AuditRecord` has room for.

pub mod lookup;
pub mod retention;
pub mod stream;

pub use crate::store::audit::{
    Actor, ActorKind, AuditRecord, AuditScope, ChainBreak, ChainReport, DeriveResource, EventName,
    RESULT_SUCCESS,
};

use crate::store::{Store, StoreError};
use std::path::Path;

/// Longest user agent kept in a record, in characters (the rest is cut).
pub const USER_AGENT_CHARS_MAX: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("the writer: {0}")]
    Write(#[from] crate::store::WriteError),
    #[error("invalid `{name}`: {reason}")]
    Invalid { name: String, reason: String },
    #[error("the audit log file: {0}")]
    Log(String),
    #[error("no database at {}", .0.display())]
    NoDatabase(std::path::PathBuf),
}

/// What the edges need to audit: whether the trail is on, and the region and account the
/// resource names of SCIM writes carry (`acs:cloudsso:<region>:<account>:directory/...`, as
/// the management API names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Off only for benchmarks (`--audit-off`, hidden): no record is written at all.
    pub enabled: bool,
    pub region: String,
    pub account: String,
}

impl Settings {
    /// `acs:cloudsso:<region>:<account>:<relative>`.
    pub fn arn(&self, relative: &str) -> String {
        format!("acs:cloudsso:{}:{}:{relative}", self.region, self.account)
    }
}

/// `ua` cut to `USER_AGENT_CHARS_MAX` characters, control characters replaced.
pub fn user_agent(ua: &str) -> String {
    ua.chars()
        .take(USER_AGENT_CHARS_MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A record for a request from `source_ip` with `user_agent`, under `request_id`; the rest
/// (who, what, on what, with what result) is filled in as the request goes.
pub fn record_for(request_id: &str, source_ip: &str, user_agent: &str) -> AuditRecord {
    AuditRecord {
        request_id: request_id.to_owned(),
        source_ip: source_ip.to_owned(),
        user_agent: self::user_agent(user_agent),
        ..AuditRecord::default()
    }
}

/// Checks the chain of the database file `db_file` (the server must be stopped: redb locks
/// the file while it runs).
pub fn verify_file(db_file: &Path) -> Result<ChainReport, AuditError> {
    if !db_file.is_file() {
        return Err(AuditError::NoDatabase(db_file.to_owned()));
    }
    let store = Store::open(db_file)?;
    Ok(store.read()?.verify_audit()?)
}

/// What `cloudsso audit verify` prints, and whether the chain holds.
pub fn describe(r: &ChainReport) -> (String, bool) {
    let range = match (r.first, r.last) {
        (Some(a), Some(b)) => format!("records {a} to {b}"),
        _ => "no records".to_owned(),
    };
    match &r.broken {
        None => (
            format!("audit chain intact: {} checked ({range})\n", r.checked),
            true,
        ),
        Some(b) => (
            format!(
                "audit chain BROKEN at record {}: {} ({} checked, {range})\n",
                b.seq, b.reason, r.checked
            ),
            false,
        ),
    }
}

/// Runs `f` as the armed part of the current request's audit scope (if it has one): the
/// request's first successful write appends `action` by `actor` on `resources` in its own
/// transaction. The scope is disarmed when `f` ends or is dropped.
pub async fn armed<F: std::future::Future>(
    action: String,
    actor: Actor,
    resources: Vec<String>,
    f: F,
) -> F::Output {
    let Some(scope) = AuditScope::current() else {
        return f.await;
    };
    scope.update(|r| {
        r.action = action;
        r.actor = actor;
        r.resources = resources;
    });
    scope.arm(None);
    let _disarm = Disarm(&scope);
    f.await
}

/// Notes, in the current request's audit scope, the resources it names (kept for the record
/// even when the call is then refused).
pub fn note_resources(resources: &[String]) {
    if let Some(scope) = AuditScope::current() {
        scope.update(|r| r.resources = resources.to_vec());
    }
}

struct Disarm<'a>(&'a AuditScope);

impl Drop for Disarm<'_> {
    fn drop(&mut self) {
        self.0.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_cut_at_the_limit_and_cleaned() {
        let at = "a".repeat(USER_AGENT_CHARS_MAX);
        let over = "é".repeat(USER_AGENT_CHARS_MAX + 1);
        let cases: &[(&str, String)] = &[
            ("curl/8", "curl/8".into()),
            (&at, at.clone()),
            (&over, "é".repeat(USER_AGENT_CHARS_MAX)),
            ("a\nb\tc", "a?b?c".into()),
        ];
        for (input, expected) in cases {
            assert_eq!(&user_agent(input), expected, "{input}");
        }
    }
}
