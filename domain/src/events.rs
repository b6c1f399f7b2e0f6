//! What happened to an opportunity: past-tense facts, each carrying what it was decided on.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::agent_run::{Agent, Usage};
use crate::approval::{ApprovalDecision, ApprovalRole};
use crate::asset::{Asset, AssetChanges, CatalogMatch};
use crate::clarification::NewClarification;
use crate::deal_status::DealStatus;
use crate::details::{DetailsChanges, OpportunityDetails};
use crate::efficiency::EfficiencyProfile;
use crate::file::FileMeta;
use crate::handoff::HandoffSummary;
use crate::qualification::{Recommendation, TrowlsScores};
use crate::ratecard::Ratecard;
use crate::stage_machine::StageNumber;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OpportunityEvent {
    OpportunityCreated {
        opportunity_id: Uuid,
        details: OpportunityDetails,
        created_by: String,
        at: DateTime<Utc>,
    },
    OpportunityDetailsUpdated {
        changes: DetailsChanges,
        at: DateTime<Utc>,
    },
    OpportunityArchived {
        at: DateTime<Utc>,
    },
    FileUploaded {
        file: FileMeta,
    },
    FileRemoved {
        file_id: Uuid,
        at: DateTime<Utc>,
    },
    StageStarted {
        stage: StageNumber,
        at: DateTime<Utc>,
    },
    StageCompleted {
        stage: StageNumber,
        completed_by: String,
        at: DateTime<Utc>,
    },
    /// Stage 16 closed on a won deal: integrators push the proposal to downstream systems.
    OpportunityHandedOff {
        summary: HandoffSummary,
        at: DateTime<Utc>,
    },
    ApprovalRequested {
        approval_id: Uuid,
        stage: StageNumber,
        role: ApprovalRole,
        approver_email: String,
        token_digest: String,
        requested_by: String,
        /// A rejected approval for the same stage and role that this request replaces.
        supersedes: Option<Uuid>,
        at: DateTime<Utc>,
    },
    ApprovalDecided {
        approval_id: Uuid,
        stage: StageNumber,
        decision: ApprovalDecision,
        notes: Option<String>,
        decided_by: String,
        at: DateTime<Utc>,
    },
    DealStatusChanged {
        from: DealStatus,
        to: DealStatus,
        lessons_learned: Option<String>,
        at: DateTime<Utc>,
    },
    QualificationScored {
        scores: TrowlsScores,
        total: u8,
        percentage: f64,
        recommendation: Recommendation,
        notes: Option<String>,
        scored_by: String,
        at: DateTime<Utc>,
    },
    ClarificationAdded {
        clarification: NewClarification,
        at: DateTime<Utc>,
    },
    ClarificationAnswered {
        clarification_id: Uuid,
        answer: String,
        at: DateTime<Utc>,
    },
    ClarificationDismissed {
        clarification_id: Uuid,
        reason: Option<String>,
        at: DateTime<Utc>,
    },
    ClarificationReopened {
        clarification_id: Uuid,
        at: DateTime<Utc>,
    },
    AssetAdded {
        asset: Asset,
        at: DateTime<Utc>,
    },
    AssetUpdated {
        asset_id: Uuid,
        changes: AssetChanges,
        at: DateTime<Utc>,
    },
    /// Also removes the asset's matches and rate-card lines.
    AssetRemoved {
        asset_id: Uuid,
        at: DateTime<Utc>,
    },
    /// Replaces every candidate of the asset.
    MatchesProposed {
        asset_id: Uuid,
        matches: Vec<CatalogMatch>,
        at: DateTime<Utc>,
    },
    /// Selects one match of the asset and deselects its siblings.
    MatchSelected {
        asset_id: Uuid,
        match_id: Uuid,
        at: DateTime<Utc>,
    },
    MatchSelectionCleared {
        asset_id: Uuid,
        at: DateTime<Utc>,
    },
    /// Replaces the rate card; the lines carry the hours they were built with.
    RatecardBuilt {
        ratecard: Ratecard,
        at: DateTime<Utc>,
    },
    EfficiencyProfileSet {
        profile: EfficiencyProfile,
        at: DateTime<Utc>,
    },
    AgentRunRequested {
        run_id: Uuid,
        agent: Agent,
        stage: u8,
        input_digest: String,
        prompt_version: String,
        requested_by: String,
        at: DateTime<Utc>,
    },
    /// A run's validated output with what it cost, stamped when it was recorded.
    ArtifactProduced {
        run_id: Uuid,
        agent: Agent,
        stage: u8,
        output: Value,
        model: String,
        usage: Usage,
        cost_usd: Decimal,
        at: DateTime<Utc>,
    },
    AgentRunFailed {
        run_id: Uuid,
        agent: Agent,
        reason: String,
        at: DateTime<Utc>,
    },
    /// Intake filled these fields because they were blank (manual entries are never overwritten).
    IntakeApplied {
        run_id: Uuid,
        changes: DetailsChanges,
        at: DateTime<Utc>,
    },
    /// Diagnosis replaced the clarifications it had raised (source stage 2); others are kept.
    ClarificationsReplaced {
        run_id: Uuid,
        removed: Vec<Uuid>,
        added: Vec<NewClarification>,
        at: DateTime<Utc>,
    },
    /// Normalising replaced the asset list; removed assets take their matches and rate-card lines.
    AssetsNormalized {
        run_id: Uuid,
        removed: Vec<Uuid>,
        added: Vec<Asset>,
        at: DateTime<Utc>,
    },
}

impl OpportunityEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::OpportunityCreated { .. } => "OpportunityCreated",
            Self::OpportunityDetailsUpdated { .. } => "OpportunityDetailsUpdated",
            Self::OpportunityArchived { .. } => "OpportunityArchived",
            Self::FileUploaded { .. } => "FileUploaded",
            Self::FileRemoved { .. } => "FileRemoved",
            Self::StageStarted { .. } => "StageStarted",
            Self::StageCompleted { .. } => "StageCompleted",
            Self::OpportunityHandedOff { .. } => "OpportunityHandedOff",
            Self::ApprovalRequested { .. } => "ApprovalRequested",
            Self::ApprovalDecided { .. } => "ApprovalDecided",
            Self::DealStatusChanged { .. } => "DealStatusChanged",
            Self::QualificationScored { .. } => "QualificationScored",
            Self::ClarificationAdded { .. } => "ClarificationAdded",
            Self::ClarificationAnswered { .. } => "ClarificationAnswered",
            Self::ClarificationDismissed { .. } => "ClarificationDismissed",
            Self::ClarificationReopened { .. } => "ClarificationReopened",
            Self::AssetAdded { .. } => "AssetAdded",
            Self::AssetUpdated { .. } => "AssetUpdated",
            Self::AssetRemoved { .. } => "AssetRemoved",
            Self::MatchesProposed { .. } => "MatchesProposed",
            Self::MatchSelected { .. } => "MatchSelected",
            Self::MatchSelectionCleared { .. } => "MatchSelectionCleared",
            Self::RatecardBuilt { .. } => "RatecardBuilt",
            Self::EfficiencyProfileSet { .. } => "EfficiencyProfileSet",
            Self::AgentRunRequested { .. } => "AgentRunRequested",
            Self::ArtifactProduced { .. } => "ArtifactProduced",
            Self::AgentRunFailed { .. } => "AgentRunFailed",
            Self::IntakeApplied { .. } => "IntakeApplied",
            Self::ClarificationsReplaced { .. } => "ClarificationsReplaced",
            Self::AssetsNormalized { .. } => "AssetsNormalized",
        }
    }

    /// When the fact was decided.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::FileUploaded { file } => file.uploaded_at,
            Self::OpportunityCreated { at, .. }
            | Self::OpportunityDetailsUpdated { at, .. }
            | Self::OpportunityArchived { at }
            | Self::FileRemoved { at, .. }
            | Self::StageStarted { at, .. }
            | Self::StageCompleted { at, .. }
            | Self::OpportunityHandedOff { at, .. }
            | Self::ApprovalRequested { at, .. }
            | Self::ApprovalDecided { at, .. }
            | Self::DealStatusChanged { at, .. }
            | Self::QualificationScored { at, .. }
            | Self::ClarificationAdded { at, .. }
            | Self::ClarificationAnswered { at, .. }
            | Self::ClarificationDismissed { at, .. }
            | Self::ClarificationReopened { at, .. }
            | Self::AssetAdded { at, .. }
            | Self::AssetUpdated { at, .. }
            | Self::AssetRemoved { at, .. }
            | Self::MatchesProposed { at, .. }
            | Self::MatchSelected { at, .. }
            | Self::MatchSelectionCleared { at, .. }
            | Self::RatecardBuilt { at, .. }
            | Self::EfficiencyProfileSet { at, .. }
            | Self::AgentRunRequested { at, .. }
            | Self::ArtifactProduced { at, .. }
            | Self::AgentRunFailed { at, .. }
            | Self::IntakeApplied { at, .. }
            | Self::ClarificationsReplaced { at, .. }
            | Self::AssetsNormalized { at, .. } => *at,
        }
    }
}

/// Current schema version of every event type; bump one and add an upcaster when its shape changes.
pub const EVENT_VERSION: &str = "1";

impl DomainEvent for OpportunityEvent {
    fn event_type(&self) -> String {
        self.name().to_string()
    }
    fn event_version(&self) -> String {
        EVENT_VERSION.to_string()
    }
}
