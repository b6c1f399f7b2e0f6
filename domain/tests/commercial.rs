//! Given/when/then tests of the commercial pipeline: qualification, clarifications, assets,
//! matches, rate card, efficiency and team shape.

mod common;

use std::collections::BTreeMap;

use common::*;
use domain::asset::{Asset, AssetChanges, CatalogMatch, MatchConfidence};
use domain::catalog::{CatalogEntry, RoleHours};
use domain::clarification::{ClarificationChange, NewClarification, Priority};
use domain::qualification::{percentage, Recommendation, TrowlsScores};
use domain::ratecard::{totals, RatecardError};
use domain::roles::RoleLocation;
use domain::{Opportunity, OpportunityCommand as Cmd, OpportunityError as E, OpportunityEvent as Ev};
use uuid::Uuid;

fn scores(total: u8) -> TrowlsScores {
    // Spread a total over the six dimensions, 10 at most each.
    let mut left = total;
    let mut take = || {
        let v = left.min(10);
        left -= v;
        v
    };
    TrowlsScores {
        timing: take(),
        relationship: take(),
        opportunity: take(),
        what_we_know: take(),
        location: take(),
        sector: take(),
    }
}

#[test]
fn trowls_thresholds_sit_at_fifty_and_sixty_percent() {
    for (total, expected) in [
        (0, Recommendation::NoGo),
        (29, Recommendation::NoGo),      // 48.33 %
        (30, Recommendation::SltReview), // 50 %
        (35, Recommendation::SltReview), // 58.33 %
        (36, Recommendation::Proceed),   // 60 %
        (60, Recommendation::Proceed),
    ] {
        assert_eq!(Recommendation::for_total(total), expected, "total {total}");
    }
    assert_eq!(percentage(29), 48.33);
    assert_eq!(percentage(30), 50.0);
    assert_eq!(percentage(36), 60.0);
    assert_eq!(percentage(60), 100.0);
}

#[tokio::test]
async fn scoring_records_the_whole_scorecard() {
    let s = scores(33);
    given()
        .given(created())
        .when_async(Cmd::ScoreQualification {
            scores: s,
            notes: Some("ok".into()),
            actor: editor(),
            at: at(3),
        })
        .await
        .then_expect_events(vec![Ev::QualificationScored {
            scores: s,
            total: 33,
            percentage: 55.0,
            recommendation: Recommendation::SltReview,
            notes: Some("ok".into()),
            scored_by: editor().email,
            at: at(3),
        }]);
}

#[tokio::test]
async fn a_score_above_ten_is_refused() {
    let mut s = scores(20);
    s.location = 11;
    given()
        .given(created())
        .when_async(Cmd::ScoreQualification { scores: s, notes: None, actor: editor(), at: at(3) })
        .await
        .then_expect_error(out_of_range("location", 0, 10, 11));
}

fn clarification(n: u128) -> NewClarification {
    NewClarification {
        clarification_id: Uuid::from_u128(n),
        category: "Scope".into(),
        question: "How many markets?".into(),
        rationale: "Markets drive localisation hours".into(),
        priority: Priority::Red,
        source_stage: 5,
    }
}

#[tokio::test]
async fn clarifications_flip_between_pending_answered_and_dismissed() {
    let id = Uuid::from_u128(7);
    let added =
        [created(), vec![Ev::ClarificationAdded { clarification: clarification(7), at: at(1) }]].concat();
    let change = |c| Cmd::ChangeClarification { clarification_id: id, change: c, at: at(4) };
    given()
        .given(added.clone())
        .when_async(change(ClarificationChange::Answer("Twelve".into())))
        .await
        .then_expect_events(vec![Ev::ClarificationAnswered {
            clarification_id: id,
            answer: "Twelve".into(),
            at: at(4),
        }]);
    given()
        .given(added.clone())
        .when_async(change(ClarificationChange::Reopen))
        .await
        .then_expect_events(vec![]);
    let dismissed =
        [added, vec![Ev::ClarificationDismissed { clarification_id: id, reason: None, at: at(2) }]].concat();
    given()
        .given(dismissed.clone())
        .when_async(change(ClarificationChange::Dismiss(None)))
        .await
        .then_expect_events(vec![]);
    given()
        .given(dismissed.clone())
        .when_async(change(ClarificationChange::Reopen))
        .await
        .then_expect_events(vec![Ev::ClarificationReopened { clarification_id: id, at: at(4) }]);
    let mut o = Opportunity::default();
    dismissed.into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    assert_eq!(o.clarifications[0].status, domain::clarification::ClarificationStatus::Dismissed);
    given()
        .given(created())
        .when_async(change(ClarificationChange::Reopen))
        .await
        .then_expect_error(E::ClarificationNotFound(id));
}

fn asset(n: u128, volume: u32) -> Asset {
    Asset {
        asset_id: Uuid::from_u128(n),
        raw_name: format!("Asset {n}"),
        raw_description: None,
        client_tier: None,
        volume,
    }
}

fn candidate(asset_n: u128, match_n: u128, catalog_id: &str, score: f64, rank: u8) -> CatalogMatch {
    CatalogMatch {
        match_id: Uuid::from_u128(match_n),
        asset_id: Uuid::from_u128(asset_n),
        catalog_id: catalog_id.into(),
        catalog_asset_name: catalog_id.into(),
        confidence: MatchConfidence::Close,
        score,
        rank,
        reasoning: String::new(),
        caveats: String::new(),
    }
}

fn entry(id: &str, roles: &[(&str, f64)]) -> CatalogEntry {
    let hours = roles
        .iter()
        .map(|(r, h)| RoleHours { role: r.to_string(), location: RoleLocation::Onshore, hours: *h })
        .collect();
    CatalogEntry {
        catalog_id: id.into(),
        category: "Display".into(),
        sub_category: "Banners".into(),
        sub_category_description: None,
        asset_name: id.into(),
        complexity: "Simple".into(),
        asset_description: String::new(),
        complexity_description: None,
        agency_caveats: None,
        hours: BTreeMap::from([("standard".to_string(), hours)]),
    }
}

#[tokio::test]
async fn volumes_below_one_are_refused() {
    given()
        .given(created())
        .when_async(Cmd::AddAsset { asset: asset(1, 0), at: at(2) })
        .await
        .then_expect_error(out_of_range("volume", 1, 1_000_000, 0));
    let with_asset = [created(), vec![Ev::AssetAdded { asset: asset(1, 3), at: at(1) }]].concat();
    let changes = AssetChanges { volume: Some(0), ..Default::default() };
    given()
        .given(with_asset)
        .when_async(Cmd::UpdateAsset { asset_id: Uuid::from_u128(1), changes, at: at(2) })
        .await
        .then_expect_error(out_of_range("volume", 1, 1_000_000, 0));
}

#[tokio::test]
async fn a_strong_top_candidate_is_selected_and_a_weak_one_is_not() {
    let with_asset = [created(), vec![Ev::AssetAdded { asset: asset(1, 3), at: at(1) }]].concat();
    let strong = vec![candidate(1, 11, "A", 0.92, 1), candidate(1, 12, "B", 0.9, 2)];
    let events = given()
        .given(with_asset.clone())
        .when_async(Cmd::ProposeMatches { asset_id: Uuid::from_u128(1), candidates: strong, at: at(2) })
        .await
        .inspect_result()
        .unwrap();
    assert!(
        matches!(events.last(), Some(Ev::MatchSelected { match_id, .. }) if *match_id == Uuid::from_u128(11))
    );
    let weak = vec![candidate(1, 13, "C", 0.79, 1)];
    let events = given()
        .given(with_asset.clone())
        .when_async(Cmd::ProposeMatches { asset_id: Uuid::from_u128(1), candidates: weak, at: at(2) })
        .await
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 1);
    let four = (0..4).map(|i| candidate(1, 20 + i, "D", 0.5, i as u8 + 1)).collect();
    given()
        .given(with_asset)
        .when_async(Cmd::ProposeMatches { asset_id: Uuid::from_u128(1), candidates: four, at: at(2) })
        .await
        .then_expect_error(E::TooManyMatches { max: 3, got: 4 });
}

#[test]
fn selecting_a_match_deselects_its_siblings() {
    let mut o = Opportunity::default();
    let history = [
        created(),
        vec![
            Ev::AssetAdded { asset: asset(1, 3), at: at(1) },
            Ev::MatchesProposed {
                asset_id: Uuid::from_u128(1),
                matches: vec![candidate(1, 11, "A", 0.7, 1), candidate(1, 12, "B", 0.69, 2)],
                at: at(2),
            },
            Ev::MatchSelected { asset_id: Uuid::from_u128(1), match_id: Uuid::from_u128(11), at: at(3) },
            Ev::MatchSelected { asset_id: Uuid::from_u128(1), match_id: Uuid::from_u128(12), at: at(4) },
        ],
    ]
    .concat();
    history.into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    assert_eq!(o.selected.len(), 1);
    assert_eq!(o.selected_match(Uuid::from_u128(1)).unwrap().catalog_id, "B");
}

fn priced_history() -> Vec<Ev> {
    [
        created(),
        vec![
            Ev::AssetAdded { asset: asset(1, 10), at: at(1) },
            Ev::AssetAdded { asset: asset(2, 4), at: at(1) },
            Ev::AssetAdded { asset: asset(3, 7), at: at(1) },
            Ev::MatchesProposed {
                asset_id: Uuid::from_u128(1),
                matches: vec![candidate(1, 11, "BAN", 0.9, 1)],
                at: at(2),
            },
            Ev::MatchSelected { asset_id: Uuid::from_u128(1), match_id: Uuid::from_u128(11), at: at(2) },
            Ev::MatchesProposed {
                asset_id: Uuid::from_u128(2),
                matches: vec![candidate(2, 21, "VID", 0.9, 1)],
                at: at(2),
            },
            Ev::MatchSelected { asset_id: Uuid::from_u128(2), match_id: Uuid::from_u128(21), at: at(2) },
        ],
    ]
    .concat()
}

fn catalog() -> Vec<CatalogEntry> {
    vec![
        entry("BAN", &[("Designer", 2.5), ("Project Manager", 0.5)]),
        entry("VID", &[("Motion Designer", 20.0), ("Programme Director", 5.0)]),
    ]
}

#[tokio::test]
async fn the_rate_card_keeps_hours_for_one_asset_and_totals_multiply_by_volume() {
    let events = given()
        .given(priced_history())
        .when_async(Cmd::BuildRatecard {
            catalog_version: 3,
            entries: catalog(),
            rates: BTreeMap::from([("Designer".to_string(), rust_decimal::Decimal::new(8000, 2))]),
            currency: Some("EUR".into()),
            at: at(5),
        })
        .await
        .inspect_result()
        .unwrap();
    let [Ev::RatecardBuilt { ratecard, .. }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(ratecard.catalog_version, 3);
    // Asset 3 has no selected match: no lines. Four lines: two roles for each of assets 1 and 2.
    assert_eq!(ratecard.lines.len(), 4);
    let designer = ratecard.lines.iter().find(|l| l.role == "Designer").unwrap();
    // The bug-4 invariant: the line keeps hours for ONE asset; volume sits beside it.
    assert_eq!(designer.base_hours, 2.5);
    assert_eq!(designer.volume, 10);
    assert_eq!(designer.hours_for_volume(), 25.0);
    assert_eq!(designer.cost(), Some(rust_decimal::Decimal::new(200000, 2)));
    let t = totals(&ratecard.lines);
    assert_eq!(t.total_hours, 2.5 * 10.0 + 0.5 * 10.0 + 20.0 * 4.0 + 5.0 * 4.0);
    assert_eq!(t.hours_by_role["Motion Designer"], 80.0);
    // Not every line has a rate, so the card has no total value.
    assert_eq!(t.total_cost, None);
}

#[tokio::test]
async fn a_rate_card_needs_selected_matches_and_their_hours() {
    let assets_only = [created(), vec![Ev::AssetAdded { asset: asset(1, 1), at: at(1) }]].concat();
    let build = |entries| Cmd::BuildRatecard {
        catalog_version: 1,
        entries,
        rates: BTreeMap::new(),
        currency: None,
        at: at(5),
    };
    given()
        .given(assets_only)
        .when_async(build(catalog()))
        .await
        .then_expect_error(RatecardError::NothingSelected.into());
    given()
        .given(priced_history())
        .when_async(build(vec![entry("BAN", &[("Designer", 1.0)])]))
        .await
        .then_expect_error(RatecardError::EntryMissing("VID".into()).into());
}

#[test]
fn removing_an_asset_takes_its_matches_and_lines_with_it() {
    let mut o = Opportunity::default();
    priced_history().into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    let cmd = Cmd::BuildRatecard {
        catalog_version: 1,
        entries: catalog(),
        rates: BTreeMap::new(),
        currency: None,
        at: at(5),
    };
    for e in o.decide(cmd).unwrap() {
        cqrs_es::Aggregate::apply(&mut o, e);
    }
    assert!(!o.ratecard_stale);
    cqrs_es::Aggregate::apply(&mut o, Ev::AssetRemoved { asset_id: Uuid::from_u128(1), at: at(6) });
    assert!(o.matches.iter().all(|m| m.asset_id != Uuid::from_u128(1)));
    assert!(o.ratecard.as_ref().unwrap().lines.iter().all(|l| l.asset_id != Uuid::from_u128(1)));
    cqrs_es::Aggregate::apply(
        &mut o,
        Ev::AssetUpdated {
            asset_id: Uuid::from_u128(2),
            changes: AssetChanges { volume: Some(9), ..Default::default() },
            at: at(7),
        },
    );
    assert!(o.ratecard_stale, "a changed volume makes the built rate card stale");
}
