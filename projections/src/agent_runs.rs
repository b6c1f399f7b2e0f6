//! Agent runs with their status, artifact (output), token usage and cost.

use async_trait::async_trait;
use domain::OpportunityEvent as Ev;
use sqlx::types::Json;
use sqlx::PgConnection;

use crate::projection::EventByEvent;
use crate::stored_event::StoredEvent;

pub struct AgentRunsProjection;

#[async_trait]
impl EventByEvent for AgentRunsProjection {
    fn name(&self) -> &'static str {
        "agent_runs"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["agent_runs"]
    }

    async fn apply_event(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opp) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::AgentRunRequested {
                run_id,
                agent,
                stage,
                input_digest,
                prompt_version,
                requested_by,
                at,
            } => {
                sqlx::query(
                    "INSERT INTO agent_runs (run_id, opportunity_id, agent, stage, status, input_digest, prompt_version,
                        requested_by, requested_at)
                     VALUES ($1,$2,$3,$4,'requested',$5,$6,$7,$8) ON CONFLICT (run_id) DO NOTHING",
                )
                .bind(run_id)
                .bind(opp)
                .bind(agent.name())
                .bind(i32::from(*stage))
                .bind(input_digest)
                .bind(prompt_version)
                .bind(requested_by)
                .bind(at)
                .execute(&mut *db)
                .await?;
            }
            Ev::ArtifactProduced { run_id, output, model, usage: u, cost_usd, at, .. } => {
                sqlx::query(
                    "UPDATE agent_runs SET status = 'succeeded', finished_at = $2, model = $3, input_tokens = $4,
                        output_tokens = $5, cache_creation_input_tokens = $6, cache_read_input_tokens = $7,
                        cost_usd = $8, output = $9
                      WHERE run_id = $1",
                )
                .bind(run_id)
                .bind(at)
                .bind(model)
                .bind(u.input_tokens as i64)
                .bind(u.output_tokens as i64)
                .bind(u.cache_creation_input_tokens as i64)
                .bind(u.cache_read_input_tokens as i64)
                .bind(cost_usd)
                .bind(Json(output))
                .execute(&mut *db)
                .await?;
            }
            Ev::AgentRunFailed { run_id, reason, at, .. } => {
                sqlx::query("UPDATE agent_runs SET status = 'failed', finished_at = $2, failure = $3 WHERE run_id = $1")
                    .bind(run_id)
                    .bind(at)
                    .bind(reason)
                    .execute(&mut *db)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
