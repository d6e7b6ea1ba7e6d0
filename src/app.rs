//! The composition root: one function builds the whole application from a data folder and
//! `Limits` (the database, the writer, the sealing key, the directory, administrators, access
//! management over its provider, the management API), and one more makes what a first start
//! needs (`bootstrap.json`). `main`, the integration tests and the benchmarks all build the
//! application here; `http::serve` routes from the `App`.
//!
//! Owns the data folder's files and their permissions. Must not hold business rules: each
//! service decides for itself.

use crate::access::metered::Metered;
use crate::access::provider::{EmbeddedProvider, FaultyProvider};
use crate::access::{Access, ConsoleTrust};
use crate::api::Api;
use crate::api::Ctx;
use crate::config::Limits;
use crate::directory::Directory;
use crate::error::DomainError;
use crate::iam::{self, Iam};
use crate::metrics::{Metrics, Probe, ReadyLimits, Scrape};
use crate::model::DirectoryId;
use crate::seal::Sealer;
use crate::signin::SignIn;
use crate::store::keys::MetaKey;
use crate::store::{Db, Store, StoreError, Writer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The database file inside the data folder.
pub const DB_FILE: &str = "cloudsso.redb";
/// The sealing key of AccessKey secrets, kept beside (not in) the database.
pub const SEAL_KEY_FILE: &str = "seal.key";
/// What a first start made: directory id, SCIM token, the first administrator's AccessKey.
pub const BOOTSTRAP_FILE: &str = "bootstrap.json";

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{action} {}: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is missing but the database holds secrets sealed under it; restore the file",
        .0.display()
    )]
    SealKeyMissing(PathBuf),
    #[error(
        "{} is not the key this database's secrets are sealed under (fingerprint {found}, the database needs {wanted}); put the original file back",
        path.display()
    )]
    SealKeyWrong {
        path: PathBuf,
        found: String,
        wanted: String,
    },
    #[error("{}: {error}", path.display())]
    SealKey {
        path: PathBuf,
        error: crate::seal::SealError,
    },
    #[error("opening the database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// How the application is reached and what it is told beyond its limits.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL clients see (`http://host:port`), for `meta.location` and `bootstrap.json`.
    pub public_url: String,
    /// Region named in ARNs and API answers.
    pub region: String,
    /// Fault injection: the account provider fails this many role and SAML provider calls.
    pub provider_faults: u32,
    /// Whether requests leave audit records (off only for benchmarks).
    pub audit: bool,
    /// A file every committed audit record is appended to, as a JSON line.
    pub audit_log: Option<PathBuf>,
    /// Whether `start_engine` starts the reconciliation engine (off only for drills and tests
    /// of readiness: nothing is provisioned while it is off).
    pub engine: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            public_url: "http://127.0.0.1".into(),
            region: "cn-shanghai".into(),
            provider_faults: 0,
            audit: true,
            audit_log: None,
            engine: true,
        }
    }
}

/// The whole application, built once.
pub struct App {
    pub limits: Limits,
    pub db: Db,
    pub directory: Directory,
    pub iam: Iam,
    pub access: Access,
    /// Sign-in: settings, passwords, MFA, sessions, the portal and console sign-in.
    pub signin: SignIn,
    /// Fault injection into the account provider (`--provider-faults`; tests and drills).
    pub faults: Arc<FaultyProvider>,
    pub api: Api,
    /// `<public-url>/scim/v2`.
    pub scim_base_url: String,
    /// `<public-url>`, where the management API answers.
    pub api_endpoint: String,
    /// The process's metrics (the same the `db` hands the services).
    pub metrics: Arc<Metrics>,
    /// The database file, whose size `scrape` reports.
    pub db_file: PathBuf,
    /// The audit trail's settings, for the edges.
    pub audit: crate::audit::Settings,
    audit_log: Option<PathBuf>,
    /// `Options::engine`.
    engine_on: bool,
}

/// Longest wait for the writer's no-op job in a readiness probe.
pub const READY_WRITER_DEADLINE: Duration = Duration::from_secs(5);

/// The writer's thread: it drains what is queued and exits once every handle to the `Db` is
/// gone (the `App` dropped).
pub struct WriterThread(std::thread::JoinHandle<()>);

impl WriterThread {
    /// Blocks until the writer has exited.
    pub fn join(self) {
        let _ = self.0.join();
    }
}

/// The reconciliation engine and the sign-in sweeper running beside the server.
pub struct EngineTask {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl EngineTask {
    /// Stops the engine after its current round, and the sweeper.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The account provider: the embedded one, behind the fault injector (failing its first
/// `provider_faults` calls, for tests and drills).
fn provider(db: &Db, provider_faults: u32) -> Arc<FaultyProvider> {
    let faults = Arc::new(FaultyProvider::new(Arc::new(EmbeddedProvider::new(
        db.clone(),
    ))));
    if provider_faults > 0 {
        tracing::warn!(
            count = provider_faults,
            "fault injection: the account provider fails its first calls"
        );
        faults.fail_next(provider_faults);
    }
    faults
}

/// What provisioned roles trust: the embedded console's ACS at `public`, and this server's
/// IdP metadata (its signing keys, sealed with `sealer`).
fn console_trust(db: &Db, sealer: &Sealer, public: &str) -> ConsoleTrust {
    ConsoleTrust {
        recipient: crate::signin::saml::ConsoleSite::embedded(public).acs_url,
        metadata: Some(Arc::new(crate::signin::saml::IdpKeys::new(
            db.clone(),
            sealer.clone(),
            public,
        ))),
    }
}

impl App {
    /// Opens (creating if needed) the data folder, readable by its owner only, and builds
    /// every service over it.
    pub async fn open(
        data: &Path,
        limits: Limits,
        options: Options,
    ) -> Result<(App, WriterThread), AppError> {
        create_private_dir(data)?;
        let db_path = data.join(DB_FILE);
        let new_db = !db_path.exists();
        let store = Store::open_with_cache(&db_path, limits.db_cache_bytes)?;
        if new_db {
            set_private(&db_path, 0o600)?;
        }
        let metrics = Arc::new(Metrics::new());
        let (writer, thread) = Writer::start_metered(
            store.clone(),
            limits.commit_batch_max,
            limits.write_queue_max,
            metrics.clone(),
        )
        .map_err(|source| AppError::File {
            action: "starting the writer for",
            path: db_path.clone(),
            source,
        })?;
        let db = Db::with_metrics(store, writer, metrics.clone());
        let sealer = load_seal_key(&db, data).await?;
        let public = options.public_url.trim_end_matches('/').to_owned();
        let scim_base_url = format!("{public}/scim/v2");
        let directory = Directory::new(db.clone(), limits.clone(), scim_base_url.clone());
        let iam = Iam::new(db.clone(), sealer.clone());
        let faults = provider(&db, options.provider_faults);
        let console = console_trust(&db, &sealer, &public);
        let metered = Arc::new(Metered::new(faults.clone(), metrics.clone()));
        let access = Access::with_provider(directory.clone(), metered).with_console(console);
        let signin = SignIn::new(
            db.clone(),
            directory.clone(),
            access.clone(),
            sealer,
            limits.clone(),
            public.clone(),
        );
        let account = iam.account_id().await?;
        let audit_log = options.audit_log.clone();
        let engine_on = options.engine;
        let audit = crate::audit::Settings {
            enabled: options.audit,
            region: options.region.clone(),
            account: account.clone(),
        };
        let api = Api::new(
            Ctx::new(
                directory.clone(),
                access.clone(),
                iam.clone(),
                signin.clone(),
                options.region,
                account,
            ),
            crate::api::start_now(&db, new_db).await?,
            db.clone(),
        );
        let app = App {
            limits,
            db,
            directory,
            iam,
            access,
            signin,
            faults,
            api,
            scim_base_url,
            api_endpoint: public,
            metrics,
            db_file: db_path,
            audit,
            audit_log,
            engine_on,
        };
        Ok((app, WriterThread(thread)))
    }

    /// Starts the reconciliation engine (full pass and delay from the limits; unless
    /// `Options::engine` is off), the sign-in sweeper and outbox follower, the audit pruner
    /// and the audit log writer.
    pub fn start_engine(&self) -> EngineTask {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        if self.engine_on {
            let access = self.access.clone();
            let full_pass = Duration::from_secs(self.limits.reconcile_full_pass_seconds);
            let delay = Duration::from_millis(self.limits.reconcile_delay_ms);
            let mut engine_stop = stopped.clone();
            tasks.push(tokio::spawn(async move {
                access
                    .run_engine(full_pass, delay, async move {
                        let _ = engine_stop.wait_for(|s| *s).await;
                    })
                    .await;
            }));
        } else {
            tracing::warn!("the reconciliation engine is off: nothing is provisioned");
        }
        let signin = self.signin.clone();
        let mut sweeper_stop = stopped;
        let sweeper = tokio::spawn(async move {
            signin
                .run_sweeper(async move {
                    let _ = sweeper_stop.wait_for(|s| *s).await;
                })
                .await;
        });
        let signin = self.signin.clone();
        let mut follower_stop = stop.subscribe();
        let follower = tokio::spawn(async move {
            signin
                .run_follower(async move {
                    let _ = follower_stop.wait_for(|s| *s).await;
                })
                .await;
        });
        let db = self.db.clone();
        let retention = Duration::from_secs(self.limits.audit_retention_seconds);
        let every = Duration::from_millis(self.limits.audit_prune_interval_ms.max(1));
        let mut pruner_stop = stop.subscribe();
        let pruner = tokio::spawn(async move {
            crate::audit::retention::run_pruner(db, retention, every, async move {
                let _ = pruner_stop.wait_for(|s| *s).await;
            })
            .await;
        });
        tasks.extend([sweeper, follower, pruner]);
        if let Some(path) = self.audit_log.clone() {
            let db = self.db.clone();
            let mut log_stop = stop.subscribe();
            tasks.push(tokio::spawn(async move {
                crate::audit::stream::run(db, path, async move {
                    let _ = log_stop.wait_for(|s| *s).await;
                })
                .await;
            }));
        }
        EngineTask { stop, tasks }
    }

    /// The gauges read at scrape time: the database file's size, the write queue, the
    /// engine's lag and the access tasks by state (a bounded count).
    pub async fn scrape(&self) -> Result<Scrape, DomainError> {
        Ok(Scrape {
            db_bytes: std::fs::metadata(&self.db_file).map_or(0, |m| m.len()),
            writer_queue_jobs: self.db.write_queue_depth(),
            lag: self.access.lag().await?,
            tasks: self.access.task_counts().await?,
        })
    }

    /// What readiness is judged on: a read transaction opens, the writer commits a no-op
    /// job within `READY_WRITER_DEADLINE`, the engine runs, the engine's lag.
    pub async fn probe(&self) -> Probe {
        let writer = tokio::time::timeout(READY_WRITER_DEADLINE, self.db.ping_writer()).await;
        Probe {
            store: self.db.can_read(),
            writer: matches!(writer, Ok(Ok(()))),
            engine: self.access.engine_running(),
            lag: self.access.lag().await.ok(),
        }
    }

    /// The readiness thresholds of the limits.
    pub fn ready_limits(&self) -> ReadyLimits {
        ReadyLimits {
            lag_events_max: self.limits.ready_lag_events_max,
            lag_seconds_max: self.limits.ready_lag_seconds_max,
        }
    }

    /// First start: creates the directory, its SCIM credential and the first administrator's
    /// AccessKey pair, and writes them to `bootstrap.json` (mode 0600). The file is written to
    /// a temporary name before the commits and renamed after, so a crash in between is finished
    /// by the next start; a start that makes nothing never rewrites it (a store from before the
    /// management API gets its administrator added to the file). Returns whether it made
    /// anything.
    pub async fn bootstrap(&self, data: &Path) -> Result<bool, AppError> {
        let path = data.join(BOOTSTRAP_FILE);
        let tmp = data.join(format!("{BOOTSTRAP_FILE}.tmp"));
        let need_directory = self.directory.is_empty().await?;
        let need_admin = !self.iam.has_admins().await?;
        if !need_directory && !need_admin {
            // INVARIANT: the temporary file always holds everything the final one does.
            if tmp.exists() {
                rename(&tmp, &path)?;
            }
            return Ok(false);
        }
        let previous = if tmp.exists() { &tmp } else { &path };
        let mut doc: serde_json::Map<String, serde_json::Value> = std::fs::read(previous)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let directory_id = DirectoryId::new(crate::model::new_prefixed_id("d-", 14));
        let secret = crate::directory::new_secret();
        let (key_id, key_secret) = iam::new_access_key_pair();
        if need_directory {
            doc.insert("directory_id".into(), directory_id.as_str().into());
            doc.insert("scim_base_url".into(), self.scim_base_url.clone().into());
            doc.insert("scim_token".into(), secret.clone().into());
        }
        if need_admin {
            doc.insert("api_endpoint".into(), self.api_endpoint.clone().into());
            doc.insert("admin_access_key_id".into(), key_id.clone().into());
            doc.insert("admin_access_key_secret".into(), key_secret.clone().into());
        }
        let bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        write_private(&tmp, &bytes)?;
        if need_directory {
            self.directory.bootstrap(directory_id, secret).await?;
        }
        if need_admin {
            self.iam.bootstrap_admin(key_id, key_secret).await?;
        }
        rename(&tmp, &path)?;
        Ok(true)
    }
}

/// The key that seals AccessKey secrets, TOTP and IdP keys: `<data>/seal.key` (32 bytes, mode
/// 0600), made on first start. Its fingerprint is recorded in the database (`meta`), so a start
/// without the key or with another one is refused (sealed secrets would not open) instead of
/// failing on use; a database from before the record refuses a missing key when AccessKeys
/// exist, and records the key it finds.
async fn load_seal_key(db: &Db, data: &Path) -> Result<Sealer, AppError> {
    let path = data.join(SEAL_KEY_FILE);
    let recorded = recorded_seal_fingerprint(db).await?;
    let key = if path.exists() {
        std::fs::read(&path).map_err(|source| AppError::File {
            action: "reading",
            path: path.clone(),
            source,
        })?
    } else if recorded.is_some() || iam::has_admins(db).await? {
        return Err(AppError::SealKeyMissing(path));
    } else {
        new_seal_key(data, &path)?
    };
    let sealer = Sealer::new(&key).map_err(|e| AppError::SealKey {
        path: path.clone(),
        error: e,
    })?;
    let found = crate::seal::fingerprint(&key);
    match recorded {
        Some(wanted) if wanted != found => Err(AppError::SealKeyWrong {
            path,
            found,
            wanted,
        }),
        Some(_) => Ok(sealer),
        None => {
            db.write(move |txn| Ok::<_, DomainError>(txn.put(SEAL_FINGERPRINT, &found)?))
                .await?;
            Ok(sealer)
        }
    }
}

/// Where the fingerprint of the sealing key is recorded in `meta`.
const SEAL_FINGERPRINT: MetaKey<'static> = MetaKey {
    name: "seal_key_fingerprint",
};

async fn recorded_seal_fingerprint(db: &Db) -> Result<Option<String>, AppError> {
    Ok(db
        .read(|txn| Ok::<_, DomainError>(txn.get::<String>(SEAL_FINGERPRINT)?))
        .await?)
}

/// A new random key, written durably (owner-only) under a temporary name then renamed.
fn new_seal_key(data: &Path, path: &Path) -> Result<Vec<u8>, AppError> {
    let key = Sealer::new_key();
    let tmp = data.join(format!("{SEAL_KEY_FILE}.tmp"));
    write_private(&tmp, &key)?;
    rename(&tmp, path)?;
    Ok(key.to_vec())
}

/// Creates the data folder readable by its owner only (it holds personal data and password
/// hashes); an existing folder keeps its permissions.
fn create_private_dir(path: &Path) -> Result<(), AppError> {
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path).map_err(|source| AppError::File {
        action: "creating",
        path: path.to_owned(),
        source,
    })?;
    set_private(path, 0o700)
}

fn set_private(path: &Path, mode: u32) -> Result<(), AppError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
            |source| AppError::File {
                action: "setting permissions of",
                path: path.to_owned(),
                source,
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Writes a file readable by its owner only, durably.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    opts.open(path)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|source| AppError::File {
            action: "writing",
            path: path.to_owned(),
            source,
        })
}

fn rename(from: &Path, to: &Path) -> Result<(), AppError> {
    std::fs::rename(from, to).map_err(|source| AppError::File {
        action: "renaming",
        path: from.to_owned(),
        source,
    })
}
