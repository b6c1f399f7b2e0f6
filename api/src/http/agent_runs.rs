//! Agent runs as clients see them: one run, an opportunity's artifacts, and what the agents cost.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_view::ensure_exists;
use crate::auth::User;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidPath, ValidQuery};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_run)).routes(routes!(artifacts)).routes(routes!(costs))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AgentRunView {
    pub run_id: Uuid,
    pub opportunity_id: Uuid,
    pub agent: String,
    pub stage: i32,
    /// requested, succeeded or failed.
    pub status: String,
    pub input_digest: String,
    pub prompt_version: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub model: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_input_tokens: i64,
    pub cache_read_input_tokens: i64,
    #[schema(value_type = String)]
    pub cost_usd: Decimal,
    /// The artifact: the agent's validated output.
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// Why the run failed, when it did.
    pub failure: Option<String>,
}

const SELECT: &str =
    "SELECT run_id, opportunity_id, agent, stage, status, input_digest, prompt_version, requested_by,
        requested_at, finished_at, model, input_tokens, output_tokens, cache_creation_input_tokens,
        cache_read_input_tokens, cost_usd, output, failure FROM agent_runs";

/// One run from the read model.
pub async fn load_run(state: &AppState, run_id: Uuid) -> ApiResult<AgentRunView> {
    sqlx::query_as(&format!("{SELECT} WHERE run_id = $1"))
        .bind(run_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound("agent run"))
}

/// One agent run: its status, artifact, usage and cost (or why it failed).
#[utoipa::path(get, operation_id = "get_agent_run",
    path = "/api/agent-runs/{id}", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = AgentRunView), (status = 404, body = Problem)))]
async fn get_run(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<AgentRunView>> {
    Ok(Json(load_run(&state, uuid_param("id", &id)?).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtifactQuery {
    /// Only this stage's artifacts (1–17).
    pub stage: Option<i32>,
}

/// The opportunity's artifacts (successful runs), latest first.
#[utoipa::path(get, operation_id = "list_artifacts",
    path = "/api/opportunities/{id}/artifacts", tag = "agents", params(("id" = Uuid, Path), ArtifactQuery),
    responses((status = 200, body = Vec<AgentRunView>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn artifacts(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<ArtifactQuery>,
) -> ApiResult<Json<Vec<AgentRunView>>> {
    let id = uuid_param("id", &id)?;
    if q.stage.is_some_and(|s| !(1..=17).contains(&s)) {
        return Err(ApiError::invalid("stage", "stage must be between 1 and 17"));
    }
    ensure_exists(&state.pool, id).await?;
    Ok(Json(
        sqlx::query_as(&format!(
            "{SELECT} WHERE opportunity_id = $1 AND status = 'succeeded' AND ($2::int IS NULL OR stage = $2)
              ORDER BY finished_at DESC, run_id"
        ))
        .bind(id)
        .bind(q.stage)
        .fetch_all(&state.pool)
        .await?,
    ))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct StageCost {
    pub stage: i32,
    pub runs: i64,
    /// The latest successful run's cost.
    #[schema(value_type = String)]
    pub latest_cost_usd: Decimal,
    #[schema(value_type = String)]
    pub total_cost_usd: Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct CostSummary {
    #[schema(value_type = String)]
    pub total_cost_usd: Decimal,
    pub runs: i64,
    pub by_stage: Vec<StageCost>,
}

/// What the agents cost for this opportunity: per stage (latest run and total) and cumulative.
#[utoipa::path(get, operation_id = "get_agent_costs",
    path = "/api/opportunities/{id}/costs", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = CostSummary), (status = 404, body = Problem)))]
async fn costs(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<CostSummary>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    let by_stage: Vec<StageCost> = sqlx::query_as(
        "SELECT stage, count(*) AS runs, sum(cost_usd) AS total_cost_usd,
                COALESCE((SELECT r.cost_usd FROM agent_runs r
                           WHERE r.opportunity_id = a.opportunity_id AND r.stage = a.stage AND r.status = 'succeeded'
                           ORDER BY r.finished_at DESC LIMIT 1), 0) AS latest_cost_usd
           FROM agent_runs a WHERE opportunity_id = $1 GROUP BY opportunity_id, stage ORDER BY stage",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(CostSummary {
        total_cost_usd: by_stage.iter().map(|s| s.total_cost_usd).sum(),
        runs: by_stage.iter().map(|s| s.runs).sum(),
        by_stage,
    }))
}
