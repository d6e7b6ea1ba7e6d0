//! ActionTrail (2020-07-06): `LookupEvents` over the audit trail, in ActionTrail's shape
//! (`Events`, `NextToken`, `StartTime`, `EndTime`; each event with `eventId`, `eventTime`,
//! `eventName`, `userIdentity`, `resourceName`, `errorCode`...). Authorized as
//! `actiontrail:LookupEvents` on `acs:actiontrail:*:<account>:event/*`.

use super::super::error::ApiFault;
use super::super::params::{Params, encode_token};
use super::shape::time;
use super::{Ctx, Handler};
use crate::audit::lookup::{self, Filter, LOOKUP_ATTRIBUTES_MAX, LookupQuery};
use crate::audit::{ActorKind, AuditError, AuditRecord};
use crate::signin::credentials::CredentialKind;
use crate::store::audit::StoredAudit;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// ActionTrail's `MaxResults`: 1 to 50, default 20.
pub const EVENTS_PAGE_MAX: i64 = 50;
pub const EVENTS_PAGE_DEFAULT: usize = 20;

pub(super) static HANDLERS: &[Handler] = &[op!(ActionTrail, "LookupEvents", events, lookup_events)];

fn events(_: &Params) -> Result<Vec<String>, ApiFault> {
    Ok(vec!["event/*".into()])
}

fn fault(e: AuditError) -> ApiFault {
    match e {
        AuditError::Invalid { name, reason } => ApiFault::invalid(&name, reason),
        AuditError::Store(_)
        | AuditError::Write(_)
        | AuditError::Log(_)
        | AuditError::NoDatabase(_) => ApiFault::internal(),
    }
}

/// An ISO 8601 time parameter, as Unix milliseconds.
fn time_param(p: &Params, name: &str) -> Result<Option<i64>, ApiFault> {
    let Some(v) = p.text(name, 64)? else {
        return Ok(None);
    };
    let t = OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
        ApiFault::invalid(
            name,
            "must be an ISO 8601 time such as 2026-01-01T00:00:00Z",
        )
    })?;
    Ok(Some(
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    ))
}

/// `LookupAttribute.N.Key`/`.Value`, N from 1 to `LOOKUP_ATTRIBUTES_MAX`; any other
/// `LookupAttribute.` parameter is refused (a filter silently dropped would widen the answer).
fn filters(p: &Params) -> Result<Vec<Filter>, ApiFault> {
    let known = |name: &str| {
        (1..=LOOKUP_ATTRIBUTES_MAX).any(|n| {
            name == format!("LookupAttribute.{n}.Key")
                || name == format!("LookupAttribute.{n}.Value")
        })
    };
    if let Some((name, _)) = p
        .pairs()
        .iter()
        .find(|(k, _)| k.starts_with("LookupAttribute.") && !known(k))
    {
        return Err(ApiFault::invalid(
            "LookupAttribute",
            format!(
                "`{name}`: at most {LOOKUP_ATTRIBUTES_MAX} filters, LookupAttribute.1 to .{LOOKUP_ATTRIBUTES_MAX}, each a Key and a Value"
            ),
        ));
    }
    let mut out = Vec::new();
    for n in 1..=LOOKUP_ATTRIBUTES_MAX {
        let key_name = format!("LookupAttribute.{n}.Key");
        let value_name = format!("LookupAttribute.{n}.Value");
        match (p.get(&key_name), p.get(&value_name)) {
            (None, None) => {}
            (Some(k), Some(v)) => out.push(Filter::parse(k, v).map_err(fault)?),
            (Some(_), None) => return Err(ApiFault::missing(&value_name)),
            (None, Some(_)) => return Err(ApiFault::missing(&key_name)),
        }
    }
    Ok(out)
}

fn query(p: &Params) -> Result<LookupQuery, ApiFault> {
    let start_ms = time_param(p, "StartTime")?;
    let end_ms = time_param(p, "EndTime")?;
    if let (Some(s), Some(e)) = (start_ms, end_ms)
        && s > e
    {
        return Err(ApiFault::invalid("StartTime", "must not be after EndTime"));
    }
    let max = p
        .int("MaxResults", 1..=EVENTS_PAGE_MAX)?
        .map_or(EVENTS_PAGE_DEFAULT, |n| usize::try_from(n).unwrap_or(1));
    let below = match p.next_token()? {
        0 => None,
        n => Some(n as u64),
    };
    Ok(LookupQuery {
        start_ms,
        end_ms,
        filters: filters(p)?,
        max,
        below,
    })
}

async fn lookup_events(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let q = query(p)?;
    let page = lookup::lookup(ctx.dir().db(), q).await.map_err(fault)?;
    let events: Vec<Value> = page.events.iter().map(event).collect();
    let mut out = Map::new();
    out.insert("Events".into(), Value::Array(events));
    if let Some(next) = page.next {
        out.insert(
            "NextToken".into(),
            json!(encode_token(usize::try_from(next).unwrap_or(usize::MAX))),
        );
    }
    for name in ["StartTime", "EndTime"] {
        if let Some(v) = p.get(name) {
            out.insert(name.into(), json!(v));
        }
    }
    Ok(Value::Object(out))
}

fn identity(r: &AuditRecord) -> Value {
    let a = &r.actor;
    let temporary = CredentialKind::of_key(&a.id).is_some();
    let kind = match a.kind {
        ActorKind::AccessKey if temporary => "assumed-role",
        ActorKind::AccessKey => "ram-user",
        ActorKind::ScimCredential => "scim-credential",
        ActorKind::OAuthClient => "oauth-client",
        ActorKind::User => "directory-user",
        ActorKind::Anonymous => "anonymous",
    };
    let mut o = Map::new();
    o.insert("type".into(), json!(kind));
    o.insert("principalId".into(), json!(a.id));
    o.insert("userName".into(), json!(a.name));
    if a.kind == ActorKind::AccessKey {
        o.insert("accessKeyId".into(), json!(a.id));
    }
    if let Some(d) = &a.directory {
        o.insert("directoryId".into(), json!(d));
    }
    Value::Object(o)
}

fn event(s: &StoredAudit) -> Value {
    let r = &s.record;
    let (service, _) = r.action.split_once(':').unwrap_or(("", ""));
    let mut o = Map::new();
    o.insert("eventId".into(), json!(s.seq.to_string()));
    o.insert("eventTime".into(), json!(time(&r.time)));
    o.insert("eventName".into(), json!(r.action));
    o.insert("serviceName".into(), json!(service));
    o.insert("requestId".into(), json!(r.request_id));
    o.insert("sourceIpAddress".into(), json!(r.source_ip));
    o.insert("userAgent".into(), json!(r.user_agent));
    o.insert("userIdentity".into(), identity(r));
    o.insert("resourceName".into(), json!(r.resources.join(";")));
    o.insert("result".into(), json!(r.result));
    if !lookup::succeeded(r) {
        o.insert("errorCode".into(), json!(r.result));
    }
    o.insert("previousDigest".into(), json!(r.prev));
    o.insert("digest".into(), json!(s.digest));
    Value::Object(o)
}
