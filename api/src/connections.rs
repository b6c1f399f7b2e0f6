//! The HTTP listener of `osop serve`: it accepts connections up to a cap and closes those that hold
//! a slot without using it, so no client can pile up memory or connections by being slow.
//!
//! - At most `MAX_CONNECTIONS` are open at once. Past that, new connections are not accepted: they
//!   wait in the kernel's backlog until one closes, while the open ones keep being served.
//! - A request head (request line and headers) must arrive whole within `HEADER_READ_TIMEOUT_SECS`
//!   of its first byte, or of the connection opening for its first request; else the connection
//!   is closed. (The body's deadline is `http::body_deadline`'s.)
//! - A connection with no request in flight and no byte moving either way for `IDLE_TIMEOUT_SECS`
//!   is closed (keep-alive connections left open, responses the client stopped reading).
//! - On Ctrl-C or SIGTERM the listener closes, idle connections are closed, requests in flight are
//!   answered, then `serve` returns.
//!
//! Why not `axum::serve`: besides having none of these limits, it gives every connection its own
//! deep copy of the router (`Router::with_state` on a shared router clones each route's layer
//! stack, the OpenAPI document and the docs page): 2.8 MB an idle connection, measured. Here the
//! router is finished once and each connection shares it (an `Arc` clone); an idle connection
//! then costs hyper's two 8 KiB buffers and the task (see `osop bench --only connections`).
//!
//! hyper's own `header_read_timeout` is not used: it runs from the moment hyper waits for a head,
//! so it would also close every keep-alive connection after the header timeout, whatever
//! `IDLE_TIMEOUT_SECS` says. The watchdog here tells the two apart with what the connection's
//! bytes and requests show.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::error::ConfigError;
use crate::config::source::Reader;

/// The limits on connections (see the module documentation for what each means).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `MAX_CONNECTIONS`: connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// `HEADER_READ_TIMEOUT_SECS`: how long a request head may take to arrive.
    pub header_read_timeout: Duration,
    /// `BODY_READ_TIMEOUT_SECS`: how long a request body may take to arrive, from its head.
    pub body_read_timeout: Duration,
    /// `IDLE_TIMEOUT_SECS`: how long a connection may sit with no request and no traffic.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// Generous for people (a 25 MiB upload needs ~2 Mbit/s to arrive within the body timeout),
    /// tight for a client that holds connections open on purpose.
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl ConnectionLimits {
    /// Reads `MAX_CONNECTIONS` and the three timeouts; a value out of range names its variable.
    pub(crate) fn read(env: &Reader) -> Result<Self, ConfigError> {
        let d = Self::default();
        let secs = |name, default: Duration, max, expected| {
            env.number(name, default.as_secs(), 1..=max, expected).map(Duration::from_secs)
        };
        Ok(Self {
            max_connections: env.number(
                "MAX_CONNECTIONS",
                d.max_connections as u64,
                1..=100_000,
                "a whole number of connections, 1 to 100000",
            )? as usize,
            header_read_timeout: secs(
                "HEADER_READ_TIMEOUT_SECS",
                d.header_read_timeout,
                300,
                "seconds, 1 to 300",
            )?,
            body_read_timeout: secs(
                "BODY_READ_TIMEOUT_SECS",
                d.body_read_timeout,
                3_600,
                "seconds, 1 to 3600",
            )?,
            idle_timeout: secs("IDLE_TIMEOUT_SECS", d.idle_timeout, 3_600, "seconds, 1 to 3600")?,
        })
    }
}

/// The largest request head hyper buffers (431 past it). Its default, ~400 KiB, let each slow
/// client hold that much; 64 KiB is four times the longest header `http::header_limits` accepts.
const MAX_BUF_SIZE: usize = 64 * 1024;

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then stops accepting,
/// lets the open connections finish what they are answering, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    // Finished once here (every route turned into its service) and shared by every connection.
    let router = router.with_state::<()>(());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.keep_alive(true).header_read_timeout(None).max_buf_size(MAX_BUF_SIZE);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        // Small responses go out at once rather than waiting for Nagle's timer.
        let _ = stream.set_nodelay(true);
        let (router, http, stopping) = (router.clone(), http.clone(), stopping.clone());
        tokio::spawn(async move {
            metrics::gauge!("osop_http_connections").increment(1.0);
            connection(stream, router, http, limits, stopping).await;
            metrics::gauge!("osop_http_connections").decrement(1.0);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it ends: all slots back means all connections closed.
    let _ = slots.acquire_many(limits.max_connections as u32).await;
    Ok(())
}

/// A failed accept: a client that gave up is nothing; running out of file descriptors (or memory)
/// is logged and waited out, since retrying at once would only spin.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Serves one connection until it ends, the watchdog closes it, or (on shutdown) it has answered
/// what it was answering.
async fn connection(
    stream: TcpStream,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { stream, activity: activity.clone() });
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = InFlight::begin(requests.clone());
        let answer = router.clone().oneshot(request.map(axum::body::Body::new));
        async move {
            let response = answer.await;
            drop(in_flight);
            response
        }
    });
    let mut conn = pin!(http.serve_connection(io, service));
    let check = tokio::time::sleep(limits.header_read_timeout);
    let mut check = pin!(check);
    let mut draining = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = check.as_mut() => match activity.verdict(&limits) {
                Verdict::CheckAt(at) => check.as_mut().reset(at),
                Verdict::Close(reason) => {
                    tracing::debug!(reason, "closing a connection");
                    metrics::counter!("osop_http_connections_closed_total", "reason" => reason).increment(1);
                    return;
                }
            },
            _ = stopping.wait_for(|stop| *stop), if !draining => {
                // Idle: closed now; answering: closed once the answer is out.
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    }
}

/// What the watchdog decided.
enum Verdict {
    CheckAt(Instant),
    /// Close the connection, for this reason (a metric label).
    Close(&'static str),
}

/// What one connection has been doing, as milliseconds since it opened. Written by its socket
/// reads and writes and by its requests, read by its watchdog; all on the connection's own task,
/// so relaxed atomics suffice (they are atomics only because the task must be `Send`).
struct Activity {
    opened: Instant,
    /// Requests whose answer is being made.
    in_flight: AtomicU32,
    /// The last byte read or written, request begun or answered.
    last_progress: AtomicU64,
    /// When the head now being read began, + 1 (0: no head is being read).
    head_began: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        // A new connection is waiting for its first head from the start.
        Self {
            opened: Instant::now(),
            in_flight: AtomicU32::new(0),
            last_progress: AtomicU64::new(0),
            head_began: AtomicU64::new(1),
        }
    }

    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn at(&self, millis: u64) -> Instant {
        self.opened + Duration::from_millis(millis)
    }

    fn read(&self) {
        let now = self.now();
        self.last_progress.store(now, Ordering::Relaxed);
        // Bytes with no request in flight are the start of the next head.
        if self.in_flight.load(Ordering::Relaxed) == 0 && self.head_began.load(Ordering::Relaxed) == 0 {
            self.head_began.store(now + 1, Ordering::Relaxed);
        }
    }

    fn wrote(&self) {
        self.last_progress.store(self.now(), Ordering::Relaxed);
    }

    fn verdict(&self, limits: &ConnectionLimits) -> Verdict {
        let now = self.now();
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            // The handler has its own bounds (the body deadline, its waits); look again later.
            return Verdict::CheckAt(self.at(now) + limits.header_read_timeout.min(limits.idle_timeout));
        }
        let (since, limit, reason) = match self.head_began.load(Ordering::Relaxed) {
            0 => (self.last_progress.load(Ordering::Relaxed), limits.idle_timeout, "idle_timeout"),
            began => (began - 1, limits.header_read_timeout, "header_read_timeout"),
        };
        let deadline = since + limit.as_millis() as u64;
        if now >= deadline {
            Verdict::Close(reason)
        } else {
            Verdict::CheckAt(self.at(deadline))
        }
    }
}

/// One request being answered on a connection, from its complete head to its response's head.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.head_began.store(0, Ordering::Relaxed);
        activity.wrote();
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.wrote();
    }
}

/// The socket, telling the connection's `Activity` when bytes move.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
