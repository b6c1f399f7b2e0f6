//! The client's assets (stage 6) and their candidate catalog matches (stage 7).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub asset_id: Uuid,
    pub raw_name: String,
    pub raw_description: Option<String>,
    pub client_tier: Option<String>,
    /// How many of this asset the client wants; always at least 1.
    pub volume: u32,
}

/// A partial change to an asset; `Some(None)` clears an optional field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AssetChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::details::nullable")]
    pub raw_description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::details::nullable")]
    pub client_tier: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<u32>,
}

impl AssetChanges {
    pub fn apply_to(self, a: &mut Asset) {
        if let Some(v) = self.raw_name {
            a.raw_name = v;
        }
        if let Some(v) = self.raw_description {
            a.raw_description = v;
        }
        if let Some(v) = self.client_tier {
            a.client_tier = v;
        }
        if let Some(v) = self.volume {
            a.volume = v;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchConfidence {
    Exact,
    Close,
    Multiple,
    None,
    /// Chosen by a person rather than ranked by the matcher.
    Manual,
}

impl MatchConfidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Close => "close",
            Self::Multiple => "multiple",
            Self::None => "none",
            Self::Manual => "manual",
        }
    }
}

/// A catalog entry proposed for an asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogMatch {
    pub match_id: Uuid,
    pub asset_id: Uuid,
    pub catalog_id: String,
    pub catalog_asset_name: String,
    pub confidence: MatchConfidence,
    /// 0.0–1.0.
    pub score: f64,
    pub rank: u8,
    pub reasoning: String,
    pub caveats: String,
}

/// The matcher auto-selects its top candidate at or above this score.
pub const AUTO_SELECT_SCORE: f64 = 0.8;
/// At most this many candidates are kept per asset.
pub const MAX_MATCHES_PER_ASSET: usize = 3;
