//! Sends commands to the Opportunity aggregate: stamps who, when and on whose behalf (the
//! correlation id), checks the request's `If-Match` version, retries lost races, counts outcomes,
//! and waits until the read models show the result so a client reads its own writes.

mod turns;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::EventStoreAggregateContext;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventStore};
use domain::{Opportunity, OpportunityCommand, OpportunityError};
use projections::{GlobalSeq, Projector};
use sqlx::PgPool;
use thiserror::Error;
use uuid::Uuid;

use crate::auth::User;
use crate::correlation::CorrelationId;
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
    /// The request's `If-Match` named a version the opportunity is no longer (or not yet) at.
    #[error("the opportunity is at version {actual}, not the version this change was based on")]
    Stale { actual: usize },
    /// PostgreSQL could not be reached or the connection was lost: nothing was recorded.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    #[error("event store: {0}")]
    Store(String),
}

impl From<AggregateError<OpportunityError>> for CommandError {
    fn from(e: AggregateError<OpportunityError>) -> Self {
        match e {
            AggregateError::UserError(e) => e.into(),
            AggregateError::AggregateConflict => CommandError::Conflict,
            AggregateError::DatabaseConnectionError(e)
            | AggregateError::DeserializationError(e)
            | AggregateError::UnexpectedError(e) => {
                if crate::outage::is_outage(e.as_ref()) {
                    CommandError::Unavailable(e.to_string())
                } else {
                    CommandError::Store(e.to_string())
                }
            }
        }
    }
}

pub struct CommandBus {
    store: OpportunityStore,
    projector: Arc<Projector>,
    turns: turns::Turns,
    /// How long a command waits for the read models to show it before answering 202.
    read_model_wait: Duration,
}

impl CommandBus {
    pub fn new(pool: PgPool, projector: Arc<Projector>, snapshot_every: usize) -> Self {
        Self {
            store: OpportunityStore::new(pool, snapshot_every),
            projector,
            turns: turns::Turns::default(),
            read_model_wait: Duration::from_secs(5),
        }
    }

    /// Sets how long a command waits for the read models to show it (`READ_MODEL_WAIT_MS`).
    pub fn with_read_model_wait(mut self, wait: Duration) -> Self {
        self.read_model_wait = wait;
        self
    }

    /// Runs `command` on opportunity `id` as `by`. Its events carry the current correlation id
    /// (the request's, or the agent run's), or a fresh one when there is none.
    pub async fn execute(
        &self,
        id: Uuid,
        command: OpportunityCommand,
        by: &User,
    ) -> Result<(), CommandError> {
        let name: &'static str = (&command).into();
        let started = Instant::now();
        let result = self.execute_once(id, command, by).await;
        let outcome = match &result {
            Ok(()) => "ok",
            Err(CommandError::Rejected(_)) => "rejected",
            Err(CommandError::Conflict) => "conflict",
            Err(CommandError::Stale { .. }) => "stale",
            Err(CommandError::Unavailable(_)) => "unavailable",
            Err(CommandError::Store(_)) => "error",
        };
        metrics::counter!("osop_commands_total", "command" => name, "outcome" => outcome).increment(1);
        metrics::histogram!("osop_command_duration_seconds", "command" => name).record(started.elapsed());
        result
    }

    async fn execute_once(
        &self,
        id: Uuid,
        command: OpportunityCommand,
        by: &User,
    ) -> Result<(), CommandError> {
        let appended = self.append(id, command, by).await?;
        if !self.await_read_models(&id.to_string(), appended.last).await {
            crate::visibility::mark_behind(id);
        }
        Ok(())
    }

    /// Loads, decides and appends (retrying lost races) without waiting for the read models.
    /// `execute` is this plus the read-your-writes wait; the benchmark times the two apart.
    pub async fn append(
        &self,
        id: Uuid,
        command: OpportunityCommand,
        by: &User,
    ) -> Result<Appended, CommandError> {
        let aggregate_id = id.to_string();
        let correlation = CorrelationId::current().unwrap_or_else(CorrelationId::generate);
        let metadata = HashMap::from([
            ("user_email".to_string(), by.email.clone()),
            ("user_name".to_string(), by.name.clone()),
            ("user_role".to_string(), by.role.as_str().to_string()),
            ("correlation_id".to_string(), correlation.to_string()),
        ]);
        let expected = crate::precondition::take();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let turn = self.turns.take(&aggregate_id).await;
            let decided =
                self.decide_and_append(&aggregate_id, command.clone(), metadata.clone(), &expected).await;
            drop(turn);
            match decided {
                Ok(last) => return Ok(Appended { attempts: attempt, last }),
                Err(Decision::Stale(actual)) => return Err(CommandError::Stale { actual }),
                Err(Decision::Failed(AggregateError::AggregateConflict)) if attempt < ATTEMPTS => {
                    let jitter = rand::random::<u64>() % (2 << attempt.min(6));
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(Decision::Failed(e)) => return Err(e.into()),
            }
        }
    }

    /// One attempt: load (or take the state this process last recorded), check the precondition on
    /// the state the decision is made on, decide, append with optimistic concurrency. A lost race
    /// re-checks the precondition on fresh state, so an `If-Match` can never be satisfied by a
    /// stale read; and an outcome other than success reached on a remembered state is reached
    /// again on a loaded one before it is answered, since that state may be behind another process.
    async fn decide_and_append(
        &self,
        aggregate_id: &str,
        command: OpportunityCommand,
        metadata: HashMap<String, String>,
        expected: &Option<crate::precondition::Expected>,
    ) -> Result<Option<GlobalSeq>, Decision> {
        let (context, remembered) = self.store.load_for_command(aggregate_id).await?;
        match self.decide_on(context, command.clone(), metadata.clone(), expected).await {
            Err(Decision::Stale(_)) | Err(Decision::Failed(AggregateError::UserError(_))) if remembered => {
                self.store.forget(aggregate_id);
                let context = self.store.load_aggregate(aggregate_id).await?;
                self.decide_on(context, command, metadata, expected).await
            }
            outcome => outcome,
        }
    }

    async fn decide_on(
        &self,
        mut context: EventStoreAggregateContext<Opportunity>,
        command: OpportunityCommand,
        metadata: HashMap<String, String>,
        expected: &Option<crate::precondition::Expected>,
    ) -> Result<Option<GlobalSeq>, Decision> {
        if let Some(expected) = expected {
            if !expected.matches(context.current_sequence) {
                return Err(Decision::Stale(context.current_sequence));
            }
        }
        let sink = EventSink::default();
        context.aggregate().handle(command, &(), &sink).await.map_err(AggregateError::UserError)?;
        let (_, last) = self.store.record(sink.collect().await, context, metadata).await?;
        Ok(last)
    }

    /// Waits (bounded) until every running projection has taken in the event stored as `last` (a
    /// command that recorded nothing has nothing to wait for). Returns whether every read model,
    /// stopped ones included, shows it.
    pub async fn await_read_models(&self, aggregate_id: &str, last: Option<GlobalSeq>) -> bool {
        let Some(last) = last else { return true };
        match self.projector.wait_for(last, self.read_model_wait).await {
            Ok(true) => match self.projector.visible_everywhere(last).await {
                Ok(visible) => visible,
                Err(e) => {
                    tracing::warn!(aggregate_id, error = %e, "could not tell whether every read model shows it");
                    false
                }
            },
            Ok(false) => {
                tracing::warn!(
                    aggregate_id,
                    "read models still behind after READ_MODEL_WAIT_MS; answering 202"
                );
                false
            }
            Err(e) => {
                tracing::warn!(aggregate_id, error = %e, "could not catch read models up; answering 202");
                false
            }
        }
    }
}

/// What an append did: how many attempts it took, and the last event it stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub attempts: usize,
    pub last: Option<GlobalSeq>,
}

enum Decision {
    Stale(usize),
    Failed(AggregateError<OpportunityError>),
}

impl From<AggregateError<OpportunityError>> for Decision {
    fn from(e: AggregateError<OpportunityError>) -> Self {
        Self::Failed(e)
    }
}
