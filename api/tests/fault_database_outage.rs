//! Fault: PostgreSQL becomes unreachable (a proxy in front of it drops every connection and
//! refuses new ones). Health, commands and reads answer a prompt 503 and change nothing; when the
//! proxy is back the same process recovers without a restart.

mod common;
mod faults;

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use api::command_bus::CommandError;
use axum::http::{Method, StatusCode};
use common::*;
use faults::*;
use serde_json::json;
use tokio::sync::watch;

/// Longest a request may wait for a connection in this test.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1_000);

fn assert_unavailable(r: &Response, what: &str, took: Duration) {
    assert_problem(r, StatusCode::SERVICE_UNAVAILABLE, "");
    assert_eq!(r.body["type"], "/problems/unavailable", "{what}: {}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("database"), "{what}: {}", r.body);
    assert!(took < ACQUIRE_TIMEOUT * 6, "{what} took {took:?}: clients must get a prompt answer");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_api_answers_503_while_postgres_is_unreachable_and_recovers_by_itself(direct: sqlx::PgPool) {
    let options = direct.connect_options();
    let target = (options.get_host(), options.get_port()).to_socket_addrs().unwrap().next().unwrap();
    let mut proxy = TcpProxy::start(target).await;
    let proxied = api::startup::database_pool(options.as_ref().clone().port(proxy.port), ACQUIRE_TIMEOUT);
    let app = TestApp::new(proxied).await;
    let (_stop, stopped) = watch::channel(false);
    app.state.spawn_projector(stopped.clone());
    app.state.spawn_publishers(stopped);
    let token = app.admin().await;
    let id = app.create_opportunity(&token, "Before the outage").await;
    let uri = format!("/api/opportunities/{id}");
    let events_before = count(&direct, "SELECT count(*) FROM events").await;

    proxy.cut().await;

    let started = Instant::now();
    let health = app.get("/api/health", "").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{}", health.body);
    assert_eq!(health.body["status"], "degraded");
    assert!(health.body["db"].as_str().unwrap().starts_with("error"), "names the database: {}", health.body);
    assert_eq!(health.body["nats"], "ok", "{}", health.body);
    assert!(started.elapsed() < ACQUIRE_TIMEOUT * 6, "health took {:?}", started.elapsed());

    let attempts = [
        ("create", Method::POST, "/api/opportunities".to_string(), Some(json!({"name": "During"}))),
        ("change", Method::PATCH, uri.clone(), Some(json!({"region": "EMEA"}))),
        ("complete a stage", Method::POST, format!("{uri}/stages/1/complete"), Some(json!({}))),
        ("read", Method::GET, uri.clone(), None),
        ("list", Method::GET, "/api/opportunities".to_string(), None),
        ("history", Method::GET, format!("{uri}/events"), None),
    ];
    for (what, method, path, body) in attempts {
        let started = Instant::now();
        let r = app.call(method, &path, &token, body).await;
        assert_unavailable(&r, what, started.elapsed());
    }
    // Below the handlers (and the sign-in every request does first), the command bus itself
    // reports the outage as such, not as a store bug.
    let worker = api::auth::User {
        id: 0,
        email: "agent-worker@osop.local".into(),
        name: "worker".into(),
        role: api::auth::Role::Editor,
        created_at: api::clock::now(),
    };
    let command = domain::OpportunityCommand::RecordAgentFailure {
        run_id: uuid::Uuid::new_v4(),
        reason: "test".into(),
        at: api::clock::now(),
    };
    let started = Instant::now();
    let outcome = app.state.bus.execute(id.parse().unwrap(), command, &worker).await;
    assert!(matches!(outcome, Err(CommandError::Unavailable(_))), "{outcome:?}");
    assert!(started.elapsed() < ACQUIRE_TIMEOUT * 6, "the bus took {:?}", started.elapsed());
    assert_eq!(count(&direct, "SELECT count(*) FROM events").await, events_before, "nothing was recorded");

    proxy.restore().await;

    eventually("health to recover", Duration::from_secs(20), || async {
        (app.get("/api/health", "").await.status == StatusCode::OK).then_some(())
    })
    .await;
    let r = app.call(Method::PATCH, &uri, &token, Some(json!({"region": "EMEA"}))).await;
    assert_eq!(r.status, StatusCode::OK, "a command succeeds again: {}", r.body);
    assert_eq!(r.body["region"], "EMEA", "{}", r.body);
    let after = app.create_opportunity(&token, "After the outage").await;
    let list = app.get("/api/opportunities", &token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let names: Vec<&str> = list.body.as_array().unwrap().iter().filter_map(|o| o["name"].as_str()).collect();
    assert!(names.contains(&"Before the outage") && names.contains(&"After the outage"), "{names:?}");
    assert_eq!(app.get(&format!("/api/opportunities/{after}"), &token).await.status, StatusCode::OK);

    // The background projector and publishers resume on their own.
    let logged = count(&direct, "SELECT count(*) FROM events").await;
    assert!(logged > events_before);
    eventually("projector and publishers at the head", Duration::from_secs(20), || async {
        let behind = count(
            &direct,
            "SELECT count(*) FROM projection_checkpoints
              WHERE position < (SELECT COALESCE(max(position), 0) FROM event_log)",
        )
        .await;
        let sequenced = count(&direct, "SELECT count(*) FROM event_log").await;
        let published = feed_messages(&app).await;
        (behind == 0 && sequenced == logged && published == logged as u64).then_some(())
    })
    .await;
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn feed_messages(app: &TestApp) -> u64 {
    let js = async_nats::jetstream::new(app.state.nats.clone().unwrap());
    match js.get_stream(&app.state.settings.nats_stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}
