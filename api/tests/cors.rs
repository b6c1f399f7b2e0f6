//! A browser frontend on another origin (the original system's dev server runs on its own port):
//! the origins in CORS_ALLOWED_ORIGINS may call the API with our headers and read the ones we
//! send back; any other origin, and every origin when none is configured, gets no CORS header.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;

const FRONTEND: &str = "http://localhost:3011";

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/opportunities/00000000-0000-0000-0000-000000000001/intake")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type, idempotency-key, if-match, prefer, x-request-id",
        )
        .body(Body::empty())
        .unwrap()
}

fn listed(value: Option<&axum::http::HeaderValue>) -> Vec<String> {
    value
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').map(|h| h.trim().to_lowercase()).collect())
        .unwrap_or_default()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_allowed_origin_passes_the_preflight_and_reads_our_headers(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.cors_allowed_origins = vec![FRONTEND.parse().unwrap()]).await;
    let r = app.send(preflight(FRONTEND)).await;
    assert!(r.status.is_success(), "{:?}", r.status);
    assert_eq!(r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], FRONTEND);
    let methods = listed(r.headers.get(header::ACCESS_CONTROL_ALLOW_METHODS));
    for m in ["get", "post", "put", "patch", "delete"] {
        assert!(methods.contains(&m.to_string()), "{methods:?}");
    }
    let allowed = listed(r.headers.get(header::ACCESS_CONTROL_ALLOW_HEADERS));
    for h in ["authorization", "content-type", "idempotency-key", "if-match", "prefer", "x-request-id"] {
        assert!(allowed.contains(&h.to_string()), "{h} not allowed: {allowed:?}");
    }

    // The real request: the browser may read the version, the location, paging and back-off.
    let token = app.editor().await;
    let request = Request::builder()
        .method(Method::GET)
        .uri("/api/opportunities")
        .header(header::ORIGIN, FRONTEND)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let r = app.send(request).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], FRONTEND);
    let exposed = listed(r.headers.get(header::ACCESS_CONTROL_EXPOSE_HEADERS));
    for h in ["etag", "location", "x-total-count", "retry-after"] {
        assert!(exposed.contains(&h.to_string()), "{h} not exposed: {exposed:?}");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn other_origins_get_no_cors_headers(pool: sqlx::PgPool) {
    let app = TestApp::with(pool, |s| s.cors_allowed_origins = vec![FRONTEND.parse().unwrap()]).await;
    let r = app.send(preflight("https://evil.example")).await;
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{:?}", r.headers);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn without_configured_origins_there_is_no_cors(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let r = app.send(preflight(FRONTEND)).await;
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{:?}", r.headers);
    assert!(r.is_problem(), "an OPTIONS the API does not document is a problem like any other");
}
