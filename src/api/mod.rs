//! The management API compatible with Alibaba Cloud CloudSSO's OpenAPI (2021-05-15).
//!
//! So far: request signature verification (`signature`). The protocol, operations and
//! authorization are the rest of issue 3.

pub mod replay;
pub mod signature;
