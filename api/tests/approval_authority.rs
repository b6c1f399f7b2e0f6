//! Four eyes over REST: nobody approves their own gate. The requester and the opportunity's owner
//! may neither be named approver (422 naming `approver_email`) nor decide (403, even as admins);
//! a named approver decides only as an editor or admin. Each refusal is a problem that says why
//! and records nothing.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

const APPROVER: &str = "approver@agency.test";
const LEAD: &str = "lead@agency.test";

async fn request(app: &TestApp, token: &str, id: &str, approver: &str) -> Response {
    let uri = format!("/api/opportunities/{id}/stages/3/approvals");
    app.post(&uri, token, json!({ "role": "commercial", "approver_email": approver })).await
}

async fn decide(app: &TestApp, token: &str, approval: &str) -> Response {
    app.post(&format!("/api/approvals/{approval}/decision"), token, json!({ "decision": "approve" })).await
}

/// An opportunity created by `token`'s user with `owner` as its owner.
async fn owned_by(app: &TestApp, token: &str, owner: &str) -> String {
    let body = json!({ "name": "Four eyes", "client_name": "Halvorsen", "owner_email": owner });
    let r = app.post("/api/opportunities", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

fn assert_refusal(r: &Response, status: StatusCode, field: &str, kind: &str, says: &str) {
    assert_problem(r, status, field);
    assert_eq!(r.body["type"], format!("/problems/{kind}"), "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains(says), "{says}: {}", r.body);
}

async fn outbox_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM email_outbox").fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn naming_yourself_or_the_owner_as_approver_is_a_422_on_approver_email(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let admin = app.admin().await;
    let id = owned_by(&app, &editor, LEAD).await;
    let before = app.event_count().await;
    for (token, me) in [(&editor, "Editor@Agency.test"), (&admin, "admin@agency.test")] {
        let r = request(&app, token, &id, me).await;
        assert_refusal(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "approver_email",
            "approver-is-requester",
            "yourself",
        );
    }
    let r = request(&app, &editor, &id, "LEAD@agency.test").await;
    assert_refusal(&r, StatusCode::UNPROCESSABLE_ENTITY, "approver_email", "approver-is-owner", LEAD);
    assert_eq!(app.event_count().await, before);
    assert_eq!(outbox_count(&app).await, 0, "no approval, no email");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_requester_may_not_decide_even_as_an_admin(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let admin = app.admin().await;
    let id = owned_by(&app, &editor, LEAD).await;
    let approval = request(&app, &admin, &id, APPROVER).await.body["id"].as_str().unwrap().to_string();
    let before = app.event_count().await;
    let r = decide(&app, &admin, &approval).await;
    let says = "you requested this approval; another person must decide it";
    assert_refusal(&r, StatusCode::FORBIDDEN, "", "requester-may-not-decide", says);
    assert_eq!(app.event_count().await, before);
    let approver = app.login(APPROVER, "editor").await;
    assert_eq!(decide(&app, &approver, &approval).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_owner_may_not_decide_even_as_an_admin(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let admin = app.admin().await;
    let id = owned_by(&app, &editor, "admin@agency.test").await;
    let approval = request(&app, &editor, &id, APPROVER).await.body["id"].as_str().unwrap().to_string();
    let before = app.event_count().await;
    let r = decide(&app, &admin, &approval).await;
    assert_refusal(&r, StatusCode::FORBIDDEN, "", "owner-may-not-decide", "you own this opportunity");
    assert_eq!(app.event_count().await, before);
    // Another admin, neither requester nor owner, decides on the approver's behalf.
    let other_admin = app.login("second.admin@agency.test", "admin").await;
    let r = decide(&app, &other_admin, &approval).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["decided_by"], "second.admin@agency.test");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_viewer_named_as_approver_decides_only_once_promoted(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Promotion").await;
    let approval = request(&app, &editor, &id, APPROVER).await.body["id"].as_str().unwrap().to_string();
    let viewer = app.login(APPROVER, "viewer").await;
    let before = app.event_count().await;
    let r = decide(&app, &viewer, &approval).await;
    assert_refusal(&r, StatusCode::FORBIDDEN, "", "approver-role-too-low", "only editors and admins");
    assert_eq!(app.event_count().await, before);

    let admin = app.admin().await;
    let me = app.get("/api/users/me", &viewer).await;
    let user = me.body["id"].as_i64().unwrap();
    let r = app
        .call(
            axum::http::Method::PUT,
            &format!("/api/users/{user}/role"),
            &admin,
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The same token: the new role applies to its next request.
    let r = decide(&app, &viewer, &approval).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_dev_identity_alone_cannot_pass_a_gate_and_is_told_why(pool: sqlx::PgPool) {
    // DEV_AUTH_BYPASS: every request is the same person, who owns, requests and would decide.
    let dev = api::config::DevIdentity {
        email: "dev@agency.test".into(),
        name: "Dev".into(),
        role: api::auth::Role::Admin,
    };
    let app = TestApp::with(pool, |s| s.dev_identity = Some(dev)).await;
    let id = app.create_opportunity("", "Solo").await;
    let r = request(&app, "", &id, "dev@agency.test").await;
    assert_refusal(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "approver_email",
        "approver-is-requester",
        "yourself",
    );
    let approval = request(&app, "", &id, APPROVER).await.body["id"].as_str().unwrap().to_string();
    let before = app.event_count().await;
    let r = decide(&app, "", &approval).await;
    let says = "you requested this approval; another person must decide it";
    assert_refusal(&r, StatusCode::FORBIDDEN, "", "requester-may-not-decide", says);
    assert_eq!(app.event_count().await, before);
}
