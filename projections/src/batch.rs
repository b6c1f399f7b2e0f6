//! A batch of the ordered log, read once and decoded once for every projection it feeds.

use domain::OpportunityEvent;
use sqlx::PgExecutor;

use crate::error::ProjectorError;
use crate::projection::Fact;
use crate::stored_event::StoredEvent;

/// Events read from the log at a time.
pub const BATCH: i64 = 2_000;

pub struct Batch {
    events: Vec<StoredEvent>,
    /// The Opportunity events among them (index into `events`), decoded.
    decoded: Vec<(usize, OpportunityEvent)>,
}

/// What the time spent reading and decoding batches is kept under.
pub(crate) const READING: &str = "reading and decoding the log";

impl Batch {
    /// Up to `limit` events after `position`, decoded; `None` at the head of the log.
    pub async fn read(
        db: impl PgExecutor<'_>,
        position: i64,
        limit: i64,
    ) -> Result<Option<Self>, ProjectorError> {
        let events = StoredEvent::read_after(db, position, limit).await?;
        if events.is_empty() {
            return Ok(None);
        }
        let mut decoded = Vec::with_capacity(events.len());
        for (i, stored) in events.iter().enumerate().filter(|(_, e)| e.aggregate_type == "Opportunity") {
            let event = stored
                .decode()
                .map_err(|source| ProjectorError::Undecodable { position: stored.position, source })?;
            decoded.push((i, event));
        }
        Ok(Some(Self { events, decoded }))
    }

    /// Events read: never none, as a read at the head of the log is no batch.
    pub fn size(&self) -> usize {
        self.events.len()
    }

    /// The log position of the last event read.
    pub fn last(&self) -> i64 {
        self.events.last().map_or(0, |e| e.position)
    }

    /// The decoded events after `position`, in log order.
    pub(crate) fn facts_after(&self, position: i64) -> Vec<Fact<'_>> {
        self.decoded
            .iter()
            .map(|(i, event)| (&self.events[*i], event))
            .filter(|(stored, _)| stored.position > position)
            .collect()
    }
}
