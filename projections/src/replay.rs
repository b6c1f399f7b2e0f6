//! A rebuild's replay from position 0: one reader reads and decodes each batch of the log once
//! and hands it to every projection, and each projection applies it in its own transaction with
//! its own checkpoint. Projections own disjoint tables, so they run side by side: while one
//! waits on the database, another's rows are being written.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::try_join_all;
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use crate::batch::{Batch, READING};
use crate::projection::Projection;
use crate::projector::{ProjectorError, BATCH};
use crate::time_spent::TimeSpent;

/// Batches read ahead of the slowest projection: enough to keep it busy, bounded in memory.
const READ_AHEAD: usize = 2;

/// Called with a projection's name and position after each batch it committed.
pub(crate) type OnBatch<'a> = Mutex<&'a mut (dyn FnMut(&'static str, i64) + Send)>;

/// Feeds the whole log to `projections`, whose checkpoints are at 0 and tables empty.
pub(crate) async fn replay(
    pool: &PgPool,
    projections: &[&dyn Projection],
    spent: &TimeSpent,
    on_batch: &OnBatch<'_>,
) -> Result<(), ProjectorError> {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        projections.iter().map(|_| mpsc::channel::<Arc<Batch>>(READ_AHEAD)).unzip();
    let reader = async move {
        let mut position = 0;
        loop {
            let reading = Instant::now();
            let Some(batch) = Batch::read(pool, position, BATCH).await? else { return Ok(()) };
            spent.add(READING, reading.elapsed());
            position = batch.last();
            let full = batch.size() as i64 == BATCH;
            let batch = Arc::new(batch);
            for to in &senders {
                // A closed channel means its projection failed; its error is the one reported.
                if to.send(batch.clone()).await.is_err() {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    };
    let appliers =
        projections.iter().zip(receivers).map(|(p, batches)| apply_all(pool, *p, batches, spent, on_batch));
    let (read, applied) = tokio::join!(reader, try_join_all(appliers));
    read.and(applied.map(|_| ()))
}

/// Applies each batch that arrives to one projection, a transaction per batch it has events in.
/// Batches with none of its events only move its checkpoint, with the next batch that has some
/// or at the end.
async fn apply_all(
    pool: &PgPool,
    projection: &dyn Projection,
    mut batches: mpsc::Receiver<Arc<Batch>>,
    spent: &TimeSpent,
    on_batch: &OnBatch<'_>,
) -> Result<(), ProjectorError> {
    let mut unrecorded = None;
    while let Some(batch) = batches.recv().await {
        let facts = batch.facts_after(0);
        if facts.is_empty() {
            unrecorded = Some(batch.last());
        } else {
            let applying = Instant::now();
            let mut tx = pool.begin().await?;
            projection.apply(&mut tx, &facts).await?;
            move_checkpoint(&mut tx, projection.name(), batch.last()).await?;
            tx.commit().await?;
            spent.add(projection.name(), applying.elapsed());
            unrecorded = None;
        }
        if let Ok(mut f) = on_batch.lock() {
            f(projection.name(), batch.last());
        }
    }
    if let Some(position) = unrecorded {
        let mut tx = pool.begin().await?;
        move_checkpoint(&mut tx, projection.name(), position).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Moves a checkpoint inside the transaction that applied up to it. As in a catch-up, the commit
/// does not wait for the flush: the read model and its checkpoint are lost or kept together.
async fn move_checkpoint(db: &mut PgConnection, name: &str, position: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_checkpoints SET position = $2, updated_at = now()
          WHERE name = $1 AND set_config('synchronous_commit', 'off', true) = 'off'",
    )
    .bind(name)
    .bind(position)
    .execute(db)
    .await?;
    Ok(())
}
