//! The Opportunity event store: postgres-es for the events, our own table for snapshots.
//!
//! cqrs-es 0.5's snapshot store applies new events a second time before saving the snapshot
//! (see docs/adr/0002). Here `handle` has already applied them through the event sink, so the
//! aggregate handed to `commit` is exactly the state after the new events: that is what we save.

use std::collections::HashMap;

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventEnvelope, EventStore};
use domain::Opportunity;
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;

/// Bump when `Opportunity`'s stored shape changes: older snapshots are then ignored.
const SNAPSHOT_SCHEMA: i32 = 3;

type Err = AggregateError<domain::OpportunityError>;

pub struct OpportunityStore {
    pool: PgPool,
    repo: PostgresEventRepository,
    /// A snapshot is written after every this many events.
    snapshot_every: usize,
}

impl OpportunityStore {
    pub fn new(pool: PgPool, snapshot_every: usize) -> Self {
        Self { repo: PostgresEventRepository::new(pool.clone()), pool, snapshot_every: snapshot_every.max(1) }
    }

    /// Replays from zero, ignoring snapshots: the reference the snapshot path is tested against.
    pub async fn load_from_zero(&self, id: &str) -> Result<(Opportunity, usize), Err> {
        self.fold(id, Opportunity::default(), 0, None).await
    }

    /// The aggregate as it stood after event `version` (1-based sequence).
    pub async fn load_as_of(&self, id: &str, version: usize) -> Result<(Opportunity, usize), Err> {
        self.fold(id, Opportunity::default(), 0, Some(version)).await
    }

    async fn fold(
        &self,
        id: &str,
        mut state: Opportunity,
        after: usize,
        up_to: Option<usize>,
    ) -> Result<(Opportunity, usize), Err> {
        let events = self.repo.get_last_events::<Opportunity>(id, after).await?;
        let mut sequence = after;
        for e in events {
            if up_to.is_some_and(|v| e.sequence > v) {
                break;
            }
            sequence = e.sequence;
            let payload =
                serde_json::from_value(e.payload).map_err(|e| Err::DeserializationError(Box::new(e)))?;
            state.apply(payload);
        }
        Ok((state, sequence))
    }

    async fn snapshot(&self, id: &str) -> Result<Option<(Opportunity, usize)>, Err> {
        let row: Option<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT last_sequence, payload FROM aggregate_snapshots
              WHERE aggregate_type = $1 AND aggregate_id = $2 AND schema_version = $3",
        )
        .bind(Opportunity::TYPE)
        .bind(id)
        .bind(SNAPSHOT_SCHEMA)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| Err::DatabaseConnectionError(Box::new(e)))?;
        // A snapshot that no longer deserialises is only a cache miss.
        Ok(row.and_then(|(seq, payload)| serde_json::from_value(payload).ok().map(|a| (a, seq as usize))))
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
        let events = self.repo.get_events::<Opportunity>(id).await?;
        events
            .into_iter()
            .map(|e| {
                Ok(EventEnvelope {
                    aggregate_id: e.aggregate_id,
                    sequence: e.sequence,
                    payload: serde_json::from_value(e.payload)
                        .map_err(|e| Err::DeserializationError(Box::new(e)))?,
                    metadata: serde_json::from_value(e.metadata).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn load_aggregate(&self, id: &str) -> Result<Self::AC, Err> {
        let (base, after) = self.snapshot(id).await?.unwrap_or_default();
        let (aggregate, current_sequence) = self.fold(id, base, after, None).await?;
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
        if events.is_empty() {
            return Ok(vec![]);
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
        let serialized = envelopes
            .iter()
            .map(|e| {
                Ok(SerializedEvent::new(
                    e.aggregate_id.clone(),
                    e.sequence,
                    Opportunity::TYPE.to_string(),
                    e.payload.event_type(),
                    e.payload.event_version(),
                    serde_json::to_value(&e.payload).map_err(|e| Err::UnexpectedError(Box::new(e)))?,
                    serde_json::to_value(&e.metadata).map_err(|e| Err::UnexpectedError(Box::new(e)))?,
                ))
            })
            .collect::<Result<Vec<_>, Err>>()?;
        self.repo.persist::<Opportunity>(&serialized, None).await?;
        let end = start + envelopes.len();
        if end / self.snapshot_every > start / self.snapshot_every {
            self.save_snapshot(&context.aggregate_id, &context.aggregate, end).await;
        }
        Ok(envelopes)
    }
}
