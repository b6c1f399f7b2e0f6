//! In-app notifications: the approver hears of a request, the owner hears of each decision.
//!
//! Keeps its own note of each opportunity's name and owner so it never depends on another
//! projection's progress. Notification ids derive from the event, so a rebuild gives the same ids.
//! A batch is folded in memory and written in two statements.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ApprovalDecision, OpportunityEvent as Ev};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projection::Fact;
use crate::projection::Projection;
use crate::rows::{distinct, micros, Table};
use crate::stored_event::StoredEvent;

pub struct NotificationsProjection;

const RECIPIENTS: Table = Table {
    name: "notification_recipients",
    key: &["opportunity_id"],
    values: &["opportunity_name", "owner_email"],
};

const NOTIFICATIONS: Table = Table { name: "notifications", key: &["id"], values: &[] };

/// A row of `notification_recipients`.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Recipient {
    opportunity_id: Uuid,
    opportunity_name: String,
    owner_email: String,
}

/// A row of `notifications`.
#[derive(Serialize)]
struct Note {
    id: Uuid,
    recipient_email: String,
    opportunity_id: Uuid,
    #[serde(flatten)]
    message: Message,
    created_at: DateTime<Utc>,
}

/// What a notification says.
#[derive(Serialize)]
struct Message {
    kind: &'static str,
    title: String,
    body: String,
    link: String,
}

impl Note {
    /// The id derives from the event and the recipient, so a rebuild gives the same ids.
    fn new(
        stored: &StoredEvent,
        opportunity_id: Uuid,
        recipient: &str,
        at: DateTime<Utc>,
        message: Message,
    ) -> Self {
        Self {
            id: Uuid::new_v5(&stored.id(), recipient.to_lowercase().as_bytes()),
            recipient_email: recipient.into(),
            opportunity_id,
            message,
            created_at: micros(at),
        }
    }
}

/// The recipient rows of a batch's opportunities, read the first time an event needs them: a
/// batch none of whose events concern notifications costs no statement.
struct Recipients<'f> {
    facts: &'f [Fact<'f>],
    rows: Option<HashMap<Uuid, Recipient>>,
}

impl Recipients<'_> {
    async fn rows(&mut self, db: &mut PgConnection) -> Result<&mut HashMap<Uuid, Recipient>, sqlx::Error> {
        if self.rows.is_none() {
            let ids = distinct(self.facts.iter().filter_map(|(stored, _)| stored.opportunity_id()).collect());
            let loaded = RECIPIENTS.load::<Recipient>(db, "opportunity_id", &ids).await?;
            self.rows = Some(loaded.into_iter().map(|r| (r.opportunity_id, r)).collect());
        }
        Ok(self.rows.get_or_insert_with(HashMap::new))
    }
}

#[async_trait]
impl Projection for NotificationsProjection {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["notifications", "notification_recipients"]
    }

    async fn apply(&self, db: &mut PgConnection, facts: &[Fact<'_>]) -> Result<(), sqlx::Error> {
        let mut recipients = Recipients { facts, rows: None };
        let mut changed = Vec::new();
        let mut notes = Vec::new();
        for (stored, event) in facts {
            let Some(id) = stored.opportunity_id() else { continue };
            match event {
                Ev::OpportunityCreated { details, .. } => {
                    recipients.rows(db).await?.entry(id).or_insert_with(|| Recipient {
                        opportunity_id: id,
                        opportunity_name: details.name.clone(),
                        owner_email: details.owner_email.clone(),
                    });
                    changed.push(id);
                }
                Ev::OpportunityDetailsUpdated { changes, .. } => {
                    if let Some(r) = recipients.rows(db).await?.get_mut(&id) {
                        if let Some(name) = &changes.name {
                            r.opportunity_name = name.clone();
                        }
                        if let Some(owner) = &changes.owner_email {
                            r.owner_email = owner.clone();
                        }
                        changed.push(id);
                    }
                }
                Ev::ApprovalRequested {
                    approval_id, stage, role, approver_email, requested_by, at, ..
                } => {
                    let name =
                        recipients.rows(db).await?.get(&id).map_or("", |r| r.opportunity_name.as_str());
                    let message = Message {
                        kind: "approval_requested",
                        title: format!(
                            "Approval requested: {name}, stage {} ({})",
                            stage.get(),
                            role.as_str()
                        ),
                        body: format!(
                            "{requested_by} asks for your {} approval of stage {}.",
                            role.as_str(),
                            stage.name()
                        ),
                        link: format!("/approvals/{approval_id}"),
                    };
                    notes.push(Note::new(stored, id, approver_email, *at, message));
                }
                Ev::ApprovalDecided { approval_id, stage, decision, decided_by, notes: said, at } => {
                    // An approval exists only on a created opportunity, so its owner is known.
                    let Some(r) = recipients.rows(db).await?.get(&id) else { continue };
                    let verdict = match decision {
                        ApprovalDecision::Approve => "approved",
                        ApprovalDecision::Reject => "rejected",
                    };
                    let message = Message {
                        kind: "approval_decided",
                        title: format!("Stage {} {verdict}: {}", stage.get(), r.opportunity_name),
                        body: match said {
                            Some(n) => format!("{decided_by} {verdict} stage {}: {n}", stage.name()),
                            None => format!("{decided_by} {verdict} stage {}.", stage.name()),
                        },
                        link: format!("/approvals/{approval_id}"),
                    };
                    notes.push(Note::new(stored, id, &r.owner_email, *at, message));
                }
                _ => {}
            }
        }
        if let Some(rows) = &recipients.rows {
            let changed: Vec<&Recipient> = distinct(changed).iter().filter_map(|id| rows.get(id)).collect();
            RECIPIENTS.upsert(db, &changed).await?;
        }
        NOTIFICATIONS.insert_new(db, &notes).await
    }
}
