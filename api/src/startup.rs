//! Builds the application once, for `main` and for the tests alike.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use projections::Projector;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor, PgPool};
use tokio::sync::watch;

use crate::auth::entra::EntraVerifier;
use crate::auth::users::Users;
use crate::auth::Authenticator;
use crate::command_bus::CommandBus;
use crate::config::Settings;
use crate::integration_feed::IntegrationFeed;
use crate::mail::Mailer;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub nats: Option<async_nats::Client>,
    pub bus: Arc<CommandBus>,
    pub projector: Arc<Projector>,
    pub users: Arc<Users>,
    pub auth: Arc<Authenticator>,
    pub mailer: Arc<Mailer>,
    pub settings: Arc<Settings>,
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The connection pool: a request waits at most `acquire_timeout` for a connection, so while
/// PostgreSQL is unreachable clients get a prompt 503 rather than a hung request.
pub fn database_pool(options: PgConnectOptions, acquire_timeout: Duration) -> PgPool {
    PgPoolOptions::new().max_connections(20).acquire_timeout(acquire_timeout).connect_lazy_with(options)
}

/// Connects to PostgreSQL, creating the database when the server is there but the database is not.
/// `program` (e.g. `osop serve`) names the connections, so one process can see which others use
/// the database (`osop replay` refuses to run beside a server).
pub async fn connect_database(url: &str, acquire_timeout: Duration, program: &str) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?.application_name(program);
    let pool = database_pool(options.clone(), acquire_timeout);
    if let Err(e) = pool.acquire().await {
        let missing = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000"));
        if !missing {
            return Err(anyhow::anyhow!(
                "cannot reach PostgreSQL at {}: {e} (start it, e.g. `scripts/stack up`, or set DATABASE_URL)",
                crate::config::redact(url)
            ));
        }
        let name = options.get_database().unwrap_or("osop").to_string();
        let mut admin = options.clone().database("postgres").connect().await?;
        admin.execute(format!("CREATE DATABASE \"{}\"", name.replace('"', "")).as_str()).await?;
        tracing::info!(database = %name, "created the database");
    }
    Ok(pool)
}

/// The other `osop` processes connected to this database (by program name, with their number of
/// connections), from PostgreSQL's own view of its sessions.
pub async fn other_programs(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT application_name, count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'osop %'
            AND application_name <> current_setting('application_name')
          GROUP BY application_name ORDER BY application_name",
    )
    .fetch_all(pool)
    .await
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    crate::catalog::seed_default(pool).await?;
    Ok(())
}

/// Connects to NATS; the API keeps serving when it is down and reports it in the health check.
pub async fn connect_nats(url: &str) -> Option<async_nats::Client> {
    match async_nats::ConnectOptions::new().retry_on_initial_connect().connect(url).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(url = %crate::config::redact(url), error = %e, "NATS unavailable");
            None
        }
    }
}

impl AppState {
    pub fn new(settings: Settings, pool: PgPool, nats: Option<async_nats::Client>) -> Self {
        // Before anything records: until a recorder is installed the metrics macros do nothing.
        crate::telemetry::recorder::handle();
        let projector = Arc::new(Projector::new(pool.clone()));
        let auth = match &settings.dev_identity {
            Some(dev) => Authenticator::Bypass(dev.clone()),
            None => Authenticator::Entra(Box::new(EntraVerifier::new(settings.azure.clone()))),
        };
        Self {
            bus: Arc::new(
                CommandBus::new(pool.clone(), projector.clone(), settings.snapshot_every)
                    .with_read_model_wait(settings.read_model_wait),
            ),
            users: Arc::new(Users::new(pool.clone(), settings.default_user_role)),
            mailer: Arc::new(Mailer::new(settings.mailgun.clone(), pool.clone())),
            auth: Arc::new(auth),
            settings: Arc::new(settings),
            projector,
            pool,
            nats,
        }
    }

    pub fn router(&self) -> Router {
        crate::http::router(self.clone())
    }

    /// Keeps the read models current in the background until `shutdown` fires.
    pub fn spawn_projector(&self, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let projector = self.projector.clone();
        let every = self.settings.projector_interval;
        tokio::spawn(async move { projector.run(shutdown, every).await })
    }
}

impl AppState {
    /// Publishes the log to NATS in the background until `shutdown` fires: the integration feed
    /// and the agent work queue, each from its own checkpoint (retrying while NATS is down).
    pub fn spawn_publishers(&self, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let Some(client) = state.nats.clone() else { return };
            let s = &state.settings;
            let (feed, queue) = loop {
                let feed = IntegrationFeed::connect(
                    state.pool.clone(),
                    client.clone(),
                    &s.nats_stream,
                    &s.nats_subject_prefix,
                );
                let queue = crate::agents::queue::connect(
                    state.pool.clone(),
                    client.clone(),
                    &s.nats_stream,
                    &s.nats_subject_prefix,
                );
                match tokio::try_join!(feed, queue) {
                    Ok(both) => break both,
                    Err(e) => {
                        tracing::warn!(error = %e, "NATS streams not ready; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                        if *shutdown.borrow() {
                            return;
                        }
                    }
                }
            };
            tokio::join!(
                feed.run(shutdown.clone(), s.projector_interval, state.projector.advanced()),
                queue.run(shutdown, s.projector_interval, state.projector.advanced())
            );
        })
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (`docker stop`, systemd, Kubernetes), whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} },
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be watched; stopping on Ctrl-C only");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Serves until Ctrl-C or SIGTERM: the listener stops taking connections, requests in flight are
/// answered, then the projector, publishers and workers stop (a worker finishes its current run).
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    settings.check_sign_in()?;
    if let Some(dev) = &settings.dev_identity {
        tracing::warn!(
            email = %dev.email,
            role = dev.role.as_str(),
            "DEV_AUTH_BYPASS IS ON: every request acts as this user without signing in. \
             Never run a shared or public server like this."
        );
    }
    let pool =
        connect_database(&settings.database_url, settings.database_acquire_timeout, "osop serve").await?;
    migrate(&pool).await?;
    let nats = connect_nats(&settings.nats_url).await;
    let bind = settings.bind.clone();
    let state = AppState::new(settings, pool, nats);
    let (stop, stopped) = watch::channel(false);
    let projector = state.spawn_projector(stopped.clone());
    let publishers = state.spawn_publishers(stopped.clone());
    let upkeep = crate::telemetry::recorder::spawn_upkeep(stopped.clone());
    let mailer = state.mailer.clone();
    let mail = {
        let stopped = stopped.clone();
        tokio::spawn(async move { mailer.run(stopped, Duration::from_secs(15)).await })
    };
    let workers = crate::agents::workers::spawn(&state, state.settings.workers_in_process, stopped)?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(address = %listener.local_addr()?, "OSOP API listening");
    let limits = state.settings.connections;
    crate::connections::serve(listener, state.router(), limits, shutdown_signal()).await?;
    let _ = stop.send(true);
    let _ = projector.await;
    let _ = publishers.await;
    let _ = upkeep.await;
    let _ = mail.await;
    for w in workers {
        let _ = w.await;
    }
    Ok(())
}
