//! Fault: the API process is SIGKILLed during a burst of concurrent commands. After a restart on
//! the same database, every command that was answered 2xx has its events in the log, and the
//! read models and publishers catch up to the head of the log.

mod common;
mod faults;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use faults::*;
use projections::Projector;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

/// One client's attempt: create an opportunity named `marker`, then set its description to it.
#[derive(Debug, Default)]
struct Outcome {
    marker: String,
    /// Set when the create was answered 2xx.
    created: Option<String>,
    /// Whether the change was answered 2xx.
    patched: bool,
}

async fn start_server(env: &HashMap<String, String>, port: u16) -> ChildGuard {
    let mut server = ChildGuard::spawn(&osop(), &["serve"], env, "serve");
    let health = format!("http://127.0.0.1:{port}/api/health");
    let http = reqwest::Client::new();
    let up = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(r) = http.get(&health).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(up.is_ok() && server.running(), "osop serve did not come up:\n{}", server.log());
    server
}

async fn attempt(http: reqwest::Client, base: String, marker: String) -> Outcome {
    let mut outcome = Outcome { marker: marker.clone(), ..Default::default() };
    let created = http
        .post(format!("{base}/api/opportunities"))
        .json(&json!({"name": marker, "client_name": "Burst"}))
        .send()
        .await;
    let Ok(r) = created else { return outcome };
    if !r.status().is_success() {
        return outcome;
    }
    let Ok(body) = r.json::<Value>().await else { return outcome };
    let id = body["id"].as_str().unwrap().to_string();
    outcome.created = Some(id.clone());
    let patched = http
        .patch(format!("{base}/api/opportunities/{id}"))
        .json(&json!({"description": marker}))
        .send()
        .await;
    outcome.patched = patched.is_ok_and(|r| r.status().is_success());
    outcome
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn commands_answered_before_a_kill_survive_it_and_the_read_models_catch_up(pool: sqlx::PgPool) {
    let port = free_port();
    let stream = format!("OSOP_FAULT_{}", uuid::Uuid::new_v4().simple());
    let prefix = format!("osopfault{}", uuid::Uuid::new_v4().simple());
    let mut env = osop_env(&database_url(&pool, None), &nats_url(), &stream, &prefix);
    env.insert("BIND".into(), format!("127.0.0.1:{port}"));
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&env, port).await;

    // 64 clients, 16 at a time; the server is killed once 24 commands have been answered.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(16));
    let mut clients = Vec::new();
    for n in 0..64 {
        let (http, base, answered, gate) = (http.clone(), base.clone(), answered.clone(), gate.clone());
        let marker = format!("burst-{n}-{}", uuid::Uuid::new_v4().simple());
        clients.push(tokio::spawn(async move {
            let _slot = gate.acquire_owned().await.unwrap();
            let o = attempt(http, base, marker).await;
            answered.fetch_add(o.created.is_some() as usize + o.patched as usize, Ordering::SeqCst);
            o
        }));
    }
    eventually("24 answered commands", Duration::from_secs(30), || {
        let n = answered.load(Ordering::SeqCst);
        async move { (n >= 24).then_some(()) }
    })
    .await;
    server.kill();
    let mut outcomes = Vec::new();
    for c in clients {
        outcomes.push(c.await.unwrap());
    }
    let created: Vec<&Outcome> = outcomes.iter().filter(|o| o.created.is_some()).collect();
    let unanswered = outcomes.iter().filter(|o| o.created.is_none() || !o.patched).count();
    assert!(created.len() >= 12, "{} creates answered", created.len());
    assert!(unanswered > 0, "the kill came after the burst: every request was answered");

    // Every command answered 2xx is in the log, whatever happened after.
    for o in &created {
        let id = o.created.as_deref().unwrap();
        let types: Vec<(String, Value)> = sqlx::query_as(
            "SELECT event_type, payload::jsonb FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            types.first().map(|t| t.0.as_str()),
            Some("OpportunityCreated"),
            "{}: {types:?}",
            o.marker
        );
        assert!(types[0].1.to_string().contains(&o.marker), "{}: {types:?}", o.marker);
        if o.patched {
            assert!(
                types.iter().skip(1).any(|(_, p)| p.to_string().contains(&o.marker)),
                "the answered change of {} is logged: {types:?}",
                o.marker
            );
        }
    }

    // A restart on the same database catches every read model and publisher up to the head.
    let server = start_server(&env, port).await;
    let names: Vec<&str> = Projector::new(pool.clone()).names();
    let expected = names.len() + 2;
    eventually("every checkpoint at the head of the log", Duration::from_secs(30), || async {
        let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&pool).await.ok()?;
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM event_log")
            .fetch_one(&pool)
            .await
            .ok()?;
        let at_head: i64 =
            sqlx::query_scalar("SELECT count(*) FROM projection_checkpoints WHERE position = $1")
                .bind(head)
                .fetch_one(&pool)
                .await
                .ok()?;
        (head == logged && at_head as usize >= expected).then_some(())
    })
    .await;
    let checkpoints: Vec<String> =
        sqlx::query_scalar("SELECT name FROM projection_checkpoints").fetch_all(&pool).await.unwrap();
    for name in names.iter().copied().chain(["integration_feed", "agent_requests"]) {
        assert!(checkpoints.iter().any(|c| c == name), "checkpoint {name} missing: {checkpoints:?}");
    }

    // The restarted API shows what it answered before the kill.
    let http = reqwest::Client::new();
    for o in &created {
        let id = o.created.as_deref().unwrap();
        let r = http.get(format!("{base}/api/opportunities/{id}")).send().await.unwrap();
        assert!(r.status().is_success(), "{}: {}\n{}", o.marker, r.status(), server.log());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["name"], o.marker.as_str());
        if o.patched {
            assert_eq!(body["description"], o.marker.as_str(), "{body}");
        }
    }
    let listed = http.get(format!("{base}/api/opportunities?limit=100")).send().await.unwrap();
    let listed: Value = listed.json().await.unwrap();
    let listed: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|o| o["id"].as_str()).collect();
    for o in &created {
        assert!(listed.contains(&o.created.as_deref().unwrap()), "{} is listed", o.marker);
    }
}
