//! Stage 8's rate card: one line per role for each asset with a selected match, hours for ONE asset.
//!
//! The "bug-4 invariant" of the original system: a line stores hours for one asset (`base_hours`)
//! and the asset's `volume` beside it; every total multiplies by volume itself.

use std::collections::BTreeMap;

use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::asset::{Asset, CatalogMatch};
use crate::catalog::CatalogEntry;
use crate::roles::{self, Discipline, RoleLocation};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatecardLine {
    pub asset_id: Uuid,
    pub asset_name: String,
    pub client_tier: Option<String>,
    pub catalog_id: String,
    pub catalog_asset_name: String,
    pub role: String,
    pub discipline: Discipline,
    pub role_location: RoleLocation,
    /// Hours for ONE asset.
    pub base_hours: f64,
    pub volume: u32,
    /// Hourly rate, when the rate card is priced.
    pub rate: Option<Decimal>,
}

impl RatecardLine {
    /// The line's hours for the asset's whole volume.
    pub fn hours_for_volume(&self) -> f64 {
        self.base_hours * f64::from(self.volume)
    }
    pub fn cost(&self) -> Option<Decimal> {
        let hours = Decimal::from_f64(self.base_hours)?.round_dp(4) * Decimal::from(self.volume);
        self.rate.map(|r| (r * hours).round_dp(2))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ratecard {
    pub catalog_version: i64,
    pub model_type: String,
    pub currency: Option<String>,
    pub lines: Vec<RatecardLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RatecardError {
    #[error("no asset has a selected match yet: select matches (stage 7) before building the rate card")]
    NothingSelected,
    #[error("catalog entry {0} is not in the current catalog")]
    EntryMissing(String),
    #[error("catalog entry {catalog_id} has no hours for model type {model_type:?} (it has: {available})")]
    NoHoursForModelType { catalog_id: String, model_type: String, available: String },
}

/// The lines for every asset whose selected match names an entry of `entries`.
pub fn build_lines(
    assets: &[Asset],
    selected: &BTreeMap<Uuid, CatalogMatch>,
    entries: &[CatalogEntry],
    model_type: &str,
    rates: &BTreeMap<String, Decimal>,
) -> Result<Vec<RatecardLine>, RatecardError> {
    let mut lines = Vec::new();
    let mut any = false;
    for asset in assets {
        let Some(m) = selected.get(&asset.asset_id) else { continue };
        any = true;
        let entry = entries
            .iter()
            .find(|e| e.catalog_id == m.catalog_id)
            .ok_or(RatecardError::EntryMissing(m.catalog_id.clone()))?;
        let hours = entry.hours.get(model_type).ok_or_else(|| RatecardError::NoHoursForModelType {
            catalog_id: entry.catalog_id.clone(),
            model_type: model_type.to_string(),
            available: entry.hours.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        for rh in hours.iter().filter(|rh| rh.hours > 0.0) {
            let discipline = roles::role(&rh.role).map(|(_, d)| d).unwrap_or(Discipline::Production);
            lines.push(RatecardLine {
                asset_id: asset.asset_id,
                asset_name: asset.raw_name.clone(),
                client_tier: asset.client_tier.clone(),
                catalog_id: entry.catalog_id.clone(),
                catalog_asset_name: entry.asset_name.clone(),
                role: rh.role.clone(),
                discipline,
                role_location: rh.location,
                base_hours: rh.hours,
                volume: asset.volume,
                rate: rates.get(&rh.role).copied(),
            });
        }
    }
    if !any {
        return Err(RatecardError::NothingSelected);
    }
    Ok(lines)
}

/// Totals of a rate card, every one multiplying by volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatecardTotals {
    pub total_hours: f64,
    pub hours_by_role: BTreeMap<String, f64>,
    pub total_cost: Option<Decimal>,
}

pub fn totals(lines: &[RatecardLine]) -> RatecardTotals {
    let mut hours_by_role: BTreeMap<String, f64> = BTreeMap::new();
    for l in lines {
        *hours_by_role.entry(l.role.clone()).or_default() += l.hours_for_volume();
    }
    let priced = !lines.is_empty() && lines.iter().all(|l| l.rate.is_some());
    RatecardTotals {
        total_hours: lines.iter().map(RatecardLine::hours_for_volume).sum(),
        hours_by_role,
        total_cost: priced.then(|| lines.iter().filter_map(RatecardLine::cost).sum()),
    }
}
