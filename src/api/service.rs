//! One management API call from bytes to answer: name the call, authenticate the signature,
//! refuse replays, authorize every resource the operation touches, run it.
//!
//! Knows nothing of hyper: `http::api` hands it an `ApiRequest` and writes the `ApiAnswer`.

use super::catalog::{self, Product};
use super::error::ApiFault;
use super::ops;
use super::params::Params;
use super::protocol::{self, Call};
use super::replay::NonceWindow;
use super::signature::{self, RequestParts};
use crate::directory::Directory;
use crate::iam::Caller;
use crate::policy::{self, Context};
use serde_json::Value;
use std::sync::Mutex;

/// Most nonces remembered within the replay window (more requests than this in 15 minutes
/// are refused with `Throttling` until older ones age out).
pub const NONCES_MAX: usize = 1_000_000;

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
}

/// The answer: HTTP status and the JSON body (which carries `RequestId`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiAnswer {
    pub status: u16,
    pub body: Value,
}

/// Where an operation runs: the directory, access management and administrators, and the
/// names ARNs are made of.
pub struct Api {
    pub(super) dir: Directory,
    pub(super) access: crate::access::Access,
    pub(super) iam: crate::iam::Iam,
    nonces: Mutex<NonceWindow>,
    pub(super) region: String,
    pub(super) account: String,
}

impl Api {
    pub fn new(
        dir: Directory,
        access: crate::access::Access,
        iam: crate::iam::Iam,
        region: String,
        account: String,
    ) -> Api {
        Api {
            dir,
            access,
            iam,
            nonces: Mutex::new(NonceWindow::new(NONCES_MAX)),
            region,
            account,
        }
    }

    pub fn limits(&self) -> &crate::config::Limits {
        self.dir.limits()
    }

    pub async fn handle(&self, req: ApiRequest) -> ApiAnswer {
        let request_id = uuid::Uuid::new_v4().to_string().to_uppercase();
        match self.run(&req).await {
            Ok(body) => ApiAnswer {
                status: 200,
                body: protocol::success(&request_id, body),
            },
            Err(f) => ApiAnswer {
                status: f.status,
                body: protocol::failure(&request_id, &f.code, &f.message),
            },
        }
    }

    async fn run(&self, req: &ApiRequest) -> Result<Value, ApiFault> {
        let call = protocol::parse_call(&req.headers, &req.query, &req.form)?;
        let product = Product::of_version(&call.version)
            .ok_or_else(|| ApiFault::new(400, "InvalidVersion", "unsupported version"))?;
        let op = catalog::find(product, &call.action).ok_or_else(|| {
            ApiFault::new(
                404,
                "InvalidAction.NotFound",
                format!(
                    "The action `{}` of version {} does not exist.",
                    call.action, call.version
                ),
            )
        })?;
        let caller = self.authenticate(req).await?;
        tracing::Span::current().record("caller", caller.user.as_str());
        let params = Params::new(call.params.clone());
        for p in op.params.iter().filter(|p| p.required) {
            params.required(p.name)?;
        }
        for (_, v) in params.pairs() {
            if v.len() > super::params::PARAM_BYTES_MAX {
                return Err(ApiFault::new(
                    400,
                    "InvalidParameter",
                    format!(
                        "a parameter value is longer than {} bytes",
                        super::params::PARAM_BYTES_MAX
                    ),
                ));
            }
        }
        let resources = ops::resources(self, op, &params)?;
        self.authorize(&caller, req, &call, product, &resources)?;
        ops::call(self, &caller, op, &params).await
    }

    /// Verifies the signature (ACS3 header or RPC parameter) with the caller's secret, then
    /// the timestamp and nonce. A signature is checked before its nonce is remembered, so
    /// nobody can spend another caller's nonces.
    async fn authenticate(&self, req: &ApiRequest) -> Result<Caller, ApiFault> {
        let auth_header = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str());
        let all_params: Vec<(String, String)> =
            req.query.iter().chain(&req.form).cloned().collect();
        let param = |name: &str| {
            all_params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        };
        let (access_key_id, acs3) = match auth_header {
            Some(h) => {
                let a = signature::parse_acs3(h)?;
                (a.access_key_id.clone(), Some(a))
            }
            None => (
                param("AccessKeyId").ok_or_else(|| ApiFault::missing("AccessKeyId"))?,
                None,
            ),
        };
        let Some(caller) = self.iam.caller(&access_key_id).await? else {
            return Err(if self.iam.access_key_exists(&access_key_id).await? {
                ApiFault::new(
                    400,
                    "InvalidAccessKeyId.Inactive",
                    "Specified access key is disabled.",
                )
            } else {
                ApiFault::new(
                    404,
                    "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.",
                )
            });
        };
        let (timestamp, nonce) = match &acs3 {
            Some(a) => {
                // The time, the nonce, and what names the operation must be signed (the
                // official SDKs sign every `x-acs-*` header).
                for must in [
                    "x-acs-date",
                    "x-acs-signature-nonce",
                    "x-acs-action",
                    "x-acs-version",
                ] {
                    let sent = header(must).is_some();
                    let required = sent || must == "x-acs-date" || must == "x-acs-signature-nonce";
                    if required && !a.signed_headers.iter().any(|h| h == must) {
                        return Err(ApiFault::new(
                            400,
                            "InvalidAuthorization",
                            format!("`{must}` must be one of the signed headers"),
                        ));
                    }
                }
                let parts = RequestParts {
                    method: &req.method,
                    path: &req.path,
                    query: &req.query,
                    headers: &req.headers,
                };
                signature::verify_acs3(&caller.secret, &parts, a, &req.body)?;
                (
                    header("x-acs-date").ok_or_else(|| ApiFault::missing("x-acs-date"))?,
                    header("x-acs-signature-nonce")
                        .ok_or_else(|| ApiFault::missing("x-acs-signature-nonce"))?,
                )
            }
            None => {
                if param("Signature").is_none() {
                    return Err(ApiFault::missing("Signature"));
                }
                if let Some(m) = param("SignatureMethod")
                    && m != "HMAC-SHA1"
                {
                    return Err(ApiFault::invalid("SignatureMethod", "must be HMAC-SHA1"));
                }
                signature::verify_rpc(&caller.secret, &req.method, &all_params)?;
                (
                    param("Timestamp").ok_or_else(|| ApiFault::missing("Timestamp"))?,
                    param("SignatureNonce").ok_or_else(|| ApiFault::missing("SignatureNonce"))?,
                )
            }
        };
        let now = crate::directory::now_unix();
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .check(now, &timestamp, &nonce)?;
        Ok(caller)
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

    /// `acs:<service>:<region>:<account>:<relative>`.
    pub(super) fn arn(&self, product: Product, relative: &str) -> String {
        let region = match product {
            Product::Ram | Product::ResourceManager => "*",
            Product::CloudSso => self.region.as_str(),
        };
        format!(
            "acs:{}:{region}:{}:{relative}",
            product.namespace(),
            self.account
        )
    }
}
