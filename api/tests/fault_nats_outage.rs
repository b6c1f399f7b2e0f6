//! Fault: NATS stops while commands keep arriving. Commands are still accepted and logged; when
//! NATS is back (same port, same store) the publishers and the client reconnect by themselves,
//! and the integration feed and the agent work queue hold every logged event exactly once.

mod common;
mod faults;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use api::agents::queue;
use async_nats::jetstream;
use axum::http::{Method, StatusCode};
use common::*;
use faults::*;
use projections::StoredEvent;
use serde_json::json;
use tokio::sync::watch;

/// Every message id in a stream, in stream order, read without consuming anything.
async fn message_ids(client: &async_nats::Client, stream: &str, subject_prefix: &str) -> Vec<String> {
    let js = jetstream::new(client.clone());
    let mut stream = js.get_stream(stream).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    let mut ids = Vec::new();
    if state.messages == 0 {
        return ids;
    }
    for seq in state.first_sequence..=state.last_sequence {
        let Ok(m) = stream.get_raw_message(seq).await else { continue };
        if !m.subject.starts_with(subject_prefix) {
            continue;
        }
        let id = m.headers.get(async_nats::header::NATS_MESSAGE_ID).map(|v| v.as_str().to_string());
        ids.push(id.unwrap_or_else(|| panic!("message {seq} on {} has no Nats-Msg-Id", m.subject)));
    }
    ids
}

/// Messages in a stream right now (0 when NATS does not answer).
async fn stream_messages(client: &async_nats::Client, stream: &str) -> u64 {
    let js = jetstream::new(client.clone());
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Creates an opportunity with a brief, changes it and asks for its intake; every answer must
/// be a success. Returns the run id.
async fn activity(app: &TestApp, token: &str, n: usize) -> String {
    let id = app.create_opportunity(token, &format!("Outage {n}")).await;
    let uri = format!("/api/opportunities/{id}");
    let patched = app.call(Method::PATCH, &uri, token, Some(json!({"region": format!("R{n}")}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["region"], format!("R{n}"), "the answer reads its own write: {}", patched.body);
    let upload =
        app.upload(token, &id, "brief.md", format!("# Brief {n}\n\nSocial assets.").as_bytes()).await;
    assert_eq!(upload.status, StatusCode::CREATED, "{}", upload.body);
    let run = app.post(&format!("{uri}/intake"), token, json!({})).await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{}", run.body);
    run.body["run_id"].as_str().unwrap().to_string()
}

async fn checkpoint(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE((SELECT position FROM projection_checkpoints WHERE name = $1), 0)")
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn commands_keep_flowing_while_nats_is_down_and_every_event_is_published_once(pool: sqlx::PgPool) {
    let mut nats = NatsServer::start().await;
    let url = nats.url();
    let app = TestApp::with(pool, |s| s.nats_url = url).await;
    let (_stop, stopped) = watch::channel(false);
    app.state.spawn_projector(stopped.clone());
    app.state.spawn_publishers(stopped);
    let s = app.state.settings.clone();
    let client = app.state.nats.clone().expect("connected to the private nats-server");
    let token = app.admin().await;

    let mut runs = vec![];
    for n in 0..3 {
        runs.push(activity(&app, &token, n).await);
    }
    let before_stop = app.event_count().await;

    nats.stop().await;
    let health = app.get("/api/health", "").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{}", health.body);
    assert_eq!(health.body["db"], "ok", "{}", health.body);
    assert_ne!(health.body["nats"], "ok", "{}", health.body);
    // Commands do not depend on NATS: accepted (2xx) and stored while it is down.
    for n in 3..6 {
        let started = std::time::Instant::now();
        runs.push(activity(&app, &token, n).await);
        // A publisher stuck on NATS must not hold back the read models the commands wait for.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "four commands took {took:?} while NATS was down");
    }
    let during = app.event_count().await;
    assert!(during >= before_stop + 9, "events logged while NATS was down: {before_stop} → {during}");

    nats.resume().await;
    let events: i64 = during;
    let feed = s.nats_stream.clone();
    let work = queue::stream_name(&s.nats_stream);
    eventually("the feed and the work queue to catch up", Duration::from_secs(30), || async {
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM event_log")
            .fetch_one(&app.pool)
            .await
            .ok()?;
        let caught_up = head == events
            && checkpoint(&app, api::integration_feed::CHECKPOINT).await == head
            && checkpoint(&app, queue::CHECKPOINT).await == head
            && stream_messages(&client, &feed).await >= events as u64
            && stream_messages(&client, &work).await >= runs.len() as u64;
        caught_up.then_some(())
    })
    .await;
    let health = app.get("/api/health", "").await;
    assert_eq!(health.status, StatusCode::OK, "the client reconnected by itself: {}", health.body);

    // The integration feed: every logged event, once.
    let logged = StoredEvent::read_after(&app.pool, 0, 100_000).await.unwrap();
    assert_eq!(logged.len() as i64, events);
    let expected: BTreeSet<String> = logged.iter().map(|e| e.id().to_string()).collect();
    let published = message_ids(&client, &feed, &format!("{}.events.", s.nats_subject_prefix)).await;
    let unique: BTreeSet<String> = published.iter().cloned().collect();
    assert_eq!(published.len(), unique.len(), "no event is on the feed twice");
    assert_eq!(unique, expected, "the feed holds exactly the logged events");

    // The work queue: every AgentRunRequested, once (no worker consumes in this test).
    let requested: HashSet<String> = logged
        .iter()
        .filter(|e| e.event_type == "AgentRunRequested")
        .map(|e| e.data()["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(requested, runs.iter().cloned().collect::<HashSet<_>>());
    let queued = message_ids(&client, &work, &queue::requests_subject(&s.nats_subject_prefix)).await;
    let unique_queued: HashSet<String> = queued.iter().cloned().collect();
    assert_eq!(queued.len(), unique_queued.len(), "no run is queued twice: {queued:?}");
    assert_eq!(unique_queued, requested, "the work queue holds exactly the requested runs");

    // And the publishers are still live after the outage: a new event reaches the feed.
    runs.push(activity(&app, &token, 6).await);
    let total = app.event_count().await as u64;
    eventually("a post-outage event on the feed", Duration::from_secs(15), || async {
        (stream_messages(&client, &feed).await == total).then_some(())
    })
    .await;
}

/// Runs that reached a final status, by status.
async fn finished_runs(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT run_id::text, status FROM agent_runs WHERE status <> 'requested' ORDER BY run_id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_worker_running_across_a_nats_outage_takes_the_requests_made_during_it(pool: sqlx::PgPool) {
    let mut nats = NatsServer::start().await;
    let url = nats.url();
    let app = TestApp::with(pool, |s| s.nats_url = url).await;
    let (_stop, stopped) = watch::channel(false);
    app.state.spawn_projector(stopped.clone());
    app.state.spawn_publishers(stopped.clone());
    // The production start-up path of `serve`'s in-process worker (offline provider).
    let _workers = api::agents::workers::spawn(&app.state, 1, stopped).unwrap();
    let token = app.admin().await;
    let brief = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/briefs/halvorsen-emea-content-rfp.md"
    ))
    .expect("the sample brief in examples/briefs");
    let mut opportunities = vec![];
    for n in 0..4 {
        let id = app.create_opportunity(&token, &format!("Worker outage {n}")).await;
        assert_eq!(app.upload(&token, &id, "brief.md", &brief).await.status, StatusCode::CREATED);
        opportunities.push(id);
    }
    let request = |id: String| {
        let app = &app;
        let token = &token;
        async move {
            let r = app.post(&format!("/api/opportunities/{id}/intake"), token, json!({})).await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
            r.body["run_id"].as_str().unwrap().to_string()
        }
    };
    let mut runs = vec![request(opportunities[0].clone()).await];
    eventually("the first run before the outage", Duration::from_secs(30), || async {
        (finished_runs(&app).await.len() == 1).then_some(())
    })
    .await;

    nats.stop().await;
    for id in &opportunities[1..] {
        runs.push(request(id.clone()).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    nats.resume().await;

    let finished = eventually("every run to finish after the outage", Duration::from_secs(45), || async {
        let f = finished_runs(&app).await;
        (f.len() == runs.len()).then_some(f)
    })
    .await;
    assert!(finished.iter().all(|(_, status)| status == "succeeded"), "{finished:?}");
    let mut expected = runs.clone();
    expected.sort();
    assert_eq!(finished.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(), expected);
    let artifacts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT payload::jsonb #>> '{ArtifactProduced,run_id}', count(*) FROM events
          WHERE event_type = 'ArtifactProduced' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        artifacts,
        expected.iter().map(|r| (r.clone(), 1)).collect::<Vec<_>>(),
        "one artifact per run"
    );
}
