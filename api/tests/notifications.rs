//! In-app notifications over REST: who is notified of what, unread counts, marking read, isolation.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const APPROVER: &str = "approver@agency.test";
const OTHER: &str = "other.approver@agency.test";

/// Requests an approval that must succeed and returns its id.
async fn request(app: &TestApp, token: &str, id: &str, n: u8, role: &str, approver: &str) -> String {
    let r = app
        .post(
            &format!("/api/opportunities/{id}/stages/{n}/approvals"),
            token,
            json!({ "role": role, "approver_email": approver }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn decide(app: &TestApp, token: &str, approval: &str, decision: &str, notes: Option<&str>) {
    let body = json!({ "decision": decision, "notes": notes });
    let r = app.post(&format!("/api/approvals/{approval}/decision"), token, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// The signed-in user's notifications (with an optional query string).
async fn list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/notifications{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

async fn unread(app: &TestApp, token: &str) -> i64 {
    let r = app.get("/api/notifications/unread-count", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["count"].as_i64().unwrap()
}

/// An opportunity owned by the editor with three approvals requested of APPROVER.
async fn three_for_the_approver(app: &TestApp) -> (String, Vec<String>) {
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Triple").await;
    let mut approvals = Vec::new();
    for role in ["commercial", "delivery", "solution"] {
        approvals.push(request(app, &editor, &id, 3, role, APPROVER).await);
    }
    (id, approvals)
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_approver_is_notified_of_a_request(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Northwind rebrand").await;
    let approval = request(&app, &editor, &id, 14, "deal_desk", APPROVER).await;
    let approver = app.login(APPROVER, "viewer").await;
    let notes = list(&app, &approver, "").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    let n = &notes[0];
    assert!(n["id"].is_string());
    assert_eq!(n["opportunity_id"], id.as_str());
    assert_eq!(n["kind"], "approval_requested");
    assert_eq!(n["link"], format!("/approvals/{approval}"));
    assert!(n["title"].as_str().unwrap().contains("Northwind rebrand"), "{n}");
    assert!(n["body"].as_str().unwrap().contains("deal_desk"), "{n}");
    assert!(n["created_at"].is_string());
    assert_eq!(n["is_read"], false);
    assert!(n["read_at"].is_null());
    assert_eq!(unread(&app, &approver).await, 1);
    // The requester (and owner) is not told of their own request.
    assert!(list(&app, &editor, "").await.is_empty());
    assert_eq!(unread(&app, &editor).await, 0);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_owner_is_notified_of_each_decision_with_the_notes(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Decided").await;
    let yes = request(&app, &editor, &id, 3, "commercial", APPROVER).await;
    let no = request(&app, &editor, &id, 3, "delivery", APPROVER).await;
    let approver = app.login(APPROVER, "editor").await;
    decide(&app, &approver, &yes, "approve", Some("Ship it")).await;
    decide(&app, &approver, &no, "reject", Some("Margin too thin")).await;

    let notes = list(&app, &editor, "").await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().all(|n| n["kind"] == "approval_decided" && n["opportunity_id"] == id.as_str()));
    // Newest first: the rejection, then the approval.
    assert_eq!(notes[0]["link"], format!("/approvals/{no}"));
    assert!(notes[0]["body"].as_str().unwrap().contains("Margin too thin"), "{}", notes[0]);
    assert!(notes[0]["title"].as_str().unwrap().contains("rejected"), "{}", notes[0]);
    assert_eq!(notes[1]["link"], format!("/approvals/{yes}"));
    assert!(notes[1]["body"].as_str().unwrap().contains("Ship it"), "{}", notes[1]);
    assert!(notes[1]["title"].as_str().unwrap().contains("approved"), "{}", notes[1]);
    assert!(notes[0]["created_at"].as_str().unwrap() >= notes[1]["created_at"].as_str().unwrap());
    assert_eq!(unread(&app, &editor).await, 2);
    // The approver only has the two requests.
    let theirs = list(&app, &approver, "").await;
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|n| n["kind"] == "approval_requested"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_named_owner_rather_than_the_creator_hears_of_decisions(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let r = app
        .post(
            "/api/opportunities",
            &editor,
            json!({ "name": "Owned", "client_name": "Halvorsen", "owner_email": "owner@agency.test" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let approval = request(&app, &editor, &id, 3, "regional", APPROVER).await;
    let admin = app.admin().await;
    decide(&app, &admin, &approval, "approve", None).await;
    let owner = app.login("owner@agency.test", "viewer").await;
    let notes = list(&app, &owner, "").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["kind"], "approval_decided");
    assert!(list(&app, &editor, "").await.is_empty());
    assert!(list(&app, &admin, "").await.is_empty());
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn unread_count_and_the_unread_only_filter_follow_reads(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    three_for_the_approver(&app).await;
    let approver = app.login(APPROVER, "editor").await;
    assert_eq!(unread(&app, &approver).await, 3);
    let all = list(&app, &approver, "").await;
    let r = app
        .post(&format!("/api/notifications/{}/read", all[1]["id"].as_str().unwrap()), &approver, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(unread(&app, &approver).await, 2);
    let fresh = list(&app, &approver, "?unread_only=true").await;
    assert_eq!(fresh.len(), 2);
    assert!(fresh.iter().all(|n| n["is_read"] == false && n["id"] != all[1]["id"]));
    assert_eq!(list(&app, &approver, "?unread_only=false").await.len(), 3);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn marking_one_read_answers_the_remaining_unread_count(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    three_for_the_approver(&app).await;
    let approver = app.login(APPROVER, "viewer").await;
    let all = list(&app, &approver, "").await;
    let first = all[0]["id"].as_str().unwrap();
    let r = app.post(&format!("/api/notifications/{first}/read"), &approver, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({ "count": 2 }));
    let after = list(&app, &approver, "").await;
    let read = after.iter().find(|n| n["id"] == first).unwrap();
    assert_eq!(read["is_read"], true);
    assert!(read["read_at"].is_string(), "{read}");
    // Marking it again changes nothing.
    let r = app.post(&format!("/api/notifications/{first}/read"), &approver, json!({})).await;
    assert_eq!(r.body, json!({ "count": 2 }));
    let second = all[1]["id"].as_str().unwrap();
    let r = app.post(&format!("/api/notifications/{second}/read"), &approver, json!({})).await;
    assert_eq!(r.body, json!({ "count": 1 }));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn read_all_marks_every_unread_one(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    three_for_the_approver(&app).await;
    let approver = app.login(APPROVER, "viewer").await;
    let first = list(&app, &approver, "").await[0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/notifications/{first}/read"), &approver, json!({})).await;
    let r = app.post("/api/notifications/read-all", &approver, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({ "marked": 2 }));
    assert_eq!(unread(&app, &approver).await, 0);
    assert!(list(&app, &approver, "?unread_only=true").await.is_empty());
    let all = list(&app, &approver, "").await;
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|n| n["is_read"] == true && n["read_at"].is_string()));
    let r = app.post("/api/notifications/read-all", &approver, json!({})).await;
    assert_eq!(r.body, json!({ "marked": 0 }));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn each_user_sees_and_marks_only_their_own(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let id = app.create_opportunity(&editor, "Shared").await;
    let mine = request(&app, &editor, &id, 3, "commercial", APPROVER).await;
    let theirs = request(&app, &editor, &id, 3, "delivery", OTHER).await;
    request(&app, &editor, &id, 14, "delivery", OTHER).await;
    let approver = app.login(APPROVER, "viewer").await;
    let other = app.login(OTHER, "viewer").await;

    let my_notes = list(&app, &approver, "").await;
    assert_eq!(my_notes.len(), 1);
    assert_eq!(my_notes[0]["link"], format!("/approvals/{mine}"));
    let their_notes = list(&app, &other, "").await;
    assert_eq!(their_notes.len(), 2);
    assert_eq!(their_notes[1]["link"], format!("/approvals/{theirs}"));
    assert_eq!(unread(&app, &approver).await, 1);
    assert_eq!(unread(&app, &other).await, 2);

    let r = app.post("/api/notifications/read-all", &approver, json!({})).await;
    assert_eq!(r.body, json!({ "marked": 1 }));
    assert_eq!(unread(&app, &approver).await, 0);
    assert_eq!(unread(&app, &other).await, 2);
    assert!(list(&app, &other, "").await.iter().all(|n| n["is_read"] == false));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn marking_someone_elses_notification_is_a_404(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    three_for_the_approver(&app).await;
    let approver = app.login(APPROVER, "viewer").await;
    let target = list(&app, &approver, "").await[0]["id"].as_str().unwrap().to_string();
    let (admin, editor) = (app.admin().await, app.editor().await);
    for token in [&admin, &editor] {
        let r = app.post(&format!("/api/notifications/{target}/read"), token, json!({})).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "");
    }
    assert_eq!(unread(&app, &approver).await, 3);
    let unknown = uuid::Uuid::new_v4();
    let r = app.post(&format!("/api/notifications/{unknown}/read"), &approver, json!({})).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let r = app.post("/api/notifications/not-a-uuid/read", &approver, json!({})).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "id");
    assert_eq!(unread(&app, &approver).await, 3);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_limit_must_be_between_1_and_200(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    three_for_the_approver(&app).await;
    let approver = app.login(APPROVER, "viewer").await;
    for bad in ["0", "201", "-1", "ten", "1.5"] {
        let r = app.get(&format!("/api/notifications?limit={bad}"), &approver).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "limit");
    }
    let all = list(&app, &approver, "").await;
    let one = list(&app, &approver, "?limit=1").await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["id"], all[0]["id"], "limit keeps the newest");
    assert_eq!(list(&app, &approver, "?limit=2").await.len(), 2);
    assert_eq!(list(&app, &approver, "?limit=200").await.len(), 3);
    assert_eq!(list(&app, &approver, "?limit=1&unread_only=true").await.len(), 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn notifications_need_a_signed_in_user(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    assert_problem(&app.get("/api/notifications", "").await, StatusCode::UNAUTHORIZED, "");
    assert_problem(&app.get("/api/notifications/unread-count", "").await, StatusCode::UNAUTHORIZED, "");
    assert_problem(
        &app.post("/api/notifications/read-all", "", json!({})).await,
        StatusCode::UNAUTHORIZED,
        "",
    );
}
