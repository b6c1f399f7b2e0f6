//! Answers do not depend on the read models keeping up. A long transaction anywhere on the same
//! PostgreSQL server holds the commit-order reader back (it only reads finished transactions);
//! a write stored meanwhile answers 202 with where to read it, never 404 or stale data, and is
//! there once the reader moves on.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use sqlx::{Connection, PgConnection};

/// A transaction with an id, open on another database of the same server until dropped.
async fn hold_the_log_back(pool: &sqlx::PgPool) -> PgConnection {
    let options = pool.connect_options().as_ref().clone().database("postgres");
    let mut other = PgConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut other).await.unwrap();
    other
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn writes_answer_202_while_a_long_transaction_holds_the_read_models_back(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.read_model_wait = std::time::Duration::from_secs(2)).await;
    let token = app.editor().await;
    let existing = app.create_opportunity(&token, "Existing").await;

    let mut held = hold_the_log_back(&app.pool).await;
    let created = app.post("/api/opportunities", &token, json!({"name": "Made while held"})).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let location = created.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/api/opportunities/"), "{location}");
    assert_eq!(created.body["location"], location.as_str());
    let created_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OpportunityCreated'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(created_events, 2, "stored, once");

    let patched = app
        .call(
            Method::PATCH,
            &format!("/api/opportunities/{existing}"),
            &token,
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(
        patched.status,
        StatusCode::ACCEPTED,
        "never the old name as if it were the answer: {}",
        patched.body
    );

    sqlx::query("ROLLBACK").execute(&mut held).await.unwrap();
    drop(held);
    app.settle().await;
    let made = app.get(&location, &token).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.body["name"], "Made while held");
    assert_eq!(app.get(&format!("/api/opportunities/{existing}"), &token).await.body["name"], "Renamed");

    // Caught up, writes answer with their result again.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/opportunities/{existing}"),
            &token,
            Some(json!({"name": "Again"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"], "Again");
}
