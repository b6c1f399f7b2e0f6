//! Every TROWLS scorecard saved for an opportunity, newest first.

use async_trait::async_trait;
use domain::OpportunityEvent as Ev;
use sqlx::PgConnection;

use crate::projection::EventByEvent;
use crate::stored_event::StoredEvent;

pub struct QualificationProjection;

#[async_trait]
impl EventByEvent for QualificationProjection {
    fn name(&self) -> &'static str {
        "qualification"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["qualification_scorecards"]
    }

    async fn apply_event(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(id) = stored.opportunity_id() else { return Ok(()) };
        if let Ev::QualificationScored {
            scores: s,
            total,
            percentage,
            recommendation,
            notes,
            scored_by,
            at,
        } = event
        {
            sqlx::query(
                "INSERT INTO qualification_scorecards (event_id, opportunity_id, version, timing, relationship,
                    opportunity, what_we_know, location, sector, total, percentage, recommendation, notes,
                    scored_by, scored_at)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT DO NOTHING",
            )
            .bind(stored.id())
            .bind(id)
            .bind(stored.sequence)
            .bind(i32::from(s.timing))
            .bind(i32::from(s.relationship))
            .bind(i32::from(s.opportunity))
            .bind(i32::from(s.what_we_know))
            .bind(i32::from(s.location))
            .bind(i32::from(s.sector))
            .bind(i32::from(*total))
            .bind(percentage)
            .bind(recommendation.as_str())
            .bind(notes)
            .bind(scored_by)
            .bind(at)
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }
}
