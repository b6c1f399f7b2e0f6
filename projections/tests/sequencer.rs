//! The sequencer never skips an event, even when transactions commit out of insert order.

use projections::{sequencer, StoredEvent};
use sqlx::{PgPool, Postgres, Transaction};

async fn insert(tx: &mut Transaction<'_, Postgres>, aggregate: &str, sequence: i64) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Test', $1, $2, 'Tested', '1', '{}', '{}')",
    )
    .bind(aggregate)
    .bind(sequence)
    .execute(&mut **tx)
    .await
    .unwrap();
}

async fn logged(pool: &PgPool) -> Vec<(String, i64)> {
    StoredEvent::read_after(pool, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.aggregate_id, e.position))
        .collect()
}

/// Sequences until `expected` events are logged. Transactions still open anywhere in the cluster
/// (other tests run in parallel) hold the sequencer back: they may delay it, never make it lose one.
async fn sequence_until(pool: &PgPool, expected: usize) -> Vec<(String, i64)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        sequencer::sequence_batch(pool, 1000).await.unwrap();
        let log = logged(pool).await;
        if log.len() >= expected || std::time::Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_early_insert_committed_late_is_positioned_not_skipped(pool: PgPool) {
    // A takes the lower global_seq but commits after B.
    let mut a = pool.begin().await.unwrap();
    insert(&mut a, "slow", 1).await;
    let mut b = pool.begin().await.unwrap();
    insert(&mut b, "fast", 1).await;
    b.commit().await.unwrap();

    // While A is open, nothing after it may be positioned: a naive "seq > last" reader would take
    // B now and never look back at A.
    sequencer::sequence_batch(&pool, 100).await.unwrap();
    assert!(logged(&pool).await.is_empty(), "B was positioned while an older transaction was open");

    a.commit().await.unwrap();
    let log = sequence_until(&pool, 2).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log.iter().map(|(_, p)| *p).collect::<Vec<_>>(), vec![1, 2]);
    // Commit order is by transaction, so A (older xid) comes first.
    assert_eq!(log[0].0, "slow");
}

#[sqlx::test(migrations = "../migrations")]
async fn rolled_back_events_never_appear_and_positions_stay_dense(pool: PgPool) {
    let mut doomed = pool.begin().await.unwrap();
    insert(&mut doomed, "doomed", 1).await;
    let mut kept = pool.begin().await.unwrap();
    insert(&mut kept, "kept", 1).await;
    insert(&mut kept, "kept", 2).await;
    kept.commit().await.unwrap();
    doomed.rollback().await.unwrap();
    let log = sequence_until(&pool, 2).await;
    assert_eq!(log, vec![("kept".to_string(), 1), ("kept".to_string(), 2)]);
}

#[sqlx::test(migrations = "../migrations")]
async fn many_interleaved_writers_lose_nothing(pool: PgPool) {
    let mut writers = Vec::new();
    for w in 0..16 {
        let pool = pool.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = pool.begin().await.unwrap();
                insert(&mut tx, &format!("w{w}"), i + 1).await;
                // Hold some transactions open so commits interleave out of insert order.
                if (w + i) % 3 == 0 {
                    tokio::task::yield_now().await;
                }
                tx.commit().await.unwrap();
            }
        }));
    }
    let sequencing = {
        let pool = pool.clone();
        tokio::spawn(async move {
            for _ in 0..200 {
                sequencer::sequence_batch(&pool, 7).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    sequencing.await.unwrap();
    let log = sequence_until(&pool, 400).await;
    assert_eq!(log.len(), 16 * 25);
    let positions: Vec<i64> = log.iter().map(|(_, p)| *p).collect();
    assert_eq!(positions, (1..=400).collect::<Vec<_>>());
    // Per aggregate, the log keeps the aggregate's own order.
    for w in 0..16 {
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT e.sequence FROM event_log l JOIN events e ON e.global_seq = l.global_seq
              WHERE e.aggregate_id = $1 ORDER BY l.position",
        )
        .bind(format!("w{w}"))
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(seqs, (1..=25).collect::<Vec<i64>>());
    }
}
