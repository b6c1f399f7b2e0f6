//! `GET /metrics`: the Prometheus text exposition for the scraper, outside `/api` and the OpenAPI
//! document. Open unless `METRICS_TOKEN` is set, then it wants that bearer token.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;
use crate::telemetry::{projection_lag, recorder};

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<impl IntoResponse> {
    if let Some(expected) = &state.settings.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Comparing digests keeps the comparison's time independent of where the tokens differ.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
            return Err(ApiError::Unauthenticated(
                "GET /metrics wants the METRICS_TOKEN bearer token".into(),
            ));
        }
    }
    let mut body = recorder::handle().render();
    let mut readers = state.projector.names();
    readers.extend([crate::integration_feed::CHECKPOINT, crate::agents::queue::CHECKPOINT]);
    // The process's own series are worth serving even while the database is away.
    match projection_lag::measure(&state.pool, &readers).await {
        Ok(lags) => projection_lag::render(&lags, &mut body),
        Err(e) => tracing::warn!(error = %e, "projection lag not measured"),
    }
    match projections::stalls::recorded(&state.pool).await {
        Ok(stalled) => projection_lag::render_stalled(&state.projector.names(), &stalled, &mut body),
        Err(e) => tracing::warn!(error = %e, "stalled projections not read"),
    }
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}

/// `/metrics` alone, for a process that runs workers but not the API (`osop worker --metrics-bind`).
pub fn standalone(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}
