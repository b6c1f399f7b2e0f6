//! Hostile input on every documented route: never a 5xx, every error problem+json, nothing recorded.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use rand::Rng;
use serde_json::{json, Value};

/// One documented operation.
struct Route {
    method: Method,
    path: String,
    op: Value,
}

/// Every operation of the generated OpenAPI document (so a new route is swept too), and the document.
fn routes() -> (Vec<Route>, Value) {
    let spec = api::http::openapi();
    let mut out = Vec::new();
    for (path, item) in &spec.paths.paths {
        for (method, op) in serde_json::to_value(item).unwrap().as_object().unwrap() {
            if matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                let method = method.to_uppercase().parse().unwrap();
                out.push(Route { method, path: path.clone(), op: op.clone() });
            }
        }
    }
    assert!(out.len() > 20, "the OpenAPI document lists only {} operations", out.len());
    (out, serde_json::to_value(&spec).unwrap())
}

impl Route {
    fn params(&self) -> Vec<&str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect()
    }

    fn takes_body(&self) -> bool {
        matches!(self.method, Method::POST | Method::PUT | Method::PATCH)
    }

    /// A body of the right shape (the fields of every JSON body, or a multipart file), so what is
    /// judged is the rest of the request.
    fn plausible_body(&self) -> (Option<String>, Vec<u8>) {
        if self.op["requestBody"]["content"].get("multipart/form-data").is_some() {
            let b = "hostile-boundary";
            let body = format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\nhello\r\n--{b}--\r\n"
            );
            return (Some(format!("multipart/form-data; boundary={b}")), body.into_bytes());
        }
        let body = json!({"name": "Hostile", "role": "delivery", "approver_email": "approver@agency.test",
            "decision": "approve", "deal_status": "active", "raw_name": "Banner", "volume": 2, "category": "Scope",
            "question": "How many?", "client_answer": "Two", "scenario": "moderate", "blanket_pct": 10,
            "is_selected": true, "catalog_id": "GMAL-DIS-001", "timing": 5, "relationship": 5, "opportunity": 5,
            "what_we_know": 5, "location": 5, "sector": 5});
        (Some("application/json".into()), body.to_string().into_bytes())
    }

    /// The JSON body's fields with their schemas (none when the route takes no JSON body).
    fn fields(&self, doc: &Value) -> Vec<(String, Value)> {
        let schema = &self.op["requestBody"]["content"]["application/json"]["schema"];
        // An optional body is documented as oneOf null or the body's schema.
        let alternatives = schema["oneOf"].as_array().into_iter().flatten();
        let schema = alternatives.clone().find(|s| s["$ref"].is_string()).unwrap_or(schema);
        let schema = match schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            Some(name) => &doc["components"]["schemas"][name],
            None => schema,
        };
        schema["properties"].as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Real ids, so only the hostile part of a request is wrong.
struct Fixture {
    opportunity: String,
    approval: String,
    file: String,
    notification: String,
    user: String,
}

async fn fixture(app: &TestApp, admin: &str) -> Fixture {
    let opportunity = app.create_opportunity(admin, "Hostile input target").await;
    let uri = format!("/api/opportunities/{opportunity}/stages/3/approvals");
    let a =
        app.post(&uri, admin, json!({"role": "commercial", "approver_email": "approver@agency.test"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let f = app.upload(admin, &opportunity, "brief.txt", b"The brief, in plain text.").await;
    assert_eq!(f.status, StatusCode::CREATED, "{}", f.body);
    let id = |v: &Value| v["id"].as_str().expect("an id").to_string();
    // The approver decides another approval, so the admin (the owner) has a notification of their own.
    let other = json!({"role": "delivery", "approver_email": "approver@agency.test"});
    let other = id(&app.post(&uri, admin, other).await.body);
    let approver = app.login("approver@agency.test", "editor").await;
    let decision = format!("/api/approvals/{other}/decision");
    assert_eq!(app.post(&decision, &approver, json!({"decision": "approve"})).await.status, StatusCode::OK);
    let notifications = app.get("/api/notifications", admin).await.body;
    Fixture {
        approval: id(&a.body),
        file: id(&f.body),
        notification: id(&notifications[0]),
        user: app.get("/api/users/me", admin).await.body["id"].to_string(),
        opportunity,
    }
}

impl Fixture {
    /// The route's path with real ids, except `hostile` = (parameter, raw URI segment).
    fn fill(&self, route: &Route, hostile: Option<(&str, &str)>) -> String {
        route.params().into_iter().fold(route.path.clone(), |uri, p| {
            let real = match (p, route.path.split('/').nth(2)) {
                _ if hostile.is_some_and(|(h, _)| h == p) => hostile.unwrap().1,
                ("n", _) => "3",
                ("token", _) => "no-such-token",
                ("file_id", _) => self.file.as_str(),
                ("approval_id", _) | ("id", Some("approvals")) => &self.approval,
                ("id", Some("notifications")) => &self.notification,
                ("id", Some("users")) => &self.user,
                _ => &self.opportunity,
            };
            uri.replace(&format!("{{{p}}}"), real)
        })
    }
}

fn bearer(token: &str) -> Vec<u8> {
    format!("Bearer {token}").into_bytes()
}

/// Sends requests and collects every break of the rule, so one run reports them all.
struct Sweep<'a> {
    app: &'a TestApp,
    /// The Authorization header sent.
    auth: Vec<u8>,
    failures: Vec<String>,
}

impl<'a> Sweep<'a> {
    fn new(app: &'a TestApp, token: &str) -> Self {
        Self { app, auth: bearer(token), failures: Vec::new() }
    }

    async fn send(&mut self, label: String, m: &Method, uri: &str, ct: Option<&str>, b: Vec<u8>) -> Response {
        let label: String = label.chars().take(160).collect();
        let mut req = Request::builder().method(m).uri(uri).header(header::AUTHORIZATION, &self.auth[..]);
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let before = self.app.event_count().await;
        let r = self.app.send(req.body(Body::from(b)).unwrap()).await;
        let recorded = self.app.event_count().await != before;
        let (status, p) = (r.status.as_u16(), &r.body);
        let complete = p["type"].is_string() && p["title"].is_string() && p["status"] == status;
        let complete = complete && p["detail"].as_str().is_some_and(|d| !d.is_empty());
        let why = match () {
            _ if status >= 500 => "server error",
            _ if status < 400 => return r,
            _ if recorded => "a rejected request recorded an event",
            _ if !r.is_problem() => "error body is not application/problem+json",
            _ if !complete => "problem body lacks type/title/status/detail",
            _ => return r,
        };
        self.fail(&label, why, &r);
        r
    }

    fn fail(&mut self, label: &str, why: &str, r: &Response) {
        let body: String = String::from_utf8_lossy(&r.bytes).chars().take(300).collect();
        let ct = r.headers.get(header::CONTENT_TYPE);
        self.failures.push(format!("{label}: {why}: {} {ct:?} {body}", r.status));
    }

    fn finish(self) {
        let n = self.failures.len();
        assert!(n == 0, "{n} hostile requests broke the rule:\n{}", self.failures.join("\n"));
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn hostile_path_parameters_are_4xx_problems_on_every_route(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let fx = fixture(&app, &admin).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    // Raw URI segments: NUL, invalid UTF-8, traversal, "' OR 1=1 --", numbers, "ünïcødé😀".
    let raw = "not-a-uuid %00 %FF ..%2F..%2Fetc%2Fpasswd %27%20OR%201%3D1%20-- -1 0 18 99999999999999999999 \
               %C3%BCn%C3%AFc%C3%B8d%C3%A9%F0%9F%98%80";
    let mut values = vec![unknown.clone(), "x".repeat(5000)];
    values.extend(raw.split_whitespace().map(String::from));
    let mut sweep = Sweep::new(&app, &admin);
    for route in routes().0 {
        for param in route.params() {
            let spec =
                route.op["parameters"].as_array().and_then(|ps| ps.iter().find(|p| p["name"] == param));
            let is_uuid = spec.is_some_and(|p| p["schema"]["format"] == "uuid");
            for value in &values {
                let uri = fx.fill(&route, Some((param, value)));
                let (ct, body) = if route.takes_body() { route.plausible_body() } else { (None, vec![]) };
                let label = format!("{} {} [{param}={value}]", route.method, route.path);
                let r = sweep.send(label.clone(), &route.method, &uri, ct.as_deref(), body).await;
                if r.status.is_success() {
                    sweep.fail(&label, "a hostile path parameter was accepted", &r);
                } else if value == &unknown && is_uuid && r.status != StatusCode::NOT_FOUND {
                    sweep.fail(&label, "an unknown id should be 404", &r);
                }
            }
        }
    }
    sweep.finish();
}

fn is(schema: &Value, ty: &str) -> bool {
    schema["type"] == ty || schema["type"].as_array().is_some_and(|t| t.iter().any(|t| t == ty))
}

fn each(fields: &[(String, Value)], f: impl Fn(&Value) -> Value) -> Vec<u8> {
    Value::Object(fields.iter().map(|(k, s)| (k.clone(), f(s))).collect()).to_string().into_bytes()
}

/// `v`, wrapped in an array where the field is one.
fn fit(schema: &Value, v: Value) -> Value {
    if is(schema, "array") {
        json!([v])
    } else {
        v
    }
}

fn every(fields: &[(String, Value)], v: Value) -> Vec<u8> {
    each(fields, |s| fit(s, v.clone()))
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn hostile_bodies_are_4xx_problems_and_record_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let (routes, doc) = routes();
    let mut sweep = Sweep::new(&app, &admin);
    for route in routes.iter().filter(|r| r.takes_body()) {
        // A fresh opportunity per route, so one route's success cannot hide another's failure.
        let fx = fixture(&app, &admin).await;
        let (uri, f, json) = (fx.fill(route, None), route.fields(&doc), Some("application/json"));
        let wrong = |s: &Value| match () {
            _ if is(s, "string") => json!({"not": "a string"}),
            _ if is(s, "array") => json!("not an array"),
            _ => json!([[]]),
        };
        let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let mut variants: Vec<(String, Option<&str>, Vec<u8>)> = vec![
            ("no body".into(), None, vec![]),
            ("null".into(), json, b"null".to_vec()),
            ("[]".into(), json, b"[]".to_vec()),
            ("a bare string".into(), json, b"\"string\"".to_vec()),
            ("{".into(), json, b"{".to_vec()),
            ("invalid UTF-8".into(), json, b"{\"name\": \"\xff\xfe\xfd\"}".to_vec()),
            ("1 MiB string values".into(), json, every(&f, json!("x".repeat(1 << 20)))),
            ("10,000 nested arrays".into(), json, nested.into_bytes()),
            ("numbers for strings".into(), json, every(&f, json!(7))),
            ("every field the wrong type".into(), json, each(&f, wrong)),
            ("100k-char strings".into(), json, every(&f, json!("y".repeat(100_000)))),
            ("a 4 MiB body".into(), json, json!({"name": "z".repeat(4 << 20)}).to_string().into_bytes()),
            ("JSON sent as text/plain".into(), Some("text/plain"), route.plausible_body().1),
        ];
        // A NUL byte in one field of an otherwise plausible body, field by field.
        for (name, schema) in &f {
            let mut body: Value = serde_json::from_slice(&route.plausible_body().1).unwrap();
            body[name] = fit(schema, json!("nul\u{0}@agency.test"));
            variants.push((format!("NUL byte in {name}"), json, body.to_string().into_bytes()));
        }
        for (what, ct, body) in variants {
            let label = format!("{} {} [{what}]", route.method, route.path);
            let r = sweep.send(label.clone(), &route.method, &uri, ct, body).await;
            if route.op.get("requestBody").is_some() && r.status.is_success() {
                sweep.fail(&label, "a hostile body was accepted", &r);
            }
        }
    }
    sweep.finish();
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn hostile_query_strings_are_never_server_errors(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let fx = fixture(&app, &admin).await;
    let queries = "?limit=-1 ?limit=1e309 ?offset=abc ?after=-5 ?as_of_version=18446744073709551616 \
                   ?status=%00 ?owner=%00 ?limit=1&limit=2";
    let mut sweep = Sweep::new(&app, &admin);
    for route in routes().0.iter().filter(|r| r.method == Method::GET) {
        for q in queries.split_whitespace() {
            let uri = format!("{}{q}", fx.fill(route, None));
            sweep.send(format!("GET {}{q}", route.path), &Method::GET, &uri, None, vec![]).await;
        }
    }
    sweep.finish();
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn garbage_bearer_tokens_are_401_problems_on_every_route(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let fx = fixture(&app, &admin).await;
    let mut rng = rand::rng();
    let printable: String = (0..10_000).map(|_| rng.random_range(0x21u8..0x7f) as char).collect();
    let opaque: Vec<u8> = (0..10_000).map(|_| rng.random_range(0x80u8..=0xff)).collect();
    let mut sweep = Sweep::new(&app, &admin);
    for (what, auth) in
        [("10k printable chars", bearer(&printable)), ("10k raw bytes", [b"Bearer ", &opaque[..]].concat())]
    {
        sweep.auth = auth;
        for route in routes().0 {
            let label = format!("{} {} [{what}]", route.method, route.path);
            let r = sweep.send(label.clone(), &route.method, &fx.fill(&route, None), None, vec![]).await;
            if route.path != "/api/health" && r.status != StatusCode::UNAUTHORIZED {
                sweep.fail(&label, "a garbage token should be 401", &r);
            }
        }
    }
    sweep.finish();
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn unknown_paths_and_undocumented_methods_are_problems(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.admin().await;
    let fx = fixture(&app, &admin).await;
    let mut sweep = Sweep::new(&app, &admin);
    let r = sweep.send("GET /api/nope".into(), &Method::GET, "/api/nope", None, vec![]).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    let routes = routes().0;
    let mut one_per_path: Vec<&Route> = routes.iter().collect();
    one_per_path.dedup_by(|a, b| a.path == b.path);
    for route in one_per_path {
        let documented: Vec<&Method> =
            routes.iter().filter(|r| r.path == route.path).map(|r| &r.method).collect();
        for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            if !documented.contains(&&method) {
                let label = format!("{method} {} [undocumented method]", route.path);
                let r = sweep.send(label.clone(), &method, &fx.fill(route, None), None, vec![]).await;
                if r.status != StatusCode::METHOD_NOT_ALLOWED {
                    sweep.fail(&label, "an undocumented method should be 405", &r);
                }
            }
        }
    }
    sweep.finish();
}
