//! In-app notifications: the approver hears of a request, the owner hears of each decision.
//!
//! Keeps its own note of each opportunity's name and owner so it never depends on another
//! projection's progress. Notification ids derive from the event, so a rebuild gives the same ids.

use async_trait::async_trait;
use domain::{ApprovalDecision, OpportunityEvent as Ev};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{Projection, StoredEvent};

pub struct NotificationsProjection;

#[async_trait]
impl Projection for NotificationsProjection {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["notifications", "notification_recipients"]
    }

    async fn apply(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opportunity_id) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::OpportunityCreated { details, .. } => {
                sqlx::query(
                    "INSERT INTO notification_recipients (opportunity_id, opportunity_name, owner_email)
                     VALUES ($1, $2, $3) ON CONFLICT (opportunity_id) DO NOTHING",
                )
                .bind(opportunity_id)
                .bind(&details.name)
                .bind(&details.owner_email)
                .execute(&mut *db)
                .await?;
            }
            Ev::OpportunityDetailsUpdated { changes, .. } => {
                sqlx::query(
                    "UPDATE notification_recipients
                        SET opportunity_name = COALESCE($2, opportunity_name), owner_email = COALESCE($3, owner_email)
                      WHERE opportunity_id = $1",
                )
                .bind(opportunity_id)
                .bind(&changes.name)
                .bind(&changes.owner_email)
                .execute(&mut *db)
                .await?;
            }
            Ev::ApprovalRequested { approval_id, stage, role, approver_email, requested_by, at, .. } => {
                let name = opportunity_name(db, opportunity_id).await?;
                let note = Note {
                    kind: "approval_requested",
                    title: format!("Approval requested: {name}, stage {} ({})", stage.get(), role.as_str()),
                    body: format!(
                        "{requested_by} asks for your {} approval of stage {}.",
                        role.as_str(),
                        stage.name()
                    ),
                    link: format!("/approvals/{approval_id}"),
                };
                note.insert(db, stored, opportunity_id, approver_email, *at).await?;
            }
            Ev::ApprovalDecided { approval_id, stage, decision, decided_by, notes, at } => {
                let (name, owner) = sqlx::query_as::<_, (String, String)>(
                    "SELECT opportunity_name, owner_email FROM notification_recipients WHERE opportunity_id = $1",
                )
                .bind(opportunity_id)
                .fetch_one(&mut *db)
                .await?;
                let verdict = match decision {
                    ApprovalDecision::Approve => "approved",
                    ApprovalDecision::Reject => "rejected",
                };
                let note = Note {
                    kind: "approval_decided",
                    title: format!("Stage {} {verdict}: {name}", stage.get()),
                    body: match notes {
                        Some(n) => format!("{decided_by} {verdict} stage {}: {n}", stage.name()),
                        None => format!("{decided_by} {verdict} stage {}.", stage.name()),
                    },
                    link: format!("/approvals/{approval_id}"),
                };
                note.insert(db, stored, opportunity_id, &owner, *at).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

struct Note {
    kind: &'static str,
    title: String,
    body: String,
    link: String,
}

impl Note {
    async fn insert(
        self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        opportunity_id: Uuid,
        recipient: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), sqlx::Error> {
        let id = Uuid::new_v5(&stored.id(), recipient.to_lowercase().as_bytes());
        sqlx::query(
            "INSERT INTO notifications (id, recipient_email, opportunity_id, kind, title, body, link, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(recipient)
        .bind(opportunity_id)
        .bind(self.kind)
        .bind(self.title)
        .bind(self.body)
        .bind(self.link)
        .bind(at)
        .execute(&mut *db)
        .await?;
        Ok(())
    }
}

async fn opportunity_name(db: &mut PgConnection, id: Uuid) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT opportunity_name FROM notification_recipients WHERE opportunity_id = $1")
        .bind(id)
        .fetch_optional(&mut *db)
        .await
        .map(|n| n.unwrap_or_default())
}
