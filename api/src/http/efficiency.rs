//! Stage 10's efficiency profile and stage 11's team shape computed from the rate card.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::efficiency::{EfficiencyProfile, Scenario};
use domain::limits;
use domain::roles::Discipline;
use domain::team_shape::{team_shape, TeamShape};
use domain::OpportunityCommand as Cmd;
use serde::{Deserialize, Serialize};
use sqlx::types::Json as Jsonb;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_input::optional_text;
use super::opportunity_view::ensure_exists;
use super::ratecard::load_lines;
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidJson, ValidPath, ValidQuery};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(save, get_profile)).routes(routes!(get_team_shape))
}

#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct ProfileIn {
    /// conservative, moderate, aggressive or custom.
    pub scenario: String,
    /// 0–100; applied capped at 90.
    #[schema(minimum = 0, maximum = 100)]
    pub blanket_pct: f64,
    /// Discipline → percentage (0–100; applied capped at 90). Programme roles are never reduced.
    #[serde(default)]
    pub discipline_overrides: BTreeMap<String, f64>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tools_applied: Vec<String>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ProfileView {
    pub scenario: String,
    pub blanket_pct: f64,
    /// Discipline → percentage (0–100; applied capped at 90).
    #[schema(value_type = BTreeMap<String, f64>)]
    pub discipline_overrides: Jsonb<BTreeMap<Discipline, f64>>,
    #[schema(value_type = Vec<String>)]
    pub tools_applied: Jsonb<Vec<String>>,
    pub notes: Option<String>,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

fn pct(field: &str, v: f64) -> ApiResult<f64> {
    limits::percent(field, v)?;
    Ok(v)
}

fn overrides(raw: &BTreeMap<String, f64>, field: &str) -> ApiResult<BTreeMap<Discipline, f64>> {
    raw.iter()
        .map(|(k, v)| {
            let here = format!("{field}.{k}");
            let d = Discipline::parse(k).ok_or_else(|| {
                ApiError::invalid(&here, format!("{k:?} is not a discipline (Creative, Motion, Production, Technology, Account, Programme)"))
            })?;
            Ok((d, pct(&here, *v)?))
        })
        .collect()
}

async fn load_profile(state: &AppState, id: Uuid) -> ApiResult<Option<ProfileView>> {
    Ok(sqlx::query_as(
        "SELECT scenario, blanket_pct, discipline_overrides, tools_applied, notes, saved_by, saved_at
           FROM efficiency_profiles WHERE opportunity_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?)
}

/// Saves the efficiency profile (every save is an event in the opportunity's history).
#[utoipa::path(post, operation_id = "save_efficiency_profile",
    path = "/api/opportunities/{id}/efficiency-profile", tag = "team shape", request_body = ProfileIn,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ProfileView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<ProfileIn>,
) -> ApiResult<Json<ProfileView>> {
    let id = uuid_param("id", &id)?;
    user.require(Role::Editor)?;
    let scenario = Scenario::parse(&body.scenario).ok_or_else(|| {
        ApiError::invalid("scenario", "scenario must be conservative, moderate, aggressive or custom")
    })?;
    if body.tools_applied.len() > limits::TOOLS {
        return Err(domain::InputError::TooMany { field: "tools_applied".into(), max: limits::TOOLS }.into());
    }
    let mut tools = Vec::with_capacity(body.tools_applied.len());
    for (i, t) in body.tools_applied.into_iter().enumerate() {
        tools.extend(optional_text(&format!("tools_applied[{i}]"), Some(t), limits::LABEL)?);
    }
    let profile = EfficiencyProfile {
        scenario,
        blanket_pct: pct("blanket_pct", body.blanket_pct)?,
        discipline_overrides: overrides(&body.discipline_overrides, "discipline_overrides")?,
        tools_applied: tools,
        notes: optional_text("notes", body.notes, limits::NOTES)?,
    };
    ensure_exists(&state.pool, id).await?;
    state.bus.execute(id, Cmd::SetEfficiencyProfile { profile, at: clock::now() }, &user).await?;
    load_profile(&state, id).await?.map(Json).ok_or(ApiError::NotFound("efficiency profile"))
}

/// The saved efficiency profile.
#[utoipa::path(get, operation_id = "get_efficiency_profile",
    path = "/api/opportunities/{id}/efficiency-profile", tag = "team shape", params(("id" = Uuid, Path)),
    responses((status = 200, body = ProfileView), (status = 404, body = Problem)))]
async fn get_profile(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<ProfileView>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    load_profile(&state, id).await?.map(Json).ok_or(ApiError::NotFound("efficiency profile (none saved yet)"))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamShapeQuery {
    /// Blanket efficiency percentage; without it the saved profile applies.
    pub efficiency_pct: Option<f64>,
    /// JSON object of discipline → percentage, e.g. {"Creative":40}.
    pub discipline_overrides: Option<String>,
}

/// The team shape under the saved profile (none saved: no efficiency), and the blanket percentage used.
pub async fn saved_shape(state: &AppState, id: Uuid) -> ApiResult<(TeamShape, Option<f64>)> {
    let saved = load_profile(state, id).await?;
    let blanket = saved.as_ref().map(|p| p.blanket_pct);
    let overrides = saved.map(|p| p.discipline_overrides.0).unwrap_or_default();
    let lines = load_lines(state, id).await?;
    Ok((team_shape(&lines, blanket.unwrap_or(0.0), &overrides), blanket))
}

/// FTEs per role from the rate card (hours × volume ÷ 1800), after efficiency, grouped by discipline.
#[utoipa::path(get, operation_id = "get_team_shape",
    path = "/api/opportunities/{id}/team-shape", tag = "team shape",
    params(("id" = Uuid, Path), TeamShapeQuery),
    responses((status = 200, body = super::domain_schemas::TeamShape), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn get_team_shape(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TeamShapeQuery>,
) -> ApiResult<Json<TeamShape>> {
    let id = uuid_param("id", &id)?;
    let asked = q
        .discipline_overrides
        .as_deref()
        .map(|raw| {
            let parsed: BTreeMap<String, f64> = serde_json::from_str(raw).map_err(|e| {
                ApiError::invalid(
                    "discipline_overrides",
                    format!("discipline_overrides must be a JSON object of numbers: {e}"),
                )
            })?;
            overrides(&parsed, "discipline_overrides")
        })
        .transpose()?;
    let blanket = q.efficiency_pct.map(|p| pct("efficiency_pct", p)).transpose()?;
    ensure_exists(&state.pool, id).await?;
    let saved = load_profile(&state, id).await?;
    let (blanket, overrides) = match (blanket, asked) {
        (None, None) => saved.map(|p| (p.blanket_pct, p.discipline_overrides.0)).unwrap_or_default(),
        (b, o) => (b.unwrap_or(0.0), o.unwrap_or_default()),
    };
    let lines = load_lines(&state, id).await?;
    Ok(Json(team_shape(&lines, blanket, &overrides)))
}
