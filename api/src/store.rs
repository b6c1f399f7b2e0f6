//! The Opportunity event store: our own SQL over the `events` table and our own snapshot table,
//! two round trips per command in the common case.
//!
//! Why not cqrs-es's snapshot store: it applies new events a second time before saving the
//! snapshot (see docs/adr/0002). Here `handle` has already applied them through the event sink, so
//! the aggregate handed to `commit` is exactly the state after the new events: that is what we save.
//!
//! Why not postgres-es's event repository: a command cost a snapshot SELECT, an events SELECT, then
//! BEGIN, an INSERT per event and COMMIT, and those round trips, not the work, were most of its
//! time (docs/adr/0007). Loading is now one statement (`load`) and appending one (`append`, shared
//! with the appends of other commands arriving at the same moment); the snapshot write every
//! `snapshot_every` events is the only extra statement.

mod append;
mod load;
mod recent;

use std::collections::HashMap;

use cqrs_es::persist::EventStoreAggregateContext;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use domain::Opportunity;
use projections::GlobalSeq;
use sqlx::PgPool;

/// Bump when `Opportunity`'s stored shape changes: older snapshots are then ignored.
const SNAPSHOT_SCHEMA: i32 = 4;

type Err = AggregateError<domain::OpportunityError>;

pub struct OpportunityStore {
    pool: PgPool,
    /// A snapshot is written after every this many events.
    snapshot_every: usize,
    recent: recent::Recent,
    appends: append::GroupCommit,
}

/// How a database error reaches cqrs-es, as postgres-es mapped it: a duplicate (aggregate,
/// sequence) is a lost race, which the bus retries; a lost or refused connection is an outage,
/// which `outage::is_outage` answers with 503; anything else is a bug. The primary key is the only
/// unique constraint on `events`, so any 23505 there is that race.
fn database_error(e: sqlx::Error) -> Err {
    if matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505")) {
        Err::AggregateConflict
    } else if crate::outage::is_connection_failure(&e) {
        Err::DatabaseConnectionError(Box::new(e))
    } else {
        Err::UnexpectedError(Box::new(e))
    }
}

impl OpportunityStore {
    pub fn new(pool: PgPool, snapshot_every: usize) -> Self {
        Self {
            appends: append::GroupCommit::new(pool.clone()),
            pool,
            snapshot_every: snapshot_every.max(1),
            recent: recent::Recent::default(),
        }
    }

    /// The aggregate a command decides on: the state this process last recorded for it when it
    /// has one (`true`: it may be stale; see `recent`), otherwise loaded (`false`).
    pub async fn load_for_command(
        &self,
        id: &str,
    ) -> Result<(EventStoreAggregateContext<Opportunity>, bool), Err> {
        if let Some((aggregate, current_sequence)) = self.recent.get(id) {
            let context = EventStoreAggregateContext {
                aggregate_id: id.to_string(),
                aggregate,
                current_sequence,
                current_snapshot: None,
            };
            return Ok((context, true));
        }
        Ok((self.load_aggregate(id).await?, false))
    }

    /// Drops what this process remembers of `id`, so the next command loads it.
    pub fn forget(&self, id: &str) {
        self.recent.forget(id);
    }

    /// Replays from zero, ignoring snapshots: the reference the snapshot path is tested against.
    pub async fn load_from_zero(&self, id: &str) -> Result<(Opportunity, usize), Err> {
        load::replay(&self.pool, id, None).await
    }

    /// The aggregate as it stood after event `version` (1-based sequence).
    pub async fn load_as_of(&self, id: &str, version: usize) -> Result<(Opportunity, usize), Err> {
        load::replay(&self.pool, id, Some(version)).await
    }

    async fn save_snapshot(&self, id: &str, state: &Opportunity, sequence: usize) {
        let Ok(payload) = serde_json::to_value(state) else { return };
        let saved = sqlx::query(
            "INSERT INTO aggregate_snapshots (aggregate_type, aggregate_id, last_sequence, schema_version, payload)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
               SET last_sequence = EXCLUDED.last_sequence, schema_version = EXCLUDED.schema_version,
                   payload = EXCLUDED.payload, taken_at = now()
             WHERE aggregate_snapshots.last_sequence < EXCLUDED.last_sequence
                OR aggregate_snapshots.schema_version <> EXCLUDED.schema_version",
        )
        .bind(Opportunity::TYPE)
        .bind(id)
        .bind(sequence as i64)
        .bind(SNAPSHOT_SCHEMA)
        .bind(payload)
        .execute(&self.pool)
        .await;
        if let Err(e) = saved {
            tracing::warn!(aggregate_id = id, error = %e, "snapshot not saved; loads replay more events");
        }
    }
}

impl EventStore<Opportunity> for OpportunityStore {
    type AC = EventStoreAggregateContext<Opportunity>;

    async fn load_events(&self, id: &str) -> Result<Vec<EventEnvelope<Opportunity>>, Err> {
        load::envelopes(&self.pool, id).await
    }

    async fn load_aggregate(&self, id: &str) -> Result<Self::AC, Err> {
        let (aggregate, current_sequence) = load::latest(&self.pool, id).await?;
        Ok(EventStoreAggregateContext {
            aggregate_id: id.to_string(),
            aggregate,
            current_sequence,
            current_snapshot: None,
        })
    }

    async fn commit(
        &self,
        events: Vec<domain::OpportunityEvent>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<Opportunity>>, Err> {
        Ok(self.record(events, context, metadata).await?.0)
    }
}

impl OpportunityStore {
    /// `commit`, also answering with the `global_seq` of the last event stored (none when there
    /// were no events), so the caller can wait for exactly that event in the read models.
    pub async fn record(
        &self,
        events: Vec<domain::OpportunityEvent>,
        context: EventStoreAggregateContext<Opportunity>,
        metadata: HashMap<String, String>,
    ) -> Result<(Vec<EventEnvelope<Opportunity>>, Option<GlobalSeq>), Err> {
        if events.is_empty() {
            return Ok((vec![], None));
        }
        let start = context.current_sequence;
        let envelopes: Vec<EventEnvelope<Opportunity>> = events
            .into_iter()
            .zip(start + 1..)
            .map(|(payload, sequence)| EventEnvelope {
                aggregate_id: context.aggregate_id.clone(),
                sequence,
                payload,
                metadata: metadata.clone(),
            })
            .collect();
        let appended = match append::Append::new(&context.aggregate_id, &envelopes, &metadata) {
            Ok(rows) => self.appends.append(rows).await,
            Err(e) => Err(Err::UnexpectedError(Box::new(e))),
        };
        let last = match appended {
            Ok(last) => last,
            Err(e) => {
                // A conflict means the remembered state (if any) is behind; an outage, that the
                // outcome is unknown. Either way the next command loads.
                self.recent.forget(&context.aggregate_id);
                return Err(e);
            }
        };
        let end = start + envelopes.len();
        self.recent.put(&context.aggregate_id, context.aggregate.clone(), end);
        if end / self.snapshot_every > start / self.snapshot_every {
            self.save_snapshot(&context.aggregate_id, &context.aggregate, end).await;
        }
        Ok((envelopes, last))
    }
}
