//! Reads `If-Match` on writes and puts it in force for the commands the request sends
//! (checked in the command bus, see `crate::precondition`).

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::precondition::{self, Expected};

pub async fn if_match(request: Request, next: Next) -> Response {
    let Some(value) =
        request.headers().get(header::IF_MATCH).filter(|_| super::is_documented_write(&request))
    else {
        return next.run(request).await;
    };
    let parsed =
        value.to_str().map_err(|_| "If-Match must be printable ASCII".to_string()).and_then(Expected::parse);
    match parsed {
        Ok(Some(expected)) => precondition::scope(expected, next.run(request)).await,
        Ok(None) => next.run(request).await,
        Err(message) => ApiError::BadHeader { field: "If-Match", message }.into_response(),
    }
}
