//! An event as it sits in the ordered log, with its position and stable id.

use chrono::{DateTime, Utc};
use domain::OpportunityEvent;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// As stored: `{"EventType": {...fields}}`. Kept as text so a rebuild decodes each payload
    /// once, straight into the domain event.
    pub payload: Box<RawValue>,
    pub metadata: Box<RawValue>,
    pub recorded_at: DateTime<Utc>,
}

/// Namespace of the stable event ids (UUID v5 of aggregate type, id and sequence).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f73_6f70_2d65_7665_6e74_2d69_6473_0001);

/// A stable id for an event, the same on every read and every re-publish.
pub fn event_id(aggregate_type: &str, aggregate_id: &str, sequence: i64) -> Uuid {
    Uuid::new_v5(&EVENT_ID_NAMESPACE, format!("{aggregate_type}/{aggregate_id}/{sequence}").as_bytes())
}

/// The parts of an event's metadata read back (the rest is there for people reading the log).
#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    pub user_email: Option<String>,
    pub correlation_id: Option<String>,
}

impl StoredEvent {
    pub fn id(&self) -> Uuid {
        event_id(&self.aggregate_type, &self.aggregate_id, self.sequence)
    }

    /// Sort key of the `n`-th item an event adds: log position first, then place within the event.
    pub fn order(&self, n: usize) -> i64 {
        self.position * 10_000 + n as i64
    }

    pub fn opportunity_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.aggregate_id).ok()
    }

    /// The domain event, when this is an Opportunity event this build understands.
    pub fn decode(&self) -> Result<OpportunityEvent, serde_json::Error> {
        serde_json::from_str(self.payload.get())
    }

    /// The event's own fields: the payload without its event-type wrapper.
    pub fn data(&self) -> Value {
        let mut payload: Value = serde_json::from_str(self.payload.get()).unwrap_or(Value::Null);
        match payload.get_mut(&self.event_type) {
            Some(fields) => fields.take(),
            None => payload,
        }
    }

    /// The metadata stamped on the event when it was recorded.
    pub fn metadata(&self) -> Metadata {
        serde_json::from_str(self.metadata.get()).unwrap_or_default()
    }

    /// Who issued the command, as stamped in the metadata.
    pub fn actor(&self) -> Option<String> {
        self.metadata().user_email
    }

    pub(crate) fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            position: row.try_get("position")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get::<&RawValue, _>("payload")?.to_owned(),
            metadata: row.try_get::<&RawValue, _>("metadata")?.to_owned(),
            recorded_at: row.try_get("recorded_at")?,
        })
    }

    /// Events of the log after `position`, in log order.
    pub async fn read_after(
        db: impl PgExecutor<'_>,
        position: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT l.position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
                    e.event_version, e.payload, e.metadata, e.recorded_at
               FROM event_log l JOIN events e ON e.global_seq = l.global_seq
              WHERE l.position > $1
              ORDER BY l.position
              LIMIT $2",
        )
        .bind(position)
        .bind(limit)
        .fetch_all(db)
        .await?;
        rows.iter().map(Self::from_row).collect()
    }
}
