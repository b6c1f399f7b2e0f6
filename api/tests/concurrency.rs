//! Many concurrent writers: every accepted command's events are stored once, appear exactly once in
//! the global feed, and every read model reflects them.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;

const WRITERS: usize = 32;
const COMMANDS_PER_WRITER: usize = 50;
const SHARED: usize = 4;

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn thirty_two_writers_lose_and_duplicate_nothing(pool: sqlx::PgPool) {
    let app = Arc::new(TestApp::new(pool.clone()).await);
    let token = Arc::new(app.editor().await);
    let mut shared = Vec::new();
    for i in 0..SHARED {
        shared.push(app.create_opportunity(&token, &format!("Shared {i}")).await);
    }
    let shared = Arc::new(shared);

    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (app, token, shared) = (app.clone(), token.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            let own = app.create_opportunity(&token, &format!("Writer {w}")).await;
            let mut accepted: Vec<(String, String)> = Vec::new();
            let mut conflicts = 0;
            // One command is the create above; the rest alternate between shared and own opportunities.
            for i in 1..COMMANDS_PER_WRITER {
                let target = if i % 2 == 0 { own.clone() } else { shared[(w + i) % SHARED].clone() };
                let description = format!("w{w}-c{i}");
                let r = app
                    .call(
                        Method::PATCH,
                        &format!("/api/opportunities/{target}"),
                        &token,
                        Some(json!({ "description": description })),
                    )
                    .await;
                match r.status {
                    StatusCode::OK => accepted.push((target, description)),
                    StatusCode::CONFLICT => conflicts += 1,
                    other => panic!("unexpected {other}: {}", r.body),
                }
            }
            (own, accepted, conflicts)
        }));
    }
    let mut accepted = Vec::new();
    let mut own_ids = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        let (own, a, c) = t.await.unwrap();
        own_ids.push(own);
        accepted.extend(a);
        conflicts += c;
    }
    let commands = WRITERS * COMMANDS_PER_WRITER;
    assert!(commands >= 1_600);
    assert!(accepted.len() + conflicts + WRITERS == commands);
    assert!(accepted.len() >= commands * 9 / 10, "too many conflicts: {conflicts}");

    // The log: 2 events per created opportunity, 1 per accepted change, nothing else.
    let created = SHARED + WRITERS;
    let expected_events = (created * 2 + accepted.len()) as i64;
    assert_eq!(app.event_count().await, expected_events);
    for (target, description) in &accepted {
        let found: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'OpportunityDetailsUpdated'
               AND payload::jsonb #>> '{OpportunityDetailsUpdated,changes,description}' = $2",
        )
        .bind(target)
        .bind(description)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(found, 1, "{target} {description}");
    }

    // The global feed: every event exactly once, dense positions, each aggregate in its own order.
    app.settle().await;
    let mut seen = HashSet::new();
    let mut last_version: HashMap<String, i64> = HashMap::new();
    let mut after = 0;
    let mut position = 0;
    loop {
        let page = app.get(&format!("/api/events?after={after}&limit=1000"), &token).await;
        assert_eq!(page.status, StatusCode::OK);
        let events = page.body["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        for e in &events {
            position += 1;
            assert_eq!(e["position"], position);
            assert!(seen.insert(e["event_id"].as_str().unwrap().to_string()), "duplicate {e}");
            let v = e["version"].as_i64().unwrap();
            let prev = last_version.insert(e["opportunity_id"].as_str().unwrap().to_string(), v);
            assert_eq!(prev.unwrap_or(0) + 1, v, "out of order within an opportunity");
        }
        after = page.body["next_after"].as_i64().unwrap();
    }
    assert_eq!(seen.len() as i64, expected_events);

    // Every projection is at the head, and the opportunity read model matches the log.
    let checkpoints: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, position FROM projection_checkpoints ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(checkpoints.len(), projections::registry::all().len());
    assert!(checkpoints.iter().all(|(_, p)| *p == expected_events), "{checkpoints:?}");
    let listed = app.get("/api/opportunities?limit=200", &token).await;
    assert_eq!(listed.headers["x-total-count"], created.to_string().as_str());
    for o in listed.body.as_array().unwrap() {
        let id = o["id"].as_str().unwrap();
        assert_eq!(o["version"].as_i64().unwrap(), last_version[id]);
        let last_description: Option<String> = sqlx::query_scalar(
            "SELECT payload::jsonb #>> '{OpportunityDetailsUpdated,changes,description}' FROM events
              WHERE aggregate_id = $1 AND event_type = 'OpportunityDetailsUpdated' ORDER BY sequence DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&pool)
        .await
        .unwrap()
        .flatten();
        assert_eq!(o["description"].as_str().map(str::to_string), last_description, "{id}");
        let stages: i64 = sqlx::query_scalar(
            "SELECT jsonb_array_length(stages)::int8 FROM opportunities WHERE id = $1::uuid",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(stages, 17);
    }
}
