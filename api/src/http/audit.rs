//! The history for auditors: one opportunity's events, and the global feed in log order, both
//! paged (`after`, `limit`): one response never holds a whole long history.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_view::ensure_exists;
use crate::auth::User;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidPath, ValidQuery};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(opportunity_events)).routes(routes!(feed))
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    /// Stable id (the same on every read and in the NATS feed).
    pub event_id: Uuid,
    /// Position in the global log; null for an event committed a moment ago and not yet sequenced.
    pub position: Option<i64>,
    pub opportunity_id: String,
    /// The opportunity's version after this event.
    pub version: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: DateTime<Utc>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub payload: Value,
    pub metadata: Value,
}

fn to_view(row: &sqlx::postgres::PgRow) -> Result<EventView, sqlx::Error> {
    let aggregate_id: String = row.try_get("aggregate_id")?;
    let sequence: i64 = row.try_get("sequence")?;
    let metadata: Value = row.try_get("metadata")?;
    let text = |k: &str| metadata.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(EventView {
        event_id: projections::event_id("Opportunity", &aggregate_id, sequence),
        position: row.try_get("position")?,
        version: sequence,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        recorded_at: row.try_get("recorded_at")?,
        user_email: text("user_email"),
        user_name: text("user_name"),
        payload: row.try_get("payload")?,
        opportunity_id: aggregate_id,
        metadata,
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Return the events after this version of the opportunity (0 = from its creation).
    pub after: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// One opportunity's events, oldest first, a page at a time: type, version, time, who, payload.
///
/// A long-lived deal has many events, some large, so they come in pages: pass `next_after` (the
/// last version on the page) as `after` for the next one; an empty page is the end.
#[utoipa::path(get, operation_id = "list_opportunity_events",
    path = "/api/opportunities/{id}/events", tag = "audit", params(("id" = Uuid, Path), HistoryQuery),
    responses((status = 200, body = FeedPage), (status = 404, body = Problem)))]
async fn opportunity_events(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<HistoryQuery>,
) -> ApiResult<Json<FeedPage>> {
    let id = uuid_param("id", &id)?;
    let (after, limit) = page(q.after, q.limit)?;
    ensure_exists(&state.pool, id).await?;
    let rows = sqlx::query(
        "SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.recorded_at, e.payload,
                e.metadata
           FROM events e LEFT JOIN event_log l ON l.global_seq = e.global_seq
          WHERE e.aggregate_type = 'Opportunity' AND e.aggregate_id = $1 AND e.sequence > $2
          ORDER BY e.sequence LIMIT $3",
    )
    .bind(id.to_string())
    .bind(after)
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let events: Vec<EventView> = rows.iter().map(to_view).collect::<Result<_, _>>()?;
    let next_after = events.last().map_or(after, |e| e.version);
    Ok(Json(FeedPage { events, next_after }))
}

/// A page's `after` (0 or more) and `limit` (1–1000, default 100), or a 422 naming the one at fault.
fn page(after: Option<i64>, limit: Option<i64>) -> ApiResult<(i64, i64)> {
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after", "after must not be negative"));
    }
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be between 1 and 1000, got {limit}")));
    }
    Ok((after, limit))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Return events after this log position (0 = from the start).
    pub after: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// A page of events: of the global feed (`after` is a log position) or of one opportunity
/// (`after` is its version).
#[derive(Serialize, ToSchema)]
pub struct FeedPage {
    pub events: Vec<EventView>,
    /// Pass as `after` to get the next page; the same value when this page is empty (the end).
    pub next_after: i64,
}

/// The global log in commit order, from a position: every event exactly once, never skipping.
#[utoipa::path(get, operation_id = "list_events", path = "/api/events", tag = "audit", params(FeedQuery),
    responses((status = 200, body = FeedPage), (status = 422, body = Problem)))]
async fn feed(
    _user: User,
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<FeedQuery>,
) -> ApiResult<Json<FeedPage>> {
    let (after, limit) = page(q.after, q.limit)?;
    let rows = sqlx::query(
        "SELECT l.position, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.recorded_at, e.payload,
                e.metadata
           FROM event_log l JOIN events e ON e.global_seq = l.global_seq
          WHERE l.position > $1 ORDER BY l.position LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let events: Vec<EventView> = rows.iter().map(to_view).collect::<Result<_, _>>()?;
    let next_after = events.last().and_then(|e| e.position).unwrap_or(after);
    Ok(Json(FeedPage { events, next_after }))
}
