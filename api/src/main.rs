//! `osop`: the OSOP binary (serve the API, migrate, rebuild read models, benchmark, write the OpenAPI spec).

use std::io::Write;

use anyhow::Context;
use api::config::Settings;
use api::startup;
use clap::{Parser, Subcommand};
use projections::Projector;

#[derive(Parser)]
#[command(name = "osop", about = "OSOP, the Sales Operations Platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the REST API (applies migrations first) and keep the read models current.
    Serve,
    /// Run agent workers only (they take runs from the NATS work queue).
    Worker {
        /// How many workers to run in this process.
        #[arg(long, default_value_t = 2)]
        count: usize,
        /// Serve the workers' metrics at http://ADDR/metrics (the API's /metrics does not see
        /// another process's workers).
        #[arg(long, env = "METRICS_BIND")]
        metrics_bind: Option<String>,
    },
    /// The main job: walk a brief through every stage and write the proposal pack.
    Walkthrough {
        /// The brief to walk (by default the sample RFP, a path relative to the repository root,
        /// where `scripts/walkthrough` runs the binary).
        #[arg(long, default_value = "examples/briefs/halvorsen-emea-content-rfp.md")]
        brief: std::path::PathBuf,
        /// Where the proposal pack is written.
        #[arg(long, default_value = "out/proposal-pack")]
        out: std::path::PathBuf,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Empty read models and rebuild them from the event log, with progress.
    Replay {
        /// Projection(s) to rebuild; all when none is named.
        #[arg(long = "projection")]
        projections: Vec<String>,
    },
    /// Measure OSOP against the real PostgreSQL and NATS in a scratch database and write the table.
    Bench {
        /// Where the markdown report is written (default docs/benchmarks.md, for a full run).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// A smoke run: small sizes and short durations.
        #[arg(long)]
        quick: bool,
        /// The brief the walkthrough measurement walks (relative to the repository root by default).
        #[arg(long, default_value = "examples/briefs/halvorsen-emea-content-rfp.md")]
        brief: std::path::PathBuf,
        /// The scratch database, dropped and recreated on DATABASE_URL's server (must contain "bench").
        #[arg(long, default_value = "osop_bench")]
        database: String,
        /// A note for the machine block (e.g. that the machine was shared).
        #[arg(long)]
        note: Option<String>,
        /// Run only these sections (walk, appends, loading, reads, rebuild, connections); the
        /// partial table is printed, and written only where `--out` says, never over the full one.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(api::bench::SECTIONS))]
        only: Vec<String>,
    },
    /// Write the OpenAPI document (default: openapi/openapi.json).
    Openapi {
        #[arg(long, default_value = "openapi/openapi.json")]
        out: String,
    },
}

/// A user's mistake (a bad setting, a missing file, a server that does not answer) is one line
/// saying what is wrong and what to do, and a non-zero exit; never a backtrace.
fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("osop: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("osop: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    // Read first: it loads `.env`, which may set RUST_LOG, LOG_FORMAT and flags' variables.
    let settings = Settings::from_env()?;
    let cli = Cli::parse();
    let service = matches!(cli.command, Command::Serve | Command::Worker { .. });
    api::telemetry::logs::init(settings.log_format, service);
    match cli.command {
        Command::Serve => startup::serve(settings).await,
        Command::Worker { count, metrics_bind } => {
            let pool = startup::connect_database(
                &settings.database_url,
                settings.database_acquire_timeout,
                "osop worker",
            )
            .await?;
            startup::migrate(&pool).await?;
            let nats =
                startup::connect_nats(&settings.nats_url).await.context("NATS is required for workers")?;
            let state = startup::AppState::new(settings, pool, Some(nats));
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let upkeep = api::telemetry::recorder::spawn_upkeep(stopped.clone());
            if let Some(bind) = metrics_bind.filter(|b| !b.trim().is_empty()) {
                let listener =
                    tokio::net::TcpListener::bind(&bind).await.with_context(|| format!("binding {bind}"))?;
                println!("worker metrics at http://{}/metrics", listener.local_addr()?);
                let router = api::http::scrape::standalone(state.clone());
                // The same connection cap and timeouts as `serve`; it stops with the process.
                let limits = state.settings.connections;
                let forever = std::future::pending::<()>();
                tokio::spawn(api::connections::serve(listener, router, limits, forever));
            }
            let workers = api::agents::workers::spawn(&state, count, stopped)?;
            println!("{count} agent worker(s) running; Ctrl-C or SIGTERM to stop");
            startup::shutdown_signal().await;
            println!("stopping: runs in progress are finished first");
            let _ = stop.send(true);
            let _ = upkeep.await;
            for w in workers {
                let _ = w.await;
            }
            Ok(())
        }
        Command::Walkthrough { brief, out } => {
            if !brief.is_file() {
                anyhow::bail!(
                    "the brief {} does not exist: pass --brief PATH to a .md, .txt, .docx, .xlsx or .pdf file",
                    brief.display()
                );
            }
            let pool = startup::connect_database(
                &settings.database_url,
                settings.database_acquire_timeout,
                "osop walkthrough",
            )
            .await?;
            startup::migrate(&pool).await?;
            let nats = startup::connect_nats(&settings.nats_url)
                .await
                .context("NATS is required for the walkthrough")?;
            println!(
                "Walking {} through stages 1–16 (REST + NATS + agent workers, provider: {})",
                brief.display(),
                settings.llm_provider
            );
            let outcome =
                api::walkthrough::run(settings, pool, nats, &brief, &out, |line| println!("  {line}"))
                    .await?;
            println!("\nProposal pack in {}:", outcome.out_dir.display());
            for f in &outcome.files {
                println!("  {}", f.display());
            }
            println!("\nTotals: {}", serde_json::to_string_pretty(&outcome.summary)?);
            Ok(())
        }
        Command::Migrate => {
            let pool = startup::connect_database(
                &settings.database_url,
                settings.database_acquire_timeout,
                "osop migrate",
            )
            .await?;
            startup::migrate(&pool).await?;
            println!("migrations applied to {}", api::config::redact(&settings.database_url));
            Ok(())
        }
        Command::Replay { projections } => {
            let pool = startup::connect_database(
                &settings.database_url,
                settings.database_acquire_timeout,
                "osop replay",
            )
            .await?;
            let others = startup::other_programs(&pool).await?;
            if !others.is_empty() {
                let named: Vec<String> =
                    others.iter().map(|(p, n)| format!("{p} ({n} connections)")).collect();
                anyhow::bail!(
                    "other osop processes use this database: {}; stop them first (a rebuild beside a running \
                     server would race its projector), then run osop replay again",
                    named.join(", ")
                );
            }
            startup::migrate(&pool).await?;
            let projector = Projector::new(pool);
            let started = std::time::Instant::now();
            projector
                .rebuild(&projections, |p| {
                    print!("\r{:<16} {:>10} / {:<10}", p.projection, p.position, p.head);
                    let _ = std::io::stdout().flush();
                    if p.position == p.head {
                        println!();
                    }
                })
                .await
                .context("rebuild failed")?;
            println!("rebuilt in {:.2?}", started.elapsed());
            Ok(())
        }
        Command::Bench { out, quick, brief, database, note, only } => {
            let mut settings = Settings::from_env()?;
            settings.nats_stream = "OSOP_BENCH".into();
            settings.nats_subject_prefix = "osopbench".into();
            let pool = api::bench::scratch_database(&settings.database_url, &database).await?;
            let nats = startup::connect_nats(&settings.nats_url)
                .await
                .context("NATS is required for the benchmark")?;
            api::bench::drop_streams(&nats, &settings).await;
            eprintln!(
                "Benchmarking in database {database} (dropped and recreated){}",
                if quick { ", quick" } else { "" }
            );
            let out = out.or_else(|| only.is_empty().then(|| "docs/benchmarks.md".into()));
            let server = std::env::current_exe().context("finding the osop binary")?;
            let options = api::bench::Options { quick, brief, note, only, server };
            let report =
                api::bench::run(settings.clone(), pool, nats.clone(), &options, |line| eprintln!("  {line}"))
                    .await;
            api::bench::drop_streams(&nats, &settings).await;
            let markdown = report?.markdown();
            println!("{markdown}");
            if let Some(out) = out {
                std::fs::write(&out, &markdown).with_context(|| format!("writing {}", out.display()))?;
                eprintln!("wrote {}", out.display());
            }
            Ok(())
        }
        Command::Openapi { out } => {
            let json = serde_json::to_string_pretty(&api::http::openapi())? + "\n";
            std::fs::write(&out, json).with_context(|| format!("writing {out}"))?;
            println!("wrote {out}");
            Ok(())
        }
    }
}
