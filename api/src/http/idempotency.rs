//! Retry-safe writes (the IETF httpapi `Idempotency-Key` draft): a retried POST, PATCH, PUT or
//! DELETE with the same key and the same request answers with the first response instead of running
//! again; the same key with another request is a 422; a retry while the first is in flight a 409.
//! Keys are scoped per signed-in user and kept for a day.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::auth::User;
use crate::error::ApiError;
use crate::startup::AppState;

pub const HEADER: &str = "idempotency-key";
/// Marks a response that was replayed from the first request's.
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_KEY_LEN: usize = 255;
/// A first request still in flight after this long died with its process (longer than any
/// `?wait`), so a retry may take its key over.
const ABANDONED_AFTER_SECS: i64 = 300;
/// The response headers that are part of the answer, and so are replayed.
const KEPT_HEADERS: [HeaderName; 4] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG, header::ALLOW];

/// The key as sent: a structured-field string (`"abc"`) or, leniently, the bare token.
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let bad = |message: &str| ApiError::BadHeader { field: "Idempotency-Key", message: message.into() };
    let text = value.to_str().map_err(|_| bad("Idempotency-Key must be printable ASCII"))?.trim();
    let key = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(bad("Idempotency-Key must be 1 to 255 characters"));
    }
    if !key.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        return Err(bad("Idempotency-Key must be printable ASCII without quotes or backslashes"));
    }
    Ok(key.to_string())
}

/// What makes two requests "the same": method, path and query, media type and body. A multipart
/// boundary is chosen afresh by each client retry, so it is left out.
fn fingerprint(parts: &Parts, body: &[u8]) -> Vec<u8> {
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (media_type, boundary) = match content_type.split_once(';') {
        Some((media, params)) => {
            let boundary = params
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("boundary="))
                .map(|b| b.trim_matches('"'))
                .find(|b| !b.is_empty());
            (media.trim(), boundary)
        }
        None => (content_type.trim(), None),
    };
    let mut digest = Sha256::new();
    digest.update(parts.method.as_str());
    digest.update(b"\n");
    digest.update(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""));
    digest.update(b"\n");
    digest.update(media_type.to_ascii_lowercase());
    digest.update(b"\n");
    match boundary {
        Some(b) => memchr::memmem::find_iter(body, b.as_bytes()).chain(std::iter::once(body.len())).fold(
            0,
            |from, at| {
                digest.update(&body[from..at]);
                (at + b.len()).min(body.len())
            },
        ),
        None => {
            digest.update(body);
            0
        }
    };
    digest.finalize().to_vec()
}

/// A kept key: the request's fingerprint and, once answered, the answer.
#[derive(sqlx::FromRow)]
struct Kept {
    fingerprint: Vec<u8>,
    status: Option<i32>,
    headers: Option<serde_json::Value>,
    body: Option<Vec<u8>>,
}

enum Claim {
    /// The key is ours to process.
    Fresh,
    Replay(Response),
    InFlight,
    OtherRequest,
}

/// Takes the key for this request, or says why not. An expired key, or an abandoned one of the
/// same request, is taken over.
async fn claim(pool: &PgPool, caller: &str, key: &str, fingerprint: &[u8]) -> Result<Claim, sqlx::Error> {
    for _ in 0..3 {
        let taken: Option<bool> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (caller, key, fingerprint) VALUES ($1, $2, $3)
             ON CONFLICT (caller, key) DO UPDATE
               SET fingerprint = EXCLUDED.fingerprint, status = NULL, headers = NULL, body = NULL,
                   started_at = now(), completed_at = NULL
             WHERE idempotency_keys.started_at < now() - interval '24 hours'
                OR (idempotency_keys.status IS NULL
                    AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
                    AND idempotency_keys.started_at < now() - make_interval(secs => $4))
             RETURNING true",
        )
        .bind(caller)
        .bind(key)
        .bind(fingerprint)
        .bind(ABANDONED_AFTER_SECS as f64)
        .fetch_optional(pool)
        .await?;
        if taken.is_some() {
            return Ok(Claim::Fresh);
        }
        let row: Option<Kept> = sqlx::query_as(
            "SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE caller = $1 AND key = $2",
        )
        .bind(caller)
        .bind(key)
        .fetch_optional(pool)
        .await?;
        // Gone in between: the first request failed on our side and let the key go; try again.
        let Some(Kept { fingerprint: stored, status, headers, body }) = row else { continue };
        if stored != fingerprint {
            return Ok(Claim::OtherRequest);
        }
        let Some(status) = status else { return Ok(Claim::InFlight) };
        return Ok(Claim::Replay(replay(status, headers, body.unwrap_or_default())));
    }
    Ok(Claim::InFlight)
}

fn replay(status: i32, headers: Option<serde_json::Value>, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    if let Some(serde_json::Value::Object(map)) = headers {
        for (name, value) in map {
            let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str))
            else {
                continue;
            };
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Keeps the answer for retries; an answer that failed on our side (5xx) keeps nothing, so a retry
/// runs again.
async fn settle(pool: &PgPool, caller: &str, key: &str, response: Response) -> Response {
    let forget = || async {
        let forgot = sqlx::query("DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2")
            .bind(caller)
            .bind(key)
            .execute(pool)
            .await;
        if let Err(e) = forgot {
            tracing::warn!(error = %e, "idempotency key not released; it is taken over after it is abandoned");
        }
    };
    if response.status().is_server_error() {
        forget().await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            forget().await;
            return ApiError::Internal(format!("response body: {e}")).into_response();
        }
    };
    let kept = kept_headers(&parts.headers);
    let stored = sqlx::query(
        "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5, completed_at = now()
          WHERE caller = $1 AND key = $2",
    )
    .bind(caller)
    .bind(key)
    .bind(parts.status.as_u16() as i32)
    .bind(kept)
    .bind(bytes.as_ref())
    .execute(pool)
    .await;
    if let Err(e) = stored {
        tracing::warn!(error = %e, "idempotent response not kept; a retry will be refused as in flight until the key is abandoned");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn kept_headers(headers: &HeaderMap) -> serde_json::Value {
    let map = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_string(), serde_json::Value::String(value.to_string())))
        })
        .collect();
    serde_json::Value::Object(map)
}

/// The middleware: only writes that carry the header, from a signed-in caller, are affected; an
/// unauthenticated one goes on to be refused by its handler as usual.
pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !super::is_documented_write(&request) {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else { return next.run(request).await };
    let key = match parse_key(value) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let Ok(user) = User::from_request_parts(&mut parts, &state).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let limit = state.settings.max_upload_bytes + 1024 * 1024;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let message = format!("the request body is larger than {limit} bytes");
            return ApiError::TooLarge { field: "body".into(), message }.into_response();
        }
    };
    let caller = user.email.to_lowercase();
    // Now and then, forget the keys of past days (their retries are over).
    if rand::random::<u8>() == 0 {
        let _ = sqlx::query("DELETE FROM idempotency_keys WHERE started_at < now() - interval '24 hours'")
            .execute(&state.pool)
            .await;
    }
    match claim(&state.pool, &caller, &key, &fingerprint(&parts, &bytes)).await {
        Ok(Claim::Fresh) => {}
        Ok(Claim::Replay(response)) => return response,
        Ok(Claim::InFlight) => return ApiError::RequestInFlight.into_response(),
        Ok(Claim::OtherRequest) => return ApiError::IdempotencyKeyReused.into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    settle(&state.pool, &caller, &key, response).await
}
