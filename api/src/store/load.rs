//! Reading an opportunity's history. A command's load is one statement: the latest usable snapshot
//! and the events after it come back together, so the decision waits for one round trip, not two.

use std::collections::HashMap;

use cqrs_es::{Aggregate, EventEnvelope};
use domain::{Opportunity, OpportunityEvent};
use sqlx::PgPool;

use super::{database_error, Err, SNAPSHOT_SCHEMA};

/// The snapshot (when its schema is current) as the first row, then the events after it. The
/// snapshot's `last_sequence` is below every event row's sequence, so ordering by sequence puts it
/// first. Both payloads come back as text: `serde_json` reads the state and events straight from
/// it, and a snapshot it cannot read is detected here, in Rust, where it is only a cache miss.
const LATEST: &str = "
WITH snapshot AS (
    SELECT last_sequence, payload FROM aggregate_snapshots
     WHERE aggregate_type = $1 AND aggregate_id = $2 AND schema_version = $3
)
SELECT last_sequence AS sequence, TRUE AS is_snapshot, payload::text AS payload FROM snapshot
UNION ALL
SELECT sequence, FALSE, payload::text FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
   AND sequence > COALESCE((SELECT last_sequence FROM snapshot), 0)
ORDER BY sequence";

/// Events up to a version, for replays that ignore snapshots.
const UP_TO: &str = "
SELECT sequence, payload::text FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence <= $3
 ORDER BY sequence";

/// Every event with its metadata, for cqrs-es's `load_events`.
const ENVELOPES: &str = "
SELECT sequence, payload::text, metadata::text FROM events
 WHERE aggregate_type = $1 AND aggregate_id = $2
 ORDER BY sequence";

/// The current state and version: from the latest snapshot when there is one that still reads,
/// otherwise replayed from zero (the one case that takes a second statement).
pub(super) async fn latest(pool: &PgPool, id: &str) -> Result<(Opportunity, usize), Err> {
    let rows: Vec<(i64, bool, String)> = sqlx::query_as(LATEST)
        .bind(Opportunity::TYPE)
        .bind(id)
        .bind(SNAPSHOT_SCHEMA)
        .fetch_all(pool)
        .await
        .map_err(database_error)?;
    let mut rows = rows.into_iter().peekable();
    let (base, after) = match rows.next_if(|(_, is_snapshot, _)| *is_snapshot) {
        None => (Opportunity::default(), 0),
        Some((sequence, _, payload)) => match serde_json::from_str(&payload) {
            Ok(state) => (state, sequence as usize),
            // A snapshot that no longer deserialises is only a cache miss: the events are the truth.
            Err(e) => {
                tracing::debug!(aggregate_id = id, error = %e, "snapshot unreadable; replaying from zero");
                return replay(pool, id, None).await;
            }
        },
    };
    fold(base, after, rows.map(|(sequence, _, payload)| (sequence, payload)))
}

/// The state replayed from zero up to event `up_to` (to the end when `None`), ignoring snapshots.
pub(super) async fn replay(
    pool: &PgPool,
    id: &str,
    up_to: Option<usize>,
) -> Result<(Opportunity, usize), Err> {
    let rows: Vec<(i64, String)> = sqlx::query_as(UP_TO)
        .bind(Opportunity::TYPE)
        .bind(id)
        .bind(up_to.map_or(i64::MAX, |v| i64::try_from(v).unwrap_or(i64::MAX)))
        .fetch_all(pool)
        .await
        .map_err(database_error)?;
    fold(Opportunity::default(), 0, rows.into_iter())
}

pub(super) async fn envelopes(pool: &PgPool, id: &str) -> Result<Vec<EventEnvelope<Opportunity>>, Err> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(ENVELOPES)
        .bind(Opportunity::TYPE)
        .bind(id)
        .fetch_all(pool)
        .await
        .map_err(database_error)?;
    rows.into_iter()
        .map(|(sequence, payload, metadata)| {
            Ok(EventEnvelope {
                aggregate_id: id.to_string(),
                sequence: sequence as usize,
                payload: event(&payload)?,
                // Metadata is informational; an unreadable map must not make history unreadable.
                metadata: serde_json::from_str::<HashMap<String, String>>(&metadata).unwrap_or_default(),
            })
        })
        .collect()
}

fn fold(
    mut state: Opportunity,
    mut version: usize,
    events: impl Iterator<Item = (i64, String)>,
) -> Result<(Opportunity, usize), Err> {
    for (sequence, payload) in events {
        state.apply(event(&payload)?);
        version = sequence as usize;
    }
    Ok((state, version))
}

/// Unlike a snapshot, an event that does not deserialise is an error: nothing else holds the fact.
fn event(payload: &str) -> Result<OpportunityEvent, Err> {
    serde_json::from_str(payload).map_err(|e| Err::DeserializationError(Box::new(e)))
}
