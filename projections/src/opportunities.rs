//! Opportunity list/detail and the 17 stage states of each.

use async_trait::async_trait;
use domain::{Lifecycle, OpportunityEvent as Ev, StageStatus, STAGE_NAMES};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{Projection, StoredEvent};

pub struct OpportunitiesProjection;

#[async_trait]
impl Projection for OpportunitiesProjection {
    fn name(&self) -> &'static str {
        "opportunities"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["opportunities", "stage_states"]
    }

    async fn apply(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(id) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::OpportunityCreated { details: d, created_by, at, .. } => {
                sqlx::query(
                    "INSERT INTO opportunities (id, name, client_name, region, brands, service_types, deadline,
                        go_live, description, model_type, owner_email, created_by, status, current_stage,
                        deal_status, version, created_at, updated_at)
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'active',1,'active',$13,$14,$14)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(&d.name)
                .bind(&d.client_name)
                .bind(&d.region)
                .bind(sqlx::types::Json(&d.brands))
                .bind(sqlx::types::Json(&d.service_types))
                .bind(d.deadline)
                .bind(d.go_live)
                .bind(&d.description)
                .bind(&d.model_type)
                .bind(&d.owner_email)
                .bind(created_by)
                .bind(stored.sequence)
                .bind(at)
                .execute(&mut *db)
                .await?;
                // One statement for all 17 stages: a rebuild creates many opportunities, and a
                // round trip per stage made creation the costliest event to project.
                let stages: Vec<i32> = (1..=STAGE_NAMES.len() as i32).collect();
                sqlx::query(
                    "INSERT INTO stage_states (opportunity_id, stage, name, status)
                     SELECT $1, stage, name, $4 FROM UNNEST($2::int4[], $3::text[]) AS s(stage, name)
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(&stages)
                .bind(STAGE_NAMES.as_slice())
                .bind(StageStatus::NotStarted.as_str())
                .execute(&mut *db)
                .await?;
            }
            Ev::OpportunityDetailsUpdated { changes: c, .. } | Ev::IntakeApplied { changes: c, .. } => {
                // COALESCE keeps untouched fields; the flags say which nullable ones were set (maybe to null).
                sqlx::query(
                    "UPDATE opportunities SET
                        name = COALESCE($2, name),
                        client_name = CASE WHEN $3 THEN $4 ELSE client_name END,
                        region = CASE WHEN $5 THEN $6 ELSE region END,
                        brands = COALESCE($7, brands),
                        service_types = COALESCE($8, service_types),
                        deadline = CASE WHEN $9 THEN $10 ELSE deadline END,
                        go_live = CASE WHEN $11 THEN $12 ELSE go_live END,
                        description = CASE WHEN $13 THEN $14 ELSE description END,
                        model_type = COALESCE($15, model_type),
                        owner_email = COALESCE($16, owner_email)
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&c.name)
                .bind(c.client_name.is_some())
                .bind(c.client_name.clone().flatten())
                .bind(c.region.is_some())
                .bind(c.region.clone().flatten())
                .bind(c.brands.as_ref().map(sqlx::types::Json))
                .bind(c.service_types.as_ref().map(sqlx::types::Json))
                .bind(c.deadline.is_some())
                .bind(c.deadline.flatten())
                .bind(c.go_live.is_some())
                .bind(c.go_live.flatten())
                .bind(c.description.is_some())
                .bind(c.description.clone().flatten())
                .bind(&c.model_type)
                .bind(&c.owner_email)
                .execute(&mut *db)
                .await?;
            }
            Ev::OpportunityArchived { at } => {
                sqlx::query("UPDATE opportunities SET status = $2, archived_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(lifecycle_str(Lifecycle::Archived))
                    .bind(at)
                    .execute(&mut *db)
                    .await?;
            }
            Ev::StageStarted { stage, at } => {
                set_stage(db, id, stage.get(), StageStatus::InProgress, "started_at", *at).await?;
            }
            Ev::StageCompleted { stage, at, .. } => {
                set_stage(db, id, stage.get(), StageStatus::Completed, "completed_at", *at).await?;
            }
            Ev::DealStatusChanged { to, lessons_learned, .. } => {
                sqlx::query("UPDATE opportunities SET deal_status = $2, lessons_learned = $3 WHERE id = $1")
                    .bind(id)
                    .bind(to.as_str())
                    .bind(lessons_learned)
                    .execute(&mut *db)
                    .await?;
            }
            Ev::QualificationScored { total, percentage, recommendation, .. } => {
                sqlx::query(
                    "UPDATE opportunities SET qualification_total = $2, qualification_percentage = $3,
                        qualification_recommendation = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(i32::from(*total))
                .bind(percentage)
                .bind(recommendation.as_str())
                .execute(&mut *db)
                .await?;
            }
            _ => {}
        }
        sqlx::query("UPDATE opportunities SET version = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(stored.sequence)
            .bind(event.at())
            .execute(&mut *db)
            .await?;
        Ok(())
    }
}

pub fn lifecycle_str(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Absent => "absent",
        Lifecycle::Active => "active",
        Lifecycle::Archived => "archived",
    }
}

async fn set_stage(
    db: &mut PgConnection,
    id: Uuid,
    stage: u8,
    status: StageStatus,
    stamp: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE stage_states SET status = $3, {stamp} = $4 WHERE opportunity_id = $1 AND stage = $2"
    ))
    .bind(id)
    .bind(i32::from(stage))
    .bind(status.as_str())
    .bind(at)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "UPDATE opportunities SET current_stage =
            (SELECT COALESCE(MIN(stage), 17) FROM stage_states WHERE opportunity_id = $1 AND status <> 'completed')
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *db)
    .await?;
    Ok(())
}
