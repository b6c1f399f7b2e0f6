//! A request body must arrive whole within `BODY_READ_TIMEOUT_SECS` of its head.
//!
//! Without a deadline a client trickling a body (a byte now and then) holds its connection, a
//! handler and whatever that handler buffered for as long as it likes. The deadline is for the
//! whole body, not between chunks (as `tower_http`'s `RequestBodyTimeoutLayer` has it), since a
//! trickle never pauses long. Past it the body fails; whatever the handler made of the broken body
//! (a 400 or 413, nothing stored) is replaced by a 408 problem with `Connection: close`, as the
//! rest of the body will never be read.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::Problem;

/// The middleware; its state is the body timeout.
pub async fn enforce(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + timeout;
    let request =
        request.map(|body| Body::new(DeadlineBody { body, deadline, sleep: None, expired: expired.clone() }));
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!(timeout_secs = timeout.as_secs(), "request body not received in time");
    timed_out(timeout)
}

fn timed_out(timeout: Duration) -> Response {
    let status = StatusCode::REQUEST_TIMEOUT;
    let body = Problem {
        kind: "/problems/body-timeout".into(),
        title: status.canonical_reason().unwrap_or("Request Timeout").into(),
        status: status.as_u16(),
        detail: format!(
            "the request body did not arrive within {} s of its headers (BODY_READ_TIMEOUT_SECS)",
            timeout.as_secs()
        ),
        field: Some("body".into()),
    };
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The request body, failing once the deadline has passed.
struct DeadlineBody {
    body: Body,
    deadline: Instant,
    /// Made on the first read that has to wait, so a body read at once costs no timer.
    sleep: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
}

/// The error the body gives once its time is up (the response never shows it).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
