//! The agent work queue: each `AgentRunRequested` in the log becomes one message on
//! `<prefix>.agents.requests.<agent>` (work-queue retention, `Nats-Msg-Id` = run id), published
//! from its own checkpoint like the integration feed.

use std::time::Duration;

use async_nats::jetstream::{self, stream::RetentionPolicy};
use sqlx::PgPool;

use crate::integration_feed::{cloud_event, FeedError, LogPublisher, Route};

/// Checkpoint name of the agent-request publisher.
pub const CHECKPOINT: &str = "agent_requests";

/// The stream holding agent requests (and dead letters) for a subject prefix.
pub fn stream_name(base: &str) -> String {
    format!("{base}_AGENT_REQUESTS")
}

pub fn requests_subject(prefix: &str) -> String {
    format!("{prefix}.agents.requests")
}

pub fn dead_letter_subject(prefix: &str) -> String {
    format!("{prefix}.agents.dead")
}

/// Creates the work-queue stream if it is not there yet. Both sides call it: the publisher that
/// fills the queue and the workers that read it, whichever starts first.
pub async fn ensure_stream(
    client: async_nats::Client,
    stream_base: &str,
    prefix: &str,
) -> Result<(), FeedError> {
    jetstream::new(client)
        .get_or_create_stream(jetstream::stream::Config {
            name: stream_name(stream_base),
            subjects: vec![
                format!("{}.>", requests_subject(prefix)),
                format!("{}.>", dead_letter_subject(prefix)),
            ],
            retention: RetentionPolicy::WorkQueue,
            duplicate_window: Duration::from_secs(15 * 60),
            ..Default::default()
        })
        .await
        .map_err(|e| FeedError::Nats(e.to_string()))?;
    Ok(())
}

/// Creates the work-queue stream if needed and returns the publisher feeding it from the log.
pub async fn connect(
    pool: PgPool,
    client: async_nats::Client,
    stream_base: &str,
    prefix: &str,
) -> Result<LogPublisher, FeedError> {
    ensure_stream(client.clone(), stream_base, prefix).await?;
    let subject = requests_subject(prefix);
    let route: Route = Box::new(move |e| {
        if e.event_type != "AgentRunRequested" {
            return None;
        }
        let data = e.data();
        let agent = data.get("agent")?.as_str()?;
        let run_id = data.get("run_id")?.as_str()?;
        Some((format!("{subject}.{agent}"), run_id.to_string(), cloud_event(e)))
    });
    let max_payload = client.server_info().max_payload;
    Ok(LogPublisher::new(pool, jetstream::new(client), CHECKPOINT, route, max_payload))
}
