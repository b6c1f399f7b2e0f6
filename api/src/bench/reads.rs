//! REST read throughput: `GET /api/opportunities/{id}` on the real router over loopback, beside the
//! same load generator against a static route (the harness's own ceiling).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use sqlx::PgPool;

use super::load::{drive, Sample};
use super::report::{grouped, ms, Row};
use crate::config::{DevIdentity, Settings};
use crate::startup::AppState;

async fn serve(router: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

async fn load(url: String, clients: usize, duration: Duration) -> anyhow::Result<Sample> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = Arc::new(url);
    Ok(drive(clients, duration, move |_, _| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http.get(url.as_str()).send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            // Read the whole body: a server that answers headers fast but streams slowly counts.
            response.bytes().await.map_err(|e| e.to_string())?;
            if status.is_success() {
                Ok(1)
            } else {
                Err(format!("answered {status}"))
            }
        }
    })
    .await)
}

fn describe(s: &Sample) -> String {
    let mut text = format!("{} req/s · p50 {} · p99 {}", grouped(s.per_second()), ms(s.p50()), ms(s.p99()));
    if s.failures > 0 {
        text += &format!(" · {} failed", s.failures);
    }
    text
}

pub async fn measure(
    settings: &Settings,
    pool: &PgPool,
    clients: usize,
    duration: Duration,
    progress: &impl Fn(&str),
) -> anyhow::Result<Row> {
    let mut settings = settings.clone();
    settings.dev_identity = Some(DevIdentity {
        email: "bench@osop.local".into(),
        name: "OSOP benchmark".into(),
        role: crate::auth::Role::Viewer,
    });
    let state = AppState::new(settings, pool.clone(), None);
    let id = super::appends::create(&state.bus, "Bench reads").await?;
    state.projector.catch_up().await?;
    let api = serve(state.router()).await?;
    let ceiling = serve(Router::new().route("/static", axum::routing::get(|| async { "ok" }))).await?;

    // Warm both (connections, the user cache) so the samples measure steady state.
    load(format!("{api}/api/opportunities/{id}"), clients, Duration::from_millis(100)).await?;
    let reads = load(format!("{api}/api/opportunities/{id}"), clients, duration).await?;
    let baseline = load(format!("{ceiling}/static"), clients, duration).await?;
    progress(&format!(
        "REST reads, {clients} connections: {} (static route: {})",
        describe(&reads),
        describe(&baseline)
    ));
    let share = reads.per_second() / baseline.per_second().max(f64::EPSILON);
    Ok(Row {
        measurement: format!("REST read GET /api/opportunities/{{id}}, {clients} connections on loopback"),
        figure: format!("{} ({:.0} % of the static route)", describe(&reads), share * 100.0),
        baseline: format!("static route, same generator: {}", describe(&baseline)),
        target: "—".into(),
        met: None,
        cause: None,
    })
}
