//! What a user (or an agent) asks of an opportunity: imperatives, each with the time and actor.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::agent_run::{Agent, Usage};
use crate::asset::{Asset, AssetChanges, CatalogMatch};
use crate::catalog::CatalogEntry;
use crate::clarification::{ClarificationChange, NewClarification};
use crate::efficiency::EfficiencyProfile;
use crate::qualification::TrowlsScores;

use crate::approval::{ApprovalDecision, ApprovalRole};
use crate::deal_status::DealStatus;
use crate::details::{DetailsChanges, OpportunityDetails};
use crate::file::FileMeta;
use crate::stage_machine::StageNumber;

/// Who issues a command, as far as the rules need to know: their email (how approvals and owners
/// name people) and their role at the moment the command is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub email: String,
    pub role: ActorRole,
}

/// The roles people hold, ordered by what they may do (the API's viewer, editor, admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActorRole {
    /// Reads only.
    Viewer,
    /// Works opportunities; may decide an approval they are named for.
    Editor,
    /// Also may decide an approval on the named approver's behalf.
    Admin,
}

impl ActorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }
}

impl Actor {
    pub fn new(email: impl Into<String>, role: ActorRole) -> Self {
        Self { email: email.into(), role }
    }

    pub fn is_admin(&self) -> bool {
        self.role == ActorRole::Admin
    }

    /// The same person, whatever the case of their email.
    pub fn is(&self, email: &str) -> bool {
        self.email.eq_ignore_ascii_case(email)
    }
}

/// `&'static str` of a command is its variant name (e.g. "CompleteStage"), for logs and metrics.
#[derive(Clone, Debug, PartialEq, strum::IntoStaticStr)]
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
    ScoreQualification {
        scores: TrowlsScores,
        notes: Option<String>,
        actor: Actor,
        at: DateTime<Utc>,
    },
    AddClarification {
        clarification: NewClarification,
        at: DateTime<Utc>,
    },
    ChangeClarification {
        clarification_id: Uuid,
        change: ClarificationChange,
        at: DateTime<Utc>,
    },
    AddAsset {
        asset: Asset,
        at: DateTime<Utc>,
    },
    UpdateAsset {
        asset_id: Uuid,
        changes: AssetChanges,
        at: DateTime<Utc>,
    },
    RemoveAsset {
        asset_id: Uuid,
        at: DateTime<Utc>,
    },
    /// Replaces an asset's candidates (the matcher's output); rank 1 is selected at score ≥ 0.8.
    ProposeMatches {
        asset_id: Uuid,
        candidates: Vec<CatalogMatch>,
        at: DateTime<Utc>,
    },
    /// A person picks a catalog entry for an asset by hand; it becomes the selected match.
    ChooseCatalogEntry {
        candidate: CatalogMatch,
        at: DateTime<Utc>,
    },
    SelectMatch {
        match_id: Uuid,
        at: DateTime<Utc>,
    },
    ClearMatchSelection {
        asset_id: Uuid,
        at: DateTime<Utc>,
    },
    /// Carries the catalog entries and rates looked up for the selected matches.
    BuildRatecard {
        catalog_version: i64,
        entries: Vec<CatalogEntry>,
        rates: BTreeMap<String, Decimal>,
        currency: Option<String>,
        at: DateTime<Utc>,
    },
    SetEfficiencyProfile {
        profile: EfficiencyProfile,
        at: DateTime<Utc>,
    },
    RequestAgentRun {
        run_id: Uuid,
        agent: Agent,
        /// Digest of the inputs the run will read, so a result can be traced to what it saw.
        input_digest: String,
        prompt_version: String,
        /// What paid runs may still spend; None when the provider costs nothing.
        budget: Option<crate::agent_run::Budget>,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// The provider's validated output; recorded once per run, redeliveries record nothing.
    RecordAgentOutput {
        run_id: Uuid,
        output: Value,
        model: String,
        usage: Usage,
        cost_usd: Decimal,
        at: DateTime<Utc>,
    },
    RecordAgentFailure {
        run_id: Uuid,
        reason: String,
        at: DateTime<Utc>,
    },
}
