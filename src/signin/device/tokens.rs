//! CLI access tokens: random 256-bit, stored only as SHA-256 digests, bound to a user and a
//! directory and to the portal session that approved them. A token is checked whole on every
//! use (there, unexpired, its user present and active, the password unchanged since the
//! approval, the service on) and ends with its user's sessions: when the user is disabled or
//! deleted (`follow`), when its approving session signs out or is revoked (`session`), with
//! its directory (`sweep`). Then the lists a token opens: the accounts and access
//! configurations of the user's effective access.

use super::ClientKind;
use crate::access::records::{AccessConfiguration, Account};
use crate::error::DomainError;
use crate::model::{DirectoryId, ResourceKind, UserId};
use crate::signin::SignIn;
use crate::signin::session::digest;
use crate::signin::state::{fingerprint, now_unix};
use crate::store::keys::{AccountKey, ConfigKey, DeviceTokenByUserKey, DeviceTokenKey, Prefix};
use crate::store::{ReadTxn, StoreError, WriteTxn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest bearer token looked up (ours are 64 hex characters).
pub const BEARER_LEN_MAX: usize = 128;
/// Most items on one page of a list, and the page size when the client names none.
pub const LIST_PAGE_MAX: usize = 100;
pub const LIST_PAGE_DEFAULT: usize = 20;
/// Longest `NextToken` (an item id).
pub const NEXT_TOKEN_LEN_MAX: usize = 64;

/// What a stored token opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// A bearer token for the portal protocols' lists and credentials.
    #[default]
    Access,
    /// Exchanged once (AWS's `refresh_token` grant) for a new access token and a new refresh
    /// token; opens nothing else.
    Refresh,
}

/// A stored token (its key is the digest of the token, which is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenRecord {
    pub dir: String,
    pub user: String,
    pub user_name: String,
    pub client: ClientKind,
    pub created_at: i64,
    pub expires_at: i64,
    /// The digest of the portal session that approved it.
    pub session: String,
    pub password_fingerprint: Option<String>,
    #[serde(default)]
    pub kind: TokenKind,
    /// The registered client it was issued to (AWS's protocol; empty for CloudSSO's).
    #[serde(default)]
    pub client_id: String,
    /// Random, shared by every token of one sign-in (its access and refresh tokens, through
    /// every rotation): a logout ends the family.
    #[serde(default)]
    pub family: String,
    /// A refresh token already exchanged: kept until its family ends so that presenting it
    /// again (a stolen copy racing its owner) ends the whole family.
    #[serde(default)]
    pub used: bool,
}

/// The user a live token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer {
    /// The token's digest and its sign-in's family (to end them at logout).
    pub digest: String,
    pub family: String,
    pub dir: DirectoryId,
    pub user: UserId,
    pub user_name: String,
    pub client: ClientKind,
    pub expires_at: i64,
}

/// One page of a list: the items and the token of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// An account a token's user may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliAccount {
    pub id: String,
    pub name: String,
}

/// An access configuration a token's user may use on an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliConfiguration {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// Why a list is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListRefusal {
    /// `MaxResults` outside 1 to `LIST_PAGE_MAX`.
    MaxResults,
    /// A `NextToken` this list did not give.
    NextToken,
}

/// Stores a new token and its by-user row.
pub(in crate::signin) fn put_token(
    txn: &WriteTxn,
    digest: &str,
    rec: &AccessTokenRecord,
) -> Result<(), DomainError> {
    txn.put(DeviceTokenKey { digest }, rec)?;
    txn.put(
        DeviceTokenByUserKey {
            dir: &rec.dir,
            user: &rec.user,
            digest,
        },
        &(),
    )?;
    Ok(())
}

pub(in crate::signin) fn delete_token(
    txn: &WriteTxn,
    digest: &str,
    rec: &AccessTokenRecord,
) -> Result<(), DomainError> {
    txn.delete(DeviceTokenKey { digest })?;
    txn.delete(DeviceTokenByUserKey {
        dir: &rec.dir,
        user: &rec.user,
        digest,
    })?;
    Ok(())
}

/// Which of a user's tokens to end.
#[derive(Debug, Clone, Copy)]
pub(in crate::signin) enum Ending<'a> {
    All,
    /// Those approved by the session with this digest.
    Session(&'a str),
    /// One sign-in's (a logout).
    Family(&'a str),
}

impl Ending<'_> {
    fn ends(&self, rec: &AccessTokenRecord) -> bool {
        match self {
            Ending::All => true,
            Ending::Session(s) => *s == rec.session,
            Ending::Family(f) => !f.is_empty() && *f == rec.family,
        }
    }
}

/// Ends a user's tokens (`which` of them); how many.
pub(in crate::signin) fn end_tokens(
    txn: &WriteTxn,
    dir: &str,
    user: &str,
    which: Ending<'_>,
) -> Result<usize, DomainError> {
    let mut n = 0;
    for (d, ()) in txn.scan_tails::<()>(Prefix::DeviceTokensOf { dir, user })? {
        match txn.get::<AccessTokenRecord>(DeviceTokenKey { digest: &d })? {
            Some(rec) if which.ends(&rec) => {
                delete_token(txn, &d, &rec)?;
                n += 1;
            }
            Some(_) => {}
            None => {
                txn.delete(DeviceTokenByUserKey {
                    dir,
                    user,
                    digest: &d,
                })?;
            }
        }
    }
    Ok(n)
}

/// Ends every token of a directory.
pub(in crate::signin) fn end_directory_tokens(
    txn: &WriteTxn,
    dir: &str,
) -> Result<(), DomainError> {
    for (tail, ()) in txn.scan_tails::<()>(Prefix::DeviceTokensIn { dir })? {
        if let Some((user, _)) = tail.split_once('\0') {
            end_tokens(txn, dir, user, Ending::All)?;
        }
    }
    Ok(())
}

/// Forgets tokens past their end, at most `max`; how many.
pub(in crate::signin) fn forget_expired_tokens(
    txn: &WriteTxn,
    now: i64,
    max: usize,
) -> Result<usize, DomainError> {
    let mut n = 0;
    for (d, rec) in txn.scan_tails::<AccessTokenRecord>(Prefix::AllDeviceTokens)? {
        if n >= max {
            break;
        }
        if now >= rec.expires_at {
            delete_token(txn, &d, &rec)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The token at `digest` if it is alive at `now`.
fn live_token(txn: &ReadTxn, digest: &str, now: i64) -> Result<Option<Bearer>, DomainError> {
    let Some(rec) = txn.get::<AccessTokenRecord>(DeviceTokenKey { digest })? else {
        return Ok(None);
    };
    if rec.kind != TokenKind::Access
        || now >= rec.expires_at
        || !user_may_sign_in(txn, &rec.dir, &rec.user, &rec.password_fingerprint)?
    {
        return Ok(None);
    }
    // INVARIANT: the approving session's end (sign-out, revocation) deleted its tokens in
    // the same commit; a session that merely timed out leaves them their own, shorter life.
    Ok(Some(Bearer {
        digest: digest.to_owned(),
        family: rec.family,
        dir: DirectoryId::new(rec.dir.as_str()),
        user: UserId::new(rec.user.as_str()),
        user_name: rec.user_name,
        client: rec.client,
        expires_at: rec.expires_at,
    }))
}

/// What the token checks read, in either kind of transaction.
pub(in crate::signin) trait UserFacts {
    fn user_doc(&self, dir: &str, user: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn password_of(&self, dir: &str, user: &str) -> Result<Option<String>, StoreError>;
}

macro_rules! user_facts {
    ($txn:ty) => {
        impl UserFacts for $txn {
            fn user_doc(
                &self,
                dir: &str,
                user: &str,
            ) -> Result<Option<serde_json::Value>, StoreError> {
                self.resource(ResourceKind::User, dir, user)
            }
            fn password_of(&self, dir: &str, user: &str) -> Result<Option<String>, StoreError> {
                self.password_hash(dir, user)
            }
        }
    };
}
user_facts!(ReadTxn);
user_facts!(WriteTxn);

/// Whether a user is present and active and their password fingerprint is still `expected`.
pub(in crate::signin) fn user_may_sign_in(
    txn: &impl UserFacts,
    dir: &str,
    user: &str,
    expected: &Option<String>,
) -> Result<bool, DomainError> {
    let Some(doc) = txn.user_doc(dir, user)? else {
        return Ok(false);
    };
    if doc.get("active") == Some(&serde_json::Value::Bool(false)) {
        return Ok(false);
    }
    let current = txn.password_of(dir, user)?.map(|p| fingerprint(&p));
    Ok(current == *expected)
}

impl SignIn {
    /// The user a bearer token speaks for, if it is alive.
    pub async fn bearer(&self, token: &str) -> Result<Option<Bearer>, DomainError> {
        if token.is_empty() || token.len() > BEARER_LEN_MAX || !self.service_enabled().await? {
            return Ok(None);
        }
        let d = digest(token);
        self.read(move |txn| live_token(txn, &d, now_unix())).await
    }

    /// A page of the accounts `b`'s user may use now, by id.
    pub async fn cli_accounts(
        &self,
        b: &Bearer,
        next: Option<&str>,
        max: Option<usize>,
    ) -> Result<Result<ListPage<CliAccount>, ListRefusal>, DomainError> {
        let by_account = self.grants_by_account(b).await?;
        let ids: Vec<String> = by_account.into_keys().collect();
        let page = match paginate(&ids, next, max) {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let items = self
            .read(move |txn| {
                let mut out = Vec::new();
                for id in page.items {
                    let name = txn
                        .get::<Account>(AccountKey { id: &id })?
                        .map(|a| a.display_name)
                        .unwrap_or_default();
                    out.push(CliAccount { id, name });
                }
                Ok(ListPage {
                    items: out,
                    next: page.next,
                })
            })
            .await?;
        Ok(Ok(items))
    }

    /// A page of the access configurations `b`'s user may use now on `account`, by id (none
    /// for an account the user may not use).
    pub async fn cli_configurations(
        &self,
        b: &Bearer,
        account: &str,
        next: Option<&str>,
        max: Option<usize>,
    ) -> Result<Result<ListPage<CliConfiguration>, ListRefusal>, DomainError> {
        let mut by_account = self.grants_by_account(b).await?;
        let names = by_account.remove(account).unwrap_or_default();
        let ids: Vec<String> = names.keys().cloned().collect();
        let page = match paginate(&ids, next, max) {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let dir = b.dir.to_string();
        let items = self
            .read(move |txn| {
                let mut out = Vec::new();
                for id in page.items {
                    let description = txn
                        .get::<AccessConfiguration>(ConfigKey { dir: &dir, id: &id })?
                        .map(|c| c.description)
                        .unwrap_or_default();
                    let name = names.get(&id).cloned().unwrap_or_default();
                    out.push(CliConfiguration {
                        id,
                        name,
                        description,
                    });
                }
                Ok(ListPage {
                    items: out,
                    next: page.next,
                })
            })
            .await?;
        Ok(Ok(items))
    }

    /// The user's effective access: account id -> configuration id -> name.
    pub(in crate::signin) async fn grants_by_account(
        &self,
        b: &Bearer,
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>, DomainError> {
        let grants = self.access().effective_access(&b.dir, &b.user).await?;
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for g in grants {
            out.entry(g.account_id)
                .or_default()
                .insert(g.config_id, g.config_name);
        }
        Ok(out)
    }
}

/// The page of `ids` (sorted) starting at `next` (an id the previous page named), of at most
/// `max` items.
pub fn paginate(
    ids: &[String],
    next: Option<&str>,
    max: Option<usize>,
) -> Result<ListPage<String>, ListRefusal> {
    let max = max.unwrap_or(LIST_PAGE_DEFAULT);
    if !(1..=LIST_PAGE_MAX).contains(&max) {
        return Err(ListRefusal::MaxResults);
    }
    let start = match next.filter(|n| !n.is_empty()) {
        None => 0,
        Some(n) if n.len() > NEXT_TOKEN_LEN_MAX => return Err(ListRefusal::NextToken),
        Some(n) => ids
            .iter()
            .position(|id| id == n)
            .ok_or(ListRefusal::NextToken)?,
    };
    let rest = ids.get(start..).unwrap_or_default();
    Ok(ListPage {
        items: rest.iter().take(max).cloned().collect(),
        next: rest.get(max).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_next_token_and_refuse_others() {
        let ids: Vec<String> = (1..=5).map(|i| format!("id-{i}")).collect();
        type Case<'a> = (
            Option<&'a str>,
            Option<usize>,
            Result<(Vec<&'a str>, Option<&'a str>), ListRefusal>,
        );
        let cases: Vec<Case> = vec![
            (
                None,
                None,
                Ok((vec!["id-1", "id-2", "id-3", "id-4", "id-5"], None)),
            ),
            (None, Some(2), Ok((vec!["id-1", "id-2"], Some("id-3")))),
            (
                Some("id-3"),
                Some(2),
                Ok((vec!["id-3", "id-4"], Some("id-5"))),
            ),
            (Some("id-5"), Some(2), Ok((vec!["id-5"], None))),
            (
                Some(""),
                Some(5),
                Ok((vec!["id-1", "id-2", "id-3", "id-4", "id-5"], None)),
            ),
            (Some("garbage"), None, Err(ListRefusal::NextToken)),
            (None, Some(0), Err(ListRefusal::MaxResults)),
            (
                None,
                Some(LIST_PAGE_MAX),
                Ok((vec!["id-1", "id-2", "id-3", "id-4", "id-5"], None)),
            ),
            (None, Some(LIST_PAGE_MAX + 1), Err(ListRefusal::MaxResults)),
        ];
        for (next, max, want) in cases {
            let got = paginate(&ids, next, max).map(|p| (p.items, p.next));
            let want = want.map(|(i, n)| {
                (
                    i.into_iter().map(str::to_owned).collect::<Vec<_>>(),
                    n.map(str::to_owned),
                )
            });
            assert_eq!(got, want, "{next:?} {max:?}");
        }
    }
}
