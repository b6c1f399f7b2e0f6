//! The platform side of an agent run: gathers what it reads, records what it produced.

use std::collections::BTreeMap;

use agent_workers::provider::{AgentInputs, InputAsset, ProviderOutput, MAX_DOCUMENT_CHARS};
use agent_workers::worker::{HostError, RunHost};
use async_trait::async_trait;
use domain::agent_run::Agent;
use domain::catalog::CatalogEntry;
use domain::OpportunityCommand as Cmd;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{Role, User};
use crate::command_bus::CommandError;
use crate::correlation::CorrelationId;
use crate::startup::AppState;

pub struct ApiHost {
    state: AppState,
    /// Who the results are recorded as.
    worker: User,
}

impl ApiHost {
    pub fn new(state: AppState) -> Self {
        let worker = User {
            id: 0,
            email: "agent-worker@osop.local".into(),
            name: "OSOP agent worker".into(),
            role: Role::Editor,
            created_at: crate::clock::now(),
        };
        Self { state, worker }
    }

    /// Sends `command` under the run's correlation id, so what it records joins the request's trail.
    async fn execute(
        &self,
        opportunity: Uuid,
        correlation: Option<&str>,
        command: Cmd,
    ) -> Result<(), HostError> {
        let sent = self.state.bus.execute(opportunity, command, &self.worker);
        let result = match correlation.and_then(CorrelationId::parse) {
            Some(id) => id.scope(sent).await,
            None => sent.await,
        };
        result.map_err(|e| match e {
            CommandError::Rejected(reason) => HostError::Rejected(reason.to_string()),
            other => HostError::Unavailable(other.to_string()),
        })
    }
}

fn unavailable(e: impl std::fmt::Display) -> HostError {
    HostError::Unavailable(e.to_string())
}

#[async_trait]
impl RunHost for ApiHost {
    async fn inputs(&self, opportunity: Uuid, agent: Agent) -> Result<AgentInputs, HostError> {
        let pool = &self.state.pool;
        let files: Vec<(String, String)> = sqlx::query_as(
            "SELECT f.filename, b.extracted_text FROM opportunity_files f JOIN file_blobs b ON b.sha256 = f.sha256
              WHERE f.opportunity_id = $1 ORDER BY f.uploaded_at, f.id",
        )
        .bind(opportunity)
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
        let mut documents = String::new();
        for (name, text) in files {
            documents.push_str(&format!("\n\n--- {name} ---\n\n{text}"));
        }
        let documents: String = documents.trim_start().chars().take(MAX_DOCUMENT_CHARS).collect();
        let detail =
            crate::http::opportunity_view::load_detail(pool, opportunity).await.map_err(unavailable)?;
        let assets: Vec<(Uuid, String, Option<String>, Option<String>, i32)> = sqlx::query_as(
            "SELECT id, raw_name, raw_description, client_tier, volume FROM assets WHERE opportunity_id = $1
              ORDER BY position",
        )
        .bind(opportunity)
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
        let catalog: Vec<CatalogEntry> = if agent == Agent::Matcher {
            let rows: Vec<sqlx::types::Json<CatalogEntry>> = sqlx::query_scalar(
                "SELECT entry FROM catalog_entries WHERE version = (SELECT max(version) FROM catalog_versions)
                  ORDER BY catalog_id",
            )
            .fetch_all(pool)
            .await
            .map_err(unavailable)?;
            rows.into_iter().map(|e| e.0).collect()
        } else {
            vec![]
        };
        let artifacts: Vec<(String, Value)> = sqlx::query_as(
            "SELECT DISTINCT ON (agent) agent, output FROM agent_runs
              WHERE opportunity_id = $1 AND status = 'succeeded' ORDER BY agent, finished_at DESC",
        )
        .bind(opportunity)
        .fetch_all(pool)
        .await
        .map_err(unavailable)?;
        Ok(AgentInputs {
            documents,
            opportunity: serde_json::to_value(&detail).unwrap_or_default(),
            assets: assets
                .into_iter()
                .map(|(asset_id, raw_name, raw_description, client_tier, volume)| InputAsset {
                    asset_id,
                    raw_name,
                    raw_description,
                    client_tier,
                    volume: volume.max(1) as u32,
                })
                .collect(),
            catalog,
            artifacts: artifacts.into_iter().collect::<BTreeMap<_, _>>(),
        })
    }

    async fn record_output(
        &self,
        opportunity: Uuid,
        run_id: Uuid,
        correlation: Option<&str>,
        o: ProviderOutput,
    ) -> Result<(), HostError> {
        let command = Cmd::RecordAgentOutput {
            run_id,
            output: o.output,
            model: o.model,
            usage: o.usage,
            cost_usd: o.cost_usd,
            at: crate::clock::now(),
        };
        self.execute(opportunity, correlation, command).await
    }

    async fn record_failure(
        &self,
        opportunity: Uuid,
        run_id: Uuid,
        correlation: Option<&str>,
        reason: String,
    ) -> Result<(), HostError> {
        let command = Cmd::RecordAgentFailure { run_id, reason, at: crate::clock::now() };
        self.execute(opportunity, correlation, command).await
    }
}
