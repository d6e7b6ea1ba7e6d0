//! The account list a signed-in user sees: every account they may use now (from effective
//! access), each with its access configurations; searched by account name or id, favourites
//! pinned first, then the last used account, then by name; paged for users with hundreds of
//! accounts. Also the user's portal preferences (favourites, last used).

use super::SignIn;
use crate::access::records::Account;
use crate::error::{DomainError, Entity};
use crate::model::{DirectoryId, UserId};
use crate::store::keys::{AccountKey, PortalPrefsKey};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Accounts on one page of the list.
pub const PORTAL_PAGE_SIZE: usize = 50;
/// Most favourite accounts a user keeps.
pub const FAVOURITES_MAX: usize = 200;
/// Longest search text.
pub const SEARCH_LEN_MAX: usize = 128;

/// A user's portal preferences, under `PortalPrefsKey`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortalPrefs {
    pub favourites: BTreeSet<String>,
    /// `(account id, configuration id)` of the last console opened.
    pub last_used: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub id: String,
    pub name: String,
    pub last_used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEntry {
    pub id: String,
    pub name: String,
    pub favourite: bool,
    pub last_used: bool,
    pub configs: Vec<ConfigEntry>,
}

/// One page of a user's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountList {
    pub entries: Vec<AccountEntry>,
    /// Accounts matching the search (all pages).
    pub matching: usize,
    /// Accounts the user may use (before the search).
    pub total: usize,
    /// 0-based.
    pub page: usize,
    pub pages: usize,
}

impl SignIn {
    /// Page `page` (0-based) of the accounts `user` may use now, filtered by `search` (a
    /// case-insensitive part of the name or id).
    pub async fn account_list(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        search: &str,
        page: usize,
    ) -> Result<AccountList, DomainError> {
        let grants = self.access().effective_access(dir, user).await?;
        let mut by_account = ByAccount::new();
        for g in grants {
            by_account
                .entry(g.account_id)
                .or_default()
                .push((g.config_id, g.config_name));
        }
        let (names, by_account, prefs) = self.names_and_prefs(dir, user, by_account).await?;
        Ok(arrange(&names, by_account, &prefs, search, page))
    }

    /// The display names of `by_account`'s accounts and the user's portal preferences, in one
    /// read.
    async fn names_and_prefs(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        by_account: ByAccount,
    ) -> Result<(BTreeMap<String, String>, ByAccount, PortalPrefs), DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.read(move |txn| {
            let mut names = BTreeMap::new();
            for id in by_account.keys() {
                let name = txn
                    .get::<Account>(AccountKey { id })?
                    .map(|a| a.display_name)
                    .unwrap_or_default();
                names.insert(id.clone(), name);
            }
            let prefs: PortalPrefs = txn
                .get(PortalPrefsKey { dir: &d, user: &u })?
                .unwrap_or_default();
            Ok((names, by_account, prefs))
        })
        .await
    }

    /// The RAM user tab: page `page` of the accounts where `user` has a RAM user now (RAM
    /// user-based logon), searched, pinned and ordered like `account_list`. Each entry has one
    /// `configs` item standing for the RAM user: `id` its name, `name` its logon name.
    pub async fn ram_user_list(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        search: &str,
        page: usize,
    ) -> Result<AccountList, DomainError> {
        let ram_users = self.access().ram_user_access(dir, user).await?;
        let mut by_account = ByAccount::new();
        for u in ram_users {
            let logon = super::saml::ram_user_logon_name(&u.name, &u.account_id);
            by_account
                .entry(u.account_id)
                .or_default()
                .push((u.name, logon));
        }
        let (names, by_account, mut prefs) = self.names_and_prefs(dir, user, by_account).await?;
        // "last used" names a role's console.
        prefs.last_used = None;
        Ok(arrange(&names, by_account, &prefs, search, page))
    }

    /// Pins or unpins an account.
    pub async fn set_favourite(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account: &str,
        on: bool,
    ) -> Result<(), DomainError> {
        self.update_prefs(dir, user, account.to_owned(), move |p, a| {
            if !on {
                p.favourites.remove(&a);
                return Ok(());
            }
            if p.favourites.len() >= FAVOURITES_MAX && !p.favourites.contains(&a) {
                return Err(DomainError::Quota {
                    entity: Entity::Account,
                    max: FAVOURITES_MAX,
                });
            }
            p.favourites.insert(a);
            Ok(())
        })
        .await
    }

    /// Remembers the last console opened.
    pub async fn note_last_used(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account: &str,
        config: &str,
    ) -> Result<(), DomainError> {
        let c = config.to_owned();
        self.update_prefs(dir, user, account.to_owned(), move |p, a| {
            p.last_used = Some((a, c));
            Ok(())
        })
        .await
    }

    async fn update_prefs(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account: String,
        f: impl FnOnce(&mut PortalPrefs, String) -> Result<(), DomainError> + Send + 'static,
    ) -> Result<(), DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.write(move |txn| {
            let key = PortalPrefsKey { dir: &d, user: &u };
            let mut p: PortalPrefs = txn.get(key)?.unwrap_or_default();
            f(&mut p, account)?;
            txn.put(key, &p)?;
            Ok(())
        })
        .await
    }
}

/// Each account's `(configuration id, name)` pairs, by account id.
type ByAccount = BTreeMap<String, Vec<(String, String)>>;

/// Filters, orders and pages the accounts: favourites, then the last used, then by name (then
/// id); configurations by name.
fn arrange(
    names: &BTreeMap<String, String>,
    by_account: ByAccount,
    prefs: &PortalPrefs,
    search: &str,
    page: usize,
) -> AccountList {
    let total = by_account.len();
    let needle: String = search
        .trim()
        .chars()
        .take(SEARCH_LEN_MAX)
        .collect::<String>()
        .to_lowercase();
    let last = prefs.last_used.as_ref();
    let mut entries: Vec<AccountEntry> = by_account
        .into_iter()
        .filter_map(|(id, mut configs)| {
            let name = names.get(&id).cloned().unwrap_or_default();
            let hit =
                needle.is_empty() || name.to_lowercase().contains(&needle) || id.contains(&needle);
            if !hit {
                return None;
            }
            configs.sort_by(|a, b| a.1.cmp(&b.1));
            let last_here = last.is_some_and(|(a, _)| *a == id);
            Some(AccountEntry {
                favourite: prefs.favourites.contains(&id),
                last_used: last_here,
                configs: configs
                    .into_iter()
                    .map(|(cid, cname)| ConfigEntry {
                        last_used: last_here && last.is_some_and(|(_, c)| *c == cid),
                        id: cid,
                        name: cname,
                    })
                    .collect(),
                id,
                name,
            })
        })
        .collect();
    // The key is made once per entry, not twice per comparison (1,000 accounts: ~10,000
    // comparisons).
    entries.sort_by_cached_key(|a| {
        (
            !a.favourite,
            !a.last_used,
            a.name.to_lowercase(),
            a.id.clone(),
        )
    });
    let matching = entries.len();
    let pages = matching.div_ceil(PORTAL_PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let entries = entries
        .into_iter()
        .skip(page * PORTAL_PAGE_SIZE)
        .take(PORTAL_PAGE_SIZE)
        .collect();
    AccountList {
        entries,
        matching,
        total,
        page,
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(n: usize) -> (BTreeMap<String, String>, ByAccount) {
        let mut names = BTreeMap::new();
        let mut by = BTreeMap::new();
        for i in 0..n {
            let id = format!("1{i:015}");
            names.insert(id.clone(), format!("acct-{i:04}"));
            by.insert(
                id,
                vec![
                    ("ac-b".into(), "Beta".into()),
                    ("ac-a".into(), "Alpha".into()),
                ],
            );
        }
        (names, by)
    }

    #[test]
    fn favourites_then_last_used_then_name() {
        let (names, by) = fixture(5);
        let prefs = PortalPrefs {
            favourites: ["1000000000000003".to_owned()].into(),
            last_used: Some(("1000000000000004".into(), "ac-b".into())),
        };
        let l = arrange(&names, by, &prefs, "", 0);
        let ids: Vec<&str> = l.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            ids,
            [
                "acct-0003",
                "acct-0004",
                "acct-0000",
                "acct-0001",
                "acct-0002"
            ]
        );
        let cfgs: Vec<(&str, bool)> = l.entries[1]
            .configs
            .iter()
            .map(|c| (c.name.as_str(), c.last_used))
            .collect();
        assert_eq!(cfgs, [("Alpha", false), ("Beta", true)]);
    }

    #[test]
    fn search_by_name_or_id_and_paging() {
        let (names, by) = fixture(120);
        let cases = [
            ("", 0, 120, 50, 3),
            ("", 2, 120, 20, 3),
            ("", 9, 120, 20, 3),
            ("ACCT-001", 0, 10, 10, 1),
            ("00000000000011", 0, 11, 11, 1),
            ("nothing", 0, 0, 0, 1),
        ];
        for (q, page, matching, on_page, pages) in cases {
            let l = arrange(&names, by.clone(), &PortalPrefs::default(), q, page);
            assert_eq!(
                (l.matching, l.entries.len(), l.pages, l.total),
                (matching, on_page, pages, 120),
                "{q:?} page {page}"
            );
        }
    }
}
