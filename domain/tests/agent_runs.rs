//! Given/when/then tests of agent runs: requested, recorded once, failed once, won-only planning.

mod common;

use common::*;
use domain::agent_run::{Agent, Budget, SpendCap, Usage};
use domain::{
    DealStatus, Opportunity, OpportunityCommand as Cmd, OpportunityError as E, OpportunityEvent as Ev,
};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

fn run_id() -> Uuid {
    Uuid::from_u128(0xA9E27)
}

fn request(agent: Agent) -> Cmd {
    Cmd::RequestAgentRun {
        run_id: run_id(),
        agent,
        input_digest: "sha256:abc".into(),
        prompt_version: "intake/1".into(),
        budget: None,
        actor: editor(),
        at: at(2),
    }
}

/// Another request (another run id) of `agent` on `digest`, with `budget`, at minute `minute`.
fn another(agent: Agent, digest: &str, budget: Option<Budget>, minute: u32) -> Cmd {
    Cmd::RequestAgentRun {
        run_id: Uuid::from_u128(0xB0B),
        agent,
        input_digest: digest.into(),
        prompt_version: "intake/1".into(),
        budget,
        actor: editor(),
        at: at(minute),
    }
}

fn budget(per_opportunity: i64, per_day: i64, spent_today: i64) -> Option<Budget> {
    Some(Budget {
        per_opportunity: Decimal::new(per_opportunity, 2),
        per_day: Decimal::new(per_day, 2),
        spent_today: Decimal::new(spent_today, 2),
    })
}

fn requested(agent: Agent) -> Ev {
    Ev::AgentRunRequested {
        run_id: run_id(),
        agent,
        stage: agent.stage(),
        input_digest: "sha256:abc".into(),
        prompt_version: "intake/1".into(),
        requested_by: editor().email,
        at: at(2),
    }
}

fn usage() -> Usage {
    Usage {
        input_tokens: 1200,
        output_tokens: 300,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 800,
    }
}

fn output() -> Cmd {
    Cmd::RecordAgentOutput {
        run_id: run_id(),
        output: json!({"client_name": "Halvorsen"}),
        model: "offline".into(),
        usage: usage(),
        cost_usd: Decimal::new(125, 4),
        at: at(3),
    }
}

fn produced() -> Ev {
    Ev::ArtifactProduced {
        run_id: run_id(),
        agent: Agent::Intake,
        stage: 1,
        output: json!({"client_name": "Halvorsen"}),
        model: "offline".into(),
        usage: usage(),
        cost_usd: Decimal::new(125, 4),
        at: at(3),
    }
}

#[tokio::test]
async fn a_request_records_the_agent_its_stage_and_its_inputs() {
    given()
        .given(created())
        .when_async(request(Agent::Intake))
        .await
        .then_expect_events(vec![requested(Agent::Intake)]);
}

#[tokio::test]
async fn the_same_run_requested_twice_is_recorded_once() {
    given()
        .given([created(), vec![requested(Agent::Intake)]].concat())
        .when_async(request(Agent::Intake))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_run_of_the_same_agent_on_the_same_inputs_in_flight_answers_a_new_request() {
    let history = [created(), vec![requested(Agent::Diagnosis)]].concat();
    given()
        .given(history.clone())
        .when_async(another(Agent::Diagnosis, "sha256:abc", None, 5))
        .await
        .then_expect_error(E::AgentRunInFlight(run_id()));
    // Other inputs, or another agent, is another run.
    for cmd in
        [another(Agent::Diagnosis, "sha256:new", None, 5), another(Agent::Intake, "sha256:abc", None, 5)]
    {
        let events = given().given(history.clone()).when_async(cmd).await.inspect_result().unwrap();
        assert!(matches!(events[..], [Ev::AgentRunRequested { .. }]), "{events:?}");
    }
    // A finished run holds nothing back, nor does one nobody answered for an hour.
    let done =
        Ev::AgentRunFailed { run_id: run_id(), agent: Agent::Diagnosis, reason: "x".into(), at: at(3) };
    let events = given()
        .given([history.clone(), vec![done]].concat())
        .when_async(another(Agent::Diagnosis, "sha256:abc", None, 5))
        .await
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 1);
    let mut late = another(Agent::Diagnosis, "sha256:abc", None, 0);
    if let Cmd::RequestAgentRun { at, .. } = &mut late {
        *at = at.checked_add_signed(chrono::TimeDelta::minutes(62)).unwrap();
    }
    assert_eq!(given().given(history).when_async(late).await.inspect_result().unwrap().len(), 1);
}

#[tokio::test]
async fn paid_runs_stop_at_the_spend_caps() {
    // The opportunity has spent 0.0125 USD (one produced run).
    let spent = [created(), vec![requested(Agent::Intake), produced()]].concat();
    let request = |b| another(Agent::Diagnosis, "sha256:d", b, 5);
    let allowed = given().given(spent.clone()).when_async(request(budget(2, 100, 99))).await.inspect_result();
    assert_eq!(allowed.unwrap().len(), 1, "under both caps");
    given().given(spent.clone()).when_async(request(budget(1, 100, 0))).await.then_expect_error(
        E::SpendCapReached {
            cap: SpendCap::PerOpportunity,
            limit: Decimal::new(1, 2),
            spent: Decimal::new(125, 4),
        },
    );
    given().given(spent.clone()).when_async(request(budget(500, 100, 100))).await.then_expect_error(
        E::SpendCapReached {
            cap: SpendCap::PerDay,
            limit: Decimal::new(100, 2),
            spent: Decimal::new(100, 2),
        },
    );
    // Without a budget (a provider that costs nothing) there is nothing to stop.
    assert_eq!(given().given(spent).when_async(request(None)).await.inspect_result().unwrap().len(), 1);
}

#[test]
fn the_aggregate_keeps_no_agent_output() {
    let o = fold([created(), vec![requested(Agent::Intake), produced()]].concat());
    let runs = serde_json::to_value(&o.agent_runs).unwrap().to_string();
    assert!(runs.contains("sha256:abc") && !runs.contains("client_name"), "{runs}");
}

#[tokio::test]
async fn an_output_is_recorded_once_however_often_it_is_delivered() {
    let history = [created(), vec![requested(Agent::Intake)]].concat();
    let first = given().given(history.clone()).when_async(output()).await.inspect_result().unwrap();
    assert_eq!(first[0], produced());
    assert!(matches!(&first[1..], [Ev::IntakeApplied { .. }]), "blank client name filled: {first:?}");
    given()
        .given([history.clone(), vec![produced()]].concat())
        .when_async(output())
        .await
        .then_expect_events(vec![]);
    // A late failure of a run that already succeeded changes nothing either.
    let fail = Cmd::RecordAgentFailure { run_id: run_id(), reason: "timeout".into(), at: at(4) };
    given().given([history, vec![produced()]].concat()).when_async(fail).await.then_expect_events(vec![]);
}

#[tokio::test]
async fn a_failure_is_recorded_with_its_reason_once() {
    let history = [created(), vec![requested(Agent::Diagnosis)]].concat();
    let fail = || Cmd::RecordAgentFailure {
        run_id: run_id(),
        reason: "schema: clarifications < 6".into(),
        at: at(4),
    };
    given().given(history.clone()).when_async(fail()).await.then_expect_events(vec![Ev::AgentRunFailed {
        run_id: run_id(),
        agent: Agent::Diagnosis,
        reason: "schema: clarifications < 6".into(),
        at: at(4),
    }]);
    let failed =
        Ev::AgentRunFailed { run_id: run_id(), agent: Agent::Diagnosis, reason: "x".into(), at: at(4) };
    given().given([history, vec![failed]].concat()).when_async(output()).await.then_expect_events(vec![]);
}

#[tokio::test]
async fn results_for_an_unknown_run_are_refused() {
    given().given(created()).when_async(output()).await.then_expect_error(E::AgentRunNotFound(run_id()));
}

#[tokio::test]
async fn the_implementation_plan_waits_for_a_won_deal() {
    given()
        .given(created())
        .when_async(request(Agent::ImplementationPlan))
        .await
        .then_expect_error(E::DealNotWon);
    let won = Ev::DealStatusChanged {
        from: DealStatus::Active,
        to: DealStatus::Won,
        lessons_learned: None,
        at: at(1),
    };
    given()
        .given([created(), vec![won]].concat())
        .when_async(request(Agent::ImplementationPlan))
        .await
        .then_expect_events(vec![requested(Agent::ImplementationPlan)]);
}

#[test]
fn costs_add_up_on_the_opportunity_and_the_latest_artifact_is_found() {
    let mut o = Opportunity::default();
    [created(), vec![requested(Agent::Intake), produced()]]
        .concat()
        .into_iter()
        .for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    assert_eq!(o.total_cost_usd, Decimal::new(125, 4));
    assert_eq!(o.latest_artifact(Agent::Intake).unwrap().run_id, run_id());
    assert!(o.latest_artifact(Agent::Diagnosis).is_none());
    assert_eq!(Agent::ALL.iter().map(|a| a.stage()).collect::<Vec<_>>(), [1, 2, 6, 7, 9, 12, 13, 15, 16]);
}

fn record(agent: Agent, output: serde_json::Value) -> (Vec<Ev>, Cmd) {
    let history = [created(), vec![requested(agent)]].concat();
    let cmd = Cmd::RecordAgentOutput {
        run_id: run_id(),
        output,
        model: "offline".into(),
        usage: Usage::default(),
        cost_usd: Decimal::ZERO,
        at: at(3),
    };
    (history, cmd)
}

fn fold(events: Vec<Ev>) -> Opportunity {
    let mut o = Opportunity::default();
    events.into_iter().for_each(|e| cqrs_es::Aggregate::apply(&mut o, e));
    o
}

#[tokio::test]
async fn intake_fills_only_blank_fields() {
    let (mut history, cmd) = record(
        Agent::Intake,
        json!({"client_name": "Halvorsen", "region": "EMEA", "brands": ["Nordlys"], "service_types": ["Content"],
               "deadline_iso": "2026-03-20", "go_live_iso": null, "summary": "An EMEA content RFP"}),
    );
    // A person already set the region: intake must not overwrite it.
    history.push(Ev::OpportunityDetailsUpdated {
        changes: domain::DetailsChanges { region: Some(Some("Nordics".into())), ..Default::default() },
        at: at(1),
    });
    let events = given().given(history.clone()).when_async(cmd).await.inspect_result().unwrap();
    let o = fold([history, events].concat());
    assert_eq!(o.details.client_name.as_deref(), Some("Halvorsen"));
    assert_eq!(o.details.region.as_deref(), Some("Nordics"));
    assert_eq!(o.details.brands, ["Nordlys"]);
    assert_eq!(o.details.deadline.map(|d| d.to_string()).as_deref(), Some("2026-03-20"));
    assert_eq!(o.details.description.as_deref(), Some("An EMEA content RFP"));
}

#[tokio::test]
async fn diagnosis_replaces_only_its_own_clarifications() {
    let (mut history, cmd) = record(
        Agent::Diagnosis,
        json!({"summary": "s", "clarifications": [
            {"category": "Scope", "question": "Which markets?", "rationale": "r", "priority": "red"},
            {"category": "Timing", "question": "What turnaround?", "rationale": "r", "priority": "amber"}]}),
    );
    let raised = |n: u128, stage: u8| Ev::ClarificationAdded {
        clarification: domain::clarification::NewClarification {
            clarification_id: Uuid::from_u128(n),
            category: "Old".into(),
            question: format!("Old {n}?"),
            rationale: String::new(),
            priority: domain::clarification::Priority::Green,
            source_stage: stage,
        },
        at: at(1),
    };
    history.extend([raised(1, 2), raised(2, 5)]);
    let events = given().given(history.clone()).when_async(cmd.clone()).await.inspect_result().unwrap();
    let o = fold([history.clone(), events.clone()].concat());
    let questions: Vec<&str> = o.clarifications.iter().map(|c| c.raised.question.as_str()).collect();
    assert_eq!(questions, ["Old 2?", "Which markets?", "What turnaround?"]);
    // The ids come from the run: the same output always yields the same clarifications.
    let again = given().given(history).when_async(cmd).await.inspect_result().unwrap();
    assert_eq!(again, events);
}

#[tokio::test]
async fn normalising_replaces_the_assets_and_their_matches() {
    let (mut history, cmd) = record(
        Agent::AssetNormalizer,
        json!({"assets": [{"raw_name": "Toolbox A", "raw_description": "", "client_tier": "A", "volume": 4},
                          {"raw_name": "PDP hero", "raw_description": "Volume TBC", "client_tier": null, "volume": 0}]}),
    );
    let old = domain::asset::Asset {
        asset_id: Uuid::from_u128(9),
        raw_name: "Old".into(),
        raw_description: None,
        client_tier: None,
        volume: 2,
    };
    history.push(Ev::AssetAdded { asset: old, at: at(1) });
    let events = given().given(history.clone()).when_async(cmd).await.inspect_result().unwrap();
    let o = fold([history, events].concat());
    let names: Vec<(&str, Option<&str>, u32)> =
        o.assets.iter().map(|a| (a.raw_name.as_str(), a.client_tier.as_deref(), a.volume)).collect();
    assert_eq!(names, [("Toolbox A", Some("A"), 4), ("PDP hero", None, 1)]);
}

#[tokio::test]
async fn matching_proposes_candidates_and_selects_a_strong_first() {
    let asset = domain::asset::Asset {
        asset_id: Uuid::from_u128(9),
        raw_name: "Banner".into(),
        raw_description: None,
        client_tier: None,
        volume: 2,
    };
    let (mut history, cmd) = record(
        Agent::Matcher,
        json!({"assets": [{"asset_id": Uuid::from_u128(9), "matches": [
            {"gmal_id": "GMAL-DIS-001", "confidence": "exact", "confidence_score": 0.93, "reasoning": "r", "caveats": "c"},
            {"gmal_id": "GMAL-DIS-002", "confidence": "close", "confidence_score": 0.91, "reasoning": "r", "caveats": "c"}]},
            {"asset_id": Uuid::from_u128(77), "matches": []}]}),
    );
    history.push(Ev::AssetAdded { asset, at: at(1) });
    let events = given().given(history.clone()).when_async(cmd).await.inspect_result().unwrap();
    let o = fold([history, events].concat());
    assert_eq!(o.matches.len(), 2);
    assert_eq!(o.selected_match(Uuid::from_u128(9)).unwrap().catalog_id, "GMAL-DIS-001");
}

#[tokio::test]
async fn an_output_that_does_not_fit_its_schema_is_refused() {
    let (history, cmd) = record(Agent::Diagnosis, json!({"clarifications": "none"}));
    let err = given().given(history).when_async(cmd).await.inspect_result().unwrap_err();
    assert!(matches!(err, E::MalformedOutput(ref m) if m.contains("submit_brief_diagnosis")), "{err:?}");
}

#[test]
fn agent_names_match_their_serialised_form() {
    for agent in Agent::ALL {
        assert_eq!(serde_json::to_value(agent).unwrap(), agent.name());
    }
}
