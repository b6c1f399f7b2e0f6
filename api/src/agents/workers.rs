//! Starting agent workers against the platform: the provider chosen by configuration, the
//! API as their host, the work queue of this deployment.

use std::sync::Arc;
use std::time::Duration;

use agent_workers::anthropic::{AnthropicConfig, AnthropicProvider};
use agent_workers::offline::provider::OfflineProvider;
use agent_workers::pricing::PriceTable;
use agent_workers::provider::Provider;
use agent_workers::worker::{Worker, WorkerConfig};
use tokio::sync::watch;

use super::host::ApiHost;
use super::queue;
use crate::startup::AppState;

/// The work-queue settings of this deployment.
pub fn config(state: &AppState) -> WorkerConfig {
    let s = &state.settings;
    WorkerConfig {
        stream: queue::stream_name(&s.nats_stream),
        requests_subject: queue::requests_subject(&s.nats_subject_prefix),
        dead_letter_subject: queue::dead_letter_subject(&s.nats_subject_prefix),
        durable: format!("{}-agent-workers", s.nats_subject_prefix),
        max_deliver: s.agent_max_deliver,
        ack_wait: s.agent_ack_wait,
    }
}

/// The provider named by LLM_PROVIDER.
pub fn provider(state: &AppState) -> anyhow::Result<Arc<dyn Provider>> {
    match state.settings.llm_provider.as_str() {
        "offline" => Ok(Arc::new(OfflineProvider)),
        "anthropic" => {
            let config = AnthropicConfig::from_env().map_err(anyhow::Error::msg)?;
            let prices = PriceTable::from_env().map_err(anyhow::Error::msg)?;
            Ok(Arc::new(AnthropicProvider::new(config, prices).map_err(anyhow::Error::msg)?))
        }
        other => anyhow::bail!("LLM_PROVIDER={other:?} is not a provider: use offline or anthropic"),
    }
}

/// Runs `count` workers until `shutdown` fires.
pub fn spawn(
    state: &AppState,
    count: usize,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let Some(client) = state.nats.clone() else { return Ok(vec![]) };
    let provider = provider(state)?;
    let host = Arc::new(ApiHost::new(state.clone()));
    Ok((0..count)
        .map(|_| {
            let worker = Worker::new(client.clone(), config(state), provider.clone(), host.clone());
            let shutdown = shutdown.clone();
            let (client, stream, prefix) = (
                client.clone(),
                state.settings.nats_stream.clone(),
                state.settings.nats_subject_prefix.clone(),
            );
            tokio::spawn(async move {
                loop {
                    // The worker may start before the publisher, which also creates the stream.
                    match queue::ensure_stream(client.clone(), &stream, &prefix).await {
                        Err(e) => tracing::warn!(error = %e, "agent worker waiting for NATS"),
                        Ok(()) => match worker.run(shutdown.clone()).await {
                            Ok(()) => return,
                            Err(e) => tracing::warn!(error = %e, "agent worker stopped; restarting"),
                        },
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if *shutdown.borrow() {
                        return;
                    }
                }
            })
        })
        .collect())
}
