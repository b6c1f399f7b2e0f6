//! What a read model is: a stable name, the tables it owns, and how it folds events in.

use async_trait::async_trait;
use domain::OpportunityEvent;
use sqlx::PgConnection;

use crate::stored_event::StoredEvent;

/// An event of the log, decoded.
pub type Fact<'a> = (&'a StoredEvent, &'a OpportunityEvent);

#[async_trait]
pub trait Projection: Send + Sync {
    /// Stable name: the key of its checkpoint.
    fn name(&self) -> &'static str;
    /// The tables it owns; a rebuild empties exactly these.
    fn tables(&self) -> &'static [&'static str];
    /// Folds consecutive events of the log in, in order, inside the transaction that also moves
    /// the checkpoint. A batch may hold one event (a command's catch-up) or thousands (a rebuild).
    async fn apply(&self, db: &mut PgConnection, facts: &[Fact<'_>]) -> Result<(), sqlx::Error>;
}

/// A read model whose events are rare enough to write one at a time.
#[async_trait]
pub trait EventByEvent: Send + Sync {
    fn name(&self) -> &'static str;
    fn tables(&self) -> &'static [&'static str];
    async fn apply_event(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &OpportunityEvent,
    ) -> Result<(), sqlx::Error>;
}

#[async_trait]
impl<T: EventByEvent> Projection for T {
    fn name(&self) -> &'static str {
        EventByEvent::name(self)
    }

    fn tables(&self) -> &'static [&'static str] {
        EventByEvent::tables(self)
    }

    async fn apply(&self, db: &mut PgConnection, facts: &[Fact<'_>]) -> Result<(), sqlx::Error> {
        for (stored, event) in facts {
            self.apply_event(db, stored, event).await?;
        }
        Ok(())
    }
}
