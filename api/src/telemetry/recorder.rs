//! The process-wide metrics recorder behind the `metrics` facade, rendered as Prometheus text.
//!
//! The facade holds one recorder per process, so it is installed once and shared by every app
//! built in the process (tests build many); whatever records through `metrics::counter!` and
//! friends, in this crate or in agent-workers, ends up here.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

/// Request latency buckets, in seconds.
const HTTP_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Agent run durations, in seconds: an offline run takes milliseconds, an LLM call minutes.
const AGENT_RUN_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];
/// Command durations, in seconds (load, decide, append, wait for the read models).
const COMMAND_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The recorder's handle, installing the recorder on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("osop_http_request_duration_seconds".into()), HTTP_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("osop_agent_run_duration_seconds".into()),
                    AGENT_RUN_BUCKETS,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("osop_command_duration_seconds".into()),
                    COMMAND_BUCKETS,
                )
            })
            .expect("bucket lists are non-empty constants")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %e, "another metrics recorder is installed; /metrics will stay empty");
        }
        describe();
        handle
    })
}

/// HELP lines for the series recorded elsewhere.
fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_histogram!(
        "osop_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method, matched route and status."
    );
    describe_counter!(
        "osop_commands_total",
        "Commands sent to the Opportunity aggregate, by command and outcome."
    );
    describe_histogram!("osop_command_duration_seconds", Unit::Seconds, "Command latency by command.");
    metrics::describe_gauge!("osop_http_connections", "HTTP connections open now (at most MAX_CONNECTIONS).");
    describe_counter!(
        "osop_http_connections_closed_total",
        "HTTP connections the server closed for a timeout, by reason (header_read_timeout, idle_timeout)."
    );
    describe_counter!(
        "osop_agent_runs_total",
        "Agent run deliveries handled by a worker, by agent and outcome."
    );
    describe_histogram!(
        "osop_agent_run_duration_seconds",
        Unit::Seconds,
        "Time a worker spent on one delivery of an agent run, by agent and outcome."
    );
    describe_counter!("osop_agent_tokens_total", "Tokens the provider reported, by agent, model and kind.");
    describe_counter!(
        "osop_agent_cost_microusd_total",
        "Provider cost in millionths of a US dollar, by agent and model."
    );
    describe_counter!("osop_agent_redeliveries_total", "Agent requests delivered more than once, by agent.");
    describe_counter!("osop_agent_dead_letters_total", "Agent runs given up and dead-lettered, by agent.");
}

/// Drains histogram samples now and then so an unscraped process does not grow without bound.
pub fn spawn_upkeep(mut shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let handle = handle();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
                _ = shutdown.changed() => return,
            }
        }
    })
}
