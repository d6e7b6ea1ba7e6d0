//! Runtime configuration: the limits, each with a name, a unit and a default. Other modules
//! take these values as parameters (`scim` gets `FilterLimits` and plain numbers), so `config`
//! imports `scim` and nothing under `scim` imports `config`. Must not read files or the
//! environment: `main` fills it.

use crate::scim::filter::FilterLimits;
use crate::scim::schema::StringLimits;

/// How long a CLI sign-in's device code lives by default: 10 minutes (RFC 8628's example, and
/// what the CloudSSO and AWS clients expect).
pub const DEVICE_CODE_SECONDS: u64 = 600;
/// Default bound of the device authorizations pending at once in one directory.
pub const DEVICE_PENDING_PER_DIRECTORY_MAX: usize = 1000;
/// How long a CLI sign-in may be refreshed without a new browser step by default: 7 days from
/// the approval (refresh tokens rotate; their family's end does not move).
pub const CLI_REFRESH_SECONDS: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 above).
    pub body_bytes_max: usize,
    pub filter: FilterLimits,
    /// Default page size of a list or search.
    pub page_size_default: usize,
    /// Largest page size; advertised as `filter.maxResults`.
    pub page_size_max: usize,
    /// Most operations in one PATCH request.
    pub patch_operations_max: usize,
    /// Most write requests committed in one redb transaction.
    pub commit_batch_max: usize,
    /// Most write requests waiting for the writer.
    pub write_queue_max: usize,
    /// Most values in one multi-valued attribute of a request (emails, roles, ...), and most
    /// values in one PATCH operation other than on `members`.
    pub attribute_values_max: usize,
    /// Longest string values of users and groups, in characters, on SCIM and the API alike.
    pub strings: StringLimits,
    /// Most entries in `attributes` / `excludedAttributes`.
    pub attribute_paths_max: usize,
    /// Most argon2 password hashes computed at once (each holds `directory::ARGON2_MEMORY_KIB`, 7 MiB).
    pub password_hash_concurrency_max: usize,
    /// Most open client connections; further ones wait to be accepted.
    pub connections_max: usize,
    /// Longest wait for a request's headers or body, in milliseconds (408 for a slow body).
    pub request_read_timeout_ms: u64,
    /// Memory for the database's page cache, in bytes.
    pub db_cache_bytes: usize,
    /// Lifetime of an OAuth access token for SCIM when its credential names none, in
    /// seconds (a credential's `TokenValidityMinutes`, 60 to 360, overrides it).
    pub oauth_token_ttl_seconds: u64,
    /// Seconds between the reconciliation engine's full passes (which heal drift).
    pub reconcile_full_pass_seconds: u64,
    /// Milliseconds the reconciliation engine waits after a change before handling it
    /// (0: at once; more batches bursts).
    pub reconcile_delay_ms: u64,
    /// Longest life of a portal session, in seconds, however active (CloudSSO: 8 hours).
    pub session_absolute_seconds: u64,
    /// A portal session unused this long, in seconds, is over.
    pub session_idle_seconds: u64,
    /// Seconds a CLI sign-in's device code lives (default `DEVICE_CODE_SECONDS`).
    pub device_code_seconds: u64,
    /// Most device authorizations pending at once in one directory (creating one needs no
    /// credential); default `DEVICE_PENDING_PER_DIRECTORY_MAX`.
    pub device_pending_per_directory_max: usize,
    /// Seconds from a CLI sign-in's approval during which its refresh tokens work (AWS's
    /// sso-oidc `refresh_token` grant); 0: no refresh tokens. Default `CLI_REFRESH_SECONDS`.
    pub cli_refresh_seconds: u64,
    /// Most sign-in attempts (passwords and MFA codes) from one source address a minute.
    pub signin_attempts_per_source_per_minute: u32,
    /// Most sign-in attempts for one user name a minute, from anywhere.
    pub signin_attempts_per_user_per_minute: u32,
    /// Longest time, in milliseconds, a connection may sit with no request in progress once
    /// it has served one (HTTP/1.1 keep-alive), or with no open stream (HTTP/2); then it is
    /// closed. A new connection gets `request_read_timeout_ms` for its first byte.
    pub keep_alive_idle_ms: u64,
    /// Most open connections from one source address (a share of `connections_max`); more
    /// from that address are closed at once.
    pub connections_per_source_max: usize,
    /// Most concurrent streams (requests) on one HTTP/2 connection.
    pub http2_streams_max: u32,
    /// Memory, in bytes, for all request bodies being read at once: a body reserves its
    /// `Content-Length` (or `body_bytes_max` when undeclared) before it is read; past the
    /// budget a request is answered 503 with `Retry-After`.
    pub request_bodies_bytes_max: usize,
    /// Longest request target (path and query), in bytes (414 above).
    pub uri_bytes_max: usize,
    /// Most header bytes of a request, request line included (431 above).
    pub header_bytes_max: usize,
    /// Most header fields in a request (431 above).
    pub headers_count_max: usize,
    /// Most management API requests one AccessKey may sign within the 15-minute replay
    /// window (its nonces are remembered that long; past it, `Throttling` for that key only).
    pub api_nonces_per_key_max: usize,
    /// `/readyz` answers 503 while the reconciliation engine has more change events than
    /// this left to handle.
    pub ready_lag_events_max: u64,
    /// `/readyz` answers 503 while the oldest change event the engine has not handled is
    /// older than this, in seconds (`reconcile_delay_ms` holds events back too).
    pub ready_lag_seconds_max: u64,
    /// How long audit records are kept, in seconds (`--audit-retention-days`, 90 days);
    /// older ones are pruned in the background.
    pub audit_retention_seconds: u64,
    /// Milliseconds between two runs of the audit trail's pruner.
    pub audit_prune_interval_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes_max: 1024 * 1024,
            filter: FilterLimits::default(),
            page_size_default: 100,
            page_size_max: 1000,
            patch_operations_max: 1000,
            commit_batch_max: 512,
            write_queue_max: 16 * 1024,
            attribute_values_max: 256,
            strings: StringLimits::default(),
            attribute_paths_max: 100,
            password_hash_concurrency_max: 2,
            connections_max: 4096,
            request_read_timeout_ms: 30_000,
            db_cache_bytes: 256 * 1024 * 1024,
            oauth_token_ttl_seconds: 3600,
            reconcile_full_pass_seconds: 300,
            reconcile_delay_ms: 0,
            session_absolute_seconds: 8 * 3600,
            session_idle_seconds: 3600,
            device_code_seconds: DEVICE_CODE_SECONDS,
            device_pending_per_directory_max: DEVICE_PENDING_PER_DIRECTORY_MAX,
            cli_refresh_seconds: CLI_REFRESH_SECONDS,
            signin_attempts_per_source_per_minute: 60,
            signin_attempts_per_user_per_minute: 10,
            keep_alive_idle_ms: 5_000,
            connections_per_source_max: 256,
            http2_streams_max: 100,
            request_bodies_bytes_max: 256 * 1024 * 1024,
            uri_bytes_max: 8 * 1024,
            header_bytes_max: 64 * 1024,
            headers_count_max: 100,
            // About 111 signed requests a second sustained over the 15-minute window.
            api_nonces_per_key_max: 100_000,
            ready_lag_events_max: 10_000,
            ready_lag_seconds_max: 60,
            audit_retention_seconds: 90 * 86_400,
            audit_prune_interval_ms: 60_000,
        }
    }
}
