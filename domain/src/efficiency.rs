//! Stage 10's efficiency profile: how much AI and tooling take off each discipline's hours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::roles::Discipline;

/// No discipline is ever reduced by more than this percentage.
pub const MAX_EFFICIENCY_PCT: f64 = 90.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Conservative,
    Moderate,
    Aggressive,
    Custom,
}

impl Scenario {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "conservative" => Some(Self::Conservative),
            "moderate" => Some(Self::Moderate),
            "aggressive" => Some(Self::Aggressive),
            "custom" => Some(Self::Custom),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EfficiencyProfile {
    pub scenario: Scenario,
    /// Applies to every discipline without an override (0–100; capped at 90 when applied).
    pub blanket_pct: f64,
    pub discipline_overrides: BTreeMap<Discipline, f64>,
    pub tools_applied: Vec<String>,
    pub notes: Option<String>,
}

/// The reduction applied to a discipline: programme roles never, an override before the blanket
/// figure, never more than 90 % and never negative.
pub fn effective_pct(discipline: Discipline, blanket_pct: f64, overrides: &BTreeMap<Discipline, f64>) -> f64 {
    if discipline == Discipline::Programme {
        return 0.0;
    }
    overrides.get(&discipline).copied().unwrap_or(blanket_pct).clamp(0.0, MAX_EFFICIENCY_PCT)
}
