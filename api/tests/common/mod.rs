//! The test harness: the real router on a per-test database, real NATS, and a JWKS server of our
//! own so every request goes through the production Entra ID token path.
#![allow(dead_code)]

pub mod documents;
pub mod mailbox;
pub mod workers;

use std::sync::Arc;
use std::time::Duration;

use api::config::{AzureSettings, MailgunSettings, Settings};
use api::startup::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::sync::RwLock;
use tower::ServiceExt;

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "osop-test-client";
/// Who approves the gates `advance_to` passes (an editor; never the requester or the owner).
pub const GATE_APPROVER: &str = "gate.approver@agency.test";

pub fn key_pem(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}.pem", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

pub fn jwk(name: &str) -> Value {
    let text =
        std::fs::read_to_string(format!("{}/tests/fixtures/{name}.jwk.json", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

/// Signs a token with the given key and claims.
pub fn sign(key: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.to_string());
    encode(&header, claims, &EncodingKey::from_rsa_pem(&key_pem(key)).unwrap()).unwrap()
}

/// The directory object id (`oid`) of the test person with this email: one per email, stable.
pub fn oid_of(email: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, email.to_lowercase().as_bytes()).to_string()
}

pub fn claims_for(email: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "aud": CLIENT_ID, "iss": issuer(), "iat": now, "nbf": now - 5, "exp": now + 3600,
        "tid": TENANT, "oid": oid_of(email),
        "preferred_username": email, "name": email.split('@').next().unwrap(),
    })
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Response {
    /// The problem+json field the API named.
    pub fn field(&self) -> &str {
        self.body["field"].as_str().unwrap_or("")
    }
    pub fn is_problem(&self) -> bool {
        self.headers.get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json")
    }
}

pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub state: AppState,
    /// What the JWKS server publishes; tests swap keys here to rotate them.
    pub jwks: Arc<RwLock<Value>>,
    /// Where the app's email goes (unless a test points Mailgun elsewhere).
    pub mailbox: mailbox::Mailbox,
}

pub fn settings(jwks_url: String) -> Settings {
    Settings {
        database_url: String::new(),
        database_acquire_timeout: Duration::from_secs(5),
        nats_url: std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
        // Each test its own stream and subjects, so tests run in parallel.
        nats_stream: format!("OSOP_TEST_{}", uuid::Uuid::new_v4().simple()),
        nats_subject_prefix: format!("osoptest{}", uuid::Uuid::new_v4().simple()),
        bind: "127.0.0.1:0".into(),
        dev_identity: None,
        azure: AzureSettings {
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            jwks_url,
            issuer: issuer(),
            jwks_min_refetch: Duration::ZERO,
        },
        app_public_url: "http://osop.test".into(),
        mailgun: MailgunSettings::default(),
        max_upload_bytes: 2 * 1024 * 1024,
        snapshot_every: 5,
        projector_interval: Duration::from_millis(50),
        llm_provider: "offline".into(),
        workers_in_process: 0,
        agent_max_deliver: 3,
        agent_ack_wait: Duration::from_secs(30),
        log_format: api::telemetry::LogFormat::Text,
        metrics_token: None,
        // 0: agent endpoints answer 202 at once, as no worker runs unless a test starts one.
        agent_sync_wait: Duration::ZERO,
        cors_allowed_origins: Vec::new(),
        read_model_lag_limit: Duration::from_secs(30),
        default_user_role: api::auth::Role::Viewer,
        // Tests share one PostgreSQL server, where any long transaction holds every database's
        // log reader back: a generous wait keeps a busy run from answering 202 where it means 201.
        read_model_wait: Duration::from_secs(60),
        // High enough that no test meets them unless it sets its own.
        agent_runs_per_minute_per_user: 1_000,
        agent_runs_per_minute_per_opportunity: 1_000,
        agent_spend_cap_per_opportunity: rust_decimal::Decimal::from(1_000),
        agent_spend_cap_per_day: rust_decimal::Decimal::from(10_000),
        connections: api::connections::ConnectionLimits::default(),
    }
}

async fn serve_jwks(jwks: Arc<RwLock<Value>>) -> String {
    let app = Router::new().route(
        "/keys",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks.read().await.clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/keys")
}

impl TestApp {
    pub async fn new(pool: PgPool) -> Self {
        Self::with(pool, |_| {}).await
    }

    pub async fn with(pool: PgPool, tweak: impl FnOnce(&mut Settings)) -> Self {
        let jwks = Arc::new(RwLock::new(json!({ "keys": [jwk("key1")] })));
        let mut s = settings(serve_jwks(jwks.clone()).await);
        let (mailbox, mail_url) = mailbox::Mailbox::serve().await;
        s.mailgun = MailgunSettings {
            api_key: "test-key".into(),
            domain: "mg.osop.test".into(),
            from: "OSOP <osop@mg.osop.test>".into(),
            base_url: mail_url,
        };
        tweak(&mut s);
        // As in production, where `migrate` seeds the default catalog after the migrations.
        api::catalog::seed_default(&pool).await.unwrap();
        let nats = api::startup::connect_nats(&s.nats_url).await;
        let state = AppState::new(s, pool.clone(), nats);
        Self { router: state.router(), pool, state, jwks, mailbox }
    }

    /// A token for `email`, whose user is created with `role` first.
    pub async fn login(&self, email: &str, role: &str) -> String {
        sqlx::query(
            "INSERT INTO app_users (email, name, role) VALUES ($1, $1, $2)
             ON CONFLICT (lower(email)) DO UPDATE SET role = EXCLUDED.role",
        )
        .bind(email)
        .bind(role)
        .execute(&self.pool)
        .await
        .unwrap();
        sign("key1", &claims_for(email))
    }

    pub async fn admin(&self) -> String {
        self.login("admin@agency.test", "admin").await
    }

    pub async fn editor(&self) -> String {
        self.login("editor@agency.test", "editor").await
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response { status, headers, body, bytes }
    }

    pub async fn call(&self, method: Method, uri: &str, token: &str, body: Option<Value>) -> Response {
        let mut builder = Request::builder().method(method).uri(uri);
        if !token.is_empty() {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(b) => {
                builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string()))
            }
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> Response {
        self.call(Method::GET, uri, token, None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Response {
        self.call(Method::POST, uri, token, Some(body)).await
    }

    pub async fn upload(&self, token: &str, opportunity: &str, filename: &str, bytes: &[u8]) -> Response {
        let (content_type, body) = multipart_file(filename, bytes);
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/opportunities/{opportunity}/files"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// Creates an opportunity and returns its id.
    pub async fn create_opportunity(&self, token: &str, name: &str) -> String {
        let r =
            self.post("/api/opportunities", token, json!({ "name": name, "client_name": "Halvorsen" })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Completes stages 1..=n in order as the given admin, who requests each gate's approval of
    /// `GATE_APPROVER` (an editor, neither requester nor owner), who approves it.
    pub async fn advance_to(&self, admin: &str, id: &str, stage: u8) {
        for n in 1..stage {
            if n == 3 || n == 14 {
                let a = self
                    .post(
                        &format!("/api/opportunities/{id}/stages/{n}/approvals"),
                        admin,
                        json!({ "role": "commercial", "approver_email": GATE_APPROVER }),
                    )
                    .await;
                assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
                let approval = a.body["id"].as_str().unwrap();
                let approver = self.login(GATE_APPROVER, "editor").await;
                let d = self
                    .post(
                        &format!("/api/approvals/{approval}/decision"),
                        &approver,
                        json!({ "decision": "approve" }),
                    )
                    .await;
                assert_eq!(d.status, StatusCode::OK, "{}", d.body);
            }
            let r =
                self.post(&format!("/api/opportunities/{id}/stages/{n}/complete"), admin, json!({})).await;
            assert_eq!(r.status, StatusCode::OK, "completing {n}: {}", r.body);
        }
    }

    /// Waits until every event now in the log is in the running read models. A single catch-up
    /// is not enough on a busy server: a long transaction in any database (another test's) keeps
    /// the newest events from being positioned until it ends.
    pub async fn settle(&self) {
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT max(global_seq) FROM events").fetch_one(&self.pool).await.unwrap();
        let Some(newest) = newest else { return };
        let done =
            self.state.projector.wait_for(projections::GlobalSeq(newest), Duration::from_secs(60)).await;
        assert!(done.unwrap(), "the read models did not take in the log within a minute");
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&self.pool).await.unwrap()
    }
}

/// A multipart/form-data body with `bytes` as the part `file` named `filename`, and its content type.
pub fn multipart_file(filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "osop-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Asserts a problem+json answer with this status naming this field.
pub fn assert_problem(r: &Response, status: StatusCode, field: &str) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert!(r.is_problem(), "expected problem+json, got {:?}", r.headers.get(header::CONTENT_TYPE));
    assert_eq!(r.body["status"], status.as_u16(), "{}", r.body);
    assert!(r.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.body);
    if !field.is_empty() {
        assert_eq!(r.field(), field, "{}", r.body);
    }
}
