//! Projection rebuild speed over a large log of realistic events, beside reading the same log.

use std::time::{Duration, Instant};

use chrono::Utc;
use cqrs_es::{Aggregate, DomainEvent};
use domain::asset::Asset;
use domain::clarification::{NewClarification, Priority};
use domain::commands::{Actor, ActorRole};
use domain::{
    DetailsChanges, Opportunity, OpportunityCommand, OpportunityDetails, OpportunityEvent, StageNumber,
};
use projections::batch::Batch;
use projections::batch::BATCH;
use projections::{sequencer, Projector};
use sqlx::PgPool;
use uuid::Uuid;

use super::report::{grouped, Row};

/// The target rebuild rate, events per second.
const TARGET_PER_SECOND: f64 = 50_000.0;
/// Opportunities written per INSERT while filling the log.
const OPPORTUNITIES_PER_INSERT: usize = 1_000;
/// Longest the sequencer may take to position the filled log.
const SEQUENCING_LIMIT: Duration = Duration::from_secs(300);

/// One opportunity's history as the domain decides it: created, edited, questions raised, assets
/// listed, the first two stages completed — the mix an early-stage deal has.
fn history(n: usize) -> anyhow::Result<(String, Vec<OpportunityEvent>)> {
    let id = Uuid::new_v4();
    let actor = Actor::new("bench@osop.local", ActorRole::Admin);
    let at = Utc::now();
    let mut commands = vec![
        OpportunityCommand::CreateOpportunity {
            opportunity_id: id,
            details: OpportunityDetails {
                name: format!("Bench rebuild {n}"),
                client_name: Some(format!("Client {}", n % 97)),
                owner_email: actor.email.clone(),
                ..OpportunityDetails::default()
            },
            actor: actor.clone(),
            at,
        },
        OpportunityCommand::UpdateDetails {
            changes: DetailsChanges { region: Some(Some("EMEA".into())), ..DetailsChanges::default() },
            at,
        },
        OpportunityCommand::UpdateDetails {
            changes: DetailsChanges {
                description: Some(Some("Content localisation for twelve markets".into())),
                ..DetailsChanges::default()
            },
            at,
        },
    ];
    for (q, priority) in
        [("Which markets launch first?", Priority::Red), ("Is there a brand book?", Priority::Amber)]
    {
        commands.push(OpportunityCommand::AddClarification {
            clarification: NewClarification {
                clarification_id: Uuid::new_v4(),
                category: "scope".into(),
                question: q.into(),
                rationale: "Drives the rollout plan".into(),
                priority,
                source_stage: 2,
            },
            at,
        });
    }
    for (name, volume) in [("Hero video 60s", 2), ("Social cut-downs", 24)] {
        commands.push(OpportunityCommand::AddAsset {
            asset: Asset {
                asset_id: Uuid::new_v4(),
                raw_name: name.into(),
                raw_description: None,
                client_tier: Some("tier 1".into()),
                volume,
            },
            at,
        });
    }
    for stage in [1, 2] {
        let stage = StageNumber::new(stage).expect("stages 1 and 2 exist");
        commands.push(OpportunityCommand::CompleteStage { stage, actor: actor.clone(), at });
    }
    let mut state = Opportunity::default();
    let mut events = Vec::new();
    for c in commands {
        for e in state.decide(c)? {
            state.apply(e.clone());
            events.push(e);
        }
    }
    Ok((id.to_string(), events))
}

/// Appends histories until the log holds at least `events` events; one multi-row INSERT per
/// thousand opportunities, with the payload and metadata the store would write.
async fn fill(pool: &PgPool, events: usize) -> anyhow::Result<()> {
    let metadata = serde_json::json!({
        "user_email": "bench@osop.local", "user_name": "OSOP benchmark", "user_role": "admin",
    })
    .to_string();
    let mut written = 0;
    let mut n = 0;
    while written < events {
        let (mut ids, mut seqs, mut types, mut versions, mut payloads) =
            (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..OPPORTUNITIES_PER_INSERT {
            let (id, history) = history(n)?;
            n += 1;
            for (i, e) in history.iter().enumerate() {
                ids.push(id.clone());
                seqs.push(i as i64 + 1);
                types.push(e.event_type());
                versions.push(e.event_version());
                payloads.push(serde_json::to_string(e)?);
            }
            if written + ids.len() >= events {
                break;
            }
        }
        written += ids.len();
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'Opportunity', id, seq, kind, version, payload::json, $6::json
               FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[])
                    AS t(id, seq, kind, version, payload)",
        )
        .bind(ids)
        .bind(seqs)
        .bind(types)
        .bind(versions)
        .bind(payloads)
        .bind(&metadata)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// Positions everything committed, so the rebuild times projecting and not sequencing.
async fn sequence_all(pool: &PgPool) -> anyhow::Result<()> {
    let deadline = Instant::now() + SEQUENCING_LIMIT;
    loop {
        match sequencer::sequence_batch(pool, 10_000).await? {
            Some(0) => return Ok(()),
            Some(_) => {}
            None => tokio::time::sleep(Duration::from_millis(10)).await,
        }
        if Instant::now() > deadline {
            anyhow::bail!("the log was not sequenced within {SEQUENCING_LIMIT:?}");
        }
    }
}

/// The baseline: reading and decoding the whole log as the projector does, writing nothing.
async fn read_log(pool: &PgPool) -> anyhow::Result<(usize, Duration)> {
    let started = Instant::now();
    let (mut position, mut count) = (0, 0);
    while let Some(batch) = Batch::read(pool, position, BATCH).await? {
        position = batch.last();
        count += batch.size();
    }
    Ok((count, started.elapsed()))
}

/// The rows of every read-model table after the rebuild, by table.
async fn rows_written(pool: &PgPool) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let mut counts = Vec::new();
    for projection in projections::registry::all() {
        for table in projection.tables() {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(pool).await?;
            counts.push((*table, n));
        }
    }
    Ok(counts)
}

pub struct Rebuilt {
    pub row: Row,
    /// Where the rebuild's time goes, for the findings.
    pub observation: String,
}

pub async fn measure(pool: &PgPool, events: usize, progress: &impl Fn(&str)) -> anyhow::Result<Rebuilt> {
    let filling = Instant::now();
    fill(pool, events).await?;
    sequence_all(pool).await?;
    // Autovacuum analyses a table that grew this much, but not within the run: without statistics
    // the planner reads the log by hashing the whole events table for every batch.
    sqlx::query("ANALYZE events, event_log").execute(pool).await?;
    progress(&format!(
        "rebuild: log filled with {} events in {:.1?}",
        grouped(events as f64),
        filling.elapsed()
    ));
    let (read, read_time) = read_log(pool).await?;
    let read_rate = read as f64 / read_time.as_secs_f64().max(f64::EPSILON);
    let projector = Projector::new(pool.clone());
    let head = sequencer::head(pool).await?;
    let started = Instant::now();
    // One pass over each batch of the log feeds every projection, so only the total is timed.
    projector.rebuild(&[], |_| {}).await?;
    let elapsed = started.elapsed();
    let rate = head as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    let per_event_us = elapsed.as_secs_f64() * 1e6 / (head as f64).max(1.0);
    let read_us = 1e6 / read_rate.max(f64::EPSILON);
    progress(&format!(
        "rebuild: {} events/s ({} events in {elapsed:.2?})",
        grouped(rate),
        grouped(head as f64)
    ));
    let met = rate >= TARGET_PER_SECOND;
    let written = rows_written(pool).await?;
    let total: i64 = written.iter().map(|(_, n)| n).sum();
    let largest = written
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(String::new(), |(table, n)| format!(", {} of them in {table}", grouped(*n as f64)));
    let slowest = projector.time_spent().into_iter().next();
    let cause = (!met).then(|| match slowest {
        Some((part, spent)) => format!(
            "{per_event_us:.1} µs an event in all, and reading and decoding the log alone takes {read_us:.1} µs \
             of the 20 µs the target allows. The projections write {} rows ({:.2} an event{largest}) in \
             multi-row statements; the busiest part is {part}, {:.1} µs an event (the split is under \
             Findings).",
            grouped(total as f64),
            total as f64 / (head as f64).max(1.0),
            spent.as_secs_f64() * 1e6 / (head as f64).max(1.0)
        ),
        None => format!("{per_event_us:.1} µs an event in all."),
    });
    let parts: Vec<String> = projector
        .time_spent()
        .iter()
        .map(|(part, spent)| format!("{part} {:.1}", spent.as_secs_f64() * 1e6 / (head as f64).max(1.0)))
        .collect();
    let observation = format!(
        "Rebuild: {per_event_us:.1} µs an event in all. Time each part was busy, µs an event (the \
         projections apply each batch side by side, each in its own transaction, so these overlap): {}.",
        parts.join(", ")
    );
    Ok(Rebuilt {
        row: Row {
            measurement: format!("projection rebuild, all projections, {} events", grouped(head as f64)),
            figure: format!("{} events/s ({:.2} s)", grouped(rate), elapsed.as_secs_f64()),
            baseline: format!("reading + decoding the log only: {} events/s", grouped(read_rate)),
            target: format!("≥ {} events/s", grouped(TARGET_PER_SECOND)),
            met: Some(met),
            cause,
        },
        observation,
    })
}
