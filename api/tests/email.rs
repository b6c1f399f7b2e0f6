//! Approval emails go through Mailgun's HTTP API (here a local fake speaking its wire format);
//! without a key they are logged; a failing Mailgun never undoes the approval.

mod common;

use std::sync::Arc;

use axum::extract::{Form, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use common::*;
use serde_json::json;
use tokio::sync::Mutex;

type Received = Arc<Mutex<Vec<(String, String, Vec<(String, String)>)>>>;

/// A Mailgun stand-in on loopback: records (domain, Authorization, form fields) and answers the
/// n-th message (from 1) with `answer(n)`.
async fn mailgun_answering(
    answer: impl Fn(usize) -> StatusCode + Clone + Send + Sync + 'static,
) -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = Router::new().route(
        "/v3/{domain}/messages",
        axum::routing::post(
            move |Path(domain): Path<String>, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| {
                let (store, answer) = (store.clone(), answer.clone());
                async move {
                    let auth =
                        headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let mut seen = store.lock().await;
                    seen.push((domain, auth, form));
                    let status = answer(seen.len());
                    (status, axum::Json(json!({"id": "<fake@mailgun>", "message": "Queued. Thank you."})))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

/// A Mailgun that answers every message with `status`.
async fn fake_mailgun(status: StatusCode) -> (String, Received) {
    mailgun_answering(move |_| status).await
}

async fn request_approval(app: &TestApp) -> (StatusCode, String) {
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Mailed").await;
    let r = app
        .post(
            &format!("/api/opportunities/{id}/stages/3/approvals"),
            &admin,
            json!({"role": "regional", "approver_email": "rita@agency.test", "approver_name": "Rita"}),
        )
        .await;
    (r.status, r.body["id"].as_str().unwrap_or("").to_string())
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn with_a_key_the_email_is_posted_to_mailgun(pool: sqlx::PgPool) {
    let (base_url, received) = fake_mailgun(StatusCode::OK).await;
    let app = TestApp::with(pool.clone(), |s| {
        s.mailgun.api_key = "key-123".into();
        s.mailgun.domain = "mg.agency.test".into();
        s.mailgun.from = "OSOP <osop@mg.agency.test>".into();
        s.mailgun.base_url = base_url;
    })
    .await;
    let (status, _) = request_approval(&app).await;
    assert_eq!(status, StatusCode::CREATED);
    let received = received.lock().await;
    assert_eq!(received.len(), 1);
    let (domain, auth, form) = &received[0];
    assert_eq!(domain, "mg.agency.test");
    // HTTP basic auth, user "api", password = the key.
    assert_eq!(auth, "Basic YXBpOmtleS0xMjM=");
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
    assert_eq!(field("to"), "rita@agency.test");
    assert_eq!(field("from"), "OSOP <osop@mg.agency.test>");
    assert!(field("subject").contains("Mailed"));
    assert!(field("text").starts_with("Rita,"));
    let deeplink = field("text").lines().last().unwrap().to_string();
    assert!(deeplink.starts_with("http://osop.test/approvals/by-token/"), "{deeplink}");

    let (delivery, kept): (String, Option<String>) =
        sqlx::query_as("SELECT delivery, deeplink FROM email_outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(delivery, "sent");
    assert_eq!(kept, None, "a delivered message keeps no clear token");
    // The emailed token opens the approval.
    let token = deeplink.rsplit('/').next().unwrap();
    let viewer = app.login("rita@agency.test", "viewer").await;
    let by_token = app.get(&format!("/api/approvals/by-token/{token}"), &viewer).await;
    assert_eq!(by_token.status, StatusCode::OK);
    assert_eq!(by_token.body["approver_email"], "rita@agency.test");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_failing_mailgun_is_recorded_and_the_approval_stands(pool: sqlx::PgPool) {
    let (base_url, received) = fake_mailgun(StatusCode::UNAUTHORIZED).await;
    let app = TestApp::with(pool.clone(), |s| {
        s.mailgun.api_key = "wrong".into();
        s.mailgun.domain = "mg.agency.test".into();
        s.mailgun.base_url = base_url;
    })
    .await;
    let (status, approval) = request_approval(&app).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(received.lock().await.len(), 1);
    // A refused message (a wrong key) is not retried: it is given up and keeps no token.
    let (delivery, error, kept): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT delivery, last_error, deeplink FROM email_outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(delivery, "failed");
    assert!(error.unwrap_or_default().contains("401"));
    assert_eq!(kept, None);
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), 0);
    let admin = app.admin().await;
    assert_eq!(app.get(&format!("/api/approvals/{approval}"), &admin).await.body["status"], "pending");
    // The in-app notification still reaches the approver.
    let rita = app.login("rita@agency.test", "viewer").await;
    assert_eq!(app.get("/api/notifications/unread-count", &rita).await.body["count"], 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn without_a_key_the_email_is_logged_not_sent(pool: sqlx::PgPool) {
    let app = TestApp::with(pool.clone(), |s| s.mailgun.api_key = String::new()).await;
    let (status, _) = request_approval(&app).await;
    assert_eq!(status, StatusCode::CREATED);
    let (to, delivery, kept): (String, String, Option<String>) =
        sqlx::query_as("SELECT to_email, delivery, deeplink FROM email_outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((to.as_str(), delivery.as_str()), ("rita@agency.test", "logged"));
    assert_eq!(kept, None, "a message that is never sent never holds the token");
}

/// A Mailgun that answers 503 `failures` times, then 200.
async fn flaky_mailgun(failures: usize) -> (String, Received) {
    mailgun_answering(move |n| if n <= failures { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK })
        .await
}

/// Makes every pending message due now, as if its backoff had passed.
async fn time_passes(pool: &sqlx::PgPool) {
    sqlx::query("UPDATE email_outbox SET next_attempt_at = now() WHERE delivery = 'pending'")
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_outage_is_retried_with_backoff_and_the_token_erased_once_sent(pool: sqlx::PgPool) {
    let (base_url, received) = flaky_mailgun(2).await;
    let app = TestApp::with(pool.clone(), |s| {
        s.mailgun.api_key = "key".into();
        s.mailgun.domain = "mg.agency.test".into();
        s.mailgun.base_url = base_url;
    })
    .await;
    let (status, _) = request_approval(&app).await;
    assert_eq!(status, StatusCode::CREATED);
    // The first attempt failed: the message waits, with its link, for its next attempt.
    let (delivery, attempts, due_in, kept): (String, i32, f64, Option<String>) = sqlx::query_as(
        "SELECT delivery, attempts, extract(epoch FROM next_attempt_at - now())::float8, deeplink FROM email_outbox",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((delivery.as_str(), attempts), ("pending", 1));
    assert!(due_in > 20.0, "backed off, not retried at once: {due_in}");
    assert!(kept.is_some_and(|l| l.contains("/approvals/by-token/")));
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), 0, "not due yet");

    time_passes(&pool).await;
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), 1);
    time_passes(&pool).await;
    assert_eq!(app.state.mailer.deliver_due().await.unwrap(), 1);
    let (delivery, attempts, kept): (String, i32, Option<String>) =
        sqlx::query_as("SELECT delivery, attempts, deeplink FROM email_outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((delivery.as_str(), attempts, kept), ("sent", 3, None));
    let received = received.lock().await;
    assert_eq!(received.len(), 3);
    // Every attempt carried the same link.
    let link = |i: usize| {
        received[i].2.iter().find(|(k, _)| k == "text").unwrap().1.lines().last().unwrap().to_string()
    };
    assert_eq!(link(0), link(2));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_message_is_given_up_after_the_last_attempt(pool: sqlx::PgPool) {
    let (base_url, received) = flaky_mailgun(usize::MAX).await;
    let app = TestApp::with(pool.clone(), |s| {
        s.mailgun.api_key = "key".into();
        s.mailgun.domain = "mg.agency.test".into();
        s.mailgun.base_url = base_url;
    })
    .await;
    request_approval(&app).await;
    for _ in 1..api::mail::MAX_ATTEMPTS {
        time_passes(&pool).await;
        app.state.mailer.deliver_due().await.unwrap();
    }
    let (delivery, attempts, kept): (String, i32, Option<String>) =
        sqlx::query_as("SELECT delivery, attempts, deeplink FROM email_outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((delivery.as_str(), attempts, kept), ("failed", api::mail::MAX_ATTEMPTS, None));
    assert_eq!(received.lock().await.len(), api::mail::MAX_ATTEMPTS as usize);
}

#[test]
fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
    use std::time::Duration;
    let waits: Vec<u64> = (1..=9).map(|n| api::mail::backoff(n).as_secs()).collect();
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(api::mail::backoff(0), Duration::from_secs(30));
}
