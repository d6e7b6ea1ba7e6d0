//! The resource directory's member accounts and folders, as Resource Manager models them: one
//! resource directory with its root folder, made on first use; folders at most
//! `FOLDER_DEPTH_MAX` levels under the root, names unique under a parent; accounts whose display
//! names and account names are unique in the directory.
//!
//! INVARIANT: an account is never deleted while an access assignment targets it.
//!
//! Must not know about HTTP: `api::ops::resourcemanager` shapes `AccountView` and `Folder`.

use super::records::{Account, Assignment, Folder, ResourceDirectory};
use super::{Access, AccessError};
use crate::directory::admins::new_numeric_id;
use crate::directory::{DirectoryError, append_event};
use crate::model::{ChangeKind, ResourceType, now_rfc3339, random_string};
use crate::store::{ReadTxn, RecordRead, Records, WriteTxn};
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

/// The `Records::Meta` key of the resource directory.
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

fn invalid(param: &'static str, message: impl Into<String>) -> AccessError {
    AccessError::Invalid {
        param,
        message: message.into(),
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '_' | '.' | '-')
}

/// 2 to 50 characters of letters, digits, `_`, `.`, `-` and spaces.
pub fn check_display_name(s: &str) -> Result<(), AccessError> {
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
pub fn check_folder_name(s: &str) -> Result<(), AccessError> {
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
pub fn check_account_name_prefix(s: &str) -> Result<(), AccessError> {
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
pub fn check_folder_id(param: &'static str, s: &str) -> Result<(), AccessError> {
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

/// Storage errors go to the writer (they poison the batch); the rest stay the caller's.
fn split<T>(r: Result<T, AccessError>) -> Result<Result<T, AccessError>, DirectoryError> {
    match r {
        Err(AccessError::Directory(d)) => Err(d),
        other => Ok(other),
    }
}

fn resource_directory(txn: &impl RecordRead) -> Result<Option<ResourceDirectory>, AccessError> {
    Ok(txn.read_record::<ResourceDirectory>(Records::Meta, RESOURCE_DIRECTORY_KEY)?)
}

/// The resource directory, made with its root folder when there is none yet.
fn ensure_resource_directory(txn: &WriteTxn) -> Result<ResourceDirectory, AccessError> {
    if let Some(rd) = resource_directory(txn)? {
        return Ok(rd);
    }
    let now = now_rfc3339();
    let rd = ResourceDirectory {
        id: format!("rd-{}", random_string(ALNUM, 6)),
        root_folder_id: format!("r-{}", random_string(ALNUM, 6)),
        created: now.clone(),
    };
    txn.put_record(
        Records::Folders,
        &rd.root_folder_id,
        &Folder {
            id: rd.root_folder_id.clone(),
            name: "Root".into(),
            parent_id: None,
            created: now,
        },
    )?;
    txn.put_record(Records::Meta, RESOURCE_DIRECTORY_KEY, &rd)?;
    Ok(rd)
}

fn folder_not_found(id: &str) -> AccessError {
    AccessError::NotFound {
        what: "Folder",
        id: id.to_owned(),
    }
}

/// The folders from the root down to `id`, root first.
fn chain(txn: &impl RecordRead, id: &str) -> Result<Vec<Folder>, AccessError> {
    let mut out: Vec<Folder> = Vec::new();
    let mut next = Some(id.to_owned());
    while let Some(current) = next {
        // INVARIANT: folders form a tree at most FOLDER_DEPTH_MAX levels under the root.
        if out.len() > FOLDER_DEPTH_MAX {
            return Err(DirectoryError::Internal(format!("folder `{id}` nests too deep")).into());
        }
        let f = txn
            .read_record::<Folder>(Records::Folders, &current)?
            .ok_or_else(|| folder_not_found(&current))?;
        next = f.parent_id.clone();
        out.push(f);
    }
    out.reverse();
    Ok(out)
}

fn view(
    txn: &impl RecordRead,
    rd: &ResourceDirectory,
    account: Account,
) -> Result<AccountView, AccessError> {
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

fn account_not_found(id: &str) -> AccessError {
    AccessError::NotFound {
        what: "Account",
        id: id.to_owned(),
    }
}

fn create_account_in(txn: &WriteTxn, new: NewAccount) -> Result<AccountView, AccessError> {
    let rd = ensure_resource_directory(txn)?;
    let folder_id = new
        .parent_folder_id
        .unwrap_or_else(|| rd.root_folder_id.clone());
    chain(txn, &folder_id)?;
    let existing = txn.record_values::<Account>(Records::Accounts, "")?;
    if existing.len() >= ACCOUNTS_MAX {
        return Err(AccessError::Quota {
            what: "Account",
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
        if txn.record::<Account>(Records::Accounts, &id)?.is_none() {
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
    txn.put_record(Records::Accounts, &id, &account)?;
    append_event(txn, "", ResourceType::Account, &id, ChangeKind::Created)?;
    view(txn, &rd, account)
}

fn delete_account_in(txn: &WriteTxn, id: &str) -> Result<(), AccessError> {
    if txn.record::<Account>(Records::Accounts, id)?.is_none() {
        return Err(account_not_found(id));
    }
    let assigned = txn
        .record_values::<Assignment>(Records::Assignments, "")?
        .iter()
        .filter(|a| a.account_id == id)
        .count();
    if assigned > 0 {
        return Err(AccessError::Conflict {
            code: "DeleteConflict.Account.AccessAssignment",
            message: format!(
                "account `{id}` is the target of {assigned} access assignments: delete them first"
            ),
        });
    }
    txn.delete_record(Records::Accounts, id)?;
    append_event(txn, "", ResourceType::Account, id, ChangeKind::Deleted)?;
    Ok(())
}

fn create_folder_in(
    txn: &WriteTxn,
    name: String,
    parent: Option<String>,
) -> Result<Folder, AccessError> {
    let rd = ensure_resource_directory(txn)?;
    let parent = parent.unwrap_or_else(|| rd.root_folder_id.clone());
    if chain(txn, &parent)?.len() > FOLDER_DEPTH_MAX {
        return Err(AccessError::Quota {
            what: "Folder.Depth",
            max: FOLDER_DEPTH_MAX,
        });
    }
    let folders = txn.record_values::<Folder>(Records::Folders, "")?;
    if folders.iter().filter(|f| f.parent_id.is_some()).count() >= FOLDERS_MAX {
        return Err(AccessError::Quota {
            what: "Folder",
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
        if txn.record::<Folder>(Records::Folders, &id)?.is_none() {
            break id;
        }
    };
    let folder = Folder {
        id: id.clone(),
        name,
        parent_id: Some(parent),
        created: now_rfc3339(),
    };
    txn.put_record(Records::Folders, &id, &folder)?;
    Ok(folder)
}

fn page_of<T>(mut all: Vec<T>, offset: usize, count: usize) -> Page<T> {
    let total = all.len();
    let items = all.drain(offset.min(total)..).take(count).collect();
    Page { total, items }
}

fn account_in(txn: &ReadTxn, id: &str) -> Result<AccountView, AccessError> {
    let account = txn
        .record::<Account>(Records::Accounts, id)?
        .ok_or_else(|| account_not_found(id))?;
    let rd = resource_directory(txn)?.ok_or_else(|| account_not_found(id))?;
    view(txn, &rd, account)
}

fn accounts_in(
    txn: &ReadTxn,
    offset: usize,
    count: usize,
) -> Result<Page<AccountView>, AccessError> {
    let Some(rd) = resource_directory(txn)? else {
        return Ok(page_of(Vec::new(), offset, count));
    };
    let mut all = txn.record_values::<Account>(Records::Accounts, "")?;
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
) -> Result<Page<Folder>, AccessError> {
    let parent = match (parent, resource_directory(txn)?) {
        (Some(p), _) => p,
        (None, Some(rd)) => rd.root_folder_id,
        (None, None) => return Ok(page_of(Vec::new(), offset, count)),
    };
    if txn.record::<Folder>(Records::Folders, &parent)?.is_none() {
        return Err(folder_not_found(&parent));
    }
    let mut all: Vec<Folder> = txn
        .record_values::<Folder>(Records::Folders, "")?
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
    pub async fn create_account(&self, new: NewAccount) -> Result<AccountView, AccessError> {
        check_display_name(&new.display_name)?;
        if let Some(p) = &new.account_name_prefix {
            check_account_name_prefix(p)?;
        }
        if let Some(f) = &new.parent_folder_id {
            check_folder_id("ParentFolderId", f)?;
        }
        self.dir
            .write(move |txn| split(create_account_in(txn, new)))
            .await?
    }

    pub async fn account(&self, id: &str) -> Result<AccountView, AccessError> {
        let id = id.to_owned();
        self.dir
            .read(move |_, txn| split(account_in(txn, &id)))
            .await?
    }

    /// Accounts in the order they joined, `count` from `offset`.
    pub async fn accounts(
        &self,
        offset: usize,
        count: usize,
    ) -> Result<Page<AccountView>, AccessError> {
        self.dir
            .read(move |_, txn| split(accounts_in(txn, offset, count)))
            .await?
    }

    /// Deletes a member account no access assignment targets.
    pub async fn delete_account(&self, id: &str) -> Result<(), AccessError> {
        let id = id.to_owned();
        self.dir
            .write(move |txn| split(delete_account_in(txn, &id)))
            .await?
    }

    /// Creates a folder under `parent` (the root folder when `None`).
    pub async fn create_folder(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<Folder, AccessError> {
        check_folder_name(name)?;
        if let Some(p) = parent {
            check_folder_id("ParentFolderId", p)?;
        }
        let name = name.to_owned();
        let parent = parent.map(str::to_owned);
        self.dir
            .write(move |txn| split(create_folder_in(txn, name, parent)))
            .await?
    }

    /// The folders directly under `parent` (the root folder when `None`) whose names contain
    /// `keyword` (ignoring case), oldest first, `count` from `offset`.
    pub async fn folders_for_parent(
        &self,
        parent: Option<&str>,
        keyword: Option<&str>,
        offset: usize,
        count: usize,
    ) -> Result<Page<Folder>, AccessError> {
        if let Some(p) = parent {
            check_folder_id("ParentFolderId", p)?;
        }
        let parent = parent.map(str::to_owned);
        let keyword = keyword.map(str::to_lowercase);
        self.dir
            .read(move |_, txn| split(folders_in(txn, parent, keyword, offset, count)))
            .await?
    }
}
