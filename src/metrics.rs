//! The process's metrics in Prometheus' model (`prometheus-client`): one `Metrics` the `App`
//! builds and every part counts into (requests, API calls, the writer's batches, provider
//! failures, sign-ins, SCIM requests per credential, open connections), and `render`, which
//! writes them in the text format with the gauges read at scrape time (`Scrape`).
//! Readiness is judged here too (`Readiness::judge`, pure).
//!
//! Must not do IO, know about hyper, or take a label from client input beyond what is
//! bounded: route classes and API operations are names from fixed tables, SCIM credential
//! labels are at most `METRIC_CREDENTIAL_LABELS_MAX`. Never a user name, a token or a secret.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Most distinct SCIM credential ids labelled; requests of any further credential are
/// counted under `OTHER_CREDENTIAL`.
pub const METRIC_CREDENTIAL_LABELS_MAX: usize = 64;
/// The label of SCIM requests past `METRIC_CREDENTIAL_LABELS_MAX` credentials.
pub const OTHER_CREDENTIAL: &str = "other";
/// The media type of `render`'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What part of the server a request went to (never its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    Scim,
    Api,
    Oauth,
    Portal,
    /// The CLI sign-in protocol (device flow, token, the lists a token opens).
    Device,
    Console,
    Metrics,
    Health,
    Other,
}

impl RouteClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Scim => "scim",
            RouteClass::Api => "api",
            RouteClass::Oauth => "oauth",
            RouteClass::Portal => "portal",
            RouteClass::Device => "device",
            RouteClass::Console => "console",
            RouteClass::Metrics => "metrics",
            RouteClass::Health => "health",
            RouteClass::Other => "other",
        }
    }
}

/// How a sign-in step ended, as `signin::flow` decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigninOutcome {
    /// A right password, and the session is active.
    Success,
    /// A right password; the password must be changed first.
    PasswordChangeRequired,
    /// A right password; an MFA code (or enrollment) is required.
    MfaRequired,
    /// A wrong password, an unknown or disabled user, or one without a password.
    BadPassword,
    /// The user is locked out after too many failures.
    Locked,
    /// Refused before the password was looked at (rate limit, network, service off, SSO).
    Refused,
    /// A wrong MFA code.
    MfaFailed,
    /// A right MFA code (verification or enrollment).
    MfaSuccess,
    /// A SAML sign-in from the directory's IdP accepted: the session is active.
    SamlSuccess,
    /// A SAML response refused (signature, claims, replay, unknown or disabled user).
    SamlRefused,
}

impl SigninOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SigninOutcome::Success => "success",
            SigninOutcome::PasswordChangeRequired => "password_change_required",
            SigninOutcome::MfaRequired => "mfa_required",
            SigninOutcome::BadPassword => "bad_password",
            SigninOutcome::Locked => "locked",
            SigninOutcome::Refused => "refused",
            SigninOutcome::MfaFailed => "mfa_failed",
            SigninOutcome::MfaSuccess => "mfa_success",
            SigninOutcome::SamlSuccess => "saml_success",
            SigninOutcome::SamlRefused => "saml_refused",
        }
    }
}

/// Access tasks by state, as counted at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    pub in_progress: u64,
    pub success: u64,
    pub failed: u64,
    /// The count stopped at its bound (`access::engine::TASKS_COUNTED_MAX`).
    pub truncated: bool,
}

/// The reconciliation engine's place behind the outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lag {
    /// The newest outbox event's sequence number.
    pub head: u64,
    /// The last event the engine handled.
    pub cursor: u64,
    /// Age of the oldest event not yet handled (zero when none).
    pub oldest: Duration,
}

impl Lag {
    pub fn events(&self) -> u64 {
        self.head.saturating_sub(self.cursor)
    }
}

/// The gauges read at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scrape {
    pub db_bytes: u64,
    pub writer_queue_jobs: usize,
    pub lag: Lag,
    pub tasks: TaskCounts,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    operation: String,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CredentialLabel {
    credential: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

fn seconds_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every series, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabel, Histogram, fn() -> Histogram>,
    api_calls: Family<ApiLabels, Counter>,
    batch_jobs: Histogram,
    commit_seconds: Histogram,
    queue_jobs: Gauge,
    outbox_head: Gauge,
    engine_cursor: Gauge,
    lag_events: Gauge,
    lag_seconds: FloatGauge,
    tasks: Family<StateLabel, Gauge>,
    tasks_truncated: Gauge,
    provider_failures: Family<OperationLabel, Counter>,
    signins: Family<OutcomeLabel, Counter>,
    scim_requests: Family<CredentialLabel, Counter>,
    /// Credential labels handed out (at most `METRIC_CREDENTIAL_LABELS_MAX`).
    credential_labels: AtomicUsize,
    db_bytes: Gauge,
    connections: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(seconds_histogram),
            api_calls: Family::default(),
            // 1 to 1024 jobs.
            batch_jobs: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            // 0.1 ms to about 3 s.
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            queue_jobs: Gauge::default(),
            outbox_head: Gauge::default(),
            engine_cursor: Gauge::default(),
            lag_events: Gauge::default(),
            lag_seconds: FloatGauge::default(),
            tasks: Family::default(),
            tasks_truncated: Gauge::default(),
            provider_failures: Family::default(),
            signins: Family::default(),
            scim_requests: Family::default(),
            credential_labels: AtomicUsize::new(0),
            db_bytes: Gauge::default(),
            connections: Gauge::default(),
        };
        m.register_all();
        m
    }

    fn register_all(&mut self) {
        self.register_edge();
        self.register_store();
        self.register_domain();
    }

    /// What the HTTP edge counts.
    fn register_edge(&mut self) {
        let r = &mut self.registry;
        r.register(
            "cloudsso_http_requests",
            "HTTP requests answered, by route class and status",
            self.requests.clone(),
        );
        r.register_with_unit(
            "cloudsso_http_request_duration",
            "Time to answer an HTTP request, by route class",
            Unit::Seconds,
            self.request_seconds.clone(),
        );
        r.register(
            "cloudsso_api_calls",
            "Management API calls, by operation and result class (2xx, 4xx, 5xx)",
            self.api_calls.clone(),
        );
        r.register(
            "cloudsso_connections_open",
            "Open client connections",
            self.connections.clone(),
        );
    }

    /// The store, the writer and the engine's place in the outbox.
    fn register_store(&mut self) {
        let r = &mut self.registry;
        r.register_with_unit(
            "cloudsso_database_size",
            "Size of the database file",
            Unit::Bytes,
            self.db_bytes.clone(),
        );
        r.register(
            "cloudsso_writer_batch_jobs",
            "Write jobs committed per transaction (group commit)",
            self.batch_jobs.clone(),
        );
        r.register_with_unit(
            "cloudsso_writer_commit_duration",
            "Time of one durable commit of a batch",
            Unit::Seconds,
            self.commit_seconds.clone(),
        );
        r.register(
            "cloudsso_writer_queue_jobs",
            "Write jobs waiting for the writer",
            self.queue_jobs.clone(),
        );
        r.register(
            "cloudsso_outbox_head_sequence",
            "Sequence number of the newest change event",
            self.outbox_head.clone(),
        );
        r.register(
            "cloudsso_engine_cursor_sequence",
            "Sequence number of the last change event the reconciliation engine handled",
            self.engine_cursor.clone(),
        );
        r.register(
            "cloudsso_engine_lag_events",
            "Change events the reconciliation engine has not handled yet",
            self.lag_events.clone(),
        );
        r.register_with_unit(
            "cloudsso_engine_lag",
            "Age of the oldest change event the reconciliation engine has not handled",
            Unit::Seconds,
            self.lag_seconds.clone(),
        );
    }

    /// Tasks, provider failures, sign-ins and SCIM requests.
    fn register_domain(&mut self) {
        let r = &mut self.registry;
        r.register(
            "cloudsso_access_tasks",
            "Access provisioning tasks kept, by state",
            self.tasks.clone(),
        );
        r.register(
            "cloudsso_access_tasks_count_truncated",
            "1 when the task count stopped at its bound",
            self.tasks_truncated.clone(),
        );
        r.register(
            "cloudsso_provider_failures",
            "Failed calls to the account provider, by operation",
            self.provider_failures.clone(),
        );
        r.register(
            "cloudsso_signins",
            "Portal sign-in steps, by outcome",
            self.signins.clone(),
        );
        r.register(
            "cloudsso_scim_requests",
            "Authenticated SCIM requests, by credential id (`other` past the label bound)",
            self.scim_requests.clone(),
        );
    }

    /// One answered HTTP request.
    pub fn request(&self, route: RouteClass, status: u16, took: Duration) {
        let route = route.as_str();
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabel { route })
            .observe(took.as_secs_f64());
    }

    /// One management API call: `operation` is a catalog name (or `unknown`), never client
    /// text.
    pub fn api_call(&self, operation: &str, status: u16) {
        let result = match status {
            200..=299 => "2xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let labels = ApiLabels {
            operation: operation.to_owned(),
            result,
        };
        self.api_calls.get_or_create(&labels).inc();
    }

    /// One committed (or rolled back) batch of `jobs` write jobs whose commit took `took`.
    pub fn writer_batch(&self, jobs: usize, took: Duration) {
        self.batch_jobs.observe(jobs as f64);
        self.commit_seconds.observe(took.as_secs_f64());
    }

    /// A failed call to the account provider.
    pub fn provider_failure(&self, operation: &'static str) {
        self.provider_failures
            .get_or_create(&OperationLabel { operation })
            .inc();
    }

    pub fn signin(&self, outcome: SigninOutcome) {
        let outcome = outcome.as_str();
        self.signins.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// An authenticated SCIM request of `credential` (its id, not a secret).
    pub fn scim_request(&self, credential: &str) {
        let labels = CredentialLabel {
            credential: credential.to_owned(),
        };
        if let Some(c) = self.scim_requests.get(&labels) {
            c.inc();
            return;
        }
        let max = METRIC_CREDENTIAL_LABELS_MAX;
        let reserved = self
            .credential_labels
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        let labels = if reserved {
            labels
        } else {
            CredentialLabel {
                credential: OTHER_CREDENTIAL.to_owned(),
            }
        };
        self.scim_requests.get_or_create(&labels).inc();
    }

    /// Counts an open connection until the returned guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection {
        self.connections.inc();
        OpenConnection(self.connections.clone())
    }

    /// The text exposition, with the gauges of `s`.
    pub fn render(&self, s: &Scrape) -> String {
        self.db_bytes
            .set(i64::try_from(s.db_bytes).unwrap_or(i64::MAX));
        self.queue_jobs
            .set(i64::try_from(s.writer_queue_jobs).unwrap_or(i64::MAX));
        self.outbox_head.set(gauge_u64(s.lag.head));
        self.engine_cursor.set(gauge_u64(s.lag.cursor));
        self.lag_events.set(gauge_u64(s.lag.events()));
        self.lag_seconds.set(s.lag.oldest.as_secs_f64());
        let t = &s.tasks;
        for (state, n) in [
            ("in_progress", t.in_progress),
            ("success", t.success),
            ("failed", t.failed),
        ] {
            self.tasks
                .get_or_create(&StateLabel { state })
                .set(gauge_u64(n));
        }
        self.tasks_truncated.set(i64::from(t.truncated));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn gauge_u64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An open connection, counted until dropped.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The thresholds of readiness (`--ready-lag-events-max`, `--ready-lag-seconds-max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyLimits {
    pub lag_events_max: u64,
    pub lag_seconds_max: u64,
}

/// What a readiness probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// A read transaction opened.
    pub store: bool,
    /// The writer committed a no-op job within its deadline.
    pub writer: bool,
    /// The reconciliation engine is running.
    pub engine: bool,
    /// The engine's lag, when it could be read.
    pub lag: Option<Lag>,
}

/// One failed readiness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    Store,
    Writer,
    EngineStopped,
    EngineLagEvents,
    EngineLagSeconds,
}

impl NotReady {
    pub fn as_str(self) -> &'static str {
        match self {
            NotReady::Store => "store",
            NotReady::Writer => "writer",
            NotReady::EngineStopped => "engine_stopped",
            NotReady::EngineLagEvents => "engine_lag_events",
            NotReady::EngineLagSeconds => "engine_lag_seconds",
        }
    }
}

/// The readiness verdict.
pub struct Readiness;

impl Readiness {
    /// The checks `probe` fails under `limits` (none: ready). A lag that could not be read
    /// fails both lag checks.
    pub fn judge(probe: &Probe, limits: ReadyLimits) -> Vec<NotReady> {
        let mut failed = Vec::new();
        if !probe.store {
            failed.push(NotReady::Store);
        }
        if !probe.writer {
            failed.push(NotReady::Writer);
        }
        if !probe.engine {
            failed.push(NotReady::EngineStopped);
        }
        let lag = probe.lag.as_ref();
        if lag.is_none_or(|l| l.events() > limits.lag_events_max) {
            failed.push(NotReady::EngineLagEvents);
        }
        if lag.is_none_or(|l| l.oldest.as_secs_f64() > limits.lag_seconds_max as f64) {
            failed.push(NotReady::EngineLagSeconds);
        }
        failed
    }
}

#[cfg(test)]
#[cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing))]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn credential_labels_stop_at_their_bound() {
        let m = Metrics::new();
        let cases: &[(usize, &str, Option<f64>)] = &[
            // (credentials used once each, series, expected count)
            (
                METRIC_CREDENTIAL_LABELS_MAX,
                "cloudsso_scim_requests_total{credential=\"other\"}",
                None,
            ),
            (
                METRIC_CREDENTIAL_LABELS_MAX + 3,
                "cloudsso_scim_requests_total{credential=\"other\"}",
                Some(3.0),
            ),
        ];
        for (n, series, want) in cases {
            let m2 = Metrics::new();
            for i in 0..*n {
                m2.scim_request(&format!("scimcred-{i}"));
            }
            let text = m2.render(&Scrape::default());
            assert_eq!(sample(&text, series), *want, "{n} credentials");
            let labelled = text
                .matches("cloudsso_scim_requests_total{credential=\"scimcred-")
                .count();
            assert_eq!(
                labelled,
                METRIC_CREDENTIAL_LABELS_MAX.min(*n),
                "{n} credentials"
            );
        }
        // A known credential keeps its label after the bound is reached.
        for i in 0..=METRIC_CREDENTIAL_LABELS_MAX {
            m.scim_request(&format!("c{i}"));
        }
        m.scim_request("c0");
        let text = m.render(&Scrape::default());
        assert_eq!(
            sample(&text, "cloudsso_scim_requests_total{credential=\"c0\"}"),
            Some(2.0)
        );
    }

    #[test]
    fn readiness_fails_exactly_the_checks_over_their_limits() {
        let limits = ReadyLimits {
            lag_events_max: 10,
            lag_seconds_max: 60,
        };
        let lag = |events: u64, secs: u64| {
            Some(Lag {
                head: 100 + events,
                cursor: 100,
                oldest: Duration::from_secs(secs),
            })
        };
        let cases: Vec<(Probe, Vec<NotReady>)> = vec![
            (
                Probe {
                    store: true,
                    writer: true,
                    engine: true,
                    lag: lag(0, 0),
                },
                vec![],
            ),
            (
                Probe {
                    store: true,
                    writer: true,
                    engine: true,
                    lag: lag(10, 60),
                },
                vec![],
            ),
            (
                Probe {
                    store: true,
                    writer: true,
                    engine: true,
                    lag: lag(11, 0),
                },
                vec![NotReady::EngineLagEvents],
            ),
            (
                Probe {
                    store: true,
                    writer: true,
                    engine: true,
                    lag: lag(1, 61),
                },
                vec![NotReady::EngineLagSeconds],
            ),
            (
                Probe {
                    store: false,
                    writer: true,
                    engine: true,
                    lag: lag(0, 0),
                },
                vec![NotReady::Store],
            ),
            (
                Probe {
                    store: true,
                    writer: false,
                    engine: true,
                    lag: lag(0, 0),
                },
                vec![NotReady::Writer],
            ),
            (
                Probe {
                    store: true,
                    writer: true,
                    engine: true,
                    lag: None,
                },
                vec![NotReady::EngineLagEvents, NotReady::EngineLagSeconds],
            ),
            (
                Probe {
                    store: true,
                    writer: true,
                    engine: false,
                    lag: lag(0, 0),
                },
                vec![NotReady::EngineStopped],
            ),
        ];
        for (probe, want) in cases {
            assert_eq!(Readiness::judge(&probe, limits), want, "{probe:?}");
        }
    }

    #[test]
    fn render_names_every_series_and_ends_the_exposition() {
        let m = Metrics::new();
        m.request(RouteClass::Scim, 201, Duration::from_millis(3));
        m.api_call("cloudsso:ListDirectories", 200);
        m.writer_batch(3, Duration::from_millis(2));
        m.provider_failure("ensure_role");
        m.signin(SigninOutcome::BadPassword);
        let open = m.connection_opened();
        let s = Scrape {
            db_bytes: 4096,
            writer_queue_jobs: 2,
            lag: Lag {
                head: 9,
                cursor: 4,
                oldest: Duration::from_millis(1500),
            },
            tasks: TaskCounts {
                in_progress: 1,
                success: 2,
                failed: 3,
                truncated: false,
            },
        };
        let text = m.render(&s);
        let cases: &[(&str, f64)] = &[
            (
                "cloudsso_http_requests_total{route=\"scim\",status=\"201\"}",
                1.0,
            ),
            (
                "cloudsso_http_request_duration_seconds_count{route=\"scim\"}",
                1.0,
            ),
            (
                "cloudsso_api_calls_total{operation=\"cloudsso:ListDirectories\",result=\"2xx\"}",
                1.0,
            ),
            ("cloudsso_writer_batch_jobs_count", 1.0),
            ("cloudsso_writer_batch_jobs_sum", 3.0),
            ("cloudsso_writer_commit_duration_seconds_count", 1.0),
            ("cloudsso_writer_queue_jobs", 2.0),
            ("cloudsso_outbox_head_sequence", 9.0),
            ("cloudsso_engine_cursor_sequence", 4.0),
            ("cloudsso_engine_lag_events", 5.0),
            ("cloudsso_engine_lag_seconds", 1.5),
            ("cloudsso_access_tasks{state=\"failed\"}", 3.0),
            (
                "cloudsso_provider_failures_total{operation=\"ensure_role\"}",
                1.0,
            ),
            ("cloudsso_signins_total{outcome=\"bad_password\"}", 1.0),
            ("cloudsso_database_size_bytes", 4096.0),
            ("cloudsso_connections_open", 1.0),
        ];
        for (series, want) in cases {
            assert_eq!(sample(&text, series), Some(*want), "{series} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
        drop(open);
        let text = m.render(&s);
        assert_eq!(sample(&text, "cloudsso_connections_open"), Some(0.0));
    }
}
