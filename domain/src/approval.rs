//! Approvals on the gated stages (3 and 14): who is asked, in which role, and what they decided.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commands::{Actor, ActorRole};
use crate::errors::OpportunityError as E;
use crate::stage_machine::StageNumber;

/// The EMEA delegation-of-authority chain an approval can be requested from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRole {
    Commercial,
    Delivery,
    Solution,
    Regional,
    DealDesk,
}

impl ApprovalRole {
    pub const ALL: [ApprovalRole; 5] =
        [Self::Commercial, Self::Delivery, Self::Solution, Self::Regional, Self::DealDesk];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commercial => "commercial",
            Self::Delivery => "delivery",
            Self::Solution => "solution",
            Self::Regional => "regional",
            Self::DealDesk => "deal_desk",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approve,
    Reject,
}

impl ApprovalDecision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" | "approved" => Some(Self::Approve),
            "reject" | "rejected" => Some(Self::Reject),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// A rejected approval replaced by a fresh request for the same stage and role.
    Superseded,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Superseded => "superseded",
        }
    }
}

impl From<ApprovalDecision> for ApprovalStatus {
    fn from(d: ApprovalDecision) -> Self {
        match d {
            ApprovalDecision::Approve => Self::Approved,
            ApprovalDecision::Reject => Self::Rejected,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub id: Uuid,
    pub stage: StageNumber,
    pub role: ApprovalRole,
    pub approver_email: String,
    pub token_digest: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub status: ApprovalStatus,
    pub notes: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// What the gate of a stage says about its approvals.
#[derive(Debug, PartialEq, Eq)]
pub enum GateVerdict {
    Open,
    NoApprovals,
    Pending(usize),
    Rejected(usize),
}

/// Checks the seed's gate: at least one approval for the stage, and every live one approved.
pub fn gate<'a>(stage: StageNumber, approvals: impl Iterator<Item = &'a Approval>) -> GateVerdict {
    let (mut total, mut pending, mut rejected) = (0, 0, 0);
    for a in approvals.filter(|a| a.stage == stage && a.status != ApprovalStatus::Superseded) {
        total += 1;
        match a.status {
            ApprovalStatus::Pending => pending += 1,
            ApprovalStatus::Rejected => rejected += 1,
            _ => {}
        }
    }
    match (total, pending, rejected) {
        (0, _, _) => GateVerdict::NoApprovals,
        (_, _, r) if r > 0 => GateVerdict::Rejected(r),
        (_, p, _) if p > 0 => GateVerdict::Pending(p),
        _ => GateVerdict::Open,
    }
}

/// Whom an approval may be requested of: never the requester, nor the opportunity's owner, since
/// neither may decide it (`may_decide`). Whether the approver can decide (their role) is known
/// only when they do; roles change between the two.
pub fn check_approver(approver_email: &str, owner_email: &str, requester: &Actor) -> Result<(), E> {
    if requester.is(approver_email) {
        return Err(E::ApproverIsRequester);
    }
    if !owner_email.is_empty() && approver_email.eq_ignore_ascii_case(owner_email) {
        return Err(E::ApproverIsOwner { owner: owner_email.to_string() });
    }
    Ok(())
}

/// Who may decide an approval (four eyes):
/// - never the person who requested it, nor the opportunity's owner, whatever their role (an
///   admin does not decide their own gate either);
/// - the named approver, when they hold the editor or admin role (a viewer reads only: an admin
///   promotes an approver who needs to decide);
/// - any other admin, on the named approver's behalf.
pub fn may_decide(approval: &Approval, owner_email: &str, decider: &Actor) -> Result<(), E> {
    if decider.is(&approval.requested_by) {
        return Err(E::RequesterMayNotDecide);
    }
    if !owner_email.is_empty() && decider.is(owner_email) {
        return Err(E::OwnerMayNotDecide);
    }
    if decider.is(&approval.approver_email) {
        return match decider.role {
            ActorRole::Editor | ActorRole::Admin => Ok(()),
            ActorRole::Viewer => Err(E::ApproverRoleTooLow { role: decider.role.as_str() }),
        };
    }
    if decider.is_admin() {
        Ok(())
    } else {
        Err(E::NotTheApprover)
    }
}
