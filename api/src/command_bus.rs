//! Sends commands to the Opportunity aggregate: stamps who and when, retries lost races, and
//! waits until the read models show the result so a client reads its own writes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::{AggregateError, CqrsFramework};
use domain::{Opportunity, OpportunityCommand, OpportunityError};
use projections::{GlobalSeq, Projector};
use sqlx::PgPool;
use thiserror::Error;
use uuid::Uuid;

use crate::auth::User;
use crate::store::OpportunityStore;

/// Attempts for a command that loses an optimistic-concurrency race; each attempt re-decides on
/// fresh state, so a retry never applies a stale decision.
const ATTEMPTS: usize = 8;

#[derive(Debug, Error)]
pub enum CommandError {
    #[error(transparent)]
    Rejected(#[from] OpportunityError),
    #[error("the opportunity was changed by someone else at the same moment; retry")]
    Conflict,
    #[error("event store: {0}")]
    Store(String),
}

pub struct CommandBus {
    cqrs: CqrsFramework<Opportunity, OpportunityStore>,
    pool: PgPool,
    projector: Arc<Projector>,
}

impl CommandBus {
    pub fn new(pool: PgPool, projector: Arc<Projector>, snapshot_every: usize) -> Self {
        let store = OpportunityStore::new(pool.clone(), snapshot_every);
        Self { cqrs: CqrsFramework::new(store, vec![], ()), pool, projector }
    }

    pub async fn execute(
        &self,
        id: Uuid,
        command: OpportunityCommand,
        by: &User,
    ) -> Result<(), CommandError> {
        self.append(id, command, by).await?;
        self.await_read_models(&id.to_string()).await;
        Ok(())
    }

    /// Loads, decides and appends (retrying lost races) without waiting for the read models;
    /// returns how many attempts it took. `execute` is this plus the read-your-writes wait; the
    /// benchmark times the two apart.
    pub async fn append(
        &self,
        id: Uuid,
        command: OpportunityCommand,
        by: &User,
    ) -> Result<usize, CommandError> {
        let aggregate_id = id.to_string();
        let metadata = HashMap::from([
            ("user_email".to_string(), by.email.clone()),
            ("user_name".to_string(), by.name.clone()),
            ("user_role".to_string(), by.role.as_str().to_string()),
            ("correlation_id".to_string(), Uuid::new_v4().to_string()),
        ]);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.cqrs.execute_with_metadata(&aggregate_id, command.clone(), metadata.clone()).await {
                Ok(()) => return Ok(attempt),
                Err(AggregateError::UserError(e)) => return Err(e.into()),
                Err(AggregateError::AggregateConflict) if attempt < ATTEMPTS => {
                    let jitter = rand::random::<u64>() % (2 << attempt.min(6));
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(AggregateError::AggregateConflict) => return Err(CommandError::Conflict),
                Err(e) => return Err(CommandError::Store(e.to_string())),
            }
        }
    }

    /// Waits (bounded) until every projection has taken in this aggregate's latest event.
    pub async fn await_read_models(&self, aggregate_id: &str) {
        let last: Result<Option<i64>, _> = sqlx::query_scalar(
            "SELECT global_seq FROM events WHERE aggregate_type = 'Opportunity' AND aggregate_id = $1
              ORDER BY sequence DESC LIMIT 1",
        )
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await;
        let outcome = match last {
            Ok(Some(seq)) => self.projector.wait_for(GlobalSeq(seq), Duration::from_secs(5)).await,
            Ok(None) => Ok(true),
            Err(e) => Err(e.into()),
        };
        match outcome {
            Ok(true) => {}
            Ok(false) => tracing::warn!(aggregate_id, "read models still behind after 5 s; answering anyway"),
            Err(e) => tracing::warn!(aggregate_id, error = %e, "could not catch read models up"),
        }
    }
}
