//! Oversized headers are answered as problems, before anything reads them.
//!
//! An Entra ID access token is a few KB (group overage keeps even a large one under ~10 KB), so
//! a longer header is refused with a 431 problem naming it, whatever the route. hyper itself cuts
//! off a request head beyond its read buffer (`max_buf_size`) with a bare 431 before any of our
//! code runs, so that buffer must stay well above this limit: everything between the two gets
//! this problem.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The longest header value accepted, in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn refuse_oversized(request: Request, next: Next) -> Response {
    let oversized = request.headers().iter().find(|(_, value)| value.len() > MAX_HEADER_BYTES);
    if let Some((name, value)) = oversized {
        // Header names are kept in lower case; the problem names them as people write them.
        let field = match name.as_str() {
            "authorization" => "Authorization".to_string(),
            other => other.to_string(),
        };
        return ApiError::HeaderTooLarge { field, size: value.len(), limit: MAX_HEADER_BYTES }
            .into_response();
    }
    next.run(request).await
}
