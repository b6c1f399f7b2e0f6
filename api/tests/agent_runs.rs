//! Agent runs through their read model: a run, the artifacts of a stage, and the cost ledger.

mod common;

use axum::http::StatusCode;
use common::*;
use domain::agent_run::{Agent, Usage};
use domain::OpportunityCommand as Cmd;
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

async fn run(app: &TestApp, opportunity: &str, agent: Agent, outcome: Result<(u64, i64), &str>) -> Uuid {
    let user = app.state.users.sign_in("editor@agency.test", "editor", None).await.unwrap();
    let id: Uuid = opportunity.parse().unwrap();
    let run_id = Uuid::new_v4();
    let request = Cmd::RequestAgentRun {
        run_id,
        agent,
        input_digest: "sha256:0".into(),
        budget: None,
        prompt_version: "v1".into(),
        actor: user.actor(),
        at: api::clock::now(),
    };
    app.state.bus.execute(id, request, &user).await.unwrap();
    let result = match outcome {
        Ok((tokens, cost_micro)) => Cmd::RecordAgentOutput {
            run_id,
            output: json!({"agent": format!("{agent:?}"), "tokens": tokens}),
            model: "offline".into(),
            usage: Usage { input_tokens: tokens, output_tokens: tokens / 4, ..Default::default() },
            cost_usd: Decimal::new(cost_micro, 6),
            at: api::clock::now(),
        },
        Err(reason) => Cmd::RecordAgentFailure { run_id, reason: reason.into(), at: api::clock::now() },
    };
    app.state.bus.execute(id, result.clone(), &user).await.unwrap();
    // A redelivered result records nothing more.
    app.state.bus.execute(id, result, &user).await.unwrap();
    run_id
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn runs_artifacts_and_costs_are_readable(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Agents").await;
    let first = run(&app, &id, Agent::Intake, Ok((1000, 12_000))).await;
    let second = run(&app, &id, Agent::Intake, Ok((2000, 30_000))).await;
    let failed = run(&app, &id, Agent::Diagnosis, Err("provider kept answering 529")).await;

    let r = app.get(&format!("/api/agent-runs/{first}"), &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(r.body["agent"], "intake");
    assert_eq!(r.body["stage"], 1);
    assert_eq!(r.body["input_tokens"], 1000);
    assert_eq!(r.body["output"]["tokens"], 1000);
    let f = app.get(&format!("/api/agent-runs/{failed}"), &token).await;
    assert_eq!(f.body["status"], "failed");
    assert_eq!(f.body["failure"], "provider kept answering 529");
    assert!(f.body["output"].is_null());

    let artifacts = app.get(&format!("/api/opportunities/{id}/artifacts?stage=1"), &token).await;
    let runs: Vec<&str> =
        artifacts.body.as_array().unwrap().iter().map(|a| a["run_id"].as_str().unwrap()).collect();
    assert_eq!(runs, [second.to_string(), first.to_string()], "latest first, one artifact per run");
    let none = app.get(&format!("/api/opportunities/{id}/artifacts?stage=2"), &token).await;
    assert_eq!(none.body, json!([]), "a failed run leaves no artifact");

    let costs = app.get(&format!("/api/opportunities/{id}/costs"), &token).await;
    assert_eq!(costs.body["total_cost_usd"], "0.042000");
    assert_eq!(costs.body["runs"], 3);
    assert_eq!(costs.body["by_stage"][0]["stage"], 1);
    assert_eq!(costs.body["by_stage"][0]["latest_cost_usd"], "0.030000");
    assert_eq!(costs.body["by_stage"][0]["total_cost_usd"], "0.042000");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn unknown_runs_and_bad_stages(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Agents").await;
    assert_problem(
        &app.get(&format!("/api/agent-runs/{}", Uuid::new_v4()), &token).await,
        StatusCode::NOT_FOUND,
        "",
    );
    assert_problem(
        &app.get(&format!("/api/opportunities/{id}/artifacts?stage=18"), &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "stage",
    );
    assert_problem(
        &app.get(&format!("/api/opportunities/{}/costs", Uuid::new_v4()), &token).await,
        StatusCode::NOT_FOUND,
        "",
    );
}
