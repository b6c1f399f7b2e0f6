//! Liveness of the API and of the services it depends on, and whether the read models keep up.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::startup::AppState;
use crate::telemetry::projection_lag;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`; `degraded` when a dependency is down (503) or a read model is stopped or behind (200:
    /// the API still records every command, but what it reads back may be old).
    pub status: &'static str,
    pub db: String,
    pub nats: String,
    /// `ok`, or what holds the read models back: the projections stopped at an event they cannot
    /// apply, or how far the slowest is behind.
    pub read_models: String,
    /// The projections stopped at an event they cannot apply (each retried with backoff).
    pub stalled: Vec<StalledProjection>,
    /// Events the slowest running reader of the log (projection, integration feed, agent work
    /// queue) has not taken in yet, and the age of the oldest of them.
    pub lag_events: i64,
    pub lag_seconds: f64,
}

#[derive(Serialize, ToSchema)]
pub struct StalledProjection {
    pub projection: String,
    /// The log position of the event it cannot apply.
    pub position: i64,
    pub error: String,
    pub attempts: i32,
    pub since: chrono::DateTime<chrono::Utc>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Reports whether PostgreSQL and NATS answer (503 names the part that does not) and whether the
/// read models keep up (a stopped or lagging projection is `degraded`, named, with the figures).
#[utoipa::path(get, operation_id = "get_health", path = "/api/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = match sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool).await {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("error: {e}"),
    };
    let nats = match &state.nats {
        // A flush is a round trip to the server, so it proves the connection, not just the flag.
        Some(c) => match tokio::time::timeout(Duration::from_secs(2), c.flush()).await {
            Ok(Ok(())) => "ok".to_string(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => "error: no answer within 2 s".to_string(),
        },
        None => "error: not configured or unreachable".to_string(),
    };
    let mut health = Health {
        status: "ok",
        db,
        nats,
        read_models: "ok".into(),
        stalled: vec![],
        lag_events: 0,
        lag_seconds: 0.0,
    };
    if health.db == "ok" {
        read_models(&state, &mut health).await;
    }
    let up = health.db == "ok" && health.nats == "ok";
    if !up || health.read_models != "ok" {
        health.status = "degraded";
    }
    (if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(health))
}

/// Fills in the stalled projections and the lag of the others.
async fn read_models(state: &AppState, health: &mut Health) {
    let stalled = match projections::stalls::recorded(&state.pool).await {
        Ok(s) => s,
        Err(e) => {
            health.read_models = format!("error: {e}");
            return;
        }
    };
    let names = state.projector.names();
    let running: Vec<&str> =
        names.iter().copied().filter(|n| !stalled.iter().any(|s| s.name == *n)).collect();
    match projection_lag::measure(&state.pool, &running).await {
        Ok(lags) => {
            health.lag_events = lags.iter().map(|l| l.events).max().unwrap_or(0);
            health.lag_seconds = lags.iter().map(|l| l.seconds).fold(0.0, f64::max);
        }
        Err(e) => health.read_models = format!("error: {e}"),
    }
    let limit = state.settings.read_model_lag_limit;
    if !stalled.is_empty() {
        let named: Vec<String> =
            stalled.iter().map(|s| format!("{} at log position {}", s.name, s.position)).collect();
        health.read_models = format!("stalled: {}", named.join(", "));
    } else if health.lag_seconds > limit.as_secs_f64() {
        health.read_models = format!(
            "behind: {} events, the oldest {:.0} s old (limit {} s)",
            health.lag_events,
            health.lag_seconds,
            limit.as_secs()
        );
    }
    health.stalled = stalled
        .into_iter()
        .map(|s| StalledProjection {
            projection: s.name,
            position: s.position,
            error: s.error,
            attempts: s.attempts,
            since: s.since,
        })
        .collect();
}
