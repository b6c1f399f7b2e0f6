//! Approvals per opportunity and stage, found by id or by the digest of their deeplink token.

use async_trait::async_trait;
use domain::{ApprovalStatus, OpportunityEvent as Ev};
use sqlx::PgConnection;

use crate::projection::EventByEvent;
use crate::stored_event::StoredEvent;

pub struct ApprovalsProjection;

#[async_trait]
impl EventByEvent for ApprovalsProjection {
    fn name(&self) -> &'static str {
        "approvals"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["approvals"]
    }

    async fn apply_event(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opportunity_id) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::ApprovalRequested {
                approval_id,
                stage,
                role,
                approver_email,
                token_digest,
                requested_by,
                supersedes,
                at,
            } => {
                if let Some(old) = supersedes {
                    sqlx::query("UPDATE approvals SET status = $2 WHERE id = $1")
                        .bind(old)
                        .bind(ApprovalStatus::Superseded.as_str())
                        .execute(&mut *db)
                        .await?;
                }
                sqlx::query(
                    "INSERT INTO approvals (id, opportunity_id, stage, role, approver_email, token_digest, status,
                        requested_by, requested_at, supersedes)
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (id) DO NOTHING",
                )
                .bind(approval_id)
                .bind(opportunity_id)
                .bind(i32::from(stage.get()))
                .bind(role.as_str())
                .bind(approver_email)
                .bind(token_digest)
                .bind(ApprovalStatus::Pending.as_str())
                .bind(requested_by)
                .bind(at)
                .bind(supersedes)
                .execute(&mut *db)
                .await?;
            }
            Ev::ApprovalDecided { approval_id, decision, notes, decided_by, at, .. } => {
                sqlx::query(
                    "UPDATE approvals SET status = $2, notes = $3, decided_by = $4, decided_at = $5 WHERE id = $1",
                )
                .bind(approval_id)
                .bind(ApprovalStatus::from(*decision).as_str())
                .bind(notes)
                .bind(decided_by)
                .bind(at)
                .execute(&mut *db)
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
