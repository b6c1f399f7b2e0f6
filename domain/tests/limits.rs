//! Given/when/then tests of the limits every command is checked against before it is decided:
//! dates in 1900–9999, numbers within what the read models hold, bounded text without NUL or other
//! control characters. A refused command records nothing and names the field.

mod common;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use common::*;
use domain::agent_run::{Agent, Usage};
use domain::asset::{Asset, AssetChanges, CatalogMatch, MatchConfidence};
use domain::clarification::{ClarificationChange, NewClarification, Priority};
use domain::efficiency::{EfficiencyProfile, Scenario};
use domain::qualification::TrowlsScores;
use domain::roles::Discipline;
use domain::{
    ApprovalDecision, DetailsChanges, InputError, Opportunity, OpportunityCommand as Cmd,
    OpportunityError as E, OpportunityEvent as Ev,
};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

fn date(y: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, 1, 1).unwrap()
}

fn invalid(e: InputError) -> E {
    E::Invalid(e)
}

fn too_long(field: &str, max: usize) -> E {
    invalid(InputError::TooLong { field: field.into(), max })
}

fn control(field: &str) -> E {
    invalid(InputError::ControlCharacter { field: field.into() })
}

async fn refused(given_events: Vec<Ev>, command: Cmd, error: E) {
    given().given(given_events).when_async(command).await.then_expect_error(error);
}

fn update(changes: DetailsChanges) -> Cmd {
    Cmd::UpdateDetails { changes, at: at(2) }
}

#[tokio::test]
async fn dates_outside_1900_to_9999_are_refused_on_create_and_update() {
    let mut details = details();
    details.go_live = Some(date(0));
    let create = Cmd::CreateOpportunity { opportunity_id: opp_id(), details, actor: editor(), at: at(0) };
    let e = invalid(InputError::DateOutOfRange { field: "go_live".into(), value: date(0) });
    given().given_no_previous_events().when_async(create).await.then_expect_error(e);
    for (year, field) in [(1899, "deadline"), (10_000, "deadline"), (99_999, "deadline")] {
        let changes = DetailsChanges { deadline: Some(Some(date(year))), ..Default::default() };
        let e = invalid(InputError::DateOutOfRange { field: field.into(), value: date(year) });
        refused(created(), update(changes), e).await;
    }
    let edges = DetailsChanges {
        deadline: Some(Some(date(1900))),
        go_live: Some(Some(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap())),
        ..Default::default()
    };
    given()
        .given(created())
        .when_async(update(edges.clone()))
        .await
        .then_expect_events(vec![Ev::OpportunityDetailsUpdated { changes: edges, at: at(2) }]);
}

#[tokio::test]
async fn nul_and_control_characters_are_refused_in_every_kind_of_text() {
    let name = DetailsChanges { name: Some("Nul\0name".into()), ..Default::default() };
    refused(created(), update(name), control("name")).await;
    let brands =
        DetailsChanges { brands: Some(vec!["ok".into(), "esc\u{1b}[31m".into()]), ..Default::default() };
    refused(created(), update(brands), control("brands[1]")).await;
    let lessons =
        Cmd::SetDealStatus { status: None, lessons_learned: Some(Some("a\u{0}b".into())), at: at(2) };
    refused(created(), lessons, control("lessons_learned")).await;
    let question = NewClarification {
        clarification_id: Uuid::from_u128(1),
        category: "Scope".into(),
        question: "How\u{0} many?".into(),
        rationale: String::new(),
        priority: Priority::Red,
        source_stage: 5,
    };
    refused(created(), Cmd::AddClarification { clarification: question, at: at(2) }, control("question"))
        .await;
    let asset = Asset {
        asset_id: Uuid::from_u128(2),
        raw_name: "Banner".into(),
        raw_description: Some("bell\u{7}".into()),
        client_tier: None,
        volume: 1,
    };
    refused(created(), Cmd::AddAsset { asset, at: at(2) }, control("raw_description")).await;
    let decide = Cmd::DecideApproval {
        approval_id: Uuid::from_u128(3),
        decision: ApprovalDecision::Approve,
        notes: Some("\0".into()),
        actor: admin(),
        at: at(2),
    };
    refused(created(), decide, control("notes")).await;
}

#[tokio::test]
async fn tabs_and_line_breaks_are_kept() {
    let changes =
        DetailsChanges { description: Some(Some("one\ttwo\r\nthree".into())), ..Default::default() };
    given()
        .given(created())
        .when_async(update(changes.clone()))
        .await
        .then_expect_events(vec![Ev::OpportunityDetailsUpdated { changes, at: at(2) }]);
}

#[tokio::test]
async fn overlong_text_is_refused_naming_the_field_and_its_limit() {
    let name = DetailsChanges { name: Some("n".repeat(201)), ..Default::default() };
    refused(created(), update(name), too_long("name", 200)).await;
    let description = DetailsChanges { description: Some(Some("d".repeat(20_001))), ..Default::default() };
    refused(created(), update(description), too_long("description", 20_000)).await;
    let answer = ClarificationChange::Answer("a".repeat(20_001));
    let with_question = [
        created(),
        vec![Ev::ClarificationAdded {
            clarification: NewClarification {
                clarification_id: Uuid::from_u128(1),
                category: "Scope".into(),
                question: "How many?".into(),
                rationale: String::new(),
                priority: Priority::Red,
                source_stage: 5,
            },
            at: at(1),
        }],
    ]
    .concat();
    let change = Cmd::ChangeClarification { clarification_id: Uuid::from_u128(1), change: answer, at: at(2) };
    refused(with_question, change, too_long("client_answer", 20_000)).await;
    let reasoning = CatalogMatch {
        match_id: Uuid::from_u128(4),
        asset_id: Uuid::from_u128(2),
        catalog_id: "GMAL-DIS-001".into(),
        catalog_asset_name: "Display banner".into(),
        confidence: MatchConfidence::Manual,
        score: 1.0,
        rank: 1,
        reasoning: "r".repeat(4_001),
        caveats: String::new(),
    };
    refused(
        created(),
        Cmd::ChooseCatalogEntry { candidate: reasoning, at: at(2) },
        too_long("reasoning", 4_000),
    )
    .await;
    let tools = EfficiencyProfile {
        scenario: Scenario::Custom,
        blanket_pct: 10.0,
        discipline_overrides: BTreeMap::new(),
        tools_applied: vec!["t".into(); 51],
        notes: None,
    };
    let e = invalid(InputError::TooMany { field: "tools_applied".into(), max: 50 });
    refused(created(), Cmd::SetEfficiencyProfile { profile: tools, at: at(2) }, e).await;
}

#[tokio::test]
async fn numbers_beyond_what_the_read_models_hold_are_refused() {
    let asset = Asset {
        asset_id: Uuid::from_u128(2),
        raw_name: "Banner".into(),
        raw_description: None,
        client_tier: None,
        volume: u32::MAX,
    };
    refused(created(), Cmd::AddAsset { asset, at: at(2) }, out_of_range("volume", 1, 1_000_000, u32::MAX))
        .await;
    let changes = AssetChanges { volume: Some(1_000_001), ..Default::default() };
    let with_asset = [
        created(),
        vec![Ev::AssetAdded {
            asset: Asset {
                asset_id: Uuid::from_u128(2),
                raw_name: "Banner".into(),
                raw_description: None,
                client_tier: None,
                volume: 1,
            },
            at: at(1),
        }],
    ]
    .concat();
    let update = Cmd::UpdateAsset { asset_id: Uuid::from_u128(2), changes, at: at(2) };
    refused(with_asset, update, out_of_range("volume", 1, 1_000_000, 1_000_001)).await;
    let profile = |blanket: f64, creative: f64| EfficiencyProfile {
        scenario: Scenario::Custom,
        blanket_pct: blanket,
        discipline_overrides: BTreeMap::from([(Discipline::Creative, creative)]),
        tools_applied: vec![],
        notes: None,
    };
    let set = |p| Cmd::SetEfficiencyProfile { profile: p, at: at(2) };
    refused(created(), set(profile(1e300, 10.0)), out_of_range("blanket_pct", 0.0, 100.0, 1e300)).await;
    refused(
        created(),
        set(profile(10.0, -5.0)),
        out_of_range("discipline_overrides.Creative", 0.0, 100.0, -5.0),
    )
    .await;
    refused(created(), set(profile(f64::NAN, 10.0)), out_of_range("blanket_pct", 0.0, 100.0, f64::NAN)).await;
    let huge = Decimal::from(1_000_000_000_i64);
    let build = Cmd::BuildRatecard {
        catalog_version: 1,
        entries: vec![],
        rates: BTreeMap::from([("Designer".to_string(), huge)]),
        currency: None,
        at: at(2),
    };
    refused(created(), build, out_of_range("rates.Designer", 0, "99999.99", huge)).await;
    let build = Cmd::BuildRatecard {
        catalog_version: 1,
        entries: vec![],
        rates: BTreeMap::new(),
        currency: Some("E\0R".into()),
        at: at(2),
    };
    refused(created(), build, invalid(InputError::Currency { field: "currency".into() })).await;
    let scores = TrowlsScores {
        timing: 255,
        relationship: 0,
        opportunity: 0,
        what_we_know: 0,
        location: 0,
        sector: 0,
    };
    let score = Cmd::ScoreQualification { scores, notes: None, actor: editor(), at: at(2) };
    refused(created(), score, out_of_range("timing", 0, 10, 255)).await;
}

fn requested_run(agent: Agent) -> Vec<Ev> {
    let run = Ev::AgentRunRequested {
        run_id: Uuid::from_u128(9),
        agent,
        stage: agent.stage(),
        input_digest: "sha256:abc".into(),
        prompt_version: "v1".into(),
        requested_by: editor().email,
        at: at(1),
    };
    [created(), vec![run]].concat()
}

fn state(events: Vec<Ev>) -> Opportunity {
    let mut o = Opportunity::default();
    events.into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    o
}

fn record(output: serde_json::Value) -> Cmd {
    Cmd::RecordAgentOutput {
        run_id: Uuid::from_u128(9),
        output,
        model: "offline".into(),
        usage: Usage::default(),
        cost_usd: Decimal::ZERO,
        at: at(2),
    }
}

#[tokio::test]
async fn an_agent_output_holding_nul_is_malformed() {
    let e = E::MalformedOutput("submit_intake_metadata: brands[0] holds a NUL character".into());
    refused(requested_run(Agent::Intake), record(json!({"brands": ["a\u{0}"]})), e).await;
}

#[test]
fn agent_fills_are_cut_to_what_the_read_models_hold() {
    let output = json!({
        "client_name": "c".repeat(500), "region": "EMEA\u{1}", "brands": ["x".repeat(300)],
        "deadline_iso": "0001-01-01", "go_live_iso": "2027-05-01",
    });
    let events = state(requested_run(Agent::Intake)).decide(record(output)).unwrap();
    let Some(Ev::IntakeApplied { changes, .. }) = events.get(1) else { panic!("{events:?}") };
    assert_eq!(changes.client_name, Some(Some("c".repeat(200))));
    assert_eq!(changes.region, Some(Some("EMEA".into())));
    assert_eq!(changes.brands, Some(vec!["x".repeat(100)]));
    assert_eq!(changes.deadline, None, "a date the read models cannot hold is not filled");
    assert_eq!(changes.go_live, Some(NaiveDate::from_ymd_opt(2027, 5, 1)));
    let output = json!({"assets": [{"raw_name": "Banner\u{2}", "volume": 4_000_000_000_u64}]});
    let events = state(requested_run(Agent::AssetNormalizer)).decide(record(output)).unwrap();
    let Some(Ev::AssetsNormalized { added, .. }) = events.get(1) else { panic!("{events:?}") };
    assert_eq!((added[0].raw_name.as_str(), added[0].volume), ("Banner", 1_000_000));
}

#[tokio::test]
async fn a_failure_reason_is_cleaned_rather_than_refused() {
    let fail = Cmd::RecordAgentFailure {
        run_id: Uuid::from_u128(9),
        reason: format!("bad\0{}", "r".repeat(3000)),
        at: at(2),
    };
    given().given(requested_run(Agent::Intake)).when_async(fail).await.then_expect_events(vec![
        Ev::AgentRunFailed {
            run_id: Uuid::from_u128(9),
            agent: Agent::Intake,
            reason: format!("bad{}", "r".repeat(1997)),
            at: at(2),
        },
    ]);
}
