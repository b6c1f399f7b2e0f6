//! The main job timed end to end: the offline walkthrough of a brief through REST, NATS and the
//! agent workers, beside the JetStream round trip each of its agent runs pays at least once.

use std::path::Path;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures::StreamExt;
use sqlx::PgPool;

use super::report::{ms, Row};
use crate::config::Settings;

/// The target wall time of the walkthrough.
const TARGET: Duration = Duration::from_secs(3);
/// Longest the walkthrough may run before the benchmark gives up on it.
const LIMIT: Duration = Duration::from_secs(180);
const ROUND_TRIPS: usize = 50;

/// The median publish → pull → ack round trip on a work-queue stream of the benchmark's own.
async fn jetstream_round_trip(nats: &async_nats::Client, stream: &str) -> anyhow::Result<Duration> {
    let js = jetstream::new(nats.clone());
    let subject = format!("{}.roundtrip", stream.to_lowercase());
    let s = js
        .get_or_create_stream(jetstream::stream::Config {
            name: stream.to_string(),
            subjects: vec![subject.clone()],
            retention: jetstream::stream::RetentionPolicy::WorkQueue,
            ..Default::default()
        })
        .await?;
    let consumer = s
        .get_or_create_consumer(
            "bench",
            jetstream::consumer::pull::Config { durable_name: Some("bench".into()), ..Default::default() },
        )
        .await?;
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let started = Instant::now();
        js.publish(subject.clone(), "{}".into()).await?.await?;
        let mut batch = consumer.fetch().max_messages(1).expires(Duration::from_secs(5)).messages().await?;
        let message = batch.next().await.ok_or_else(|| anyhow::anyhow!("no message within 5 s"))?;
        message.map_err(|e| anyhow::anyhow!(e))?.double_ack().await.map_err(|e| anyhow::anyhow!(e))?;
        times.push(started.elapsed());
    }
    let _ = js.delete_stream(stream).await;
    times.sort_unstable();
    Ok(times[times.len() / 2])
}

pub async fn measure(
    settings: &Settings,
    pool: &PgPool,
    nats: &async_nats::Client,
    brief: &Path,
    progress: &impl Fn(&str),
) -> anyhow::Result<Row> {
    let round_trip = jetstream_round_trip(nats, &format!("{}_RTT", settings.nats_stream)).await?;
    let out = std::env::temp_dir().join(format!("osop-bench-walk-{}", uuid::Uuid::new_v4()));
    let started = Instant::now();
    // Each progress line closes a step: the gaps between them say where the time goes.
    let steps = std::sync::Mutex::new(Vec::<(Duration, String)>::new());
    let walk = crate::walkthrough::run(settings.clone(), pool.clone(), nats.clone(), brief, &out, |line| {
        if let Ok(mut s) = steps.lock() {
            s.push((started.elapsed(), line.to_string()));
        }
    });
    let outcome = tokio::time::timeout(LIMIT, walk)
        .await
        .map_err(|_| anyhow::anyhow!("the walkthrough did not finish within {LIMIT:?}"))??;
    let wall = started.elapsed();
    let _ = std::fs::remove_dir_all(&out);
    let stage = outcome.summary["current_stage"].as_u64().unwrap_or(0);
    if stage != 17 {
        anyhow::bail!("the walkthrough ended at stage {stage}, not 17");
    }
    let runs = outcome.summary["agent_runs"].as_u64().unwrap_or(0);
    let events = outcome.summary["events"].as_u64().unwrap_or(0);
    progress(&format!("walkthrough: {:.2} s ({events} events, {runs} agent runs)", wall.as_secs_f64()));
    let mut gaps: Vec<(Duration, String)> = Vec::new();
    let mut previous = Duration::ZERO;
    for (at, line) in steps.into_inner().unwrap_or_default() {
        let name: String = line.split(':').next().unwrap_or(&line).chars().take(40).collect();
        gaps.push((at - previous, name));
        previous = at;
    }
    gaps.sort_by_key(|g| std::cmp::Reverse(g.0));
    let slowest: Vec<String> = gaps.iter().take(3).map(|(d, n)| format!("{n} {}", ms(*d))).collect();
    let met = wall < TARGET;
    Ok(Row {
        measurement: format!(
            "offline walkthrough of {}, stages 1–16 (REST + NATS + 2 workers; {events} events, {runs} agent runs)",
            brief.file_name().unwrap_or_default().to_string_lossy()
        ),
        figure: format!("{:.2} s", wall.as_secs_f64()),
        baseline: format!("JetStream publish → pull → ack: {} (median of {ROUND_TRIPS})", ms(round_trip)),
        target: format!("< {} s", TARGET.as_secs()),
        met: Some(met),
        cause: (!met).then(|| format!("the slowest steps were {}.", slowest.join(", "))),
    })
}
