//! The signed-in user's notifications: list, unread count, mark read.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::User;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidPath, ValidQuery};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct NotificationView {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    /// approval_requested or approval_decided.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Where in the app it points.
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub is_read: bool,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only unread ones.
    pub unread_only: Option<bool>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The user's notifications, newest first.
#[utoipa::path(get, operation_id = "list_notifications",
    path = "/api/notifications", tag = "notifications", params(ListQuery),
    responses((status = 200, body = Vec<NotificationView>), (status = 422, body = Problem)))]
async fn list(
    user: User,
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be between 1 and 200, got {limit}")));
    }
    Ok(Json(
        sqlx::query_as(
            "SELECT n.id, n.opportunity_id, n.kind, n.title, n.body, n.link, n.created_at,
                    r.read_at IS NOT NULL AS is_read, r.read_at
               FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id
              WHERE lower(n.recipient_email) = lower($1) AND (NOT $2 OR r.read_at IS NULL)
              ORDER BY n.created_at DESC, n.id LIMIT $3",
        )
        .bind(&user.email)
        .bind(q.unread_only.unwrap_or(false))
        .bind(limit)
        .fetch_all(&state.pool)
        .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct UnreadCount {
    pub count: i64,
}

/// How many of the user's notifications are unread.
#[utoipa::path(get, operation_id = "count_unread_notifications",
    path = "/api/notifications/unread-count", tag = "notifications",
    responses((status = 200, body = UnreadCount)))]
async fn unread_count(user: User, State(state): State<AppState>) -> ApiResult<Json<UnreadCount>> {
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id
          WHERE lower(n.recipient_email) = lower($1) AND r.read_at IS NULL",
    )
    .bind(&user.email)
    .fetch_one(&state.pool)
    .await?;
    Ok(Json(UnreadCount { count }))
}

/// Marks one of the user's notifications read (someone else's is 404).
#[utoipa::path(post, operation_id = "mark_notification_read",
    path = "/api/notifications/{id}/read", tag = "notifications", params(("id" = Uuid, Path)),
    responses((status = 200, body = UnreadCount), (status = 404, body = Problem)))]
async fn mark_read(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<UnreadCount>> {
    let id = uuid_param("id", &id)?;
    let mine: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM notifications WHERE id = $1 AND lower(recipient_email) = lower($2)",
    )
    .bind(id)
    .bind(&user.email)
    .fetch_optional(&state.pool)
    .await?;
    mine.ok_or(ApiError::NotFound("notification"))?;
    sqlx::query("INSERT INTO notification_reads (notification_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(id)
        .execute(&state.pool)
        .await?;
    unread_count(user, State(state)).await
}

#[derive(Serialize, ToSchema)]
pub struct Marked {
    pub marked: u64,
}

/// Marks all of the user's notifications read.
#[utoipa::path(post, operation_id = "mark_all_notifications_read",
    path = "/api/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked)))]
async fn mark_all_read(user: User, State(state): State<AppState>) -> ApiResult<Json<Marked>> {
    let marked = sqlx::query(
        "INSERT INTO notification_reads (notification_id)
         SELECT id FROM notifications WHERE lower(recipient_email) = lower($1)
         ON CONFLICT DO NOTHING",
    )
    .bind(&user.email)
    .execute(&state.pool)
    .await?
    .rows_affected();
    Ok(Json(Marked { marked }))
}
