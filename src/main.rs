//! The `cloudsso` binary: `serve` parses configuration, opens the store, runs the server and
//! the writer until SIGINT/SIGTERM, then shuts down gracefully; every other subcommand is the
//! management API client in `cloudsso::cli`.

/// mimalloc instead of the system allocator: a request allocates many small short-lived
/// objects (JSON values), and glibc's per-thread arenas kept freed memory (the 1M-user
/// benchmark's peak RSS grew past 700 MiB under writes with it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use cloudsso::app::{App, Options};
use cloudsso::config::Limits;
use cloudsso::scim::filter::FilterLimits;
use cloudsso::scim::schema::StringLimits;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cloudsso",
    version,
    about = "Self-hosted multi-account sign-on: SCIM 2.0 provisioning and directory"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Write a consistent copy of the database (and its manifest, FILE.manifest.json), from
    /// the running server through its control socket or from a stopped server's folder.
    /// seal.key is not in it: back that file up separately.
    Backup(BackupArgs),
    /// Put a backup in place of a data folder's database, after checking it.
    Restore(RestoreArgs),
}

/// The subcommands `main` runs itself; every other one is the management API client.
const LOCAL_COMMANDS: [&str; 3] = ["serve", "backup", "restore"];

#[derive(Args)]
struct BackupArgs {
    /// Data folder of the server to back up (running or stopped).
    #[arg(long, env = "CLOUDSSO_DATA", default_value = "./data")]
    data: PathBuf,
    /// The backup file to write (replaced if it exists; written under a temporary name first).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// The backup file (its manifest, FILE.manifest.json, beside it).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Data folder to restore into; created if missing.
    #[arg(long)]
    data: PathBuf,
    /// Replace the database of a folder that is not empty (never while a server runs on it).
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CLOUDSSO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data folder (holds the redb database and bootstrap.json); created if missing.
    #[arg(long, env = "CLOUDSSO_DATA", default_value = "./data")]
    data: PathBuf,
    /// Public base URL clients use, for `meta.location` and the portal's links (default:
    /// http://<listen>, or https://<listen> with TLS).
    #[arg(long, env = "CLOUDSSO_PUBLIC_URL")]
    public_url: Option<String>,
    /// PEM certificate chain (leaf first) to serve HTTPS with; needs --tls-key. Without both,
    /// plain HTTP.
    #[arg(
        long,
        env = "CLOUDSSO_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "CLOUDSSO_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    tls_key: Option<PathBuf>,
    /// Region named in resource ARNs and API answers.
    #[arg(long, env = "CLOUDSSO_REGION", default_value = "cn-shanghai")]
    region: String,
    /// Largest request body, in bytes.
    #[arg(long, env = "CLOUDSSO_BODY_BYTES_MAX", default_value_t = Limits::default().body_bytes_max)]
    body_bytes_max: usize,
    /// Longest filter or PATCH path, in bytes.
    #[arg(long, env = "CLOUDSSO_FILTER_LEN_MAX", default_value_t = FilterLimits::default().len_max)]
    filter_len_max: usize,
    /// Deepest nesting in a filter.
    #[arg(long, env = "CLOUDSSO_FILTER_DEPTH_MAX", default_value_t = FilterLimits::default().depth_max)]
    filter_depth_max: usize,
    /// Default page size of lists and searches.
    #[arg(long, env = "CLOUDSSO_PAGE_SIZE_DEFAULT", default_value_t = Limits::default().page_size_default)]
    page_size_default: usize,
    /// Largest page size (advertised as filter.maxResults).
    #[arg(long, env = "CLOUDSSO_PAGE_SIZE_MAX", default_value_t = Limits::default().page_size_max)]
    page_size_max: usize,
    /// Most operations in one PATCH request.
    #[arg(long, env = "CLOUDSSO_PATCH_OPERATIONS_MAX", default_value_t = Limits::default().patch_operations_max)]
    patch_operations_max: usize,
    /// Most write requests committed in one transaction.
    #[arg(long, env = "CLOUDSSO_COMMIT_BATCH_MAX", default_value_t = Limits::default().commit_batch_max)]
    commit_batch_max: usize,
    /// Most write requests waiting for the writer (503 above).
    #[arg(long, env = "CLOUDSSO_WRITE_QUEUE_MAX", default_value_t = Limits::default().write_queue_max)]
    write_queue_max: usize,
    /// Most values in one multi-valued attribute of a request.
    #[arg(long, env = "CLOUDSSO_ATTRIBUTE_VALUES_MAX", default_value_t = Limits::default().attribute_values_max)]
    attribute_values_max: usize,
    #[command(flatten)]
    strings: StringLimitArgs,
    /// Most entries in `attributes` / `excludedAttributes`.
    #[arg(long, env = "CLOUDSSO_ATTRIBUTE_PATHS_MAX", default_value_t = Limits::default().attribute_paths_max)]
    attribute_paths_max: usize,
    /// Most password hashes computed at once.
    #[arg(long, env = "CLOUDSSO_PASSWORD_HASH_CONCURRENCY_MAX", default_value_t = Limits::default().password_hash_concurrency_max)]
    password_hash_concurrency_max: usize,
    /// Most open client connections.
    #[arg(long, env = "CLOUDSSO_CONNECTIONS_MAX", default_value_t = Limits::default().connections_max)]
    connections_max: usize,
    /// Longest wait for a request's headers or body, in milliseconds.
    #[arg(long, env = "CLOUDSSO_REQUEST_READ_TIMEOUT_MS", default_value_t = Limits::default().request_read_timeout_ms)]
    request_read_timeout_ms: u64,
    /// Longest idle time of a kept-alive HTTP/1.1 connection or an HTTP/2 connection with no open stream, in milliseconds.
    #[arg(long, env = "CLOUDSSO_KEEP_ALIVE_IDLE_MS", default_value_t = Limits::default().keep_alive_idle_ms)]
    keep_alive_idle_ms: u64,
    /// Most open connections from one source address.
    #[arg(long, env = "CLOUDSSO_CONNECTIONS_PER_SOURCE_MAX", default_value_t = Limits::default().connections_per_source_max)]
    connections_per_source_max: usize,
    /// Most concurrent streams on one HTTP/2 connection.
    #[arg(long, env = "CLOUDSSO_HTTP2_STREAMS_MAX", default_value_t = Limits::default().http2_streams_max)]
    http2_streams_max: u32,
    /// Memory for all request bodies read at once, in bytes (503 past it).
    #[arg(long, env = "CLOUDSSO_REQUEST_BODIES_BYTES_MAX", default_value_t = Limits::default().request_bodies_bytes_max)]
    request_bodies_bytes_max: usize,
    /// Longest request target, in bytes.
    #[arg(long, env = "CLOUDSSO_URI_BYTES_MAX", default_value_t = Limits::default().uri_bytes_max)]
    uri_bytes_max: usize,
    /// Most header bytes of a request, request line included.
    #[arg(long, env = "CLOUDSSO_HEADER_BYTES_MAX", default_value_t = Limits::default().header_bytes_max)]
    header_bytes_max: usize,
    /// Most header fields in a request.
    #[arg(long, env = "CLOUDSSO_HEADERS_COUNT_MAX", default_value_t = Limits::default().headers_count_max)]
    headers_count_max: usize,
    /// Memory for the database's page cache, in bytes.
    #[arg(long, env = "CLOUDSSO_DB_CACHE_BYTES", default_value_t = Limits::default().db_cache_bytes)]
    db_cache_bytes: usize,
    /// Lifetime of OAuth access tokens for SCIM, in seconds, unless the credential says.
    #[arg(long, env = "CLOUDSSO_OAUTH_TOKEN_TTL_SECONDS", default_value_t = Limits::default().oauth_token_ttl_seconds)]
    oauth_token_ttl_seconds: u64,
    /// Seconds between the reconciliation engine's full passes.
    #[arg(long, env = "CLOUDSSO_RECONCILE_FULL_PASS_SECONDS", default_value_t = Limits::default().reconcile_full_pass_seconds)]
    reconcile_full_pass_seconds: u64,
    /// Milliseconds the reconciliation engine waits after a change before handling it.
    #[arg(long, env = "CLOUDSSO_RECONCILE_DELAY_MS", default_value_t = Limits::default().reconcile_delay_ms)]
    reconcile_delay_ms: u64,
    /// Longest life of a portal session, in seconds.
    #[arg(long, env = "CLOUDSSO_SESSION_ABSOLUTE_SECONDS", default_value_t = Limits::default().session_absolute_seconds)]
    session_absolute_seconds: u64,
    /// A portal session unused this long, in seconds, is over.
    #[arg(long, env = "CLOUDSSO_SESSION_IDLE_SECONDS", default_value_t = Limits::default().session_idle_seconds)]
    session_idle_seconds: u64,
    /// Seconds a CLI sign-in's device code lives (tests shorten it).
    #[arg(long, hide = true, default_value_t = Limits::default().device_code_seconds)]
    device_code_seconds: u64,
    /// Most device authorizations pending at once in one directory.
    #[arg(long, hide = true, default_value_t = Limits::default().device_pending_per_directory_max)]
    device_pending_per_directory_max: usize,
    /// Seconds from a CLI sign-in's approval during which it can be refreshed without a new
    /// browser step (0: no refresh tokens).
    #[arg(long, env = "CLOUDSSO_CLI_REFRESH_SECONDS", default_value_t = Limits::default().cli_refresh_seconds)]
    cli_refresh_seconds: u64,
    /// Most sign-in attempts from one source address a minute.
    #[arg(long, env = "CLOUDSSO_SIGNIN_ATTEMPTS_PER_SOURCE_PER_MINUTE", default_value_t = Limits::default().signin_attempts_per_source_per_minute)]
    signin_attempts_per_source_per_minute: u32,
    /// Most sign-in attempts for one user name a minute.
    #[arg(long, env = "CLOUDSSO_SIGNIN_ATTEMPTS_PER_USER_PER_MINUTE", default_value_t = Limits::default().signin_attempts_per_user_per_minute)]
    signin_attempts_per_user_per_minute: u32,
    /// Most management API requests one AccessKey may sign in 15 minutes.
    #[arg(long, env = "CLOUDSSO_API_NONCES_PER_KEY_MAX", default_value_t = Limits::default().api_nonces_per_key_max)]
    api_nonces_per_key_max: usize,
    /// `/readyz` answers 503 while the reconciliation engine has more change events than this
    /// left to handle.
    #[arg(long, env = "CLOUDSSO_READY_LAG_EVENTS_MAX", default_value_t = Limits::default().ready_lag_events_max)]
    ready_lag_events_max: u64,
    /// `/readyz` answers 503 while the oldest change event the engine has not handled is
    /// older than this, in seconds.
    #[arg(long, env = "CLOUDSSO_READY_LAG_SECONDS_MAX", default_value_t = Limits::default().ready_lag_seconds_max)]
    ready_lag_seconds_max: u64,
    /// Serve `/metrics` only on this address (plain HTTP), not on --listen.
    #[arg(long, env = "CLOUDSSO_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Log line format: `text`, or `json` (one object a line, with the request's span
    /// fields, `request_id` among them).
    #[arg(long, env = "CLOUDSSO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Fault injection for tests and drills: the account provider fails this many role and
    /// SAML provider calls first.
    #[arg(long, env = "CLOUDSSO_PROVIDER_FAULTS", default_value_t = 0)]
    provider_faults: u32,
    /// Days audit records are kept (at least 1); older ones are pruned in the background.
    #[arg(long, env = "CLOUDSSO_AUDIT_RETENTION_DAYS", default_value_t = Limits::default().audit_retention_seconds / 86_400)]
    audit_retention_days: u64,
    /// For tests: the audit retention in seconds, overriding --audit-retention-days.
    #[arg(long, hide = true)]
    audit_retention_seconds: Option<u64>,
    /// For tests: milliseconds between two runs of the audit pruner.
    #[arg(long, hide = true, default_value_t = Limits::default().audit_prune_interval_ms)]
    audit_prune_interval_ms: u64,
    /// Append every committed audit record to this file as one JSON line (for a SIEM).
    #[arg(long, env = "CLOUDSSO_AUDIT_LOG", value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// For benchmarks only: write no audit record at all.
    #[arg(long, hide = true)]
    audit_off: bool,
    /// For drills and tests of readiness: serve without the reconciliation engine.
    #[arg(long, hide = true)]
    engine_off: bool,
}

/// How log lines are written.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The longest string values of users and groups, in characters (SCIM and the API alike).
#[derive(Args)]
struct StringLimitArgs {
    /// Longest user `userName` (the API's `UserName`).
    #[arg(long, env = "CLOUDSSO_USER_NAME_CHARS_MAX", default_value_t = StringLimits::default().user_name_chars_max)]
    user_name_chars_max: usize,
    /// Longest user `displayName` and `name.formatted`.
    #[arg(long, env = "CLOUDSSO_DISPLAY_NAME_CHARS_MAX", default_value_t = StringLimits::default().display_name_chars_max)]
    display_name_chars_max: usize,
    /// Longest group `displayName` (the API's `GroupName`).
    #[arg(long, env = "CLOUDSSO_GROUP_NAME_CHARS_MAX", default_value_t = StringLimits::default().group_name_chars_max)]
    group_name_chars_max: usize,
    /// Longest name part (`name.givenName`, `name.familyName`, ...).
    #[arg(long, env = "CLOUDSSO_NAME_PART_CHARS_MAX", default_value_t = StringLimits::default().name_part_chars_max)]
    name_part_chars_max: usize,
    /// Longest email address.
    #[arg(long, env = "CLOUDSSO_EMAIL_CHARS_MAX", default_value_t = StringLimits::default().email_chars_max)]
    email_chars_max: usize,
    /// Longest `externalId`.
    #[arg(long, env = "CLOUDSSO_EXTERNAL_ID_CHARS_MAX", default_value_t = StringLimits::default().external_id_chars_max)]
    external_id_chars_max: usize,
    /// Longest value of any other string attribute.
    #[arg(long, env = "CLOUDSSO_STRING_CHARS_MAX", default_value_t = StringLimits::default().string_chars_max)]
    string_chars_max: usize,
}

impl StringLimitArgs {
    fn limits(&self) -> StringLimits {
        StringLimits {
            user_name_chars_max: self.user_name_chars_max,
            display_name_chars_max: self.display_name_chars_max,
            group_name_chars_max: self.group_name_chars_max,
            name_part_chars_max: self.name_part_chars_max,
            email_chars_max: self.email_chars_max,
            external_id_chars_max: self.external_id_chars_max,
            string_chars_max: self.string_chars_max,
        }
    }
}

impl ServeArgs {
    fn limits(&self) -> Limits {
        Limits {
            body_bytes_max: self.body_bytes_max,
            filter: FilterLimits {
                len_max: self.filter_len_max,
                depth_max: self.filter_depth_max,
            },
            page_size_default: self.page_size_default.min(self.page_size_max),
            page_size_max: self.page_size_max,
            patch_operations_max: self.patch_operations_max,
            commit_batch_max: self.commit_batch_max,
            write_queue_max: self.write_queue_max,
            attribute_values_max: self.attribute_values_max,
            strings: self.strings.limits(),
            attribute_paths_max: self.attribute_paths_max,
            password_hash_concurrency_max: self.password_hash_concurrency_max.max(1),
            connections_max: self.connections_max.max(1),
            request_read_timeout_ms: self.request_read_timeout_ms,
            db_cache_bytes: self.db_cache_bytes,
            oauth_token_ttl_seconds: self.oauth_token_ttl_seconds.max(1),
            reconcile_full_pass_seconds: self.reconcile_full_pass_seconds.max(1),
            reconcile_delay_ms: self.reconcile_delay_ms,
            session_absolute_seconds: self.session_absolute_seconds.max(1),
            session_idle_seconds: self.session_idle_seconds.max(1),
            device_code_seconds: self.device_code_seconds.max(1),
            device_pending_per_directory_max: self.device_pending_per_directory_max,
            cli_refresh_seconds: self.cli_refresh_seconds,
            signin_attempts_per_source_per_minute: self.signin_attempts_per_source_per_minute,
            signin_attempts_per_user_per_minute: self.signin_attempts_per_user_per_minute,
            keep_alive_idle_ms: self.keep_alive_idle_ms.max(1),
            connections_per_source_max: self.connections_per_source_max.max(1),
            http2_streams_max: self.http2_streams_max.max(1),
            request_bodies_bytes_max: self.request_bodies_bytes_max.max(1),
            uri_bytes_max: self.uri_bytes_max.max(1),
            header_bytes_max: self.header_bytes_max.max(1),
            headers_count_max: self.headers_count_max.max(1),
            api_nonces_per_key_max: self.api_nonces_per_key_max.max(1),
            ready_lag_events_max: self.ready_lag_events_max,
            ready_lag_seconds_max: self.ready_lag_seconds_max,
            audit_retention_seconds: self
                .audit_retention_seconds
                .unwrap_or(self.audit_retention_days.max(1).saturating_mul(86_400)),
            audit_prune_interval_ms: self.audit_prune_interval_ms.max(1),
        }
    }
}

/// stderr that drops what it cannot write: a closed stderr must not take requests down
/// (tracing-subscriber reports a failed write with `eprintln!`, which panics).
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Installs the log subscriber (filter from `CLOUDSSO_LOG`, default `info`). Log lines (one
/// a request) go through a channel to a thread that writes them in batches: a request never
/// waits on stderr, and a burst costs one write, not one a line. Not lossy: a full channel
/// (128k lines) slows requests down rather than dropping lines. The returned guard flushes
/// what is left when dropped.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let (log_writer, flush) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("cloudsso-log")
        .finish(std::io::BufWriter::new(LossyStderr));
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOUDSSO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(log_writer);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // Every span of the line (the outer `request` span carries `request_id`), the
        // innermost also as `span`.
        LogFormat::Json => builder
            .json()
            .with_span_list(true)
            .with_current_span(true)
            .init(),
    }
    flush
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    // `serve` is declared with derive; the client's subcommands are built from the catalog.
    let matches = Cli::command()
        .subcommands(cloudsso::cli::commands())
        .get_matches();
    if let Some((name, sub)) = matches.subcommand()
        && !LOCAL_COMMANDS.contains(&name)
    {
        let _log_flush = init_logging(LogFormat::Text);
        if let Some(("verify", v)) = sub.subcommand()
            && name == cloudsso::cli::AUDIT_COMMAND
        {
            return Ok(audit_verify(v));
        }
        return Ok(cloudsso::cli::run(name, sub));
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Serve(args) => {
            let _log_flush = init_logging(args.log_format);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(serve(*args))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Backup(args) => backup(&args),
        Command::Restore(args) => restore(&args),
    }
}

/// `cloudsso backup`: prints the manifest.
fn backup(args: &BackupArgs) -> anyhow::Result<std::process::ExitCode> {
    let m = cloudsso::backup::backup(&args.data, &args.out)
        .with_context(|| format!("backing up `{}`", args.data.display()))?;
    print_json(&m);
    Ok(std::process::ExitCode::SUCCESS)
}

/// Prints a manifest to stdout (a closed stdout is not an error: the work is done).
fn print_json(m: &cloudsso::backup::Manifest) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(m).unwrap_or_default();
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// `cloudsso restore`: prints the manifest, and says when seal.key is still missing.
fn restore(args: &RestoreArgs) -> anyhow::Result<std::process::ExitCode> {
    let r = cloudsso::backup::restore(&args.from, &args.data, args.force)
        .with_context(|| format!("restoring `{}`", args.from.display()))?;
    print_json(&r.manifest);
    if !r.seal_key_present {
        eprintln!(
            "restored; now copy the seal.key of the backed-up server into `{}` (fingerprint {}): the server refuses to start without it",
            args.data.display(),
            r.manifest
                .seal_key_fingerprint
                .as_deref()
                .unwrap_or("none recorded")
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The TLS acceptor of `--tls-cert`/`--tls-key`, or `None` for plain HTTP (clap lets
/// through both flags or neither).
/// `cloudsso audit verify --data DIR`: checks the audit chain of a stopped server's database;
/// exit code 0 when it holds, 1 when it is broken or cannot be read.
fn audit_verify(m: &clap::ArgMatches) -> std::process::ExitCode {
    use std::io::Write;
    let data = m
        .get_one::<PathBuf>("data")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("./data"));
    let file = data.join(cloudsso::app::DB_FILE);
    let (text, ok) = match cloudsso::audit::verify_file(&file) {
        Ok(r) => cloudsso::audit::describe(&r),
        Err(e @ cloudsso::audit::AuditError::NoDatabase(_)) => (format!("{e}\n"), false),
        Err(e) => (
            format!(
                "cannot read {}: {e} (is the server stopped? it locks the file while it runs)\n",
                file.display()
            ),
            false,
        ),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

fn tls_acceptor(args: &ServeArgs) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let read = |path: &PathBuf| {
        std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))
    };
    let acceptor = cloudsso::http::tls::acceptor(&read(cert)?, &read(key)?).with_context(|| {
        format!(
            "TLS with --tls-cert `{}` and --tls-key `{}`",
            cert.display(),
            key.display()
        )
    })?;
    Ok(Some(acceptor))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let limits = args.limits();
    let tls = tls_acceptor(&args)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    let metrics_listener = match args.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding --metrics-listen {addr}"))?,
        ),
        None => None,
    };
    let options = Options {
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{local}")),
        region: args.region.clone(),
        provider_faults: args.provider_faults,
        audit: !args.audit_off,
        audit_log: args.audit_log.clone(),
        engine: !args.engine_off,
    };
    let (app, writer_thread) = App::open(&args.data, limits, options).await?;
    if app.bootstrap(&args.data).await? {
        tracing::info!(file = %args.data.join(cloudsso::app::BOOTSTRAP_FILE).display(), "first start: created a directory, a SCIM credential and an administrator AccessKey; they are in this file");
    }
    // `cloudsso backup` reaches the running server here (no other process can open its file);
    // it listens before the server says it serves.
    let control = cloudsso::backup::control::listen(&args.data, app.db.clone())
        .inspect_err(|e| tracing::warn!(error = %e, "no control socket: `cloudsso backup` cannot reach this server"))
        .ok();
    // Handlers are installed before anyone can learn the address, so no signal is missed.
    let shutdown = shutdown_signal()?;
    tracing::info!(listen = %local, %scheme, scim = %app.scim_base_url, api = %app.api_endpoint, "cloudsso serving");
    // The reconciliation engine runs beside the server and stops with it.
    let app = std::sync::Arc::new(app);
    let engine = app.start_engine();
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let metrics_server = match metrics_listener {
        Some(l) => Some(serve_metrics(l, app.clone(), stopped)?),
        None => None,
    };
    let shutdown = async move {
        shutdown.await;
        let _ = stopping.send(true);
    };
    cloudsso::http::serve_with(listener, app, tls, metrics_server.is_none(), shutdown).await;
    if let Some(m) = metrics_server {
        let _ = m.await;
    }
    if let Some(control) = control {
        control.stop().await;
    }
    engine.stop().await;
    // Every handle to the writer is gone once the server and the app are dropped; the writer
    // drains what is queued and exits.
    let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `/metrics` on `listener` until `stopped` turns true.
fn serve_metrics(
    listener: tokio::net::TcpListener,
    app: std::sync::Arc<App>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    tracing::info!(metrics_listen = %listener.local_addr()?, "metrics served on their own listener");
    Ok(tokio::spawn(cloudsso::http::serve_metrics(
        listener,
        app,
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        },
    )))
}

/// Resolves on SIGINT or SIGTERM. The handlers are registered when this is called.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            tracing::info!("signal received");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("signal received");
        })
    }
}
