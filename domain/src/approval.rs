//! Approvals on the gated stages (3 and 14): who is asked, in which role, and what they decided.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
