//! What an agent run reads, what a provider gives back, and the trait every provider implements.

use std::collections::BTreeMap;

use async_trait::async_trait;
use domain::agent_run::{Agent, Usage};
use domain::catalog::CatalogEntry;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

/// Characters of uploaded text an agent reads at most (the seed's cap).
pub const MAX_DOCUMENT_CHARS: usize = 150_000;

/// An asset as the matcher reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputAsset {
    pub asset_id: Uuid,
    pub raw_name: String,
    pub raw_description: Option<String>,
    pub client_tier: Option<String>,
    pub volume: u32,
}

/// Everything a run may read, gathered by the host before the provider is called.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentInputs {
    /// The opportunity's uploaded files as text, concatenated and capped.
    pub documents: String,
    /// The opportunity as the API shows it.
    pub opportunity: Value,
    pub assets: Vec<InputAsset>,
    /// The current catalog (filled for the matcher only).
    pub catalog: Vec<CatalogEntry>,
    /// The latest artifact of each upstream agent, by agent name (e.g. "diagnosis").
    pub artifacts: BTreeMap<String, Value>,
}

/// A provider's validated answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderOutput {
    pub output: Value,
    pub model: String,
    pub usage: Usage,
    pub cost_usd: Decimal,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// Worth trying again (rate limit, overload, timeout).
    #[error("transient: {0}")]
    Transient(String),
    /// Trying again would give the same answer (unsupported agent, malformed output).
    #[error("{0}")]
    Permanent(String),
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// Shown on the run as its model.
    fn name(&self) -> &str;
    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError>;
}
