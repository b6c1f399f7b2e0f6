//! Retry-safe writes: `Idempotency-Key` replays the first answer (per user), refuses a reused key
//! and a retry while in flight; `ETag`/`If-Match` make a write on a stale version a 412.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};

/// A JSON request with extra headers (the harness's `call` sends none).
async fn send(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Response {
    let mut b =
        Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    for (name, value) in extra {
        b = b.header(*name, *value);
    }
    let request = match body {
        Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

fn etag(r: &Response) -> String {
    r.headers.get(header::ETAG).expect("an ETag").to_str().unwrap().to_string()
}

async fn opportunity_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM opportunities").fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_retried_create_answers_with_the_first_response_and_records_nothing_more(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let body = json!({"name": "Halvorsen EMEA", "client_name": "Halvorsen"});
    let key = [("Idempotency-Key", "\"create-7f3a\"")];
    let first = send(&app, Method::POST, "/api/opportunities", &token, Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let events = app.event_count().await;

    let retry = send(&app, Method::POST, "/api/opportunities", &token, Some(body.clone()), &key).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.body, first.body, "the same opportunity, not a second one");
    assert_eq!(retry.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(retry.headers.get(header::CONTENT_TYPE), first.headers.get(header::CONTENT_TYPE));
    assert_eq!(app.event_count().await, events);
    assert_eq!(opportunity_count(&app).await, 1);

    // The bare token form of the same key is the same key.
    let bare = send(
        &app,
        Method::POST,
        "/api/opportunities",
        &token,
        Some(body),
        &[("Idempotency-Key", "create-7f3a")],
    )
    .await;
    assert_eq!(bare.body["id"], first.body["id"]);
    assert_eq!(opportunity_count(&app).await, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_key_reused_for_another_request_is_refused_and_changes_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let key = [("Idempotency-Key", "k-1")];
    let first =
        send(&app, Method::POST, "/api/opportunities", &token, Some(json!({"name": "One"})), &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let events = app.event_count().await;

    let other_body =
        send(&app, Method::POST, "/api/opportunities", &token, Some(json!({"name": "Two"})), &key).await;
    assert_problem(&other_body, StatusCode::UNPROCESSABLE_ENTITY, "Idempotency-Key");
    let id = first.body["id"].as_str().unwrap();
    let other_route = send(
        &app,
        Method::PATCH,
        &format!("/api/opportunities/{id}"),
        &token,
        Some(json!({"name": "One"})),
        &key,
    )
    .await;
    assert_problem(&other_route, StatusCode::UNPROCESSABLE_ENTITY, "Idempotency-Key");
    assert_eq!(app.event_count().await, events);
    assert_eq!(opportunity_count(&app).await, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn keys_are_scoped_per_user(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.login("alice@agency.test", "editor").await;
    let bob = app.login("bob@agency.test", "editor").await;
    let key = [("Idempotency-Key", "shared-key")];
    let body = json!({"name": "Same words"});
    let a = send(&app, Method::POST, "/api/opportunities", &alice, Some(body.clone()), &key).await;
    let b = send(&app, Method::POST, "/api/opportunities", &bob, Some(body), &key).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_ne!(a.body["id"], b.body["id"]);
    assert_eq!(b.body["owner_email"], "bob@agency.test");
    assert!(b.headers.get("idempotent-replayed").is_none());
    assert_eq!(opportunity_count(&app).await, 2);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_refusal_is_replayed_too_and_a_malformed_key_is_a_400(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let key = [("Idempotency-Key", "bad-body")];
    let first = send(&app, Method::POST, "/api/opportunities", &token, Some(json!({"name": ""})), &key).await;
    assert_problem(&first, StatusCode::UNPROCESSABLE_ENTITY, "name");
    let again = send(&app, Method::POST, "/api/opportunities", &token, Some(json!({"name": ""})), &key).await;
    assert_problem(&again, StatusCode::UNPROCESSABLE_ENTITY, "name");
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");

    let long = "k".repeat(256);
    for bad in [long.as_str(), "\"\"", "a\"b"] {
        let r = send(
            &app,
            Method::POST,
            "/api/opportunities",
            &token,
            Some(json!({"name": "X"})),
            &[("Idempotency-Key", bad)],
        )
        .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "Idempotency-Key");
    }
    assert_eq!(app.event_count().await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_retry_while_the_first_is_in_flight_is_a_409(pool: sqlx::PgPool) {
    // No worker runs in tests, so `?wait=3` keeps the first request in flight for three seconds.
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Waiting").await;
    let up = app.upload(&token, &id, "brief.md", b"# Brief\nHalvorsen wants social statics.").await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let uri = format!("/api/opportunities/{id}/intake?wait=3");
    let key = [("Idempotency-Key", "intake-once")];
    let first = send(&app, Method::POST, &uri, &token, Some(json!({})), &key);
    let retry = async {
        // Retry as soon as the first holds the key (not after a guessed delay).
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let held: Option<Option<i32>> =
                sqlx::query_scalar("SELECT status FROM idempotency_keys WHERE key = 'intake-once'")
                    .fetch_optional(&app.pool)
                    .await
                    .unwrap();
            if held == Some(None) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the first request never took the key");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        send(&app, Method::POST, &uri, &token, Some(json!({})), &key).await
    };
    let (first, retry) = tokio::join!(first, retry);
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_problem(&retry, StatusCode::CONFLICT, "Idempotency-Key");

    // Once the first has its answer, a retry gets that answer: still one run requested.
    let later = send(&app, Method::POST, &uri, &token, Some(json!({})), &key).await;
    assert_eq!(later.status, StatusCode::ACCEPTED);
    assert_eq!(later.body["id"], first.body["id"]);
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM agent_runs").fetch_one(&app.pool).await.unwrap();
    assert_eq!(runs, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_etag_is_the_version_and_if_none_match_answers_304(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Tagged").await;
    let uri = format!("/api/opportunities/{id}");
    let r = app.get(&uri, &token).await;
    assert_eq!(etag(&r), format!("\"{}\"", r.body["version"]));

    let same = send(&app, Method::GET, &uri, &token, None, &[("If-None-Match", &etag(&r))]).await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert!(same.bytes.is_empty());

    let changed = app.call(Method::PATCH, &uri, &token, Some(json!({"region": "EMEA"}))).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(etag(&changed), format!("\"{}\"", changed.body["version"]));
    assert_ne!(etag(&changed), etag(&r));
    let stale = send(&app, Method::GET, &uri, &token, None, &[("If-None-Match", &etag(&r))]).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body["region"], "EMEA");

    let past = app.get(&format!("{uri}?as_of_version=1"), &token).await;
    assert_eq!(etag(&past), "\"1\"");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn two_editors_never_silently_overwrite_each_other(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.login("alice@agency.test", "editor").await;
    let bob = app.login("bob@agency.test", "editor").await;
    let id = app.create_opportunity(&alice, "Contested").await;
    let uri = format!("/api/opportunities/{id}");
    let seen = etag(&app.get(&uri, &alice).await);
    let seen_by_bob = etag(&app.get(&uri, &bob).await);
    assert_eq!(seen, seen_by_bob);

    let a = send(&app, Method::PATCH, &uri, &alice, Some(json!({"region": "EMEA"})), &[("If-Match", &seen)])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let events = app.event_count().await;
    let b =
        send(&app, Method::PATCH, &uri, &bob, Some(json!({"region": "APAC"})), &[("If-Match", &seen_by_bob)])
            .await;
    assert_problem(&b, StatusCode::PRECONDITION_FAILED, "If-Match");
    assert_eq!(app.event_count().await, events, "the stale change recorded nothing");
    assert_eq!(app.get(&uri, &bob).await.body["region"], "EMEA");

    // Bob reads again and his change goes through on the version he saw.
    let fresh = etag(&app.get(&uri, &bob).await);
    let b =
        send(&app, Method::PATCH, &uri, &bob, Some(json!({"region": "APAC"})), &[("If-Match", &fresh)]).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.body);
    assert_eq!(b.body["region"], "APAC");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn of_concurrent_writes_on_one_version_exactly_one_wins(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Race").await;
    let uri = format!("/api/opportunities/{id}");
    let seen = etag(&app.get(&uri, &token).await);
    let writes = (0..8).map(|i| {
        let (app, uri, token, seen) = (&app, &uri, &token, &seen);
        async move {
            send(
                app,
                Method::PATCH,
                uri,
                token,
                Some(json!({"description": format!("writer {i}")})),
                &[("If-Match", seen)],
            )
            .await
        }
    });
    let answers = futures::future::join_all(writes).await;
    let won: Vec<_> = answers.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(answers
        .iter()
        .filter(|r| r.status != StatusCode::OK)
        .all(|r| r.status == StatusCode::PRECONDITION_FAILED));
    let details: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'OpportunityDetailsUpdated'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(details, 1);
    assert_eq!(app.get(&uri, &token).await.body["description"], won[0].body["description"]);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn if_match_guards_every_write_and_is_validated(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Guarded").await;
    let complete = format!("/api/opportunities/{id}/stages/1/complete");
    let events = app.event_count().await;
    let stale = send(&app, Method::POST, &complete, &admin, Some(json!({})), &[("If-Match", "\"1\"")]).await;
    assert_problem(&stale, StatusCode::PRECONDITION_FAILED, "If-Match");
    let weak = send(&app, Method::POST, &complete, &admin, Some(json!({})), &[("If-Match", "W/\"2\"")]).await;
    assert_problem(&weak, StatusCode::PRECONDITION_FAILED, "If-Match");
    let garbage = send(&app, Method::POST, &complete, &admin, Some(json!({})), &[("If-Match", "two")]).await;
    assert_problem(&garbage, StatusCode::BAD_REQUEST, "If-Match");
    assert_eq!(app.event_count().await, events);

    let current = etag(&app.get(&format!("/api/opportunities/{id}"), &admin).await);
    let ok = send(&app, Method::POST, &complete, &admin, Some(json!({})), &[("If-Match", &current)]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let any = send(
        &app,
        Method::POST,
        &format!("/api/opportunities/{id}/stages/2/complete"),
        &admin,
        Some(json!({})),
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_wrong_method_is_a_405_whatever_its_retry_headers(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Methods").await;
    let uri = format!("/api/opportunities/{id}");
    let headers = [("Idempotency-Key", "one-key"), ("If-Match", "garbage")];
    for _ in 0..2 {
        let r = send(&app, Method::POST, &uri, &token, Some(json!({"name": "X"})), &headers).await;
        assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, "");
    }
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM idempotency_keys").fetch_one(&app.pool).await.unwrap();
    assert_eq!(kept, 0);
}
