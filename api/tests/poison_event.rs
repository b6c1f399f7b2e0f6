//! An event a projection cannot apply stops that projection alone: it stays just before the
//! event, retries with backoff, and is reported (health `degraded` naming it, a metric, the
//! event's log position); every other projection keeps flowing. Once the cause is fixed, a retry
//! or a replay heals it, and a replay that fails leaves the tables as they were.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

/// Appends `payload` to opportunity `id`'s stream straight into the log, as a bug or a hand-made
/// fix might; returns its global_seq.
async fn inject(app: &TestApp, id: &str, event_type: &str, payload: Value) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT 'Opportunity', $1, coalesce(max(sequence), 0) + 1, $2, '1', $3, '{}'
           FROM events WHERE aggregate_type = 'Opportunity' AND aggregate_id = $1
         RETURNING global_seq",
    )
    .bind(id)
    .bind(event_type)
    .bind(sqlx::types::Json(payload))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn position_of(app: &TestApp, global_seq: i64) -> i64 {
    sqlx::query_scalar("SELECT position FROM event_log WHERE global_seq = $1")
        .bind(global_seq)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn health(app: &TestApp) -> Value {
    let r = app.get("/api/health", "").await;
    assert_eq!(r.status, StatusCode::OK, "read models do not make the API unavailable: {}", r.body);
    r.body
}

async fn asset_names(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let r = app.get(&format!("/api/opportunities/{id}/assets"), token).await;
    r.body.as_array().unwrap().iter().map(|a| a["raw_name"].as_str().unwrap().to_string()).collect()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_date_postgres_cannot_hold_stops_only_the_opportunities_projection(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let poisoned = app.create_opportunity(&token, "Poisoned").await;
    let other = app.create_opportunity(&token, "Healthy").await;
    let at = chrono::Utc::now().to_rfc3339();
    let seq = inject(
        &app,
        &poisoned,
        "OpportunityDetailsUpdated",
        json!({"OpportunityDetailsUpdated": {"changes": {"go_live": "0000-01-01"}, "at": at}}),
    )
    .await;
    app.settle().await;
    let position = position_of(&app, seq).await;

    // Reported: degraded, named, with the event's position.
    let h = health(&app).await;
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(h["read_models"].as_str().unwrap().contains("opportunities"), "{h}");
    assert_eq!(h["stalled"][0]["projection"], "opportunities", "{h}");
    assert_eq!(h["stalled"][0]["position"], position, "{h}");
    assert!(h["stalled"][0]["error"].as_str().unwrap().contains("out of range"), "{h}");
    let metrics = app.get("/metrics", "").await;
    let text = String::from_utf8_lossy(&metrics.bytes).to_string();
    assert!(text.contains("osop_projection_stalled{projection=\"opportunities\"} 1"), "{text}");
    assert!(text.contains("osop_projection_stalled{projection=\"assets\"} 0"), "{text}");

    // Everything else keeps flowing, and commands do not wait on the stopped projection.
    let asset = app
        .post(
            &format!("/api/opportunities/{other}/assets"),
            &token,
            json!({"raw_name": "Hero film", "volume": 2}),
        )
        .await;
    // 202: recorded, and the opportunity's own row (its version) is in the stopped read model.
    assert_eq!(asset.status, StatusCode::ACCEPTED, "{}", asset.body);
    // Commands wait only for the running projections: their watermark is already past the
    // asset's event, though the stopped projection is not.
    let head: i64 =
        sqlx::query_scalar("SELECT max(position) FROM event_log").fetch_one(&app.pool).await.unwrap();
    assert!(*app.state.projector.advanced().borrow() >= head, "the running projections are the watermark");
    assert_eq!(asset_names(&app, &token, &other).await, ["Hero film"]);
    let clarification = app
        .post(
            &format!("/api/opportunities/{other}/clarifications"),
            &token,
            json!({"category": "Scope", "question": "Which markets?"}),
        )
        .await;
    assert_eq!(clarification.status, StatusCode::ACCEPTED, "{}", clarification.body);
    let questions = app.get(&format!("/api/opportunities/{other}/clarifications"), &token).await;
    assert_eq!(questions.body.as_array().unwrap().len(), 1, "{}", questions.body);

    // The stopped projection stays before the event: it neither skipped it nor went past it.
    let checkpoint: i64 =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = 'opportunities'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(checkpoint, position - 1);
    let assets_checkpoint: i64 =
        sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = 'assets'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(assets_checkpoint > position, "the others went past it");
    // Retries keep failing at the same event, counting attempts.
    app.state.projector.retry_stalled();
    app.state.projector.catch_up().await.unwrap();
    let h = health(&app).await;
    assert_eq!(h["stalled"][0]["attempts"], 2, "{h}");
}

/// Stands in for a bug in a projection's code: its table refuses rows named POISON until the
/// "fix" drops the trigger.
async fn break_assets_projection(app: &TestApp) {
    for statement in [
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.raw_name = 'POISON' THEN RAISE EXCEPTION 'the assets projection cannot take this row'; END IF;
         RETURN NEW; END $$",
        "CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON assets FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ] {
        sqlx::query(statement).execute(&app.pool).await.unwrap();
    }
}

async fn fix_assets_projection(app: &TestApp) {
    sqlx::query("DROP TRIGGER refuse_poison ON assets").execute(&app.pool).await.unwrap();
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn once_the_cause_is_fixed_a_retry_or_a_replay_heals_the_projection(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Assets").await;
    let add = |name: &'static str| {
        let (app, token, id) = (&app, &token, &id);
        async move {
            app.post(
                &format!("/api/opportunities/{id}/assets"),
                token,
                json!({"raw_name": name, "volume": 1}),
            )
            .await
        }
    };
    assert_eq!(add("Before").await.status, StatusCode::CREATED);
    break_assets_projection(&app).await;
    // Recorded but not visible in the assets read model: 202 with where to read it, never a 404.
    let poisoned = add("POISON").await;
    assert_eq!(poisoned.status, StatusCode::ACCEPTED, "{}", poisoned.body);
    assert_eq!(poisoned.headers["location"], format!("/api/opportunities/{id}").as_str());
    assert_eq!(poisoned.body["status"], "recorded");
    add("After").await;
    assert_eq!(asset_names(&app, &token, &id).await, ["Before"], "stopped before the event");
    assert_eq!(health(&app).await["stalled"][0]["projection"], "assets");
    // Another projection took the later events in.
    let detail = app.get(&format!("/api/opportunities/{id}"), &token).await;
    assert_eq!(detail.status, StatusCode::OK);

    // A replay while the cause is still there fails, and leaves the table as it found it.
    let failed = app.state.projector.rebuild(&["assets".to_string()], |_| {}).await;
    assert!(failed.is_err());
    assert_eq!(asset_names(&app, &token, &id).await, ["Before"], "not emptied by a failed replay");

    // Fixed: the next retry takes every event in, in order, and the report clears.
    fix_assets_projection(&app).await;
    app.state.projector.retry_stalled();
    app.state.projector.catch_up().await.unwrap();
    assert_eq!(asset_names(&app, &token, &id).await, ["Before", "POISON", "After"]);
    let h = health(&app).await;
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["stalled"], json!([]));

    // And a replay gives the same rows.
    app.state.projector.rebuild(&["assets".to_string()], |_| {}).await.unwrap();
    assert_eq!(asset_names(&app, &token, &id).await, ["Before", "POISON", "After"]);
}
