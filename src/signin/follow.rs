//! Follows the outbox, as the reconciliation engine does, so that a user disabled or deleted
//! (over SCIM or the API) loses every portal session and CLI access token at once and for good (re-enabling the user
//! does not bring them back), and a deleted directory's sign-in records go with it.
//!
//! Sessions are also checked whole on every request (`session`), so a request between the
//! commit and this follower's round is refused too; the follower makes the end permanent.
//! Its cursor is durable (`signin_cursor` in meta); a first start begins at the outbox's head.

use super::SignIn;
use super::device::tokens::{Ending, end_tokens};
use super::session::delete_session;
use super::sweep::{forget_directory, forget_user};
use crate::error::DomainError;
use crate::model::{ChangeEvent, ChangeKind, ResourceKind, ResourceType};
use crate::store::WriteTxn;
use crate::store::keys::{MetaKey, Prefix};
use std::time::Duration;

const CURSOR_KEY: MetaKey<'static> = MetaKey {
    name: "signin_cursor",
};
/// Most events handled in one write job.
pub const FOLLOW_EVENTS_MAX: usize = 1000;
/// How long a round waits when no commit wakes it.
const IDLE_WAIT: Duration = Duration::from_secs(30);

impl SignIn {
    /// Handles the events after the cursor, at most `FOLLOW_EVENTS_MAX`, in one write job;
    /// how many it handled. A round with nothing to do writes nothing: its own commit would
    /// wake the follower again, for ever.
    pub async fn follow_round(&self) -> Result<usize, DomainError> {
        if !self.follow_has_work().await? {
            return Ok(0);
        }
        self.write(|txn| {
            let cursor = match txn.get::<u64>(CURSOR_KEY)? {
                Some(c) => c,
                None => txn.last_seq()?,
            };
            let events = txn.events_after(cursor, FOLLOW_EVENTS_MAX)?;
            for e in &events {
                apply(txn, e)?;
            }
            let last = events.last().map_or(cursor, |e| e.seq);
            txn.put(CURSOR_KEY, &last)?;
            Ok(events.len())
        })
        .await
    }

    /// Whether a round would change anything: no cursor yet, or events after it.
    async fn follow_has_work(&self) -> Result<bool, DomainError> {
        self.read(|txn| match txn.get::<u64>(CURSOR_KEY)? {
            None => Ok(true),
            Some(cursor) => Ok(!txn.events_after(cursor, 1)?.is_empty()),
        })
        .await
    }

    /// Follows the outbox until `stop` resolves.
    pub async fn run_follower(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut commits = self.inner.db.commits();
        loop {
            let more = match self.follow_round().await {
                Ok(n) => n == FOLLOW_EVENTS_MAX,
                Err(e) => {
                    tracing::warn!(error = %e, "sign-in follower round failed");
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                () = &mut stop => return,
                _ = commits.changed() => {}
                () = tokio::time::sleep(IDLE_WAIT) => {}
            }
        }
    }
}

fn apply(txn: &WriteTxn, e: &ChangeEvent) -> Result<(), DomainError> {
    let dir = e.directory.as_str();
    match (e.resource, e.kind) {
        (ResourceType::User, ChangeKind::Deleted) => {
            end_sessions(txn, dir, &e.id)?;
            forget_user(txn, dir, &e.id)?;
        }
        (ResourceType::User, _) => {
            let inactive = txn
                .resource(ResourceKind::User, dir, &e.id)?
                .is_none_or(|d| d.get("active") == Some(&serde_json::Value::Bool(false)));
            if inactive {
                end_sessions(txn, dir, &e.id)?;
            }
        }
        (ResourceType::Directory, ChangeKind::Deleted) => forget_directory(txn, dir)?,
        _ => {}
    }
    Ok(())
}

/// Ends a user's sessions and every CLI token of theirs.
fn end_sessions(txn: &WriteTxn, dir: &str, user: &str) -> Result<(), DomainError> {
    for (digest, ()) in txn.scan_tails::<()>(Prefix::SessionsOf { dir, user })? {
        delete_session(txn, &digest)?;
    }
    end_tokens(txn, dir, user, Ending::All)?;
    Ok(())
}
