//! Where the deal stands commercially, independent of the stage the team is working on.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    #[default]
    Active,
    Won,
    Lost,
    Deprioritized,
}

impl DealStatus {
    pub const ALL: [DealStatus; 4] = [Self::Active, Self::Won, Self::Lost, Self::Deprioritized];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Deprioritized => "deprioritized",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}
