//! The opportunity as clients see it, read from the projection or folded from the log (time travel).

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Opportunity, StageNumber};
use projections::opportunities::StageState;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow, PartialEq)]
pub struct OpportunitySummary {
    pub id: Uuid,
    pub name: String,
    pub client_name: Option<String>,
    pub region: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub brands: Json<Vec<String>>,
    #[schema(value_type = Vec<String>)]
    pub service_types: Json<Vec<String>>,
    pub deadline: Option<NaiveDate>,
    pub go_live: Option<NaiveDate>,
    pub description: Option<String>,
    pub model_type: String,
    pub owner_email: String,
    pub created_by: String,
    /// `active` or `archived`.
    pub status: String,
    pub current_stage: i32,
    /// `active`, `won`, `lost` or `deprioritized`.
    pub deal_status: String,
    pub lessons_learned: Option<String>,
    /// The latest TROWLS scorecard: total out of 60, percentage, recommendation.
    pub qualification_total: Option<i32>,
    pub qualification_score: Option<f64>,
    pub qualification_recommendation: Option<String>,
    /// What the agents have cost on this opportunity so far, in USD (every recorded run).
    #[schema(value_type = String)]
    pub total_cost_usd: Decimal,
    /// The number of events recorded for this opportunity; `as_of_version` takes one of these.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct StageStateView {
    pub stage_number: i32,
    pub name: String,
    /// `not_started`, `in_progress` or `completed`.
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct OpportunityDetail {
    #[serde(flatten)]
    pub summary: OpportunitySummary,
    pub stages: Vec<StageStateView>,
}

pub const SUMMARY_COLUMNS: &str = "id, name, client_name, region, brands, service_types, deadline, go_live, \
    description, model_type, owner_email, created_by, status, current_stage, deal_status, lessons_learned, \
    qualification_total, qualification_percentage AS qualification_score, qualification_recommendation, \
    total_cost_usd, version, created_at, updated_at, archived_at";

impl From<StageState> for StageStateView {
    fn from(s: StageState) -> Self {
        let name = u8::try_from(s.stage_number).ok().and_then(StageNumber::new).map_or("", |n| n.name());
        Self {
            stage_number: s.stage_number,
            name: name.to_string(),
            status: s.status,
            started_at: s.started_at,
            completed_at: s.completed_at,
        }
    }
}

/// The 17 stage states, in stage order; 404 when the opportunity does not exist.
pub async fn load_stages(pool: &PgPool, id: Uuid) -> ApiResult<Vec<StageStateView>> {
    let stages: Option<Json<Vec<StageState>>> =
        sqlx::query_scalar("SELECT stages FROM opportunities WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    let Json(stages) = stages.ok_or(ApiError::NotFound("opportunity"))?;
    Ok(stages.into_iter().map(StageStateView::from).collect())
}

pub async fn load_detail(pool: &PgPool, id: Uuid) -> ApiResult<OpportunityDetail> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        summary: OpportunitySummary,
        stages: Json<Vec<StageState>>,
    }
    let row: Row =
        sqlx::query_as(&format!("SELECT {SUMMARY_COLUMNS}, stages FROM opportunities WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(ApiError::NotFound("opportunity"))?;
    Ok(OpportunityDetail {
        summary: row.summary,
        stages: row.stages.0.into_iter().map(StageStateView::from).collect(),
    })
}

/// Fails with 404 unless the opportunity exists (archived ones included).
pub async fn ensure_exists(pool: &PgPool, id: Uuid) -> ApiResult<()> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM opportunities WHERE id = $1").bind(id).fetch_optional(pool).await?;
    found.map(|_| ()).ok_or(ApiError::NotFound("opportunity"))
}

impl OpportunityDetail {
    /// Renders a folded aggregate exactly as the projection would have stored it.
    pub fn from_aggregate(o: &Opportunity, version: usize) -> Option<Self> {
        let id = o.id?;
        let d = &o.details;
        let summary = OpportunitySummary {
            id,
            name: d.name.clone(),
            client_name: d.client_name.clone(),
            region: d.region.clone(),
            brands: Json(d.brands.clone()),
            service_types: Json(d.service_types.clone()),
            deadline: d.deadline,
            go_live: d.go_live,
            description: d.description.clone(),
            model_type: d.model_type.clone(),
            owner_email: d.owner_email.clone(),
            created_by: o.created_by.clone(),
            status: projections::opportunities::lifecycle_str(o.lifecycle).to_string(),
            current_stage: i32::from(o.current_stage().get()),
            deal_status: o.deal_status.as_str().to_string(),
            lessons_learned: o.lessons_learned.clone(),
            qualification_total: o.qualification.as_ref().map(|q| i32::from(q.total)),
            qualification_score: o.qualification.as_ref().map(|q| q.percentage),
            qualification_recommendation: o
                .qualification
                .as_ref()
                .map(|q| q.recommendation.as_str().to_string()),
            total_cost_usd: o.total_cost_usd,
            version: version as i64,
            created_at: o.created_at?,
            updated_at: o.updated_at?,
            archived_at: o.archived_at,
        };
        let stages = o
            .stages
            .iter()
            .map(|(n, s): (StageNumber, _)| StageStateView {
                stage_number: i32::from(n.get()),
                name: n.name().to_string(),
                status: s.status.as_str().to_string(),
                started_at: s.started_at,
                completed_at: s.completed_at,
            })
            .collect();
        Some(Self { summary, stages })
    }
}
