//! Authentication and authorisation: Entra ID bearer tokens, the attacks on them, roles, dev bypass.

mod common;

use api::config::DevIdentity;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const ME: &str = "/api/users/me";

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM app_users").fetch_one(&app.pool).await.unwrap()
}

/// GET /api/users/me with this exact Authorization header (or none).
async fn me_with_header(app: &TestApp, authorization: Option<&str>) -> Response {
    let mut builder = Request::builder().method(Method::GET).uri(ME);
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    app.send(builder.body(Body::empty()).unwrap()).await
}

/// Asserts the token is refused with a 401 problem and that nobody was signed up by it.
async fn assert_refused(app: &TestApp, token: &str) -> Response {
    let before = user_count(app).await;
    let r = app.get(ME, token).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "");
    assert_eq!(user_count(app).await, before, "a refused request created a user");
    r
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_valid_token_signs_a_first_time_user_up_with_the_default_role(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(user_count(&app).await, 0);
    let token = sign("key1", &claims_for("newcomer@agency.test"));
    let r = app.get(ME, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["id"].is_i64(), "{}", r.body);
    assert_eq!(r.body["email"], "newcomer@agency.test");
    assert_eq!(r.body["name"], "newcomer");
    // DEFAULT_USER_ROLE, viewer unless configured (see identity.rs).
    assert_eq!(r.body["role"], "viewer");
    assert!(r.body["created_at"].as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()));
    let role: String = sqlx::query_scalar("SELECT role FROM app_users WHERE email = $1")
        .bind("newcomer@agency.test")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "viewer");

    let again = app.get(ME, &token).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], r.body["id"]);
    assert_eq!(user_count(&app).await, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_expired_token_is_refused_and_says_so(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let mut claims = claims_for("late@agency.test");
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 7200);
    claims["nbf"] = json!(now - 7200);
    claims["exp"] = json!(now - 120);
    let r = assert_refused(&app, &sign("key1", &claims)).await;
    assert!(r.body["detail"].as_str().unwrap().contains("expired"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_token_not_valid_yet_is_refused_and_says_so(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let mut claims = claims_for("early@agency.test");
    let now = chrono::Utc::now().timestamp();
    claims["nbf"] = json!(now + 3600);
    claims["exp"] = json!(now + 7200);
    let r = assert_refused(&app, &sign("key1", &claims)).await;
    assert!(r.body["detail"].as_str().unwrap().contains("not valid yet"), "{}", r.body);
    // Within the 30 s leeway (as for exp), a clock a little behind the issuer's is tolerated.
    claims["nbf"] = json!(now + 10);
    let r = app.get(ME, &sign("key1", &claims)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_token_for_another_audience_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let mut claims = claims_for("elsewhere@agency.test");
    claims["aud"] = json!("some-other-application");
    let r = assert_refused(&app, &sign("key1", &claims)).await;
    assert!(r.body["detail"].as_str().unwrap().contains("audience"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_token_from_another_tenant_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let mut claims = claims_for("stranger@other.test");
    claims["iss"] = json!("https://login.microsoftonline.com/99999999-8888-7777-6666-555555555555/v2.0");
    let r = assert_refused(&app, &sign("key1", &claims)).await;
    assert!(r.body["detail"].as_str().unwrap().contains("issuer"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_unknown_key_is_refused_until_the_jwks_publishes_it(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    // Warm the cache with key1 so the later success really comes from a refetch.
    assert_eq!(app.get(ME, &app.editor().await).await.status, StatusCode::OK);
    let token = sign("key2", &claims_for("rotated@agency.test"));
    assert_refused(&app, &token).await;

    *app.jwks.write().await = json!({ "keys": [jwk("key1"), jwk("key2")] });
    let r = app.get(ME, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["email"], "rotated@agency.test");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_unsigned_alg_none_token_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let header = json!({ "alg": "none", "typ": "JWT", "kid": "key1" });
    let token = format!("{}.{}.", b64(&header), b64(&claims_for("admin@agency.test")));
    assert_refused(&app, &token).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_tampered_payload_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let _ = app.admin().await;
    let token = app.login("viewer@agency.test", "viewer").await;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let forged = format!("{}.{}.{}", parts[0], b64(&claims_for("admin@agency.test")), parts[2]);
    let r = assert_refused(&app, &forged).await;
    assert!(r.body["detail"].as_str().unwrap().contains("signature"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_hs256_token_keyed_with_the_public_key_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let public = jwk("key1");
    let modulus = URL_SAFE_NO_PAD.decode(public["n"].as_str().unwrap()).unwrap();
    let jwk_text =
        std::fs::read(format!("{}/tests/fixtures/key1.jwk.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for secret in [jwk_text, modulus, public.to_string().into_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("key1".into());
        let claims = claims_for("admin@agency.test");
        let token = encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert_refused(&app, &token).await;
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_missing_or_malformed_authorization_header_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    for value in [None, Some("Basic xyz"), Some("Bearer abc"), Some("Bearer "), Some("abc")] {
        let r = me_with_header(&app, value).await;
        assert_problem(&r, StatusCode::UNAUTHORIZED, "");
    }
    assert_eq!(user_count(&app).await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_oversized_bearer_token_is_a_431_problem_over_a_real_connection(pool: sqlx::PgPool) {
    // Over TCP, so hyper parses the head as in production (it cuts off heads beyond its read
    // buffer with a bare 431 of its own; below that, every oversized header is this problem).
    let app = TestApp::new(pool).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::new();
    for size in [16 * 1024 + 1, 48 * 1024] {
        let token = "a".repeat(size);
        let r = http.get(format!("{base}{ME}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{size} bytes");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/problem+json", "{size} bytes");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], "Authorization", "{body}");
        assert_eq!(body["type"], "/problems/header-too-large", "{body}");
        assert!(body["detail"].as_str().unwrap().contains("16384"), "{body}");
    }
    // A token of a normal size still gets as far as its verification.
    let r = http.get(format!("{base}{ME}")).bearer_auth("a".repeat(8 * 1024)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(user_count(&app).await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_viewer_reads_but_cannot_write(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let viewer = app.login("viewer@agency.test", "viewer").await;
    let r = app.get("/api/opportunities", &viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = app.event_count().await;
    let r = app.post("/api/opportunities", &viewer, json!({ "name": "x" })).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(app.event_count().await, before);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_editor_creates_but_cannot_change_roles(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let r = app.post("/api/opportunities", &editor, json!({ "name": "x" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let me = app.get(ME, &editor).await;
    let uri = format!("/api/users/{}/role", me.body["id"]);
    let r = app.call(Method::PUT, &uri, &editor, Some(json!({ "role": "admin" }))).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(app.get(ME, &editor).await.body["role"], "editor");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_admin_changes_a_role_and_it_takes_effect_at_once(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let viewer = app.login("viewer@agency.test", "viewer").await;
    // Signed in (and cached) as a viewer first.
    let me = app.get(ME, &viewer).await;
    assert_eq!(me.body["role"], "viewer");
    let uri = format!("/api/users/{}/role", me.body["id"]);
    let r = app.call(Method::PUT, &uri, &admin, Some(json!({ "role": "editor" }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["role"], "editor");
    assert_eq!(r.body["id"], me.body["id"]);
    assert_eq!(r.body["email"], "viewer@agency.test");

    let after = app.get(ME, &viewer).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(after.body["role"], "editor");
    let r = app.post("/api/opportunities", &viewer, json!({ "name": "promoted" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn role_changes_are_validated(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let viewer = app.login("viewer@agency.test", "viewer").await;
    let id = app.get(ME, &viewer).await.body["id"].clone();
    let cases = [
        (format!("/api/users/{id}/role"), "emperor", StatusCode::UNPROCESSABLE_ENTITY, "role"),
        ("/api/users/987654321/role".to_string(), "editor", StatusCode::NOT_FOUND, ""),
        ("/api/users/someone/role".to_string(), "editor", StatusCode::UNPROCESSABLE_ENTITY, "id"),
    ];
    for (uri, role, status, field) in cases {
        let r = app.call(Method::PUT, &uri, &admin, Some(json!({ "role": role }))).await;
        assert_problem(&r, status, field);
    }
    assert_eq!(app.get(ME, &viewer).await.body["role"], "viewer");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn dev_bypass_acts_as_the_configured_identity_without_a_token(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| {
        s.dev_identity = Some(DevIdentity {
            email: "dev@agency.test".into(),
            name: "Dev Admin".into(),
            role: api::auth::Role::Admin,
        });
    })
    .await;
    let r = me_with_header(&app, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["email"], "dev@agency.test");
    assert_eq!(r.body["name"], "Dev Admin");
    assert_eq!(r.body["role"], "admin");
    let row: (i64, String, String) =
        sqlx::query_as("SELECT id, name, role FROM app_users WHERE lower(email) = 'dev@agency.test'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(row, (r.body["id"].as_i64().unwrap(), "Dev Admin".to_string(), "admin".to_string()));
    assert_eq!(user_count(&app).await, 1);
    let again = me_with_header(&app, None).await;
    assert_eq!(again.body["id"], r.body["id"]);
    assert_eq!(user_count(&app).await, 1);
}
