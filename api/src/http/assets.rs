//! The client's assets (stage 6) and their catalog matches (stage 7), without agents.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::asset::{Asset, AssetChanges, CatalogMatch, MatchConfidence};
use domain::details::nullable;
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
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(update, update_by_put, remove))
        .routes(routes!(list_matches))
        .routes(routes!(select_match))
        .routes(routes!(choose_entry))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AssetView {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub raw_name: String,
    pub raw_description: Option<String>,
    pub client_tier: Option<String>,
    pub volume: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct MatchView {
    pub id: Uuid,
    pub asset_id: Uuid,
    /// The catalog entry, under the name the original system's clients read.
    pub gmal_id: String,
    pub catalog_id: String,
    pub catalog_asset_name: String,
    /// exact, close, multiple, none or manual.
    pub confidence: String,
    pub confidence_score: f64,
    pub rank: i32,
    pub reasoning: String,
    pub caveats: String,
    pub is_selected: bool,
}

async fn load_asset(state: &AppState, id: Uuid, asset_id: Uuid) -> ApiResult<AssetView> {
    sqlx::query_as(
        "SELECT id, opportunity_id, raw_name, raw_description, client_tier, volume, created_at, updated_at
           FROM assets WHERE opportunity_id = $1 AND id = $2",
    )
    .bind(id)
    .bind(asset_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or(ApiError::NotFound("asset"))
}

fn volume(v: i64) -> ApiResult<u32> {
    let (min, max) = (i64::from(limits::MIN_VOLUME), i64::from(limits::MAX_VOLUME));
    limits::within("volume", v, min, max)?;
    Ok(v as u32)
}

/// The opportunity's assets, in the order they were added.
#[utoipa::path(get, operation_id = "list_assets",
    path = "/api/opportunities/{id}/assets", tag = "assets", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AssetView>), (status = 404, body = Problem)))]
async fn list(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<Vec<AssetView>>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(
        sqlx::query_as(
            "SELECT id, opportunity_id, raw_name, raw_description, client_tier, volume, created_at, updated_at
               FROM assets WHERE opportunity_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&state.pool)
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewAsset {
    #[schema(min_length = 1, max_length = 300)]
    pub raw_name: String,
    #[schema(max_length = 4000)]
    pub raw_description: Option<String>,
    #[schema(max_length = 50)]
    pub client_tier: Option<String>,
    /// Whole number, at least 1 (default 1).
    #[schema(minimum = 1, maximum = 1000000)]
    pub volume: Option<i64>,
}

/// Adds an asset by hand.
#[utoipa::path(post, operation_id = "add_asset",
    path = "/api/opportunities/{id}/assets", tag = "assets", request_body = NewAsset,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = AssetView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<NewAsset>,
) -> ApiResult<(StatusCode, Json<AssetView>)> {
    let id = uuid_param("id", &id)?;
    user.require(Role::Editor)?;
    let asset = Asset {
        asset_id: Uuid::new_v4(),
        raw_name: required_text("raw_name", &body.raw_name, limits::ASSET_NAME)?,
        raw_description: optional_text("raw_description", body.raw_description, limits::ASSET_DESCRIPTION)?,
        client_tier: optional_text("client_tier", body.client_tier, limits::CLIENT_TIER)?,
        volume: volume(body.volume.unwrap_or(1))?,
    };
    let asset_id = asset.asset_id;
    ensure_exists(&state.pool, id).await?;
    state.bus.execute(id, Cmd::AddAsset { asset, at: clock::now() }, &user).await?;
    Ok((StatusCode::CREATED, Json(load_asset(&state, id, asset_id).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct AssetChangesIn {
    #[schema(min_length = 1, max_length = 300)]
    pub raw_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub raw_description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 50)]
    pub client_tier: Option<Option<String>>,
    #[schema(minimum = 1, maximum = 1000000)]
    pub volume: Option<i64>,
}

/// Changes an asset; a built rate card is then marked stale until rebuilt.
#[utoipa::path(patch, operation_id = "update_asset", path = "/api/opportunities/{id}/assets/{asset_id}",
    tag = "assets", request_body = AssetChangesIn, params(("id" = Uuid, Path), ("asset_id" = Uuid, Path)),
    responses((status = 200, body = AssetView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, asset_id)): ValidPath<(String, String)>,
    ValidJson(body): ValidJson<AssetChangesIn>,
) -> ApiResult<Json<AssetView>> {
    let (id, asset_id) = (uuid_param("id", &id)?, uuid_param("asset_id", &asset_id)?);
    user.require(Role::Editor)?;
    let changes = AssetChanges {
        raw_name: body
            .raw_name
            .as_deref()
            .map(|n| required_text("raw_name", n, limits::ASSET_NAME))
            .transpose()?,
        raw_description: body
            .raw_description
            .map(|d| optional_text("raw_description", d, limits::ASSET_DESCRIPTION))
            .transpose()?,
        client_tier: body
            .client_tier
            .map(|t| optional_text("client_tier", t, limits::CLIENT_TIER))
            .transpose()?,
        volume: body.volume.map(volume).transpose()?,
    };
    load_asset(&state, id, asset_id).await?;
    state.bus.execute(id, Cmd::UpdateAsset { asset_id, changes, at: clock::now() }, &user).await?;
    Ok(Json(load_asset(&state, id, asset_id).await?))
}

/// Changes an asset exactly as PATCH does; a built rate card is then marked stale until rebuilt.
#[utoipa::path(put, operation_id = "update_asset_by_put", path = "/api/opportunities/{id}/assets/{asset_id}",
    tag = "assets", request_body = AssetChangesIn, params(("id" = Uuid, Path), ("asset_id" = Uuid, Path)),
    responses((status = 200, body = AssetView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_by_put(
    user: User,
    state: State<AppState>,
    ids: ValidPath<(String, String)>,
    body: ValidJson<AssetChangesIn>,
) -> ApiResult<Json<AssetView>> {
    update(user, state, ids, body).await
}

/// Removes an asset with its matches and rate-card lines.
#[utoipa::path(delete, operation_id = "remove_asset",
    path = "/api/opportunities/{id}/assets/{asset_id}", tag = "assets",
    params(("id" = Uuid, Path), ("asset_id" = Uuid, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn remove(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, asset_id)): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, asset_id) = (uuid_param("id", &id)?, uuid_param("asset_id", &asset_id)?);
    user.require(Role::Editor)?;
    load_asset(&state, id, asset_id).await?;
    state.bus.execute(id, Cmd::RemoveAsset { asset_id, at: clock::now() }, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

const MATCHES: &str =
    "SELECT id, asset_id, catalog_id AS gmal_id, catalog_id, catalog_asset_name, confidence, score AS confidence_score, rank,
        reasoning, caveats, is_selected FROM asset_matches";

/// Every asset's candidate matches, best first.
#[utoipa::path(get, operation_id = "list_matches",
    path = "/api/opportunities/{id}/matches", tag = "assets", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<MatchView>), (status = 404, body = Problem)))]
async fn list_matches(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<Vec<MatchView>>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(
        sqlx::query_as(&format!(
            "{MATCHES} m WHERE opportunity_id = $1
              ORDER BY (SELECT position FROM assets a WHERE a.id = m.asset_id), rank"
        ))
        .bind(id)
        .fetch_all(&state.pool)
        .await?,
    ))
}

async fn asset_matches(state: &AppState, id: Uuid, asset_id: Uuid) -> ApiResult<Vec<MatchView>> {
    Ok(sqlx::query_as(&format!("{MATCHES} WHERE opportunity_id = $1 AND asset_id = $2 ORDER BY rank"))
        .bind(id)
        .bind(asset_id)
        .fetch_all(&state.pool)
        .await?)
}

#[derive(Deserialize, ToSchema)]
pub struct Selection {
    pub is_selected: bool,
}

/// Selects a match (its siblings are deselected) or clears the asset's selection.
#[utoipa::path(put, operation_id = "select_match",
    path = "/api/opportunities/{id}/matches/{match_id}", tag = "assets", request_body = Selection,
    params(("id" = Uuid, Path), ("match_id" = Uuid, Path)),
    responses((status = 200, body = Vec<MatchView>, description = "the asset's matches"), (status = 404, body = Problem)))]
async fn select_match(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, match_id)): ValidPath<(String, String)>,
    ValidJson(body): ValidJson<Selection>,
) -> ApiResult<Json<Vec<MatchView>>> {
    let (id, match_id) = (uuid_param("id", &id)?, uuid_param("match_id", &match_id)?);
    user.require(Role::Editor)?;
    let asset_id: Uuid =
        sqlx::query_scalar("SELECT asset_id FROM asset_matches WHERE opportunity_id = $1 AND id = $2")
            .bind(id)
            .bind(match_id)
            .fetch_optional(&state.pool)
            .await?
            .ok_or(ApiError::NotFound("match"))?;
    let command = if body.is_selected {
        Cmd::SelectMatch { match_id, at: clock::now() }
    } else {
        Cmd::ClearMatchSelection { asset_id, at: clock::now() }
    };
    state.bus.execute(id, command, &user).await?;
    Ok(Json(asset_matches(&state, id, asset_id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ChosenEntry {
    #[schema(min_length = 1, max_length = 100)]
    pub catalog_id: String,
    #[schema(max_length = 4000)]
    pub reasoning: Option<String>,
}

/// Picks a catalog entry for the asset by hand; it becomes the selected match.
#[utoipa::path(post, operation_id = "choose_catalog_entry",
    path = "/api/opportunities/{id}/assets/{asset_id}/match", tag = "assets",
    request_body = ChosenEntry, params(("id" = Uuid, Path), ("asset_id" = Uuid, Path)),
    responses((status = 200, body = Vec<MatchView>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn choose_entry(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, asset_id)): ValidPath<(String, String)>,
    ValidJson(body): ValidJson<ChosenEntry>,
) -> ApiResult<Json<Vec<MatchView>>> {
    let (id, asset_id) = (uuid_param("id", &id)?, uuid_param("asset_id", &asset_id)?);
    user.require(Role::Editor)?;
    load_asset(&state, id, asset_id).await?;
    let catalog_id = required_text("catalog_id", &body.catalog_id, limits::LABEL)?;
    let reasoning = optional_text("reasoning", body.reasoning, limits::REASONING)?;
    let version = crate::catalog::current_version(&state.pool).await?;
    let entry = match version {
        Some(v) => crate::catalog::entries(&state.pool, v, std::slice::from_ref(&catalog_id)).await?.pop(),
        None => None,
    }
    .ok_or_else(|| {
        ApiError::invalid("catalog_id", format!("{catalog_id:?} is not in the current catalog"))
    })?;
    let candidate = CatalogMatch {
        match_id: Uuid::new_v4(),
        asset_id,
        catalog_id: entry.catalog_id,
        catalog_asset_name: entry.asset_name,
        confidence: MatchConfidence::Manual,
        score: 1.0,
        rank: 1,
        reasoning: reasoning.unwrap_or_else(|| format!("Chosen by {}", user.email)),
        caveats: entry.agency_caveats.unwrap_or_default(),
    };
    state.bus.execute(id, Cmd::ChooseCatalogEntry { candidate, at: clock::now() }, &user).await?;
    Ok(Json(asset_matches(&state, id, asset_id).await?))
}
