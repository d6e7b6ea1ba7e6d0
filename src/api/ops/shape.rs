//! Records and SCIM documents as CloudSSO's and RAM's APIs spell them. Pure.

use crate::directory::manage::Managed;
use crate::store::{CredentialKind, CredentialRecord, CredentialStatus, DirectoryRecord};
use serde_json::{Map, Value, json};

/// `2026-11-23T19:02:03.123Z` -> `2026-11-23T19:02:03Z` (the APIs' precision).
pub fn time(s: &str) -> String {
    match s.split_once('.') {
        Some((head, _)) if s.ends_with('Z') => format!("{head}Z"),
        _ => s.to_owned(),
    }
}

pub fn unix_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|t| time(&crate::model::format_rfc3339(t)))
        .unwrap_or_default()
}

fn str_at<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = doc;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

fn meta_time(doc: &Value, which: &str) -> String {
    time(str_at(doc, &["meta", which]).unwrap_or_default())
}

/// The primary email, else the first.
pub fn email(doc: &Value) -> Option<&str> {
    let emails = doc.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or(emails.first())?
        .get("value")?
        .as_str()
}

pub fn status(doc: &Value) -> &'static str {
    if doc.get("active") == Some(&Value::Bool(false)) {
        "Disabled"
    } else {
        "Enabled"
    }
}

pub fn provision_type(m: &Managed) -> &'static str {
    if m.info.manual {
        "Manual"
    } else {
        "Synchronized"
    }
}

fn put(o: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        o.insert(k.into(), json!(v));
    }
}

/// A user: `UserId`, `UserName`, names, `Email`, `Status`, `ProvisionType`, times, and the
/// SCIM `ExternalId` when it has one.
pub fn user(m: &Managed) -> Value {
    let d = &m.doc;
    let mut o = Map::new();
    o.insert("UserId".into(), json!(m.id()));
    put(&mut o, "UserName", str_at(d, &["userName"]));
    put(&mut o, "DisplayName", str_at(d, &["displayName"]));
    put(&mut o, "FirstName", str_at(d, &["name", "givenName"]));
    put(&mut o, "LastName", str_at(d, &["name", "familyName"]));
    put(&mut o, "Email", email(d));
    o.insert("Description".into(), json!(m.info.description));
    o.insert("Status".into(), json!(status(d)));
    o.insert("ProvisionType".into(), json!(provision_type(m)));
    o.insert("CreateTime".into(), json!(meta_time(d, "created")));
    o.insert("UpdateTime".into(), json!(meta_time(d, "lastModified")));
    if let Some(ext) = str_at(d, &["externalId"]) {
        o.insert("ExternalId".into(), json!({"Id": ext, "Issuer": "SCIM"}));
    }
    Value::Object(o)
}

pub fn group(m: &Managed) -> Value {
    let d = &m.doc;
    json!({
        "GroupId": m.id(),
        "GroupName": str_at(d, &["displayName"]).unwrap_or_default(),
        "Description": m.info.description,
        "ProvisionType": provision_type(m),
        "CreateTime": meta_time(d, "created"),
        "UpdateTime": meta_time(d, "lastModified"),
    })
}

pub fn directory(d: &DirectoryRecord, region: &str) -> Value {
    json!({
        "DirectoryId": d.id,
        "DirectoryName": d.name,
        "Region": region,
        "CreateTime": time(&d.created),
        "UpdateTime": time(d.updated.as_deref().unwrap_or(&d.created)),
    })
}

pub fn enabled(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

pub fn credential(c: &CredentialRecord) -> Value {
    let mut v = json!({
        "CredentialId": c.id,
        "CredentialType": match c.kind {
            CredentialKind::BearerToken => "BearerToken",
            CredentialKind::OAuthClientSecret => "OAuthClientSecret",
        },
        "DirectoryId": c.directory_id,
        "Status": enabled(c.status == CredentialStatus::Enabled),
        "CreateTime": time(&c.created),
        "ExpireTime": unix_time(c.expires_unix),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(t) = &c.last_used {
            o.insert("LastUsedTime".into(), json!(time(t)));
        }
        if let Some(m) = c.token_ttl_minutes {
            o.insert("TokenValidityMinutes".into(), json!(m));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_drop_the_fraction() {
        assert_eq!(time("2026-11-23T19:02:03.123Z"), "2026-11-23T19:02:03Z");
        assert_eq!(time("2026-11-23T19:02:03Z"), "2026-11-23T19:02:03Z");
        assert_eq!(unix_time(0), "1970-01-01T00:00:00Z");
    }
}
