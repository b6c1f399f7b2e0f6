//! Aggregate load time at several history lengths, from the latest snapshot and from zero.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use cqrs_es::persist::EventStoreAggregateContext;
use cqrs_es::{Aggregate, EventStore};
use domain::{DetailsChanges, OpportunityEvent};
use sqlx::PgPool;

use super::report::{ms, Row};
use crate::store::OpportunityStore;

/// Events committed per transaction while filling a history: fast, and each commit crosses a
/// snapshot boundary just as a run of single-event commits would.
const FILL_CHUNK: usize = 500;

/// The target: with snapshots, the longest history loads within this factor of the shortest.
const FLAT_FACTOR: f64 = 2.0;

/// Gives opportunity `id` a history of `events` events (a create, then detail changes).
async fn fill(
    store: &OpportunityStore,
    bus: &crate::command_bus::CommandBus,
    events: usize,
) -> anyhow::Result<String> {
    let id = super::appends::create(bus, &format!("Bench load {events}")).await?.to_string();
    let metadata = HashMap::from([("user_email".to_string(), "bench@osop.local".to_string())]);
    let (mut state, mut sequence) = store.load_from_zero(&id).await?;
    while sequence < events {
        let n = FILL_CHUNK.min(events - sequence);
        let batch: Vec<OpportunityEvent> = (0..n)
            .map(|i| OpportunityEvent::OpportunityDetailsUpdated {
                changes: DetailsChanges {
                    description: Some(Some(format!("Revision {} of the scope", sequence + i))),
                    ..DetailsChanges::default()
                },
                at: Utc::now(),
            })
            .collect();
        // `commit` expects the state after the new events, as `handle` leaves it.
        for e in &batch {
            state.apply(e.clone());
        }
        let context = EventStoreAggregateContext {
            aggregate_id: id.clone(),
            aggregate: state.clone(),
            current_sequence: sequence,
            current_snapshot: None,
        };
        store.commit(batch, context, metadata.clone()).await?;
        sequence += n;
    }
    Ok(id)
}

/// The median of `rounds` timings of `load`.
async fn median<F, Fut>(rounds: usize, mut load: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        load().await?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

pub async fn measure(
    pool: &PgPool,
    snapshot_every: usize,
    sizes: &[usize],
    rounds: usize,
    progress: &impl Fn(&str),
) -> anyhow::Result<Vec<Row>> {
    let store = OpportunityStore::new(pool.clone(), snapshot_every);
    let bus = crate::command_bus::CommandBus::new(
        pool.clone(),
        std::sync::Arc::new(projections::Projector::new(pool.clone())),
        snapshot_every,
    );
    let mut measured = Vec::new();
    for &events in sizes {
        let id = fill(&store, &bus, events).await?;
        // Both paths must give the same aggregate, or the faster one is measuring something else.
        let from_snapshot = store.load_aggregate(&id).await?;
        let (from_zero, sequence) = store.load_from_zero(&id).await?;
        if from_snapshot.aggregate != from_zero || from_snapshot.current_sequence != sequence {
            anyhow::bail!("opportunity {id}: the snapshot path and the replay from zero disagree");
        }
        let with = median(rounds, || async {
            store.load_aggregate(&id).await?;
            Ok(())
        })
        .await?;
        let without = median(rounds, || async {
            store.load_from_zero(&id).await?;
            Ok(())
        })
        .await?;
        progress(&format!(
            "aggregate load, {events} events: {} with snapshots, {} from zero",
            ms(with),
            ms(without)
        ));
        measured.push((events, with, without));
    }
    let shortest = measured.first().map(|m| m.1).unwrap_or_default();
    let longest = measured.iter().map(|m| m.0).max().unwrap_or_default();
    Ok(measured
        .into_iter()
        .map(|(events, with, without)| {
            let bounded = events == longest && sizes.len() > 1;
            let (target, met) = if bounded {
                let bound = shortest.mul_f64(FLAT_FACTOR);
                (format!("≤ 2 × the {}-event load ({})", sizes[0], ms(bound)), Some(with <= bound))
            } else {
                ("—".to_string(), None)
            };
            Row {
                measurement: format!(
                    "aggregate load, {} events, from the latest snapshot (every {snapshot_every} events)",
                    super::report::grouped(events as f64)
                ),
                figure: format!("{} (median of {rounds})", ms(with)),
                baseline: format!("from zero: {}", ms(without)),
                target,
                met,
                cause: None,
            }
        })
        .collect())
}
