//! `osop bench`: measures OSOP against the real PostgreSQL and NATS, each figure beside a baseline
//! taken in the same run, and renders the table of `docs/benchmarks.md`.

pub mod appends;
pub mod connections;
pub mod load;
pub mod loading;
pub mod reads;
pub mod rebuild;
pub mod report;
pub mod walk;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Executor, PgPool};

use crate::config::Settings;
pub use report::{Report, Row};

/// What to run and how big.
#[derive(Clone, Debug)]
pub struct Options {
    /// A smoke run: small sizes, short durations (seconds in all).
    pub quick: bool,
    /// The brief the walkthrough walks.
    pub brief: PathBuf,
    /// Said in the machine block, e.g. that the machine was shared.
    pub note: Option<String>,
    /// The sections to run (of `SECTIONS`); all when empty.
    pub only: Vec<String>,
    /// The `osop` binary, started as a server of its own to measure memory per connection.
    pub server: PathBuf,
}

/// The measurements, by the name `--only` takes.
pub const SECTIONS: [&str; 6] = ["walk", "appends", "loading", "reads", "rebuild", "connections"];

/// The sizes of one run.
struct Plan {
    concurrency: &'static [usize],
    append_duration: Duration,
    load_sizes: &'static [usize],
    load_rounds: usize,
    rebuild_events: usize,
    read_clients: usize,
    read_duration: Duration,
    /// Connections held open on the server: idle ones and slow ones.
    idle_connections: usize,
    slow_connections: usize,
}

const FULL: Plan = Plan {
    concurrency: &[1, 16, 64],
    append_duration: Duration::from_secs(3),
    load_sizes: &[10, 1_000, 10_000],
    load_rounds: 21,
    rebuild_events: 200_000,
    read_clients: 32,
    read_duration: Duration::from_secs(5),
    idle_connections: 800,
    slow_connections: 200,
};

const QUICK: Plan = Plan {
    concurrency: &[1, 4],
    append_duration: Duration::from_millis(200),
    load_sizes: &[10, 100, 1_000],
    load_rounds: 3,
    rebuild_events: 2_000,
    read_clients: 4,
    read_duration: Duration::from_millis(200),
    idle_connections: 40,
    slow_connections: 10,
};

/// Runs every measurement on `pool`, a database of the benchmark's own (migrated, catalog seeded),
/// with the NATS stream and subject names of `settings`. `progress` gets one line per figure.
pub async fn run(
    settings: Settings,
    pool: PgPool,
    nats: async_nats::Client,
    options: &Options,
    progress: impl Fn(&str),
) -> anyhow::Result<Report> {
    let plan = if options.quick { &QUICK } else { &FULL };
    let mut machine = report::Machine::describe(&pool, &nats, options.note.clone()).await;
    let mut rows = Vec::new();
    let wanted = |section: &str| options.only.is_empty() || options.only.iter().any(|s| s == section);
    let mut observations = Vec::new();
    // The walkthrough first, on a clean log, as a user's first deal would meet it.
    if wanted("walk") {
        rows.push(walk::measure(&settings, &pool, &nats, &options.brief, &progress).await?);
    }
    if wanted("appends") {
        rows.extend(
            appends::measure(
                &pool,
                settings.snapshot_every,
                plan.concurrency,
                plan.append_duration,
                &progress,
            )
            .await?,
        );
    }
    if wanted("loading") {
        rows.extend(
            loading::measure(&pool, settings.snapshot_every, plan.load_sizes, plan.load_rounds, &progress)
                .await?,
        );
    }
    if wanted("reads") {
        rows.push(reads::measure(&settings, &pool, plan.read_clients, plan.read_duration, &progress).await?);
    }
    if wanted("rebuild") {
        let rebuilt = rebuild::measure(&pool, plan.rebuild_events, &progress).await?;
        rows.push(rebuilt.row);
        observations.push(rebuilt.observation);
    }
    if wanted("connections") {
        let (idle, slow) = (plan.idle_connections, plan.slow_connections);
        rows.push(connections::measure(&options.server, &settings, &pool, idle, slow, &progress).await?);
    }
    machine.load_after = report::load_average();
    Ok(Report { machine, rows, observations, quick: options.quick })
}

/// Drops and recreates the benchmark's scratch database `name` on the server of `url`, migrates it
/// and returns a pool sized as `osop serve`'s. Refuses a name without "bench" in it, so a slip of
/// the option can never drop the application's database.
pub async fn scratch_database(url: &str, name: &str) -> anyhow::Result<PgPool> {
    if !name.contains("bench") || name.contains('"') {
        anyhow::bail!(
            "the scratch database's name must contain \"bench\" (got {name:?}); it is dropped on every run"
        );
    }
    let options = PgConnectOptions::from_str(url)?;
    let mut admin = options.clone().database("postgres").connect().await?;
    admin.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str()).await?;
    admin.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await?;
    let scratch = options.database(name).to_url_lossy().to_string();
    // Generous: 64 benchmark clients queue for the pool on purpose.
    let pool =
        crate::startup::connect_database(&scratch, std::time::Duration::from_secs(30), "osop bench").await?;
    crate::startup::migrate(&pool).await?;
    Ok(pool)
}

/// Deletes the benchmark's NATS streams (the integration feed's and the agent queue's), so each run
/// starts from empty ones and leaves nothing behind.
pub async fn drop_streams(nats: &async_nats::Client, settings: &Settings) {
    let js = async_nats::jetstream::new(nats.clone());
    for stream in [settings.nats_stream.clone(), crate::agents::queue::stream_name(&settings.nats_stream)] {
        let _ = js.delete_stream(&stream).await;
    }
}
