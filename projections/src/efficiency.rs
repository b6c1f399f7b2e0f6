//! The saved efficiency profile of each opportunity and the hand-off summaries of won deals.

use async_trait::async_trait;
use domain::OpportunityEvent as Ev;
use sqlx::types::Json;
use sqlx::PgConnection;

use crate::projection::EventByEvent;
use crate::stored_event::StoredEvent;

pub struct EfficiencyProjection;

#[async_trait]
impl EventByEvent for EfficiencyProjection {
    fn name(&self) -> &'static str {
        "efficiency"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["efficiency_profiles", "handoffs"]
    }

    async fn apply_event(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opp) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::EfficiencyProfileSet { profile: p, at } => {
                sqlx::query(
                    "INSERT INTO efficiency_profiles (opportunity_id, scenario, blanket_pct, discipline_overrides,
                        tools_applied, notes, saved_by, saved_at)
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
                     ON CONFLICT (opportunity_id) DO UPDATE SET scenario = EXCLUDED.scenario,
                        blanket_pct = EXCLUDED.blanket_pct, discipline_overrides = EXCLUDED.discipline_overrides,
                        tools_applied = EXCLUDED.tools_applied, notes = EXCLUDED.notes, saved_by = EXCLUDED.saved_by,
                        saved_at = EXCLUDED.saved_at",
                )
                .bind(opp)
                .bind(serde_json::to_value(p.scenario).ok().and_then(|v| v.as_str().map(str::to_string)))
                .bind(p.blanket_pct)
                .bind(Json(&p.discipline_overrides))
                .bind(Json(&p.tools_applied))
                .bind(&p.notes)
                .bind(stored.actor().unwrap_or_default())
                .bind(at)
                .execute(&mut *db)
                .await?;
            }
            Ev::OpportunityHandedOff { summary, at } => {
                sqlx::query(
                    "INSERT INTO handoffs (opportunity_id, summary, handed_off_at) VALUES ($1, $2, $3)
                     ON CONFLICT (opportunity_id) DO UPDATE SET summary = EXCLUDED.summary,
                        handed_off_at = EXCLUDED.handed_off_at",
                )
                .bind(opp)
                .bind(Json(summary))
                .bind(at)
                .execute(&mut *db)
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
