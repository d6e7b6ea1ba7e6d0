//! The CLI's sign-in token cache: one file per sign-in URL,
//! `~/.cloudsso/cache/<sha256 of the URL, hex>.json` (mode 0600, folder 0700), holding the
//! client registration and the access and refresh tokens; when a token is used, refreshed
//! or given up (`plan`); and the botocore SSO token cache the AWS SDKs read
//! (`~/.aws/sso/cache/<sha1 of the session name>.json`, research/portal.md section 1.3).
//!
//! Times are Unix seconds. Knows nothing about HTTP or clap.

use super::client::acs_date;
use super::config::save_private;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// An access token with less than this left is refreshed before use (botocore's window).
pub const REFRESH_WINDOW_SECONDS: i64 = 15 * 60;
/// A cached registration is reused by `login` only with at least this long left (a
/// registration that ends during the token's life would stop its refreshes).
pub const REGISTRATION_MARGIN_SECONDS: i64 = 24 * 3600;
/// Largest cache file read, in bytes.
pub const CACHE_BYTES_MAX: u64 = 64 * 1024;
/// Largest file of another tool read (`~/.aliyun/config.json`, `~/.aws/config`), in bytes.
pub const TOOL_FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("reading `{0}`: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("`{0}` is not a token cache: {1}")]
    Parse(PathBuf, String),
    #[error("writing `{0}`: {1}")]
    Write(PathBuf, std::io::Error),
}

/// The client registration (`/client/register`), reused until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: i64,
}

/// An access token, its expiry, and the refresh token that renews it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub access_token: String,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// One sign-in URL's cache file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cache {
    pub sign_in_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
}

impl Cache {
    pub fn new(sign_in_url: &str) -> Cache {
        Cache {
            sign_in_url: sign_in_url.to_owned(),
            registration: None,
            token: None,
        }
    }

    /// The registration, when `login` may still use it at `now`.
    pub fn usable_registration(&self, now: i64) -> Option<&Registration> {
        self.registration
            .as_ref()
            .filter(|r| r.expires_at - now >= REGISTRATION_MARGIN_SECONDS)
    }
}

/// `<home>/.cloudsso/cache/<sha256 of the sign-in URL, hex>.json`.
pub fn cache_path(home: &Path, sign_in_url: &str) -> PathBuf {
    let digest = Sha256::digest(sign_in_url.as_bytes());
    home.join(".cloudsso")
        .join("cache")
        .join(format!("{}.json", hex(&digest)))
}

/// `<home>/.aws/sso/cache/<sha1 of the session name, hex>.json`, where botocore looks for an
/// `sso_session`'s token.
pub fn botocore_path(home: &Path, session: &str) -> PathBuf {
    let digest = Sha1::digest(session.as_bytes());
    home.join(".aws")
        .join("sso")
        .join("cache")
        .join(format!("{}.json", hex(&digest)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file's bytes, `None` when there is none; refused past `max` bytes.
pub fn read_at_most(path: &Path, max: u64) -> Result<Option<Vec<u8>>, CacheError> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CacheError::Read(path.to_owned(), e)),
    };
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| CacheError::Read(path.to_owned(), e))?;
    if bytes.len() as u64 > max {
        let too_long = format!("longer than {max} bytes");
        return Err(CacheError::Parse(path.to_owned(), too_long));
    }
    Ok(Some(bytes))
}

/// A JSON file of at most `max` bytes, or `None` when there is none.
pub fn load_at_most<T: serde::de::DeserializeOwned>(
    path: &Path,
    max: u64,
) -> Result<Option<T>, CacheError> {
    let Some(bytes) = read_at_most(path, max)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CacheError::Parse(path.to_owned(), e.to_string()))
}

/// A cache file (at most `CACHE_BYTES_MAX`), or `None` when there is none.
pub fn load<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, CacheError> {
    load_at_most(path, CACHE_BYTES_MAX)
}

/// Writes `value` as JSON (mode 0600, folder 0700 when created).
pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), CacheError> {
    let err = |e| CacheError::Write(path.to_owned(), e);
    let bytes =
        serde_json::to_vec_pretty(value).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    save_private(path, &bytes).map_err(err)
}

/// Why the CLI cannot go on without a new `cloudsso login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No token in the cache (never signed in, or signed out).
    NotSignedIn,
    /// The access token expired and nothing can renew it.
    Expired,
}

/// What to do with the cached token at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Use it as it is.
    Use,
    /// Renew it with the refresh token first (no browser step); if that is refused, fall
    /// back to `Use` when it is still valid, else the sign-in has ended.
    Refresh {
        still_valid: bool,
    },
    LoginAgain(Ended),
}

pub fn plan(cache: &Cache, now: i64) -> Plan {
    let Some(token) = &cache.token else {
        return Plan::LoginAgain(Ended::NotSignedIn);
    };
    let left = token.expires_at.saturating_sub(now);
    if left >= REFRESH_WINDOW_SECONDS {
        return Plan::Use;
    }
    let can_refresh = token.refresh_token.is_some()
        && cache
            .registration
            .as_ref()
            .is_some_and(|r| r.expires_at > now);
    match (can_refresh, left > 0) {
        (true, still_valid) => Plan::Refresh { still_valid },
        (false, true) => Plan::Use,
        (false, false) => Plan::LoginAgain(Ended::Expired),
    }
}

/// The botocore SSO token cache file: what `aws sso login` writes and boto3 reads (and
/// refreshes, rotating the refresh token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotocoreToken {
    pub start_url: String,
    pub region: String,
    pub access_token: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires_at: String,
    pub client_id: String,
    pub client_secret: String,
    pub registration_expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn iso(unix: i64) -> String {
    acs_date(
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    )
}

fn unix(iso: &str) -> Option<i64> {
    time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// The botocore file for `cache`'s token, or `None` without a token and registration.
pub fn to_botocore(cache: &Cache, region: &str) -> Option<BotocoreToken> {
    let (token, reg) = (cache.token.as_ref()?, cache.registration.as_ref()?);
    Some(BotocoreToken {
        start_url: cache.sign_in_url.clone(),
        region: region.to_owned(),
        access_token: token.access_token.clone(),
        expires_at: iso(token.expires_at),
        client_id: reg.client_id.clone(),
        client_secret: reg.client_secret.clone(),
        registration_expires_at: iso(reg.expires_at),
        refresh_token: token.refresh_token.clone(),
    })
}

/// Takes botocore's token when boto3 renewed it after the CLI did (same sign-in URL and
/// client, another token, later expiry): its refresh token is the one the server rotated to,
/// and renewing with the CLI's used one would end the whole sign-in. Whether `cache` changed.
pub fn adopt_newer(cache: &mut Cache, theirs: &BotocoreToken) -> bool {
    let same_client = cache
        .registration
        .as_ref()
        .is_some_and(|r| r.client_id == theirs.client_id);
    let (Some(token), Some(expires_at)) = (cache.token.as_mut(), unix(&theirs.expires_at)) else {
        return false;
    };
    if theirs.start_url != cache.sign_in_url
        || !same_client
        || theirs.access_token == token.access_token
        || expires_at <= token.expires_at
    {
        return false;
    }
    *token = Token {
        access_token: theirs.access_token.clone(),
        expires_at,
        refresh_token: theirs.refresh_token.clone(),
    };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn cache(expires_in: Option<i64>, refresh: bool, registration_left: i64) -> Cache {
        Cache {
            sign_in_url: "http://h:1/default/login".into(),
            registration: Some(Registration {
                client_id: "c".into(),
                client_secret: "s".into(),
                expires_at: NOW + registration_left,
            }),
            token: expires_in.map(|e| Token {
                access_token: "at".into(),
                expires_at: NOW + e,
                refresh_token: refresh.then(|| "rt".to_owned()),
            }),
        }
    }

    #[test]
    fn the_plan_refreshes_inside_the_window_and_gives_up_when_nothing_renews() {
        let w = REFRESH_WINDOW_SECONDS;
        let day = 86_400;
        for (expires_in, refresh, registration_left, expected) in [
            (None, true, day, Plan::LoginAgain(Ended::NotSignedIn)),
            (Some(8 * 3600), true, day, Plan::Use),
            (Some(w), true, day, Plan::Use),
            (Some(w - 1), true, day, Plan::Refresh { still_valid: true }),
            (Some(1), true, day, Plan::Refresh { still_valid: true }),
            (Some(0), true, day, Plan::Refresh { still_valid: false }),
            (Some(-day), true, day, Plan::Refresh { still_valid: false }),
            // Nothing renews it: used while valid, then the end.
            (Some(w - 1), false, day, Plan::Use),
            (Some(0), false, day, Plan::LoginAgain(Ended::Expired)),
            (Some(w - 1), true, 0, Plan::Use),
            (Some(-1), true, 0, Plan::LoginAgain(Ended::Expired)),
            (Some(-1), true, 1, Plan::Refresh { still_valid: false }),
        ] {
            assert_eq!(
                plan(&cache(expires_in, refresh, registration_left), NOW),
                expected,
                "{expires_in:?} refresh={refresh} registration={registration_left}"
            );
        }
        let mut no_registration = cache(Some(w - 1), true, day);
        no_registration.registration = None;
        assert_eq!(plan(&no_registration, NOW), Plan::Use);
    }

    #[test]
    fn a_registration_is_reused_only_well_before_it_ends() {
        for (left, usable) in [
            (REGISTRATION_MARGIN_SECONDS + 1, true),
            (REGISTRATION_MARGIN_SECONDS, true),
            (REGISTRATION_MARGIN_SECONDS - 1, false),
            (-1, false),
        ] {
            let c = cache(None, false, left);
            assert_eq!(c.usable_registration(NOW).is_some(), usable, "{left}");
        }
    }

    #[test]
    fn paths_are_digests_of_the_url_and_the_session() {
        let home = Path::new("/home/u");
        // sha256("http://h:1/default/login") and sha1("cloudsso"), as `sha256sum`/`sha1sum` print them.
        assert_eq!(
            cache_path(home, "http://h:1/default/login"),
            PathBuf::from(format!(
                "/home/u/.cloudsso/cache/{}.json",
                hex(&Sha256::digest(b"http://h:1/default/login"))
            ))
        );
        let p = botocore_path(home, "cloudsso");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 40 + 5, "{name}");
        assert_eq!(p.parent().unwrap(), Path::new("/home/u/.aws/sso/cache"));
        assert_ne!(
            cache_path(home, "http://h:1/a/login"),
            cache_path(home, "http://h:1/b/login")
        );
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn cache_files_are_private_and_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let path = cache_path(tmp.path(), "http://h:1/default/login");
        assert_eq!(load::<Cache>(&path).unwrap(), None);
        let c = cache(Some(3600), true, 86_400);
        save(&path, &c).unwrap();
        assert_eq!(load::<Cache>(&path).unwrap(), Some(c.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
            assert_eq!(mode(path.parent().unwrap().parent().unwrap()), 0o700);
            // A file made readable by others is private again after the next save.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            save(&path, &c).unwrap();
            assert_eq!(mode(&path), 0o600);
        }
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(load::<Cache>(&path), Err(CacheError::Parse(..))));
        // At the limit it is read (and found not to be a cache); one byte more is refused.
        std::fs::write(&path, vec![b' '; CACHE_BYTES_MAX as usize]).unwrap();
        let e = load::<Cache>(&path).unwrap_err().to_string();
        assert!(e.contains("EOF"), "{e}");
        std::fs::write(&path, vec![b' '; CACHE_BYTES_MAX as usize + 1]).unwrap();
        let e = load::<Cache>(&path).unwrap_err().to_string();
        assert!(e.contains("longer than"), "{e}");
        assert_eq!(
            read_at_most(&path, CACHE_BYTES_MAX + 1)
                .unwrap()
                .map(|b| b.len()),
            Some(CACHE_BYTES_MAX as usize + 1)
        );
    }

    #[test]
    fn botocore_gets_the_fields_it_needs_and_its_newer_token_is_adopted() {
        let c = cache(Some(3600), true, 86_400);
        let b = to_botocore(&c, "cn-shanghai").unwrap();
        assert_eq!(b.start_url, c.sign_in_url);
        assert_eq!(unix(&b.expires_at), Some(NOW + 3600));
        assert_eq!(unix(&b.registration_expires_at), Some(NOW + 86_400));
        assert!(b.expires_at.ends_with('Z') && b.expires_at.len() == 20);
        let doc = serde_json::to_value(&b).unwrap();
        for field in [
            "startUrl",
            "region",
            "accessToken",
            "expiresAt",
            "clientId",
            "clientSecret",
            "registrationExpiresAt",
            "refreshToken",
        ] {
            assert!(doc[field].is_string(), "{field}: {doc}");
        }
        assert_eq!(to_botocore(&cache(None, true, 1), "r"), None);
        // boto3 refreshed later: taken. Older, another client or another URL: not.
        let newer = |f: &dyn Fn(&mut BotocoreToken)| {
            let mut theirs = b.clone();
            theirs.expires_at = iso(NOW + 7200);
            theirs.access_token = "at2".into();
            theirs.refresh_token = Some("rt2".into());
            f(&mut theirs);
            let mut ours = c.clone();
            (adopt_newer(&mut ours, &theirs), ours)
        };
        let (taken, ours) = newer(&|_| {});
        assert!(taken);
        let t = ours.token.unwrap();
        assert_eq!(
            (
                t.access_token.as_str(),
                t.expires_at,
                t.refresh_token.as_deref()
            ),
            ("at2", NOW + 7200, Some("rt2"))
        );
        for change in [
            &(|t: &mut BotocoreToken| t.expires_at = iso(NOW + 3600))
                as &dyn Fn(&mut BotocoreToken),
            &|t| t.client_id = "other".into(),
            &|t| t.start_url = "http://h:1/other/login".into(),
            &|t| t.expires_at = "garbage".into(),
            // The same token (only the CLI's copy says otherwise about its expiry).
            &|t| t.access_token = "at".into(),
        ] {
            let (taken, ours) = newer(change);
            assert!(!taken);
            assert_eq!(ours, c);
        }
    }
}
