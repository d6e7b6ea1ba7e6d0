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
use cloudsso::access::Access;
use cloudsso::access::provider::{EmbeddedProvider, FaultyProvider};
use cloudsso::api::Api;
use cloudsso::config::Limits;
use cloudsso::directory::Directory;
use cloudsso::directory::admins::new_access_key_pair;
use cloudsso::scim::filter::FilterLimits;
use cloudsso::seal::Sealer;
use cloudsso::store::{Store, Writer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CLOUDSSO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data folder (holds the redb database and bootstrap.json); created if missing.
    #[arg(long, env = "CLOUDSSO_DATA", default_value = "./data")]
    data: PathBuf,
    /// Public base URL clients use, for `meta.location` (default: http://<listen>).
    #[arg(long, env = "CLOUDSSO_PUBLIC_URL")]
    public_url: Option<String>,
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
    /// Fault injection for tests and drills: the account provider fails this many role and
    /// SAML provider calls first.
    #[arg(long, env = "CLOUDSSO_PROVIDER_FAULTS", default_value_t = 0)]
    provider_faults: u32,
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
            attribute_paths_max: self.attribute_paths_max,
            password_hash_concurrency_max: self.password_hash_concurrency_max.max(1),
            connections_max: self.connections_max.max(1),
            request_read_timeout_ms: self.request_read_timeout_ms,
            db_cache_bytes: self.db_cache_bytes,
            oauth_token_ttl_seconds: self.oauth_token_ttl_seconds.max(1),
            reconcile_full_pass_seconds: self.reconcile_full_pass_seconds.max(1),
            reconcile_delay_ms: self.reconcile_delay_ms,
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

fn main() -> anyhow::Result<std::process::ExitCode> {
    // Log lines (one a request) go through a channel to a thread that writes them in batches:
    // a request never waits on stderr, and a burst costs one write, not one a line. Not lossy:
    // a full channel (128k lines) slows requests down rather than dropping lines. The guard
    // flushes what is left when `main` returns.
    let (log_writer, _log_flush) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("cloudsso-log")
        .finish(std::io::BufWriter::new(LossyStderr));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLOUDSSO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(log_writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // `serve` is declared with derive; the client's subcommands are built from the catalog.
    let matches = Cli::command()
        .subcommands(cloudsso::cli::commands())
        .get_matches();
    if let Some((name, sub)) = matches.subcommand()
        && name != "serve"
    {
        return Ok(cloudsso::cli::run(name, sub));
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Serve(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(serve(args))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let limits = args.limits();
    let limits_full_pass = limits.reconcile_full_pass_seconds;
    let reconcile_delay = std::time::Duration::from_millis(limits.reconcile_delay_ms);
    create_private_dir(&args.data)?;
    let db_path = args.data.join("cloudsso.redb");
    let new_db = !db_path.exists();
    let store =
        Store::open_with_cache(&db_path, limits.db_cache_bytes).context("opening the database")?;
    if new_db {
        set_private(&db_path, 0o600)?;
    }
    let (writer, writer_thread) = Writer::start(
        store.clone(),
        limits.commit_batch_max,
        limits.write_queue_max,
    )?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    let public = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let scim_base_url = format!("{}/scim/v2", public.trim_end_matches('/'));
    let directory = Directory::new(store, writer, limits, scim_base_url.clone());
    directory.set_sealer(load_seal_key(&directory, &args.data).await?);
    let api_endpoint = public.trim_end_matches('/').to_owned();
    bootstrap(&directory, &args.data, &scim_base_url, &api_endpoint).await?;
    let account = directory.account_id().await?;
    let provider = std::sync::Arc::new(FaultyProvider::new(std::sync::Arc::new(
        EmbeddedProvider::new(directory.clone()),
    )));
    if args.provider_faults > 0 {
        tracing::warn!(
            count = args.provider_faults,
            "fault injection: the account provider fails its first calls"
        );
        provider.fail_next(args.provider_faults);
    }
    let access = Access::with_provider(directory.clone(), provider);
    let api = std::sync::Arc::new(Api::with_access(
        directory,
        access,
        args.region.clone(),
        account,
    ));
    // Handlers are installed before anyone can learn the address, so no signal is missed.
    let shutdown = shutdown_signal()?;
    tracing::info!(listen = %local, scim = %scim_base_url, api = %api_endpoint, "cloudsso serving");
    // The reconciliation engine runs beside the server and stops with it.
    let (stop_engine, engine_stopped) = tokio::sync::oneshot::channel::<()>();
    let access = api.access().clone();
    let full_pass = std::time::Duration::from_secs(limits_full_pass);
    let engine = tokio::spawn(async move {
        access
            .run_engine(full_pass, reconcile_delay, async {
                let _ = engine_stopped.await;
            })
            .await;
    });
    cloudsso::http::serve(listener, api, shutdown).await;
    let _ = stop_engine.send(());
    let _ = engine.await;
    // Every handle to the writer is gone once the server and directory are dropped; the
    // writer drains what is queued and exits.
    let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    tracing::info!("stopped");
    Ok(())
}

/// The key that seals AccessKey secrets: `<data>/seal.key` (32 bytes, mode 0600), made on
/// first start. Refuses to start when it is missing but AccessKeys exist (they would be
/// unreadable under a new key).
async fn load_seal_key(directory: &Directory, data: &Path) -> anyhow::Result<Sealer> {
    let path = data.join("seal.key");
    if path.exists() {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        return Sealer::new(&bytes).with_context(|| format!("{}", path.display()));
    }
    if directory.has_admins().await? {
        anyhow::bail!(
            "{} is missing but the database holds AccessKeys sealed under it; restore the file",
            path.display()
        );
    }
    let key = Sealer::new_key();
    let tmp = data.join("seal.key.tmp");
    write_private(&tmp, &key)?;
    std::fs::rename(&tmp, &path)?;
    Ok(Sealer::new(&key)?)
}

/// First start: creates the directory, its SCIM credential and the first administrator's
/// AccessKey pair, and writes them to `bootstrap.json` (mode 0600). The file is written to a
/// temporary name before the commits and renamed after, so a crash in between is finished by
/// the next start; a start that makes nothing never rewrites it (a store from before the
/// management API gets its administrator added to the file).
async fn bootstrap(
    directory: &Directory,
    data: &Path,
    scim_base_url: &str,
    api_endpoint: &str,
) -> anyhow::Result<()> {
    let path = data.join("bootstrap.json");
    let tmp = data.join("bootstrap.json.tmp");
    let need_directory = directory.is_empty().await?;
    let need_admin = !directory.has_admins().await?;
    if !need_directory && !need_admin {
        // INVARIANT: the temporary file always holds everything the final one does.
        if tmp.exists() {
            std::fs::rename(&tmp, &path)?;
        }
        return Ok(());
    }
    let previous = if tmp.exists() { &tmp } else { &path };
    let mut doc: serde_json::Map<String, serde_json::Value> = std::fs::read(previous)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let directory_id = cloudsso::model::new_prefixed_id("d-", 14);
    let secret = cloudsso::directory::new_secret();
    let (key_id, key_secret) = new_access_key_pair();
    if need_directory {
        doc.insert("directory_id".into(), directory_id.clone().into());
        doc.insert("scim_base_url".into(), scim_base_url.into());
        doc.insert("scim_token".into(), secret.clone().into());
    }
    if need_admin {
        doc.insert("api_endpoint".into(), api_endpoint.into());
        doc.insert("admin_access_key_id".into(), key_id.clone().into());
        doc.insert("admin_access_key_secret".into(), key_secret.clone().into());
    }
    write_private(&tmp, &serde_json::to_vec_pretty(&doc)?)?;
    if need_directory {
        directory.bootstrap(directory_id, secret).await?;
    }
    if need_admin {
        directory.bootstrap_admin(key_id, key_secret).await?;
    }
    std::fs::rename(&tmp, &path)?;
    tracing::info!(file = %path.display(), "first start: created a directory, a SCIM credential and an administrator AccessKey; they are in this file");
    Ok(())
}

/// Creates the data folder readable by its owner only (it holds personal data and password
/// hashes); an existing folder keeps its permissions.
fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    set_private(path, 0o700)
}

fn set_private(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting permissions of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
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
