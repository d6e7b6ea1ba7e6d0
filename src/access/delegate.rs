//! CloudSSO's delegated administrator account (`EnableDelegateAccount`,
//! `DisableDelegateAccount`, `GetDelegateAccount`): a member account of the resource directory
//! named to manage CloudSSO besides the management account. At most
//! `DELEGATE_ACCOUNTS_MAX` at a time; never the management account itself (the installation's
//! account, which the caller names: `access` does not read `iam`'s records).
//!
//! INVARIANT: a delegate record names an account of the resource directory; deleting that
//! account is refused while the record exists (`check_account`).
//!
//! Every write stores or removes the record with its change event (`ResourceType::
//! DelegateAccount`, directory "") in one transaction. Enabling the current delegate again
//! changes nothing (like `EnableService`).
//!
//! Must not know about HTTP: `api::ops::delegate` shapes `DelegateView`.

use super::Access;
use super::records::{Account, DelegateAccount};
use crate::directory::append_event;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::{ChangeKind, ResourceType, now_rfc3339};
use crate::store::keys::{AccountKey, DelegateAccountKey, KeyedRead, Prefix};
use crate::store::{ReadTxn, WriteTxn};

/// Delegated administrator accounts of CloudSSO at a time (Alibaba allows one).
pub const DELEGATE_ACCOUNTS_MAX: usize = 1;

/// A member account and whether it is CloudSSO's delegated administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateView {
    pub account: Account,
    /// `Some` while the account is the delegate (`DelegateStatus` Enabled).
    pub delegate: Option<DelegateAccount>,
}

fn account_not_found(id: &str) -> DomainError {
    DomainError::NotFound {
        entity: Entity::Account,
        id: id.to_owned(),
    }
}

fn member(txn: &impl KeyedRead, id: &str) -> Result<Account, DomainError> {
    txn.read_at::<Account>(AccountKey { id })?
        .ok_or_else(|| account_not_found(id))
}

fn enable_in(txn: &WriteTxn, id: &str, management: &str) -> Result<(), DomainError> {
    if id == management {
        return Err(DomainError::Invalid {
            param: "AccountId.ManagementAccount",
            message: format!(
                "`{id}` is the management account, which manages CloudSSO itself: name a member account of the resource directory"
            ),
        });
    }
    member(txn, id)?;
    let current = txn.scan::<DelegateAccount>(Prefix::AllDelegateAccounts)?;
    if current.iter().any(|d| d.account_id == id) {
        return Ok(());
    }
    if current.len() >= DELEGATE_ACCOUNTS_MAX {
        let names: Vec<&str> = current.iter().map(|d| d.account_id.as_str()).collect();
        return Err(DomainError::Conflict {
            rule: Conflict::DelegateAccountExists,
            message: format!(
                "account `{}` is already CloudSSO's delegated administrator (at most {DELEGATE_ACCOUNTS_MAX}): disable it first",
                names.join("`, `")
            ),
        });
    }
    let record = DelegateAccount {
        account_id: id.to_owned(),
        enabled: now_rfc3339(),
    };
    txn.put(DelegateAccountKey { account: id }, &record)?;
    append_event(
        txn,
        "",
        ResourceType::DelegateAccount,
        id,
        ChangeKind::Created,
    )?;
    Ok(())
}

fn disable_in(txn: &WriteTxn, id: &str) -> Result<(), DomainError> {
    if !txn.delete(DelegateAccountKey { account: id })? {
        member(txn, id)?;
        return Err(DomainError::NotFound {
            entity: Entity::DelegateAccount,
            id: id.to_owned(),
        });
    }
    append_event(
        txn,
        "",
        ResourceType::DelegateAccount,
        id,
        ChangeKind::Deleted,
    )?;
    Ok(())
}

fn view_in(txn: &ReadTxn, id: &str) -> Result<DelegateView, DomainError> {
    Ok(DelegateView {
        account: member(txn, id)?,
        delegate: txn.get::<DelegateAccount>(DelegateAccountKey { account: id })?,
    })
}

/// Refuses deleting an account while it is CloudSSO's delegated administrator.
pub(crate) fn check_account(txn: &WriteTxn, id: &str) -> Result<(), DomainError> {
    if txn
        .get::<DelegateAccount>(DelegateAccountKey { account: id })?
        .is_none()
    {
        return Ok(());
    }
    Err(DomainError::Conflict {
        rule: Conflict::AccountIsDelegate,
        message: format!(
            "account `{id}` is CloudSSO's delegated administrator: disable it first (DisableDelegateAccount)"
        ),
    })
}

impl Access {
    /// Makes member account `id` CloudSSO's delegated administrator. `management` is the
    /// installation's own account, which is refused.
    pub async fn enable_delegate_account(
        &self,
        id: &str,
        management: &str,
    ) -> Result<(), DomainError> {
        let (id, management) = (id.to_owned(), management.to_owned());
        self.write(move |txn| enable_in(txn, &id, &management))
            .await
    }

    /// Ends account `id`'s delegation (`EntityNotExists.DelegateAccount` when it has none).
    pub async fn disable_delegate_account(&self, id: &str) -> Result<(), DomainError> {
        let id = id.to_owned();
        self.write(move |txn| disable_in(txn, &id)).await
    }

    /// Whether account `id` is CloudSSO's delegated administrator now (read on every call of
    /// its administrators: a disable takes effect on the next one).
    pub async fn is_delegate_account(&self, id: &str) -> Result<bool, DomainError> {
        let id = id.to_owned();
        self.read(move |txn| {
            Ok(txn
                .get::<DelegateAccount>(DelegateAccountKey { account: &id })?
                .is_some())
        })
        .await
    }

    /// Member account `id` and its delegation, if any.
    pub async fn delegate_account(&self, id: &str) -> Result<DelegateView, DomainError> {
        let id = id.to_owned();
        self.read(move |txn| view_in(txn, &id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::accounts::NewAccount;
    use crate::config::Limits;
    use crate::directory::Directory;
    use crate::store::{Db, Store, Writer};

    const MANAGEMENT: &str = "1999999999999999";

    async fn fixture() -> (Access, Db, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("t.redb")).unwrap();
        let (writer, _thread) = Writer::start(store.clone(), 64, 1024).unwrap();
        let db = Db::new(store, writer);
        let dir = Directory::new(db.clone(), Limits::default(), "http://x".into());
        (Access::new(dir), db, tmp)
    }

    async fn account(a: &Access, name: &str) -> String {
        let new = NewAccount {
            display_name: name.into(),
            ..NewAccount::default()
        };
        a.create_account(new).await.unwrap().account.id
    }

    fn code(e: DomainError) -> String {
        match e {
            DomainError::NotFound { entity, .. } => format!("NotFound {}", entity.name()),
            DomainError::Conflict { rule, .. } => rule.code().to_owned(),
            DomainError::Invalid { param, .. } => format!("Invalid {param}"),
            other => panic!("{other}"),
        }
    }

    /// The delegate events of `id`, in order.
    async fn events(db: &Db, id: &str) -> Vec<ChangeKind> {
        let all = db
            .read(|r| Ok::<_, DomainError>(r.events_after(0, 100)?))
            .await
            .unwrap();
        all.iter()
            .filter(|e| e.resource == ResourceType::DelegateAccount && e.id == id)
            .map(|e| e.kind)
            .collect()
    }

    #[tokio::test]
    async fn one_delegate_at_a_time_with_its_events() {
        let (a, db, _tmp) = fixture().await;
        let (prod, dev) = (account(&a, "Prod").await, account(&a, "Dev").await);
        assert_eq!(a.delegate_account(&prod).await.unwrap().delegate, None);

        assert!(!a.is_delegate_account(&prod).await.unwrap());
        a.enable_delegate_account(&prod, MANAGEMENT).await.unwrap();
        assert!(a.is_delegate_account(&prod).await.unwrap());
        assert!(!a.is_delegate_account(&dev).await.unwrap());
        let v = a.delegate_account(&prod).await.unwrap();
        let since = v.delegate.clone().unwrap().enabled;
        // Again: nothing changes, not even the time.
        a.enable_delegate_account(&prod, MANAGEMENT).await.unwrap();
        assert_eq!(a.delegate_account(&prod).await.unwrap(), v);
        assert_eq!(events(&db, &prod).await, [ChangeKind::Created]);

        // At the limit, another account is refused; after the disable it is taken.
        let e = a
            .enable_delegate_account(&dev, MANAGEMENT)
            .await
            .unwrap_err();
        assert_eq!(code(e), "OperationConflict.DelegateAccount.Exists");
        assert_eq!(a.delegate_account(&dev).await.unwrap().delegate, None);
        a.disable_delegate_account(&prod).await.unwrap();
        assert!(!a.is_delegate_account(&prod).await.unwrap());
        assert_eq!(
            events(&db, &prod).await,
            [ChangeKind::Created, ChangeKind::Deleted]
        );
        a.enable_delegate_account(&dev, MANAGEMENT).await.unwrap();
        assert_eq!(a.delegate_account(&prod).await.unwrap().delegate, None);
        let d = a.delegate_account(&dev).await.unwrap().delegate.unwrap();
        assert_eq!(d.account_id, dev);
        assert!(d.enabled >= since, "{d:?}");
    }

    #[tokio::test]
    async fn refusals() {
        let (a, _db, _tmp) = fixture().await;
        let prod = account(&a, "Prod").await;
        let unknown = "1000000000000009";
        let cases = [
            (
                a.enable_delegate_account(MANAGEMENT, MANAGEMENT).await,
                "Invalid AccountId.ManagementAccount",
            ),
            (
                a.enable_delegate_account(unknown, MANAGEMENT).await,
                "NotFound Account",
            ),
            (
                a.disable_delegate_account(unknown).await,
                "NotFound Account",
            ),
            (
                a.disable_delegate_account(&prod).await,
                "NotFound DelegateAccount",
            ),
            (
                a.delegate_account(unknown).await.map(|_| ()),
                "NotFound Account",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(code(got.unwrap_err()), want);
        }
        // A delegate's account stays until its delegation ends.
        a.enable_delegate_account(&prod, MANAGEMENT).await.unwrap();
        let e = a.delete_account(&prod).await.unwrap_err();
        assert_eq!(code(e), "DeleteConflict.Account.DelegateAccount");
        a.disable_delegate_account(&prod).await.unwrap();
        a.delete_account(&prod).await.unwrap();
        let e = a.delegate_account(&prod).await.unwrap_err();
        assert_eq!(code(e), "NotFound Account");
    }
}
