//! The `osop` binary as a user meets it: a mistake (a bad setting, a missing brief, a database
//! that does not answer, no way to sign in) is one line saying what to do and a non-zero exit;
//! passwords never reach the terminal; `worker` stops cleanly on SIGTERM as `docker stop` sends it.

mod faults;

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use faults::*;

/// `osop` with only `vars` set (no `.env`, no local stack file, nothing from the caller).
fn osop_with(args: &[&str], vars: &[(&str, &str)], dir: &TempDir) -> Command {
    let mut command = Command::new(osop());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OSOP_STACK_DIR", dir.path().join("no-stack"))
        .current_dir(dir.path())
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    command
}

fn run(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let dir = TempDir::new("cli");
    osop_with(args, vars, &dir).output().expect("run osop")
}

/// The one line a failed command printed; fails unless it failed with exactly one line.
fn one_line_failure(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(!out.status.success(), "it should have failed; stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, not: {stderr}");
    assert!(stderr.starts_with("osop: "), "{stderr}");
    stderr
}

#[test]
fn a_bad_setting_stops_the_process_naming_the_variable() {
    let out = run(&["migrate"], &[("MAX_UPLOAD_MB", "25MB")]);
    let line = one_line_failure(&out);
    assert!(line.contains("MAX_UPLOAD_MB=\"25MB\"") && line.contains("MiB"), "{line}");
    let out = run(&["worker"], &[("LOG_FORMAT", "jsno")]);
    assert!(one_line_failure(&out).contains("LOG_FORMAT"));
}

#[test]
fn a_missing_brief_says_how_to_name_one() {
    // The database is unreachable too: the brief is checked first, before anything is started.
    let out = run(
        &["walkthrough", "--brief", "no/such/brief.md"],
        &[("DATABASE_URL", &format!("postgres://postgres@127.0.0.1:{}/osop", free_port()))],
    );
    let line = one_line_failure(&out);
    assert!(line.contains("no/such/brief.md") && line.contains("--brief"), "{line}");
}

#[test]
fn an_unreachable_database_is_one_line_without_its_password() {
    let url = format!("postgres://osop:s3cret-pw@127.0.0.1:{}/osop", free_port());
    let out = run(&["migrate"], &[("DATABASE_URL", &url), ("DATABASE_ACQUIRE_TIMEOUT_MS", "500")]);
    let line = one_line_failure(&out);
    assert!(line.contains("cannot reach PostgreSQL") && line.contains("DATABASE_URL"), "{line}");
    assert!(line.contains("osop:***@127.0.0.1"), "{line}");
    assert!(!line.contains("s3cret-pw"), "{line}");
}

#[test]
fn serve_refuses_to_start_without_a_way_to_sign_in() {
    let out = run(&["serve"], &[("BIND", &format!("127.0.0.1:{}", free_port()))]);
    let line = one_line_failure(&out);
    assert!(line.contains("AZURE_CLIENT_ID") && line.contains("DEV_AUTH_BYPASS"), "{line}");
}

#[test]
fn an_unknown_flag_is_refused() {
    let out = run(&["walkthrough", "--brif", "x.md"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--brif"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn migrate_prints_the_database_without_its_password(pool: sqlx::PgPool) {
    // Trust authentication ignores the password, so the URL still connects.
    let url = database_url(&pool, None).replacen("postgres://postgres@", "postgres://postgres:topsecret@", 1);
    let out = run(&["migrate"], &[("DATABASE_URL", &url)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("postgres:***@"), "{stdout}");
    assert!(!stdout.contains("topsecret") && !String::from_utf8_lossy(&out.stderr).contains("topsecret"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_worker_stops_cleanly_on_sigterm(pool: sqlx::PgPool) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let env =
        osop_env(&database_url(&pool, None), &nats_url(), &format!("OSOP_CLI_{id}"), &format!("osopcli{id}"));
    let dir = TempDir::new("cli-worker");
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut child = osop_with(&["worker", "--count", "1"], &vars, &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start osop worker");
    let mut stdout = child.stdout.take().unwrap();
    // Wait for its "running" line, then send what `docker stop` sends.
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 256];
    while !seen.contains("running") {
        assert!(std::time::Instant::now() < deadline, "the worker never said it was running: {seen}");
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "the worker ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the worker ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let _ = stdout.read_to_string(&mut seen);
    assert!(seen.contains("stopping"), "{seen}");
}

#[test]
fn an_unreadable_env_file_is_named_not_ignored() {
    let dir = TempDir::new("cli-env");
    std::fs::write(dir.path().join(".env"), "DEV_AUTH_BYPASS=true\nDEV_AUTH_NAME=OSOP Admin\n").unwrap();
    let out = osop_with(&["migrate"], &[], &dir).output().unwrap();
    let line = one_line_failure(&out);
    assert!(line.contains(".env cannot be read") && line.contains("quote"), "{line}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn replay_refuses_while_a_server_uses_the_database(pool: sqlx::PgPool) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut env =
        osop_env(&database_url(&pool, None), &nats_url(), &format!("OSOP_CLI_{id}"), &format!("osopcli{id}"));
    let port = free_port();
    env.insert("BIND".into(), format!("127.0.0.1:{port}"));
    let mut server = ChildGuard::spawn(&osop(), &["serve"], &env, "serve");
    listening(format!("127.0.0.1:{port}").parse().unwrap(), Duration::from_secs(60)).await;
    assert!(server.running(), "{}", server.log());

    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = run(&["replay"], &vars);
    let line = one_line_failure(&out);
    assert!(line.contains("osop serve") && line.contains("stop them first"), "{line}");
    server.terminate(Duration::from_secs(10)).await;
    // With the server gone, the replay runs.
    let out = run(&["replay"], &vars);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
