//! Why the Opportunity aggregate refuses a command: a closed set of business reasons.

use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum OpportunityError {
    /// A value the command carries cannot be kept (see `limits`); it names the field.
    #[error(transparent)]
    Invalid(#[from] crate::limits::InputError),
    #[error("the opportunity already exists")]
    AlreadyExists,
    #[error("the opportunity does not exist")]
    NotFound,
    #[error("the opportunity is archived and can no longer change")]
    Archived,
    #[error("stage {0} is already completed")]
    StageAlreadyCompleted(u8),
    #[error("stage {0} has not started: complete the stage before it first")]
    StageNotStarted(u8),
    #[error("stage {0} needs at least one approval before it can be completed")]
    ApprovalsMissing(u8),
    #[error("stage {stage} has {count} approval(s) still pending")]
    ApprovalsPending { stage: u8, count: usize },
    #[error("stage {stage} has {count} rejected approval(s)")]
    ApprovalsRejected { stage: u8, count: usize },
    #[error("stage {0} takes no approvals: only stages 3 and 14 are gated")]
    StageNotGated(u8),
    #[error("a {role} approval for stage {stage} is already pending")]
    ApprovalAlreadyPending { stage: u8, role: &'static str },
    #[error("approval {0} does not belong to this opportunity")]
    ApprovalNotFound(Uuid),
    #[error("approval {0} has already been decided")]
    ApprovalAlreadyDecided(Uuid),
    #[error("only the named approver or an admin can decide this approval")]
    NotTheApprover,
    #[error("you cannot name yourself as approver: another person must decide an approval you request")]
    ApproverIsRequester,
    #[error(
        "{owner} owns this opportunity and cannot approve its own gate: name someone other than the owner"
    )]
    ApproverIsOwner { owner: String },
    #[error("you requested this approval; another person must decide it")]
    RequesterMayNotDecide,
    #[error("you own this opportunity; another person must decide its approvals")]
    OwnerMayNotDecide,
    #[error(
        "you are named as approver but hold the {role} role: only editors and admins decide approvals \
         (an admin can change your role)"
    )]
    ApproverRoleTooLow { role: &'static str },
    #[error("file {0} does not belong to this opportunity")]
    FileNotFound(Uuid),
    #[error("file {0} is already recorded")]
    FileAlreadyRecorded(Uuid),
    #[error("clarification {0} does not belong to this opportunity")]
    ClarificationNotFound(Uuid),
    #[error("asset {0} does not belong to this opportunity")]
    AssetNotFound(Uuid),
    #[error("match {0} does not belong to this opportunity")]
    MatchNotFound(Uuid),
    #[error("at most {max} matches may be kept per asset, got {got}")]
    TooManyMatches { max: usize, got: usize },
    #[error(transparent)]
    Ratecard(#[from] crate::ratecard::RatecardError),
    #[error("the implementation plan is for won deals: set the deal status to won first")]
    DealNotWon,
    #[error("agent run {0} does not belong to this opportunity")]
    AgentRunNotFound(Uuid),
    /// The same agent is already running on the same inputs: that run answers this request.
    #[error("the same agent is already running on the same inputs (run {0})")]
    AgentRunInFlight(Uuid),
    #[error("paid agent runs have reached {cap}: {spent} USD spent of a {limit} USD limit")]
    SpendCapReached {
        cap: crate::agent_run::SpendCap,
        limit: rust_decimal::Decimal,
        spent: rust_decimal::Decimal,
    },
    #[error("the agent's output does not fit its schema: {0}")]
    MalformedOutput(String),
}
