//! The worker loop: takes agent requests from the JetStream work queue, runs the provider, and
//! records the result through its host. Explicit acks, bounded redeliveries, a dead letter on
//! exhaustion, and progress heartbeats while a provider call runs. Each delivery runs in a span
//! carrying the correlation id of the request that asked for it, and passes that id on to what it
//! records.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, AckKind};
use async_trait::async_trait;
use domain::agent_run::Agent;
use futures::StreamExt;
use serde::Deserialize;
use thiserror::Error;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

use crate::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};
use crate::run_metrics::{self, Outcome};

#[derive(Debug, Error)]
pub enum HostError {
    /// The platform refused the result (e.g. it does not fit the agent's schema): do not retry.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The platform could not be reached or failed: retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// What the worker needs from the platform: a run's inputs, and a place to record its result.
/// `correlation_id` is the one the run was requested under (None on a request that had none);
/// what is recorded should carry it.
#[async_trait]
pub trait RunHost: Send + Sync {
    async fn inputs(&self, opportunity_id: Uuid, agent: Agent) -> Result<AgentInputs, HostError>;
    async fn record_output(
        &self,
        opportunity_id: Uuid,
        run_id: Uuid,
        correlation_id: Option<&str>,
        output: ProviderOutput,
    ) -> Result<(), HostError>;
    async fn record_failure(
        &self,
        opportunity_id: Uuid,
        run_id: Uuid,
        correlation_id: Option<&str>,
        reason: String,
    ) -> Result<(), HostError>;
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub stream: String,
    /// Subjects `<requests>.<agent>` are consumed; `<dead_letters>.<agent>` receive exhausted ones.
    pub requests_subject: String,
    pub dead_letter_subject: String,
    /// Workers sharing this durable consumer share the load.
    pub durable: String,
    /// Deliveries before a run is given up (and recorded as failed).
    pub max_deliver: i64,
    /// How long a delivery may go unacknowledged; heartbeats extend it while a call runs.
    pub ack_wait: Duration,
}

#[derive(Deserialize)]
struct RequestData {
    run_id: Uuid,
    agent: Agent,
}

/// The work-queue message: the CloudEvent of `AgentRunRequested`.
#[derive(Deserialize)]
struct Request {
    subject: Uuid,
    data: RequestData,
    #[serde(default, rename = "osopcorrelationid")]
    correlation_id: Option<String>,
}

#[derive(Debug, Error)]
pub enum WorkerError {
    #[error("NATS: {0}")]
    Nats(String),
}

pub struct Worker {
    js: jetstream::Context,
    config: WorkerConfig,
    provider: Arc<dyn Provider>,
    host: Arc<dyn RunHost>,
}

fn nats(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Nats(e.to_string())
}

impl Worker {
    pub fn new(
        client: async_nats::Client,
        config: WorkerConfig,
        provider: Arc<dyn Provider>,
        host: Arc<dyn RunHost>,
    ) -> Self {
        Self { js: jetstream::new(client), config, provider, host }
    }

    /// Takes requests until `shutdown` fires; an in-flight request is finished first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), WorkerError> {
        let c = &self.config;
        let stream = self.js.get_stream(&c.stream).await.map_err(nats)?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                &c.durable,
                pull::Config {
                    durable_name: Some(c.durable.clone()),
                    filter_subject: format!("{}.>", c.requests_subject),
                    ack_wait: c.ack_wait,
                    max_deliver: c.max_deliver,
                    ..Default::default()
                },
            )
            .await
            .map_err(nats)?;
        let mut messages = consumer.messages().await.map_err(nats)?;
        loop {
            let next = tokio::select! {
                m = messages.next() => m,
                _ = shutdown.changed() => return Ok(()),
            };
            match next {
                Some(Ok(message)) => self.handle(message).await,
                Some(Err(e)) => tracing::warn!(error = %e, "agent queue delivery failed"),
                None => return Ok(()),
            }
        }
    }

    async fn handle(&self, message: jetstream::Message) {
        let request: Request = match serde_json::from_slice(&message.payload) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "unreadable agent request dropped");
                let _ = message.ack_with(AckKind::Term).await;
                return;
            }
        };
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        let span = tracing::info_span!(
            "agent_run",
            run = %request.data.run_id,
            agent = request.data.agent.name(),
            delivered,
            correlation_id = request.correlation_id.as_deref().unwrap_or_default(),
        );
        self.deliver(&message, &request, delivered).instrument(span).await
    }

    /// Works one delivery of a run and settles it with the queue: ack, retry later, or give up.
    async fn deliver(&self, message: &jetstream::Message, request: &Request, delivered: i64) {
        let (opportunity, run, agent) = (request.subject, request.data.run_id, request.data.agent);
        let correlation = request.correlation_id.as_deref();
        if delivered > 1 {
            run_metrics::redelivered(agent);
        }
        let started = Instant::now();
        let outcome = match self.attempt(message, opportunity, run, agent, correlation).await {
            Ok(()) => {
                let _ = message.ack().await;
                Outcome::Succeeded
            }
            Err(Failure::Retry(reason)) if delivered < self.config.max_deliver => {
                tracing::warn!(%reason, "run will be retried");
                let delay = Duration::from_millis(200 * 2u64.pow(delivered.clamp(0, 8) as u32));
                let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
                Outcome::Retried
            }
            Err(Failure::Retry(reason) | Failure::GiveUp(reason)) => {
                tracing::warn!(%reason, "run failed");
                match self.host.record_failure(opportunity, run, correlation, reason.clone()).await {
                    Ok(()) => {
                        let dead = format!("{}.{}", self.config.dead_letter_subject, agent.name());
                        let body = serde_json::json!({"run_id": run, "opportunity_id": opportunity, "reason": reason});
                        let _ = self.js.publish(dead, body.to_string().into()).await;
                        run_metrics::dead_lettered(agent);
                        let _ = message.ack().await;
                        Outcome::Failed
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "failure not recorded; will retry");
                        let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
                        Outcome::Retried
                    }
                }
            }
        };
        run_metrics::delivery(agent, outcome, started.elapsed());
    }

    async fn attempt(
        &self,
        message: &jetstream::Message,
        opportunity: Uuid,
        run: Uuid,
        agent: Agent,
        correlation: Option<&str>,
    ) -> Result<(), Failure> {
        let inputs = self.host.inputs(opportunity, agent).await.map_err(Failure::from)?;
        // Keep the delivery alive while the provider works: long calls must not be redelivered.
        let call = self.provider.run(agent, &inputs);
        tokio::pin!(call);
        let mut heartbeat = tokio::time::interval(self.config.ack_wait / 2);
        heartbeat.tick().await;
        let output = loop {
            tokio::select! {
                out = &mut call => break out,
                _ = heartbeat.tick() => { let _ = message.ack_with(AckKind::Progress).await; }
            }
        };
        match output {
            Ok(output) => {
                run_metrics::usage(agent, &output.model, &output.usage, output.cost_usd);
                // Nothing half-written is ever recorded: an output that breaks its schema fails the run.
                crate::schema::validate(agent, &output.output)
                    .and_then(|()| match agent {
                        Agent::Matcher => crate::schema::check_matcher_references(&output.output, &inputs),
                        _ => Ok(()),
                    })
                    .map_err(|e| Failure::GiveUp(format!("malformed output: {e}")))?;
                self.host.record_output(opportunity, run, correlation, output).await.map_err(Failure::from)
            }
            Err(ProviderError::Transient(reason)) => Err(Failure::Retry(reason)),
            Err(ProviderError::Permanent(reason)) => Err(Failure::GiveUp(reason)),
        }
    }
}

enum Failure {
    Retry(String),
    GiveUp(String),
}

impl From<HostError> for Failure {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Rejected(reason) => Failure::GiveUp(reason),
            HostError::Unavailable(reason) => Failure::Retry(reason),
        }
    }
}
