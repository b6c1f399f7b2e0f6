//! Agent runs are bounded: a request while the same agent runs on the same inputs returns that
//! run; each user and each opportunity may start so many runs a minute (429 with Retry-After,
//! across processes as the buckets are in PostgreSQL); paid runs stop at the spend caps.

mod common;

use axum::http::StatusCode;
use common::*;
use rust_decimal::Decimal;
use serde_json::json;

async fn with_brief(app: &TestApp, token: &str, name: &str) -> String {
    let id = app.create_opportunity(token, name).await;
    assert_eq!(
        app.upload(token, &id, "brief.md", b"# Brief\nTwelve social posts.").await.status,
        StatusCode::CREATED
    );
    id
}

async fn requested_runs(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'AgentRunRequested'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_flood_of_the_same_request_gets_the_run_in_flight(pool: sqlx::PgPool) {
    // No worker runs, so the first run stays in flight.
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token, "Flooded").await;
    let uri = format!("/api/opportunities/{id}/diagnose");
    let answers = futures::future::join_all((0..20).map(|_| app.post(&uri, &token, json!({})))).await;
    let first = answers[0].body["run_id"].clone();
    for r in &answers {
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        assert_eq!(r.body["run_id"], first, "every answer is the one run");
    }
    assert_eq!(requested_runs(&app).await, 1);
    // Another agent is another run.
    let intake = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
    assert_ne!(intake.body["run_id"], first);
    assert_eq!(requested_runs(&app).await, 2);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_user_over_their_rate_gets_429_with_retry_after(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.agent_runs_per_minute_per_user = 3).await;
    let token = app.editor().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(with_brief(&app, &token, &format!("Rated {i}")).await);
    }
    for id in &ids[..3] {
        let r = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }
    let before = requested_runs(&app).await;
    let r = app.post(&format!("/api/opportunities/{}/intake", ids[3]), &token, json!({})).await;
    assert_problem(&r, StatusCode::TOO_MANY_REQUESTS, "agent runs");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(r.body["detail"].as_str().unwrap().contains("3 agent runs a minute"), "{}", r.body);
    assert_eq!(requested_runs(&app).await, before, "nothing recorded");
    // Another person has a bucket of their own.
    let other = app.login("other@agency.test", "editor").await;
    let r = app.post(&format!("/api/opportunities/{}/intake", ids[3]), &other, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_opportunity_over_its_rate_gets_429(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.agent_runs_per_minute_per_opportunity = 2).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token, "Busy").await;
    for path in ["intake", "diagnose"] {
        assert_eq!(
            app.post(&format!("/api/opportunities/{id}/{path}"), &token, json!({})).await.status,
            StatusCode::ACCEPTED
        );
    }
    let other = app.login("other@agency.test", "editor").await;
    let r = app.post(&format!("/api/opportunities/{id}/assets/normalize"), &other, json!({})).await;
    assert_problem(&r, StatusCode::TOO_MANY_REQUESTS, "agent runs");
    assert!(r.body["detail"].as_str().unwrap().contains("this opportunity"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn paid_runs_stop_at_the_spend_caps_naming_them(pool: sqlx::PgPool) {
    // A paid provider: its runs are checked against the caps (no worker needs to run for that).
    let app = TestApp::with(pool.clone(), |s| {
        s.llm_provider = "anthropic".into();
        s.agent_spend_cap_per_opportunity = Decimal::ZERO;
    })
    .await;
    let token = app.editor().await;
    let id = with_brief(&app, &token, "Capped").await;
    let before = requested_runs(&app).await;
    let r = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/spend-cap-reached");
    assert!(r.body["detail"].as_str().unwrap().contains("AGENT_SPEND_CAP_PER_OPPORTUNITY_USD"), "{}", r.body);
    assert_eq!(requested_runs(&app).await, before);

    let app = TestApp::with(pool, |s| {
        s.llm_provider = "anthropic".into();
        s.agent_spend_cap_per_day = Decimal::ZERO;
    })
    .await;
    let r = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("AGENT_SPEND_CAP_PER_DAY_USD"), "{}", r.body);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "until midnight UTC: {wait}");
}
