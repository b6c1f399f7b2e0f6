//! Gives committed events dense log positions in commit order, never skipping one.
//!
//! `global_seq` is taken at insert time, so two transactions can commit out of its order and a
//! naive "seq > last" reader would skip the slower one. The sequencer reads in (tx_id, global_seq)
//! order and only takes events of transactions older than the oldest one still running, so every
//! transaction it reads from has finished. One sequencer runs at a time (an advisory lock), which
//! makes it the single writer of `event_log`.

use sqlx::PgPool;

/// Advisory lock key held while a sequencer pass runs ("osop-seq").
const SEQUENCER_LOCK: i64 = 0x6f73_6f70_2d73_6571;

/// One pass: positions up to `batch` newly finished events. Returns how many were positioned,
/// or `None` when another sequencer holds the lock.
pub async fn sequence_batch(pool: &PgPool, batch: i64) -> Result<Option<u64>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(SEQUENCER_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    let positioned: Option<i64> = sqlx::query_scalar(
        "WITH cursor AS (SELECT last_tx, last_seq, last_position FROM log_sequencer WHERE id = 1),
              fresh AS (
                SELECT e.global_seq, e.tx_id,
                       c.last_position + row_number() OVER (ORDER BY e.tx_id, e.global_seq) AS position
                  FROM events e, cursor c
                 WHERE (e.tx_id, e.global_seq) > (c.last_tx, c.last_seq)
                   AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY e.tx_id, e.global_seq
                 LIMIT $1),
              logged AS (
                INSERT INTO event_log (position, global_seq, tx_id)
                SELECT position, global_seq, tx_id FROM fresh
                RETURNING position, global_seq, tx_id)
         UPDATE log_sequencer s
            SET last_tx = t.tx_id, last_seq = t.global_seq, last_position = t.position
           FROM (SELECT position, global_seq, tx_id FROM logged ORDER BY position DESC LIMIT 1) t
          WHERE s.id = 1
         RETURNING (SELECT count(*) FROM logged)",
    )
    .bind(batch)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(positioned.map_or(0, |n: i64| n as u64)))
}

/// The last position handed out.
pub async fn head(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT last_position FROM log_sequencer WHERE id = 1").fetch_one(pool).await
}
