//! One management API call from bytes to answer: name the call, authenticate the signature,
//! refuse replays, authorize every resource the operation touches, run it.
//!
//! A request is signed with an administrator's AccessKey (its secret opened by `iam`) or with
//! a user's temporary credentials (`STS.` AccessKeyId and its SecurityToken: the secret is
//! derived by `signin::credentials`, and the user's access is checked again on every call).
//!
//! An administrator of a member account of the resource directory (`Caller::account_id`) is
//! authorized like the management account's, for CloudSSO only and only while its account is
//! the delegated administrator (`check_home_account`).
//!
//! Knows nothing of hyper: `http::api` hands it an `ApiRequest` and writes the `ApiAnswer`.

use super::catalog::{self, Operation, Product};
use super::error::ApiFault;
use super::ops::{self, Ctx};
use super::params::{Params, param_bytes_max};
use super::protocol::{self, Call, Signing};
use super::replay::{
    NONCE_KEYS_MAX, NonceMemory, Start, TEMPORARY_NONCE_USERS_MAX, parse_timestamp,
};
use super::signature::{self, Acs3Authorization, RequestParts};
use crate::error::DomainError;
use crate::iam::Caller;
use crate::policy::{self, Context};
use crate::signin::credentials::{self, CredentialKind, VerifiedCaller};
use crate::store::Db;
use crate::store::keys::MetaKey;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// Per AccessKey, the latest timestamp ahead of the server's clock the API accepted (Unix
/// seconds): written, durably, before such a request runs, so a restart knows what an earlier
/// process may have served. Holds only keys whose timestamps are still ahead of the clock.
const SIGNED_AHEAD: MetaKey<'static> = MetaKey {
    name: "api_signed_ahead",
};

/// A request as the HTTP edge decoded it.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    /// As sent, still percent-encoded.
    pub path: String,
    /// Query pairs, percent-decoded (`+` is a space).
    pub query: Vec<(String, String)>,
    /// Form body pairs, when the body is `application/x-www-form-urlencoded`.
    pub form: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub source_ip: String,
    /// The request's id, answered as `RequestId` (the transport chooses it).
    pub request_id: String,
}

/// The answer: HTTP status and the JSON body (which carries `RequestId`), with the operation
/// and caller for the access log.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiAnswer {
    pub status: u16,
    pub body: Value,
    /// The catalog row the request named, when it named one.
    pub operation: Option<&'static Operation>,
    /// Who signed the request, when the signature was verified.
    pub caller: Option<CallerName>,
}

/// An authenticated caller as the access log names it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerName {
    pub user: String,
    pub access_key_id: String,
    /// The directory of a user signing with temporary credentials.
    pub directory: Option<String>,
}

/// Who signed a request.
enum Principal {
    /// An administrator's AccessKey.
    Admin(Caller),
    /// A user's temporary credentials, genuine, unexpired and still granted.
    Temporary(VerifiedCaller),
}

impl Principal {
    /// Whose nonces a request spends: an AccessKey's, or a user's (every temporary
    /// credential of the user shares one window, so minting many adds no memory).
    fn nonce_key(&self) -> String {
        match self {
            Principal::Admin(c) => c.access_key_id.clone(),
            Principal::Temporary(t) => {
                format!("sts:{}/{}", t.claims().directory_id, t.claims().user_id)
            }
        }
    }

    fn name(&self) -> CallerName {
        match self {
            Principal::Admin(c) => CallerName {
                user: c.user.clone(),
                access_key_id: c.access_key_id.clone(),
                directory: None,
            },
            Principal::Temporary(t) => CallerName::temporary(t),
        }
    }
}

impl CallerName {
    /// A user's temporary credentials: `assumed-role/<role>/<session>`, with the directory.
    pub(super) fn temporary(t: &VerifiedCaller) -> CallerName {
        CallerName {
            user: format!(
                "assumed-role/{}/{}",
                t.claims().role_name,
                t.claims().session_name()
            ),
            access_key_id: t.access_key_id().to_owned(),
            directory: Some(t.claims().directory_id.clone()),
        }
    }
}

/// What `run` has learnt about a request so far.
#[derive(Default)]
struct Who {
    operation: Option<&'static Operation>,
    caller: Option<CallerName>,
}

/// The management API: the operations' context, the nonces seen in the replay window, and the
/// database where timestamps signed ahead of the clock are kept.
pub struct Api {
    ctx: Ctx,
    nonces: Mutex<NonceMemory>,
    /// The nonces of temporary credentials, per user (`Principal::nonce_key`).
    temporary_nonces: Mutex<NonceMemory>,
    db: Db,
}

/// The API's `Start`, now, over `db`. Over a store an earlier process served (`store_was_new`
/// false) it reads what that process accepted ahead of its clock, and waits for the next whole
/// second, so that a request signed once this returns is newer than anything the earlier
/// process could have served at its clock (timestamps have whole seconds).
pub async fn start_now(db: &Db, store_was_new: bool) -> Result<Start, DomainError> {
    let now = time::OffsetDateTime::now_utc();
    let ahead = db
        .read(|txn| Ok::<_, DomainError>(txn.get::<HashMap<String, i64>>(SIGNED_AHEAD)?))
        .await?
        .unwrap_or_default();
    if !store_was_new {
        let into_second = std::time::Duration::from_nanos(u64::from(now.nanosecond()));
        let rest = std::time::Duration::from_secs(1).saturating_sub(into_second);
        tokio::time::sleep(rest + std::time::Duration::from_millis(5)).await;
    }
    Ok(Start {
        unix: now.unix_timestamp(),
        store_was_new,
        ahead,
    })
}

impl Api {
    /// The API over `ctx`, refusing replays of requests an earlier process may have served
    /// (`start`), keeping timestamps signed ahead of the clock in `db`.
    pub fn new(ctx: Ctx, start: Start, db: Db) -> Api {
        let per_key_max = ctx.dir().limits().api_nonces_per_key_max;
        Api {
            ctx,
            temporary_nonces: Mutex::new(NonceMemory::new(
                per_key_max,
                TEMPORARY_NONCE_USERS_MAX,
                start.clone(),
            )),
            nonces: Mutex::new(NonceMemory::new(per_key_max, NONCE_KEYS_MAX, start)),
            db,
        }
    }

    /// What operations run against (`aws_sts` authenticates through its sign-in service).
    pub(super) fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    pub fn limits(&self) -> &crate::config::Limits {
        self.ctx.dir().limits()
    }

    pub async fn handle(&self, req: ApiRequest) -> ApiAnswer {
        let request_id = &req.request_id;
        let mut who = Who::default();
        let (status, body) = match self.run(&req, &mut who).await {
            Ok(body) => (200, protocol::success(request_id, body)),
            Err(f) => (f.status, protocol::failure(request_id, &f.code, &f.message)),
        };
        ApiAnswer {
            status,
            body,
            operation: who.operation,
            caller: who.caller,
        }
    }

    /// Runs the call, noting in `who` the operation and the caller as soon as each is known.
    async fn run(&self, req: &ApiRequest, who: &mut Who) -> Result<Value, ApiFault> {
        protocol::single_headers(&req.headers)?;
        let params: Vec<(String, String)> = req.query.iter().chain(&req.form).cloned().collect();
        let signing = Signing::of(&req.headers, &params);
        let call = protocol::parse_call(signing, &req.headers, &req.query, &req.form)?;
        let product =
            Product::of_version(&call.version).ok_or_else(ApiFault::unsupported_version)?;
        let op = catalog::find(product, &call.action)
            .ok_or_else(|| ApiFault::unknown_action(&call.action, &call.version))?;
        who.operation = Some(op);
        let principal = self.authenticate(req).await?;
        who.caller = Some(principal.name());
        let caller = match principal {
            Principal::Admin(caller) => caller,
            Principal::Temporary(t) => return ops::run_temporary(op, &t),
        };
        self.check_home_account(&caller, op).await?;
        let params = Params::new(call.params.clone());
        for p in op.params.iter().filter(|p| p.required) {
            params.required(p.name)?;
        }
        if let Some((k, _)) = params
            .pairs()
            .iter()
            .find(|(k, v)| v.len() > param_bytes_max(k))
        {
            return Err(ApiFault::param_too_long(param_bytes_max(k)));
        }
        params.next_token()?;
        let handler = ops::handler(op).ok_or_else(|| ApiFault::not_implemented(op.name))?;
        let resources: Vec<String> = (handler.resources)(&params)?
            .iter()
            .map(|r| self.ctx.arn(product, r))
            .collect();
        crate::audit::note_resources(&resources);
        self.authorize(&caller, req, &call, product, &resources)?;
        let action = format!("{}:{}", product.namespace(), op.name);
        let actor = crate::audit::Actor {
            kind: crate::audit::ActorKind::AccessKey,
            id: caller.access_key_id.clone(),
            name: caller.user.clone(),
            directory: None,
        };
        let call = (handler.call)(&self.ctx, &caller, &params);
        crate::audit::armed(action, actor, resources, call).await
    }

    /// Verifies the signature (ACS3 header or RPC parameter) with the caller's secret, then
    /// the timestamp and nonce. A signature is checked before its nonce is remembered, so
    /// nobody can spend another caller's nonces. Temporary credentials: the token must open
    /// and belong to the AccessKeyId, then the signature (with the derived secret), then the
    /// expiry and the user's access now.
    async fn authenticate(&self, req: &ApiRequest) -> Result<Principal, ApiFault> {
        let all_params: Vec<(String, String)> =
            req.query.iter().chain(&req.form).cloned().collect();
        let acs3 = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| signature::parse_acs3(v))
            .transpose()?;
        let access_key_id = match &acs3 {
            Some(a) => a.access_key_id.clone(),
            None => {
                param(&all_params, "AccessKeyId").ok_or_else(|| ApiFault::missing("AccessKeyId"))?
            }
        };
        let (principal, (timestamp, nonce)) =
            if CredentialKind::of_key(&access_key_id) == Some(CredentialKind::Alibaba) {
                let token = security_token(req, &all_params, acs3.is_some())
                    .ok_or_else(ApiFault::missing_security_token)?;
                let opened = credentials::open(self.ctx.signin().sealer(), &access_key_id, &token)
                    .map_err(ApiFault::security_token)?;
                let signed = verify(req, &all_params, acs3.as_ref(), opened.secret(), true)?;
                let caller = self
                    .ctx
                    .signin()
                    .credential_access_now(opened)
                    .await?
                    .map_err(ApiFault::security_token)?;
                (Principal::Temporary(caller), signed)
            } else {
                let caller = self.caller(&access_key_id).await?;
                let signed = verify(req, &all_params, acs3.as_ref(), &caller.secret, false)?;
                (Principal::Admin(caller), signed)
            };
        let now = crate::directory::now_unix();
        let nonces = match principal {
            Principal::Admin(_) => &self.nonces,
            Principal::Temporary(_) => &self.temporary_nonces,
        };
        let key = principal.nonce_key();
        nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .check(now, &key, &timestamp, &nonce)?;
        let at = parse_timestamp(&timestamp)?;
        if at > now {
            self.signed_ahead(&key, at, now).await?;
        }
        Ok(principal)
    }

    /// Notes durably, before the request runs, that `access_key_id` signed a request at `at`,
    /// ahead of the clock (`now`): a restart refuses that key's timestamps up to it.
    async fn signed_ahead(&self, access_key_id: &str, at: i64, now: i64) -> Result<(), ApiFault> {
        let id = access_key_id.to_owned();
        self.db
            .write(move |txn| {
                let mut ahead = txn
                    .get::<HashMap<String, i64>>(SIGNED_AHEAD)?
                    .unwrap_or_default();
                ahead.retain(|_, t| *t > now);
                let latest = ahead.entry(id).or_insert(at);
                *latest = (*latest).max(at);
                txn.put(SIGNED_AHEAD, &ahead)?;
                Ok::<_, DomainError>(())
            })
            .await?;
        Ok(())
    }

    /// The administrator owning an active AccessKey `access_key_id`.
    async fn caller(&self, access_key_id: &str) -> Result<Caller, ApiFault> {
        let iam = self.ctx.iam();
        match iam.caller(access_key_id).await? {
            Some(caller) => Ok(caller),
            None if iam.access_key_exists(access_key_id).await? => Err(ApiFault::key_inactive()),
            None => Err(ApiFault::key_not_found()),
        }
    }

    /// An administrator of a member account (`Caller::account_id`) may call CloudSSO's
    /// operations only, and only while its account is the delegated administrator: then its
    /// policies authorize it on the same ARNs as the management account's administrators.
    /// Asked on every call (no cache), so a disable takes effect on the next one.
    async fn check_home_account(&self, caller: &Caller, op: &Operation) -> Result<(), ApiFault> {
        let Some(account) = &caller.account_id else {
            return Ok(());
        };
        if op.product != Product::CloudSso || MANAGEMENT_ACCOUNT_ONLY.contains(&op.name) {
            let action = format!("{}:{}", op.product.namespace(), op.name);
            return Err(ApiFault::member_account_product(account, &action));
        }
        if !self.ctx.access().is_delegate_account(account).await? {
            tracing::info!(caller = %caller.user, %account, "refused: not the delegate");
            return Err(ApiFault::not_delegate(account));
        }
        Ok(())
    }

    /// Every resource must be allowed; the first refused one is named in the error.
    fn authorize(
        &self,
        caller: &Caller,
        req: &ApiRequest,
        call: &Call,
        product: Product,
        resources: &[String],
    ) -> Result<(), ApiFault> {
        let action = format!("{}:{}", product.namespace(), call.action);
        let mut context = Context::new();
        context.insert("acs:SourceIp", req.source_ip.clone());
        context.insert("acs:CurrentTime", crate::model::now_rfc3339());
        context.insert("acs:SecureTransport", "false");
        context.insert("acs:AccessId", caller.access_key_id.clone());
        context.insert("acs:MFAPresent", "false");
        let policies: Vec<(&str, &policy::PolicyDocument)> = caller
            .policies
            .iter()
            .map(|(n, d)| (n.as_str(), d))
            .collect();
        for resource in resources {
            let decision = policy::authorize(
                &policies,
                &policy::Request {
                    action: &action,
                    resource,
                    context: &context,
                },
            );
            if !decision.is_allowed() {
                tracing::info!(
                    caller = %caller.user,
                    %action,
                    %resource,
                    outcome = decision.outcome.name(),
                    "refused"
                );
                return Err(ApiFault::no_permission(&action, resource));
            }
        }
        Ok(())
    }
}

/// A request parameter (query or form) by exact name.
fn param(all: &[(String, String)], name: &str) -> Option<String> {
    all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A request header by case-insensitive name, trimmed.
fn header(req: &ApiRequest, name: &str) -> Option<String> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_owned())
}

/// The SecurityToken of a request signed with temporary credentials: the signed
/// `x-acs-security-token` header (ACS3; `verify_acs3` checks it is signed) or the
/// `SecurityToken` parameter (RPC, which the signature covers).
fn security_token(req: &ApiRequest, all_params: &[(String, String)], acs3: bool) -> Option<String> {
    if acs3 {
        header(req, SECURITY_TOKEN_HEADER)
    } else {
        param(all_params, "SecurityToken")
    }
    .filter(|t| !t.is_empty())
}

const SECURITY_TOKEN_HEADER: &str = "x-acs-security-token";

/// Verifies the signature with `secret`: ACS3 when `acs3` was parsed, else RPC; `temporary`
/// requires the security token header among an ACS3 signature's headers. Returns the
/// timestamp and nonce.
fn verify(
    req: &ApiRequest,
    all_params: &[(String, String)],
    acs3: Option<&Acs3Authorization>,
    secret: &str,
    temporary: bool,
) -> Result<(String, String), ApiFault> {
    match acs3 {
        Some(a) => verify_acs3(req, secret, a, temporary),
        None => verify_rpc(req, all_params, secret),
    }
}

/// Headers an ACS3 signature must cover: the time, the nonce, and what names the operation
/// (the official SDKs sign every `x-acs-*` header).
const ACS3_SIGNED: &[&str] = &[
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-action",
    "x-acs-version",
];

/// An ACS3-signed request: `ACS3_SIGNED` must be signed, and `content-type` too when the body
/// is read as form parameters (the body's hash is signed, but how it is read depends on the
/// content type), and `x-acs-security-token` for temporary credentials; then the signature.
/// Returns the timestamp and nonce.
fn verify_acs3(
    req: &ApiRequest,
    secret: &str,
    a: &Acs3Authorization,
    temporary: bool,
) -> Result<(String, String), ApiFault> {
    let form = (!req.form.is_empty()).then_some("content-type");
    let token = temporary.then_some(SECURITY_TOKEN_HEADER);
    for must in ACS3_SIGNED.iter().copied().chain(form).chain(token) {
        if !a.signed_headers.iter().any(|h| h == must) {
            return Err(ApiFault::unsigned_header(must));
        }
    }
    let parts = RequestParts {
        method: &req.method,
        path: &req.path,
        query: &req.query,
        headers: &req.headers,
    };
    signature::verify_acs3(secret, &parts, a, &req.body)?;
    Ok((
        header(req, "x-acs-date").ok_or_else(|| ApiFault::missing("x-acs-date"))?,
        header(req, "x-acs-signature-nonce")
            .ok_or_else(|| ApiFault::missing("x-acs-signature-nonce"))?,
    ))
}

/// An RPC-signed request (`Signature` among the parameters, HMAC-SHA1). Returns the
/// timestamp and nonce.
fn verify_rpc(
    req: &ApiRequest,
    all_params: &[(String, String)],
    secret: &str,
) -> Result<(String, String), ApiFault> {
    if param(all_params, "Signature").is_none() {
        return Err(ApiFault::missing("Signature"));
    }
    if let Some(m) = param(all_params, "SignatureMethod")
        && m != "HMAC-SHA1"
    {
        return Err(ApiFault::invalid("SignatureMethod", "must be HMAC-SHA1"));
    }
    signature::verify_rpc(secret, &req.method, all_params)?;
    Ok((
        param(all_params, "Timestamp").ok_or_else(|| ApiFault::missing("Timestamp"))?,
        param(all_params, "SignatureNonce").ok_or_else(|| ApiFault::missing("SignatureNonce"))?,
    ))
}

/// CloudSSO operations only the management account's administrators may call: the service
/// switch and the choice of the delegated administrator itself (a delegate's administrators
/// cannot end or move the delegation).
const MANAGEMENT_ACCOUNT_ONLY: &[&str] = &[
    "EnableService",
    "DisableService",
    "EnableDelegateAccount",
    "DisableDelegateAccount",
];
