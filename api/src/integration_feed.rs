//! The integration feed: every event of the ordered log published to NATS JetStream as a
//! CloudEvents 1.0 JSON message, in log order, from a checkpoint.
//!
//! Published at least once: a crash between the publish and the checkpoint re-publishes, and
//! JetStream drops the copy because `Nats-Msg-Id` is the event's stable id.

use std::time::Duration;

use async_nats::jetstream::{self, context::Publish};
use projections::StoredEvent;
use serde_json::{json, Value};
use sqlx::PgPool;
use thiserror::Error;
use tokio::sync::watch;

/// Checkpoint name of the feed in `projection_checkpoints`.
pub const CHECKPOINT: &str = "integration_feed";
const BATCH: i64 = 500;
/// How long JetStream remembers message ids: longer than any gap between publish and checkpoint.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Error)]
pub enum FeedError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("NATS: {0}")]
    Nats(String),
}

fn nats(e: impl std::fmt::Display) -> FeedError {
    FeedError::Nats(e.to_string())
}

/// What to publish for a logged event: subject, message id and body; `None` skips the event.
pub type Route = Box<dyn Fn(&StoredEvent) -> Option<(String, String, Value)> + Send + Sync>;

/// Publishes the ordered log, from its own checkpoint, to JetStream through a `Route`.
pub struct LogPublisher {
    pool: PgPool,
    js: jetstream::Context,
    checkpoint: &'static str,
    route: Route,
    /// Largest message body the server takes (its `max_payload`, less room for headers).
    max_body: usize,
}

/// Room left in a message for its headers.
const HEADER_ROOM: usize = 16 * 1024;

/// A CloudEvent too large for one message, as a claim check: its `data` is left out and
/// `dataref` (the CloudEvents extension for this) says where to read it, here the global feed's
/// page holding exactly this event. `osopdatasize` gives the size of what was left out.
pub fn claim_check(mut event: Value, body_size: usize) -> Value {
    let position = event["osopposition"].as_i64().unwrap_or(0);
    if let Some(fields) = event.as_object_mut() {
        fields.remove("data");
        fields.remove("datacontenttype");
        fields.insert("dataref".into(), Value::from(format!("/api/events?after={}&limit=1", position - 1)));
        fields.insert("osopdatasize".into(), Value::from(body_size));
    }
    event
}

/// The integration feed: every event, on `<prefix>.events.opportunity.<EventType>`.
pub type IntegrationFeed = LogPublisher;

/// The CloudEvents 1.0 envelope of a stored event.
pub fn cloud_event(e: &StoredEvent) -> Value {
    let metadata = e.metadata();
    let mut event = json!({
        "specversion": "1.0",
        "id": e.id().to_string(),
        "source": format!("/osop/opportunities/{}", e.aggregate_id),
        "type": format!("osop.opportunity.{}.v{}", e.event_type, e.event_version),
        "subject": e.aggregate_id,
        "time": e.recorded_at.to_rfc3339(),
        "datacontenttype": "application/json",
        "osopposition": e.position,
        "osopversion": e.sequence,
        "osopactor": metadata.user_email,
        "data": e.data(),
    });
    // The request (or agent run) that caused it; workers carry it on to the events they record.
    if let Some(correlation) = metadata.correlation_id {
        event["osopcorrelationid"] = Value::from(correlation);
    }
    event
}

impl LogPublisher {
    /// Connects the integration feed, creating its stream (`<prefix>.events.>`) if it does not exist.
    pub async fn connect(
        pool: PgPool,
        client: async_nats::Client,
        stream: &str,
        subject_prefix: &str,
    ) -> Result<Self, FeedError> {
        let max_payload = client.server_info().max_payload;
        let js = jetstream::new(client);
        js.get_or_create_stream(jetstream::stream::Config {
            name: stream.to_string(),
            subjects: vec![format!("{subject_prefix}.events.>")],
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await
        .map_err(nats)?;
        let prefix = subject_prefix.to_string();
        let route: Route = Box::new(move |e| {
            let subject = format!("{prefix}.events.{}.{}", e.aggregate_type.to_lowercase(), e.event_type);
            Some((subject, e.id().to_string(), cloud_event(e)))
        });
        Ok(Self::new(pool, js, CHECKPOINT, route, max_payload))
    }

    /// A publisher of the log through `route`, from the checkpoint named `checkpoint`; events
    /// whose message would exceed `max_payload` go out as claim checks.
    pub fn new(
        pool: PgPool,
        js: jetstream::Context,
        checkpoint: &'static str,
        route: Route,
        max_payload: usize,
    ) -> Self {
        Self { pool, js, checkpoint, route, max_body: max_payload.saturating_sub(HEADER_ROOM).max(4 * 1024) }
    }

    /// Publishes every event after the checkpoint, batch by batch; returns how many were sent.
    /// An advisory lock on the checkpoint's name is held while a batch is in flight, so two
    /// processes never interleave the feed.
    ///
    /// Not a row lock (`FOR UPDATE`): that gives the transaction an id, and while NATS is slow or
    /// down the open transaction would hold back the sequencer's horizon
    /// (`pg_snapshot_xmin`), stalling every read model and every command waiting for them.
    pub async fn publish_pending(&self) -> Result<u64, FeedError> {
        let mut sent = 0;
        sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(self.checkpoint)
            .execute(&self.pool)
            .await?;
        loop {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("osop.log-publisher.{}", self.checkpoint))
                .execute(&mut *tx)
                .await?;
            let checkpoint: i64 =
                sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
                    .bind(self.checkpoint)
                    .fetch_one(&mut *tx)
                    .await?;
            let batch = StoredEvent::read_after(&mut *tx, checkpoint, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.position) else { return Ok(sent) };
            // Send the whole batch, then wait for the acks in order: one connection keeps the order.
            let mut acks = Vec::with_capacity(batch.len());
            for (subject, id, body) in batch.iter().filter_map(|e| (self.route)(e)) {
                let mut payload = body.to_string();
                if payload.len() > self.max_body {
                    let size = payload.len();
                    payload = claim_check(body, size).to_string();
                    metrics::counter!("osop_feed_claim_checks_total", "checkpoint" => self.checkpoint)
                        .increment(1);
                    tracing::info!(
                        subject,
                        size,
                        "event too large for one message: published as a claim check"
                    );
                }
                let publish = Publish::build()
                    .message_id(id)
                    .header("Content-Type", "application/cloudevents+json")
                    .payload(payload.into());
                acks.push(self.js.send_publish(subject, publish).await.map_err(nats)?);
            }
            let acks_sent = acks.len() as u64;
            for ack in acks {
                ack.await.map_err(nats)?;
            }
            sqlx::query(
                "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1",
            )
            .bind(self.checkpoint)
            .bind(last)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            sent += acks_sent;
            if (batch.len() as i64) < BATCH {
                return Ok(sent);
            }
        }
    }

    /// Keeps publishing until `shutdown` fires; while NATS is down the feed waits and catches up.
    /// It wakes when `advanced` ticks (a commit in this process was sequenced) and otherwise every
    /// `every`, for events appended by other processes.
    pub async fn run(
        &self,
        mut shutdown: watch::Receiver<bool>,
        every: Duration,
        mut advanced: watch::Receiver<i64>,
    ) {
        loop {
            if let Err(e) = self.publish_pending().await {
                // Reported, never silent: the log, a counter, and the checkpoint's lag in health.
                metrics::counter!("osop_feed_publish_failures_total", "checkpoint" => self.checkpoint)
                    .increment(1);
                tracing::warn!(checkpoint = self.checkpoint, error = %e, "publishing the log paused; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                Ok(()) = advanced.changed() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
