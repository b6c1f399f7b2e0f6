//! Approvals over REST: request (emailed deeplink), validation, reads, decisions and the stage 3/14 gates.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const APPROVER: &str = "approver@agency.test";

async fn request(app: &TestApp, token: &str, id: &str, n: &str, role: &str, approver: &str) -> Response {
    let uri = format!("/api/opportunities/{id}/stages/{n}/approvals");
    app.post(&uri, token, json!({ "role": role, "approver_email": approver })).await
}

/// Requests an approval that must succeed and returns its id.
async fn request_ok(app: &TestApp, token: &str, id: &str, n: u8, role: &str, approver: &str) -> String {
    let r = request(app, token, id, &n.to_string(), role, approver).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn decide(app: &TestApp, token: &str, approval: &str, body: Value) -> Response {
    app.post(&format!("/api/approvals/{approval}/decision"), token, body).await
}

async fn decide_ok(app: &TestApp, token: &str, approval: &str, body: Value) {
    let r = decide(app, token, approval, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn status_of(app: &TestApp, token: &str, approval: &str) -> Value {
    app.get(&format!("/api/approvals/{approval}"), token).await.body["status"].clone()
}

async fn complete(app: &TestApp, token: &str, id: &str, n: u8) -> Response {
    app.post(&format!("/api/opportunities/{id}/stages/{n}/complete"), token, json!({})).await
}

/// The token in the newest deeplink emailed to `to`.
async fn emailed_token(app: &TestApp, to: &str) -> String {
    let link = app.mailbox.last_link_to(to).await;
    link.strip_prefix("http://osop.test/approvals/by-token/").expect("deeplink shape").to_string()
}

async fn outbox_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM email_outbox").fetch_one(&app.pool).await.unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn requesting_an_approval_answers_a_pending_view_and_emails_a_deeplink(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Northwind rebrand").await;
    let before = app.event_count().await;
    let body =
        json!({ "role": "deal_desk", "approver_email": "Approver@Agency.test", "approver_name": "Dana" });
    let r = app.post(&format!("/api/opportunities/{id}/stages/3/approvals"), &editor, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = &r.body;
    assert!(v["id"].is_string());
    assert_eq!(v["opportunity_id"], id.as_str());
    assert_eq!(v["opportunity_name"], "Northwind rebrand");
    assert_eq!(v["stage"], 3);
    assert_eq!(v["role"], "deal_desk");
    assert_eq!(v["approver_email"], APPROVER);
    assert_eq!(v["status"], "pending");
    assert_eq!(v["requested_by"], "editor@agency.test");
    assert!(v["requested_at"].is_string());
    for absent in ["notes", "decided_by", "decided_at", "supersedes"] {
        assert!(v[absent].is_null(), "{absent}: {v}");
    }
    assert_eq!(app.event_count().await, before + 1);

    let sql = "SELECT to_email, subject, body, delivery, deeplink FROM email_outbox";
    let (to, subject, body, delivery, kept): (String, String, String, String, Option<String>) =
        sqlx::query_as(sql).fetch_one(&app.pool).await.unwrap();
    assert_eq!(to, APPROVER);
    assert!(subject.contains("Northwind rebrand"), "{subject}");
    assert!(body.starts_with("Dana,"), "{body}");
    assert_eq!(delivery, "sent");
    assert_eq!(kept, None, "the outbox keeps no clear token once the message is sent");
    let token = emailed_token(&app, APPROVER).await;
    assert!(token.len() >= 32, "{token}");
    assert!(!String::from_utf8_lossy(&r.bytes).contains(&token), "the token must never be returned");
    assert!(v.get("token").is_none() && v.get("token_digest").is_none(), "{v}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn invalid_requests_are_named_and_record_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Validation").await;
    let before = app.event_count().await;
    for n in ["1", "5", "13", "17"] {
        let r = request(&app, &editor, &id, n, "commercial", APPROVER).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "stage");
    }
    for n in ["0", "18", "x"] {
        let r = request(&app, &editor, &id, n, "commercial", APPROVER).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "stage");
    }
    for role in ["ceo", "", "Commercial-ish", "dealdesk"] {
        let r = request(&app, &editor, &id, "3", role, APPROVER).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "role");
    }
    for email in ["", "not-an-email", "a@b", "@agency.test", "two words@agency.test"] {
        let r = request(&app, &editor, &id, "3", "commercial", email).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "approver_email");
    }
    let viewer = app.login("viewer@agency.test", "viewer").await;
    let r = request(&app, &viewer, &id, "3", "commercial", APPROVER).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    let unknown = uuid::Uuid::new_v4();
    let r = request(&app, &editor, &unknown.to_string(), "3", "commercial", APPROVER).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    assert_eq!(app.event_count().await, before);
    assert_eq!(outbox_count(&app).await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_second_pending_request_for_the_same_stage_and_role_is_a_409(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Duplicate").await;
    request_ok(&app, &editor, &id, 3, "commercial", APPROVER).await;
    let before = app.event_count().await;
    let r = request(&app, &editor, &id, "3", "commercial", "someone.else@agency.test").await;
    assert_problem(&r, StatusCode::CONFLICT, "");
    assert_eq!(app.event_count().await, before);
    assert_eq!(outbox_count(&app).await, 1);
    // Another role, or the same role on the other gate, is a separate request.
    request_ok(&app, &editor, &id, 3, "delivery", APPROVER).await;
    request_ok(&app, &editor, &id, 14, "commercial", APPROVER).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_approval_reads_by_id_by_token_and_in_the_lists(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Reads").await;
    let first = request_ok(&app, &editor, &id, 3, "commercial", APPROVER).await;
    let token = emailed_token(&app, APPROVER).await;
    let second = request_ok(&app, &editor, &id, 3, "solution", "other@agency.test").await;
    let third = request_ok(&app, &editor, &id, 14, "regional", APPROVER).await;

    let r = app.get(&format!("/api/approvals/{first}"), &editor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], first.as_str());
    assert_eq!(r.body["role"], "commercial");

    let approver = app.login(APPROVER, "viewer").await;
    let r = app.get(&format!("/api/approvals/by-token/{token}"), &approver).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], first.as_str());
    assert_eq!(r.body["opportunity_name"], "Reads");
    let r = app.get("/api/approvals/by-token/not-the-token", &approver).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let r = app.get(&format!("/api/approvals/by-token/{token}x"), &approver).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");

    let ids = |r: &Response| -> Vec<String> {
        r.body.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect()
    };
    let all = app.get(&format!("/api/opportunities/{id}/approvals"), &editor).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(ids(&all), [first.clone(), second.clone(), third.clone()]);
    let s3 = app.get(&format!("/api/opportunities/{id}/stages/3/approvals"), &editor).await;
    assert_eq!(ids(&s3), [first.clone(), second]);
    let s14 = app.get(&format!("/api/opportunities/{id}/stages/14/approvals"), &editor).await;
    assert_eq!(ids(&s14), [third]);
    let s5 = app.get(&format!("/api/opportunities/{id}/stages/5/approvals"), &editor).await;
    assert_eq!(s5.body, json!([]));

    let r = app.get(&format!("/api/opportunities/{id}/approvals/{first}"), &editor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], first.as_str());
    let unknown = uuid::Uuid::new_v4();
    assert_problem(&app.get(&format!("/api/approvals/{unknown}"), &editor).await, StatusCode::NOT_FOUND, "");
    let r = app.get("/api/approvals/not-a-uuid", &editor).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "id");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn another_opportunitys_approval_is_a_404(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let mine = app.create_opportunity(&editor, "Mine").await;
    let theirs = app.create_opportunity(&editor, "Theirs").await;
    let approval = request_ok(&app, &editor, &theirs, 3, "commercial", APPROVER).await;
    let r = app.get(&format!("/api/opportunities/{mine}/approvals/{approval}"), &editor).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let r = app.get(&format!("/api/opportunities/{theirs}/approvals/{approval}"), &editor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.get(&format!("/api/opportunities/{mine}/approvals"), &editor).await;
    assert_eq!(r.body, json!([]));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_named_approver_approves_or_rejects_with_notes(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Decisions").await;
    let yes = request_ok(&app, &editor, &id, 3, "commercial", APPROVER).await;
    let no = request_ok(&app, &editor, &id, 3, "delivery", APPROVER).await;
    // The approver (an editor: a viewer may not decide) may sign in with another case.
    let approver = app.login("APPROVER@agency.test", "editor").await;
    let before = app.event_count().await;
    let r =
        decide(&app, &approver, &yes, json!({ "decision": "approve", "notes": "  Margins hold.  " })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(r.body["notes"], "Margins hold.");
    assert!(r.body["decided_by"].as_str().unwrap().eq_ignore_ascii_case(APPROVER), "{}", r.body);
    assert!(r.body["decided_at"].is_string());
    let r = decide(&app, &approver, &no, json!({ "decision": "reject", "notes": "Staffing gap" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(r.body["notes"], "Staffing gap");
    assert!(r.body["decided_at"].is_string());
    assert_eq!(app.event_count().await, before + 2);
    let stored = app.get(&format!("/api/approvals/{no}"), &editor).await;
    assert_eq!(stored.body["status"], "rejected");
    assert_eq!(stored.body["notes"], "Staffing gap");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn deciding_twice_is_a_409_and_records_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Twice").await;
    let approval = request_ok(&app, &editor, &id, 14, "regional", APPROVER).await;
    let approver = app.login(APPROVER, "editor").await;
    decide_ok(&app, &approver, &approval, json!({ "decision": "approve" })).await;
    let before = app.event_count().await;
    for decision in ["approve", "reject"] {
        let r = decide(&app, &approver, &approval, json!({ "decision": decision })).await;
        assert_problem(&r, StatusCode::CONFLICT, "");
    }
    let admin = app.admin().await;
    let r = decide(&app, &admin, &approval, json!({ "decision": "reject" })).await;
    assert_problem(&r, StatusCode::CONFLICT, "");
    assert_eq!(app.event_count().await, before);
    assert_eq!(status_of(&app, &editor, &approval).await, "approved");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn only_the_named_approver_or_an_admin_may_decide(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Authority").await;
    let approval = request_ok(&app, &editor, &id, 3, "solution", APPROVER).await;
    let before = app.event_count().await;
    // The requester (here also the owner) may not decide it.
    let r = decide(&app, &editor, &approval, json!({ "decision": "approve" })).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(r.body["type"], "/problems/requester-may-not-decide", "{}", r.body);
    let bystander = app.login("bystander@agency.test", "editor").await;
    let r = decide(&app, &bystander, &approval, json!({ "decision": "reject" })).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(r.body["type"], "/problems/not-the-approver", "{}", r.body);
    assert_eq!(app.event_count().await, before);
    assert_eq!(status_of(&app, &editor, &approval).await, "pending");

    let admin = app.admin().await;
    let r = decide(&app, &admin, &approval, json!({ "decision": "approve", "notes": "Override" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "approved");
    assert_eq!(r.body["decided_by"], "admin@agency.test");
    assert_eq!(r.body["notes"], "Override");
    assert_eq!(app.event_count().await, before + 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn bad_decisions_and_unknown_approvals_are_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Bad decisions").await;
    let approval = request_ok(&app, &editor, &id, 3, "commercial", APPROVER).await;
    let approver = app.login(APPROVER, "viewer").await;
    let before = app.event_count().await;
    for decision in [json!("maybe"), json!(""), json!("approves")] {
        let r = decide(&app, &approver, &approval, json!({ "decision": decision })).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "decision");
    }
    let r = decide(&app, &approver, &approval, json!({ "decision": 1 })).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "decision");
    let unknown = uuid::Uuid::new_v4().to_string();
    let r = decide(&app, &approver, &unknown, json!({ "decision": "approve" })).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let r = decide(&app, &approver, "not-a-uuid", json!({ "decision": "approve" })).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "id");
    assert_eq!(app.event_count().await, before);
    assert_eq!(status_of(&app, &editor, &approval).await, "pending");
}

/// Walks gate `n` through none, pending, rejected and all approved; only the last opens it.
async fn gate_matrix(app: &TestApp, n: u8) {
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, &format!("Gate {n}")).await;
    app.advance_to(&admin, &id, n).await;
    let approver = app.login(APPROVER, "editor").await;
    let refused = |r: &Response, what: &str| {
        assert_problem(r, StatusCode::BAD_REQUEST, "stage");
        assert!(r.body["detail"].as_str().unwrap().contains(what), "{what}: {}", r.body);
    };

    let before = app.event_count().await;
    refused(&complete(app, &admin, &id, n).await, "needs at least one approval");
    assert_eq!(app.event_count().await, before);

    let commercial = request_ok(app, &admin, &id, n, "commercial", APPROVER).await;
    let before = app.event_count().await;
    refused(&complete(app, &admin, &id, n).await, "pending");
    assert_eq!(app.event_count().await, before);

    let delivery = request_ok(app, &admin, &id, n, "delivery", APPROVER).await;
    decide_ok(app, &approver, &delivery, json!({ "decision": "reject" })).await;
    decide_ok(app, &approver, &commercial, json!({ "decision": "approve" })).await;
    let before = app.event_count().await;
    refused(&complete(app, &admin, &id, n).await, "rejected");
    assert_eq!(app.event_count().await, before);

    // A fresh delivery request replaces the rejection, but pends until decided.
    let again = request_ok(app, &admin, &id, n, "delivery", APPROVER).await;
    let before = app.event_count().await;
    refused(&complete(app, &admin, &id, n).await, "pending");
    assert_eq!(app.event_count().await, before);

    decide_ok(app, &approver, &again, json!({ "decision": "approve" })).await;
    let r = complete(app, &admin, &id, n).await;
    assert_eq!(r.status, StatusCode::OK, "completing gate {n}: {}", r.body);
    assert_eq!(r.body["current_stage"], n + 1);
    assert_eq!(r.body["stages"][usize::from(n - 1)]["status"], "completed");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_stage_3_gate_opens_only_when_every_approval_is_approved(pool: sqlx::PgPool) {
    gate_matrix(&TestApp::new(pool).await, 3).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_stage_14_gate_opens_only_when_every_approval_is_approved(pool: sqlx::PgPool) {
    gate_matrix(&TestApp::new(pool).await, 14).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_fresh_request_after_a_rejection_supersedes_it_and_opens_the_gate(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Second chance").await;
    app.advance_to(&admin, &id, 3).await;
    let approver = app.login(APPROVER, "editor").await;
    let old = request_ok(&app, &admin, &id, 3, "commercial", APPROVER).await;
    decide_ok(&app, &approver, &old, json!({ "decision": "reject", "notes": "Price too low" })).await;
    assert_problem(&complete(&app, &admin, &id, 3).await, StatusCode::BAD_REQUEST, "stage");

    let r = request(&app, &admin, &id, "3", "commercial", APPROVER).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["supersedes"], old.as_str());
    assert_eq!(r.body["status"], "pending");
    let new = r.body["id"].as_str().unwrap().to_string();
    let stale = app.get(&format!("/api/approvals/{old}"), &admin).await;
    assert_eq!(stale.body["status"], "superseded");
    assert_eq!(stale.body["notes"], "Price too low");
    // The superseded one can no longer be decided, and the new one blocks a third request.
    let r = decide(&app, &approver, &old, json!({ "decision": "approve" })).await;
    assert_problem(&r, StatusCode::CONFLICT, "");
    assert_problem(&request(&app, &admin, &id, "3", "commercial", APPROVER).await, StatusCode::CONFLICT, "");

    decide_ok(&app, &approver, &new, json!({ "decision": "approve" })).await;
    let list = app.get(&format!("/api/opportunities/{id}/stages/3/approvals"), &admin).await;
    let statuses: Vec<&str> =
        list.body.as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["superseded", "approved"]);
    let r = complete(&app, &admin, &id, 3).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["current_stage"], 4);
}
