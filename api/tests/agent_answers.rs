//! How the agent endpoints answer, as the original system's clients expect: with the finished run
//! and its artifact by default; 202 and a Location at once with `Prefer: respond-async`, or when
//! the bounded wait runs out; matching stays asynchronous. Each run's cost adds up on the
//! opportunity.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_workers::offline::provider::OfflineProvider;
use agent_workers::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use domain::agent_run::Agent;
use rust_decimal::Decimal;
use serde_json::json;

const BRIEF: &[u8] = b"# RFP: Spring campaign\nIssued by: Larkspur Foods Ltd\nWe need 12 social posts and 2 videos for the UK.\n";

/// The offline agents, priced as if a paid model had answered.
struct Priced;

#[async_trait]
impl Provider for Priced {
    fn name(&self) -> &str {
        "priced-test"
    }
    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        let mut out = OfflineProvider.run(agent, inputs).await?;
        out.cost_usd = Decimal::new(12_345, 6);
        Ok(out)
    }
}

async fn post(app: &TestApp, token: &str, uri: &str, prefer: Option<&str>) -> (Response, Duration) {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(p) = prefer {
        request = request.header("prefer", p);
    }
    let started = Instant::now();
    let r = app.send(request.body(Body::from("{}")).unwrap()).await;
    (r, started.elapsed())
}

async fn with_brief(app: &TestApp, token: &str) -> String {
    let id = app.create_opportunity(token, "Spring campaign").await;
    assert_eq!(app.upload(token, &id, "brief.md", BRIEF).await.status, StatusCode::CREATED);
    id
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn by_default_an_agent_endpoint_answers_with_the_finished_run(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.agent_sync_wait = Duration::from_secs(60)).await;
    let _stop = workers::start(&app, vec![(Arc::new(Priced), None)]);
    let token = app.editor().await;
    let id = with_brief(&app, &token).await;

    let (r, _) = post(&app, &token, &format!("/api/opportunities/{id}/intake"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "succeeded", "{}", r.body);
    assert_eq!(r.body["agent"], "intake");
    assert!(r.body["output"].is_object(), "the artifact is in the answer: {}", r.body);
    assert!(r.headers.get("preference-applied").is_none());

    // Every run's cost adds up on the opportunity, in the list as in the detail.
    let (r, _) = post(&app, &token, &format!("/api/opportunities/{id}/diagnose"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let detail = app.get(&format!("/api/opportunities/{id}"), &token).await;
    assert_eq!(
        detail.body["total_cost_usd"].as_str().map(|c| c.parse::<Decimal>().unwrap()),
        Some(Decimal::new(24_690, 6)),
        "{}",
        detail.body
    );
    let list = app.get("/api/opportunities", &token).await;
    let row = list.body.as_array().unwrap().iter().find(|o| o["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["total_cost_usd"], detail.body["total_cost_usd"]);
    // As it stood when the first run was recorded.
    let first: i64 = sqlx::query_scalar(
        "SELECT min(sequence) FROM events WHERE aggregate_id = $1 AND event_type = 'ArtifactProduced'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let before = app.get(&format!("/api/opportunities/{id}?as_of_version={first}"), &token).await;
    assert_eq!(
        before.body["total_cost_usd"].as_str().map(|c| c.parse::<Decimal>().unwrap()),
        Some(Decimal::new(12_345, 6)),
        "{}",
        before.body
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn prefer_respond_async_answers_202_at_once(pool: sqlx::PgPool) {
    // No worker runs, and the server would wait a minute by default.
    let app = TestApp::with(pool, |s| s.agent_sync_wait = Duration::from_secs(60)).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token).await;

    let (r, took) =
        post(&app, &token, &format!("/api/opportunities/{id}/intake"), Some("respond-async")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(took < Duration::from_secs(10), "answered at once, not after the wait: {took:?}");
    assert_eq!(r.headers["preference-applied"], "respond-async");
    let run = r.body["run_id"].as_str().unwrap();
    assert_eq!(r.headers[header::LOCATION], format!("/api/agent-runs/{run}").as_str());
    assert_eq!(r.body["status"], "requested");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn when_the_wait_runs_out_the_answer_is_202_with_the_location(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.agent_sync_wait = Duration::from_secs(1)).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token).await;

    let (r, took) = post(&app, &token, &format!("/api/opportunities/{id}/diagnose"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(took >= Duration::from_secs(1), "it waited first: {took:?}");
    assert!(r.headers.contains_key(header::LOCATION));
    assert!(r.headers.get("preference-applied").is_none());
    // Prefer: wait=N bounds one request, as ?wait= does.
    let (r, took) = post(&app, &token, &format!("/api/opportunities/{id}/diagnose"), Some("wait=0")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn matching_stays_asynchronous(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.agent_sync_wait = Duration::from_secs(60)).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Matching").await;
    let asset = app
        .post(
            &format!("/api/opportunities/{id}/assets"),
            &token,
            json!({"raw_name": "Social post", "volume": 3}),
        )
        .await;
    assert_eq!(asset.status, StatusCode::CREATED, "{}", asset.body);

    let (r, took) = post(&app, &token, &format!("/api/opportunities/{id}/match"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(r.headers.contains_key(header::LOCATION));
}
