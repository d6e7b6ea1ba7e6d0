//! The resource directory's member accounts and folders, as Resource Manager models them: one
//! resource directory with its root folder, made on first use; folders at most
//! `FOLDER_DEPTH_MAX` levels under the root, names unique under a parent; accounts whose display
//! names and account names are unique in the directory.
//!
//! INVARIANT: an account is never deleted while an access assignment or a RAM user
//! provisioning targets it, or while it is CloudSSO's delegated administrator.
//!
//! Must not know about HTTP: `api::ops::resourcemanager` shapes `AccountView` and `Folder`.

use super::Access;
use super::records::{Account, Assignment, Folder, ResourceDirectory};
use crate::directory::append_event;
use crate::error::{Conflict, DomainError, Entity};
use crate::model::new_numeric_id;
use crate::model::{ChangeKind, ResourceType, now_rfc3339, random_string};
use crate::store::keys::{AccountKey, FolderKey, KeyedRead, MetaKey, Prefix};
use crate::store::{ReadTxn, WriteTxn};
use std::ops::RangeInclusive;

/// Levels of folders under the root folder.
pub const FOLDER_DEPTH_MAX: usize = 5;
/// Member accounts in the resource directory.
pub const ACCOUNTS_MAX: usize = 1000;
/// Folders in the resource directory, the root folder not counted.
pub const FOLDERS_MAX: usize = 1000;
pub const DISPLAY_NAME_CHARS: RangeInclusive<usize> = 2..=50;
pub const FOLDER_NAME_CHARS: RangeInclusive<usize> = 1..=24;
pub const ACCOUNT_NAME_PREFIX_CHARS: RangeInclusive<usize> = 2..=37;
/// Length of a generated account name prefix.
const GENERATED_PREFIX_CHARS: usize = 12;

/// The `MetaKey` name of the resource directory.
const RESOURCE_DIRECTORY_KEY: &str = "resource_directory";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// What `create_account` is given.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub display_name: String,
    /// The folder to put it in; the root folder when `None`.
    pub parent_folder_id: Option<String>,
    /// The part of the account name before `@`; random when `None`.
    pub account_name_prefix: Option<String>,
}

/// An account with where it sits in the resource directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub account: Account,
    pub resource_directory_id: String,
    /// Ids from the resource directory down to the account: `rd-.../r-.../fd-.../<AccountId>`.
    pub path: String,
    /// Folder names from the root: `root/Dev`.
    pub location: String,
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub total: usize,
    pub items: Vec<T>,
}

fn invalid(param: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        param,
        message: message.into(),
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '_' | '.' | '-')
}

/// 2 to 50 characters of letters, digits, `_`, `.`, `-` and spaces.
pub fn check_display_name(s: &str) -> Result<(), DomainError> {
    if !DISPLAY_NAME_CHARS.contains(&s.chars().count())
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || is_special(c) || c == ' ')
    {
        return Err(invalid(
            "DisplayName",
            "must be 2 to 50 characters of letters, digits, `_`, `.`, `-` and spaces",
        ));
    }
    Ok(())
}

/// 1 to 24 characters of letters, digits, `_`, `.` and `-` (Resource Manager's own codes:
/// `InvalidParameter.Folder.Name` and `.Length`).
pub fn check_folder_name(s: &str) -> Result<(), DomainError> {
    if !FOLDER_NAME_CHARS.contains(&s.chars().count()) {
        return Err(invalid("Folder.Name.Length", "must be 1 to 24 characters"));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || is_special(c))
    {
        return Err(invalid(
            "Folder.Name",
            "may contain only letters, digits, `_`, `.` and `-`",
        ));
    }
    Ok(())
}

/// 2 to 37 characters of letters, digits, `_`, `.` and `-`, starting and ending with a letter
/// or digit, without two special characters in a row.
pub fn check_account_name_prefix(s: &str) -> Result<(), DomainError> {
    let chars: Vec<char> = s.chars().collect();
    let ends_alnum = chars.first().is_some_and(char::is_ascii_alphanumeric)
        && chars.last().is_some_and(char::is_ascii_alphanumeric);
    let ok = ACCOUNT_NAME_PREFIX_CHARS.contains(&chars.len())
        && chars
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || is_special(*c))
        && ends_alnum
        && !chars.windows(2).any(|w| w.iter().all(|c| is_special(*c)));
    if !ok {
        return Err(invalid(
            "AccountNamePrefix",
            "must be 2 to 37 characters of letters, digits, `_`, `.` and `-`, start and end with a letter or digit, without consecutive special characters",
        ));
    }
    Ok(())
}

/// `r-` and 6 alphanumerics, or `fd-` and 10.
pub fn check_folder_id(param: &'static str, s: &str) -> Result<(), DomainError> {
    let tail_ok = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_alphanumeric());
    let ok = match (s.strip_prefix("r-"), s.strip_prefix("fd-")) {
        (Some(t), _) => tail_ok(t, 6),
        (_, Some(t)) => tail_ok(t, 10),
        _ => false,
    };
    if !ok {
        return Err(invalid(
            param,
            "must be `r-` and 6 letters or digits, or `fd-` and 10",
        ));
    }
    Ok(())
}

fn resource_directory(txn: &impl KeyedRead) -> Result<Option<ResourceDirectory>, DomainError> {
    let key = MetaKey {
        name: RESOURCE_DIRECTORY_KEY,
    };
    Ok(txn.read_at::<ResourceDirectory>(key)?)
}

/// The resource directory, made with its root folder when there is none yet.
fn ensure_resource_directory(txn: &WriteTxn) -> Result<ResourceDirectory, DomainError> {
    if let Some(rd) = resource_directory(txn)? {
        return Ok(rd);
    }
    let now = now_rfc3339();
    let rd = ResourceDirectory {
        id: format!("rd-{}", random_string(ALNUM, 6)),
        root_folder_id: format!("r-{}", random_string(ALNUM, 6)),
        created: now.clone(),
    };
    txn.put(
        FolderKey {
            id: &rd.root_folder_id,
        },
        &Folder {
            id: rd.root_folder_id.clone(),
            name: "Root".into(),
            parent_id: None,
            created: now,
        },
    )?;
    let key = MetaKey {
        name: RESOURCE_DIRECTORY_KEY,
    };
    txn.put(key, &rd)?;
    Ok(rd)
}

fn folder_not_found(id: &str) -> DomainError {
    DomainError::NotFound {
        entity: Entity::Folder,
        id: id.to_owned(),
    }
}

/// The folders from the root down to `id`, root first.
fn chain(txn: &impl KeyedRead, id: &str) -> Result<Vec<Folder>, DomainError> {
    let mut out: Vec<Folder> = Vec::new();
    let mut next = Some(id.to_owned());
    while let Some(current) = next {
        // INVARIANT: folders form a tree at most FOLDER_DEPTH_MAX levels under the root.
        if out.len() > FOLDER_DEPTH_MAX {
            return Err(DomainError::Internal(format!(
                "folder `{id}` nests too deep"
            )));
        }
        let f = txn
            .read_at::<Folder>(FolderKey { id: &current })?
            .ok_or_else(|| folder_not_found(&current))?;
        next = f.parent_id.clone();
        out.push(f);
    }
    out.reverse();
    Ok(out)
}

fn view(
    txn: &impl KeyedRead,
    rd: &ResourceDirectory,
    account: Account,
) -> Result<AccountView, DomainError> {
    let folders = chain(txn, &account.folder_id)?;
    let mut path = vec![rd.id.as_str()];
    path.extend(folders.iter().map(|f| f.id.as_str()));
    path.push(&account.id);
    let location = std::iter::once("root")
        .chain(
            folders
                .iter()
                .filter(|f| f.parent_id.is_some())
                .map(|f| f.name.as_str()),
        )
        .collect::<Vec<_>>()
        .join("/");
    Ok(AccountView {
        path: path.join("/"),
        location,
        resource_directory_id: rd.id.clone(),
        account,
    })
}

fn account_not_found(id: &str) -> DomainError {
    DomainError::NotFound {
        entity: Entity::Account,
        id: id.to_owned(),
    }
}

fn create_account_in(txn: &WriteTxn, new: NewAccount) -> Result<AccountView, DomainError> {
    let rd = ensure_resource_directory(txn)?;
    let folder_id = new
        .parent_folder_id
        .unwrap_or_else(|| rd.root_folder_id.clone());
    chain(txn, &folder_id)?;
    let existing = txn.scan::<Account>(Prefix::AllAccounts)?;
    if existing.len() >= ACCOUNTS_MAX {
        return Err(DomainError::Quota {
            entity: Entity::Account,
            max: ACCOUNTS_MAX,
        });
    }
    if existing.iter().any(|a| a.display_name == new.display_name) {
        return Err(invalid(
            "DisplayName.AlreadyUsed",
            format!(
                "`{}` is already used in the resource directory",
                new.display_name
            ),
        ));
    }
    let prefix = new
        .account_name_prefix
        .unwrap_or_else(|| random_string(LOWER_ALNUM, GENERATED_PREFIX_CHARS));
    let account_name = format!("{prefix}@{}.aliyunid.com", rd.id);
    if existing
        .iter()
        .any(|a| a.account_name.eq_ignore_ascii_case(&account_name))
    {
        return Err(invalid(
            "AccountNamePrefix.AlreadyUsed",
            format!("`{account_name}` is already used in the resource directory"),
        ));
    }
    let id = loop {
        let id = new_numeric_id();
        if txn.get::<Account>(AccountKey { id: &id })?.is_none() {
            break id;
        }
    };
    let now = now_rfc3339();
    let account = Account {
        id: id.clone(),
        display_name: new.display_name,
        account_name,
        folder_id,
        created: now.clone(),
        modified: now,
    };
    txn.put(AccountKey { id: &id }, &account)?;
    append_event(txn, "", ResourceType::Account, &id, ChangeKind::Created)?;
    view(txn, &rd, account)
}

fn delete_account_in(txn: &WriteTxn, id: &str) -> Result<(), DomainError> {
    if txn.get::<Account>(AccountKey { id })?.is_none() {
        return Err(account_not_found(id));
    }
    super::user_provisioning::check_account(txn, id)?;
    super::delegate::check_account(txn, id)?;
    let assigned = txn
        .scan::<Assignment>(Prefix::AllAssignments)?
        .iter()
        .filter(|a| a.account_id == id)
        .count();
    if assigned > 0 {
        return Err(DomainError::Conflict {
            rule: Conflict::AccountAssigned,
            message: format!(
                "account `{id}` is the target of {assigned} access assignments: delete them first"
            ),
        });
    }
    // A configuration provisioned (or being provisioned) on the account must be deprovisioned
    // first: once the account is gone, nothing could remove its role.
    let provisioned = txn
        .scan::<super::records::Provisioning>(Prefix::AllProvisionings)?
        .iter()
        .any(|p| p.account_id == id);
    let busy = txn
        .scan::<super::records::Task>(Prefix::AllTasks)?
        .iter()
        .any(|t| t.account_id == id && t.status == super::records::TaskStatus::InProgress);
    if provisioned || busy {
        return Err(DomainError::Conflict {
            rule: Conflict::AccountProvisioned,
            message: format!(
                "access configurations are provisioned on account `{id}`: deprovision them first"
            ),
        });
    }
    txn.delete(AccountKey { id })?;
    append_event(txn, "", ResourceType::Account, id, ChangeKind::Deleted)?;
    Ok(())
}

fn create_folder_in(
    txn: &WriteTxn,
    name: String,
    parent: Option<String>,
) -> Result<Folder, DomainError> {
    let rd = ensure_resource_directory(txn)?;
    let parent = parent.unwrap_or_else(|| rd.root_folder_id.clone());
    if chain(txn, &parent)?.len() > FOLDER_DEPTH_MAX {
        return Err(DomainError::Quota {
            entity: Entity::FolderDepth,
            max: FOLDER_DEPTH_MAX,
        });
    }
    let folders = txn.scan::<Folder>(Prefix::AllFolders)?;
    if folders.iter().filter(|f| f.parent_id.is_some()).count() >= FOLDERS_MAX {
        return Err(DomainError::Quota {
            entity: Entity::Folder,
            max: FOLDERS_MAX,
        });
    }
    if folders
        .iter()
        .any(|f| f.parent_id.as_deref() == Some(parent.as_str()) && f.name == name)
    {
        return Err(invalid(
            "Folder.Name.AlreadyUsed",
            format!("`{name}` already exists under the same parent"),
        ));
    }
    let id = loop {
        let id = format!("fd-{}", random_string(ALNUM, 10));
        if txn.get::<Folder>(FolderKey { id: &id })?.is_none() {
            break id;
        }
    };
    let folder = Folder {
        id: id.clone(),
        name,
        parent_id: Some(parent),
        created: now_rfc3339(),
    };
    txn.put(FolderKey { id: &id }, &folder)?;
    Ok(folder)
}

fn page_of<T>(mut all: Vec<T>, offset: usize, count: usize) -> Page<T> {
    let total = all.len();
    let items = all.drain(offset.min(total)..).take(count).collect();
    Page { total, items }
}

fn account_in(txn: &ReadTxn, id: &str) -> Result<AccountView, DomainError> {
    let account = txn
        .get::<Account>(AccountKey { id })?
        .ok_or_else(|| account_not_found(id))?;
    let rd = resource_directory(txn)?.ok_or_else(|| account_not_found(id))?;
    view(txn, &rd, account)
}

fn accounts_in(
    txn: &ReadTxn,
    offset: usize,
    count: usize,
) -> Result<Page<AccountView>, DomainError> {
    let Some(rd) = resource_directory(txn)? else {
        return Ok(page_of(Vec::new(), offset, count));
    };
    let mut all = txn.scan::<Account>(Prefix::AllAccounts)?;
    all.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    let page = page_of(all, offset, count);
    let items = page
        .items
        .into_iter()
        .map(|a| view(txn, &rd, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        total: page.total,
        items,
    })
}

fn folders_in(
    txn: &ReadTxn,
    parent: Option<String>,
    keyword: Option<String>,
    offset: usize,
    count: usize,
) -> Result<Page<Folder>, DomainError> {
    let parent = match (parent, resource_directory(txn)?) {
        (Some(p), _) => p,
        (None, Some(rd)) => rd.root_folder_id,
        (None, None) => return Ok(page_of(Vec::new(), offset, count)),
    };
    if txn.get::<Folder>(FolderKey { id: &parent })?.is_none() {
        return Err(folder_not_found(&parent));
    }
    let mut all: Vec<Folder> = txn
        .scan::<Folder>(Prefix::AllFolders)?
        .into_iter()
        .filter(|f| f.parent_id.as_deref() == Some(parent.as_str()))
        .filter(|f| {
            keyword
                .as_deref()
                .is_none_or(|k| f.name.to_lowercase().contains(k))
        })
        .collect();
    all.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    Ok(page_of(all, offset, count))
}

impl Access {
    /// Creates a member account (Resource Manager's `CreateResourceAccount`), making the
    /// resource directory on first use.
    pub async fn create_account(&self, new: NewAccount) -> Result<AccountView, DomainError> {
        check_display_name(&new.display_name)?;
        if let Some(p) = &new.account_name_prefix {
            check_account_name_prefix(p)?;
        }
        if let Some(f) = &new.parent_folder_id {
            check_folder_id("ParentFolderId", f)?;
        }
        self.write(move |txn| create_account_in(txn, new)).await
    }

    pub async fn account(&self, id: &str) -> Result<AccountView, DomainError> {
        let id = id.to_owned();
        self.read(move |txn| account_in(txn, &id)).await
    }

    /// Accounts in the order they joined, `count` from `offset`.
    pub async fn accounts(
        &self,
        offset: usize,
        count: usize,
    ) -> Result<Page<AccountView>, DomainError> {
        self.read(move |txn| accounts_in(txn, offset, count)).await
    }

    /// Deletes a member account no access assignment targets.
    pub async fn delete_account(&self, id: &str) -> Result<(), DomainError> {
        let id = id.to_owned();
        self.write(move |txn| delete_account_in(txn, &id)).await
    }

    /// Creates a folder under `parent` (the root folder when `None`).
    pub async fn create_folder(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<Folder, DomainError> {
        check_folder_name(name)?;
        if let Some(p) = parent {
            check_folder_id("ParentFolderId", p)?;
        }
        let name = name.to_owned();
        let parent = parent.map(str::to_owned);
        self.write(move |txn| create_folder_in(txn, name, parent))
            .await
    }

    /// The folders directly under `parent` (the root folder when `None`) whose names contain
    /// `keyword` (ignoring case), oldest first, `count` from `offset`.
    pub async fn folders_for_parent(
        &self,
        parent: Option<&str>,
        keyword: Option<&str>,
        offset: usize,
        count: usize,
    ) -> Result<Page<Folder>, DomainError> {
        if let Some(p) = parent {
            check_folder_id("ParentFolderId", p)?;
        }
        let parent = parent.map(str::to_owned);
        let keyword = keyword.map(str::to_lowercase);
        self.read(move |txn| folders_in(txn, parent, keyword, offset, count))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::directory::Directory;
    use crate::model::ResourceKind;
    use crate::store::keys::{AssignmentKey, Key};
    use crate::store::{Db, Store, Writer};

    struct Fixture {
        access: Access,
        db: Db,
        _tmp: tempfile::TempDir,
    }

    /// Access management over a fresh database (a unit fixture: `app` builds on `access`, so
    /// the whole application is left to the integration tests).
    async fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("t.redb")).unwrap();
        let (writer, _thread) = Writer::start(store.clone(), 64, 1024).unwrap();
        let db = Db::new(store, writer);
        let dir = Directory::new(db.clone(), Limits::default(), "http://x".into());
        Fixture {
            access: Access::new(dir),
            db,
            _tmp: tmp,
        }
    }

    fn new(name: &str) -> NewAccount {
        NewAccount {
            display_name: name.into(),
            ..NewAccount::default()
        }
    }

    /// `Ok` or the parameter an `Invalid` error names.
    fn check(r: Result<(), DomainError>) -> Result<(), &'static str> {
        r.map_err(|e| match e {
            DomainError::Invalid { param, .. } => param,
            other => panic!("{other}"),
        })
    }

    #[test]
    fn names_and_ids() {
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("display", "Dev", Ok(())),
            ("display", "My dev_1.a-b", Ok(())),
            ("display", "D", Err("DisplayName")),
            ("display", &"x".repeat(50), Ok(())),
            ("display", &"x".repeat(51), Err("DisplayName")),
            ("display", "Dév", Err("DisplayName")),
            ("folder", "a", Ok(())),
            ("folder", &"f".repeat(24), Ok(())),
            ("folder", &"f".repeat(25), Err("Folder.Name.Length")),
            ("folder", "", Err("Folder.Name.Length")),
            ("folder", "a b", Err("Folder.Name")),
            ("prefix", "alice", Ok(())),
            ("prefix", "a.b-c_d", Ok(())),
            ("prefix", "a", Err("AccountNamePrefix")),
            ("prefix", &"p".repeat(37), Ok(())),
            ("prefix", &"p".repeat(38), Err("AccountNamePrefix")),
            ("prefix", "-ab", Err("AccountNamePrefix")),
            ("prefix", "ab.", Err("AccountNamePrefix")),
            ("prefix", "a..b", Err("AccountNamePrefix")),
            ("prefix", "a@b", Err("AccountNamePrefix")),
            ("folder id", "r-Ab12Cd", Ok(())),
            ("folder id", "fd-Ab12Cd34Ef", Ok(())),
            ("folder id", "r-Ab12C", Err("ParentFolderId")),
            ("folder id", "fd-Ab12Cd34E", Err("ParentFolderId")),
            ("folder id", "fd-Ab12Cd34E!", Err("ParentFolderId")),
            ("folder id", "x-Ab12Cd", Err("ParentFolderId")),
        ];
        for (what, input, want) in cases {
            let got = check(match *what {
                "display" => check_display_name(input),
                "folder" => check_folder_name(input),
                "prefix" => check_account_name_prefix(input),
                _ => check_folder_id("ParentFolderId", input),
            });
            assert_eq!(&got, want, "{what} `{input}`");
        }
    }

    #[tokio::test]
    async fn accounts_in_folders_with_paths() {
        let f = fixture().await;
        let a = &f.access;
        assert_eq!(a.accounts(0, 10).await.unwrap().total, 0);
        assert_eq!(
            a.folders_for_parent(None, None, 0, 10).await.unwrap().total,
            0
        );
        let dev = a.create_folder("Dev", None).await.unwrap();
        let root = dev.parent_id.clone().unwrap();
        assert!(root.starts_with("r-") && root.len() == 8, "{root}");
        assert!(dev.id.starts_with("fd-") && dev.id.len() == 13);
        let web = a.create_folder("Web", Some(&dev.id)).await.unwrap();
        let v = a
            .create_account(NewAccount {
                display_name: "Web prod".into(),
                parent_folder_id: Some(web.id.clone()),
                account_name_prefix: Some("web-prod".into()),
            })
            .await
            .unwrap();
        let id = v.account.id.clone();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
        let rd = v.resource_directory_id.clone();
        assert!(rd.starts_with("rd-") && rd.len() == 9);
        assert_eq!(
            v.account.account_name,
            format!("web-prod@{rd}.aliyunid.com")
        );
        assert_eq!(v.path, format!("{rd}/{root}/{}/{}/{id}", dev.id, web.id));
        assert_eq!(v.location, "root/Dev/Web");
        assert_eq!(a.account(&id).await.unwrap(), v);
        let other = a.create_account(new("Other")).await.unwrap();
        assert_eq!(other.account.folder_id, root);
        assert_eq!(other.location, "root");
        assert!(
            other
                .account
                .account_name
                .ends_with(&format!("@{rd}.aliyunid.com"))
        );

        let page = a.accounts(0, 1).await.unwrap();
        assert_eq!((page.total, page.items.len()), (2, 1));
        let rest = a.accounts(1, 10).await.unwrap().items;
        assert_eq!(rest.len(), 1);
        let mut both = vec![page.items[0].clone(), rest[0].clone()];
        both.sort_by(|x, y| x.account.display_name.cmp(&y.account.display_name));
        assert_eq!(both, [other.clone(), v.clone()], "Other < Web prod");
        assert!(a.accounts(5, 10).await.unwrap().items.is_empty());

        for (parent, keyword, want) in [
            (None, None, vec!["Dev"]),
            (Some(dev.id.as_str()), None, vec!["Web"]),
            (Some(dev.id.as_str()), Some("we"), vec!["Web"]),
            (Some(dev.id.as_str()), Some("x"), vec![]),
            (Some(web.id.as_str()), None, vec![]),
        ] {
            let got: Vec<String> = a
                .folders_for_parent(parent, keyword, 0, 10)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|f| f.name)
                .collect();
            assert_eq!(got, want, "{parent:?} {keyword:?}");
        }
    }

    /// The error's API code family: the `Invalid` parameter, the `NotFound` entity, ...
    fn kind(e: DomainError) -> String {
        match e {
            DomainError::Invalid { param, .. } => format!("Invalid {param}"),
            DomainError::NotFound { entity, .. } => format!("NotFound {}", entity.name()),
            DomainError::Quota { entity, .. } => format!("Quota {}", entity.name()),
            DomainError::Conflict { rule, .. } => format!("Conflict {}", rule.code()),
            other => other.to_string(),
        }
    }

    #[tokio::test]
    async fn refusals() {
        let f = fixture().await;
        let a = &f.access;
        let dev = a.create_folder("Dev", None).await.unwrap();
        a.create_account(NewAccount {
            display_name: "Dev".into(),
            account_name_prefix: Some("dev".into()),
            ..NewAccount::default()
        })
        .await
        .unwrap();
        let missing_folder = "fd-0000000000";
        let cases: Vec<(&str, DomainError)> = vec![
            (
                "Invalid DisplayName.AlreadyUsed",
                a.create_account(new("Dev")).await.unwrap_err(),
            ),
            (
                "Invalid AccountNamePrefix.AlreadyUsed",
                a.create_account(NewAccount {
                    display_name: "Dev2".into(),
                    account_name_prefix: Some("DEV".into()),
                    ..NewAccount::default()
                })
                .await
                .unwrap_err(),
            ),
            (
                "NotFound Folder",
                a.create_account(NewAccount {
                    display_name: "Dev3".into(),
                    parent_folder_id: Some(missing_folder.into()),
                    ..NewAccount::default()
                })
                .await
                .unwrap_err(),
            ),
            (
                "Invalid Folder.Name.AlreadyUsed",
                a.create_folder("Dev", None).await.unwrap_err(),
            ),
            (
                "NotFound Folder",
                a.create_folder("X", Some(missing_folder))
                    .await
                    .unwrap_err(),
            ),
            (
                "NotFound Folder",
                a.folders_for_parent(Some(missing_folder), None, 0, 10)
                    .await
                    .unwrap_err(),
            ),
            (
                "NotFound Account",
                a.account("1000000000000000").await.unwrap_err(),
            ),
            (
                "NotFound Account",
                a.delete_account("1000000000000000").await.unwrap_err(),
            ),
        ];
        for (want, got) in cases {
            assert_eq!(kind(got), want);
        }
        // The same name under another parent is fine.
        a.create_folder("Dev", Some(&dev.id)).await.unwrap();
    }

    #[tokio::test]
    async fn folder_depth_at_the_limit_and_one_past() {
        let f = fixture().await;
        let a = &f.access;
        let mut parent: Option<String> = None;
        for level in 1..=FOLDER_DEPTH_MAX {
            let folder = a
                .create_folder(&format!("L{level}"), parent.as_deref())
                .await
                .unwrap();
            parent = Some(folder.id);
        }
        let e = a
            .create_folder("Deep", parent.as_deref())
            .await
            .unwrap_err();
        assert_eq!(kind(e), "Quota Folder.Depth");
        // An account may sit in the deepest folder.
        let v = a
            .create_account(NewAccount {
                display_name: "Deep".into(),
                parent_folder_id: parent,
                ..NewAccount::default()
            })
            .await
            .unwrap();
        assert_eq!(v.location, "root/L1/L2/L3/L4/L5");
    }

    #[tokio::test]
    async fn account_quota_at_the_limit_and_one_past() {
        let f = fixture().await;
        let a = &f.access;
        a.create_account(new("First")).await.unwrap();
        f.db.write(|w| {
            let template = w.scan::<Account>(Prefix::AllAccounts)?.remove(0);
            for i in 1..ACCOUNTS_MAX - 1 {
                let id = format!("{:016}", i);
                let acc = Account {
                    id: id.clone(),
                    display_name: format!("a{i}"),
                    account_name: format!("a{i}@x.aliyunid.com"),
                    ..template.clone()
                };
                w.put(AccountKey { id: &id }, &acc)?;
            }
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
        a.create_account(new("Last")).await.unwrap();
        assert_eq!(a.accounts(0, 1).await.unwrap().total, ACCOUNTS_MAX);
        let e = a.create_account(new("Over")).await.unwrap_err();
        assert_eq!(kind(e), "Quota Account");
    }

    #[tokio::test]
    async fn an_assigned_account_is_not_deleted() {
        let f = fixture().await;
        let a = &f.access;
        let id = a.create_account(new("Prod")).await.unwrap().account.id;
        let assignment = Assignment {
            directory_id: "d-1".into(),
            config_id: "ac-1".into(),
            account_id: id.clone(),
            principal_type: ResourceKind::User,
            principal_id: "u-1".into(),
            created: now_rfc3339(),
        };
        let key = move |id: &str| {
            Key::from(AssignmentKey {
                dir: "d-1",
                config: "ac-1",
                account: id,
                principal_type: "User",
                principal_id: "u-1",
            })
        };
        let k = key(&id);
        f.db.write(move |w| Ok::<_, DomainError>(w.put(k, &assignment)?))
            .await
            .unwrap();
        let e = a.delete_account(&id).await.unwrap_err();
        assert_eq!(kind(e), "Conflict DeleteConflict.Account.AccessAssignment");
        assert!(a.account(&id).await.is_ok());

        let k = key(&id);
        f.db.write(move |w| Ok::<_, DomainError>(w.delete(k)?))
            .await
            .unwrap();
        a.delete_account(&id).await.unwrap();
        assert_eq!(kind(a.account(&id).await.unwrap_err()), "NotFound Account");
        let events =
            f.db.read(|r| Ok::<_, DomainError>(r.events_after(0, 100)?))
                .await
                .unwrap();
        let kinds: Vec<(ResourceType, ChangeKind)> = events
            .iter()
            .filter(|e| e.id == id)
            .map(|e| (e.resource, e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (ResourceType::Account, ChangeKind::Created),
                (ResourceType::Account, ChangeKind::Deleted)
            ]
        );
    }
}
