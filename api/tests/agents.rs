//! The agent endpoints' own rules: what each needs before it runs, who may run it, how long a
//! client may wait, and that a request is queued as one run.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

const AGENTS: [&str; 9] = [
    "intake",
    "diagnose",
    "assets/normalize",
    "match",
    "delivery-model",
    "capability-gaps",
    "support-docs",
    "pitch-deck",
    "implementation-plan",
];

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn every_agent_answers_404_for_an_unknown_opportunity(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let missing = uuid::Uuid::new_v4();
    for path in AGENTS {
        let r = app.post(&format!("/api/opportunities/{missing}/{path}"), &token, json!({})).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "");
    }
    assert_eq!(app.event_count().await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn agents_refuse_to_run_without_their_inputs(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "No inputs").await;
    let before = app.event_count().await;
    for (path, field) in [
        ("intake", "files"),
        ("diagnose", "files"),
        ("assets/normalize", "files"),
        ("match", "assets"),
        ("delivery-model", "diagnosis"),
        ("capability-gaps", "diagnosis"),
        ("support-docs", "diagnosis"),
        ("pitch-deck", "diagnosis"),
    ] {
        let r = app.post(&format!("/api/opportunities/{id}/{path}"), &token, json!({})).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, field);
    }
    let plan = app.post(&format!("/api/opportunities/{id}/implementation-plan"), &token, json!({})).await;
    assert_problem(&plan, StatusCode::BAD_REQUEST, "deal_status");
    assert!(plan.body["detail"].as_str().unwrap().contains("won"));
    assert_eq!(app.event_count().await, before, "a refused run records nothing");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_request_is_queued_once_and_answers_202_with_its_location(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Queued").await;
    let up = app.upload(&token, &id, "brief.md", b"# Brief\nHalvorsen wants social statics.").await;
    assert_eq!(up.status, StatusCode::CREATED);
    let r = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let run_id = r.body["run_id"].as_str().unwrap();
    assert_eq!(r.headers["location"], format!("/api/agent-runs/{run_id}").as_str());
    assert_eq!(r.body["status"], "requested");
    assert_eq!(r.body["agent"], "intake");
    assert!(r.body["input_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(r.body["prompt_version"], "intake/1");
    let run = app.get(&format!("/api/agent-runs/{run_id}"), &token).await;
    assert_eq!(run.body["status"], "requested");

    // Without a worker the run stays requested: ?wait gives up and still answers 202.
    let waited = app.post(&format!("/api/opportunities/{id}/intake?wait=1"), &token, json!({})).await;
    assert_eq!(waited.status, StatusCode::ACCEPTED);
    let too_long = app.post(&format!("/api/opportunities/{id}/intake?wait=121"), &token, json!({})).await;
    assert_problem(&too_long, StatusCode::UNPROCESSABLE_ENTITY, "wait");
    let viewer = app.login("viewer@agency.test", "viewer").await;
    let r = app.post(&format!("/api/opportunities/{id}/intake"), &viewer, json!({})).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
}
