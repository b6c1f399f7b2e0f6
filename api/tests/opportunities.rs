//! Opportunity CRUD over REST: create with defaults, read, list with filters, change, archive, time travel.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn create_fills_defaults_and_round_trips_every_field(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let body = json!({
        "name": "  Halvorsen EMEA content  ", "client_name": "Halvorsen", "region": "EMEA",
        "brands": ["Nordlys", "Fjell", "nordlys"], "service_types": ["Content", "eCommerce"],
        "deadline": "2026-06-30", "go_live": "2026-09-01", "description": "Always-on content",
        "model_type": "nearshore"
    });
    let r = app.post("/api/opportunities", &token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = &r.body;
    assert_eq!(o["name"], "Halvorsen EMEA content");
    assert_eq!(o["brands"], json!(["Nordlys", "Fjell"]));
    assert_eq!(o["service_types"], json!(["Content", "eCommerce"]));
    assert_eq!(o["deadline"], "2026-06-30");
    assert_eq!(o["go_live"], "2026-09-01");
    assert_eq!(o["model_type"], "nearshore");
    assert_eq!(o["owner_email"], "editor@agency.test");
    assert_eq!(o["status"], "active");
    assert_eq!(o["deal_status"], "active");
    assert_eq!(o["current_stage"], 1);
    assert_eq!(o["version"], 2);
    let id = o["id"].as_str().unwrap();
    let again = app.get(&format!("/api/opportunities/{id}"), &token).await;
    assert_eq!(again.body, r.body);

    let minimal = app.post("/api/opportunities", &token, json!({"name": "Minimal"})).await;
    assert_eq!(minimal.body["model_type"], "standard");
    assert_eq!(minimal.body["brands"], json!([]));
    assert!(minimal.body["client_name"].is_null());
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn invalid_bodies_name_the_field_and_record_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": 7}), "name"),
        (json!({"name": "ok", "deadline": "30/06/2026"}), "deadline"),
        (json!({"name": "ok", "go_live": "2026-02-30"}), "go_live"),
        (json!({"name": "ok", "brands": "Nordlys"}), "brands"),
        (json!({"name": "ok", "brands": ["ok", ""]}), "brands[1]"),
        (json!({"name": "ok", "owner_email": "not-an-email"}), "owner_email"),
        (json!({"name": "ok", "model_type": "drop table;"}), "model_type"),
        (json!([1, 2]), "body"),
    ];
    for (body, field) in cases {
        let r = app.post("/api/opportunities", &token, body.clone()).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    let r = app.call(Method::POST, "/api/opportunities", &token, None).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "");
    let raw = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/opportunities")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"name\": \"unterminated"))
        .unwrap();
    assert_problem(&app.send(raw).await, StatusCode::BAD_REQUEST, "");
    assert_eq!(app.event_count().await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn patch_changes_only_what_is_sent_and_null_clears(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Patch me").await;
    let uri = format!("/api/opportunities/{id}");
    let r = app
        .call(
            Method::PATCH,
            &uri,
            &token,
            Some(json!({"region": "Nordics", "brands": ["A"], "client_name": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["region"], "Nordics");
    assert_eq!(r.body["brands"], json!(["A"]));
    assert!(r.body["client_name"].is_null());
    assert_eq!(r.body["name"], "Patch me");
    let version = r.body["version"].as_i64().unwrap();

    // Sending the same values again records nothing.
    let same = app.call(Method::PUT, &uri, &token, Some(json!({"region": "Nordics"}))).await;
    assert_eq!(same.body["version"].as_i64().unwrap(), version);

    let deal = app
        .call(Method::PATCH, &uri, &token, Some(json!({"deal_status": "lost", "lessons_learned": "Price"})))
        .await;
    assert_eq!(deal.body["deal_status"], "lost");
    assert_eq!(deal.body["lessons_learned"], "Price");
    let bad = app.call(Method::PATCH, &uri, &token, Some(json!({"deal_status": "maybe"}))).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "deal_status");
    let won = app
        .call(Method::PUT, &format!("{uri}/deal-status"), &token, Some(json!({"deal_status": "won"})))
        .await;
    assert_eq!(won.body["deal_status"], "won");
    assert!(won.body["lessons_learned"].is_null());
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn archived_opportunities_leave_the_default_list_and_refuse_changes(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Archive me").await;
    let keep = app.create_opportunity(&token, "Keep me").await;
    let r = app.call(Method::DELETE, &format!("/api/opportunities/{id}"), &token, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "archived");
    assert!(r.body["archived_at"].is_string());
    let again = app.post(&format!("/api/opportunities/{id}/archive"), &token, json!({})).await;
    assert_problem(&again, StatusCode::CONFLICT, "");
    let change = app
        .call(Method::PATCH, &format!("/api/opportunities/{id}"), &token, Some(json!({"name": "x"})))
        .await;
    assert_problem(&change, StatusCode::CONFLICT, "");

    let listed = app.get("/api/opportunities", &token).await;
    let ids: Vec<&str> = listed.body.as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![keep.as_str()]);
    let archived = app.get("/api/opportunities?status=archived", &token).await;
    assert_eq!(archived.body[0]["id"], id);
    let all = app.get("/api/opportunities?status=all", &token).await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    // Still readable in full.
    assert_eq!(app.get(&format!("/api/opportunities/{id}"), &token).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn list_filters_paginates_and_counts(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.login("alice@agency.test", "editor").await;
    let bob = app.login("bob@agency.test", "editor").await;
    for i in 0..5 {
        app.create_opportunity(&alice, &format!("Alice {i}")).await;
    }
    let bobs = app.create_opportunity(&bob, "Bob's").await;
    app.post(&format!("/api/opportunities/{bobs}/stages/1/complete"), &bob, json!({})).await;

    let page = app.get("/api/opportunities?limit=2&offset=0", &alice).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.as_array().unwrap().len(), 2);
    assert_eq!(page.headers["x-total-count"], "6");
    let rest = app.get("/api/opportunities?limit=50&offset=4", &alice).await;
    assert_eq!(rest.body.as_array().unwrap().len(), 2);

    let mine = app.get("/api/opportunities?owner=ALICE@agency.test", &alice).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 5);
    assert!(mine.body.as_array().unwrap().iter().all(|o| o["owner_email"] == "alice@agency.test"));
    let stage2 = app.get("/api/opportunities?stage=2", &alice).await;
    assert_eq!(stage2.body.as_array().unwrap().len(), 1);
    assert_eq!(stage2.body[0]["id"], bobs);
    // Shape of a list item: the summary without stages.
    let item = &stage2.body[0];
    for key in [
        "id",
        "name",
        "client_name",
        "status",
        "current_stage",
        "deal_status",
        "owner_email",
        "version",
        "created_at",
        "updated_at",
    ] {
        assert!(item.get(key).is_some(), "list item lacks {key}");
    }
    assert!(item.get("stages").is_none());

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("stage=18", "stage"),
        ("status=gone", "status"),
        ("deal_status=maybe", "deal_status"),
    ] {
        let r = app.get(&format!("/api/opportunities?{query}"), &alice).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn as_of_version_shows_the_opportunity_exactly_as_it_stood(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Time travel").await;
    let uri = format!("/api/opportunities/{id}");
    let mut snapshots: Vec<Value> = vec![app.get(&uri, &admin).await.body];
    let steps: Vec<(Method, String, Value)> = vec![
        (Method::PATCH, uri.clone(), json!({"region": "EMEA", "brands": ["Nordlys"]})),
        (Method::POST, format!("{uri}/stages/1/complete"), json!({})),
        (Method::PATCH, uri.clone(), json!({"region": null, "deadline": "2026-12-01"})),
        (Method::POST, format!("{uri}/stages/2/complete"), json!({})),
        (
            Method::PATCH,
            uri.clone(),
            json!({"deal_status": "deprioritized", "lessons_learned": "Budget cut"}),
        ),
        (Method::POST, format!("{uri}/archive"), json!({})),
    ];
    for (method, path, body) in steps {
        let r = app.call(method, &path, &admin, Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        snapshots.push(app.get(&uri, &admin).await.body);
    }
    // Every state the live projection showed is reproduced exactly by replaying the log to its version.
    for live in &snapshots {
        let version = live["version"].as_i64().unwrap();
        let past = app.get(&format!("{uri}?as_of_version={version}"), &admin).await;
        assert_eq!(past.status, StatusCode::OK, "{}", past.body);
        assert_eq!(&past.body, live, "as_of_version={version}");
    }
    let first = app.get(&format!("{uri}?as_of_version=1"), &admin).await;
    assert_eq!(first.body["version"], 1);
    assert_eq!(first.body["stages"][0]["status"], "not_started");

    let head = snapshots.last().unwrap()["version"].as_i64().unwrap();
    let future = app.get(&format!("{uri}?as_of_version={}", head + 1), &admin).await;
    assert_problem(&future, StatusCode::UNPROCESSABLE_ENTITY, "as_of_version");
    for bad in ["0", "-3", "abc"] {
        let r = app.get(&format!("{uri}?as_of_version={bad}"), &admin).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "as_of_version");
    }
    let missing =
        app.get(&format!("/api/opportunities/{}?as_of_version=1", uuid::Uuid::new_v4()), &admin).await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_audit_trail_lists_every_event_with_who_and_when(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Audited").await;
    app.call(Method::PATCH, &format!("/api/opportunities/{id}"), &token, Some(json!({"region": "EMEA"})))
        .await;
    let r = app.get(&format!("/api/opportunities/{id}/events"), &token).await;
    let events = r.body["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["OpportunityCreated", "StageStarted", "OpportunityDetailsUpdated"]);
    assert_eq!(r.body["next_after"], 3);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["version"], i + 1);
        assert_eq!(e["event_version"], "1");
        assert_eq!(e["user_email"], "editor@agency.test");
        assert!(e["recorded_at"].is_string());
        assert!(e["position"].as_i64().unwrap() > 0);
        assert!(e["payload"].is_object());
    }
    assert_eq!(events[2]["payload"]["OpportunityDetailsUpdated"]["changes"]["region"], "EMEA");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_audit_trail_is_read_a_page_at_a_time(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Paged").await;
    for region in ["EMEA", "APAC", "LATAM"] {
        app.call(Method::PATCH, &format!("/api/opportunities/{id}"), &token, Some(json!({"region": region})))
            .await;
    }
    // Five events (created, stage 1 started, three changes), two a page, each page after the last.
    let mut versions = Vec::new();
    let mut after = 0;
    for expected in [2, 2, 1, 0] {
        let r = app.get(&format!("/api/opportunities/{id}/events?after={after}&limit=2"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.body["events"].as_array().unwrap();
        assert_eq!(page.len(), expected, "{}", r.body);
        versions.extend(page.iter().map(|e| e["version"].as_i64().unwrap()));
        let next = r.body["next_after"].as_i64().unwrap();
        assert_eq!(next, versions.last().copied().unwrap_or(0).max(after), "{}", r.body);
        after = next;
    }
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("after=-1", "after")] {
        let r = app.get(&format!("/api/opportunities/{id}/events?{query}"), &token).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    let unknown = app.get(&format!("/api/opportunities/{}/events", uuid::Uuid::new_v4()), &token).await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "");
}
