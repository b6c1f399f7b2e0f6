//! Stage 17's hand-off: the proposal summary integrators receive when a won deal leaves stage 16.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::opportunity::Opportunity;
use crate::ratecard;
use crate::team_shape::team_shape;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandoffSummary {
    pub opportunity_name: String,
    pub client_name: Option<String>,
    pub owner_email: String,
    pub region: Option<String>,
    pub brands: Vec<String>,
    pub service_types: Vec<String>,
    pub deadline: Option<NaiveDate>,
    pub go_live: Option<NaiveDate>,
    pub asset_count: usize,
    pub asset_volume: u64,
    /// Rate-card hours (Σ base × volume), before efficiency.
    pub total_hours: f64,
    /// FTEs after the saved efficiency profile.
    pub total_fte: f64,
    /// The priced rate card's value, when every line has a rate.
    pub value: Option<Decimal>,
    pub currency: Option<String>,
    pub qualification_percentage: Option<f64>,
}

impl HandoffSummary {
    pub fn of(o: &Opportunity) -> Self {
        let lines = o.ratecard.as_ref().map(|r| r.lines.as_slice()).unwrap_or_default();
        let totals = ratecard::totals(lines);
        let (blanket, overrides) = match &o.efficiency {
            Some(p) => (p.blanket_pct, p.discipline_overrides.clone()),
            None => (0.0, Default::default()),
        };
        let d = &o.details;
        Self {
            opportunity_name: d.name.clone(),
            client_name: d.client_name.clone(),
            owner_email: d.owner_email.clone(),
            region: d.region.clone(),
            brands: d.brands.clone(),
            service_types: d.service_types.clone(),
            deadline: d.deadline,
            go_live: d.go_live,
            asset_count: o.assets.len(),
            asset_volume: o.assets.iter().map(|a| u64::from(a.volume)).sum(),
            total_hours: totals.total_hours,
            total_fte: team_shape(lines, blanket, &overrides).total_fte_after,
            value: totals.total_cost,
            currency: o.ratecard.as_ref().and_then(|r| r.currency.clone()),
            qualification_percentage: o.qualification.as_ref().map(|q| q.percentage),
        }
    }
}
