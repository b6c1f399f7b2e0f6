//! The committed OpenAPI document is what the code generates, and the server serves it.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn the_committed_spec_is_current() {
    let generated = serde_json::to_string_pretty(&api::http::openapi()).unwrap() + "\n";
    assert!(
        generated == COMMITTED,
        "openapi/openapi.json is stale: run `cargo run -p api --bin osop -- openapi` and commit the result"
    );
}

#[test]
fn every_route_of_the_seed_is_documented() {
    let doc = api::http::openapi();
    for path in [
        "/api/health",
        "/api/users/me",
        "/api/users/{id}/role",
        "/api/opportunities",
        "/api/opportunities/{id}",
        "/api/opportunities/{id}/stages",
        "/api/opportunities/{id}/stages/{n}/complete",
        "/api/opportunities/{id}/stages/{n}/approvals",
        "/api/approvals/{id}",
        "/api/approvals/by-token/{token}",
        "/api/approvals/{id}/decision",
        "/api/notifications",
        "/api/notifications/unread-count",
        "/api/opportunities/{id}/files",
        "/api/opportunities/{id}/events",
        "/api/events",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path} is not documented");
    }
    assert_eq!(doc.info.version, api::http::API_VERSION);
}

/// Every operation of the document, as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// OpenAPI requires operationIds to be unique; generated clients name their methods after them.
#[test]
fn every_operation_has_its_own_snake_case_operation_id() {
    let doc = serde_json::to_value(api::http::openapi()).unwrap();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let here = format!("{method} {path}");
        let Some(id) = op["operationId"].as_str() else {
            problems.push(format!("{here} has no operationId"));
            continue;
        };
        let snake = !id.is_empty()
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !id.contains("__")
            && !id.ends_with('_');
        if !snake {
            problems.push(format!("{here}: operationId {id:?} is not snake_case"));
        }
        if let Some(other) = seen.insert(id.to_string(), here.clone()) {
            problems.push(format!("{here}: operationId {id:?} is also {other}'s"));
        }
    }
    assert!(seen.len() > 20, "only {} operations", seen.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every operation needs the bearer token but the public ones, which say so with an empty
/// requirement.
#[test]
fn the_bearer_scheme_is_declared_and_required_except_where_public() {
    let doc = serde_json::to_value(api::http::openapi()).unwrap();
    let scheme = &doc["components"]["securitySchemes"][api::http::BEARER_SCHEME];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    assert_eq!(doc["security"], json!([{ api::http::BEARER_SCHEME: [] }]));
    for (method, path, op) in operations(&doc) {
        // The authorization matrix (tests/authorization.rs) is where who may call what is proven.
        if path == "/api/health" {
            assert_eq!(op["security"], json!([{}]), "{method} {path} is public");
        } else {
            assert!(op.get("security").is_none(), "{method} {path} must inherit the bearer requirement");
            assert!(op["responses"].get("401").is_some(), "{method} {path} does not document its 401");
        }
    }
    assert!(
        !doc["info"]["license"]["name"].as_str().unwrap_or_default().is_empty(),
        "the license has no name"
    );
}

/// Schemas that say only "an object" tell a client nothing: a bare `{"type": "object"}` anywhere
/// in the document is a handler's answer (or part of one) left untyped.
#[test]
fn no_schema_is_a_bare_object() {
    fn walk(at: &str, v: &Value, found: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                let bare = o.get("type") == Some(&json!("object"))
                    && !["properties", "additionalProperties", "allOf", "oneOf", "anyOf", "$ref"]
                        .iter()
                        .any(|k| o.contains_key(*k));
                if bare {
                    found.push(at.to_string());
                }
                for (k, v) in o {
                    walk(&format!("{at}/{k}"), v, found);
                }
            }
            Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| walk(&format!("{at}/{i}"), v, found)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(api::http::openapi()).unwrap();
    let mut found = Vec::new();
    walk("#", &doc, &mut found);
    assert!(found.is_empty(), "untyped objects at:\n{}", found.join("\n"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_spec_and_its_docs_page_are_served(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let spec = app.get("/api/openapi.json", "").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body, serde_json::from_str::<serde_json::Value>(COMMITTED).unwrap());
    let page = app.get("/api/docs", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        String::from_utf8_lossy(&page.bytes).contains("/api/openapi.json")
            || String::from_utf8_lossy(&page.bytes).contains("openapi")
    );
}
