//! Given/when/then tests of agent runs: requested, recorded once, failed once, won-only planning.

mod common;

use common::*;
use domain::agent_run::{Agent, Usage};
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
        actor: editor(),
        at: at(2),
    }
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
async fn an_output_is_recorded_once_however_often_it_is_delivered() {
    let history = [created(), vec![requested(Agent::Intake)]].concat();
    given().given(history.clone()).when_async(output()).await.then_expect_events(vec![produced()]);
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
    assert_eq!(o.latest_artifact(Agent::Intake).unwrap().output, Some(json!({"client_name": "Halvorsen"})));
    assert!(o.latest_artifact(Agent::Diagnosis).is_none());
    assert_eq!(Agent::ALL.iter().map(|a| a.stage()).collect::<Vec<_>>(), [1, 2, 6, 7, 9, 12, 13, 15, 16]);
}
