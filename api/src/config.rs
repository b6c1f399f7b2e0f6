//! Typed configuration, read once from the environment (and `.env` when present).

use std::time::Duration;

use crate::telemetry::LogFormat;

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    /// Longest a request waits for a database connection before it is answered 503.
    pub database_acquire_timeout: Duration,
    pub nats_url: String,
    /// JetStream stream of the integration feed and the prefix of its subjects.
    pub nats_stream: String,
    pub nats_subject_prefix: String,
    pub bind: String,
    /// Some: every request acts as this identity (development only).
    pub dev_identity: Option<DevIdentity>,
    pub azure: AzureSettings,
    pub app_public_url: String,
    pub mailgun: MailgunSettings,
    pub max_upload_bytes: usize,
    /// A snapshot of an opportunity is written every this many events.
    pub snapshot_every: usize,
    pub projector_interval: Duration,
    /// offline (default) or, later, anthropic.
    pub llm_provider: String,
    /// Agent workers run inside `serve` (0: run `osop worker` separately).
    pub workers_in_process: usize,
    /// Deliveries of an agent request before its run is recorded as failed.
    pub agent_max_deliver: i64,
    /// How long an agent request may go unacknowledged (a killed worker's run is redelivered
    /// after this); a live worker extends it with heartbeats.
    pub agent_ack_wait: Duration,
    /// How log lines are written (`LOG_FORMAT`: text, the default, or json).
    pub log_format: LogFormat,
    /// Some: `GET /metrics` wants `Authorization: Bearer <token>`; None: it is open (private network).
    pub metrics_token: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DevIdentity {
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Clone, Debug)]
pub struct AzureSettings {
    pub tenant_id: String,
    pub client_id: String,
    /// Where the signing keys are published; defaults to the tenant's Entra ID JWKS.
    pub jwks_url: String,
    pub issuer: String,
    /// Fewest seconds between two JWKS fetches triggered by unknown key ids.
    pub jwks_min_refetch: Duration,
}

#[derive(Clone, Debug, Default)]
pub struct MailgunSettings {
    pub api_key: String,
    pub domain: String,
    pub from: String,
    pub base_url: String,
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_string())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// Where `scripts/stack up` writes the URLs of its private servers.
fn stack_env_file() -> std::path::PathBuf {
    let dir =
        std::env::var_os("OSOP_STACK_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| ".stack".into());
    dir.join("osop.env")
}

impl Settings {
    pub fn from_env() -> Self {
        // The local stack's URLs (written by `scripts/stack up` while its private servers run)
        // come before `.env`; variables already in the environment win over both.
        let _ = dotenvy::from_path(stack_env_file());
        let _ = dotenvy::dotenv();
        let tenant_id = var("AZURE_TENANT_ID", "common");
        let bypass = matches!(var("DEV_AUTH_BYPASS", "false").to_lowercase().as_str(), "true" | "1" | "yes");
        Self {
            database_url: var("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/osop"),
            database_acquire_timeout: Duration::from_millis(number("DATABASE_ACQUIRE_TIMEOUT_MS", 3_000)),
            nats_url: var("NATS_URL", "nats://127.0.0.1:4222"),
            nats_stream: var("NATS_EVENTS_STREAM", "OSOP_EVENTS"),
            nats_subject_prefix: var("NATS_SUBJECT_PREFIX", "osop"),
            bind: var("BIND", "127.0.0.1:8003"),
            dev_identity: bypass.then(|| DevIdentity {
                email: var("DEV_AUTH_EMAIL", "admin@oliver.agency"),
                name: var("DEV_AUTH_NAME", "OSOP Admin"),
                role: var("DEV_AUTH_ROLE", "admin"),
            }),
            azure: AzureSettings {
                jwks_url: var(
                    "AZURE_JWKS_URL",
                    &format!("https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys"),
                ),
                issuer: format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
                client_id: var("AZURE_CLIENT_ID", ""),
                tenant_id,
                jwks_min_refetch: Duration::from_secs(number("AZURE_JWKS_MIN_REFETCH_SECS", 10)),
            },
            app_public_url: var("APP_PUBLIC_URL", "http://localhost:8003"),
            mailgun: MailgunSettings {
                api_key: var("MAILGUN_API_KEY", ""),
                domain: var("MAILGUN_DOMAIN", ""),
                from: var("MAILGUN_FROM", "OSOP <noreply@osop.local>"),
                base_url: var("MAILGUN_BASE_URL", "https://api.mailgun.net"),
            },
            max_upload_bytes: number("MAX_UPLOAD_MB", 25usize) * 1024 * 1024,
            snapshot_every: number("SNAPSHOT_EVERY", 50usize),
            projector_interval: Duration::from_millis(number("PROJECTOR_INTERVAL_MS", 200)),
            llm_provider: var("LLM_PROVIDER", "offline").to_lowercase(),
            workers_in_process: number("WORKERS_IN_PROCESS", 1usize),
            agent_max_deliver: number("AGENT_MAX_DELIVER", 4i64),
            agent_ack_wait: Duration::from_millis(number("AGENT_ACK_WAIT_MS", 30_000u64).max(100)),
            log_format: LogFormat::parse(&var("LOG_FORMAT", "text")).unwrap_or_default(),
            metrics_token: Some(var("METRICS_TOKEN", "")).filter(|t| !t.is_empty()),
        }
    }
}
