//! cloudsso's own operations on a user's portal sessions (CloudSSO has none): list them and
//! revoke them, one or all. A session is named by `SessionId`, the first 32 hex digits of the
//! digest it is stored under (never the cookie's secret).

use super::super::error::ApiFault;
use super::super::params::Params;
use super::resource::only::user;
use super::{Ctx, Handler};
use crate::model::format_rfc3339;
use crate::signin::session::Session;
use serde_json::{Value, json};

/// Hex digits of a session's digest that name it to administrators.
pub const SESSION_ID_LEN: usize = 32;

pub(super) static HANDLERS: &[Handler] = &[
    op!(CloudSso, "ListUserSessions", user, list_user_sessions),
    op!(CloudSso, "RevokeUserSessions", user, revoke_user_sessions),
];

fn time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(format_rfc3339)
        .unwrap_or_default()
}

fn shape(s: &Session) -> Value {
    let r = &s.record;
    json!({
        "SessionId": s.digest.get(..SESSION_ID_LEN).unwrap_or_default(),
        "UserId": r.user,
        "CreateTime": time(r.created_at),
        "LastActiveTime": time(r.last_seen),
        "ExpireTime": time(r.expires_at),
        "SourceIp": r.source_ip,
        "UserAgent": r.user_agent,
        "Status": format!("{:?}", r.stage),
    })
}

async fn list_user_sessions(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let sessions = ctx
        .signin()
        .user_sessions(&p.directory_id()?, &p.user_id()?)
        .await?;
    let list: Vec<Value> = sessions.iter().map(shape).collect();
    Ok(json!({"TotalCounts": list.len(), "Sessions": list}))
}

async fn revoke_user_sessions(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let only = match p.get("SessionId") {
        None => None,
        Some(id) if id.len() == SESSION_ID_LEN && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(id.to_ascii_lowercase())
        }
        Some(_) => {
            return Err(ApiFault::invalid(
                "SessionId",
                format!("must be the {SESSION_ID_LEN} hex digits ListUserSessions gives"),
            ));
        }
    };
    let n = ctx
        .signin()
        .revoke_sessions(&p.directory_id()?, &p.user_id()?, only)
        .await?;
    Ok(json!({"RevokedCount": n}))
}
