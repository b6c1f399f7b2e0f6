//! What happened to an opportunity: past-tense facts, each carrying what it was decided on.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::approval::{ApprovalDecision, ApprovalRole};
use crate::deal_status::DealStatus;
use crate::details::{DetailsChanges, OpportunityDetails};
use crate::file::FileMeta;
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
    /// Stage 17 closed: integrators push the opportunity to downstream systems.
    OpportunityReadyForHandoff {
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
            Self::OpportunityReadyForHandoff { .. } => "OpportunityReadyForHandoff",
            Self::ApprovalRequested { .. } => "ApprovalRequested",
            Self::ApprovalDecided { .. } => "ApprovalDecided",
            Self::DealStatusChanged { .. } => "DealStatusChanged",
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
            | Self::OpportunityReadyForHandoff { at }
            | Self::ApprovalRequested { at, .. }
            | Self::ApprovalDecided { at, .. }
            | Self::DealStatusChanged { at, .. } => *at,
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
