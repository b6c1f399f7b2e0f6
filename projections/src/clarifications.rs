//! The client clarification questions of each opportunity and where each stands.

use async_trait::async_trait;
use domain::clarification::ClarificationStatus as S;
use domain::OpportunityEvent as Ev;
use sqlx::PgConnection;

use crate::{Projection, StoredEvent};

pub struct ClarificationsProjection;

async fn insert(
    db: &mut PgConnection,
    opportunity_id: uuid::Uuid,
    c: &domain::clarification::NewClarification,
    position: i64,
    at: &chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO clarifications (id, opportunity_id, category, question, rationale, priority,
            source_stage, status, position, created_at, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(c.clarification_id)
    .bind(opportunity_id)
    .bind(&c.category)
    .bind(&c.question)
    .bind(&c.rationale)
    .bind(c.priority.as_str())
    .bind(i32::from(c.source_stage))
    .bind(S::Pending.as_str())
    .bind(position)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait]
impl Projection for ClarificationsProjection {
    fn name(&self) -> &'static str {
        "clarifications"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["clarifications"]
    }

    async fn apply(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opportunity_id) = stored.opportunity_id() else { return Ok(()) };
        let (id, status, answer, answered_at, reason, at) = match event {
            Ev::ClarificationsReplaced { removed, added, at, .. } => {
                sqlx::query("DELETE FROM clarifications WHERE id = ANY($1)")
                    .bind(removed)
                    .execute(&mut *db)
                    .await?;
                for (n, c) in added.iter().enumerate() {
                    insert(db, opportunity_id, c, stored.order(n), at).await?;
                }
                return Ok(());
            }
            Ev::ClarificationAdded { clarification: c, at } => {
                insert(db, opportunity_id, c, stored.order(0), at).await?;
                return Ok(());
            }
            Ev::ClarificationAnswered { clarification_id, answer, at } => {
                (clarification_id, S::Answered, Some(answer.as_str()), Some(*at), None, at)
            }
            Ev::ClarificationDismissed { clarification_id, reason, at } => {
                (clarification_id, S::Dismissed, None, None, reason.as_deref(), at)
            }
            Ev::ClarificationReopened { clarification_id, at } => {
                (clarification_id, S::Pending, None, None, None, at)
            }
            _ => return Ok(()),
        };
        // An answer is kept when a question is dismissed or reopened, as the aggregate keeps it.
        sqlx::query(
            "UPDATE clarifications SET status = $2, client_answer = COALESCE($3, client_answer),
                answered_at = CASE WHEN $2 = 'answered' THEN $4 WHEN $2 = 'pending' THEN NULL ELSE answered_at END,
                dismissal_reason = $5,
                updated_at = $6
              WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(answer)
        .bind(answered_at)
        .bind(reason)
        .bind(at)
        .execute(&mut *db)
        .await?;
        Ok(())
    }
}
