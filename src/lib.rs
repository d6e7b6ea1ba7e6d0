//! cloudsso: a self-hosted SCIM 2.0 provisioning server and directory, the foundation of
//! multi-account sign-on and access management.
//!
//! Layering (see ARCHITECTURE.md): `main` -> `http` (hyper: routes, decodes, encodes) -> `app`
//! (the composition root) -> `api` (management protocol) -> (`access`, `iam`) -> `directory`
//! -> `error` (their shared domain error) -> (`scim`, `policy`, `store`) -> `model`. Nothing below `http` knows about
//! hyper; nothing but `store` knows about redb or builds a storage key.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod access;
pub mod api;
pub mod app;
pub mod audit;
pub mod backup;
pub mod cli;
pub mod config;
pub mod directory;
pub mod error;
pub mod http;
pub mod iam;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod scim;
pub mod seal;
pub mod signin;
pub mod store;
