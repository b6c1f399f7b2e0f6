//! Typed configuration, read once from the environment (and `.env` when present).

use std::time::Duration;

use axum::http::HeaderValue;

use crate::auth::role::Role;
use crate::connections::ConnectionLimits;
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
    /// How long an agent endpoint waits for its run before it answers 202 (`AGENT_SYNC_WAIT_SECS`).
    pub agent_sync_wait: Duration,
    /// Browser origins allowed to call the API from another origin (`CORS_ALLOWED_ORIGINS`).
    pub cors_allowed_origins: Vec<HeaderValue>,
    /// Read models whose oldest unapplied event is older than this make health `degraded`
    /// (`READ_MODEL_LAG_LIMIT_SECS`).
    pub read_model_lag_limit: Duration,
    /// The role of a user seen for the first time whose token grants no app role
    /// (`DEFAULT_USER_ROLE`: viewer, the default, or editor).
    pub default_user_role: Role,
    /// How long a write waits for the read models to show it before answering 202 + Location
    /// (`READ_MODEL_WAIT_MS`).
    pub read_model_wait: Duration,
    /// Agent runs a user, and an opportunity, may start a minute (and at once).
    pub agent_runs_per_minute_per_user: u32,
    pub agent_runs_per_minute_per_opportunity: u32,
    /// What paid agent runs may spend, per opportunity in all and across all in a day (USD).
    pub agent_spend_cap_per_opportunity: rust_decimal::Decimal,
    pub agent_spend_cap_per_day: rust_decimal::Decimal,
    /// The cap on open connections and the header, body and idle timeouts (`MAX_CONNECTIONS`,
    /// `HEADER_READ_TIMEOUT_SECS`, `BODY_READ_TIMEOUT_SECS`, `IDLE_TIMEOUT_SECS`).
    pub connections: ConnectionLimits,
}

#[derive(Clone, Debug)]
pub struct DevIdentity {
    pub email: String,
    pub name: String,
    pub role: Role,
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

/// Where `scripts/stack up` writes the URLs of its private servers.
fn stack_env_file() -> std::path::PathBuf {
    let dir =
        std::env::var_os("OSOP_STACK_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| ".stack".into());
    dir.join("osop.env")
}

impl Settings {
    /// Reads the environment once; a value the process cannot use is an error naming it.
    pub fn from_env() -> Result<Self, ConfigError> {
        // The local stack's URLs (written by `scripts/stack up` while its private servers run)
        // come before `.env`; variables already in the environment win over both.
        for path in [stack_env_file(), ".env".into()] {
            match dotenvy::from_path(&path) {
                Err(e) if e.not_found() => {}
                Err(source) => return Err(ConfigError::EnvFile { path: path.display().to_string(), source }),
                Ok(()) => {}
            }
        }
        Self::from_source(&Environment)
    }

    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let env = Reader(source);
        let tenant_id = env.text("AZURE_TENANT_ID", "common");
        let dev_identity = if env.flag("DEV_AUTH_BYPASS")? {
            let role = env.text("DEV_AUTH_ROLE", "admin");
            let role = Role::parse(&role)
                .ok_or_else(|| Reader::invalid("DEV_AUTH_ROLE", role, "viewer, editor or admin"))?;
            Some(DevIdentity {
                email: env.text("DEV_AUTH_EMAIL", "admin@oliver.agency"),
                name: env.text("DEV_AUTH_NAME", "OSOP Admin"),
                role,
            })
        } else {
            None
        };
        let default_user_role = env.text("DEFAULT_USER_ROLE", "viewer");
        let default_user_role = match Role::parse(&default_user_role) {
            Some(role @ (Role::Viewer | Role::Editor)) => role,
            _ => {
                return Err(Reader::invalid(
                    "DEFAULT_USER_ROLE",
                    default_user_role,
                    "viewer or editor (admins are made by an admin, or by the OSOP.Admin app role)",
                ))
            }
        };
        let log_format = env.text("LOG_FORMAT", "text");
        let log_format = LogFormat::parse(&log_format)
            .ok_or_else(|| Reader::invalid("LOG_FORMAT", log_format, "text or json"))?;
        let millis = |n| Duration::from_millis(n);
        Ok(Self {
            database_url: env.text("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/osop"),
            database_acquire_timeout: millis(env.number(
                "DATABASE_ACQUIRE_TIMEOUT_MS",
                3_000,
                1..=600_000,
                "milliseconds, 1 to 600000",
            )?),
            nats_url: env.text("NATS_URL", "nats://127.0.0.1:4222"),
            nats_stream: env.text("NATS_EVENTS_STREAM", "OSOP_EVENTS"),
            nats_subject_prefix: env.text("NATS_SUBJECT_PREFIX", "osop"),
            bind: env.text("BIND", "127.0.0.1:8003"),
            dev_identity,
            azure: AzureSettings {
                jwks_url: env.text(
                    "AZURE_JWKS_URL",
                    &format!("https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys"),
                ),
                issuer: format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
                client_id: env.text("AZURE_CLIENT_ID", ""),
                jwks_min_refetch: Duration::from_secs(env.number(
                    "AZURE_JWKS_MIN_REFETCH_SECS",
                    10,
                    0..=86_400,
                    "seconds, 0 to 86400",
                )?),
                tenant_id,
            },
            app_public_url: env.text("APP_PUBLIC_URL", "http://localhost:8003"),
            mailgun: MailgunSettings {
                api_key: env.text("MAILGUN_API_KEY", ""),
                domain: env.text("MAILGUN_DOMAIN", ""),
                from: env.text("MAILGUN_FROM", "OSOP <noreply@osop.local>"),
                base_url: env.text("MAILGUN_BASE_URL", "https://api.mailgun.net"),
            },
            max_upload_bytes: env.number("MAX_UPLOAD_MB", 25, 1..=1024, "a whole number of MiB, 1 to 1024")?
                as usize
                * 1024
                * 1024,
            snapshot_every: env.number(
                "SNAPSHOT_EVERY",
                50,
                1..=100_000,
                "a whole number of events, 1 to 100000",
            )? as usize,
            projector_interval: millis(env.number(
                "PROJECTOR_INTERVAL_MS",
                200,
                1..=60_000,
                "milliseconds, 1 to 60000",
            )?),
            llm_provider: env.one_of(
                "LLM_PROVIDER",
                "offline",
                &["offline", "anthropic"],
                "offline or anthropic",
            )?,
            workers_in_process: env.number(
                "WORKERS_IN_PROCESS",
                1,
                0..=64,
                "a whole number of workers, 0 to 64",
            )? as usize,
            agent_max_deliver: env.number(
                "AGENT_MAX_DELIVER",
                4,
                1..=100,
                "a whole number of deliveries, 1 to 100",
            )? as i64,
            agent_ack_wait: millis(env.number(
                "AGENT_ACK_WAIT_MS",
                30_000,
                100..=3_600_000,
                "milliseconds, 100 to 3600000",
            )?),
            log_format,
            metrics_token: env.raw("METRICS_TOKEN"),
            agent_sync_wait: Duration::from_secs(env.number(
                "AGENT_SYNC_WAIT_SECS",
                60,
                0..=MAX_AGENT_WAIT_SECS,
                "seconds, 0 to 120",
            )?),
            cors_allowed_origins: env.origins("CORS_ALLOWED_ORIGINS")?,
            read_model_wait: millis(env.number(
                "READ_MODEL_WAIT_MS",
                5_000,
                0..=120_000,
                "milliseconds, 0 to 120000",
            )?),
            agent_runs_per_minute_per_user: env.number(
                "AGENT_RUNS_PER_MINUTE_PER_USER",
                20,
                1..=10_000,
                "a whole number of runs, 1 to 10000",
            )? as u32,
            agent_runs_per_minute_per_opportunity: env.number(
                "AGENT_RUNS_PER_MINUTE_PER_OPPORTUNITY",
                20,
                1..=10_000,
                "a whole number of runs, 1 to 10000",
            )? as u32,
            agent_spend_cap_per_opportunity: env.usd("AGENT_SPEND_CAP_PER_OPPORTUNITY_USD", 25)?,
            agent_spend_cap_per_day: env.usd("AGENT_SPEND_CAP_PER_DAY_USD", 100)?,
            read_model_lag_limit: Duration::from_secs(env.number(
                "READ_MODEL_LAG_LIMIT_SECS",
                30,
                1..=86_400,
                "seconds, 1 to 86400",
            )?),
            default_user_role,
            connections: ConnectionLimits::read(&env)?,
        })
    }

    /// What `serve` needs beyond the values themselves: a way to sign people in.
    pub fn check_sign_in(&self) -> Result<(), ConfigError> {
        let entra = !self.azure.client_id.is_empty() && self.azure.tenant_id != "common";
        if self.dev_identity.is_none() && !entra {
            return Err(ConfigError::SignInNotConfigured);
        }
        Ok(())
    }
}

/// Longest an agent endpoint may be asked to wait for its run, in seconds.
pub const MAX_AGENT_WAIT_SECS: u64 = 120;

/// A connection URL fit to print, in its own file to keep this one short.
pub(crate) mod error;
mod redact;
pub(crate) mod source;
pub use error::ConfigError;
pub use redact::redact;
use source::Reader;
pub use source::{Environment, Source};
