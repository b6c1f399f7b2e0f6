//! The health check reports each dependency, and 503 names the one that is down.

mod common;

use axum::http::StatusCode;
use common::*;

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn healthy_when_postgres_and_nats_answer(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let r = app.get("/api/health", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, serde_json::json!({"status": "ok", "db": "ok", "nats": "ok"}));
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
