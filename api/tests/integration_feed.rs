//! The integration feed on the real NATS: every event once, in order per opportunity, as a valid
//! CloudEvent with its stable id; a re-publish after a crash is dropped as a duplicate.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use api::integration_feed::{IntegrationFeed, CHECKPOINT};
use async_nats::jetstream::{self, consumer::pull};
use axum::http::Method;
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};

async fn feed(app: &TestApp) -> IntegrationFeed {
    let s = &app.state.settings;
    IntegrationFeed::connect(
        app.pool.clone(),
        app.state.nats.clone().unwrap(),
        &s.nats_stream,
        &s.nats_subject_prefix,
    )
    .await
    .unwrap()
}

/// Every message in the test's stream, in stream order: (subject, Nats-Msg-Id, body).
async fn received(app: &TestApp) -> Vec<(String, String, Value)> {
    let js = jetstream::new(app.state.nats.clone().unwrap());
    let mut stream = js.get_stream(&app.state.settings.nats_stream).await.unwrap();
    let total = stream.info().await.unwrap().state.messages as usize;
    let consumer = stream.create_consumer(pull::Config { ..Default::default() }).await.unwrap();
    let mut out = Vec::new();
    let mut messages = consumer.messages().await.unwrap();
    while out.len() < total {
        let m =
            tokio::time::timeout(Duration::from_secs(5), messages.next()).await.unwrap().unwrap().unwrap();
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_string())
            .unwrap_or_default();
        out.push((m.subject.to_string(), id, serde_json::from_slice(&m.payload).unwrap()));
        m.ack().await.unwrap();
    }
    out
}

async fn activity(app: &TestApp) -> usize {
    let token = app.admin().await;
    for i in 0..3 {
        let id = app.create_opportunity(&token, &format!("Feed {i}")).await;
        let uri = format!("/api/opportunities/{id}");
        app.call(Method::PATCH, &uri, &token, Some(json!({"region": "EMEA"}))).await;
        app.post(&format!("{uri}/stages/1/complete"), &token, json!({})).await;
    }
    app.event_count().await as usize
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn every_event_reaches_the_feed_once_in_order_as_a_cloud_event(pool: sqlx::PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let events = activity(&app).await;
    let feed = feed(&app).await;
    assert_eq!(feed.publish_pending().await.unwrap() as usize, events);
    assert_eq!(feed.publish_pending().await.unwrap(), 0, "nothing left to publish");

    let messages = received(&app).await;
    assert_eq!(messages.len(), events);
    let mut ids = HashSet::new();
    let mut versions: HashMap<String, i64> = HashMap::new();
    let prefix = &app.state.settings.nats_subject_prefix;
    for (i, (subject, msg_id, ce)) in messages.iter().enumerate() {
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(&ce["id"], msg_id, "Nats-Msg-Id is the event id");
        assert!(ids.insert(msg_id.clone()), "duplicate {msg_id}");
        let ty = ce["type"].as_str().unwrap();
        let event_type = ty.strip_prefix("osop.opportunity.").unwrap().strip_suffix(".v1").unwrap();
        assert_eq!(subject, &format!("{prefix}.events.opportunity.{event_type}"));
        let opportunity = ce["subject"].as_str().unwrap();
        assert_eq!(ce["source"], format!("/osop/opportunities/{opportunity}"));
        assert!(chrono::DateTime::parse_from_rfc3339(ce["time"].as_str().unwrap()).is_ok());
        assert_eq!(ce["datacontenttype"], "application/json");
        assert!(ce["data"].is_object());
        assert_eq!(ce["osopposition"], i as i64 + 1, "log order");
        let v = ce["osopversion"].as_i64().unwrap();
        let before = versions.insert(opportunity.to_string(), v).unwrap_or(0);
        assert_eq!(before + 1, v, "in order within an opportunity");
    }
    let created = messages.iter().find(|(s, _, _)| s.ends_with(".OpportunityCreated")).unwrap();
    assert_eq!(created.2["data"]["details"]["name"], "Feed 0");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_republish_after_a_crash_is_dropped_as_a_duplicate(pool: sqlx::PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let events = activity(&app).await;
    let feed = feed(&app).await;
    feed.publish_pending().await.unwrap();
    // As if the process died after publishing but before the checkpoint committed.
    sqlx::query("UPDATE projection_checkpoints SET position = 0 WHERE name = $1")
        .bind(CHECKPOINT)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(feed.publish_pending().await.unwrap() as usize, events, "everything is sent again");
    assert_eq!(received(&app).await.len(), events, "and JetStream kept each event once");

    // Later events continue the feed.
    let token = app.admin().await;
    app.create_opportunity(&token, "After").await;
    assert_eq!(feed.publish_pending().await.unwrap(), 2);
    assert_eq!(received(&app).await.len(), events + 2);
}
