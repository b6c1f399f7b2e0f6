//! The committed OpenAPI document is what the code generates, and the server serves it.

mod common;

use axum::http::StatusCode;
use common::*;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_spec_is_current() {
    let generated = serde_json::to_string_pretty(&api::http::openapi()).unwrap() + "\n";
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale: run `cargo run -p api --bin osop -- openapi` and commit the result"
    );
}

#[test]
fn every_route_of_the_seed_is_documented() {
    let doc = api::http::openapi();
    for path in [
        "/api/health",
        "/api/users/me",
        "/api/users/{id}/role",
        "/api/opportunities",
        "/api/opportunities/{id}",
        "/api/opportunities/{id}/stages",
        "/api/opportunities/{id}/stages/{n}/complete",
        "/api/opportunities/{id}/stages/{n}/approvals",
        "/api/approvals/{id}",
        "/api/approvals/by-token/{token}",
        "/api/approvals/{id}/decision",
        "/api/notifications",
        "/api/notifications/unread-count",
        "/api/opportunities/{id}/files",
        "/api/opportunities/{id}/events",
        "/api/events",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path} is not documented");
    }
    assert_eq!(doc.info.version, api::http::API_VERSION);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_spec_and_its_docs_page_are_served(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let spec = app.get("/api/openapi.json", "").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body, serde_json::from_str::<serde_json::Value>(COMMITTED).unwrap());
    let page = app.get("/api/docs", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        String::from_utf8_lossy(&page.bytes).contains("/api/openapi.json")
            || String::from_utf8_lossy(&page.bytes).contains("openapi")
    );
}
