//! The request id: taken from `x-request-id` when it is short and printable, made up otherwise,
//! echoed on the response, put in the request's span, and made current for the commands the
//! request sends (their events carry it as `correlation_id`).

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

use crate::correlation::CorrelationId;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware: outermost, so the span and every handler see the id.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(CorrelationId::parse)
        .unwrap_or_else(CorrelationId::generate);
    request.extensions_mut().insert(id.clone());
    let mut response = id.clone().scope(next.run(request)).await;
    // Visible ASCII only, so it is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// The span of one request (for `TraceLayer`): the route template, not the raw path, and the id.
pub fn span(request: &axum::http::Request<Body>) -> Span {
    let id = request.extensions().get::<CorrelationId>().map(CorrelationId::as_str).unwrap_or_default();
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("unmatched");
    tracing::info_span!("request", method = %request.method(), route, request_id = id)
}
