//! Stage 3's TROWLS scorecard: six scores of 0–10, a total out of 60, and a recommendation.

use serde::{Deserialize, Serialize};

/// The highest a single dimension may score.
pub const MAX_SCORE: u8 = 10;
pub const MAX_TOTAL: u8 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrowlsScores {
    /// Do we have time to win and deliver?
    pub timing: u8,
    /// How well do we know the client and the decision-makers?
    pub relationship: u8,
    /// Deal size, strategic value, future pipeline.
    pub opportunity: u8,
    /// Quality of the brief, market data, prior knowledge.
    pub what_we_know: u8,
    /// Entity availability, hiring viability, labour-law fit.
    pub location: u8,
    /// Sector experience and conflict checks.
    pub sector: u8,
}

impl TrowlsScores {
    pub const FIELDS: [&'static str; 6] =
        ["timing", "relationship", "opportunity", "what_we_know", "location", "sector"];

    pub fn values(&self) -> [u8; 6] {
        [self.timing, self.relationship, self.opportunity, self.what_we_know, self.location, self.sector]
    }

    pub fn total(&self) -> u8 {
        self.values().iter().sum()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    Proceed,
    SltReview,
    NoGo,
}

impl Recommendation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proceed => "proceed",
            Self::SltReview => "slt_review",
            Self::NoGo => "no_go",
        }
    }

    /// proceed at 60 % or more, slt_review at 50 % or more, otherwise no_go. Compared on the total
    /// (60 % of 60 is 36, 50 % is 30) so no rounding can move a deal across a threshold.
    pub fn for_total(total: u8) -> Self {
        match u32::from(total) * 100 {
            t if t >= 60 * u32::from(MAX_TOTAL) => Self::Proceed,
            t if t >= 50 * u32::from(MAX_TOTAL) => Self::SltReview,
            _ => Self::NoGo,
        }
    }
}

/// Percentage of the maximum, to two decimals.
pub fn percentage(total: u8) -> f64 {
    (f64::from(total) * 10_000.0 / f64::from(MAX_TOTAL)).round() / 100.0
}
