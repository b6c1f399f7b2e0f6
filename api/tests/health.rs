//! The health check reports each dependency, and 503 names the one that is down.

mod common;

use axum::http::StatusCode;
use common::*;

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn healthy_when_postgres_and_nats_answer(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let r = app.get("/api/health", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        serde_json::json!({"status": "ok", "db": "ok", "nats": "ok", "read_models": "ok", "stalled": [],
            "lag_events": 0, "lag_seconds": 0.0})
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn read_models_behind_the_limit_are_degraded_with_the_figures(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.read_model_lag_limit = std::time::Duration::from_secs(60)).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Lagging").await;
    // An event recorded two minutes ago that no projection has taken in (nothing catches up here).
    let at = chrono::Utc::now().to_rfc3339();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at)
         SELECT 'Opportunity', $1, max(sequence) + 1, 'OpportunityArchived', '1', $2, '{}', now() - interval '2 minutes'
           FROM events WHERE aggregate_id = $1",
    )
    .bind(&id)
    .bind(sqlx::types::Json(serde_json::json!({"OpportunityArchived": {"at": at}})))
    .execute(&app.pool)
    .await
    .unwrap();
    let r = app.get("/api/health", "").await;
    assert_eq!(r.status, StatusCode::OK, "the API still answers: {}", r.body);
    assert_eq!(r.body["status"], "degraded", "{}", r.body);
    assert_eq!(r.body["lag_events"], 1, "{}", r.body);
    assert!(r.body["lag_seconds"].as_f64().unwrap() >= 119.0, "{}", r.body);
    let says = r.body["read_models"].as_str().unwrap();
    assert!(says.starts_with("behind: 1 events") && says.contains("limit 60 s"), "{says}");
    // Caught up, it is healthy again.
    app.settle().await;
    assert_eq!(app.get("/api/health", "").await.body["status"], "ok");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn nats_down_is_a_503_naming_nats(pool: sqlx::PgPool) {
    // Nothing listens on this loopback port.
    let app = TestApp::with(pool, |s| s.nats_url = "nats://127.0.0.1:1".into()).await;
    let r = app.get("/api/health", "").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["db"], "ok");
    assert_eq!(r.body["status"], "degraded");
    assert!(r.body["nats"].as_str().unwrap().starts_with("error"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn postgres_down_is_a_503_naming_the_database(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    app.state.pool.close().await;
    let r = app.get("/api/health", "").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.body["db"].as_str().unwrap().starts_with("error"), "{}", r.body);
    assert_eq!(r.body["nats"], "ok");
}
