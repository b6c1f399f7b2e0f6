//! Stage 11's draft team shape: rate-card hours per role turned into FTEs, after efficiency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::efficiency::effective_pct;
use crate::ratecard::RatecardLine;
use crate::roles::{Discipline, RoleLocation};

/// Working hours in one full-time year.
pub const HOURS_PER_FTE: f64 = 1800.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleFte {
    pub role: String,
    pub discipline: Discipline,
    pub location: RoleLocation,
    /// Σ base_hours × volume over the rate card.
    pub hours: f64,
    pub fte_before: f64,
    pub efficiency_pct: f64,
    pub hours_after: f64,
    pub fte_after: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DisciplineFte {
    pub discipline: Discipline,
    pub efficiency_pct: f64,
    pub hours: f64,
    pub fte_before: f64,
    pub fte_after: f64,
    pub roles: Vec<RoleFte>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamShape {
    pub hours_per_fte: f64,
    pub disciplines: Vec<DisciplineFte>,
    pub total_hours: f64,
    pub total_hours_after: f64,
    pub total_fte_before: f64,
    pub total_fte_after: f64,
}

pub fn team_shape(
    lines: &[RatecardLine],
    blanket_pct: f64,
    overrides: &BTreeMap<Discipline, f64>,
) -> TeamShape {
    let mut hours: BTreeMap<(Discipline, String, RoleLocation), f64> = BTreeMap::new();
    for l in lines {
        *hours.entry((l.discipline, l.role.clone(), l.role_location)).or_default() += l.hours_for_volume();
    }
    let mut disciplines: Vec<DisciplineFte> = Vec::new();
    for ((discipline, role, location), h) in hours {
        let pct = effective_pct(discipline, blanket_pct, overrides);
        let hours_after = h * (1.0 - pct / 100.0);
        let row = RoleFte {
            role,
            discipline,
            location,
            hours: h,
            fte_before: h / HOURS_PER_FTE,
            efficiency_pct: pct,
            hours_after,
            fte_after: hours_after / HOURS_PER_FTE,
        };
        match disciplines.last_mut().filter(|d| d.discipline == discipline) {
            Some(d) => d.roles.push(row),
            None => disciplines.push(DisciplineFte {
                discipline,
                efficiency_pct: pct,
                hours: 0.0,
                fte_before: 0.0,
                fte_after: 0.0,
                roles: vec![row],
            }),
        }
    }
    for d in &mut disciplines {
        d.hours = d.roles.iter().map(|r| r.hours).sum();
        d.fte_before = d.roles.iter().map(|r| r.fte_before).sum();
        d.fte_after = d.roles.iter().map(|r| r.fte_after).sum();
    }
    TeamShape {
        hours_per_fte: HOURS_PER_FTE,
        total_hours: disciplines.iter().map(|d| d.hours).sum(),
        total_hours_after: disciplines.iter().flat_map(|d| &d.roles).map(|r| r.hours_after).sum(),
        total_fte_before: disciplines.iter().map(|d| d.fte_before).sum(),
        total_fte_after: disciplines.iter().map(|d| d.fte_after).sum(),
        disciplines,
    }
}
