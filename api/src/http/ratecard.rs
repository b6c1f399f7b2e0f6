//! Stage 8's rate card: build it from the selected matches, read it with totals that multiply by volume.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::limits;
use domain::ratecard::{totals, RatecardLine, RatecardTotals};
use domain::roles::{self, Discipline, RoleLocation};
use domain::OpportunityCommand as Cmd;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_view::ensure_exists;
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{body_rejection, parse_json, require_json, uuid_param, ValidPath};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(build)).routes(routes!(get_ratecard))
}

#[derive(Serialize, ToSchema)]
pub struct LineView {
    pub asset_id: Uuid,
    pub asset_name: String,
    pub client_tier: Option<String>,
    /// The catalog entry, under the name the original system's clients read.
    pub gmal_id: String,
    pub catalog_id: String,
    pub catalog_asset_name: String,
    pub role: String,
    pub discipline: String,
    pub role_location: String,
    /// Hours for ONE asset.
    pub base_hours: f64,
    pub volume: u32,
    /// Hours for ONE asset, as the original system stores them (= `base_hours`, the "bug-4
    /// invariant"): whoever totals effort multiplies by `volume` itself.
    pub total_hours: f64,
    /// The line's hours for its whole volume: `base_hours × volume`.
    pub hours_for_volume: f64,
    #[schema(value_type = Option<String>)]
    pub rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub cost: Option<Decimal>,
}

#[derive(Serialize, ToSchema)]
pub struct AssetHours {
    pub asset_id: Uuid,
    pub asset_name: String,
    pub volume: u32,
    pub hours_per_asset: f64,
    pub total_hours: f64,
}

#[derive(Serialize, ToSchema)]
pub struct RatecardView {
    pub catalog_version: i64,
    pub model_type: String,
    pub currency: Option<String>,
    /// Assets or selections changed since it was built: rebuild before relying on it.
    pub stale: bool,
    pub built_at: DateTime<Utc>,
    pub lines: Vec<LineView>,
    pub assets: Vec<AssetHours>,
    #[schema(value_type = super::domain_schemas::RatecardTotals)]
    pub totals: RatecardTotals,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    asset_id: Uuid,
    asset_name: String,
    client_tier: Option<String>,
    catalog_id: String,
    catalog_asset_name: String,
    role: String,
    discipline: String,
    role_location: String,
    base_hours: f64,
    volume: i32,
    rate: Option<Decimal>,
}

#[derive(sqlx::FromRow)]
struct Header {
    catalog_version: i64,
    model_type: String,
    currency: Option<String>,
    stale: bool,
    built_at: DateTime<Utc>,
}

/// The stored lines as domain values, in build order.
pub async fn load_lines(state: &AppState, id: Uuid) -> ApiResult<Vec<RatecardLine>> {
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT asset_id, asset_name, client_tier, catalog_id, catalog_asset_name, role, discipline, role_location,
                base_hours, volume, rate
           FROM ratecard_lines WHERE opportunity_id = $1 ORDER BY line_no",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RatecardLine {
            asset_id: r.asset_id,
            asset_name: r.asset_name,
            client_tier: r.client_tier,
            catalog_id: r.catalog_id,
            catalog_asset_name: r.catalog_asset_name,
            role: r.role,
            discipline: Discipline::parse(&r.discipline).unwrap_or(Discipline::Production),
            role_location: RoleLocation::parse(&r.role_location).unwrap_or_default(),
            base_hours: r.base_hours,
            volume: r.volume as u32,
            rate: r.rate,
        })
        .collect())
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<RatecardView> {
    let header: Option<Header> = sqlx::query_as(
        "SELECT catalog_version, model_type, currency, stale, built_at FROM ratecards WHERE opportunity_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let Header { catalog_version, model_type, currency, stale, built_at } =
        header.ok_or(ApiError::NotFound("rate card (build it first)"))?;
    let lines = load_lines(state, id).await?;
    let mut assets: Vec<AssetHours> = Vec::new();
    for l in &lines {
        match assets.iter_mut().find(|a| a.asset_id == l.asset_id) {
            Some(a) => a.hours_per_asset += l.base_hours,
            None => assets.push(AssetHours {
                asset_id: l.asset_id,
                asset_name: l.asset_name.clone(),
                volume: l.volume,
                hours_per_asset: l.base_hours,
                total_hours: 0.0,
            }),
        }
    }
    for a in &mut assets {
        a.total_hours = a.hours_per_asset * f64::from(a.volume);
    }
    let totals = totals(&lines);
    let lines = lines
        .into_iter()
        .map(|l| LineView {
            total_hours: l.base_hours,
            hours_for_volume: l.hours_for_volume(),
            cost: l.cost(),
            gmal_id: l.catalog_id.clone(),
            asset_id: l.asset_id,
            asset_name: l.asset_name,
            client_tier: l.client_tier,
            catalog_id: l.catalog_id,
            catalog_asset_name: l.catalog_asset_name,
            role: l.role,
            discipline: l.discipline.as_str().to_string(),
            role_location: l.role_location.as_str().to_string(),
            base_hours: l.base_hours,
            volume: l.volume,
            rate: l.rate,
        })
        .collect();
    Ok(RatecardView { catalog_version, model_type, currency, stale, built_at, lines, assets, totals })
}

#[derive(Deserialize, ToSchema, Default)]
pub struct BuildRequest {
    /// Hourly rate per role (e.g. {"Designer": 85.5}); when every role has one, the card is priced.
    #[serde(default)]
    pub rates: BTreeMap<String, f64>,
    /// ISO 4217 code for the rates, e.g. EUR.
    pub currency: Option<String>,
}

/// Builds (or rebuilds, replacing) the rate card from every asset's selected match, with the hours
/// of the current catalog for the opportunity's model type.
#[utoipa::path(post, operation_id = "build_ratecard",
    path = "/api/opportunities/{id}/ratecard/build", tag = "ratecard",
    request_body(content = Option<BuildRequest>, description = "optional: without it the card is unpriced"),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RatecardView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn build(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<RatecardView>> {
    let id = uuid_param("id", &id)?;
    user.require(Role::Editor)?;
    // The body is optional: none (or JSON `null`, as the document allows) builds an unpriced card.
    let body = body.map_err(body_rejection)?;
    let body: BuildRequest = match body.trim_ascii() {
        b"" => BuildRequest::default(),
        b"null" => require_json(&headers).map(|()| BuildRequest::default())?,
        _ => require_json(&headers).and_then(|()| parse_json(&body))?,
    };
    let mut rates = BTreeMap::new();
    for (role, rate) in body.rates {
        let field = format!("rates.{role}");
        let (name, _) = roles::role(&role)
            .ok_or_else(|| ApiError::invalid(&field, format!("{role:?} is not a known role")))?;
        let rate = Decimal::from_f64(rate).map(|r| r.round_dp(2)).ok_or_else(|| {
            ApiError::invalid(&field, format!("{field} must be a number from 0 to {}", limits::max_rate()))
        })?;
        limits::rate(&field, rate)?;
        rates.insert(name.to_string(), rate);
    }
    let currency = body.currency.map(|c| c.trim().to_ascii_uppercase());
    if let Some(c) = &currency {
        limits::currency("currency", c)?;
    }
    ensure_exists(&state.pool, id).await?;
    let selected: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT catalog_id FROM asset_matches WHERE opportunity_id = $1 AND is_selected",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let version = crate::catalog::current_version(&state.pool).await?.unwrap_or(0);
    let entries = crate::catalog::entries(&state.pool, version, &selected).await?;
    let command = Cmd::BuildRatecard { catalog_version: version, entries, rates, currency, at: clock::now() };
    state.bus.execute(id, command, &user).await?;
    Ok(Json(load(&state, id).await?))
}

/// The rate card: lines (hours for one asset and the volume), per-asset hours and totals.
#[utoipa::path(get, operation_id = "get_ratecard",
    path = "/api/opportunities/{id}/ratecard", tag = "ratecard", params(("id" = Uuid, Path)),
    responses((status = 200, body = RatecardView), (status = 404, body = Problem)))]
async fn get_ratecard(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<RatecardView>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(load(&state, id).await?))
}
