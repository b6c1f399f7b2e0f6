//! Agents end to end on the real NATS and PostgreSQL: REST request → log → JetStream work queue →
//! worker → provider → recorded result. Redelivery never makes a second artifact, a provider that
//! keeps failing ends in a failed run, and workers share the queue.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_workers::offline::provider::OfflineProvider;
use agent_workers::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};
use agent_workers::worker::{HostError, RunHost};
use api::agents::host::ApiHost;
use async_trait::async_trait;
use axum::http::StatusCode;
use common::*;
use domain::agent_run::Agent;
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");

/// The app with its publishers and the given workers running until the returned sender drops.
async fn running(pool: sqlx::PgPool, workers: Vec<workers::WorkerSpec>) -> (TestApp, watch::Sender<bool>) {
    let app = TestApp::new(pool).await;
    let stop = workers::start(&app, workers);
    (app, stop)
}

async fn with_brief(app: &TestApp, token: &str) -> String {
    let id = app.create_opportunity(token, "Halvorsen EMEA").await;
    let brief = std::fs::read(HALVORSEN).expect("the sample brief in examples/briefs");
    assert_eq!(app.upload(token, &id, "halvorsen.md", &brief).await.status, StatusCode::CREATED);
    id
}

async fn run(app: &TestApp, token: &str, id: &str, path: &str) -> serde_json::Value {
    let r = app.post(&format!("/api/opportunities/{id}/{path}?wait=60"), token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

async fn artifacts_of(app: &TestApp, run_id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'ArtifactProduced' AND payload::jsonb #>> '{ArtifactProduced,run_id}' = $1")
        .bind(run_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_offline_agents_read_the_brief_through_the_queue(pool: sqlx::PgPool) {
    let (app, _stop) = running(pool, vec![(Arc::new(OfflineProvider), None)]).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token).await;

    let intake = run(&app, &token, &id, "intake").await;
    assert_eq!(intake["status"], "succeeded", "{intake}");
    assert_eq!(intake["model"], "offline-rules-v1");
    let detail = app.get(&format!("/api/opportunities/{id}"), &token).await;
    assert_eq!(detail.body["client_name"], "Halvorsen", "a manual entry is never overwritten");
    assert_eq!(detail.body["brands"].as_array().unwrap().len(), 4, "blank brands filled: {}", detail.body);

    let diagnosis = run(&app, &token, &id, "diagnose").await;
    assert_eq!(diagnosis["status"], "succeeded", "{diagnosis}");
    let questions = app.get(&format!("/api/opportunities/{id}/clarifications"), &token).await;
    let first: Vec<String> = questions.body.as_array().unwrap().iter().map(|c| c["id"].to_string()).collect();
    assert!(first.len() >= 8, "{} clarifications", first.len());
    assert!(questions.body.as_array().unwrap().iter().all(|c| c["source_stage"] == 2));
    // Re-diagnosing replaces diagnosis's questions rather than adding to them.
    run(&app, &token, &id, "diagnose").await;
    let again = app.get(&format!("/api/opportunities/{id}/clarifications"), &token).await;
    assert_eq!(again.body.as_array().unwrap().len(), first.len());

    let normalized = run(&app, &token, &id, "assets/normalize").await;
    assert_eq!(normalized["status"], "succeeded", "{normalized}");
    let assets = app.get(&format!("/api/opportunities/{id}/assets"), &token).await;
    assert!(assets.body.as_array().unwrap().len() >= 20, "{} assets", assets.body.as_array().unwrap().len());
    let matched = run(&app, &token, &id, "match").await;
    assert_eq!(matched["status"], "succeeded", "{matched}");
    let matches = app.get(&format!("/api/opportunities/{id}/matches"), &token).await;
    let matches = matches.body.as_array().unwrap();
    assert!(!matches.is_empty());
    assert!(matches.iter().any(|m| m["is_selected"] == true), "strong first candidates are selected");

    let costs = app.get(&format!("/api/opportunities/{id}/costs"), &token).await;
    assert_eq!(costs.body["runs"], 5);
}

/// Records the result, then "dies" before acknowledging: the delivery comes back.
struct CrashOnce {
    inner: ApiHost,
    crashed: AtomicUsize,
}

#[async_trait]
impl RunHost for CrashOnce {
    async fn inputs(&self, o: Uuid, a: Agent) -> Result<AgentInputs, HostError> {
        self.inner.inputs(o, a).await
    }
    async fn record_output(
        &self,
        o: Uuid,
        r: Uuid,
        c: Option<&str>,
        out: ProviderOutput,
    ) -> Result<(), HostError> {
        self.inner.record_output(o, r, c, out).await?;
        if self.crashed.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(HostError::Unavailable("worker killed before ack".into()));
        }
        Ok(())
    }
    async fn record_failure(
        &self,
        o: Uuid,
        r: Uuid,
        c: Option<&str>,
        reason: String,
    ) -> Result<(), HostError> {
        self.inner.record_failure(o, r, c, reason).await
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_redelivered_request_still_makes_one_artifact(pool: sqlx::PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let crash = Arc::new(CrashOnce { inner: ApiHost::new(app.state.clone()), crashed: AtomicUsize::new(0) });
    drop(app);
    let host: Arc<dyn RunHost> = crash.clone();
    let (app, _stop) = running(pool, vec![(Arc::new(OfflineProvider), Some(host))]).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token).await;
    let r = run(&app, &token, &id, "intake").await;
    let run_id = r["run_id"].as_str().unwrap().to_string();
    // The first delivery recorded then "crashed"; wait for the redelivery to be processed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while crash.crashed.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(crash.crashed.load(Ordering::SeqCst) >= 2, "the request was redelivered");
    assert_eq!(artifacts_of(&app, &run_id).await, 1);
}

struct AlwaysOverloaded;

#[async_trait]
impl Provider for AlwaysOverloaded {
    fn name(&self) -> &str {
        "overloaded"
    }
    async fn run(&self, _: Agent, _: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        Err(ProviderError::Transient("529 overloaded".into()))
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_provider_that_keeps_failing_ends_in_a_failed_run(pool: sqlx::PgPool) {
    let (app, _stop) = running(pool, vec![(Arc::new(AlwaysOverloaded), None)]).await;
    let token = app.editor().await;
    let id = with_brief(&app, &token).await;
    let r = run(&app, &token, &id, "intake").await;
    assert_eq!(r["status"], "failed", "{r}");
    assert!(r["failure"].as_str().unwrap().contains("529"), "{r}");
    assert!(r["output"].is_null());
    let artifacts = app.get(&format!("/api/opportunities/{id}/artifacts"), &token).await;
    assert_eq!(artifacts.body, json!([]));
}

struct Counting(Arc<AtomicUsize>);

#[async_trait]
impl Provider for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        OfflineProvider.run(agent, inputs).await
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn two_workers_share_the_queue(pool: sqlx::PgPool) {
    let (a, b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (app, _stop) =
        running(pool, vec![(Arc::new(Counting(a.clone())), None), (Arc::new(Counting(b.clone())), None)])
            .await;
    let token = app.editor().await;
    let mut runs = Vec::new();
    // Six opportunities: one agent on the same inputs would be one run (a request while it is in
    // flight is answered with it).
    for _ in 0..6 {
        let id = with_brief(&app, &token).await;
        let r = app.post(&format!("/api/opportunities/{id}/intake"), &token, json!({})).await;
        runs.push(r.body["run_id"].as_str().unwrap().to_string());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while a.load(Ordering::SeqCst) + b.load(Ordering::SeqCst) < 6 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (a, b) = (a.load(Ordering::SeqCst), b.load(Ordering::SeqCst));
    assert_eq!(a + b, 6, "every run processed once");
    assert!(a > 0 && b > 0, "both workers took work: {a} and {b}");
}
