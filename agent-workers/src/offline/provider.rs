//! The offline provider: runs the rule-based extraction for each agent it knows.

use async_trait::async_trait;
use domain::agent_run::{Agent, Usage};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::normaliser::NormalizedAsset;
use super::{
    capability_gaps, delivery_model, diagnosis, implementation_plan, intake, matcher, normaliser, pitch_deck,
    support_docs,
};
use crate::provider::{AgentInputs, Provider, ProviderError, ProviderOutput};

/// The model name recorded on offline runs.
pub const MODEL: &str = "offline-rules-v1";

pub struct OfflineProvider;

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, ProviderError> {
    serde_json::to_value(v).map_err(|e| ProviderError::Permanent(format!("output not serialisable: {e}")))
}

impl OfflineProvider {
    fn output(agent: Agent, inputs: &AgentInputs) -> Result<Value, ProviderError> {
        let text = inputs.documents.as_str();
        match agent {
            Agent::Intake => to_value(intake::intake(text)),
            Agent::Diagnosis => to_value(diagnosis::diagnose(text)),
            Agent::AssetNormalizer => to_value(normaliser::normalise(text)),
            Agent::Matcher => {
                let index = matcher::CatalogIndex::new(&inputs.catalog);
                let assets: Vec<Value> = inputs
                    .assets
                    .iter()
                    .map(|a| {
                        let asset = NormalizedAsset {
                            raw_name: a.raw_name.clone(),
                            raw_description: a.raw_description.clone().unwrap_or_default(),
                            client_tier: a.client_tier.clone(),
                            volume: a.volume,
                        };
                        let matches: Vec<Value> = index
                            .match_asset(&asset)
                            .into_iter()
                            .map(|c| {
                                let name = inputs
                                    .catalog
                                    .iter()
                                    .find(|e| e.catalog_id == c.gmal_id)
                                    .map(|e| e.asset_name.clone());
                                let mut v = json!(c);
                                v["catalog_asset_name"] = json!(name);
                                v
                            })
                            .collect();
                        json!({"asset_id": a.asset_id, "matches": matches})
                    })
                    .collect();
                Ok(json!({ "assets": assets }))
            }
            Agent::DeliveryModel => to_value(delivery_model::delivery_model(inputs)),
            Agent::CapabilityGaps => to_value(capability_gaps::capability_gaps(inputs)),
            Agent::SupportDocs => to_value(support_docs::support_docs(inputs)),
            Agent::PitchDeck => to_value(pitch_deck::pitch_deck(inputs)),
            Agent::ImplementationPlan => to_value(implementation_plan::implementation_plan(inputs)),
        }
    }
}

#[async_trait]
impl Provider for OfflineProvider {
    fn name(&self) -> &str {
        MODEL
    }

    async fn run(&self, agent: Agent, inputs: &AgentInputs) -> Result<ProviderOutput, ProviderError> {
        let output = Self::output(agent, inputs)?;
        // No tokens are bought offline; the estimate (about four characters a token) shows the size.
        let usage = Usage {
            input_tokens: (inputs.documents.chars().count() / 4) as u64,
            output_tokens: (output.to_string().chars().count() / 4) as u64,
            ..Default::default()
        };
        Ok(ProviderOutput { output, model: MODEL.to_string(), usage, cost_usd: Decimal::ZERO })
    }
}
