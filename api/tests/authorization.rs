//! Who may call what: every operation of the OpenAPI document × {anonymous, viewer, editor, admin,
//! an editor who owns a different opportunity}, with the expected status in one explicit table.
//!
//! The rules (seed and README): a viewer reads only; an editor works any deal (there is no
//! per-owner restriction); an admin also manages users, imports catalogs and may decide any
//! approval they neither requested nor own; an approval is decided by its named approver when an
//! editor or admin (here the editor) or by such an admin, never by its requester or the deal's
//! owner (here `REQUESTER` and `LEAD`, who are not callers of the table); each user's
//! notifications are their own (someone else's is a 404). Every request is valid, so what is judged
//! is the authorisation; a refused request changes nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use agent_workers::offline::provider::OfflineProvider;
use agent_workers::worker::Worker;
use api::agents::host::ApiHost;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use tokio::sync::watch;

const EDITOR: &str = "editor@agency.test";
/// Owns the fixtures' opportunities, and requests their approvals: neither may decide them.
const LEAD: &str = "lead@agency.test";
const REQUESTER: &str = "requester@agency.test";
/// Named in the approvals the table's callers request (none of them, nor the owner).
const APPROVER: &str = "approver@agency.test";
const ADMIN: &str = "admin@agency.test";
const VIEWER: &str = "viewer@agency.test";
const OTHER: &str = "other@agency.test";

/// Columns: anonymous, viewer, editor (works the deal, named approver), admin, another editor.
type Row = [u16; 5];
const PUBLIC: Row = [200, 200, 200, 200, 200];
const READ: Row = [401, 200, 200, 200, 200];
const WORK: Row = [401, 403, 200, 200, 200];
const WORK_CREATED: Row = [401, 403, 201, 201, 201];
const WORK_ACCEPTED: Row = [401, 403, 202, 202, 202];
const WORK_GONE: Row = [401, 403, 204, 204, 204];
const ADMIN_ONLY: Row = [401, 403, 403, 200, 403];
const ADMIN_CREATED: Row = [401, 403, 403, 201, 403];
const APPROVER_OR_ADMIN: Row = [401, 403, 200, 200, 403];
/// The caller's own state (notifications, identity): anyone signed in.
const OWN: Row = [401, 200, 200, 200, 200];
/// One notification, the editor's: everyone else gets a 404 (not a 403, which would confirm it exists).
const OWN_NOTIFICATION: Row = [401, 404, 200, 404, 404];

#[rustfmt::skip]
const MATRIX: &[(&str, &str, Row)] = &[
    ("GET", "/api/health", PUBLIC),
    ("GET", "/api/users/me", OWN),
    ("PUT", "/api/users/{id}/role", ADMIN_ONLY),
    ("GET", "/api/opportunities", READ),
    ("POST", "/api/opportunities", WORK_CREATED),
    ("GET", "/api/opportunities/{id}", READ),
    ("PUT", "/api/opportunities/{id}", WORK),
    ("PATCH", "/api/opportunities/{id}", WORK),
    ("DELETE", "/api/opportunities/{id}", WORK),
    ("POST", "/api/opportunities/{id}/archive", WORK),
    ("PUT", "/api/opportunities/{id}/deal-status", WORK),
    ("GET", "/api/opportunities/{id}/stages", READ),
    ("POST", "/api/opportunities/{id}/stages/{n}/complete", WORK),
    ("GET", "/api/opportunities/{id}/stages/{n}/approvals", READ),
    ("POST", "/api/opportunities/{id}/stages/{n}/approvals", WORK_CREATED),
    ("GET", "/api/opportunities/{id}/approvals", READ),
    ("GET", "/api/opportunities/{id}/approvals/{approval_id}", READ),
    ("GET", "/api/approvals/{id}", READ),
    ("GET", "/api/approvals/by-token/{token}", READ),
    ("POST", "/api/approvals/{id}/decision", APPROVER_OR_ADMIN),
    ("GET", "/api/notifications", OWN),
    ("GET", "/api/notifications/unread-count", OWN),
    ("POST", "/api/notifications/{id}/read", OWN_NOTIFICATION),
    ("POST", "/api/notifications/read-all", OWN),
    ("GET", "/api/opportunities/{id}/files", READ),
    ("POST", "/api/opportunities/{id}/files", WORK_CREATED),
    ("GET", "/api/opportunities/{id}/files/{file_id}", READ),
    ("DELETE", "/api/opportunities/{id}/files/{file_id}", WORK_GONE),
    ("GET", "/api/opportunities/{id}/files/{file_id}/download", READ),
    ("GET", "/api/opportunities/{id}/events", READ),
    ("GET", "/api/events", READ),
    ("GET", "/api/catalog", READ),
    ("GET", "/api/catalog/categories", READ),
    ("GET", "/api/catalog/versions", READ),
    ("GET", "/api/catalog/{catalog_id}", READ),
    ("POST", "/api/catalog/import", ADMIN_CREATED),
    ("GET", "/api/opportunities/{id}/qualification", READ),
    ("POST", "/api/opportunities/{id}/qualification", WORK_CREATED),
    ("GET", "/api/opportunities/{id}/clarifications", READ),
    ("POST", "/api/opportunities/{id}/clarifications", WORK_CREATED),
    ("PUT", "/api/opportunities/{id}/clarifications/{cid}", WORK),
    ("GET", "/api/opportunities/{id}/qa-pack/excel", READ),
    ("GET", "/api/opportunities/{id}/qa-pack/word", READ),
    ("GET", "/api/opportunities/{id}/assets", READ),
    ("POST", "/api/opportunities/{id}/assets", WORK_CREATED),
    ("PUT", "/api/opportunities/{id}/assets/{asset_id}", WORK),
    ("PATCH", "/api/opportunities/{id}/assets/{asset_id}", WORK),
    ("DELETE", "/api/opportunities/{id}/assets/{asset_id}", WORK_GONE),
    ("POST", "/api/opportunities/{id}/assets/{asset_id}/match", WORK),
    ("GET", "/api/opportunities/{id}/matches", READ),
    ("PUT", "/api/opportunities/{id}/matches/{match_id}", WORK),
    ("POST", "/api/opportunities/{id}/ratecard/build", WORK),
    ("GET", "/api/opportunities/{id}/ratecard", READ),
    ("GET", "/api/opportunities/{id}/ratecard/excel", READ),
    ("GET", "/api/opportunities/{id}/efficiency-profile", READ),
    ("POST", "/api/opportunities/{id}/efficiency-profile", WORK),
    ("GET", "/api/opportunities/{id}/team-shape", READ),
    ("GET", "/api/opportunities/{id}/pitch-deck/markdown", READ),
    ("GET", "/api/opportunities/{id}/pitch-deck/outline-markdown", READ),
    ("GET", "/api/agent-runs/{id}", READ),
    ("GET", "/api/opportunities/{id}/artifacts", READ),
    ("GET", "/api/opportunities/{id}/costs", READ),
    ("POST", "/api/opportunities/{id}/intake", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/diagnose", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/assets/normalize", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/match", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/delivery-model", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/capability-gaps", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/support-docs", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/pitch-deck", WORK_ACCEPTED),
    ("POST", "/api/opportunities/{id}/implementation-plan", WORK_ACCEPTED),
];

/// The agent endpoints (seed paths).
const AGENT_ROUTES: &[&str] = &[
    "/api/opportunities/{id}/intake",
    "/api/opportunities/{id}/diagnose",
    "/api/opportunities/{id}/assets/normalize",
    "/api/opportunities/{id}/match",
    "/api/opportunities/{id}/delivery-model",
    "/api/opportunities/{id}/capability-gaps",
    "/api/opportunities/{id}/support-docs",
    "/api/opportunities/{id}/pitch-deck",
    "/api/opportunities/{id}/implementation-plan",
];

/// Changes that succeed once per fixture (a second try is a 400, 404 or 409).
const ONCE: &[(&str, &str)] = &[
    ("DELETE", "/api/opportunities/{id}"),
    ("POST", "/api/opportunities/{id}/archive"),
    ("POST", "/api/opportunities/{id}/stages/{n}/complete"),
    ("POST", "/api/opportunities/{id}/stages/{n}/approvals"),
    ("POST", "/api/approvals/{id}/decision"),
    ("POST", "/api/notifications/{id}/read"),
    ("DELETE", "/api/opportunities/{id}/files/{file_id}"),
    ("DELETE", "/api/opportunities/{id}/assets/{asset_id}"),
];

/// A one-entry catalog sheet; it keeps `catalog_id`, which later fixtures pick by hand.
fn catalog_csv(catalog_id: &str) -> String {
    format!(
        "catalog_id,category,sub_category,asset_name,complexity,asset_description,model_type,\
         role_1,role_1_location,role_1_hours\n\
         {catalog_id},Social,Static Post,Social post,Simple,One social post,standard,Designer,onshore,4\n"
    )
}

/// Every documented operation, as (METHOD, path), with its documented statuses.
fn documented() -> Vec<(String, String, Vec<u16>)> {
    let doc = serde_json::to_value(api::http::openapi()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                let statuses =
                    op["responses"].as_object().unwrap().keys().map(|s| s.parse().unwrap()).collect();
                out.push((method.to_uppercase(), path.clone(), statuses));
            }
        }
    }
    out
}

#[test]
fn every_documented_route_is_classified_and_only_documented_statuses_are_expected() {
    let documented = documented();
    let mut problems = Vec::new();
    for (method, path, statuses) in &documented {
        let Some((_, _, row)) = MATRIX.iter().find(|(m, p, _)| m == method && p == path) else {
            problems
                .push(format!("{method} {path} is in the OpenAPI document but not in MATRIX: classify it"));
            continue;
        };
        for status in row {
            if !statuses.contains(status) {
                problems.push(format!(
                    "{method} {path} is expected to answer {status}, which it does not document"
                ));
            }
        }
        // A documented 403 is one some caller can really get.
        if statuses.contains(&403) && !row.contains(&403) {
            problems.push(format!("{method} {path} documents a 403 that no caller gets"));
        }
    }
    for (method, path, _) in MATRIX {
        if !documented.iter().any(|(m, p, _)| m == method && p == path) {
            problems.push(format!("{method} {path} is in MATRIX but not in the OpenAPI document"));
        }
    }
    let duplicates = MATRIX.len() - {
        let mut keys: Vec<_> = MATRIX.iter().map(|(m, p, _)| (m, p)).collect();
        keys.sort();
        keys.dedup();
        keys.len()
    };
    assert_eq!(duplicates, 0, "MATRIX lists a route twice");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Real objects of one opportunity (owned by the editor), so every path names things that exist.
struct Fixture {
    opportunity: String,
    file: String,
    asset: String,
    clarification: String,
    matched: String,
    approval: String,
    token: String,
    notification: String,
    run: String,
}

struct Matrix {
    app: TestApp,
    tokens: [String; 5],
    target_user: i64,
    catalog_id: String,
    /// Stops the worker and the publishers.
    stop: watch::Sender<bool>,
}

impl Matrix {
    /// The app with its publishers and one offline agent worker, and the five callers.
    async fn new(pool: sqlx::PgPool) -> Self {
        let app = TestApp::new(pool).await;
        let (stop, stopped) = watch::channel(false);
        app.state.spawn_publishers(stopped.clone());
        let worker = Worker::new(
            app.state.nats.clone().expect("NATS"),
            api::agents::workers::config(&app.state),
            Arc::new(OfflineProvider),
            Arc::new(ApiHost::new(app.state.clone())),
        );
        tokio::spawn(async move {
            while worker.run(stopped.clone()).await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let tokens = [
            String::new(),
            app.login(VIEWER, "viewer").await,
            app.login(EDITOR, "editor").await,
            app.login(ADMIN, "admin").await,
            app.login(OTHER, "editor").await,
        ];
        // The other editor owns a deal of their own.
        app.create_opportunity(&tokens[4], "The other editor's deal").await;
        app.login("target@agency.test", "viewer").await;
        let target_user = sqlx::query_scalar("SELECT id FROM app_users WHERE email = 'target@agency.test'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        let catalog = app.get("/api/catalog?limit=1", &tokens[3]).await;
        let catalog_id = catalog.body[0]["catalog_id"].as_str().expect("a seeded catalog").to_string();
        Self { app, tokens, target_user, catalog_id, stop }
    }

    fn editor(&self) -> &str {
        &self.tokens[2]
    }

    async fn ok(&self, method: Method, uri: &str, body: Option<Value>) -> Value {
        let r = self.app.call(method.clone(), uri, self.editor(), body).await;
        assert!(r.status.is_success(), "fixture: {method} {uri}: {} {}", r.status, r.body);
        r.body
    }

    /// An opportunity (owned by `LEAD`) with a file, an asset with a chosen catalog entry, a
    /// clarification and a pending approval requested by `REQUESTER` (whose approver, and so
    /// notification, is the editor); `diagnosed` adds a
    /// finished diagnosis (what stages 9, 12, 13 and 15 build on), `won` a won deal, `rich` the rest
    /// every read needs (scorecard, rate card, efficiency profile, pitch deck outline).
    async fn fixture(&self, diagnosed: bool, won: bool, rich: bool) -> Fixture {
        let (app, editor) = (&self.app, self.editor());
        let deal = json!({"name": "Authorisation target", "client_name": "Fjordline", "owner_email": LEAD});
        let id =
            self.ok(Method::POST, "/api/opportunities", Some(deal)).await["id"].as_str().unwrap().to_string();
        let base = format!("/api/opportunities/{id}");
        let brief =
            "Brief: relaunch the Fjordline ferry brand in Norway and Denmark. Deliverables: 12 social \
                     statics, 4 campaign videos, 20 display banners. Budget 1.2M NOK. Deadline in March.";
        let file = app.upload(editor, &id, "brief.txt", brief.as_bytes()).await;
        assert_eq!(file.status, StatusCode::CREATED, "{}", file.body);
        let asset = self
            .ok(Method::POST, &format!("{base}/assets"), Some(json!({"raw_name": "Banner", "volume": 2})))
            .await;
        let asset = asset["id"].as_str().unwrap().to_string();
        let chosen = json!({"catalog_id": self.catalog_id});
        let matches = self.ok(Method::POST, &format!("{base}/assets/{asset}/match"), Some(chosen)).await;
        let clarification = json!({"category": "Scope", "question": "How many markets?"});
        let clarification =
            self.ok(Method::POST, &format!("{base}/clarifications"), Some(clarification)).await;
        let approval = json!({"role": "commercial", "approver_email": EDITOR});
        let requester = app.login(REQUESTER, "editor").await;
        let approval = app.post(&format!("{base}/stages/3/approvals"), &requester, approval).await;
        assert_eq!(approval.status, StatusCode::CREATED, "fixture: the approval: {}", approval.body);
        let approval = approval.body["id"].as_str().unwrap().to_string();
        let link = app.mailbox.last_link_to(EDITOR).await;
        let notification: String = sqlx::query_scalar(
            "SELECT id::text FROM notifications WHERE recipient_email = $1 AND opportunity_id = $2::uuid",
        )
        .bind(EDITOR)
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if diagnosed || rich {
            let run = self.ok(Method::POST, &format!("{base}/diagnose?wait=60"), None).await;
            assert_eq!(run["status"], "succeeded", "{run}");
        }
        if won {
            self.ok(Method::PUT, &format!("{base}/deal-status"), Some(json!({"deal_status": "won"}))).await;
        }
        let mut run = String::new();
        if rich {
            let scores = json!({"timing": 6, "relationship": 7, "opportunity": 8, "what_we_know": 5, "location": 6, "sector": 7});
            self.ok(Method::POST, &format!("{base}/qualification"), Some(scores)).await;
            self.ok(Method::POST, &format!("{base}/ratecard/build"), Some(json!({}))).await;
            let profile = json!({"scenario": "moderate", "blanket_pct": 10});
            self.ok(Method::POST, &format!("{base}/efficiency-profile"), Some(profile)).await;
            let deck = self.ok(Method::POST, &format!("{base}/pitch-deck?wait=60"), None).await;
            assert_eq!(deck["status"], "succeeded", "{deck}");
            run = deck["run_id"].as_str().unwrap().to_string();
        }
        Fixture {
            opportunity: id,
            file: file.body["id"].as_str().unwrap().to_string(),
            asset,
            clarification: clarification["id"].as_str().unwrap().to_string(),
            matched: matches[0]["id"].as_str().expect("the chosen match").to_string(),
            approval,
            token: link.rsplit('/').next().unwrap().to_string(),
            notification,
            run,
        }
    }

    /// The path with the fixture's ids.
    fn uri(&self, path: &str, fx: &Fixture) -> String {
        let id = match path.split('/').nth(2) {
            Some("approvals") => fx.approval.clone(),
            Some("notifications") => fx.notification.clone(),
            Some("agent-runs") => fx.run.clone(),
            Some("users") => self.target_user.to_string(),
            _ => fx.opportunity.clone(),
        };
        let n = if path.ends_with("/complete") { "1" } else { "3" };
        path.replace("{id}", &id)
            .replace("{n}", n)
            .replace("{file_id}", &fx.file)
            .replace("{asset_id}", &fx.asset)
            .replace("{cid}", &fx.clarification)
            .replace("{match_id}", &fx.matched)
            .replace("{approval_id}", &fx.approval)
            .replace("{token}", &fx.token)
            .replace("{catalog_id}", &self.catalog_id)
    }

    /// A valid body for the operation: (content type, bytes).
    fn body(&self, method: &str, path: &str) -> Option<(String, Vec<u8>)> {
        let json = |v: Value| Some(("application/json".to_string(), v.to_string().into_bytes()));
        let tail = path.rsplit('/').next().unwrap();
        match (method, tail) {
            ("GET" | "DELETE", _) => None,
            ("POST", "files") => Some(multipart_file("matrix.txt", b"More about the brief.")),
            ("POST", "import") => {
                Some(multipart_file("catalog.csv", catalog_csv(&self.catalog_id).as_bytes()))
            }
            ("POST", "opportunities") => json(json!({"name": "Matrix deal", "client_name": "Fjordline"})),
            ("PUT" | "PATCH", "{id}") => json(json!({"name": "Renamed deal"})),
            (_, "deal-status") => json(json!({"deal_status": "won"})),
            (_, "role") => json(json!({"role": "editor"})),
            (_, "complete") => json(json!({})),
            ("POST", "approvals") => json(json!({"role": "delivery", "approver_email": APPROVER})),
            (_, "decision") => json(json!({"decision": "approve", "notes": "Fine by me"})),
            (_, "qualification") => json(
                json!({"timing": 6, "relationship": 7, "opportunity": 8, "what_we_know": 5, "location": 6, "sector": 7}),
            ),
            ("POST", "clarifications") => json(json!({"category": "Scope", "question": "Which channels?"})),
            (_, "{cid}") => json(json!({"client_answer": "Social and display"})),
            ("POST", "assets") | (_, "{asset_id}") => json(json!({"raw_name": "Banner", "volume": 3})),
            ("POST", "match") if path.contains("{asset_id}") => json(json!({"catalog_id": self.catalog_id})),
            (_, "{match_id}") => json(json!({"is_selected": true})),
            (_, "build") => json(json!({})),
            (_, "efficiency-profile") => json(json!({"scenario": "moderate", "blanket_pct": 15})),
            _ => None, // agents and the notification marks take no body
        }
    }

    async fn send(&self, who: usize, method: &str, uri: &str, body: Option<(String, Vec<u8>)>) -> Response {
        let mut req = Request::builder().method(method).uri(uri);
        if !self.tokens[who].is_empty() {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[who]));
        }
        let request = match body {
            Some((ct, bytes)) => req.header(header::CONTENT_TYPE, ct).body(Body::from(bytes)),
            None => req.body(Body::empty()),
        };
        self.app.send(request.unwrap()).await
    }

    /// What a refused request must leave as it was.
    async fn fingerprint(&self, fx: &Fixture) -> Vec<i64> {
        let pool = &self.app.pool;
        let scalar = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
        };
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
            .bind(&fx.opportunity)
            .fetch_one(pool)
            .await
            .unwrap();
        vec![
            events,
            scalar("SELECT count(DISTINCT aggregate_id) FROM events").await,
            scalar("SELECT count(*) FROM notification_reads").await,
            scalar("SELECT count(*) FROM opportunity_files").await,
            scalar("SELECT count(*) FROM file_blobs").await,
            scalar("SELECT count(*) FROM catalog_versions").await,
            scalar("SELECT count(*) FROM email_outbox").await,
            scalar("SELECT count(*) FROM app_users WHERE role = 'viewer'").await,
        ]
    }
}

const WHO: [&str; 5] = ["anonymous", "viewer", "editor", "admin", "other editor"];

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn every_route_answers_each_kind_of_caller_as_the_table_says(pool: sqlx::PgPool) {
    let m = Matrix::new(pool).await;
    let shared = m.fixture(true, false, true).await;
    // Agent requests can be repeated, so each agent route's callers share one fixture, prepared
    // before any request of the table queues work for the worker.
    let mut agent_fixtures = std::collections::HashMap::new();
    for path in AGENT_ROUTES {
        let needs_diagnosis = ["delivery-model", "capability-gaps", "support-docs", "pitch-deck"]
            .iter()
            .any(|t| path.ends_with(t));
        agent_fixtures
            .insert(*path, m.fixture(needs_diagnosis, path.ends_with("implementation-plan"), false).await);
    }
    // The worker was only needed for the fixtures' diagnoses; the runs the table requests stay
    // queued, so none of them changes anything while the table is checked (and the worker, on this
    // test's one thread, does not slow it down).
    m.stop.send(true).unwrap();
    let mut failures = Vec::new();
    for (method, path, row) in MATRIX {
        let agent = agent_fixtures.get(path).filter(|_| *method == "POST");
        let mutating = *method != "GET" && agent.is_none();
        // A change gets a fixture of its own: refusals first, then the permitted callers; a change
        // that can be made only once gives each permitted caller a fresh fixture, so one caller's
        // change cannot decide another's answer.
        let refused_fx = if mutating { Some(m.fixture(false, false, false).await) } else { None };
        let once = ONCE.contains(&(*method, *path));
        let mut order: Vec<usize> = (0..5).collect();
        order.sort_by_key(|&who| row[who] < 400);
        for who in order {
            let expected = row[who];
            let fresh =
                if once && expected < 400 { Some(m.fixture(false, false, false).await) } else { None };
            let fx = fresh.as_ref().or(refused_fx.as_ref()).or(agent).unwrap_or(&shared);
            let uri = m.uri(path, fx);
            let before = m.fingerprint(fx).await;
            let r = m.send(who, method, &uri, m.body(method, path)).await;
            let label = format!("{method} {path} as {}", WHO[who]);
            if r.status.as_u16() != expected {
                let body: String = String::from_utf8_lossy(&r.bytes).chars().take(240).collect();
                failures.push(format!("{label}: expected {expected}, got {} {body}", r.status));
                continue;
            }
            if expected >= 400 {
                if !r.is_problem() || r.body["status"] != expected {
                    failures.push(format!("{label}: the {expected} is not a problem+json body: {}", r.body));
                }
                let after = m.fingerprint(fx).await;
                if after != before {
                    failures.push(format!(
                        "{label}: a refused request changed something: {before:?} -> {after:?}"
                    ));
                }
            } else if *method == "GET" && m.fingerprint(fx).await != before {
                failures.push(format!("{label}: a read changed something"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells disagree with the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_viewer_named_as_approver_may_not_decide_and_stays_a_reader(pool: sqlx::PgPool) {
    // Deciding is work: a named approver decides as an editor or admin (an admin promotes them).
    let app = TestApp::new(pool).await;
    let editor = app.login(EDITOR, "editor").await;
    let viewer = app.login(VIEWER, "viewer").await;
    let id = app.create_opportunity(&editor, "Viewer named").await;
    let uri = format!("/api/opportunities/{id}/stages/3/approvals");
    let mine = app.post(&uri, &editor, json!({"role": "regional", "approver_email": VIEWER})).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    let mine = mine.body["id"].as_str().unwrap();
    let before = app.event_count().await;
    let r =
        app.post(&format!("/api/approvals/{mine}/decision"), &viewer, json!({"decision": "approve"})).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(r.body["type"], "/problems/approver-role-too-low", "{}", r.body);
    assert_eq!(app.event_count().await, before);
    let r = app.post(&uri, &viewer, json!({"role": "delivery", "approver_email": APPROVER})).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
}
