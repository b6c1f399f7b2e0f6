//! A rebuild's replay from position 0: one reader reads and decodes each batch of the log once
//! and hands it to every projection, and each projection is rebuilt in one transaction of its own:
//! its tables emptied, every batch applied, its checkpoint moved, then one commit. Projections own
//! disjoint tables, so they run side by side: while one waits on the database, another's rows are
//! being written. A projection whose rebuild fails rolls back to the rows it had.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::join_all;
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use crate::batch::{Batch, BATCH, READING};
use crate::error::ProjectorError;
use crate::projection::Projection;
use crate::time_spent::TimeSpent;

/// Batches read ahead of the slowest projection: enough to keep it busy, bounded in memory.
const READ_AHEAD: usize = 2;

/// Called with a projection's name and position after each batch it committed.
pub(crate) type OnBatch<'a> = Mutex<&'a mut (dyn FnMut(&'static str, i64) + Send)>;

/// What the reader hands each projection: the next batch, or word that the log is read through.
/// A projection commits its rebuild only on `End`, so a reader that fails midway commits nothing.
enum Feed {
    Batch(Arc<Batch>),
    End,
}

/// Rebuilds `projections` from the whole log. One that fails rolls back alone; the others are
/// still fed and committed, and the first failure is returned.
pub(crate) async fn replay(
    pool: &PgPool,
    projections: &[&dyn Projection],
    spent: &TimeSpent,
    on_batch: &OnBatch<'_>,
) -> Result<(), ProjectorError> {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        projections.iter().map(|_| mpsc::channel::<Feed>(READ_AHEAD)).unzip();
    let reader = async move {
        let mut position = 0;
        loop {
            let reading = Instant::now();
            let batch = Batch::read(pool, position, BATCH).await?;
            spent.add(READING, reading.elapsed());
            let Some(batch) = batch else { break };
            position = batch.last();
            let full = batch.size() as i64 == BATCH;
            let batch = Arc::new(batch);
            // A closed channel is a projection that failed: its error is reported by its applier.
            for to in &senders {
                let _ = to.send(Feed::Batch(batch.clone())).await;
            }
            if !full {
                break;
            }
        }
        for to in &senders {
            let _ = to.send(Feed::End).await;
        }
        Ok::<(), ProjectorError>(())
    };
    let appliers =
        projections.iter().zip(receivers).map(|(p, feed)| apply_all(pool, *p, feed, spent, on_batch));
    let (read, applied) = tokio::join!(reader, join_all(appliers));
    read?;
    applied.into_iter().collect::<Result<Vec<()>, _>>().map(|_| ())
}

/// Rebuilds one projection from the batches that arrive, in one transaction: its tables are
/// emptied inside it, so until it commits readers see the old rows, and on failure they stay.
async fn apply_all(
    pool: &PgPool,
    projection: &dyn Projection,
    mut feed: mpsc::Receiver<Feed>,
    spent: &TimeSpent,
    on_batch: &OnBatch<'_>,
) -> Result<(), ProjectorError> {
    let mut tx = pool.begin().await?;
    for table in projection.tables() {
        sqlx::query(&format!("TRUNCATE {table}")).execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)
         ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()",
    )
    .bind(projection.name())
    .execute(&mut *tx)
    .await?;
    let mut position = 0;
    loop {
        let batch = match feed.recv().await {
            Some(Feed::Batch(batch)) => batch,
            Some(Feed::End) => break,
            // The reader failed: its error is the one reported, and nothing is committed here.
            None => return Ok(()),
        };
        let facts = batch.facts_after(0);
        if !facts.is_empty() {
            let applying = Instant::now();
            projection.apply(&mut tx, &facts).await?;
            spent.add(projection.name(), applying.elapsed());
        }
        position = batch.last();
        if let Ok(mut f) = on_batch.lock() {
            f(projection.name(), position);
        }
    }
    move_checkpoint(&mut tx, projection.name(), position).await?;
    crate::stalls::clear_recorded(&mut tx, &[projection.name()]).await?;
    tx.commit().await?;
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
