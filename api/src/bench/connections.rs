//! Memory per connection: a real `osop serve` process holding many idle connections (connected,
//! silent) and slow ones (a request head trickled a line at a time, never finished), its resident
//! memory (`VmRSS` in /proc/PID/status) before, with them, and after they closed.
//!
//! What it guards: every connection once cost ~2.8 MB, idle or not (axum's `serve` deep-copied the
//! router for each), so 800 idle sockets took a server past 2 GB, and the memory stayed after they
//! left. The server's timeouts are raised for the measurement, so that none of its connections is
//! closed while it is measured (closing them is what `api/tests/connection_limits.rs` checks).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, PgPool};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::report::{ms, Row};
use crate::config::Settings;

/// The target: what one held connection may add to the server's memory.
const TARGET_BYTES: f64 = 100.0 * 1024.0;

/// The child server, killed when dropped (a failed measurement leaves nothing running).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?;
    Ok(kb * 1024.0)
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / 1024.0 / 1024.0)
}

/// Starts `binary serve` on a free loopback port, on the benchmark's database, with the dev identity
/// and the connection cap above what is measured; waits until its health answers.
async fn start(
    binary: &Path,
    settings: &Settings,
    pool: &PgPool,
    cap: usize,
) -> anyhow::Result<(Server, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("osop-bench-connections-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let env: HashMap<&str, String> = [
        ("DATABASE_URL", pool.connect_options().to_url_lossy().to_string()),
        ("NATS_URL", settings.nats_url.clone()),
        ("NATS_EVENTS_STREAM", format!("{}_CONN", settings.nats_stream)),
        ("NATS_SUBJECT_PREFIX", format!("{}conn", settings.nats_subject_prefix)),
        ("BIND", format!("127.0.0.1:{port}")),
        ("DEV_AUTH_BYPASS", "true".into()),
        ("WORKERS_IN_PROCESS", "0".into()),
        ("METRICS_TOKEN", String::new()),
        ("MAX_CONNECTIONS", cap.to_string()),
        ("HEADER_READ_TIMEOUT_SECS", "300".into()),
        ("IDLE_TIMEOUT_SECS", "3600".into()),
        ("RUST_LOG", "error".into()),
        // Its own folder, so no `.env` or local stack file there changes what it runs with.
        ("OSOP_STACK_DIR", dir.join("no-stack").display().to_string()),
    ]
    .into_iter()
    .collect();
    let child = Command::new(binary)
        .arg("serve")
        .envs(&env)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {} serve: {e}", binary.display()))?;
    let mut server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if http.get(format!("{base}/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if let Some(status) = server.0.try_wait()? {
            anyhow::bail!("{} serve exited with {status} before answering", binary.display());
        }
        if started.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("{} serve did not answer its health check within 60 s", binary.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((server, base))
}

/// The server's count of open connections, from its metrics.
async fn open_connections(http: &reqwest::Client, base: &str) -> anyhow::Result<usize> {
    let text = http.get(format!("{base}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("osop_http_connections "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0) as usize)
}

pub async fn measure(
    binary: &Path,
    settings: &Settings,
    pool: &PgPool,
    idle: usize,
    slow: usize,
    progress: &impl Fn(&str),
) -> anyhow::Result<Row> {
    let (server, base) = start(binary, settings, pool, idle + slow + 64).await?;
    let pid = server.0.id();
    let addr = base.trim_start_matches("http://").to_string();
    // Warm up what the first requests build once (the user, the route table), then let it settle.
    let http = reqwest::Client::new();
    for _ in 0..20 {
        http.get(format!("{base}/api/health")).send().await?.error_for_status()?;
        http.get(format!("{base}/api/opportunities")).send().await?.error_for_status()?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss(pid)?;

    let mut idle_sockets = Vec::with_capacity(idle);
    for _ in 0..idle {
        idle_sockets.push(TcpStream::connect(&addr).await?);
    }
    let mut slow_sockets = Vec::with_capacity(slow);
    for _ in 0..slow {
        let mut s = TcpStream::connect(&addr).await?;
        s.write_all(b"POST /api/opportunities HTTP/1.1\r\nHost: bench\r\n").await?;
        slow_sockets.push(s);
    }
    // Every connection accepted (the metrics scrape's own is one more), then a few lines trickled.
    let deadline = Instant::now() + Duration::from_secs(30);
    while open_connections(&http, &base).await? < idle + slow {
        anyhow::ensure!(Instant::now() < deadline, "the server did not accept {} connections", idle + slow);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for line in 0..4 {
        for s in &mut slow_sockets {
            s.write_all(format!("x-slow-{line}: still coming\r\n").as_bytes()).await?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let held = rss(pid)?;
    // It still answers on a new connection while holding them all.
    let started = Instant::now();
    reqwest::Client::new().get(format!("{base}/api/health")).send().await?.error_for_status()?;
    let health = started.elapsed();
    let still_open = open_connections(&http, &base).await?;
    drop(idle_sockets);
    drop(slow_sockets);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss(pid)?;
    drop(server);

    let held_count = idle + slow;
    let per_connection = (held - before).max(0.0) / held_count as f64;
    progress(&format!(
        "connections: {:.1} KiB each with {idle} idle + {slow} slow (RSS {} → {}, {} after they closed; \
         {still_open} open at the end; health on a new connection {})",
        per_connection / 1024.0,
        mib(before),
        mib(held),
        mib(after),
        ms(health),
    ));
    Ok(Row {
        measurement: format!(
            "memory per connection, `osop serve` holding {idle} idle + {slow} slow (head trickled) connections"
        ),
        figure: format!(
            "{:.1} KiB each (RSS {} with them; {} once they closed; health on a new connection meanwhile {})",
            per_connection / 1024.0,
            mib(held),
            mib(after),
            ms(health),
        ),
        baseline: format!("the same server with none held: RSS {}", mib(before)),
        target: "< 100 KiB a connection".into(),
        met: Some(per_connection < TARGET_BYTES),
        cause: None,
    })
}
