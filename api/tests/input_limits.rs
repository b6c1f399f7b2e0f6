//! Nothing a client sends can be recorded and then refused downstream (issue 13 §1, §7): dates
//! outside 1900–9999, text with NUL or other control characters, overlong text and huge numbers are
//! 422 problems naming the field that record nothing; bodies are JSON only when their media type
//! says so. Before, `{"go_live":"0000-01-01"}` answered 200 and froze every read model.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use domain::limits;
use serde_json::{json, Value};

/// Sends `body` and expects a problem of `status` naming `field`, with no event recorded.
async fn refused(
    app: &TestApp,
    token: &str,
    method: Method,
    uri: &str,
    body: Value,
    status: StatusCode,
    field: &str,
) {
    let before = app.event_count().await;
    let r = app.call(method.clone(), uri, token, Some(body.clone())).await;
    let shown: String = body.to_string().chars().take(120).collect();
    assert_eq!(r.status, status, "{method} {uri} {shown}: {}", r.body);
    assert_problem(&r, status, field);
    assert_eq!(app.event_count().await, before, "{method} {uri} {shown} recorded an event");
}

async fn setup(pool: sqlx::PgPool) -> (TestApp, String, String) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Limits").await;
    (app, token, id)
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn dates_outside_1900_to_9999_are_422s_naming_the_field(pool: sqlx::PgPool) {
    let (app, token, id) = setup(pool).await;
    let uri = format!("/api/opportunities/{id}");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    for (field, date) in [("go_live", "0000-01-01"), ("deadline", "+99999-01-01"), ("deadline", "1899-12-31")]
    {
        refused(&app, &token, Method::PATCH, &uri, json!({ field: date }), unprocessable, field).await;
        refused(&app, &token, Method::PUT, &uri, json!({ field: date }), unprocessable, field).await;
    }
    let create = json!({"name": "Old", "go_live": "0001-01-01"});
    refused(&app, &token, Method::POST, "/api/opportunities", create, unprocessable, "go_live").await;
    // The edges are kept, and the read model answers with them.
    let r = app
        .call(Method::PATCH, &uri, &token, Some(json!({"deadline": "1900-01-01", "go_live": "9999-12-31"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["deadline"].as_str(), r.body["go_live"].as_str()),
        (Some("1900-01-01"), Some("9999-12-31"))
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn nul_and_control_characters_are_422s_naming_the_field(pool: sqlx::PgPool) {
    let (app, token, id) = setup(pool).await;
    let opp = format!("/api/opportunities/{id}");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (Method::PATCH, opp.clone(), json!({"name": "Nul\u{0}name"}), "name"),
        (Method::PATCH, opp.clone(), json!({"description": "bell\u{7}"}), "description"),
        (Method::PATCH, opp.clone(), json!({"brands": ["ok", "esc\u{1b}[31m"]}), "brands[1]"),
        (
            Method::PATCH,
            opp.clone(),
            json!({"lessons_learned": "a\u{1}b", "deal_status": "lost"}),
            "lessons_learned",
        ),
        (Method::POST, format!("{opp}/assets"), json!({"raw_name": "Banner\u{2}"}), "raw_name"),
        (
            Method::POST,
            format!("{opp}/clarifications"),
            json!({"category": "Scope", "question": "Why\u{8}?"}),
            "question",
        ),
        (
            Method::POST,
            format!("{opp}/qualification"),
            json!({"timing": 5, "relationship": 5, "opportunity": 5, "what_we_know": 5, "location": 5, "sector": 5,
                   "notes": "\u{1f}"}),
            "notes",
        ),
        (
            Method::POST,
            format!("{opp}/efficiency-profile"),
            json!({"scenario": "custom", "blanket_pct": 10, "tools_applied": ["Copilot\u{0}"]}),
            "tools_applied[0]",
        ),
    ];
    for (method, uri, body, field) in cases {
        refused(&app, &token, method, &uri, body, unprocessable, field).await;
    }
    // Tabs and line breaks are text.
    let r = app.call(Method::PATCH, &opp, &token, Some(json!({"description": "one\ttwo\r\nthree"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn overlong_text_is_a_422_naming_the_field(pool: sqlx::PgPool) {
    let (app, token, id) = setup(pool).await;
    let opp = format!("/api/opportunities/{id}");
    let long = |n: usize| "x".repeat(n + 1);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (Method::PATCH, opp.clone(), json!({"name": long(limits::NAME)}), "name"),
        (Method::PATCH, opp.clone(), json!({"client_name": long(limits::NAME)}), "client_name"),
        (Method::PATCH, opp.clone(), json!({"description": long(limits::LONG_TEXT)}), "description"),
        (
            Method::PUT,
            format!("{opp}/deal-status"),
            json!({"deal_status": "lost", "lessons_learned": long(limits::LONG_TEXT)}),
            "lessons_learned",
        ),
        (
            Method::POST,
            "/api/opportunities".to_string(),
            json!({"name": "N", "brands": vec!["b"; 101]}),
            "brands",
        ),
        (
            Method::POST,
            format!("{opp}/assets"),
            json!({"raw_name": "B", "raw_description": long(limits::ASSET_DESCRIPTION)}),
            "raw_description",
        ),
        (
            Method::POST,
            format!("{opp}/clarifications"),
            json!({"category": "Scope", "question": "Q?", "rationale": long(limits::RATIONALE)}),
            "rationale",
        ),
        (
            Method::POST,
            format!("{opp}/efficiency-profile"),
            json!({"scenario": "custom", "blanket_pct": 10, "notes": long(limits::NOTES)}),
            "notes",
        ),
    ];
    for (method, uri, body, field) in cases {
        refused(&app, &token, method, &uri, body, unprocessable, field).await;
    }
    // Trailing blanks count: the limit is on what was sent, as the OpenAPI document's maxLength says.
    let padded = format!("{} ", "x".repeat(limits::NAME));
    refused(&app, &token, Method::PATCH, &opp, json!({"name": padded}), unprocessable, "name").await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn huge_numbers_are_422s_naming_the_field(pool: sqlx::PgPool) {
    let (app, token, id) = setup(pool).await;
    let opp = format!("/api/opportunities/{id}");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let asset = app.post(&format!("{opp}/assets"), &token, json!({"raw_name": "Banner", "volume": 2})).await;
    assert_eq!(asset.status, StatusCode::CREATED, "{}", asset.body);
    let asset_uri = format!("{opp}/assets/{}", asset.body["id"].as_str().unwrap());
    let scores = |timing: Value| json!({"timing": timing, "relationship": 5, "opportunity": 5, "what_we_know": 5, "location": 5, "sector": 5});
    let cases = [
        (
            Method::POST,
            format!("{opp}/assets"),
            json!({"raw_name": "B", "volume": 4_294_967_296_u64}),
            "volume",
        ),
        (Method::POST, format!("{opp}/assets"), json!({"raw_name": "B", "volume": 1_000_001}), "volume"),
        (Method::PATCH, asset_uri.clone(), json!({"volume": 9_223_372_036_854_775_807_i64}), "volume"),
        (Method::PUT, asset_uri.clone(), json!({"volume": 0}), "volume"),
        (Method::POST, format!("{opp}/qualification"), scores(json!(300)), "timing"),
        (
            Method::POST,
            format!("{opp}/efficiency-profile"),
            json!({"scenario": "custom", "blanket_pct": 1e300}),
            "blanket_pct",
        ),
        (
            Method::POST,
            format!("{opp}/efficiency-profile"),
            json!({"scenario": "custom", "blanket_pct": 10, "discipline_overrides": {"Creative": -1}}),
            "discipline_overrides.Creative",
        ),
        (
            Method::POST,
            format!("{opp}/ratecard/build"),
            json!({"rates": {"Designer": 1e15}}),
            "rates.Designer",
        ),
    ];
    for (method, uri, body, field) in cases {
        refused(&app, &token, method, &uri, body, unprocessable, field).await;
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_aggregate_refuses_what_a_handler_forgot_to_check(pool: sqlx::PgPool) {
    let (app, token, id) = setup(pool).await;
    let user = app.state.users.sign_in("editor@agency.test", "editor", None).await.unwrap();
    let before = app.event_count().await;
    let day = chrono::NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
    let changes = domain::DetailsChanges { go_live: Some(Some(day)), ..Default::default() };
    let command = domain::OpportunityCommand::UpdateDetails { changes, at: api::clock::now() };
    let outcome = app.state.bus.execute(id.parse().unwrap(), command, &user).await.unwrap_err();
    let problem = api::error::ApiError::from(outcome);
    assert!(
        matches!(&problem, api::error::ApiError::Rejected(domain::OpportunityError::Invalid(e)) if e.field() == "go_live"),
        "{problem:?}"
    );
    assert_eq!(app.event_count().await, before);
    // And the read model still answers.
    let r = app.get(&format!("/api/opportunities/{id}"), &token).await;
    assert_eq!((r.status, r.body["go_live"].clone()), (StatusCode::OK, Value::Null));
}

async fn with_content_type(
    app: &TestApp,
    token: &str,
    method: Method,
    uri: &str,
    ct: &str,
    body: Value,
) -> Response {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn only_json_media_types_are_read_as_json(pool: sqlx::PgPool) {
    let (app, token, id) = setup(pool).await;
    let opp = format!("/api/opportunities/{id}");
    for ct in ["application/jsonx", "text/html; charset=+json", "text/plain", "application/+json", "json"] {
        let before = app.event_count().await;
        let r = with_content_type(&app, &token, Method::PATCH, &opp, ct, json!({"name": "Renamed"})).await;
        assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
        let r =
            with_content_type(&app, &token, Method::POST, "/api/opportunities", ct, json!({"name": "New"}))
                .await;
        assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
        let r =
            with_content_type(&app, &token, Method::POST, &format!("{opp}/ratecard/build"), ct, json!({}))
                .await;
        assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
        assert_eq!(app.event_count().await, before, "{ct} recorded an event");
    }
    let no_type = Request::builder()
        .method(Method::PATCH)
        .uri(&opp)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(json!({"name": "Renamed"}).to_string()))
        .unwrap();
    assert_problem(&app.send(no_type).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
    for (n, ct) in
        ["application/json; charset=utf-8", "application/merge-patch+json", "Application/Problem+JSON"]
            .into_iter()
            .enumerate()
    {
        let name = format!("Renamed {n}");
        let r = with_content_type(&app, &token, Method::PATCH, &opp, ct, json!({ "name": name })).await;
        assert_eq!(
            (r.status, r.body["name"].as_str()),
            (StatusCode::OK, Some(name.as_str())),
            "{ct}: {}",
            r.body
        );
    }
}

#[test]
fn the_openapi_document_states_the_domain_limits() {
    let doc = serde_json::to_value(api::http::openapi()).unwrap();
    let prop = |schema: &str, field: &str| doc["components"]["schemas"][schema]["properties"][field].clone();
    let cases = [
        ("NewOpportunity", "name", "maxLength", limits::NAME as f64),
        ("NewOpportunity", "description", "maxLength", limits::LONG_TEXT as f64),
        ("NewOpportunity", "brands", "maxItems", limits::LIST_ENTRIES as f64),
        ("NewOpportunity", "model_type", "maxLength", limits::MODEL_TYPE as f64),
        ("NewOpportunity", "owner_email", "maxLength", limits::EMAIL as f64),
        ("OpportunityChanges", "client_name", "maxLength", limits::NAME as f64),
        ("OpportunityChanges", "lessons_learned", "maxLength", limits::LONG_TEXT as f64),
        ("DealStatusChange", "lessons_learned", "maxLength", limits::LONG_TEXT as f64),
        ("NewAsset", "raw_name", "maxLength", limits::ASSET_NAME as f64),
        ("NewAsset", "raw_description", "maxLength", limits::ASSET_DESCRIPTION as f64),
        ("NewAsset", "client_tier", "maxLength", limits::CLIENT_TIER as f64),
        ("NewAsset", "volume", "maximum", f64::from(limits::MAX_VOLUME)),
        ("NewAsset", "volume", "minimum", f64::from(limits::MIN_VOLUME)),
        ("AssetChangesIn", "raw_description", "maxLength", limits::ASSET_DESCRIPTION as f64),
        ("AssetChangesIn", "volume", "maximum", f64::from(limits::MAX_VOLUME)),
        ("ChosenEntry", "reasoning", "maxLength", limits::REASONING as f64),
        ("NewClarificationIn", "question", "maxLength", limits::QUESTION as f64),
        ("NewClarificationIn", "rationale", "maxLength", limits::RATIONALE as f64),
        ("ClarificationUpdate", "client_answer", "maxLength", limits::LONG_TEXT as f64),
        ("ClarificationUpdate", "dismissal_reason", "maxLength", limits::DISMISSAL_REASON as f64),
        ("ScorecardIn", "timing", "maximum", f64::from(domain::qualification::MAX_SCORE)),
        ("ScorecardIn", "notes", "maxLength", limits::NOTES as f64),
        ("ProfileIn", "blanket_pct", "maximum", limits::MAX_PERCENT),
        ("ProfileIn", "tools_applied", "maxItems", limits::TOOLS as f64),
        ("ProfileIn", "notes", "maxLength", limits::NOTES as f64),
    ];
    for (schema, field, keyword, limit) in cases {
        let p = prop(schema, field);
        assert_eq!(p[keyword].as_f64(), Some(limit), "{schema}.{field}.{keyword}: {p}");
    }
}
