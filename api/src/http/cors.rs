//! Cross-origin access for a browser frontend served from another origin (the original system's
//! single-page app runs on its own dev-server port): only the origins configured are let in.

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request headers our API reads beyond the simple ones.
const ALLOWED: [HeaderName; 8] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    HeaderName::from_static("idempotency-key"),
    HeaderName::from_static("prefer"),
    HeaderName::from_static("x-request-id"),
    header::ACCEPT,
];

/// The response headers a script may read: versions, created resources, paging, back-off, ids.
const EXPOSED: [HeaderName; 8] = [
    header::ETAG,
    header::LOCATION,
    HeaderName::from_static("x-total-count"),
    header::RETRY_AFTER,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("idempotent-replayed"),
    HeaderName::from_static("preference-applied"),
    header::CONTENT_DISPOSITION,
];

/// The CORS layer for `origins`; None when no origin is allowed, so no CORS header is ever sent
/// and preflights are left to the router like any other request.
pub fn layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers(ALLOWED)
            .expose_headers(EXPOSED)
            .max_age(std::time::Duration::from_secs(600)),
    )
}
