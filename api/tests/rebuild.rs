//! Read models are disposable: damaged or dropped, they rebuild from the log to exactly what they were.
//! Snapshots are a cache: loading through them gives the same aggregate as replaying from zero.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use cqrs_es::EventStore;
use serde_json::{json, Value};

/// Every read-model table, each as JSON rows in primary-key order.
async fn dump(pool: &sqlx::PgPool) -> Vec<(String, Vec<Value>)> {
    let tables = [
        ("opportunities", "id"),
        ("approvals", "id"),
        ("notifications", "id"),
        ("notification_recipients", "opportunity_id"),
        ("opportunity_files", "id"),
        ("qualification_scorecards", "event_id"),
        ("clarifications", "id"),
        ("assets", "id"),
        ("asset_matches", "id"),
        ("ratecards", "opportunity_id"),
        ("ratecard_lines", "opportunity_id, line_no"),
        ("efficiency_profiles", "opportunity_id"),
        ("handoffs", "opportunity_id"),
        ("agent_runs", "run_id"),
    ];
    let mut out = Vec::new();
    for (table, key) in tables {
        let rows: Vec<Value> =
            sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM {table} t ORDER BY {key}"))
                .fetch_all(pool)
                .await
                .unwrap();
        out.push((table.to_string(), rows));
    }
    out
}

/// A history touching every projection: details, stages, approvals both ways, files, deal status, archive.
async fn busy_history(app: &TestApp) {
    let admin = app.admin().await;
    let approver = app.login("approver@agency.test", "editor").await;
    for i in 0..3 {
        let id = app.create_opportunity(&admin, &format!("Rebuild {i}")).await;
        let uri = format!("/api/opportunities/{id}");
        app.call(
            Method::PATCH,
            &uri,
            &admin,
            Some(json!({"region": "EMEA", "brands": ["A", "B"], "client_name": null})),
        )
        .await;
        app.advance_to(&admin, &id, 4).await;
        let req = app
            .post(
                &format!("{uri}/stages/14/approvals"),
                &admin,
                json!({"role": "deal_desk", "approver_email": "approver@agency.test"}),
            )
            .await;
        let approval = req.body["id"].as_str().unwrap().to_string();
        let decision = app
            .post(
                &format!("/api/approvals/{approval}/decision"),
                &approver,
                json!({"decision": "reject", "notes": format!("not yet {i}")}),
            )
            .await;
        assert_eq!(decision.status, StatusCode::OK, "{}", decision.body);
        app.post(
            &format!("{uri}/stages/14/approvals"),
            &admin,
            json!({"role": "deal_desk", "approver_email": "approver@agency.test"}),
        )
        .await;
        let up = app.upload(&admin, &id, "brief.md", format!("# Brief {i}\nSocial statics").as_bytes()).await;
        assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
        if i == 1 {
            let file = up.body["id"].as_str().unwrap();
            app.call(Method::DELETE, &format!("{uri}/files/{file}"), &admin, None).await;
        }
        commercial_history(app, &admin, &uri, i).await;
        if i == 2 {
            app.call(
                Method::PATCH,
                &uri,
                &admin,
                Some(json!({"deal_status": "lost", "lessons_learned": "Price"})),
            )
            .await;
            app.post(&format!("{uri}/archive"), &admin, json!({})).await;
        }
    }
}

/// Qualification, clarifications, assets, matches, a priced rate card, efficiency; a won hand-off once.
async fn commercial_history(app: &TestApp, admin: &str, uri: &str, i: usize) {
    let ok = |r: &Response| assert!(r.status.is_success(), "{}", r.body);
    let scores = json!({"timing": 6, "relationship": 5, "opportunity": 7, "what_we_know": 4, "location": 6, "sector": 5});
    ok(&app.post(&format!("{uri}/qualification"), admin, scores).await);
    let c = app
        .post(
            &format!("{uri}/clarifications"),
            admin,
            json!({"category": "Scope", "question": "How many markets?"}),
        )
        .await;
    ok(&c);
    let cid = c.body["id"].as_str().unwrap();
    ok(&app
        .call(
            Method::PUT,
            &format!("{uri}/clarifications/{cid}"),
            admin,
            Some(json!({"client_answer": "Twelve"})),
        )
        .await);
    let entries = app.get("/api/catalog?q=banner&limit=2", admin).await;
    for (n, entry) in entries.body.as_array().unwrap().iter().enumerate() {
        let a = app
            .post(
                &format!("{uri}/assets"),
                admin,
                json!({"raw_name": format!("Banner {n}"), "volume": 5 + n}),
            )
            .await;
        ok(&a);
        let asset = a.body["id"].as_str().unwrap();
        ok(&app
            .post(&format!("{uri}/assets/{asset}/match"), admin, json!({"catalog_id": entry["catalog_id"]}))
            .await);
    }
    ok(&app.post(&format!("{uri}/ratecard/build"), admin, json!({"currency": "EUR"})).await);
    let profile =
        json!({"scenario": "moderate", "blanket_pct": 20, "discipline_overrides": {"Creative": 35}});
    ok(&app.post(&format!("{uri}/efficiency-profile"), admin, profile).await);
    agent_run(app, uri.rsplit('/').next().unwrap(), i).await;
    if i == 0 {
        // A second, won deal walked through stage 16 gives a hand-off.
        let won = app.create_opportunity(admin, "Won deal").await;
        let won_uri = format!("/api/opportunities/{won}");
        ok(&app.call(Method::PATCH, &won_uri, admin, Some(json!({"deal_status": "won"}))).await);
        app.advance_to(admin, &won, 17).await;
    }
}

/// One agent run that produced an artifact, and one that failed.
async fn agent_run(app: &TestApp, opportunity: &str, i: usize) {
    use domain::agent_run::{Agent, Usage};
    use domain::OpportunityCommand as Cmd;
    let user = app.state.users.sign_in("admin@agency.test", "admin", None).await.unwrap();
    let id: uuid::Uuid = opportunity.parse().unwrap();
    for (n, ok) in [(0u128, true), (1, false)] {
        let run_id = uuid::Uuid::from_u128(((i as u128) << 8) + n + 1);
        let at = api::clock::now();
        let request = Cmd::RequestAgentRun {
            run_id,
            agent: Agent::Diagnosis,
            input_digest: "sha256:1".into(),
            budget: None,
            prompt_version: "v1".into(),
            actor: user.actor(),
            at,
        };
        app.state.bus.execute(id, request, &user).await.unwrap();
        let result = if ok {
            Cmd::RecordAgentOutput {
                run_id,
                output: json!({"summary": "ok", "clarifications": [
                    {"category": "Scope", "question": "Which markets?", "rationale": "r", "priority": "red"}]}),
                model: "offline".into(),
                usage: Usage { input_tokens: 10, ..Default::default() },
                cost_usd: rust_decimal::Decimal::new(5, 3),
                at,
            }
        } else {
            Cmd::RecordAgentFailure { run_id, reason: "timeout".into(), at }
        };
        app.state.bus.execute(id, result, &user).await.unwrap();
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn damaged_read_models_rebuild_row_for_row(pool: sqlx::PgPool) {
    let app = TestApp::new(pool.clone()).await;
    busy_history(&app).await;
    app.settle().await;
    let live = dump(&pool).await;
    let empty: Vec<&str> = live.iter().filter(|(_, rows)| rows.is_empty()).map(|(t, _)| t.as_str()).collect();
    assert!(empty.is_empty(), "every read model should hold rows; empty: {empty:?}");

    // Damage every read model: lose rows, corrupt others.
    sqlx::query("UPDATE opportunities SET name = 'corrupted', version = 0, stages = stages #- '{10}'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM approvals").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM notifications").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM opportunity_files").execute(&pool).await.unwrap();
    sqlx::query("UPDATE ratecard_lines SET base_hours = 0").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM clarifications").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM handoffs").execute(&pool).await.unwrap();
    sqlx::query("UPDATE agent_runs SET status = 'requested', output = NULL").execute(&pool).await.unwrap();
    assert_ne!(dump(&pool).await, live);

    let mut reports = Vec::new();
    app.state.projector.rebuild(&[], |p| reports.push((p.projection, p.position, p.head))).await.unwrap();
    assert_eq!(dump(&pool).await, live);
    let names: std::collections::BTreeSet<_> = reports.iter().map(|r| r.0).collect();
    assert_eq!(names.len(), projections::registry::all().len(), "progress for every projection: {reports:?}");
    assert!(reports.iter().all(|(_, position, head)| position <= head));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn one_projection_rebuilds_alone(pool: sqlx::PgPool) {
    let app = TestApp::new(pool.clone()).await;
    busy_history(&app).await;
    app.settle().await;
    let live = dump(&pool).await;
    sqlx::query("TRUNCATE approvals").execute(&pool).await.unwrap();
    app.state.projector.rebuild(&["approvals".to_string()], |_| {}).await.unwrap();
    assert_eq!(dump(&pool).await, live);
    let unknown = app.state.projector.rebuild(&["nope".to_string()], |_| {}).await;
    assert!(unknown.is_err());
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn loading_through_snapshots_equals_replaying_from_zero(pool: sqlx::PgPool) {
    // The harness snapshots every 5 events.
    let app = TestApp::new(pool.clone()).await;
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Snapshotted").await;
    let uri = format!("/api/opportunities/{id}");
    for i in 0..23 {
        let r = app.call(Method::PATCH, &uri, &admin, Some(json!({"description": format!("rev {i}")}))).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    app.advance_to(&admin, &id, 6).await;
    let store = api::store::OpportunityStore::new(pool.clone(), 5);
    let through_snapshot = store.load_aggregate(&id).await.unwrap();
    let (from_zero, version) = store.load_from_zero(&id).await.unwrap();
    assert_eq!(through_snapshot.aggregate, from_zero);
    assert_eq!(through_snapshot.current_sequence, version);
    assert_eq!(from_zero.details.description.as_deref(), Some("rev 22"));

    let (snapshot_at, payload): (i64, Value) =
        sqlx::query_as("SELECT last_sequence, payload FROM aggregate_snapshots WHERE aggregate_id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(snapshot_at > version as i64 - 5 && snapshot_at <= version as i64, "{snapshot_at} vs {version}");
    // The snapshot is exactly the state at its own version.
    let (at_snapshot, _) = store.load_as_of(&id, snapshot_at as usize).await.unwrap();
    assert_eq!(payload, serde_json::to_value(&at_snapshot).unwrap());

    // A snapshot that no longer matches the aggregate's shape is ignored, not trusted.
    sqlx::query("UPDATE aggregate_snapshots SET payload = '{\"unexpected\": true}' WHERE aggregate_id = $1")
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    let recovered = store.load_aggregate(&id).await.unwrap();
    assert_eq!(recovered.aggregate, from_zero);
}
