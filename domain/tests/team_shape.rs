//! Team shape arithmetic: hours ÷ 1800, override beats blanket, programme roles never reduced, 90 % cap.

use std::collections::BTreeMap;

use domain::ratecard::RatecardLine;
use domain::roles::{Discipline, RoleLocation};
use domain::team_shape::{team_shape, HOURS_PER_FTE};
use uuid::Uuid;

fn line(role: &str, discipline: Discipline, base_hours: f64, volume: u32) -> RatecardLine {
    RatecardLine {
        asset_id: Uuid::nil(),
        asset_name: "a".into(),
        client_tier: None,
        catalog_id: "X".into(),
        catalog_asset_name: "x".into(),
        role: role.into(),
        discipline,
        role_location: RoleLocation::Onshore,
        base_hours,
        volume,
        rate: None,
    }
}

fn lines() -> Vec<RatecardLine> {
    vec![
        line("Designer", Discipline::Creative, 9.0, 100),    // 900 h
        line("Designer", Discipline::Creative, 4.5, 200),    // +900 h = 1800 h
        line("Developer", Discipline::Technology, 36.0, 50), // 1800 h
        line("Programme Director", Discipline::Programme, 900.0, 2), // 1800 h
    ]
}

fn role<'a>(shape: &'a domain::team_shape::TeamShape, name: &str) -> &'a domain::team_shape::RoleFte {
    shape.disciplines.iter().flat_map(|d| &d.roles).find(|r| r.role == name).unwrap()
}

#[test]
fn hours_are_multiplied_by_volume_and_divided_by_1800() {
    let shape = team_shape(&lines(), 0.0, &BTreeMap::new());
    assert_eq!(HOURS_PER_FTE, 1800.0);
    assert_eq!(role(&shape, "Designer").hours, 1800.0);
    assert_eq!(role(&shape, "Designer").fte_before, 1.0);
    assert_eq!(shape.total_hours, 5400.0);
    assert_eq!(shape.total_fte_before, 3.0);
    assert_eq!(shape.total_fte_after, 3.0);
}

#[test]
fn a_discipline_override_beats_the_blanket_percentage() {
    let overrides = BTreeMap::from([(Discipline::Technology, 50.0)]);
    let shape = team_shape(&lines(), 20.0, &overrides);
    assert_eq!(role(&shape, "Designer").efficiency_pct, 20.0);
    assert!((role(&shape, "Designer").fte_after - 0.8).abs() < 1e-9);
    assert_eq!(role(&shape, "Developer").efficiency_pct, 50.0);
    assert!((role(&shape, "Developer").fte_after - 0.5).abs() < 1e-9);
}

#[test]
fn programme_roles_are_never_reduced() {
    let overrides = BTreeMap::from([(Discipline::Programme, 60.0)]);
    let shape = team_shape(&lines(), 40.0, &overrides);
    let pd = role(&shape, "Programme Director");
    assert_eq!(pd.efficiency_pct, 0.0);
    assert_eq!(pd.fte_after, 1.0);
}

#[test]
fn every_percentage_is_capped_at_90() {
    let overrides = BTreeMap::from([(Discipline::Creative, 95.0)]);
    let shape = team_shape(&lines(), 100.0, &overrides);
    assert_eq!(role(&shape, "Designer").efficiency_pct, 90.0);
    assert_eq!(role(&shape, "Developer").efficiency_pct, 90.0);
    assert!((role(&shape, "Developer").fte_after - 0.1).abs() < 1e-9);
}

#[test]
fn roles_are_grouped_by_discipline() {
    let shape = team_shape(&lines(), 0.0, &BTreeMap::new());
    let names: Vec<Discipline> = shape.disciplines.iter().map(|d| d.discipline).collect();
    assert_eq!(names, vec![Discipline::Creative, Discipline::Technology, Discipline::Programme]);
    assert_eq!(shape.disciplines[0].roles.len(), 1, "two Designer lines make one role row");
}
