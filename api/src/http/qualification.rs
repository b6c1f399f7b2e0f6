//! Stage 3's TROWLS scorecard: save one, read the latest with its history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::limits;
use domain::qualification::{TrowlsScores, MAX_SCORE};
use domain::OpportunityCommand as Cmd;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_view::ensure_exists;
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidJson, ValidPath};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(save, get_latest))
}

/// Six scores, each an integer from 0 to 10.
#[derive(Deserialize, ToSchema)]
pub struct ScorecardIn {
    #[schema(minimum = 0, maximum = 10)]
    pub timing: Option<i64>,
    #[schema(minimum = 0, maximum = 10)]
    pub relationship: Option<i64>,
    #[schema(minimum = 0, maximum = 10)]
    pub opportunity: Option<i64>,
    #[schema(minimum = 0, maximum = 10)]
    pub what_we_know: Option<i64>,
    #[schema(minimum = 0, maximum = 10)]
    pub location: Option<i64>,
    #[schema(minimum = 0, maximum = 10)]
    pub sector: Option<i64>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

#[derive(Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ScorecardView {
    pub timing: i32,
    pub relationship: i32,
    pub opportunity: i32,
    pub what_we_know: i32,
    pub location: i32,
    pub sector: i32,
    /// Out of 60.
    pub total: i32,
    /// total / 60 × 100, two decimals.
    pub percentage: f64,
    /// proceed (≥ 60 %), slt_review (≥ 50 %) or no_go.
    pub recommendation: String,
    pub notes: Option<String>,
    pub scored_by: String,
    pub scored_at: DateTime<Utc>,
    /// The opportunity version this scorecard was recorded at.
    pub version: i64,
}

#[derive(Serialize, ToSchema)]
pub struct QualificationView {
    /// The scorecard in force (the latest), if any.
    pub latest: Option<ScorecardView>,
    /// Every scorecard, newest first.
    pub history: Vec<ScorecardView>,
}

fn score(field: &str, value: Option<i64>) -> ApiResult<u8> {
    let v = value.ok_or_else(|| {
        ApiError::invalid(field, format!("{field} is required (an integer from 0 to {MAX_SCORE})"))
    })?;
    limits::within(field, v, 0, i64::from(MAX_SCORE))?;
    Ok(v as u8)
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<QualificationView> {
    let history: Vec<ScorecardView> = sqlx::query_as(
        "SELECT timing, relationship, opportunity, what_we_know, location, sector, total, percentage, recommendation,
                notes, scored_by, scored_at, version
           FROM qualification_scorecards WHERE opportunity_id = $1 ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(QualificationView { latest: history.first().cloned(), history })
}

/// Saves a TROWLS scorecard; the total, percentage and recommendation are stamped on the opportunity.
#[utoipa::path(post, operation_id = "save_qualification",
    path = "/api/opportunities/{id}/qualification", tag = "qualification",
    request_body = ScorecardIn, params(("id" = Uuid, Path)),
    responses((status = 201, body = QualificationView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<ScorecardIn>,
) -> ApiResult<(StatusCode, Json<QualificationView>)> {
    let id = uuid_param("id", &id)?;
    user.require(Role::Editor)?;
    let scores = TrowlsScores {
        timing: score("timing", body.timing)?,
        relationship: score("relationship", body.relationship)?,
        opportunity: score("opportunity", body.opportunity)?,
        what_we_know: score("what_we_know", body.what_we_know)?,
        location: score("location", body.location)?,
        sector: score("sector", body.sector)?,
    };
    let notes = super::opportunity_input::optional_text("notes", body.notes, limits::NOTES)?;
    ensure_exists(&state.pool, id).await?;
    let command = Cmd::ScoreQualification { scores, notes, actor: user.actor(), at: clock::now() };
    state.bus.execute(id, command, &user).await?;
    Ok((StatusCode::CREATED, Json(load(&state, id).await?)))
}

/// The scorecard in force and every earlier one.
#[utoipa::path(get, operation_id = "get_qualification",
    path = "/api/opportunities/{id}/qualification", tag = "qualification", params(("id" = Uuid, Path)),
    responses((status = 200, body = QualificationView), (status = 404, body = Problem)))]
async fn get_latest(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<QualificationView>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(load(&state, id).await?))
}
