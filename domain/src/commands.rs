//! What a user (or an agent) asks of an opportunity: imperatives, each with the time and actor.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::approval::{ApprovalDecision, ApprovalRole};
use crate::deal_status::DealStatus;
use crate::details::{DetailsChanges, OpportunityDetails};
use crate::file::FileMeta;
use crate::stage_machine::StageNumber;

/// Who issues a command, as far as the rules need to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub email: String,
    pub is_admin: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpportunityCommand {
    CreateOpportunity {
        opportunity_id: Uuid,
        details: OpportunityDetails,
        actor: Actor,
        at: DateTime<Utc>,
    },
    UpdateDetails {
        changes: DetailsChanges,
        at: DateTime<Utc>,
    },
    ArchiveOpportunity {
        at: DateTime<Utc>,
    },
    RecordFileUpload {
        file: FileMeta,
    },
    RemoveFile {
        file_id: Uuid,
        at: DateTime<Utc>,
    },
    CompleteStage {
        stage: StageNumber,
        actor: Actor,
        at: DateTime<Utc>,
    },
    RequestApproval {
        approval_id: Uuid,
        stage: StageNumber,
        role: ApprovalRole,
        approver_email: String,
        token_digest: String,
        actor: Actor,
        at: DateTime<Utc>,
    },
    DecideApproval {
        approval_id: Uuid,
        decision: ApprovalDecision,
        notes: Option<String>,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// `None` keeps the current status or lessons; `Some(None)` clears the lessons.
    SetDealStatus {
        status: Option<DealStatus>,
        lessons_learned: Option<Option<String>>,
        at: DateTime<Utc>,
    },
}
