//! Client clarifications (stages 2, 4, 5): list, add by hand, answer, dismiss, reopen.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::clarification::{ClarificationChange, NewClarification, Priority};
use domain::limits;
use domain::OpportunityCommand as Cmd;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_input::{optional_text, required_text};
use super::opportunity_view::ensure_exists;
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidJson, ValidPath};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, add)).routes(routes!(change))
}

#[derive(Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ClarificationView {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub category: String,
    pub question: String,
    pub rationale: String,
    /// red, amber or green.
    pub priority: String,
    /// 2 when raised by diagnosis; re-diagnosing replaces only those.
    pub source_stage: i32,
    /// pending, answered or dismissed.
    pub status: String,
    pub client_answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub dismissal_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT id, opportunity_id, category, question, rationale, priority, source_stage, status,
        client_answer, answered_at, dismissal_reason, created_at, updated_at FROM clarifications";

/// Questions in pack order: RED, AMBER, GREEN, then as raised.
pub async fn load_all(state: &AppState, id: Uuid) -> ApiResult<Vec<ClarificationView>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE opportunity_id = $1
          ORDER BY CASE priority WHEN 'red' THEN 0 WHEN 'amber' THEN 1 ELSE 2 END, position"
    ))
    .bind(id)
    .fetch_all(&state.pool)
    .await?)
}

async fn load_one(state: &AppState, id: Uuid, cid: Uuid) -> ApiResult<ClarificationView> {
    sqlx::query_as(&format!("{SELECT} WHERE opportunity_id = $1 AND id = $2"))
        .bind(id)
        .bind(cid)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound("clarification"))
}

/// The opportunity's clarifications, RED first.
#[utoipa::path(get, operation_id = "list_clarifications",
    path = "/api/opportunities/{id}/clarifications", tag = "clarifications",
    params(("id" = Uuid, Path)), responses((status = 200, body = Vec<ClarificationView>), (status = 404, body = Problem)))]
async fn list(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<Vec<ClarificationView>>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(load_all(&state, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewClarificationIn {
    #[schema(min_length = 1, max_length = 100)]
    pub category: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub question: String,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub rationale: String,
    /// red, amber or green (default amber).
    pub priority: Option<String>,
}

/// Adds a question by hand (source stage 5; diagnosis never replaces it).
#[utoipa::path(post, operation_id = "add_clarification",
    path = "/api/opportunities/{id}/clarifications", tag = "clarifications",
    request_body = NewClarificationIn, params(("id" = Uuid, Path)),
    responses((status = 201, body = ClarificationView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<NewClarificationIn>,
) -> ApiResult<(StatusCode, Json<ClarificationView>)> {
    let id = uuid_param("id", &id)?;
    user.require(Role::Editor)?;
    let priority = match body.priority.as_deref() {
        None => Priority::Amber,
        Some(p) => Priority::parse(p).ok_or_else(|| {
            ApiError::invalid("priority", format!("priority must be red, amber or green, got {p:?}"))
        })?,
    };
    let clarification = NewClarification {
        clarification_id: Uuid::new_v4(),
        category: required_text("category", &body.category, limits::LABEL)?,
        question: required_text("question", &body.question, limits::QUESTION)?,
        rationale: optional_text("rationale", Some(body.rationale), limits::RATIONALE)?.unwrap_or_default(),
        priority,
        source_stage: 5,
    };
    let cid = clarification.clarification_id;
    ensure_exists(&state.pool, id).await?;
    state.bus.execute(id, Cmd::AddClarification { clarification, at: clock::now() }, &user).await?;
    Ok((StatusCode::CREATED, Json(load_one(&state, id, cid).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct ClarificationUpdate {
    /// The client's reply: sets the status to answered and stamps answered_at.
    #[schema(min_length = 1, max_length = 20000)]
    pub client_answer: Option<String>,
    /// pending (reopen), answered (needs client_answer) or dismissed.
    pub status: Option<String>,
    #[schema(max_length = 2000)]
    pub dismissal_reason: Option<String>,
}

/// Records the client's answer, dismisses the question, or puts it back to pending.
#[utoipa::path(put, operation_id = "update_clarification",
    path = "/api/opportunities/{id}/clarifications/{cid}", tag = "clarifications",
    request_body = ClarificationUpdate, params(("id" = Uuid, Path), ("cid" = Uuid, Path)),
    responses((status = 200, body = ClarificationView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn change(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, cid)): ValidPath<(String, String)>,
    ValidJson(body): ValidJson<ClarificationUpdate>,
) -> ApiResult<Json<ClarificationView>> {
    let id = uuid_param("id", &id)?;
    let cid = uuid_param("cid", &cid)?;
    user.require(Role::Editor)?;
    let answer = body
        .client_answer
        .as_deref()
        .map(|a| required_text("client_answer", a, limits::LONG_TEXT))
        .transpose()?;
    let dismissal_reason =
        optional_text("dismissal_reason", body.dismissal_reason, limits::DISMISSAL_REASON)?;
    let change = match (body.status.as_deref().map(str::trim), answer) {
        (None | Some("answered"), Some(a)) => ClarificationChange::Answer(a),
        (Some("answered") | None, None) => {
            return Err(ApiError::invalid("client_answer", "send client_answer to answer the question"))
        }
        (Some("dismissed"), _) => ClarificationChange::Dismiss(dismissal_reason),
        (Some("pending"), _) => ClarificationChange::Reopen,
        (Some(other), _) => {
            return Err(ApiError::invalid(
                "status",
                format!("status must be pending, answered or dismissed, got {other:?}"),
            ))
        }
    };
    load_one(&state, id, cid).await?;
    state
        .bus
        .execute(id, Cmd::ChangeClarification { clarification_id: cid, change, at: clock::now() }, &user)
        .await?;
    Ok(Json(load_one(&state, id, cid).await?))
}
