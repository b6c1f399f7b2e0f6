//! Agent runs on an opportunity: requested, then an artifact produced or a failure, each once.
//!
//! Recording is idempotent on `run_id`: a redelivered or replayed result of a finished run records
//! nothing, so a run never makes a second artifact.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commands::OpportunityCommand as Cmd;
use crate::deal_status::DealStatus;
use crate::errors::OpportunityError as E;
use crate::events::OpportunityEvent as Ev;
use crate::opportunity::Opportunity;

/// The nine agents, each with its stage and its one forced tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agent {
    Intake,
    Diagnosis,
    AssetNormalizer,
    Matcher,
    DeliveryModel,
    CapabilityGaps,
    SupportDocs,
    PitchDeck,
    ImplementationPlan,
}

impl Agent {
    pub const ALL: [Agent; 9] = [
        Self::Intake,
        Self::Diagnosis,
        Self::AssetNormalizer,
        Self::Matcher,
        Self::DeliveryModel,
        Self::CapabilityGaps,
        Self::SupportDocs,
        Self::PitchDeck,
        Self::ImplementationPlan,
    ];

    /// The snake_case name used on the wire, in subjects and in read models (e.g. "asset_normalizer").
    pub fn name(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Diagnosis => "diagnosis",
            Self::AssetNormalizer => "asset_normalizer",
            Self::Matcher => "matcher",
            Self::DeliveryModel => "delivery_model",
            Self::CapabilityGaps => "capability_gaps",
            Self::SupportDocs => "support_docs",
            Self::PitchDeck => "pitch_deck",
            Self::ImplementationPlan => "implementation_plan",
        }
    }

    pub fn stage(self) -> u8 {
        match self {
            Self::Intake => 1,
            Self::Diagnosis => 2,
            Self::AssetNormalizer => 6,
            Self::Matcher => 7,
            Self::DeliveryModel => 9,
            Self::CapabilityGaps => 12,
            Self::SupportDocs => 13,
            Self::PitchDeck => 15,
            Self::ImplementationPlan => 16,
        }
    }

    pub fn tool(self) -> &'static str {
        match self {
            Self::Intake => "submit_intake_metadata",
            Self::Diagnosis => "submit_brief_diagnosis",
            Self::AssetNormalizer => "submit_normalized_assets",
            Self::Matcher => "submit_matches",
            Self::DeliveryModel => "submit_delivery_model",
            Self::CapabilityGaps => "submit_capability_gaps",
            Self::SupportDocs => "submit_support_docs",
            Self::PitchDeck => "submit_pitch_deck_outline",
            Self::ImplementationPlan => "submit_implementation_plan",
        }
    }
}

/// Token usage of one provider call, every bucket kept as the provider reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Requested,
    Succeeded,
    Failed,
}

/// What the aggregate keeps of a run: what its decisions need (is it finished, on which inputs,
/// what it cost). Outputs live in the log and the read models, never in the aggregate's state,
/// so a loop of runs cannot grow what every command loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRun {
    pub run_id: Uuid,
    pub agent: Agent,
    pub status: RunStatus,
    pub input_digest: String,
    pub prompt_version: String,
    pub requested_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub failure: Option<String>,
    pub cost_usd: Decimal,
}

/// How long a requested run counts as in flight for deduplication: one unanswered for longer
/// (no worker took it) no longer holds back a fresh request.
pub const IN_FLIGHT_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The spend limits a paid run is checked against, and what was spent today across every
/// opportunity (the aggregate knows only its own spend).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub per_opportunity: Decimal,
    pub per_day: Decimal,
    pub spent_today: Decimal,
}

/// Which spend limit was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpendCap {
    PerOpportunity,
    PerDay,
}

impl std::fmt::Display for SpendCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::PerOpportunity => "this opportunity's spend cap (AGENT_SPEND_CAP_PER_OPPORTUNITY_USD)",
            Self::PerDay => "today's spend cap (AGENT_SPEND_CAP_PER_DAY_USD)",
        })
    }
}

impl Opportunity {
    pub(crate) fn decide_agent_run(&self, command: Cmd) -> Result<Vec<Ev>, E> {
        Ok(match command {
            Cmd::RequestAgentRun { run_id, agent, input_digest, prompt_version, budget, actor, at } => {
                if self.agent_runs.contains_key(&run_id) {
                    return Ok(vec![]);
                }
                if agent == Agent::ImplementationPlan && self.deal_status != DealStatus::Won {
                    return Err(E::DealNotWon);
                }
                if let Some(same) = self.agent_runs.values().find(|r| {
                    r.agent == agent
                        && r.status == RunStatus::Requested
                        && r.input_digest == input_digest
                        && at - r.requested_at < IN_FLIGHT_WINDOW
                }) {
                    return Err(E::AgentRunInFlight(same.run_id));
                }
                if let Some(b) = budget {
                    if self.total_cost_usd >= b.per_opportunity {
                        let (limit, spent) = (b.per_opportunity, self.total_cost_usd);
                        return Err(E::SpendCapReached { cap: SpendCap::PerOpportunity, limit, spent });
                    }
                    if b.spent_today >= b.per_day {
                        let (limit, spent) = (b.per_day, b.spent_today);
                        return Err(E::SpendCapReached { cap: SpendCap::PerDay, limit, spent });
                    }
                }
                vec![Ev::AgentRunRequested {
                    run_id,
                    agent,
                    stage: agent.stage(),
                    input_digest,
                    prompt_version,
                    requested_by: actor.email,
                    at,
                }]
            }
            Cmd::RecordAgentOutput { run_id, output, model, usage, cost_usd, at } => {
                let run = self.agent_runs.get(&run_id).ok_or(E::AgentRunNotFound(run_id))?;
                if run.status != RunStatus::Requested {
                    return Ok(vec![]);
                }
                if let Some(path) = crate::limits::nul_in(&output, "") {
                    return Err(E::MalformedOutput(format!(
                        "{}: {path} holds a NUL character",
                        run.agent.tool()
                    )));
                }
                let effects = self.output_effects(run.agent, run_id, &output, at)?;
                let mut events = vec![Ev::ArtifactProduced {
                    run_id,
                    agent: run.agent,
                    stage: run.agent.stage(),
                    output,
                    model,
                    usage,
                    cost_usd,
                    at,
                }];
                events.extend(effects);
                events
            }
            Cmd::RecordAgentFailure { run_id, reason, at } => {
                let run = self.agent_runs.get(&run_id).ok_or(E::AgentRunNotFound(run_id))?;
                if run.status != RunStatus::Requested {
                    return Ok(vec![]);
                }
                let reason = crate::limits::clean(&reason, crate::limits::FAILURE_REASON);
                vec![Ev::AgentRunFailed { run_id, agent: run.agent, reason, at }]
            }
            other => unreachable!("not an agent-run command: {other:?}"),
        })
    }

    pub(crate) fn apply_agent_run(&mut self, event: Ev) {
        match event {
            Ev::AgentRunRequested { run_id, agent, input_digest, prompt_version, at, .. } => {
                self.agent_runs.insert(
                    run_id,
                    AgentRun {
                        run_id,
                        agent,
                        status: RunStatus::Requested,
                        input_digest,
                        prompt_version,
                        requested_at: at,
                        finished_at: None,
                        failure: None,
                        cost_usd: Decimal::ZERO,
                    },
                );
            }
            Ev::ArtifactProduced { run_id, cost_usd, at, .. } => {
                if let Some(run) = self.agent_runs.get_mut(&run_id) {
                    run.status = RunStatus::Succeeded;
                    run.cost_usd = cost_usd;
                    run.finished_at = Some(at);
                }
                self.total_cost_usd += cost_usd;
            }
            Ev::AgentRunFailed { run_id, reason, at, .. } => {
                if let Some(run) = self.agent_runs.get_mut(&run_id) {
                    run.status = RunStatus::Failed;
                    run.failure = Some(reason);
                    run.finished_at = Some(at);
                }
            }
            _ => {}
        }
    }

    /// The latest successful run of an agent, if any (its output is in the log and read models).
    pub fn latest_artifact(&self, agent: Agent) -> Option<&AgentRun> {
        self.agent_runs
            .values()
            .filter(|r| r.agent == agent && r.status == RunStatus::Succeeded)
            .max_by_key(|r| r.finished_at)
    }
}
