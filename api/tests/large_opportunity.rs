//! An opportunity that grows large (5 000 assets) still goes through matching, the rate card, the
//! integration feed and the Excel export. An event too large for one NATS message is published as
//! a claim check (`dataref` to the event in the global feed) instead of stalling the feed.

mod common;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use agent_workers::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};
use async_nats::jetstream::{self, consumer::pull};
use async_trait::async_trait;
use axum::http::StatusCode;
use calamine::{open_workbook_from_rs, Reader, Xlsx};
use common::*;
use domain::agent_run::{Agent, Usage};
use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const ASSETS: usize = 5_000;

/// Normalises to 5 000 assets and matches each to one catalog entry with standard hours.
struct Large;

#[async_trait]
impl Provider for Large {
    fn name(&self) -> &str {
        "large-test"
    }
    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        let output = match agent {
            Agent::AssetNormalizer => json!({"assets": (0..ASSETS).map(|i| json!({
                "raw_name": format!("Display banner {i}"),
                "raw_description": "A static banner in three sizes",
                "volume": 1 + i % 5,
            })).collect::<Vec<_>>()}),
            Agent::Matcher => {
                let entry =
                    inputs.catalog.iter().find(|e| e.hours.contains_key("standard")).ok_or_else(|| {
                        ProviderError::Permanent("no catalog entry with standard hours".into())
                    })?;
                json!({"assets": inputs.assets.iter().map(|a| json!({
                    "asset_id": a.asset_id,
                    "matches": [{"gmal_id": entry.catalog_id, "catalog_asset_name": entry.asset_name,
                        "confidence": "exact", "confidence_score": 0.95,
                        "reasoning": "same deliverable", "caveats": ""}],
                })).collect::<Vec<_>>()})
            }
            other => return Err(ProviderError::Permanent(format!("{other:?} is not part of this test"))),
        };
        Ok(ProviderOutput {
            output,
            model: "large-test".into(),
            usage: Usage::default(),
            cost_usd: Decimal::ZERO,
        })
    }
}

async fn run_agent(app: &TestApp, token: &str, id: &str, path: &str) {
    let r = app.post(&format!("/api/opportunities/{id}/{path}?wait=120"), token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    assert_eq!(r.body["status"], "succeeded", "{path}: {}", r.body);
}

/// The feed's message for the opportunity's `event_type` event.
async fn feed_message(app: &TestApp, event_type: &str) -> Value {
    let s = &app.state.settings;
    let js = jetstream::new(app.state.nats.clone().unwrap());
    let stream = js.get_stream(&s.nats_stream).await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            filter_subject: format!("{}.events.opportunity.{event_type}", s.nats_subject_prefix),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(30), messages.next()).await.unwrap().unwrap().unwrap();
    assert!(m.payload.len() < 1024 * 1024, "{} bytes", m.payload.len());
    serde_json::from_slice(&m.payload).unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn five_thousand_assets_go_through_rate_card_feed_and_export(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let _stop = workers::start(&app, vec![(Arc::new(Large), None)]);
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Very large").await;
    let up = app.upload(&token, &id, "brief.md", b"# Brief\nFive thousand display banners.").await;
    assert_eq!(up.status, StatusCode::CREATED);

    run_agent(&app, &token, &id, "assets/normalize").await;
    let assets = app.get(&format!("/api/opportunities/{id}/assets"), &token).await;
    assert_eq!(assets.body.as_array().unwrap().len(), ASSETS);
    run_agent(&app, &token, &id, "match").await;
    let card = app.post(&format!("/api/opportunities/{id}/ratecard/build"), &token, json!({})).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let lines = card.body["lines"].as_array().unwrap().len();
    assert!(lines >= ASSETS, "{lines} lines");

    let excel = app.get(&format!("/api/opportunities/{id}/ratecard/excel"), &token).await;
    assert_eq!(excel.status, StatusCode::OK);
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(excel.bytes.clone())).unwrap();
    let sheets = book.sheet_names();
    let rows: usize = sheets.iter().map(|s| book.worksheet_range(s).unwrap().height()).max().unwrap();
    assert!(rows > ASSETS, "the largest sheet has {rows} rows");

    // The feed gets past the rate card: published as a claim check, every event after it too.
    let head: i64 =
        sqlx::query_scalar("SELECT max(position) FROM event_log").fetch_one(&app.pool).await.unwrap();
    let published = async {
        loop {
            let at: i64 = sqlx::query_scalar(
                "SELECT position FROM projection_checkpoints WHERE name = 'integration_feed'",
            )
            .fetch_optional(&app.pool)
            .await
            .unwrap()
            .unwrap_or(0);
            if at >= head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), published).await.expect("the feed reached the head");
    let built = feed_message(&app, "RatecardBuilt").await;
    assert!(built.get("data").is_none(), "too large to carry: {built}");
    assert!(built["osopdatasize"].as_u64().unwrap() > 1024 * 1024, "{built}");
    let dataref = built["dataref"].as_str().unwrap();
    let page = app.get(dataref, &token).await;
    assert_eq!(page.status, StatusCode::OK);
    let event = &page.body["events"][0];
    assert_eq!(event["event_type"], "RatecardBuilt", "{}", event["event_type"]);
    assert_eq!(event["position"], built["osopposition"]);
    let health = app.get("/api/health", "").await;
    assert_eq!(health.body["status"], "ok", "{}", health.body);
}
