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
use crate::rows::{micros, Table};
use crate::{Projection, StoredEvent};

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
    kind: &'static str,
    title: String,
    body: String,
    link: String,
    created_at: DateTime<Utc>,
}

impl Note {
    /// The id derives from the event and the recipient, so a rebuild gives the same ids.
    fn new(stored: &StoredEvent, opportunity_id: Uuid, recipient: &str, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v5(&stored.id(), recipient.to_lowercase().as_bytes()),
            recipient_email: recipient.into(),
            opportunity_id,
            kind: "",
            title: String::new(),
            body: String::new(),
            link: String::new(),
            created_at: micros(at),
        }
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
        let mut ids: Vec<Uuid> = facts
            .iter()
            .filter(|(_, event)| touches(event))
            .filter_map(|(stored, _)| stored.opportunity_id())
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        let mut recipients: HashMap<Uuid, Recipient> = RECIPIENTS
            .load::<Recipient>(db, "opportunity_id", &ids)
            .await?
            .into_iter()
            .map(|r| (r.opportunity_id, r))
            .collect();
        let mut changed = Vec::new();
        let mut notes = Vec::new();
        for (stored, event) in facts {
            let Some(id) = stored.opportunity_id() else { continue };
            match event {
                Ev::OpportunityCreated { details, .. } => {
                    recipients.entry(id).or_insert_with(|| Recipient {
                        opportunity_id: id,
                        opportunity_name: details.name.clone(),
                        owner_email: details.owner_email.clone(),
                    });
                    changed.push(id);
                }
                Ev::OpportunityDetailsUpdated { changes, .. } => {
                    if let Some(r) = recipients.get_mut(&id) {
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
                    let name = recipients.get(&id).map_or("", |r| r.opportunity_name.as_str());
                    notes.push(Note {
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
                        ..Note::new(stored, id, approver_email, *at)
                    });
                }
                Ev::ApprovalDecided { approval_id, stage, decision, decided_by, notes: said, at } => {
                    // An approval exists only on a created opportunity, so its owner is known.
                    let Some(r) = recipients.get(&id) else { continue };
                    let verdict = match decision {
                        ApprovalDecision::Approve => "approved",
                        ApprovalDecision::Reject => "rejected",
                    };
                    notes.push(Note {
                        kind: "approval_decided",
                        title: format!("Stage {} {verdict}: {}", stage.get(), r.opportunity_name),
                        body: match said {
                            Some(n) => format!("{decided_by} {verdict} stage {}: {n}", stage.name()),
                            None => format!("{decided_by} {verdict} stage {}.", stage.name()),
                        },
                        link: format!("/approvals/{approval_id}"),
                        ..Note::new(stored, id, &r.owner_email, *at)
                    });
                }
                _ => {}
            }
        }
        changed.sort_unstable();
        changed.dedup();
        let rows: Vec<&Recipient> = changed.iter().filter_map(|id| recipients.get(id)).collect();
        RECIPIENTS.upsert(db, &rows).await?;
        NOTIFICATIONS.insert_new(db, &notes).await
    }
}

fn touches(event: &Ev) -> bool {
    matches!(
        event,
        Ev::OpportunityCreated { .. }
            | Ev::OpportunityDetailsUpdated { .. }
            | Ev::ApprovalRequested { .. }
            | Ev::ApprovalDecided { .. }
    )
}
