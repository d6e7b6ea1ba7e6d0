//! Domain types shared by every layer: typed ids (directory, user, group, principal) and
//! their generators, timestamps, change events. No IO.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares an id newtype: an owned `String` that reads as `&str` (`as_str`, `Deref`) and
/// prints as itself, serialized as the bare string.
macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as given (no format check: an unknown id is a not-found, not a
            /// malformed request).
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }
    };
}

id_newtype!(
    /// A directory (tenant) id, `d-` followed by 14 lowercase alphanumerics, as CloudSSO has
    /// them.
    DirectoryId
);
id_newtype!(
    /// A user's id: `u-` and 20 lowercase alphanumerics (the SCIM `id` and the API's `UserId`).
    UserId
);
id_newtype!(
    /// A group's id: `g-` and 20 lowercase alphanumerics (the SCIM `id` and the API's `GroupId`).
    GroupId
);

/// A user or group id with its kind: what functions that serve either kind take.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalId {
    User(UserId),
    Group(GroupId),
}

impl PrincipalId {
    /// The id of a `kind` resource.
    pub fn new(kind: ResourceKind, id: impl Into<String>) -> PrincipalId {
        match kind {
            ResourceKind::User => PrincipalId::User(UserId::new(id)),
            ResourceKind::Group => PrincipalId::Group(GroupId::new(id)),
        }
    }

    pub fn kind(&self) -> ResourceKind {
        match self {
            PrincipalId::User(_) => ResourceKind::User,
            PrincipalId::Group(_) => ResourceKind::Group,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            PrincipalId::User(id) => id.as_str(),
            PrincipalId::Group(id) => id.as_str(),
        }
    }

    /// The kind and the bare id, as records store them.
    pub fn into_parts(self) -> (ResourceKind, String) {
        match self {
            PrincipalId::User(id) => (ResourceKind::User, id.into_string()),
            PrincipalId::Group(id) => (ResourceKind::Group, id.into_string()),
        }
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<UserId> for PrincipalId {
    fn from(id: UserId) -> PrincipalId {
        PrincipalId::User(id)
    }
}

impl From<GroupId> for PrincipalId {
    fn from(id: GroupId) -> PrincipalId {
        PrincipalId::Group(id)
    }
}

/// Makes a new random id with a prefix: `d-`, `scimcred-`. Random, never reused.
pub fn new_prefixed_id(prefix: &str, len: usize) -> String {
    format!(
        "{prefix}{}",
        random_string(b"abcdefghijklmnopqrstuvwxyz0123456789", len)
    )
}

/// `len` random characters of `alphabet` (from the OS generator; a byte's value modulo the
/// alphabet's size, so alphabets should be short next to 256).
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes);
    bytes
        .iter()
        .filter_map(|b| alphabet.get(usize::from(*b) % alphabet.len().max(1)))
        .map(|c| char::from(*c))
        .collect()
}

/// A new user id as CloudSSO makes them: `u-` and 20 lowercase alphanumerics. It is the SCIM
/// `id` and the API's `UserId` alike. Time-ordered (see `new_ordered_id`).
pub fn new_user_id() -> String {
    new_ordered_id("u-")
}

/// A new group id: `g-` and 20 lowercase alphanumerics (SCIM `id` and API `GroupId`).
pub fn new_group_id() -> String {
    new_ordered_id("g-")
}

/// Base-36 digits of the millisecond clock at the front of an ordered id: 36^9 ms is over
/// 3,000 years.
const ORDERED_CLOCK_DIGITS: usize = 9;

/// `prefix`, then the millisecond clock in 9 base-36 digits, then 11 random characters (56
/// bits). New ids sort after older ones, so a burst of creations lands at the right edge of
/// the B-trees keyed by id instead of on a random leaf each: a durable commit of a batch
/// writes a few pages, not one per resource.
pub fn new_ordered_id(prefix: &str) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let mut clock = [b'0'; ORDERED_CLOCK_DIGITS];
    for slot in clock.iter_mut().rev() {
        let digit = usize::try_from(ms.rem_euclid(36)).unwrap_or(0);
        *slot = DIGITS.get(digit).copied().unwrap_or(b'0');
        ms = ms.div_euclid(36);
    }
    format!(
        "{prefix}{}{}",
        String::from_utf8_lossy(&clock),
        random_string(DIGITS, 20 - ORDERED_CLOCK_DIGITS)
    )
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - _ . ~` (signed queries, SAML's
/// HTTP-Redirect binding, portal links).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Lowercase hexadecimal of `bytes` (digests, signatures).
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            // A nibble is below 16: `get` never misses.
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// A 16-digit id (RAM user ids, account ids).
pub fn new_numeric_id() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    let mut s: String = bytes.iter().map(|b| char::from(b'0' + b % 10)).collect();
    s.replace_range(0..1, "1");
    s
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn fill_random(buf: &mut [u8]) {
    // The OS generator failing is not recoverable in any useful way; uuid would fail the same.
    if getrandom::fill(buf).is_err() {
        std::process::abort();
    }
}

/// The current time as RFC 3339 with millisecond precision, UTC (`2026-11-23T19:02:03.123Z`).
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// A user or a group: the one kind every module uses for "user or group" (a SCIM resource, a
/// membership row's member, an access assignment's principal). Stored as `"User"`/`"Group"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// CloudSSO's and SCIM's spelling: `User` or `Group`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceKind> {
        match s {
            "User" => Some(ResourceKind::User),
            "Group" => Some(ResourceKind::Group),
            _ => None,
        }
    }

    /// The change-event resource type of this kind.
    pub fn resource_type(self) -> ResourceType {
        match self {
            ResourceKind::User => ResourceType::User,
            ResourceKind::Group => ResourceType::Group,
        }
    }
}

/// What kind of resource a change event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceType {
    User,
    Group,
    Directory,
    ScimCredential,
    AccessConfiguration,
    AccessAssignment,
    Account,
    /// A RAM user provisioning (id `up-...`).
    UserProvisioning,
    /// A directory's RAM user provisioning configuration (id: the directory).
    UserProvisioningConfiguration,
    /// A RAM user provisioning event (id `upe-...`), written by the engine.
    UserProvisioningEvent,
    /// CloudSSO's delegated administrator account (id: the account).
    DelegateAccount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
    MembersAdded,
    MembersRemoved,
}

/// One row of the outbox: what changed, committed in the same transaction as the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub seq: u64,
    pub directory: String,
    pub resource: ResourceType,
    pub id: String,
    pub kind: ChangeKind,
    /// For membership events: the member ids added or removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_ids_keep_the_format_and_sort_by_creation() {
        let first = new_user_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_user_id();
        for id in [&first, &second] {
            let rest = id.strip_prefix("u-").expect("u- prefix");
            assert_eq!(rest.len(), 20, "{id}");
            assert!(
                rest.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{id}"
            );
        }
        assert!(first < second, "{first} sorts before {second}");
        assert!(new_group_id().starts_with("g-"));
        assert_ne!(new_user_id(), new_user_id(), "the random part differs");
    }

    #[test]
    fn typed_ids_read_print_and_serialize_as_the_bare_id() {
        let d = DirectoryId::new("d-abc");
        assert_eq!(d.as_str(), "d-abc");
        assert_eq!(d.to_string(), "d-abc");
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""d-abc""#);
        let back: DirectoryId = serde_json::from_str(r#""d-abc""#).unwrap();
        assert_eq!(back, d);
        let p = PrincipalId::new(ResourceKind::Group, "g-1");
        assert_eq!(p, PrincipalId::Group(GroupId::new("g-1")));
        assert_eq!((p.kind(), p.as_str()), (ResourceKind::Group, "g-1"));
        assert_eq!(p.into_parts(), (ResourceKind::Group, "g-1".to_owned()));
        let u: PrincipalId = UserId::new("u-1").into();
        assert_eq!(u.kind(), ResourceKind::User);
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex_lower(&[]), "");
        assert_eq!(hex_lower(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
