//! Opportunities: create, list, read (now or as of a past version), change, archive.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::OpportunityCommand as Cmd;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_input::{deal_status, NewOpportunity, OpportunityChanges};
use super::opportunity_view::{load_detail, OpportunityDetail, OpportunitySummary, SUMMARY_COLUMNS};
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidJson, ValidPath, ValidQuery};
use crate::precondition;
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, update, update_by_put, archive_by_delete))
        .routes(routes!(archive))
        .routes(routes!(set_deal_status))
}

/// Creates an opportunity with its 17 stages (stage 1 in progress).
#[utoipa::path(post, operation_id = "create_opportunity",
    path = "/api/opportunities", tag = "opportunities", request_body = NewOpportunity,
    responses((status = 201, body = OpportunityDetail), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn create(
    user: User,
    State(state): State<AppState>,
    ValidJson(body): ValidJson<NewOpportunity>,
) -> ApiResult<(StatusCode, Json<OpportunityDetail>)> {
    user.require(Role::Editor)?;
    let details = body.validate(&user.email)?;
    let id = Uuid::new_v4();
    let command =
        Cmd::CreateOpportunity { opportunity_id: id, details, actor: user.actor(), at: clock::now() };
    state.bus.execute(id, command, &user).await?;
    Ok((StatusCode::CREATED, Json(load_detail(&state.pool, id).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `active` (default), `archived` or `all`.
    pub status: Option<String>,
    /// Owner's email.
    pub owner: Option<String>,
    /// Current stage, 1–17.
    pub stage: Option<i32>,
    /// `active`, `won`, `lost` or `deprioritized`.
    pub deal_status: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Lists opportunities, most recently changed first. The total is in `X-Total-Count`.
#[utoipa::path(get, operation_id = "list_opportunities",
    path = "/api/opportunities", tag = "opportunities", params(ListQuery),
    responses((status = 200, body = Vec<OpportunitySummary>), (status = 422, body = Problem)))]
async fn list(
    _user: User,
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<OpportunitySummary>>)> {
    let status = match q.status.as_deref().unwrap_or("active") {
        "all" => None,
        s @ ("active" | "archived") => Some(s.to_string()),
        other => {
            return Err(ApiError::invalid(
                "status",
                format!("status must be active, archived or all, got {other:?}"),
            ))
        }
    };
    if let Some(s) = q.stage {
        if !(1..=17).contains(&s) {
            return Err(ApiError::invalid("stage", format!("stage must be between 1 and 17, got {s}")));
        }
    }
    let deal = q.deal_status.as_deref().map(deal_status).transpose()?.map(|d| d.as_str());
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be between 1 and 200, got {limit}")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "offset must not be negative"));
    }
    let filter = "($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR lower(owner_email) = lower($2))
                  AND ($3::int IS NULL OR current_stage = $3) AND ($4::text IS NULL OR deal_status = $4)";
    let rows: Vec<OpportunitySummary> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM opportunities WHERE {filter} ORDER BY updated_at DESC, id LIMIT $5 OFFSET $6"
    ))
    .bind(&status)
    .bind(&q.owner)
    .bind(q.stage)
    .bind(deal)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM opportunities WHERE {filter}"))
        .bind(&status)
        .bind(&q.owner)
        .bind(q.stage)
        .bind(deal)
        .fetch_one(&state.pool)
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok((headers, Json(rows)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// Show the opportunity as it stood after this many events (see `version`).
    pub as_of_version: Option<i64>,
}

/// One opportunity with its stage states; `as_of_version` replays the log up to that version.
/// The `ETag` is the version: send it back as `If-Match` on a change, or as `If-None-Match` here.
#[utoipa::path(get, operation_id = "get_opportunity", path = "/api/opportunities/{id}", tag = "opportunities",
    params(("id" = Uuid, Path), AsOf,
        ("If-None-Match" = Option<String>, Header, description = "answer 304 when the opportunity is still at this ETag")),
    responses(
        (status = 200, body = OpportunityDetail, headers(("ETag" = String, description = "the opportunity's version, quoted"))),
        (status = 304, description = "not changed since the ETag in If-None-Match"),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn get_one(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<AsOf>,
    request_headers: HeaderMap,
) -> ApiResult<Response> {
    let id = uuid_param("id", &id)?;
    let detail = match q.as_of_version {
        None => load_detail(&state.pool, id).await?,
        Some(version) => as_of(&state, id, version).await?,
    };
    let etag = precondition::etag(detail.summary.version);
    let unchanged = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok(with_etag(detail).into_response())
}

/// The answer of every read or change of one opportunity: its detail, tagged with its version.
fn with_etag(detail: OpportunityDetail) -> ([(HeaderName, String); 1], Json<OpportunityDetail>) {
    ([(header::ETAG, precondition::etag(detail.summary.version))], Json(detail))
}

async fn as_of(state: &AppState, id: Uuid, version: i64) -> ApiResult<OpportunityDetail> {
    if version < 1 {
        return Err(ApiError::invalid("as_of_version", "as_of_version must be 1 or more"));
    }
    let store = crate::store::OpportunityStore::new(state.pool.clone(), state.settings.snapshot_every);
    let (aggregate, reached) = store
        .load_as_of(&id.to_string(), version as usize)
        .await
        .map_err(|e| ApiError::from(crate::command_bus::CommandError::from(e)))?;
    if reached < version as usize {
        if reached == 0 {
            return Err(ApiError::NotFound("opportunity"));
        }
        return Err(ApiError::invalid(
            "as_of_version",
            format!("the opportunity has {reached} versions; as_of_version {version} does not exist yet"),
        ));
    }
    OpportunityDetail::from_aggregate(&aggregate, reached).ok_or(ApiError::NotFound("opportunity"))
}

async fn apply_changes(
    state: &AppState,
    user: &User,
    id: Uuid,
    body: OpportunityChanges,
) -> ApiResult<OpportunityDetail> {
    user.require(Role::Editor)?;
    let changes = body.validate()?;
    super::opportunity_view::ensure_exists(&state.pool, id).await?;
    let at = clock::now();
    state.bus.execute(id, Cmd::UpdateDetails { changes: changes.details, at }, user).await?;
    if changes.deal_status.is_some() || changes.lessons_learned.is_some() {
        let command =
            Cmd::SetDealStatus { status: changes.deal_status, lessons_learned: changes.lessons_learned, at };
        state.bus.execute(id, command, user).await?;
    }
    load_detail(&state.pool, id).await
}

/// Changes some details; absent fields are kept, `null` clears an optional one.
#[utoipa::path(patch, operation_id = "update_opportunity", path = "/api/opportunities/{id}",
    tag = "opportunities", request_body = OpportunityChanges, params(("id" = Uuid, Path)),
    responses((status = 200, body = OpportunityDetail), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<OpportunityChanges>,
) -> ApiResult<impl IntoResponse> {
    let id = uuid_param("id", &id)?;
    Ok(with_etag(apply_changes(&state, &user, id, body).await?))
}

/// Changes some details, exactly as PATCH does: absent fields are kept, `null` clears an optional one.
#[utoipa::path(put, operation_id = "update_opportunity_by_put", path = "/api/opportunities/{id}",
    tag = "opportunities", request_body = OpportunityChanges, params(("id" = Uuid, Path)),
    responses((status = 200, body = OpportunityDetail), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn update_by_put(
    user: User,
    state: State<AppState>,
    id: ValidPath<String>,
    body: ValidJson<OpportunityChanges>,
) -> ApiResult<impl IntoResponse> {
    update(user, state, id, body).await
}

async fn archive_opportunity(state: &AppState, user: &User, id: Uuid) -> ApiResult<OpportunityDetail> {
    user.require(Role::Editor)?;
    super::opportunity_view::ensure_exists(&state.pool, id).await?;
    state.bus.execute(id, Cmd::ArchiveOpportunity { at: clock::now() }, user).await?;
    load_detail(&state.pool, id).await
}

/// Archives the opportunity: it stays readable, with its history, and no longer changes.
#[utoipa::path(post, operation_id = "archive_opportunity",
    path = "/api/opportunities/{id}/archive", tag = "opportunities", params(("id" = Uuid, Path)),
    responses((status = 200, body = OpportunityDetail), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn archive(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<impl IntoResponse> {
    let id = uuid_param("id", &id)?;
    Ok(with_etag(archive_opportunity(&state, &user, id).await?))
}

/// Archives the opportunity (nothing is ever deleted from the log).
#[utoipa::path(delete, operation_id = "delete_opportunity",
    path = "/api/opportunities/{id}", tag = "opportunities", params(("id" = Uuid, Path)),
    responses((status = 200, body = OpportunityDetail), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn archive_by_delete(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<impl IntoResponse> {
    let id = uuid_param("id", &id)?;
    Ok(with_etag(archive_opportunity(&state, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct DealStatusChange {
    /// `active`, `won`, `lost` or `deprioritized`.
    pub deal_status: String,
    #[schema(max_length = 20000)]
    pub lessons_learned: Option<String>,
}

/// Sets the deal status, with lessons learned for lost or deprioritised deals.
#[utoipa::path(put, operation_id = "set_deal_status",
    path = "/api/opportunities/{id}/deal-status", tag = "opportunities",
    request_body = DealStatusChange, params(("id" = Uuid, Path)),
    responses((status = 200, body = OpportunityDetail), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_deal_status(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<DealStatusChange>,
) -> ApiResult<impl IntoResponse> {
    let id = uuid_param("id", &id)?;
    let changes = OpportunityChanges {
        deal_status: Some(body.deal_status),
        lessons_learned: Some(body.lessons_learned),
        ..Default::default()
    };
    Ok(with_etag(apply_changes(&state, &user, id, changes).await?))
}
