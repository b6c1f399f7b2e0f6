//! The stage machine over HTTP: list stage states, complete a stage.

use axum::extract::State;
use axum::Json;
use domain::{OpportunityCommand as Cmd, StageNumber};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_view::{ensure_exists, load_detail, load_stages, OpportunityDetail, StageStateView};
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidPath};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_stages)).routes(routes!(complete))
}

pub fn stage_param(raw: &str) -> ApiResult<StageNumber> {
    raw.parse::<u8>().ok().and_then(StageNumber::new).ok_or_else(|| {
        ApiError::invalid("stage", format!("stage must be a number from 1 to 17, got {raw:?}"))
    })
}

/// The 17 stage states of an opportunity.
#[utoipa::path(get, operation_id = "list_stages",
    path = "/api/opportunities/{id}/stages", tag = "stages", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StageStateView>), (status = 404, body = Problem)))]
async fn list_stages(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<Vec<StageStateView>>> {
    let id = uuid_param("id", &id)?;
    Ok(Json(load_stages(&state.pool, id).await?))
}

/// Completes stage n and starts n+1. 400 when it is already completed, not started, or (stages 3
/// and 14) lacks approvals or has any not approved.
#[utoipa::path(post, operation_id = "complete_stage",
    path = "/api/opportunities/{id}/stages/{n}/complete", tag = "stages",
    params(("id" = Uuid, Path), ("n" = u8, Path, description = "Stage number, 1–17")),
    responses((status = 200, body = OpportunityDetail), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn complete(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, n)): ValidPath<(String, String)>,
) -> ApiResult<Json<OpportunityDetail>> {
    let id: Uuid = uuid_param("id", &id)?;
    let stage = stage_param(&n)?;
    user.require(Role::Editor)?;
    ensure_exists(&state.pool, id).await?;
    state.bus.execute(id, Cmd::CompleteStage { stage, actor: user.actor(), at: clock::now() }, &user).await?;
    Ok(Json(load_detail(&state.pool, id).await?))
}
