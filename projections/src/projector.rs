//! Runs the sequencer and every projection from its checkpoint; rebuilds them from zero.

use std::time::{Duration, Instant};

use sqlx::{Acquire, PgConnection, PgPool};
use tokio::sync::{watch, Mutex};

use crate::batch::{self, Batch, BATCH};
use crate::error::ProjectorError;
use crate::projection::{Fact, Projection};
use crate::registry;
use crate::replay::{replay, OnBatch};
use crate::sequencer;
use crate::stalls::{self, Stalls};
use crate::time_spent::TimeSpent;

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
    spent: TimeSpent,
    /// Projections of this process that stopped at an event they cannot apply.
    stalls: Stalls,
}

impl Projector {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            projections: registry::all(),
            running: Mutex::new(()),
            caught_up: watch::channel(0).0,
            spent: TimeSpent::default(),
            stalls: Stalls::default(),
        }
    }

    /// Time spent applying batches, per part (reading the log, each projection, committing).
    pub fn time_spent(&self) -> Vec<(&'static str, Duration)> {
        self.spent.parts()
    }

    /// Makes every stalled projection of this process try again at its next catch-up, without
    /// waiting out its backoff (after the cause was fixed).
    pub fn retry_stalled(&self) {
        self.stalls.retry_now();
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
        let all: Vec<&dyn Projection> = self.projections.iter().map(|p| p.as_ref()).collect();
        let lowest = self.run_projections(&all).await?;
        // Only real progress ticks `advanced`, so a waiter that catches up itself does not spin.
        self.caught_up.send_if_modified(|seen| std::mem::replace(seen, lowest) != lowest);
        Ok(lowest)
    }

    /// Ticks whenever a catch-up in this process moved the read models (and so the log's sequenced
    /// head): what the publishers and waiting requests wake on, rather than only their poll interval.
    pub fn advanced(&self) -> watch::Receiver<i64> {
        self.caught_up.subscribe()
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

    /// Whether the event stored as `global_seq` is in every read model, stalled projections
    /// included (`wait_for` waits only for those that are running).
    pub async fn visible_everywhere(&self, global_seq: GlobalSeq) -> Result<bool, ProjectorError> {
        if !self.stalls.any() {
            return Ok(true);
        }
        let Some(position) = self.position_of(global_seq).await? else { return Ok(false) };
        let lowest: Option<i64> =
            sqlx::query_scalar("SELECT min(position) FROM projection_checkpoints WHERE name = ANY($1)")
                .bind(self.names())
                .fetch_one(&self.pool)
                .await?;
        Ok(lowest.is_some_and(|lowest| lowest >= position))
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

    /// Rebuilds the named projections (all when `names` is empty) from position 0. Each is rebuilt
    /// in one transaction that empties its tables first: until it commits, readers see the old
    /// rows, and a rebuild that fails leaves them as they were.
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
        let chosen: Vec<&dyn Projection> = self
            .projections
            .iter()
            .filter(|p| names.is_empty() || names.iter().any(|n| n == p.name()))
            .map(|p| p.as_ref())
            .collect();
        let mut report = |projection, position| progress(RebuildProgress { projection, position, head });
        replay(&self.pool, &chosen, &self.spent, &OnBatch::new(&mut report)).await?;
        for p in &chosen {
            self.stalls.clear(p.name());
        }
        Ok(())
    }

    /// Applies batches of the log to the given projections until they reach the head. The log is
    /// read and decoded once per batch for all of them; each batch is one transaction that also
    /// moves their checkpoints, so a crash never applies an event twice or skips one. A projection
    /// behind the others (a new one) is fed from its own checkpoint.
    ///
    /// Each projection applies its part in a savepoint: one that cannot apply an event stops just
    /// before it (see `stalls`) while the others carry on. Returns the lowest checkpoint of the
    /// projections that are not stalled.
    async fn run_projections(&self, projections: &[&dyn Projection]) -> Result<i64, ProjectorError> {
        let now = Instant::now();
        let mut active: Vec<&dyn Projection> =
            projections.iter().copied().filter(|p| !self.stalls.resting(p.name(), now)).collect();
        let mut watermark = None;
        loop {
            if active.is_empty() {
                return Ok(watermark.unwrap_or(*self.caught_up.borrow()));
            }
            let names: Vec<&str> = active.iter().map(|p| p.name()).collect();
            let mut tx = self.pool.begin().await?;
            // One statement, as it runs on every command's catch-up: registers any new projection,
            // locks the checkpoints in name order (so two processes catching up never deadlock)
            // and turns off waiting for the flush: read models and their checkpoints commit
            // together and all derive from the log, so a batch lost in a server crash is simply
            // applied again.
            let checkpoints: Vec<(String, i64)> = sqlx::query_as(
                "WITH added AS (INSERT INTO projection_checkpoints (name) SELECT unnest($1::text[])
                                ON CONFLICT DO NOTHING RETURNING name, position),
                      locked AS (SELECT name, position FROM projection_checkpoints
                                  WHERE name = ANY($1) ORDER BY name FOR UPDATE)
                 SELECT name, position FROM (SELECT * FROM locked UNION ALL SELECT * FROM added) c
                  WHERE set_config('synchronous_commit', 'off', true) = 'off'",
            )
            .bind(&names)
            .fetch_all(&mut *tx)
            .await?;
            let checkpoint_of =
                |name: &str| checkpoints.iter().find(|(n, _)| n == name).map_or(0, |(_, position)| *position);
            let lowest = checkpoints.iter().map(|(_, position)| *position).min().unwrap_or(0);
            let reading = Instant::now();
            let Some(batch) = Batch::read(&mut *tx, lowest, BATCH).await? else {
                tx.rollback().await?;
                let healthy = names.iter().filter(|n| !self.stalls.is_stalled(n)).map(|n| checkpoint_of(n));
                return Ok(healthy.min().or(watermark).unwrap_or(lowest));
            };
            let last = batch.last();
            self.spent.add(batch::READING, reading.elapsed());
            let mut positions: Vec<(&'static str, i64)> = Vec::with_capacity(active.len());
            let mut recovered: Vec<&str> = Vec::new();
            let mut stopped: Vec<&'static str> = Vec::new();
            for p in &active {
                let facts = batch.facts_after(checkpoint_of(p.name()));
                let applying = Instant::now();
                let stopped_at =
                    if facts.is_empty() { None } else { self.apply_isolated(&mut tx, *p, &facts).await? };
                self.spent.add(p.name(), applying.elapsed());
                if let Some(reached) = stopped_at {
                    positions.push((p.name(), reached));
                    stopped.push(p.name());
                } else {
                    // A projection ahead of this batch (one behind was fed from further back) stays
                    // where it is; the watermark must not drop back to the batch's end.
                    positions.push((p.name(), last.max(checkpoint_of(p.name()))));
                    if self.stalls.clear(p.name()) {
                        tracing::info!(
                            projection = p.name(),
                            "projection got past the event that stopped it"
                        );
                        recovered.push(p.name());
                    }
                }
            }
            let committing = Instant::now();
            let (moved, to): (Vec<&str>, Vec<i64>) = positions.iter().copied().unzip();
            sqlx::query(
                "UPDATE projection_checkpoints c SET position = v.position, updated_at = now()
                   FROM unnest($1::text[], $2::bigint[]) AS v(name, position)
                  WHERE c.name = v.name AND c.position < v.position",
            )
            .bind(&moved)
            .bind(&to)
            .execute(&mut *tx)
            .await?;
            stalls::clear_recorded(&mut tx, &recovered).await?;
            tx.commit().await?;
            self.spent.add("moving checkpoints and committing", committing.elapsed());
            active.retain(|p| !stopped.contains(&p.name()));
            let healthy = positions.iter().filter(|(n, _)| !self.stalls.is_stalled(n)).map(|(_, at)| *at);
            watermark = healthy.min().or(watermark);
            if (batch.size() as i64) < BATCH {
                return Ok(watermark.unwrap_or(last));
            }
        }
    }

    /// Applies `facts` to `projection` in a savepoint. When it cannot apply them, they are applied
    /// one by one to find the event that fails: those before it are kept, the projection stops
    /// there, and the stall is recorded and logged. Returns where it stopped (the position of the
    /// last event it took), or None when every event went in.
    async fn apply_isolated(
        &self,
        tx: &mut PgConnection,
        projection: &dyn Projection,
        facts: &[Fact<'_>],
    ) -> Result<Option<i64>, ProjectorError> {
        let mut savepoint = tx.begin().await?;
        match projection.apply(&mut savepoint, facts).await {
            Ok(()) => {
                savepoint.commit().await?;
                return Ok(None);
            }
            Err(e) if stalls::is_apply_failure(&e) => savepoint.rollback().await?,
            Err(e) => return Err(e.into()),
        }
        let mut reached = facts.first().map_or(0, |(stored, _)| stored.position - 1);
        for fact in facts {
            let mut savepoint = tx.begin().await?;
            match projection.apply(&mut savepoint, std::slice::from_ref(fact)).await {
                Ok(()) => {
                    savepoint.commit().await?;
                    reached = fact.0.position;
                }
                Err(e) if stalls::is_apply_failure(&e) => {
                    savepoint.rollback().await?;
                    let stall = self.stalls.stall(projection.name(), fact.0.position, e.to_string());
                    stalls::record(tx, projection.name(), &stall).await?;
                    metrics::counter!("osop_projection_failures_total", "projection" => projection.name())
                        .increment(1);
                    tracing::error!(
                        projection = projection.name(),
                        position = fact.0.position,
                        event_type = %fact.0.event_type,
                        aggregate_id = %fact.0.aggregate_id,
                        attempts = stall.attempts,
                        retry_in = ?stalls::backoff(stall.attempts),
                        error = %e,
                        "projection stopped at an event it cannot apply; the other projections carry on"
                    );
                    return Ok(Some(reached));
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Applied one by one, every event went in: nothing to stop at.
        Ok(None)
    }
}

/// An event's `global_seq`: its insert number, used to find its log position once sequenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalSeq(pub i64);
