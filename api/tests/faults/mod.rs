//! Helpers of the fault tests: child processes killed on drop (the `osop` binary, a private
//! nats-server), a TCP proxy that can be cut, free loopback ports and polling with a deadline.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0").local_addr().unwrap().port()
}

/// Polls `check` every 50 ms until it yields a value; panics naming `what` after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until something accepts TCP connections at `addr`.
pub async fn listening(addr: SocketAddr, within: Duration) {
    eventually(&format!("a listener at {addr}"), within, || async move {
        TcpStream::connect(addr).await.ok().map(|_| ())
    })
    .await;
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("osop-{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process that is SIGKILLed and reaped when dropped, so a failing test leaves nothing
/// running. Its output goes to a log file, shown by `log()` in assertion messages.
pub struct ChildGuard {
    child: Option<Child>,
    log: PathBuf,
    _dir: TempDir,
}

impl ChildGuard {
    pub fn spawn(program: &Path, args: &[&str], env: &HashMap<String, String>, label: &str) -> Self {
        let dir = TempDir::new(label);
        let log = dir.path().join("output.log");
        let out = std::fs::File::create(&log).expect("create the child's log");
        let child = Command::new(program)
            .args(args)
            .envs(env)
            // The child must not pick up a developer's `.env` or local stack files.
            .current_dir(dir.path())
            .env("OSOP_STACK_DIR", dir.path().join("no-stack"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        Self { child: Some(child), log, _dir: dir }
    }

    /// Kills with SIGKILL (no chance to clean up) and reaps the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks the process to stop (SIGTERM) and waits, up to `within`, for it to exit.
    pub async fn terminate(&mut self, within: Duration) {
        let Some(child) = self.child.as_mut() else { return };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                self.child = None;
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// The tail of what the process printed.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(4_000);
        let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
        text[start..].to_string()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `osop` binary built for these tests.
pub fn osop() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_osop"))
}

/// The URL of the test's own database (the one `#[sqlx::test]` made), on the real server or
/// through `port` when given (a proxy in front of it).
pub fn database_url(pool: &PgPool, port: Option<u16>) -> String {
    let options = pool.connect_options();
    let database = options.get_database().expect("a database name");
    let host = options.get_host();
    let port = port.unwrap_or_else(|| options.get_port());
    let user = options.get_username();
    format!("postgres://{user}@{host}:{port}/{database}")
}

/// NATS for the tests: the machine's server unless NATS_URL says otherwise.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The environment of an `osop` child: its own database, NATS stream and subjects, dev identity.
pub fn osop_env(database_url: &str, nats_url: &str, stream: &str, prefix: &str) -> HashMap<String, String> {
    [
        ("DATABASE_URL", database_url),
        ("NATS_URL", nats_url),
        ("NATS_EVENTS_STREAM", stream),
        ("NATS_SUBJECT_PREFIX", prefix),
        ("DEV_AUTH_BYPASS", "true"),
        ("DEV_AUTH_ROLE", "admin"),
        ("WORKERS_IN_PROCESS", "0"),
        ("PROJECTOR_INTERVAL_MS", "50"),
        ("LLM_PROVIDER", "offline"),
        ("RUST_LOG", "info,sqlx=warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The nats-server binary: `NATS_SERVER_BIN`, /usr/sbin/nats-server, nats-server on PATH, or the
/// one `scripts/stack` installed. A missing binary fails the test (a fault test that cannot run
/// must not pass).
pub fn nats_server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|d| d.join("nats-server")).collect::<Vec<_>>())
        .unwrap_or_default();
    let stack = std::env::var_os("OSOP_STACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.stack"));
    std::iter::once(PathBuf::from("/usr/sbin/nats-server"))
        .chain(on_path)
        .chain([stack.join("packages/bin/nats-server")])
        .find(|p| p.is_file())
        .expect(
            "nats-server is needed by this fault test: install it, put it on PATH, run scripts/stack up, \
             or set NATS_SERVER_BIN",
        )
}

/// A private nats-server (JetStream on) that the test can stop and start again on the same port
/// and store directory.
pub struct NatsServer {
    pub port: u16,
    store: TempDir,
    process: Option<ChildGuard>,
}

impl NatsServer {
    pub async fn start() -> Self {
        let mut server = Self { port: free_port(), store: TempDir::new("nats-store"), process: None };
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and store directory and waits until it listens.
    pub async fn resume(&mut self) {
        let port = self.port.to_string();
        let store = self.store.path().to_string_lossy().to_string();
        let args = ["-a", "127.0.0.1", "-p", port.as_str(), "-js", "-sd", store.as_str()];
        self.process = Some(ChildGuard::spawn(&nats_server_binary(), &args, &HashMap::new(), "nats"));
        listening(([127, 0, 0, 1], self.port).into(), Duration::from_secs(10)).await;
    }

    /// Stops the server (SIGTERM, as an operator would) and waits until the port is free.
    pub async fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.terminate(Duration::from_secs(10)).await;
        }
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        eventually("nats-server to stop listening", Duration::from_secs(10), || async move {
            TcpStream::connect(addr).await.is_err().then_some(())
        })
        .await;
    }
}

/// A TCP proxy on a loopback port in front of `target`; `cut` drops every live connection and
/// refuses new ones (nothing listens), `restore` listens again on the same port.
pub struct TcpProxy {
    pub port: u16,
    target: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let mut proxy =
            Self { port: free_port(), target, acceptor: None, connections: Arc::new(Mutex::new(vec![])) };
        proxy.restore().await;
        proxy
    }

    pub async fn restore(&mut self) {
        if self.acceptor.is_some() {
            return;
        }
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(([127, 0, 0, 1], self.port).into()).expect("bind the proxy port again");
        let listener: TcpListener = socket.listen(128).unwrap();
        let (target, connections) = (self.target, self.connections.clone());
        self.acceptor = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(link);
            }
        }));
    }

    /// Drops the listener (new connections are refused) and every live connection.
    pub async fn cut(&mut self) {
        if let Some(a) = self.acceptor.take() {
            a.abort();
            let _ = a.await;
        }
        let links: Vec<_> = self.connections.lock().unwrap().drain(..).collect();
        for link in links {
            link.abort();
            let _ = link.await;
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(a) = self.acceptor.take() {
            a.abort();
        }
        for link in self.connections.lock().unwrap().drain(..) {
            link.abort();
        }
    }
}
