//! What `cloudsso profiles populate` writes into other tools' files, merged into what is
//! there: `mode: CloudSSO` profiles in the aliyun CLI's `~/.aliyun/config.json`
//! (research/portal.md section 2.4) and an `sso-session` with one profile per account and
//! access configuration in `~/.aws/config` (section 1.3). Other profiles and sections are
//! kept as they are; only what cloudsso wrote before is replaced or removed, and a profile of
//! the same name that cloudsso did not write is left alone (reported as skipped).
//!
//! Pure: text or JSON in, text or JSON out.

use super::portal::{Account, Configuration};
use serde_json::{Value, json};

/// The `[sso-session NAME]` (and `[services NAME]`) cloudsso writes.
pub const AWS_SESSION: &str = "cloudsso";
/// The AWS service ids cloudsso serves, pointed at the server by `[services cloudsso]`.
const AWS_SERVICES: [&str; 3] = ["sso_oidc", "sso", "sts"];

#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    #[error("`{0}` is not an aliyun config file: {1}")]
    Aliyun(String, String),
}

/// An account and an access configuration the user may use there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub account: Account,
    pub configuration: Configuration,
}

/// What a merge wrote and what it left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged<T> {
    pub doc: T,
    pub written: Vec<String>,
    /// Names of profiles that exist and were not written by cloudsso.
    pub skipped: Vec<String>,
}

/// A name part a profile name may hold: letters, digits, `_`, `-` and `.` kept, anything
/// else a `-`.
fn name_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The profile name of each pair, in order: `<account name>.<configuration name>`, with the
/// account id added (`<name>-<id>`) to account names that are blank or shared by several
/// accounts, so names are stable and unique.
pub fn names(pairs: &[Pair]) -> Vec<String> {
    let account_part = |a: &Account| {
        let shared = pairs
            .iter()
            .any(|p| p.account.name == a.name && p.account.id != a.id);
        match (name_part(a.name.trim()), shared) {
            (n, _) if n.is_empty() => name_part(&a.id),
            (n, true) => format!("{n}-{}", name_part(&a.id)),
            (n, false) => n,
        }
    };
    pairs
        .iter()
        .map(|p| {
            let config = match name_part(p.configuration.name.trim()) {
                c if c.is_empty() => name_part(&p.configuration.id),
                c => c,
            };
            format!("{}.{config}", account_part(&p.account))
        })
        .collect()
}

/// The sign-in token an aliyun `CloudSSO` profile carries.
#[derive(Debug, Clone, Copy)]
pub struct AliyunToken<'a> {
    pub sign_in_url: &'a str,
    pub access_token: &'a str,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One `mode: CloudSSO` profile, with the fields the aliyun CLI and alibabacloud-credentials
/// read.
pub fn aliyun_profile(name: &str, pair: &Pair, token: AliyunToken<'_>, region: &str) -> Value {
    json!({
        "name": name,
        "mode": "CloudSSO",
        "cloud_sso_sign_in_url": token.sign_in_url,
        "access_token": token.access_token,
        "cloud_sso_access_token_expire": token.expires_at,
        "cloud_sso_account_id": pair.account.id,
        "cloud_sso_access_config": pair.configuration.id,
        "region_id": region,
        "output_format": "json",
        "language": "en",
    })
}

fn is_ours_aliyun(p: &Value, sign_in_url: &str) -> bool {
    p["mode"] == "CloudSSO" && p["cloud_sso_sign_in_url"] == sign_in_url
}

fn profiles_of<'a>(doc: &'a mut Value, file: &str) -> Result<&'a mut Vec<Value>, ProfilesError> {
    let bad = |why: &str| ProfilesError::Aliyun(file.to_owned(), why.to_owned());
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object"))?;
    obj.entry("profiles")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or_else(|| bad("`profiles` is not a list"))
}

/// Merges `wanted` (from `aliyun_profile`) into the aliyun config `doc` (`None`: no file
/// yet). `previous`: the names cloudsso wrote last time for `sign_in_url`; those no longer
/// wanted are removed. A new file's `current` is the first profile written.
pub fn merge_aliyun(
    doc: Option<Value>,
    file: &str,
    wanted: Vec<Value>,
    previous: &[String],
    sign_in_url: &str,
) -> Result<Merged<Value>, ProfilesError> {
    let mut doc = doc.unwrap_or_else(|| json!({"current": "", "profiles": [], "meta_path": ""}));
    let wanted_names: Vec<String> = wanted
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let profiles = profiles_of(&mut doc, file)?;
    profiles.retain(|p| {
        let stale = p["name"].as_str().is_some_and(|n| {
            previous.iter().any(|x| x == n) && !wanted_names.iter().any(|w| w == n)
        });
        !(stale && is_ours_aliyun(p, sign_in_url))
    });
    let (mut written, mut skipped) = (Vec::new(), Vec::new());
    for (name, profile) in wanted_names.into_iter().zip(wanted) {
        match profiles.iter_mut().find(|p| p["name"] == name.as_str()) {
            Some(existing) if is_ours_aliyun(existing, sign_in_url) => *existing = profile,
            Some(_) => {
                skipped.push(name);
                continue;
            }
            None => profiles.push(profile),
        }
        written.push(name);
    }
    let current = doc.get("current").and_then(Value::as_str).unwrap_or("");
    if current.is_empty()
        && let (Some(first), Some(obj)) = (written.first(), doc.as_object_mut())
    {
        obj.insert("current".to_owned(), json!(first));
    }
    Ok(Merged {
        doc,
        written,
        skipped,
    })
}

/// Puts a new token into the profiles named `names` that are still cloudsso's for the
/// token's sign-in URL; whether any changed.
pub fn refresh_aliyun(doc: &mut Value, names: &[String], token: AliyunToken<'_>) -> bool {
    let Some(profiles) = doc.get_mut("profiles").and_then(Value::as_array_mut) else {
        return false;
    };
    let mut changed = false;
    for p in profiles.iter_mut() {
        let named = p["name"]
            .as_str()
            .is_some_and(|n| names.iter().any(|x| x == n));
        if named && is_ours_aliyun(p, token.sign_in_url) {
            p["access_token"] = json!(token.access_token);
            p["cloud_sso_access_token_expire"] = json!(token.expires_at);
            changed = true;
        }
    }
    changed
}

/// An INI file as botocore reads `~/.aws/config`: lines before the first section, then
/// sections (`[name]` and their lines, comments and blank lines kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    head: Vec<String>,
    sections: Vec<(String, Vec<String>)>,
}

/// `[ profile  x ]` -> `profile x`.
fn section_name(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.split_whitespace().collect::<Vec<_>>().join(" "))
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        for line in text.lines() {
            match (section_name(line), ini.sections.last_mut()) {
                (Some(name), _) => ini.sections.push((name, Vec::new())),
                (None, Some((_, lines))) => lines.push(line.to_owned()),
                (None, None) => ini.head.push(line.to_owned()),
            }
        }
        ini
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.head {
            out.push_str(line);
            out.push('\n');
        }
        for (name, lines) in &self.sections {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&format!("[{name}]\n"));
            // Trailing blank lines are the separator, written once above.
            let end = lines
                .iter()
                .rposition(|l| !l.trim().is_empty())
                .map_or(0, |i| i + 1);
            for line in lines.iter().take(end) {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    pub fn section(&self, name: &str) -> Option<&[String]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, l)| l.as_slice())
    }

    /// A top-level `key = value` of a section (not a nested `  key = value`).
    pub fn value<'a>(&'a self, section: &str, key: &str) -> Option<&'a str> {
        self.section(section)?.iter().find_map(|l| {
            if l.starts_with([' ', '\t']) {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim())
        })
    }

    /// Replaces the section's lines where it is, or appends it.
    pub fn set(&mut self, name: &str, lines: Vec<String>) {
        match self.sections.iter_mut().find(|(n, _)| n == name) {
            Some((_, l)) => *l = lines,
            None => self.sections.push((name.to_owned(), lines)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.sections.retain(|(n, _)| n != name);
    }
}

/// Where the AWS profiles point: the sign-in URL (the session's start URL), the server's
/// root (every service's endpoint) and the region.
#[derive(Debug, Clone, Copy)]
pub struct AwsSession<'a> {
    pub sign_in_url: &'a str,
    pub origin: &'a str,
    pub region: &'a str,
}

fn kv(k: &str, v: &str) -> String {
    format!("{k} = {v}")
}

/// Merges the `[sso-session cloudsso]`, `[services cloudsso]` and one `[profile NAME]` per
/// `(name, pair)` into `~/.aws/config`'s text. `previous`: the profile names cloudsso wrote
/// last time; those no longer wanted are removed. A profile is cloudsso's while its
/// `sso_session` is `cloudsso`.
pub fn merge_aws(
    text: &str,
    session: AwsSession<'_>,
    wanted: &[(String, &Pair)],
    previous: &[String],
) -> Merged<String> {
    let mut ini = Ini::parse(text);
    ini.set(
        &format!("sso-session {AWS_SESSION}"),
        vec![
            kv("sso_start_url", session.sign_in_url),
            kv("sso_region", session.region),
            kv("sso_registration_scopes", super::portal::SCOPE),
        ],
    );
    let services = AWS_SERVICES
        .iter()
        .flat_map(|s| {
            [
                format!("{s} ="),
                format!("  {}", kv("endpoint_url", session.origin)),
            ]
        })
        .collect();
    ini.set(&format!("services {AWS_SESSION}"), services);
    let ours = |ini: &Ini, section: &str| ini.value(section, "sso_session") == Some(AWS_SESSION);
    for stale in previous
        .iter()
        .filter(|p| !wanted.iter().any(|(w, _)| w == *p))
    {
        let section = format!("profile {stale}");
        if ours(&ini, &section) {
            ini.remove(&section);
        }
    }
    let (mut written, mut skipped) = (Vec::new(), Vec::new());
    for (name, pair) in wanted {
        let section = format!("profile {name}");
        if ini.section(&section).is_some() && !ours(&ini, &section) {
            skipped.push(name.clone());
            continue;
        }
        ini.set(
            &section,
            vec![
                kv("sso_session", AWS_SESSION),
                kv("sso_account_id", &pair.account.id),
                kv("sso_role_name", &pair.configuration.name),
                kv("region", session.region),
                kv("services", AWS_SESSION),
            ],
        );
        written.push(name.clone());
    }
    Merged {
        doc: ini.render(),
        written,
        skipped,
    }
}

#[cfg(test)]
mod tests;
