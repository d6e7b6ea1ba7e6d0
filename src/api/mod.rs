//! The management API compatible with Alibaba Cloud CloudSSO's OpenAPI (2021-05-15).
//!
//! So far: the RPC protocol (`protocol`), request signature verification (`signature`) and
//! the replay window (`replay`). Keys, the HTTP endpoint, operations and
//! authorization are the rest of issue 3.

pub mod protocol;
pub mod replay;
pub mod signature;
