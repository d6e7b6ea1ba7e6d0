//! The management API compatible with Alibaba Cloud CloudSSO's OpenAPI (2021-05-15), plus
//! RAM-style administrator operations (2015-05-01).
//!
//! - `protocol`: which operation a request names, its parameters, answer shapes.
//! - `signature`: ACS3-HMAC-SHA256 and RPC HMAC-SHA1 verification.
//! - `sigv4`: AWS Signature Version 4 verification (and signing, for tests).
//! - `aws_sts`: AWS STS `GetCallerIdentity` (2011-06-15, XML) for `ASIA` temporary credentials.
//! - `replay`: the timestamp window and nonce memory.
//! - `catalog`: every operation and its parameters, as data (the CLI uses it too).
//! - `params`: parameters parsed at the boundary; pagination.
//! - `service`: one call from request to answer (authenticate, authorize, dispatch).
//! - `ops`: the context operations run in, and per operation what it touches (ARNs) and does.
//! - `error`: every failure's status, `Code` and `Message`, in one place.
//!
//! Nothing here knows about hyper: `http::api` adapts requests.

pub mod aws_sts;
pub mod catalog;
pub mod error;
mod ops;
pub mod params;
pub mod protocol;
pub mod replay;
pub mod service;
pub mod signature;
pub mod sigv4;

pub use ops::Ctx;
pub use service::{Api, ApiAnswer, ApiRequest, CallerName, start_now};
