//! Appending a command's events, with group commit: appends that arrive while others are being
//! written wait a moment and go together, as one statement and one transaction. Many clients then
//! share one commit (and one WAL flush) instead of each queueing for a connection and a flush of
//! its own.
//!
//! A group holds at most one append per aggregate. It commits whole or not at all: when it fails
//! (another process's event at one of its sequences is a unique violation for the whole
//! statement), every append in it is written again on its own, so each gets its own answer.
//!
//! One statement is one transaction, so every event of a command shares a `tx_id` (the column's
//! default, `pg_current_xact_id()`), which the commit-order log relies on (docs/adr/0001). The
//! columns named are the ones postgres-es named when it wrote this table; the rest keep their
//! defaults.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use cqrs_es::{DomainEvent, EventEnvelope};
use domain::Opportunity;
use projections::GlobalSeq;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{database_error, Err};

/// Statements in flight at once; each carries a group.
const WRITERS: usize = 4;
/// Appends in one group at most.
const MOST_PER_GROUP: usize = 128;

/// Payloads and metadata are cast through jsonb to the columns' json: the stored text keeps one
/// normal form, and a string PostgreSQL cannot hold (a NUL escape) is refused at append time, not
/// by a reader later. One row per event; the events of one append are consecutive, in order.
const APPEND: &str = "
WITH appended AS (
  INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
  SELECT 'Opportunity', e.aggregate_id, e.sequence, e.event_type, e.event_version,
         e.payload::jsonb::json, e.metadata::jsonb::json
    FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
         WITH ORDINALITY AS e(aggregate_id, sequence, event_type, event_version, payload, metadata, n)
   ORDER BY e.n
  RETURNING aggregate_id, global_seq)
SELECT aggregate_id, max(global_seq) FROM appended GROUP BY aggregate_id";

/// One command's events, ready to store.
pub(super) struct Append {
    aggregate_id: String,
    events: Vec<Row>,
    /// JSON text, the same for every event of the command.
    metadata: String,
}

/// One event's row.
struct Row {
    sequence: i64,
    event_type: String,
    event_version: String,
    /// JSON text.
    payload: String,
}

impl Append {
    /// `events` are consecutive sequences of one aggregate.
    pub fn new(
        aggregate_id: &str,
        events: &[EventEnvelope<Opportunity>],
        metadata: &HashMap<String, String>,
    ) -> Result<Self, serde_json::Error> {
        let events = events
            .iter()
            .map(|e| {
                Ok(Row {
                    sequence: e.sequence as i64,
                    event_type: e.payload.event_type(),
                    event_version: e.payload.event_version(),
                    payload: serde_json::to_string(&e.payload)?,
                })
            })
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(Self {
            aggregate_id: aggregate_id.to_string(),
            events,
            metadata: serde_json::to_string(metadata)?,
        })
    }
}

/// How a group's statement ended for one of its appends.
enum Outcome {
    /// Stored; the `global_seq` of its last event.
    Stored(Option<GlobalSeq>),
    /// Not stored, and handed back: the group failed as a whole, or held this aggregate already.
    WriteAlone(Append),
    /// Not stored: it was alone in its group, and this is why.
    Failed(sqlx::Error),
}

struct Pending {
    append: Append,
    reply: oneshot::Sender<Outcome>,
}

pub(super) struct GroupCommit {
    pool: PgPool,
    /// Started by the first append, on the runtime that makes it.
    queue: OnceLock<mpsc::UnboundedSender<Pending>>,
}

impl GroupCommit {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, queue: OnceLock::new() }
    }

    /// Stores one command's events; answers with the `global_seq` of the last one. A conflict
    /// with another writer is `AggregateConflict`, and then none of the events is stored.
    pub async fn append(&self, append: Append) -> Result<Option<GlobalSeq>, Err> {
        let (reply, answer) = oneshot::channel();
        let alone = match self.queue().send(Pending { append, reply }) {
            Ok(()) => match answer.await {
                Ok(Outcome::Stored(last)) => return Ok(last),
                Ok(Outcome::WriteAlone(append)) => append,
                Ok(Outcome::Failed(e)) => return Err(database_error(e)),
                // The writer was dropped mid-statement (the runtime is stopping): whether the
                // events were stored is unknown, as after a lost connection, and answered so.
                Err(_) => return Err(database_error(interrupted("the append was interrupted"))),
            },
            Err(mpsc::error::SendError(pending)) => pending.append,
        };
        let lasts = write(&self.pool, &[&alone]).await.map_err(database_error)?;
        Ok(lasts.get(&alone.aggregate_id).copied())
    }

    fn queue(&self) -> &mpsc::UnboundedSender<Pending> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..WRITERS {
                tokio::spawn(writer(self.pool.clone(), receiver.clone()));
            }
            sender
        })
    }
}

/// Takes what is queued (waiting for the first), writes it as one group, answers each append.
async fn writer(pool: PgPool, queue: Arc<Mutex<mpsc::UnboundedReceiver<Pending>>>) {
    loop {
        let mut group = Vec::new();
        {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else { return };
            group.push(first);
            while group.len() < MOST_PER_GROUP {
                let Ok(next) = queue.try_recv() else { break };
                group.push(next);
            }
        }
        let mut seen = HashSet::new();
        let (mut group, again): (Vec<Pending>, Vec<Pending>) =
            group.into_iter().partition(|p| seen.insert(p.append.aggregate_id.clone()));
        for p in again {
            let _ = p.reply.send(Outcome::WriteAlone(p.append));
        }
        let written = write(&pool, &group.iter().map(|p| &p.append).collect::<Vec<_>>()).await;
        match written {
            Ok(lasts) => {
                for p in group {
                    let _ = p.reply.send(Outcome::Stored(lasts.get(&p.append.aggregate_id).copied()));
                }
            }
            Err(e) if group.len() == 1 => {
                let _ = group.pop().map(|p| p.reply.send(Outcome::Failed(e)));
            }
            // Written again one by one, each would only wait out the same outage.
            Err(e) if crate::outage::is_connection_failure(&e) => {
                for p in group {
                    let _ = p.reply.send(Outcome::Failed(same_failure(&e)));
                }
            }
            Err(_) => {
                for p in group {
                    let _ = p.reply.send(Outcome::WriteAlone(p.append));
                }
            }
        }
    }
}

/// One statement storing every event of `appends`: all of them or none. Answers with the
/// `global_seq` of the last event stored, per aggregate.
async fn write(pool: &PgPool, appends: &[&Append]) -> Result<HashMap<String, GlobalSeq>, sqlx::Error> {
    let rows: usize = appends.iter().map(|a| a.events.len()).sum();
    let (mut ids, mut sequences, mut types, mut versions, mut payloads, mut metadata) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for a in appends {
        for e in &a.events {
            ids.push(a.aggregate_id.as_str());
            sequences.push(e.sequence);
            types.push(e.event_type.as_str());
            versions.push(e.event_version.as_str());
            payloads.push(e.payload.as_str());
            metadata.push(a.metadata.as_str());
        }
    }
    let lasts: Vec<(String, i64)> = sqlx::query_as(APPEND)
        .bind(ids)
        .bind(sequences)
        .bind(types)
        .bind(versions)
        .bind(payloads)
        .bind(metadata)
        .fetch_all(pool)
        .await?;
    Ok(lasts.into_iter().map(|(id, last)| (id, GlobalSeq(last))).collect())
}

/// A connection failure to answer one more append with (`sqlx::Error` is not `Clone`), still
/// recognised as an outage.
fn same_failure(e: &sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        other => interrupted(&other.to_string()),
    }
}

/// A cut connection, as `outage::is_connection_failure` recognises one.
fn interrupted(why: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, why.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_append_is_an_outage_not_a_bug() {
        let Err::DatabaseConnectionError(e) = database_error(interrupted("the append was interrupted"))
        else {
            panic!("an interrupted append is a connection error");
        };
        assert!(crate::outage::is_outage(e.as_ref()));
    }
}
