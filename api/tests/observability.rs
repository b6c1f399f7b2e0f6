//! Observability against the real router, PostgreSQL and NATS: the request id follows a request's
//! commands into their events and through an agent run on the work queue to what the worker
//! records; `GET /metrics` is Prometheus text whose series move with real traffic.
//!
//! The metrics recorder is one per process while the tests of this file run in parallel, so
//! counters are compared before and after (>= deltas) or read on labels only one test uses.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use agent_workers::offline::provider::OfflineProvider;
use agent_workers::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};
use agent_workers::worker::Worker;
use api::agents::host::ApiHost;
use api::telemetry::projection_lag;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use domain::agent_run::{Agent, Usage};
use rust_decimal::Decimal;
use serde_json::{json, Value as Json};
use tokio::sync::watch;
use tower::ServiceExt;

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");

/// The app with its publishers and one worker on `provider`, running until the sender drops.
async fn running(pool: sqlx::PgPool, provider: Arc<dyn Provider>) -> (TestApp, watch::Sender<bool>) {
    let app = TestApp::new(pool).await;
    let (stop, stopped) = watch::channel(false);
    app.state.spawn_publishers(stopped.clone());
    let worker = Worker::new(
        app.state.nats.clone().unwrap(),
        api::agents::workers::config(&app.state),
        provider,
        Arc::new(ApiHost::new(app.state.clone())),
    );
    tokio::spawn(async move {
        while worker.run(stopped.clone()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (app, stop)
}

/// Sends a JSON request carrying `x-request-id` when one is given.
async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    body: Json,
    id: Option<&str>,
) -> Response {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(id) = id {
        builder = builder.header("x-request-id", id);
    }
    app.send(builder.body(Body::from(body.to_string())).unwrap()).await
}

async fn upload_brief(app: &TestApp, token: &str, id: &str) {
    let brief = std::fs::read(HALVORSEN).expect("the sample brief in examples/briefs");
    assert_eq!(app.upload(token, id, "halvorsen.md", &brief).await.status, StatusCode::CREATED);
}

fn echoed(r: &Response) -> &str {
    r.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// (event type, correlation id, user email) of each event of an opportunity, in order.
async fn trail(app: &TestApp, id: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT event_type, metadata->>'correlation_id', metadata->>'user_email' FROM events
          WHERE aggregate_id = $1 ORDER BY sequence",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_request_id_follows_a_command_into_its_events_and_the_agent_run(pool: sqlx::PgPool) {
    let (app, _stop) = running(pool, Arc::new(OfflineProvider)).await;
    let token = app.editor().await;

    let created = send(
        &app,
        Method::POST,
        "/api/opportunities",
        &token,
        json!({"name": "Traced", "client_name": "Halvorsen"}),
        Some("abc-123"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(echoed(&created), "abc-123");
    let id = created.body["id"].as_str().unwrap().to_string();
    // A request without the header: the upload's events get an id of their own.
    upload_brief(&app, &token, &id).await;
    let intake = send(
        &app,
        Method::POST,
        &format!("/api/opportunities/{id}/intake?wait=60"),
        &token,
        json!({}),
        Some("abc-123"),
    )
    .await;
    assert_eq!(intake.status, StatusCode::OK, "{}", intake.body);
    assert_eq!(intake.body["status"], "succeeded", "{}", intake.body);
    assert_eq!(echoed(&intake), "abc-123");

    let events = trail(&app, &id).await;
    let of = |kind: &str| events.iter().filter(|e| e.0 == kind).collect::<Vec<_>>();
    assert_eq!(of("OpportunityCreated")[0].1, "abc-123", "{events:?}");
    assert_eq!(of("AgentRunRequested")[0].1, "abc-123", "{events:?}");
    let produced = of("ArtifactProduced");
    assert_eq!(produced.len(), 1, "{events:?}");
    assert_eq!(produced[0].1, "abc-123", "the worker records under the request's id: {events:?}");
    assert_eq!(produced[0].2, "agent-worker@osop.local", "recorded by the worker: {events:?}");
    let uploaded = &of("FileUploaded")[0].1;
    assert_ne!(uploaded, "abc-123");
    assert!(uuid::Uuid::parse_str(uploaded).is_ok(), "a fresh UUID when none was sent: {uploaded}");
    // Every event the two abc-123 requests caused, and only those, carries it.
    for (kind, correlation, _) in &events {
        if kind != "FileUploaded" {
            assert_eq!(correlation, "abc-123", "{kind}: {events:?}");
        }
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_missing_or_unfit_request_id_is_replaced_by_a_fresh_one(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let too_long = "x".repeat(129);
    for given in [None, Some("has space"), Some(too_long.as_str()), Some("")] {
        let r = send(
            &app,
            Method::POST,
            "/api/opportunities",
            &token,
            json!({"name": "N", "client_name": "C"}),
            given,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let made = echoed(&r).to_string();
        assert!(uuid::Uuid::parse_str(&made).is_ok(), "{given:?} answered with {made:?}");
        let events = trail(&app, r.body["id"].as_str().unwrap()).await;
        assert_eq!(events[0].1, made, "the echoed id is the events' correlation id");
    }
    // An error answer carries the id too, so a client can quote it.
    let bad =
        send(&app, Method::POST, "/api/opportunities", &token, json!({"name": 7}), Some("req-err-1")).await;
    assert!(bad.status.is_client_error(), "{}", bad.body);
    assert_eq!(echoed(&bad), "req-err-1");
}

/// The offline agents with a priced usage under a model name no other test uses; diagnosis is
/// refused for good, so its run fails and is dead-lettered.
struct Metered;

const METERED_MODEL: &str = "obs-metered-model";

#[async_trait]
impl Provider for Metered {
    fn name(&self) -> &str {
        METERED_MODEL
    }
    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        if agent == Agent::Diagnosis {
            return Err(ProviderError::Permanent("diagnosis refused by the test provider".into()));
        }
        let mut out = OfflineProvider.run(agent, inputs).await?;
        out.model = METERED_MODEL.into();
        out.usage = Usage {
            input_tokens: 1234,
            output_tokens: 56,
            cache_creation_input_tokens: 7,
            cache_read_input_tokens: 8,
        };
        out.cost_usd = Decimal::new(123, 4); // $0.0123
        Ok(out)
    }
}

/// One sample of a scrape.
#[derive(Debug)]
struct Sample {
    metric: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

#[derive(Debug, Default)]
struct Scrape {
    /// Family name → declared type.
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

async fn scrape(app: &TestApp) -> Scrape {
    let r = app.call(Method::GET, "/metrics", "", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let content_type = r.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse(&String::from_utf8(r.bytes).unwrap())
}

/// A strict reader of the text exposition format: a line it cannot read fails the test, and so
/// does a sample whose family has no TYPE. (Route labels hold `{` and `}`, which the lenient
/// parsers on crates.io split wrongly.)
fn parse(text: &str) -> Scrape {
    let mut scrape = Scrape::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("bad TYPE: {line}"));
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            scrape.types.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let sample = parse_sample(line).unwrap_or_else(|| panic!("not a sample line: {line}"));
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                sample
                    .metric
                    .strip_suffix(suffix)
                    .filter(|f| scrape.types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(&sample.metric);
        assert!(scrape.types.contains_key(family), "no TYPE for {line}");
        scrape.samples.push(sample);
    }
    scrape
}

fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))?;
    let (metric, mut rest) = line.split_at(name_end);
    if metric.is_empty() || metric.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = rest.split_once("=\"")?;
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        _ => return None,
                    },
                    (_, c) => value.push(c),
                }
            };
            labels.insert(key.to_string(), value);
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let mut parts = rest.strip_prefix(' ')?.split(' ');
    let value = match parts.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    if let Some(timestamp) = parts.next() {
        timestamp.parse::<i64>().ok()?;
    }
    parts.next().is_none().then(|| Sample { metric: metric.to_string(), labels, value })
}

fn has(sample: &Sample, labels: &[(&str, &str)]) -> bool {
    labels.iter().all(|(k, v)| sample.labels.get(*k).map(String::as_str) == Some(*v))
}

/// The value of the one series `metric` with these labels (0 when absent).
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> =
        s.samples.iter().filter(|x| x.metric == metric && has(x, labels)).map(|x| x.value).collect();
    assert!(found.len() <= 1, "{metric} {labels:?} names {} series", found.len());
    found.first().copied().unwrap_or(0.0)
}

/// Waits (bounded) until `metric` with `labels` is at least `at_least`.
async fn eventually(app: &TestApp, metric: &str, labels: &[(&str, &str)], at_least: f64) -> Scrape {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = scrape(app).await;
        if value(&s, metric, labels) >= at_least || tokio::time::Instant::now() >= deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn metrics_count_requests_commands_and_agent_runs(pool: sqlx::PgPool) {
    let (app, _stop) = running(pool, Arc::new(Metered)).await;
    let token = app.editor().await;
    let before = scrape(&app).await;
    let created = [("command", "CreateOpportunity"), ("outcome", "ok")];
    let rejected = [("command", "CompleteStage"), ("outcome", "rejected")];
    let detail = [("method", "GET"), ("route", "/api/opportunities/{id}"), ("status", "200")];
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    let intake_ok = [("agent", "intake"), ("outcome", "succeeded")];
    let diagnosis_failed = [("agent", "diagnosis"), ("outcome", "failed")];
    let http_count = "osop_http_request_duration_seconds_count";
    let runs = "osop_agent_runs_total";

    let id = app.create_opportunity(&token, "Metered").await;
    assert_eq!(app.get(&format!("/api/opportunities/{id}"), &token).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/no-such-route", &token).await.status, StatusCode::NOT_FOUND);
    let refused = app.post(&format!("/api/opportunities/{id}/stages/2/complete"), &token, json!({})).await;
    assert_problem(&refused, StatusCode::BAD_REQUEST, "stage");
    upload_brief(&app, &token, &id).await;
    let intake = app.post(&format!("/api/opportunities/{id}/intake?wait=60"), &token, json!({})).await;
    assert_eq!(intake.body["status"], "succeeded", "{}", intake.body);
    let diagnosis = app.post(&format!("/api/opportunities/{id}/diagnose?wait=60"), &token, json!({})).await;
    assert_eq!(diagnosis.body["status"], "failed", "{}", diagnosis.body);
    // The worker records a failure under the id of the request that asked for the run, too.
    let failed =
        trail(&app, &id).await.into_iter().find(|e| e.0 == "AgentRunFailed").expect("AgentRunFailed");
    assert_eq!(failed.1, echoed(&diagnosis), "{failed:?}");
    assert_eq!(failed.2, "agent-worker@osop.local");

    // The worker counts a delivery after it has recorded it, so the count may trail the answer.
    let goal = value(&before, runs, &diagnosis_failed) + 1.0;
    let after = eventually(&app, runs, &diagnosis_failed, goal).await;
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    assert!(moved("osop_commands_total", &created) >= 1.0);
    assert!(moved("osop_commands_total", &rejected) >= 1.0, "the rejected command is counted");
    assert!(moved(http_count, &detail) >= 1.0, "latency by route template");
    assert!(moved(http_count, &unmatched) >= 1.0);
    assert!(moved(runs, &intake_ok) >= 1.0);
    assert!(moved(runs, &diagnosis_failed) >= 1.0);
    assert!(moved("osop_agent_dead_letters_total", &[("agent", "diagnosis")]) >= 1.0);
    assert!(moved("osop_agent_run_duration_seconds_count", &intake_ok) >= 1.0);
    // Only this test's provider reports this model: exact values.
    let model = ("model", METERED_MODEL);
    let tokens = "osop_agent_tokens_total";
    assert_eq!(value(&after, tokens, &[("agent", "intake"), model, ("kind", "input")]), 1234.0);
    assert_eq!(value(&after, tokens, &[("agent", "intake"), model, ("kind", "output")]), 56.0);
    assert_eq!(value(&after, tokens, &[("agent", "intake"), model, ("kind", "cache_write")]), 7.0);
    assert_eq!(value(&after, tokens, &[("agent", "intake"), model, ("kind", "cache_read")]), 8.0);
    assert_eq!(value(&after, "osop_agent_cost_microusd_total", &[("agent", "intake"), model]), 12_300.0);

    // A histogram with buckets, and no route label is a raw path with an id in it.
    assert_eq!(after.types["osop_http_request_duration_seconds"], "histogram");
    let buckets = after
        .samples
        .iter()
        .filter(|s| s.metric == "osop_http_request_duration_seconds_bucket" && has(s, &detail))
        .count();
    assert!(buckets > 5, "{buckets} buckets");
    assert!(
        value(
            &after,
            "osop_http_request_duration_seconds_bucket",
            &[detail[0], detail[1], detail[2], ("le", "+Inf")]
        ) >= 1.0
    );
    for s in after.samples.iter().filter(|s| s.metric.starts_with("osop_http_request_duration_seconds")) {
        let route = &s.labels["route"];
        assert!(!route.contains(&id), "raw path in a route label: {route}");
    }

    // Every reader of the log has its lag; the projections are caught up (the command waited).
    let mut readers = app.state.projector.names();
    readers.extend(["integration_feed", "agent_requests"]);
    for name in readers {
        let of = |metric: &str| {
            after.samples.iter().filter(|s| s.metric == metric && has(s, &[("projection", name)])).count()
        };
        assert_eq!(of("osop_projection_lag_events"), 1, "{name}");
        assert_eq!(of("osop_projection_lag_seconds"), 1, "{name}");
    }
    for name in app.state.projector.names() {
        assert_eq!(value(&after, "osop_projection_lag_events", &[("projection", name)]), 0.0, "{name}");
    }
    // The two publishers catch up too, each on its own checkpoint.
    for publisher in ["integration_feed", "agent_requests"] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let lag = loop {
            let lag = value(&scrape(&app).await, "osop_projection_lag_events", &[("projection", publisher)]);
            if lag == 0.0 || tokio::time::Instant::now() >= deadline {
                break lag;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(lag, 0.0, "{publisher} stays behind");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn projection_lag_counts_the_events_a_reader_has_not_applied(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Lagging").await;
    let r = app
        .call(Method::PATCH, &format!("/api/opportunities/{id}"), &token, Some(json!({"name": "Renamed"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let head: i64 =
        sqlx::query_scalar("SELECT last_position FROM log_sequencer").fetch_one(&app.pool).await.unwrap();
    assert!(head >= 2);
    // Rewind one read model: it is now behind by the whole log, and its oldest event has an age.
    sqlx::query("UPDATE projection_checkpoints SET position = 0 WHERE name = 'approvals'")
        .execute(&app.pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let lags =
        projection_lag::measure(&app.pool, &["approvals", "opportunities", "never_ran"]).await.unwrap();
    let lag = |n: &str| lags.iter().find(|l| l.projection == n).unwrap().clone();
    assert_eq!(lag("approvals").events, head);
    assert!(lag("approvals").seconds >= 0.02, "{:?}", lag("approvals"));
    assert_eq!(lag("opportunities").events, 0);
    assert_eq!(lag("opportunities").seconds, 0.0);
    assert_eq!(lag("never_ran").events, head, "a reader without a checkpoint starts at 0");

    let s = scrape(&app).await;
    assert_eq!(value(&s, "osop_projection_lag_events", &[("projection", "approvals")]), head as f64);
    assert!(value(&s, "osop_projection_lag_seconds", &[("projection", "approvals")]) >= 0.02);
    assert_eq!(value(&s, "osop_projection_lag_events", &[("projection", "opportunities")]), 0.0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_metrics_token_closes_the_endpoint_to_everyone_else(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.metrics_token = Some("scraper-secret".into())).await;
    let none = app.call(Method::GET, "/metrics", "", None).await;
    assert_problem(&none, StatusCode::UNAUTHORIZED, "");
    let wrong = app.call(Method::GET, "/metrics", "not-it", None).await;
    assert_problem(&wrong, StatusCode::UNAUTHORIZED, "");
    let right = app.call(Method::GET, "/metrics", "scraper-secret", None).await;
    assert_eq!(right.status, StatusCode::OK);
    assert!(String::from_utf8(right.bytes).unwrap().contains("osop_projection_lag_events"));
    // A worker-only process serves the same endpoint, token and all.
    let alone = api::http::scrape::standalone(app.state.clone());
    let request = |token: &str| {
        Request::get("/metrics")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(alone.clone().oneshot(request("not-it")).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(alone.oneshot(request("scraper-secret")).await.unwrap().status(), StatusCode::OK);
    // The scrape endpoint is not part of the API document.
    let doc = app.get("/api/openapi.json", "").await;
    assert!(doc.body["paths"].get("/metrics").is_none());
}
