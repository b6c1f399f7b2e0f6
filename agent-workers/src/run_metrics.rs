//! What workers report through the `metrics` facade: deliveries by outcome and their duration,
//! tokens and cost as the provider reported them, redeliveries and dead letters. The recorder
//! belongs to the process that runs the workers; without one these calls do nothing.

use std::time::Duration;

use domain::agent_run::{Agent, Usage};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// How one delivery of a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The output was recorded.
    Succeeded,
    /// The failure was recorded (and the run dead-lettered).
    Failed,
    /// Handed back to the queue to be tried again.
    Retried,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Retried => "retried",
        }
    }
}

pub fn delivery(agent: Agent, outcome: Outcome, took: Duration) {
    let (agent, outcome) = (agent.name(), outcome.label());
    metrics::counter!("osop_agent_runs_total", "agent" => agent, "outcome" => outcome).increment(1);
    metrics::histogram!("osop_agent_run_duration_seconds", "agent" => agent, "outcome" => outcome)
        .record(took);
}

/// A provider's answer: what was spent, counted per call (a retried run that calls again spends again).
pub fn usage(agent: Agent, model: &str, usage: &Usage, cost_usd: Decimal) {
    let agent = agent.name();
    let kinds = [
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache_write", usage.cache_creation_input_tokens),
        ("cache_read", usage.cache_read_input_tokens),
    ];
    for (kind, tokens) in kinds {
        metrics::counter!("osop_agent_tokens_total", "agent" => agent, "model" => model.to_string(), "kind" => kind)
            .increment(tokens);
    }
    // Counters are whole numbers: millionths of a dollar keep every priced token visible.
    let micro = (cost_usd * Decimal::from(1_000_000)).round().to_u64().unwrap_or(0);
    metrics::counter!("osop_agent_cost_microusd_total", "agent" => agent, "model" => model.to_string())
        .increment(micro);
}

pub fn redelivered(agent: Agent) {
    metrics::counter!("osop_agent_redeliveries_total", "agent" => agent.name()).increment(1);
}

pub fn dead_lettered(agent: Agent) {
    metrics::counter!("osop_agent_dead_letters_total", "agent" => agent.name()).increment(1);
}
