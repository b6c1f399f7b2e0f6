//! Opportunity list/detail, with the 17 stage states of each kept in its row.
//!
//! A batch is folded in memory: the rows it touches are read in one statement, every event is
//! applied to them in log order, and the changed rows are written back in one more.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{DetailsChanges, Lifecycle, OpportunityEvent as Ev, StageStatus, STAGE_NAMES};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projection::Fact;
use crate::projection::Projection;
use crate::rows::{distinct, micros, Table};

pub struct OpportunitiesProjection;

const OPPORTUNITIES: Table = Table {
    name: "opportunities",
    key: &["id"],
    values: &[
        "name",
        "client_name",
        "region",
        "brands",
        "service_types",
        "deadline",
        "go_live",
        "description",
        "model_type",
        "owner_email",
        "created_by",
        "status",
        "current_stage",
        "deal_status",
        "lessons_learned",
        "version",
        "created_at",
        "updated_at",
        "archived_at",
        "qualification_total",
        "qualification_percentage",
        "qualification_recommendation",
        "stages",
        "total_cost_usd",
    ],
};

/// A row of `opportunities`.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Summary {
    id: Uuid,
    name: String,
    client_name: Option<String>,
    region: Option<String>,
    brands: Vec<String>,
    service_types: Vec<String>,
    deadline: Option<NaiveDate>,
    go_live: Option<NaiveDate>,
    description: Option<String>,
    model_type: String,
    owner_email: String,
    created_by: String,
    status: String,
    current_stage: i32,
    deal_status: String,
    lessons_learned: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    archived_at: Option<DateTime<Utc>>,
    qualification_total: Option<i32>,
    qualification_percentage: Option<f64>,
    qualification_recommendation: Option<String>,
    /// In stage order.
    stages: Vec<StageState>,
    /// Σ cost of every recorded agent run.
    total_cost_usd: Decimal,
}

/// One element of `opportunities.stages`. Kept small (no stage name, no empty times) so the row
/// stays under the size at which PostgreSQL starts compressing it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct StageState {
    pub stage_number: i32,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

/// The rows a batch touches, as they stand after the events folded in so far.
#[derive(Default)]
struct Fold {
    summaries: HashMap<Uuid, Summary>,
    changed: Vec<Uuid>,
}

#[async_trait]
impl Projection for OpportunitiesProjection {
    fn name(&self) -> &'static str {
        "opportunities"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["opportunities"]
    }

    async fn apply(&self, db: &mut PgConnection, facts: &[Fact<'_>]) -> Result<(), sqlx::Error> {
        let ids = distinct(facts.iter().filter_map(|(stored, _)| stored.opportunity_id()).collect());
        let mut fold = Fold::default();
        for row in OPPORTUNITIES.load::<Summary>(db, "id", &ids).await? {
            fold.summaries.insert(row.id, row);
        }
        for (stored, event) in facts {
            if let Some(id) = stored.opportunity_id() {
                fold.apply(id, stored.sequence, event);
            }
        }
        let summaries: Vec<&Summary> =
            distinct(fold.changed).iter().filter_map(|id| fold.summaries.get(id)).collect();
        OPPORTUNITIES.upsert(db, &summaries).await
    }
}

impl Fold {
    fn apply(&mut self, id: Uuid, sequence: i64, event: &Ev) {
        if let Ev::OpportunityCreated { details: d, created_by, at, .. } = event {
            if let Entry::Vacant(slot) = self.summaries.entry(id) {
                let at = micros(*at);
                slot.insert(Summary {
                    id,
                    name: d.name.clone(),
                    client_name: d.client_name.clone(),
                    region: d.region.clone(),
                    brands: d.brands.clone(),
                    service_types: d.service_types.clone(),
                    deadline: d.deadline,
                    go_live: d.go_live,
                    description: d.description.clone(),
                    model_type: d.model_type.clone(),
                    owner_email: d.owner_email.clone(),
                    created_by: created_by.clone(),
                    status: lifecycle_str(Lifecycle::Active).into(),
                    current_stage: 1,
                    deal_status: "active".into(),
                    lessons_learned: None,
                    version: sequence,
                    created_at: at,
                    updated_at: at,
                    archived_at: None,
                    qualification_total: None,
                    qualification_percentage: None,
                    qualification_recommendation: None,
                    stages: (1..=STAGE_NAMES.len() as i32)
                        .map(|n| StageState {
                            stage_number: n,
                            status: StageStatus::NotStarted.as_str().into(),
                            started_at: None,
                            completed_at: None,
                        })
                        .collect(),
                    total_cost_usd: Decimal::ZERO,
                });
            }
        }
        // Events of an opportunity without a row (never created) change nothing, as an UPDATE would.
        let Some(row) = self.summaries.get_mut(&id) else { return };
        match event {
            Ev::OpportunityDetailsUpdated { changes, .. } | Ev::IntakeApplied { changes, .. } => {
                merge(row, changes)
            }
            Ev::OpportunityArchived { at } => {
                row.status = lifecycle_str(Lifecycle::Archived).into();
                row.archived_at = Some(micros(*at));
            }
            Ev::StageStarted { stage, at } | Ev::StageCompleted { stage, at, .. } => {
                let started = matches!(event, Ev::StageStarted { .. });
                let n = i32::from(stage.get());
                if let Some(s) = row.stages.iter_mut().find(|s| s.stage_number == n) {
                    let (status, stamp) = if started {
                        (StageStatus::InProgress, &mut s.started_at)
                    } else {
                        (StageStatus::Completed, &mut s.completed_at)
                    };
                    *stamp = Some(micros(*at));
                    s.status = status.as_str().into();
                }
                let completed = StageStatus::Completed.as_str();
                row.current_stage = row
                    .stages
                    .iter()
                    .find(|s| s.status != completed)
                    .map_or(STAGE_NAMES.len() as i32, |s| s.stage_number);
            }
            Ev::DealStatusChanged { to, lessons_learned, .. } => {
                row.deal_status = to.as_str().into();
                row.lessons_learned = lessons_learned.clone();
            }
            Ev::ArtifactProduced { cost_usd, .. } => row.total_cost_usd += cost_usd,
            Ev::QualificationScored { total, percentage, recommendation, .. } => {
                row.qualification_total = Some(i32::from(*total));
                row.qualification_percentage = Some(*percentage);
                row.qualification_recommendation = Some(recommendation.as_str().into());
            }
            _ => {}
        }
        row.version = sequence;
        row.updated_at = micros(event.at());
        self.changed.push(id);
    }
}

/// Untouched fields are kept; a nullable field that was set (maybe to null) takes the new value.
fn merge(row: &mut Summary, c: &DetailsChanges) {
    fn set<T: Clone>(field: &mut T, change: &Option<T>) {
        if let Some(v) = change {
            *field = v.clone();
        }
    }
    set(&mut row.name, &c.name);
    set(&mut row.client_name, &c.client_name);
    set(&mut row.region, &c.region);
    set(&mut row.brands, &c.brands);
    set(&mut row.service_types, &c.service_types);
    set(&mut row.deadline, &c.deadline);
    set(&mut row.go_live, &c.go_live);
    set(&mut row.description, &c.description);
    set(&mut row.model_type, &c.model_type);
    set(&mut row.owner_email, &c.owner_email);
}

pub fn lifecycle_str(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Absent => "absent",
        Lifecycle::Active => "active",
        Lifecycle::Archived => "archived",
    }
}
