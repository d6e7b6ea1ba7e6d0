//! The CLI's profiles file: named endpoints with their AccessKey pair, as JSON at
//! `$CLOUDSSO_CONFIG` or `~/.cloudsso/config.json`, readable by its owner only.
//!
//! Knows nothing about clap or HTTP: it reads, merges and writes profiles.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The profile used when neither `--profile` nor `CLOUDSSO_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no config file: set `CLOUDSSO_CONFIG` or `HOME`")]
    NoPath,
    #[error("reading `{0}`: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("`{0}` is not a valid config file: {1}")]
    Parse(PathBuf, serde_json::Error),
    #[error("writing `{0}`: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("no profile `{0}`: run `cloudsso configure --profile {0} ...` first")]
    NoProfile(String),
    #[error("profile `{0}` has no {1}: give `--{2}`")]
    Incomplete(String, &'static str, &'static str),
    #[error("`{0}` is not a bootstrap file: {1}")]
    Bootstrap(PathBuf, String),
}

/// Where to reach a server and the keys to sign with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Profile {
    /// Fields set in `other` replace those here.
    pub fn merge(&mut self, other: Profile) {
        let Profile {
            endpoint,
            access_key_id,
            access_key_secret,
            region,
        } = other;
        if endpoint.is_some() {
            self.endpoint = endpoint;
        }
        if access_key_id.is_some() {
            self.access_key_id = access_key_id;
        }
        if access_key_secret.is_some() {
            self.access_key_secret = access_key_secret;
        }
        if region.is_some() {
            self.region = region;
        }
    }

    /// The endpoint and key pair, all present, or which is missing.
    pub fn complete(&self, name: &str) -> Result<Credentials, ConfigError> {
        let missing = |what, flag| ConfigError::Incomplete(name.to_owned(), what, flag);
        Ok(Credentials {
            endpoint: self
                .endpoint
                .clone()
                .ok_or_else(|| missing("endpoint", "endpoint"))?,
            access_key_id: self
                .access_key_id
                .clone()
                .ok_or_else(|| missing("AccessKeyId", "access-key-id"))?,
            access_key_secret: self
                .access_key_secret
                .clone()
                .ok_or_else(|| missing("AccessKeySecret", "access-key-secret"))?,
        })
    }

    /// Endpoint and administrator keys from a server's `bootstrap.json`.
    pub fn from_bootstrap(path: &Path) -> Result<Profile, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ConfigError::Bootstrap(path.to_owned(), e.to_string()))?;
        let field = |k: &str| {
            doc.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ConfigError::Bootstrap(path.to_owned(), format!("no `{k}`")))
        };
        Ok(Profile {
            endpoint: Some(field("api_endpoint")?),
            access_key_id: Some(field("admin_access_key_id")?),
            access_key_secret: Some(field("admin_access_key_secret")?),
            region: None,
        })
    }
}

/// A complete profile, ready to sign requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// The sign-in URL `cloudsso login` used last: the sign-in commands' default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_url: Option<String>,
    /// What `cloudsso profiles populate` wrote, by sign-in URL: a later run replaces (and a
    /// login refreshes) only these.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub populated: BTreeMap<String, Populated>,
}

/// The profiles `cloudsso profiles populate` wrote for one sign-in URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Populated {
    /// The region written into the profiles (and the AWS session's `sso_region`).
    #[serde(default)]
    pub region: String,
    /// Names of the `mode: CloudSSO` profiles in `~/.aliyun/config.json`.
    #[serde(default)]
    pub aliyun: Vec<String>,
    /// Names of the `[profile NAME]` sections in `~/.aws/config`.
    #[serde(default)]
    pub aws: Vec<String>,
}

impl ConfigFile {
    /// The file at `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| ConfigError::Parse(path.to_owned(), e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(ConfigError::Read(path.to_owned(), e)),
        }
    }

    /// Writes the file (mode 0600) through a temporary name, creating its folder (mode 0700).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let err = |e| ConfigError::Write(path.to_owned(), e);
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| err(std::io::Error::other(e.to_string())))?;
        save_private(path, &bytes).map_err(err)
    }

    pub fn profile(&self, name: &str) -> Result<&Profile, ConfigError> {
        self.profiles
            .get(name)
            .ok_or_else(|| ConfigError::NoProfile(name.to_owned()))
    }
}

/// `$CLOUDSSO_CONFIG`, else `$HOME/.cloudsso/config.json`.
pub fn default_path() -> Result<PathBuf, ConfigError> {
    path_from(
        std::env::var_os("CLOUDSSO_CONFIG"),
        std::env::var_os("HOME"),
    )
}

fn path_from(
    config: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf, ConfigError> {
    if let Some(c) = config.filter(|c| !c.is_empty()) {
        return Ok(PathBuf::from(c));
    }
    let home = home.filter(|h| !h.is_empty()).ok_or(ConfigError::NoPath)?;
    Ok(PathBuf::from(home).join(".cloudsso").join("config.json"))
}

/// Writes `bytes` to `path` (mode 0600) through a temporary name, so a reader sees the old
/// file or the new one; a missing folder is created (mode 0700).
pub fn save_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        create_private_dir(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    write_private(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    // An existing file keeps its mode on open; make sure it is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The profile that holds exactly `c` (no region).
    fn profile(c: Credentials) -> Profile {
        Profile {
            endpoint: Some(c.endpoint),
            access_key_id: Some(c.access_key_id),
            access_key_secret: Some(c.access_key_secret),
            region: None,
        }
    }

    #[test]
    fn save_then_load_round_trips_with_private_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("nested").join("config.json");
        assert_eq!(ConfigFile::load(&path).unwrap(), ConfigFile::default());
        let mut file = ConfigFile::default();
        file.profiles.insert(
            "default".into(),
            profile(Credentials {
                endpoint: "http://127.0.0.1:1".into(),
                access_key_id: "AK".into(),
                access_key_secret: "S".into(),
            }),
        );
        file.save(&path).unwrap();
        assert_eq!(ConfigFile::load(&path).unwrap(), file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir = std::fs::metadata(path.parent().unwrap()).unwrap();
            assert_eq!(dir.permissions().mode() & 0o777, 0o700);
        }
        // A second profile leaves the first alone.
        file.profiles.insert(
            "other".into(),
            profile(Credentials {
                endpoint: "http://h:2".into(),
                access_key_id: "AK2".into(),
                access_key_secret: "S2".into(),
            }),
        );
        file.save(&path).unwrap();
        let back = ConfigFile::load(&path).unwrap();
        assert_eq!(
            back.profile("default").unwrap().access_key_id.as_deref(),
            Some("AK")
        );
        assert_eq!(
            back.profile("other").unwrap().endpoint.as_deref(),
            Some("http://h:2")
        );
        assert!(matches!(back.profile("x"), Err(ConfigError::NoProfile(_))));
    }

    #[test]
    fn a_broken_file_is_an_error_not_an_empty_config() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            ConfigFile::load(&path),
            Err(ConfigError::Parse(..))
        ));
    }

    #[test]
    fn merge_keeps_what_is_not_given_and_complete_names_what_is_missing() {
        let mut p = profile(Credentials {
            endpoint: "http://a:1".into(),
            access_key_id: "AK".into(),
            access_key_secret: "S".into(),
        });
        p.merge(Profile {
            endpoint: Some("http://b:2".into()),
            region: Some("cn-hangzhou".into()),
            ..Profile::default()
        });
        assert_eq!(p.endpoint.as_deref(), Some("http://b:2"));
        assert_eq!(p.access_key_id.as_deref(), Some("AK"));
        assert_eq!(p.region.as_deref(), Some("cn-hangzhou"));
        assert_eq!(p.complete("x").unwrap().access_key_secret, "S");
        let partial = Profile {
            endpoint: Some("http://a:1".into()),
            ..Profile::default()
        };
        let e = partial.complete("x").unwrap_err().to_string();
        assert!(e.contains("--access-key-id"), "{e}");
    }

    #[test]
    fn bootstrap_file_gives_endpoint_and_admin_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("bootstrap.json");
        std::fs::write(
            &path,
            r#"{"directory_id":"d-1","api_endpoint":"http://127.0.0.1:9","admin_access_key_id":"LTAI1","admin_access_key_secret":"sec"}"#,
        )
        .unwrap();
        assert_eq!(
            Profile::from_bootstrap(&path).unwrap(),
            profile(Credentials {
                endpoint: "http://127.0.0.1:9".into(),
                access_key_id: "LTAI1".into(),
                access_key_secret: "sec".into(),
            })
        );
        std::fs::write(&path, r#"{"api_endpoint":"http://x"}"#).unwrap();
        let e = Profile::from_bootstrap(&path).unwrap_err().to_string();
        assert!(e.contains("admin_access_key_id"), "{e}");
    }

    #[test]
    fn path_prefers_cloudsso_config_then_home() {
        assert_eq!(
            path_from(Some("/x/c.json".into()), Some("/home/u".into())).unwrap(),
            PathBuf::from("/x/c.json")
        );
        assert_eq!(
            path_from(None, Some("/home/u".into())).unwrap(),
            PathBuf::from("/home/u/.cloudsso/config.json")
        );
        assert!(matches!(path_from(None, None), Err(ConfigError::NoPath)));
    }
}
