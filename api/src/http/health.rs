//! Liveness of the API and of the services it depends on.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::startup::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when a dependency is down.
    pub status: &'static str,
    pub db: String,
    pub nats: String,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Reports whether PostgreSQL and NATS answer; 503 names the part that does not.
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
    let ok = db == "ok" && nats == "ok";
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Health { status: if ok { "ok" } else { "degraded" }, db, nats }))
}
