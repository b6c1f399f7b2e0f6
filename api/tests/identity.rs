//! Who a token is: people are keyed on their directory ids (`tid` + `oid`), email is an attribute;
//! the token's app roles decide the role when present; a new user's role is `DEFAULT_USER_ROLE`;
//! roles are read on every request, so a change applies at once in every process.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

const ME: &str = "/api/users/me";

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM app_users").fetch_one(&app.pool).await.unwrap()
}

/// The directory ids stored for the user with this email.
async fn ids_of(app: &TestApp, email: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT tenant_id, object_id FROM app_users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A token for `email` whose claims are changed by `edit`.
fn token_with(email: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = claims_for(email);
    edit(&mut claims);
    sign("key1", &claims)
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_role_change_takes_effect_at_once_in_every_process(pool: sqlx::PgPool) {
    // Two "processes": two AppStates, each with its own users service, on one database.
    let first = TestApp::new(pool.clone()).await;
    let second = TestApp::new(pool).await;
    let admin = first.admin().await;
    let editor = first.editor().await;
    let write = |app: &'static str| json!({ "name": app, "client_name": "Halvorsen" });
    for _ in 0..3 {
        let r = second.post("/api/opportunities", &editor, write("before")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let id = second.get(ME, &editor).await.body["id"].clone();

    let r = first
        .call(Method::PUT, &format!("/api/users/{id}/role"), &admin, Some(json!({"role": "viewer"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = second.event_count().await;
    let r = second.post("/api/opportunities", &editor, write("after")).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(second.event_count().await, before, "the demoted editor's write was refused");

    let r = first
        .call(Method::PUT, &format!("/api/users/{id}/role"), &admin, Some(json!({"role": "editor"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = second.post("/api/opportunities", &editor, write("again")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_user_known_by_email_gets_their_object_id_at_first_sign_in(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    // `login` records the user by email alone, as users were kept before object ids.
    let token = app.login("known@agency.test", "editor").await;
    assert_eq!(ids_of(&app, "known@agency.test").await, (None, None));
    let r = app.get(ME, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["role"], "editor", "the row and its role are kept");
    assert_eq!(
        ids_of(&app, "known@agency.test").await,
        (Some(TENANT.to_string()), Some(oid_of("known@agency.test")))
    );
    assert_eq!(user_count(&app).await, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_object_id_is_the_identity_and_the_email_an_attribute(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.login("alice@agency.test", "editor").await;
    let first = app.get(ME, &alice).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);

    // Alice's email changes in the directory: same person, same row and role, new email.
    let oid = oid_of("alice@agency.test");
    let renamed = token_with("alice.smith@agency.test", |c| c["oid"] = json!(oid));
    let r = app.get(ME, &renamed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["id"], first.body["id"]);
    assert_eq!(r.body["email"], "alice.smith@agency.test");
    assert_eq!(r.body["role"], "editor");

    // Another account claiming Alice's email is not Alice: refused, nothing created.
    let impostor = token_with("alice.smith@agency.test", |c| c["oid"] = json!(uuid::Uuid::new_v4()));
    let before = user_count(&app).await;
    let r = app.get(ME, &impostor).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(r.body["type"], "/problems/identity-conflict", "{}", r.body);
    assert_eq!(user_count(&app).await, before);

    // A token naming no user object is refused.
    for missing in ["oid", "tid"] {
        let r = app.get(ME, &token_with("nobody@agency.test", |c| c[missing] = Value::Null)).await;
        assert_problem(&r, StatusCode::UNAUTHORIZED, "");
        assert!(r.body["detail"].as_str().unwrap().contains("oid"), "{}", r.body);
    }
    assert_eq!(user_count(&app).await, before);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_tokens_app_roles_decide_the_role_when_present(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let email = "directory@agency.test";
    let with_roles = |roles: Value| token_with(email, |c| c["roles"] = roles);

    let r = app.get(ME, &with_roles(json!(["OSOP.Editor"]))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["role"], "editor", "a new user takes the token's role, not the default");
    let id = r.body["id"].clone();
    // Several: the highest; unknown values are ignored.
    let r = app.get(ME, &with_roles(json!(["Other.App.Role", "OSOP.Viewer", "osop.admin"]))).await;
    assert_eq!(r.body["role"], "admin");
    // The directory manages this role: an admin's change here is refused, naming why.
    let uri = format!("/api/users/{id}/role");
    let r = app.call(Method::PUT, &uri, &admin, Some(json!({"role": "viewer"}))).await;
    assert_problem(&r, StatusCode::CONFLICT, "role");
    assert_eq!(r.body["type"], "/problems/role-managed-by-directory", "{}", r.body);
    let r = app.get(ME, &with_roles(json!(["OSOP.Viewer"]))).await;
    assert_eq!(r.body["role"], "viewer", "a demotion in the directory applies with the next token");

    // The assignment withdrawn: back to the default role, and admins here manage it again.
    let r = app.get(ME, &with_roles(json!(["Other.App.Role"]))).await;
    assert_eq!(r.body["role"], "viewer");
    let r = app.call(Method::PUT, &uri, &admin, Some(json!({"role": "editor"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.get(ME, &sign("key1", &claims_for(email))).await;
    assert_eq!(r.body["role"], "editor");
    assert_eq!(r.body["id"], id);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_new_users_role_is_configurable(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.default_user_role = api::auth::Role::Editor).await;
    let r = app.get(ME, &sign("key1", &claims_for("first.day@agency.test"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["role"], "editor");
    let r = app
        .post("/api/opportunities", &sign("key1", &claims_for("first.day@agency.test")), json!({"name": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
