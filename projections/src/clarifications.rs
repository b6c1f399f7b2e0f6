//! The client clarification questions of each opportunity and where each stands.
//!
//! A batch is folded in memory over the questions it names, then written back in a delete and an
//! upsert.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::clarification::{ClarificationStatus as S, NewClarification};
use domain::OpportunityEvent as Ev;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projection::Fact;
use crate::projection::Projection;
use crate::rows::{distinct, micros, Table};

pub struct ClarificationsProjection;

const CLARIFICATIONS: Table = Table {
    name: "clarifications",
    key: &["id"],
    values: &[
        "opportunity_id",
        "category",
        "question",
        "rationale",
        "priority",
        "source_stage",
        "status",
        "client_answer",
        "answered_at",
        "dismissal_reason",
        "position",
        "created_at",
        "updated_at",
    ],
};

/// A row of `clarifications`.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Row {
    id: Uuid,
    opportunity_id: Uuid,
    category: String,
    question: String,
    rationale: String,
    priority: String,
    source_stage: i32,
    status: String,
    client_answer: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    dismissal_reason: Option<String>,
    position: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The ids of the questions an event names.
fn named(event: &Ev) -> Vec<Uuid> {
    match event {
        Ev::ClarificationsReplaced { removed, added, .. } => {
            removed.iter().copied().chain(added.iter().map(|c| c.clarification_id)).collect()
        }
        Ev::ClarificationAdded { clarification, .. } => vec![clarification.clarification_id],
        Ev::ClarificationAnswered { clarification_id, .. }
        | Ev::ClarificationDismissed { clarification_id, .. }
        | Ev::ClarificationReopened { clarification_id, .. } => vec![*clarification_id],
        _ => Vec::new(),
    }
}

/// The questions a batch names: `None` once removed; `changed` lists what to write back.
#[derive(Default)]
struct Fold {
    rows: HashMap<Uuid, Option<Row>>,
    changed: Vec<Uuid>,
}

#[async_trait]
impl Projection for ClarificationsProjection {
    fn name(&self) -> &'static str {
        "clarifications"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["clarifications"]
    }

    async fn apply(&self, db: &mut PgConnection, facts: &[Fact<'_>]) -> Result<(), sqlx::Error> {
        let ids = distinct(facts.iter().flat_map(|(_, event)| named(event)).collect());
        if ids.is_empty() {
            return Ok(());
        }
        let mut fold = Fold::default();
        for row in CLARIFICATIONS.load::<Row>(db, "id", &ids).await? {
            fold.rows.insert(row.id, Some(row));
        }
        for (stored, event) in facts {
            if let Some(opportunity_id) = stored.opportunity_id() {
                fold.apply(opportunity_id, |n| stored.order(n), event);
            }
        }
        let changed = distinct(std::mem::take(&mut fold.changed));
        let removed: Vec<Uuid> =
            changed.iter().filter(|id| matches!(fold.rows.get(id), Some(None))).copied().collect();
        let kept: Vec<&Row> = changed.iter().filter_map(|id| fold.rows.get(id)?.as_ref()).collect();
        CLARIFICATIONS.delete(db, "id", &removed).await?;
        CLARIFICATIONS.upsert(db, &kept).await
    }
}

impl Fold {
    fn apply(&mut self, opportunity_id: Uuid, order: impl Fn(usize) -> i64, event: &Ev) {
        match event {
            Ev::ClarificationsReplaced { removed, added, at, .. } => {
                for id in removed {
                    self.set(*id, None);
                }
                for (n, c) in added.iter().enumerate() {
                    self.add(opportunity_id, c, order(n), *at);
                }
            }
            Ev::ClarificationAdded { clarification: c, at } => self.add(opportunity_id, c, order(0), *at),
            Ev::ClarificationAnswered { clarification_id, answer, at } => {
                self.update(*clarification_id, S::Answered, Some(answer), None, *at)
            }
            Ev::ClarificationDismissed { clarification_id, reason, at } => {
                self.update(*clarification_id, S::Dismissed, None, reason.as_deref(), *at)
            }
            Ev::ClarificationReopened { clarification_id, at } => {
                self.update(*clarification_id, S::Pending, None, None, *at)
            }
            _ => {}
        }
    }

    fn set(&mut self, id: Uuid, row: Option<Row>) {
        self.rows.insert(id, row);
        self.changed.push(id);
    }

    /// A question already present is kept as it is, as the first insert of it would be.
    fn add(&mut self, opportunity_id: Uuid, c: &NewClarification, position: i64, at: DateTime<Utc>) {
        if matches!(self.rows.get(&c.clarification_id), Some(Some(_))) {
            return;
        }
        let at = micros(at);
        let row = Row {
            id: c.clarification_id,
            opportunity_id,
            category: c.category.clone(),
            question: c.question.clone(),
            rationale: c.rationale.clone(),
            priority: c.priority.as_str().into(),
            source_stage: i32::from(c.source_stage),
            status: S::Pending.as_str().into(),
            client_answer: None,
            answered_at: None,
            dismissal_reason: None,
            position,
            created_at: at,
            updated_at: at,
        };
        self.set(c.clarification_id, Some(row));
    }

    /// An answer is kept when a question is dismissed or reopened, as the aggregate keeps it.
    fn update(&mut self, id: Uuid, status: S, answer: Option<&str>, reason: Option<&str>, at: DateTime<Utc>) {
        let Some(Some(row)) = self.rows.get_mut(&id) else { return };
        let at = micros(at);
        if let Some(answer) = answer {
            row.client_answer = Some(answer.into());
        }
        match status {
            S::Answered => row.answered_at = Some(at),
            S::Pending => row.answered_at = None,
            S::Dismissed => {}
        }
        row.status = status.as_str().into();
        row.dismissal_reason = reason.map(Into::into);
        row.updated_at = at;
        self.changed.push(id);
    }
}
