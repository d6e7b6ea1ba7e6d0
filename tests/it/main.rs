//! Integration tests: the real `cloudsso` binary serving on an ephemeral port over a real
//! redb file in a temporary folder, driven over HTTP. One test binary (one link on CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser;
mod harness;

mod access_engine;
mod access_http;
mod api;
mod api_limits;
mod api_security;
mod audit;
mod aws_sso;
mod aws_sts;
mod backup;
mod bootstrap;
mod cli;
mod cli_signin;
mod conformance;
mod console;
mod crash;
mod decision;
mod delegate;
mod device;
mod edge;
mod errors;
mod exhaustion;
mod filters;
mod groups;
mod isolation;
mod limits;
mod malformed;
mod metrics;
mod model;
mod patch;
mod portal;
mod ram_user_logon;
mod ram_users;
mod resourcemanager;
mod saml_api;
mod saml_idp;
mod saml_sp;
mod signin_settings;
mod signin_totp;
mod string_limits;
mod sts;
mod tls;
mod user_provisioning;
mod users;
