//! The Opportunity aggregate: decides on commands and folds its own events into state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::agent_run::AgentRun;
use crate::approval::{check_approver, gate, may_decide, Approval, ApprovalStatus, GateVerdict};
use crate::asset::{Asset, CatalogMatch};
use crate::clarification::Clarification;
use crate::commands::OpportunityCommand as Cmd;
use crate::commercial::Qualification;
use crate::deal_status::DealStatus;
use crate::details::OpportunityDetails;
use crate::efficiency::EfficiencyProfile;
use crate::errors::OpportunityError as E;
use crate::events::OpportunityEvent as Ev;
use crate::file::FileMeta;
use crate::handoff::HandoffSummary;
use crate::ratecard::Ratecard;
use crate::stage_machine::{StageNumber, StageStatus, Stages};

/// Closing this stage on a won deal hands the opportunity off to downstream systems (stage 17).
pub const HANDOFF_AFTER_STAGE: u8 = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Nothing has been recorded yet for this id.
    #[default]
    Absent,
    Active,
    Archived,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: Option<Uuid>,
    pub lifecycle: Lifecycle,
    pub details: OpportunityDetails,
    pub created_by: String,
    pub stages: Stages,
    pub deal_status: DealStatus,
    pub lessons_learned: Option<String>,
    pub approvals: BTreeMap<Uuid, Approval>,
    pub files: BTreeMap<Uuid, FileMeta>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
    pub qualification: Option<Qualification>,
    pub clarifications: Vec<Clarification>,
    pub assets: Vec<Asset>,
    pub matches: Vec<CatalogMatch>,
    /// The selected match of each asset that has one.
    pub selected: BTreeMap<Uuid, Uuid>,
    pub ratecard: Option<Ratecard>,
    /// Assets or selections changed since the rate card was built.
    pub ratecard_stale: bool,
    pub efficiency: Option<EfficiencyProfile>,
    pub agent_runs: BTreeMap<Uuid, AgentRun>,
    /// Σ cost of every recorded agent run.
    pub total_cost_usd: Decimal,
}

impl Opportunity {
    pub fn current_stage(&self) -> StageNumber {
        self.stages.current()
    }

    fn ensure_live(&self) -> Result<(), E> {
        match self.lifecycle {
            Lifecycle::Absent => Err(E::NotFound),
            Lifecycle::Archived => Err(E::Archived),
            Lifecycle::Active => Ok(()),
        }
    }

    /// Decides which events a command produces, without changing anything.
    pub fn decide(&self, command: Cmd) -> Result<Vec<Ev>, E> {
        command.check_input()?;
        if let Cmd::CreateOpportunity { opportunity_id, details, actor, at } = command {
            if self.lifecycle != Lifecycle::Absent {
                return Err(E::AlreadyExists);
            }
            return Ok(vec![
                Ev::OpportunityCreated { opportunity_id, details, created_by: actor.email, at },
                Ev::StageStarted { stage: StageNumber::first(), at },
            ]);
        }
        self.ensure_live()?;
        match command {
            Cmd::CreateOpportunity { .. } => unreachable!("handled above"),
            Cmd::UpdateDetails { changes, at } => {
                let changes = changes.effective_against(&self.details);
                if changes.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![Ev::OpportunityDetailsUpdated { changes, at }])
            }
            Cmd::ArchiveOpportunity { at } => Ok(vec![Ev::OpportunityArchived { at }]),
            Cmd::RecordFileUpload { file } => {
                if self.files.contains_key(&file.file_id) {
                    return Err(E::FileAlreadyRecorded(file.file_id));
                }
                Ok(vec![Ev::FileUploaded { file }])
            }
            Cmd::RemoveFile { file_id, at } => {
                if !self.files.contains_key(&file_id) {
                    return Err(E::FileNotFound(file_id));
                }
                Ok(vec![Ev::FileRemoved { file_id, at }])
            }
            Cmd::CompleteStage { stage, actor, at } => self.complete_stage(stage, actor.email, at),
            Cmd::RequestApproval { approval_id, stage, role, approver_email, token_digest, actor, at } => {
                if !stage.is_gated() {
                    return Err(E::StageNotGated(stage.get()));
                }
                check_approver(&approver_email, &self.details.owner_email, &actor)?;
                let same_role = |a: &&Approval| a.stage == stage && a.role == role;
                if self.approvals.values().filter(same_role).any(|a| a.status == ApprovalStatus::Pending) {
                    return Err(E::ApprovalAlreadyPending { stage: stage.get(), role: role.as_str() });
                }
                let supersedes = self
                    .approvals
                    .values()
                    .filter(same_role)
                    .find(|a| a.status == ApprovalStatus::Rejected)
                    .map(|a| a.id);
                Ok(vec![Ev::ApprovalRequested {
                    approval_id,
                    stage,
                    role,
                    approver_email,
                    token_digest,
                    requested_by: actor.email,
                    supersedes,
                    at,
                }])
            }
            Cmd::DecideApproval { approval_id, decision, notes, actor, at } => {
                let approval = self.approvals.get(&approval_id).ok_or(E::ApprovalNotFound(approval_id))?;
                if approval.status != ApprovalStatus::Pending {
                    return Err(E::ApprovalAlreadyDecided(approval_id));
                }
                may_decide(approval, &self.details.owner_email, &actor)?;
                Ok(vec![Ev::ApprovalDecided {
                    approval_id,
                    stage: approval.stage,
                    decision,
                    notes,
                    decided_by: actor.email,
                    at,
                }])
            }
            Cmd::SetDealStatus { status, lessons_learned, at } => {
                let status = status.unwrap_or(self.deal_status);
                let lessons_learned = lessons_learned.unwrap_or_else(|| self.lessons_learned.clone());
                if status == self.deal_status && lessons_learned == self.lessons_learned {
                    return Ok(vec![]);
                }
                Ok(vec![Ev::DealStatusChanged { from: self.deal_status, to: status, lessons_learned, at }])
            }
            run @ (Cmd::RequestAgentRun { .. }
            | Cmd::RecordAgentOutput { .. }
            | Cmd::RecordAgentFailure { .. }) => self.decide_agent_run(run),
            commercial => self.decide_commercial(commercial),
        }
    }

    fn complete_stage(&self, stage: StageNumber, by: String, at: DateTime<Utc>) -> Result<Vec<Ev>, E> {
        match self.stages.get(stage).status {
            StageStatus::Completed => return Err(E::StageAlreadyCompleted(stage.get())),
            StageStatus::NotStarted => return Err(E::StageNotStarted(stage.get())),
            StageStatus::InProgress => {}
        }
        if stage.is_gated() {
            match gate(stage, self.approvals.values()) {
                GateVerdict::Open => {}
                GateVerdict::NoApprovals => return Err(E::ApprovalsMissing(stage.get())),
                GateVerdict::Pending(count) => return Err(E::ApprovalsPending { stage: stage.get(), count }),
                GateVerdict::Rejected(count) => {
                    return Err(E::ApprovalsRejected { stage: stage.get(), count })
                }
            }
        }
        let mut events = vec![Ev::StageCompleted { stage, completed_by: by, at }];
        if let Some(next) = stage.next() {
            events.push(Ev::StageStarted { stage: next, at });
        }
        if stage.get() == HANDOFF_AFTER_STAGE && self.deal_status == DealStatus::Won {
            events.push(Ev::OpportunityHandedOff { summary: HandoffSummary::of(self), at });
        }
        Ok(events)
    }
}

impl Aggregate for Opportunity {
    const TYPE: &'static str = "Opportunity";
    type Command = Cmd;
    type Event = Ev;
    type Error = E;
    type Services = ();

    async fn handle(&mut self, command: Cmd, _: &(), sink: &EventSink<Self>) -> Result<(), E> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Ev) {
        self.updated_at = Some(event.at());
        match event {
            Ev::OpportunityCreated { opportunity_id, details, created_by, at } => {
                self.id = Some(opportunity_id);
                self.lifecycle = Lifecycle::Active;
                self.details = details;
                self.created_by = created_by;
                self.created_at = Some(at);
            }
            Ev::OpportunityDetailsUpdated { changes, .. } => changes.apply_to(&mut self.details),
            Ev::OpportunityArchived { at } => {
                self.lifecycle = Lifecycle::Archived;
                self.archived_at = Some(at);
            }
            Ev::FileUploaded { file } => {
                self.files.insert(file.file_id, file);
            }
            Ev::FileRemoved { file_id, .. } => {
                self.files.remove(&file_id);
            }
            Ev::StageStarted { stage, at } => self.stages.start(stage, at),
            Ev::StageCompleted { stage, at, .. } => self.stages.complete(stage, at),
            Ev::OpportunityHandedOff { .. } => {}
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
                if let Some(old) = supersedes.and_then(|id| self.approvals.get_mut(&id)) {
                    old.status = ApprovalStatus::Superseded;
                }
                self.approvals.insert(
                    approval_id,
                    Approval {
                        id: approval_id,
                        stage,
                        role,
                        approver_email,
                        token_digest,
                        requested_by,
                        requested_at: at,
                        status: ApprovalStatus::Pending,
                        notes: None,
                        decided_by: None,
                        decided_at: None,
                    },
                );
            }
            Ev::ApprovalDecided { approval_id, decision, notes, decided_by, at, .. } => {
                if let Some(a) = self.approvals.get_mut(&approval_id) {
                    a.status = decision.into();
                    a.notes = notes;
                    a.decided_by = Some(decided_by);
                    a.decided_at = Some(at);
                }
            }
            Ev::DealStatusChanged { to, lessons_learned, .. } => {
                self.deal_status = to;
                self.lessons_learned = lessons_learned;
            }
            run
            @ (Ev::AgentRunRequested { .. } | Ev::ArtifactProduced { .. } | Ev::AgentRunFailed { .. }) => {
                self.apply_agent_run(run)
            }
            commercial => self.apply_commercial(commercial),
        }
    }
}
