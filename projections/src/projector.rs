//! Runs the sequencer and every projection from its checkpoint; rebuilds them from zero.

use std::time::Duration;

use sqlx::PgPool;
use thiserror::Error;
use tokio::sync::{watch, Mutex};

use crate::projection::{self, Projection};
use crate::{sequencer, StoredEvent};

const BATCH: i64 = 2_000;

#[derive(Debug, Error)]
pub enum ProjectorError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at log position {position} cannot be read: {source}")]
    Undecodable { position: i64, source: serde_json::Error },
    #[error("no projection is named {name:?}; there are: {known}")]
    UnknownProjection { name: String, known: String },
}

/// Progress of a rebuild, reported per batch.
#[derive(Clone, Copy, Debug)]
pub struct RebuildProgress {
    pub projection: &'static str,
    pub position: i64,
    pub head: i64,
}

pub struct Projector {
    pool: PgPool,
    projections: Vec<Box<dyn Projection>>,
    /// One catch-up at a time per process; concurrent callers wait and then find the work done.
    running: Mutex<()>,
    /// The lowest checkpoint of all projections after the last catch-up.
    caught_up: watch::Sender<i64>,
}

impl Projector {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, projections: projection::all(), running: Mutex::new(()), caught_up: watch::channel(0).0 }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.projections.iter().map(|p| p.name()).collect()
    }

    /// Positions newly committed events, then brings every projection up to the head of the log.
    /// Returns the lowest checkpoint.
    pub async fn catch_up(&self) -> Result<i64, ProjectorError> {
        let _guard = self.running.lock().await;
        self.catch_up_locked().await
    }

    /// `catch_up` for a caller holding `running`.
    async fn catch_up_locked(&self) -> Result<i64, ProjectorError> {
        while sequencer::sequence_batch(&self.pool, BATCH).await?.is_some_and(|n| n as i64 == BATCH) {}
        let mut lowest = i64::MAX;
        for p in &self.projections {
            lowest = lowest.min(self.run_projection(p.as_ref(), None).await?);
        }
        let lowest = if lowest == i64::MAX { 0 } else { lowest };
        self.caught_up.send_replace(lowest);
        Ok(lowest)
    }

    /// Catches up until every projection has passed `position`, or gives up after `timeout`.
    /// Returns whether it got there.
    ///
    /// Concurrent waiters queue for the one catch-up at a time; the pass that ran while one
    /// waited has often taken its event in already, so each checks that before running another.
    pub async fn wait_for(&self, position_of: GlobalSeq, timeout: Duration) -> Result<bool, ProjectorError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut position = None;
        loop {
            let covered = |p: Option<i64>, lowest: i64| p.is_some_and(|p| p <= lowest);
            if covered(position, *self.caught_up.borrow()) {
                return Ok(true);
            }
            {
                let _guard = self.running.lock().await;
                if position.is_none() {
                    position = self.position_of(position_of).await?;
                }
                if covered(position, *self.caught_up.borrow()) {
                    return Ok(true);
                }
                let lowest = self.catch_up_locked().await?;
                if position.is_none() {
                    position = self.position_of(position_of).await?;
                }
                if covered(position, lowest) {
                    return Ok(true);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The log position of the event inserted as `global_seq`, once the sequencer has given it one.
    async fn position_of(&self, global_seq: GlobalSeq) -> Result<Option<i64>, ProjectorError> {
        Ok(sqlx::query_scalar("SELECT position FROM event_log WHERE global_seq = $1")
            .bind(global_seq.0)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Keeps the read models current until `shutdown` fires.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>, every: Duration) {
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::warn!(error = %e, "projector pass failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Empties the named projections (all when `names` is empty) and replays them from position 0.
    pub async fn rebuild(
        &self,
        names: &[String],
        mut progress: impl FnMut(RebuildProgress) + Send,
    ) -> Result<(), ProjectorError> {
        for n in names {
            if !self.projections.iter().any(|p| p.name() == n) {
                return Err(ProjectorError::UnknownProjection {
                    name: n.clone(),
                    known: self.names().join(", "),
                });
            }
        }
        let _guard = self.running.lock().await;
        // Checkpoints go back to 0 here: no waiter may take the old watermark as caught up.
        self.caught_up.send_replace(0);
        while sequencer::sequence_batch(&self.pool, BATCH).await?.is_some_and(|n| n as i64 == BATCH) {}
        let head = sequencer::head(&self.pool).await?;
        for p in self.projections.iter().filter(|p| names.is_empty() || names.iter().any(|n| n == p.name())) {
            let mut tx = self.pool.begin().await?;
            for table in p.tables() {
                sqlx::query(&format!("TRUNCATE {table}")).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)
                 ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()",
            )
            .bind(p.name())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            self.run_projection(
                p.as_ref(),
                Some(&mut |position| progress(RebuildProgress { projection: p.name(), position, head })),
            )
            .await?;
        }
        Ok(())
    }

    /// Applies batches to one projection until it reaches the head; each batch is one transaction
    /// that also moves the checkpoint, so a crash never applies an event twice or skips one.
    async fn run_projection(
        &self,
        p: &dyn Projection,
        mut on_batch: Option<&mut (dyn FnMut(i64) + Send)>,
    ) -> Result<i64, ProjectorError> {
        loop {
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(p.name())
                .execute(&mut *tx)
                .await?;
            let checkpoint: i64 =
                sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
                    .bind(p.name())
                    .fetch_one(&mut *tx)
                    .await?;
            let batch = StoredEvent::read_after(&mut *tx, checkpoint, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.position) else {
                tx.rollback().await?;
                return Ok(checkpoint);
            };
            for stored in &batch {
                if stored.aggregate_type != "Opportunity" {
                    continue;
                }
                let event = stored
                    .decode()
                    .map_err(|source| ProjectorError::Undecodable { position: stored.position, source })?;
                p.apply(&mut tx, stored, &event).await?;
            }
            sqlx::query(
                "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1",
            )
            .bind(p.name())
            .bind(last)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            if let Some(f) = on_batch.as_mut() {
                f(last);
            }
            if (batch.len() as i64) < BATCH {
                return Ok(last);
            }
        }
    }
}

/// An event's `global_seq`: its insert number, used to find its log position once sequenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalSeq(pub i64);
