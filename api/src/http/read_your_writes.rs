//! A write's answer never contradicts what was stored: when the request's commands were recorded
//! but the read models do not show them yet (a projection is slow, stopped at an event it cannot
//! apply, or a long transaction elsewhere holds the log back), the handler's read-back (a 404, or
//! old data) is replaced by 202 Accepted with the opportunity's `Location`. The change is durable;
//! the client reads it there shortly, and must not send it again.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::visibility;

/// The body of such an answer.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// Always `recorded`.
    pub status: &'static str,
    pub detail: &'static str,
    /// Where the result can be read once the read models show it.
    pub location: String,
}

pub async fn answer_from_the_log(request: Request, next: Next) -> Response {
    if !super::is_documented_write(&request) {
        return next.run(request).await;
    }
    let (response, behind) = visibility::scope(next.run(request)).await;
    let read_back = response.status().is_success() || response.status() == StatusCode::NOT_FOUND;
    match behind {
        Some(opportunity) if read_back => {
            let location = format!("/api/opportunities/{opportunity}");
            let body = Accepted {
                status: "recorded",
                detail: "The change is recorded, but the read models do not show it yet: read it at \
                         Location shortly, and do not send it again.",
                location: location.clone(),
            };
            let mut answer = (StatusCode::ACCEPTED, Json(body)).into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                answer.headers_mut().insert(header::LOCATION, value);
            }
            answer.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            answer
        }
        _ => response,
    }
}
