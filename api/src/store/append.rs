//! Appending a command's events: one autocommitted statement for all of them.
//!
//! One statement is one transaction, so every event of a command shares a `tx_id` (the column's
//! default, `pg_current_xact_id()`), which the commit-order log relies on (docs/adr/0001); and it is
//! one round trip where BEGIN, an INSERT per event and COMMIT were several. The seven columns named
//! are the ones postgres-es named when it wrote this table; the rest keep their defaults.

use std::collections::HashMap;

use cqrs_es::{Aggregate, DomainEvent, EventEnvelope};
use domain::{Opportunity, OpportunityEvent};
use projections::GlobalSeq;
use sqlx::types::Json;
use sqlx::PgPool;

use super::{database_error, Err};

/// Payloads and metadata travel as jsonb and are cast to the columns' json: that is what binding a
/// JSON value to these columns always did, so the stored text keeps one normal form and a string
/// PostgreSQL cannot hold (a NUL escape) is still refused at append time, not by a reader later.
/// It answers with the last event's `global_seq`, which the read-your-writes wait needs.
const APPEND: &str = "
WITH appended AS (
  INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
  SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::json, $7::jsonb::json
    FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::jsonb[])
         AS e(sequence, event_type, event_version, payload)
  RETURNING global_seq)
SELECT max(global_seq) FROM appended";

/// Stores `events` (consecutive sequences of one aggregate) with the commit's `metadata`. Another
/// writer's event at one of these sequences is a unique violation, which `database_error` turns
/// into `AggregateConflict`: none of the events is stored and the bus retries on fresh state.
/// Returns the `global_seq` of the last event stored.
pub(super) async fn append(
    pool: &PgPool,
    aggregate_id: &str,
    events: &[EventEnvelope<Opportunity>],
    metadata: &HashMap<String, String>,
) -> Result<Option<GlobalSeq>, Err> {
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence as i64).collect();
    let types: Vec<String> = events.iter().map(|e| e.payload.event_type()).collect();
    let versions: Vec<String> = events.iter().map(|e| e.payload.event_version()).collect();
    let payloads: Vec<Json<&OpportunityEvent>> = events.iter().map(|e| Json(&e.payload)).collect();
    let last: Option<i64> = sqlx::query_scalar(APPEND)
        .bind(Opportunity::TYPE)
        .bind(aggregate_id)
        .bind(sequences)
        .bind(types)
        .bind(versions)
        .bind(payloads)
        .bind(Json(metadata))
        .fetch_one(pool)
        .await
        .map_err(database_error)?;
    Ok(last.map(GlobalSeq))
}
