//! The 17-stage machine: stage numbers, their states, and the order rules between them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many stages an opportunity walks through.
pub const STAGE_COUNT: u8 = 17;

/// Stage names, index 0 is stage 1.
pub const STAGE_NAMES: [&str; STAGE_COUNT as usize] = [
    "Intake Opportunity",
    "Read & Diagnose Brief",
    "Qualification Assessment",
    "Generate Client Q&A Pack",
    "Ingest Client Answers",
    "Normalize Asset List",
    "Match Assets to Job Routes",
    "Build Asset-Level Rate Card",
    "Recommend Delivery Model",
    "Apply Efficiency Logic",
    "Create Draft Team Shape",
    "Identify Capability Gaps",
    "Generate Support Docs",
    "Validation & Approval Gates",
    "Build Pitch Materials",
    "Delivery Planning (post-win)",
    "Trigger Downstream Systems",
];

/// Stages that close only when every one of their approvals is approved.
pub const GATED_STAGES: [u8; 2] = [3, 14];

/// A stage number known to be within 1..=17.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct StageNumber(u8);

impl StageNumber {
    pub fn new(n: u8) -> Option<Self> {
        (1..=STAGE_COUNT).contains(&n).then_some(Self(n))
    }
    pub const fn first() -> Self {
        Self(1)
    }
    pub fn get(self) -> u8 {
        self.0
    }
    pub fn next(self) -> Option<Self> {
        Self::new(self.0 + 1)
    }
    pub fn is_gated(self) -> bool {
        GATED_STAGES.contains(&self.0)
    }
    pub fn name(self) -> &'static str {
        STAGE_NAMES[usize::from(self.0 - 1)]
    }
    fn index(self) -> usize {
        usize::from(self.0 - 1)
    }
}

impl TryFrom<u8> for StageNumber {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        Self::new(n).ok_or_else(|| format!("stage must be between 1 and {STAGE_COUNT}, got {n}"))
    }
}

impl From<StageNumber> for u8 {
    fn from(s: StageNumber) -> u8 {
        s.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    #[default]
    NotStarted,
    InProgress,
    Completed,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StageState {
    pub status: StageStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The states of all 17 stages of one opportunity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stages(Vec<StageState>);

impl Default for Stages {
    fn default() -> Self {
        Self(vec![StageState::default(); usize::from(STAGE_COUNT)])
    }
}

impl Stages {
    pub fn get(&self, stage: StageNumber) -> &StageState {
        &self.0[stage.index()]
    }
    pub fn iter(&self) -> impl Iterator<Item = (StageNumber, &StageState)> {
        self.0.iter().enumerate().map(|(i, s)| (StageNumber(i as u8 + 1), s))
    }
    pub(crate) fn start(&mut self, stage: StageNumber, at: DateTime<Utc>) {
        let state = &mut self.0[stage.index()];
        state.status = StageStatus::InProgress;
        state.started_at = Some(at);
    }
    pub(crate) fn complete(&mut self, stage: StageNumber, at: DateTime<Utc>) {
        let state = &mut self.0[stage.index()];
        state.status = StageStatus::Completed;
        state.completed_at = Some(at);
    }
    /// The stage the opportunity is working on: the first stage not completed, or the last one.
    pub fn current(&self) -> StageNumber {
        self.iter()
            .find(|(_, s)| s.status != StageStatus::Completed)
            .map(|(n, _)| n)
            .unwrap_or(StageNumber(STAGE_COUNT))
    }
}
