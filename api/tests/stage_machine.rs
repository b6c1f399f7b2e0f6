//! The stage machine over REST: 17-stage init, advance, double complete, out of order.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_new_opportunity_has_seventeen_stages_with_the_first_in_progress(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Brightwater retainer").await;
    let stages = app.get(&format!("/api/opportunities/{id}/stages"), &token).await;
    assert_eq!(stages.status, StatusCode::OK);
    let stages = stages.body.as_array().unwrap();
    assert_eq!(stages.len(), 17);
    assert_eq!(stages[0]["status"], "in_progress");
    assert_eq!(stages[0]["name"], "Intake Opportunity");
    for (i, s) in stages.iter().enumerate().skip(1) {
        assert_eq!(s["stage_number"], i + 1);
        assert_eq!(s["status"], "not_started", "stage {}", i + 1);
        assert!(s["completed_at"].is_null());
    }
    let detail = app.get(&format!("/api/opportunities/{id}"), &token).await;
    assert_eq!(detail.body["current_stage"], 1);
    assert_eq!(detail.body["stages"].as_array().unwrap().len(), 17);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn completing_a_stage_stamps_it_and_starts_the_next(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Advance").await;
    let r = app.post(&format!("/api/opportunities/{id}/stages/1/complete"), &token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["current_stage"], 2);
    assert_eq!(r.body["stages"][0]["status"], "completed");
    assert!(r.body["stages"][0]["completed_at"].is_string());
    assert_eq!(r.body["stages"][1]["status"], "in_progress");
    assert_eq!(r.body["stages"][2]["status"], "not_started");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn completing_twice_is_a_400_and_records_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Twice").await;
    app.post(&format!("/api/opportunities/{id}/stages/1/complete"), &token, json!({})).await;
    let before = app.event_count().await;
    let r = app.post(&format!("/api/opportunities/{id}/stages/1/complete"), &token, json!({})).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "stage");
    assert!(r.body["detail"].as_str().unwrap().contains("already completed"));
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn completing_out_of_order_is_a_400(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Skip").await;
    let before = app.event_count().await;
    for n in [2, 5, 17] {
        let r = app.post(&format!("/api/opportunities/{id}/stages/{n}/complete"), &token, json!({})).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "stage");
        assert!(r.body["detail"].as_str().unwrap().contains("has not started"), "{}", r.body);
    }
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn stage_numbers_outside_the_machine_are_named(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Range").await;
    for n in ["0", "18", "-1", "three", "99999999999"] {
        let r = app.post(&format!("/api/opportunities/{id}/stages/{n}/complete"), &token, json!({})).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "stage");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_whole_machine_walks_to_the_handoff(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Full walk").await;
    app.advance_to(&admin, &id, 18).await;
    let detail = app.get(&format!("/api/opportunities/{id}"), &admin).await;
    assert_eq!(detail.body["current_stage"], 17);
    assert!(detail.body["stages"].as_array().unwrap().iter().all(|s| s["status"] == "completed"));
    let events = app.get(&format!("/api/opportunities/{id}/events"), &admin).await;
    let last = events.body["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event_type"], "StageCompleted");
    assert_eq!(last["payload"]["StageCompleted"]["stage"], 17);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn unknown_and_malformed_opportunity_ids(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let missing = uuid::Uuid::new_v4();
    let r = app.post(&format!("/api/opportunities/{missing}/stages/1/complete"), &token, json!({})).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let r = app.get(&format!("/api/opportunities/{missing}/stages"), &token).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let r = app.get("/api/opportunities/not-a-uuid/stages", &token).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "id");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_wrong_method_is_a_405_problem(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Methods").await;
    let r = app
        .call(axum::http::Method::PUT, &format!("/api/opportunities/{id}/stages/1/complete"), &token, None)
        .await;
    assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, "");
    assert!(r.headers.get("allow").is_some_and(|a| a.to_str().unwrap().contains("POST")));
}
