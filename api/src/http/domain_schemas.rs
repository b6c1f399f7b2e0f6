//! The OpenAPI schemas of domain values some handlers serialise as they are (the team shape, the
//! rate card's totals). The domain crate does not depend on utoipa, so each is described here by a
//! mirror type with the same serde shape; the tests round-trip real domain values through the
//! mirrors, so a mirror that drifts from its domain type fails them.
//!
//! The mirrors are only ever used for documentation: no handler builds one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Mirrors domain::roles::Discipline.
/// A discipline, spelt as it is displayed.
#[derive(Serialize, Deserialize, ToSchema)]
pub enum Discipline {
    Creative,
    Motion,
    Production,
    Technology,
    Account,
    /// Leadership of the whole programme: never reduced by efficiency.
    Programme,
}

// Mirrors domain::roles::RoleLocation.
/// Where a role is staffed from.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleLocation {
    Onshore,
    Nearshore,
    Offshore,
}

// Mirrors domain::team_shape::RoleFte.
/// One role of the team shape.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RoleFte {
    pub role: String,
    pub discipline: Discipline,
    pub location: RoleLocation,
    /// Σ base_hours × volume over the rate card.
    pub hours: f64,
    pub fte_before: f64,
    /// The efficiency applied to this role (0 for programme roles).
    pub efficiency_pct: f64,
    pub hours_after: f64,
    pub fte_after: f64,
}

// Mirrors domain::team_shape::DisciplineFte.
/// One discipline of the team shape, with its roles.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DisciplineFte {
    pub discipline: Discipline,
    pub efficiency_pct: f64,
    pub hours: f64,
    pub fte_before: f64,
    pub fte_after: f64,
    pub roles: Vec<RoleFte>,
}

// Mirrors domain::team_shape::TeamShape.
/// FTEs per role from the rate card (hours × volume ÷ `hours_per_fte`), before and after
/// efficiency, grouped by discipline.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TeamShape {
    /// Working hours in one full-time year.
    pub hours_per_fte: f64,
    pub disciplines: Vec<DisciplineFte>,
    pub total_hours: f64,
    pub total_hours_after: f64,
    pub total_fte_before: f64,
    pub total_fte_after: f64,
}

// Mirrors domain::ratecard::RatecardTotals.
/// Totals of a rate card, every one multiplying by volume.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RatecardTotals {
    /// Σ base_hours × volume over every line.
    pub total_hours: f64,
    /// Role → Σ base_hours × volume over its lines.
    pub hours_by_role: BTreeMap<String, f64>,
    /// Σ rate × hours for the volume, a decimal string; null unless every line has a rate.
    pub total_cost: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use domain::ratecard::{totals, RatecardLine};
    use domain::roles::{Discipline, RoleLocation};
    use domain::team_shape::team_shape;
    use rust_decimal::Decimal;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use uuid::Uuid;

    /// The value's JSON survives a trip through the mirror unchanged: the mirror has exactly its
    /// fields, with the same names and JSON types.
    fn same_shape<Domain: Serialize, Mirror: Serialize + DeserializeOwned>(value: &Domain) {
        let json = serde_json::to_value(value).unwrap();
        let mirror: Mirror = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("the mirror cannot read {json}: {e}"));
        assert_eq!(serde_json::to_value(mirror).unwrap(), json, "the mirror's JSON differs");
    }

    fn line(role: &str, discipline: Discipline, location: RoleLocation, rate: Option<i64>) -> RatecardLine {
        RatecardLine {
            asset_id: Uuid::from_u128(1),
            asset_name: "Banner".into(),
            client_tier: Some("Tier 1".into()),
            catalog_id: "GMAL-DIS-001".into(),
            catalog_asset_name: "Display banner".into(),
            role: role.into(),
            discipline,
            role_location: location,
            base_hours: 2.5,
            volume: 10,
            rate: rate.map(|r| Decimal::new(r, 2)),
        }
    }

    fn lines(priced: bool) -> Vec<RatecardLine> {
        let rate = |r| priced.then_some(r);
        vec![
            line("Designer", Discipline::Creative, RoleLocation::Onshore, rate(8550)),
            line("Animator", Discipline::Motion, RoleLocation::Nearshore, rate(7000)),
            line("Developer", Discipline::Technology, RoleLocation::Offshore, rate(4000)),
            line("Account Director", Discipline::Account, RoleLocation::Onshore, rate(12000)),
            line("Producer", Discipline::Production, RoleLocation::Onshore, rate(9000)),
            line("Programme Director", Discipline::Programme, RoleLocation::Onshore, rate(15000)),
        ]
    }

    #[test]
    fn the_team_shape_schema_is_the_shape_served() {
        let overrides = BTreeMap::from([(Discipline::Creative, 40.0)]);
        for (blanket, overrides) in [(0.0, BTreeMap::new()), (20.0, overrides)] {
            same_shape::<_, super::TeamShape>(&team_shape(&lines(false), blanket, &overrides));
        }
        same_shape::<_, super::TeamShape>(&team_shape(&[], 0.0, &BTreeMap::new()));
    }

    #[test]
    fn the_ratecard_totals_schema_is_the_shape_served() {
        for priced in [false, true] {
            same_shape::<_, super::RatecardTotals>(&totals(&lines(priced)));
        }
        same_shape::<_, super::RatecardTotals>(&totals(&[]));
    }

    #[test]
    fn every_discipline_and_location_is_in_its_schema() {
        for d in Discipline::ALL {
            same_shape::<_, super::Discipline>(&d);
        }
        for l in [RoleLocation::Onshore, RoleLocation::Nearshore, RoleLocation::Offshore] {
            same_shape::<_, super::RoleLocation>(&l);
        }
    }
}
