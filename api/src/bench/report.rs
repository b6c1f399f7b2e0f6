//! The benchmark's result: one row per measurement beside its baseline and target, the machine it
//! ran on, and the findings, rendered as the markdown table of `docs/benchmarks.md`.

use std::fmt::Write;
use std::time::Duration;

use sqlx::PgPool;

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    pub measurement: String,
    pub figure: String,
    pub baseline: String,
    pub target: String,
    /// `None` when the measurement has no target (it is there for comparison).
    pub met: Option<bool>,
    /// Why a missed target was missed, when the measurement itself shows it.
    pub cause: Option<String>,
}

/// Where the figures were taken.
#[derive(Clone, Debug)]
pub struct Machine {
    pub cores: usize,
    pub memory: String,
    pub postgres: String,
    pub nats: String,
    pub pool_size: u32,
    pub build: &'static str,
    pub load_before: String,
    pub load_after: String,
    pub started: String,
    pub note: Option<String>,
}

impl Machine {
    pub async fn describe(pool: &PgPool, nats: &async_nats::Client, note: Option<String>) -> Self {
        // The client may still be connecting (it retries the first connect); a flush waits for it.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), nats.flush()).await;
        let postgres: String = sqlx::query_scalar("SELECT current_setting('server_version')")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| format!("unknown ({e})"));
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory: memory(),
            postgres,
            nats: nats.server_info().version,
            pool_size: pool.options().get_max_connections(),
            build: if cfg!(debug_assertions) { "debug (unoptimised)" } else { "release" },
            load_before: load_average(),
            load_after: String::new(),
            started: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            note,
        }
    }
}

/// Total and available memory from /proc/meminfo.
fn memory() -> String {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or("?".to_string(), |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
    };
    format!("{} total, {} available at start", field("MemTotal:"), field("MemAvailable:"))
}

/// The 1, 5 and 15 minute load averages: how busy the machine was besides the benchmark.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub struct Report {
    pub machine: Machine,
    pub rows: Vec<Row>,
    /// What the run observed beyond the rows (e.g. where latency goes).
    pub observations: Vec<String>,
    pub quick: bool,
}

impl Report {
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::from("# OSOP benchmarks\n\n");
        out += "Written by `osop bench` (see the README's \"Benchmarks\" section); every figure is taken in \
                one run beside a baseline measured in the same run on the same machine.\n";
        if self.quick {
            out += "\n**Quick mode**: a smoke run with small sizes and short durations; the figures are not \
                    comparable with the targets.\n";
        }
        out += "\n## Results\n\n| measurement | figure | baseline | target | met? |\n|---|---|---|---|---|\n";
        for r in &self.rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ =
                writeln!(out, "| {} | {} | {} | {} | {met} |", r.measurement, r.figure, r.baseline, r.target);
        }
        out += "\n## Machine\n\n";
        let _ = writeln!(out, "- started: {}", m.started);
        let _ = writeln!(out, "- cores: {} (available parallelism)", m.cores);
        let _ = writeln!(out, "- memory: {}", m.memory);
        let _ = writeln!(out, "- PostgreSQL server: {}", m.postgres);
        let _ = writeln!(out, "- NATS server: {}", m.nats);
        let _ = writeln!(out, "- connection pool: {} connections (`osop serve` uses 20)", m.pool_size);
        let _ = writeln!(out, "- build: {}", m.build);
        let _ =
            writeln!(out, "- load average (1/5/15 min): {} at start, {} at end", m.load_before, m.load_after);
        if let Some(note) = &m.note {
            let _ = writeln!(out, "- note: {note}");
        }
        out += "\n## Findings\n\n";
        let missed: Vec<&Row> = self.rows.iter().filter(|r| r.met == Some(false)).collect();
        if missed.is_empty() {
            out += "- Every target was met.\n";
        }
        for r in missed {
            let _ =
                write!(out, "- Missed: {} — {} against a target of {}.", r.measurement, r.figure, r.target);
            match &r.cause {
                Some(c) => {
                    let _ = writeln!(out, " Cause: {c}");
                }
                None => out += " Cause not identified by this run.\n",
            }
        }
        for o in &self.observations {
            let _ = writeln!(out, "- {o}");
        }
        out
    }
}

/// Milliseconds with two decimals, e.g. `1.25 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A count or rate with thin grouping, e.g. `12 345`.
pub fn grouped(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1 000");
        assert_eq!(grouped(1234567.0), "1 234 567");
        assert_eq!(ms(Duration::from_micros(1250)), "1.25 ms");
    }
}
