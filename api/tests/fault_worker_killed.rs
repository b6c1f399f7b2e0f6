//! Fault: an agent worker process is SIGKILLed while its provider call is in flight. The request
//! is redelivered to a fresh worker and the run ends with exactly one artifact.
//!
//! "Mid-run" is made certain without test hooks in the product: the worker uses the Anthropic
//! provider against a fake Messages API here that holds the first call open (so the test knows
//! the worker is inside the run) and answers later calls with a valid forced-tool reply.

mod common;
mod faults;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api::agents::queue;
use async_nats::jetstream::{self, consumer::pull};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use domain::agent_run::Agent;
use faults::*;
use serde_json::{json, Value};
use tokio::sync::watch;

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");

/// How long a delivery may go unacknowledged in this test: short, so the killed worker's run
/// comes back quickly.
const ACK_WAIT_MS: &str = "1500";

/// The fake Messages API: the first call never gets an answer, every later one a valid intake.
#[derive(Clone, Default)]
struct HoldFirstCall {
    calls: Arc<AtomicUsize>,
}

async fn messages(State(fake): State<HoldFirstCall>, Json(_body): Json<Value>) -> Json<Value> {
    if fake.calls.fetch_add(1, Ordering::SeqCst) == 0 {
        // Held until the worker that made the call is killed (its connection then closes).
        std::future::pending::<()>().await;
    }
    let intake = json!({
        "client_name": "Halvorsen Home Appliances B.V.",
        "region": "EMEA",
        "brands": ["Halvorsen", "AiroPure"],
        "service_types": ["Content", "eCommerce"],
        "deadline_iso": "2026-09-30",
        "go_live_iso": null,
        "summary": "Content production across EMEA; proposal due end of Q3 2026.",
    });
    Json(json!({
        "id": "msg_fault_test", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "tool_use", "id": "toolu_fault", "name": Agent::Intake.tool(), "input": intake}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 1000, "output_tokens": 200,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }))
}

async fn start_fake() -> (HoldFirstCall, String) {
    let fake = HoldFirstCall::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/v1/messages", post(messages)).with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, url)
}

fn worker(app: &TestApp, fake_url: &str) -> ChildGuard {
    let s = &app.state.settings;
    let mut env =
        osop_env(&database_url(&app.pool, None), &s.nats_url, &s.nats_stream, &s.nats_subject_prefix);
    for (k, v) in [
        ("LLM_PROVIDER", "anthropic"),
        ("ANTHROPIC_API_KEY", "fault-test-key"),
        ("ANTHROPIC_BASE_URL", fake_url),
        ("ANTHROPIC_MAX_ATTEMPTS", "1"),
        ("AGENT_ACK_WAIT_MS", ACK_WAIT_MS),
        ("AGENT_MAX_DELIVER", "5"),
    ] {
        env.insert(k.into(), v.into());
    }
    ChildGuard::spawn(&osop(), &["worker", "--count", "1"], &env, "worker")
}

async fn artifacts_of(app: &TestApp, run_id: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'ArtifactProduced'
            AND payload::jsonb #>> '{ArtifactProduced,run_id}' = $1",
    )
    .bind(run_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_worker_killed_mid_run_is_redelivered_and_records_one_artifact(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let (_stop, stopped) = watch::channel(false);
    app.state.spawn_projector(stopped.clone());
    app.state.spawn_publishers(stopped);
    let (fake, fake_url) = start_fake().await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Halvorsen EMEA").await;
    let brief = std::fs::read(HALVORSEN).expect("the sample brief in examples/briefs");
    assert_eq!(app.upload(&token, &id, "halvorsen.md", &brief).await.status, StatusCode::CREATED);

    let r = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let run_id = r.body["run_id"].as_str().unwrap().to_string();

    let mut first = worker(&app, &fake_url);
    eventually("the first worker to call the provider", Duration::from_secs(30), || {
        let calls = fake.calls.load(Ordering::SeqCst);
        async move { (calls >= 1).then_some(()) }
    })
    .await;
    assert!(first.running(), "the first worker died by itself: {}", first.log());
    first.kill();
    assert_eq!(artifacts_of(&app, &run_id).await, 0, "nothing is recorded by a worker killed mid-call");

    let second = worker(&app, &fake_url);
    let run = eventually("the redelivered run to succeed", Duration::from_secs(30), || async {
        let r = app.get(&format!("/api/agent-runs/{run_id}"), &token).await;
        (r.body["status"] != "requested").then_some(r)
    })
    .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(run.body["status"], "succeeded", "{}\nworker log:\n{}", run.body, second.log());
    assert_eq!(run.body["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(artifacts_of(&app, &run_id).await, 1, "exactly one artifact for the run");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "one held call, one answered after redelivery");

    // The queue's own account: one request, delivered more than once, acknowledged.
    let s = &app.state.settings;
    let js = jetstream::new(app.state.nats.clone().unwrap());
    let stream = js.get_stream(queue::stream_name(&s.nats_stream)).await.unwrap();
    let durable = format!("{}-agent-workers", s.nats_subject_prefix);
    let info = eventually("the redelivered request to be acknowledged", Duration::from_secs(10), || async {
        let mut consumer = stream.get_consumer::<pull::Config>(&durable).await.ok()?;
        let info = consumer.info().await.ok()?.clone();
        (info.ack_floor.stream_sequence >= 1 && info.num_ack_pending == 0).then_some(info)
    })
    .await;
    assert_eq!(info.delivered.stream_sequence, 1, "one request on the queue: {info:?}");
    assert!(info.delivered.consumer_sequence > 1, "the request was delivered more than once: {info:?}");

    // Later deliveries (if any) record nothing more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(artifacts_of(&app, &run_id).await, 1);
    drop(second);
}
