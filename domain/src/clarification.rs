//! Questions for the client (stages 2, 4, 5): raised by diagnosis or by hand, answered or dismissed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Red,
    Amber,
    Green,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Red => "red",
            Self::Amber => "amber",
            Self::Green => "green",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "red" => Some(Self::Red),
            "amber" => Some(Self::Amber),
            "green" => Some(Self::Green),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClarificationStatus {
    Pending,
    Answered,
    Dismissed,
}

impl ClarificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Answered => "answered",
            Self::Dismissed => "dismissed",
        }
    }
}

/// A question as raised; what happens to it later is in its own events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewClarification {
    pub clarification_id: Uuid,
    pub category: String,
    pub question: String,
    pub rationale: String,
    pub priority: Priority,
    /// The stage that raised it (2 for diagnosis; re-diagnosing replaces only those).
    pub source_stage: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clarification {
    pub raised: NewClarification,
    pub status: ClarificationStatus,
    pub client_answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub dismissal_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a person does to a clarification in stage 5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClarificationChange {
    Answer(String),
    Dismiss(Option<String>),
    Reopen,
}
