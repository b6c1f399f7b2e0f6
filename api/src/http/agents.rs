//! The nine agent endpoints (seed paths). Each records `AgentRunRequested`; the work itself happens
//! on the JetStream work queue. As in the original system, an endpoint answers with the finished
//! run and its artifact (200), waiting for it up to `AGENT_SYNC_WAIT_SECS`; it answers 202 with the
//! run's `Location` at once when the client sends `Prefer: respond-async` (RFC 7240), and when the
//! wait runs out. `?wait=SECONDS` (or `Prefer: wait=SECONDS`) sets the wait for one request.
//! Matching stays asynchronous by default, as it was a background task in the original.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use domain::agent_run::{Agent, Budget};
use domain::OpportunityCommand as Cmd;
use domain::OpportunityError;
use rust_decimal::Decimal;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::agent_runs::{load_run, AgentRunView};
use super::opportunity_view::ensure_exists;
use super::prefer::{Preferences, PREFERENCE_APPLIED};
use crate::agents::rate_limit;
use crate::auth::{Role, User};
use crate::clock;
use crate::command_bus::CommandError;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidPath, ValidQuery};
use crate::startup::AppState;

/// Longest a client may ask to wait for a run.
const MAX_WAIT_SECS: u64 = crate::config::MAX_AGENT_WAIT_SECS;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(intake))
        .routes(routes!(diagnose))
        .routes(routes!(normalize))
        .routes(routes!(match_assets))
        .routes(routes!(delivery_model))
        .routes(routes!(capability_gaps))
        .routes(routes!(support_docs))
        .routes(routes!(pitch_deck))
        .routes(routes!(implementation_plan))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Seconds to wait for the run to end (0–120; 0 answers 202 at once). Without it the endpoint
    /// waits up to the server's AGENT_SYNC_WAIT_SECS (matching: answers 202 at once), unless the
    /// request says `Prefer: respond-async`.
    pub wait: Option<u64>,
}

fn missing(field: &str, message: &str) -> ApiError {
    ApiError::MissingInput { field: field.into(), message: message.into() }
}

/// What each agent needs before it can run, checked so a run never starts without its inputs.
async fn check_inputs(state: &AppState, id: Uuid, agent: Agent) -> ApiResult<String> {
    let files: Vec<String> =
        sqlx::query_scalar("SELECT sha256 FROM opportunity_files WHERE opportunity_id = $1 ORDER BY sha256")
            .bind(id)
            .fetch_all(&state.pool)
            .await?;
    let upstream: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT ON (stage) run_id::text FROM agent_runs
          WHERE opportunity_id = $1 AND status = 'succeeded' ORDER BY stage, finished_at DESC",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let has_diagnosis: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agent_runs WHERE opportunity_id = $1 AND stage = 2 AND status = 'succeeded')",
    )
    .bind(id)
    .fetch_one(&state.pool)
    .await?;
    let assets: i64 = sqlx::query_scalar("SELECT count(*) FROM assets WHERE opportunity_id = $1")
        .bind(id)
        .fetch_one(&state.pool)
        .await?;
    match agent {
        Agent::Intake | Agent::Diagnosis | Agent::AssetNormalizer if files.is_empty() => {
            return Err(missing("files", "upload the brief first: this agent reads the opportunity's files"))
        }
        Agent::Matcher if assets == 0 => {
            return Err(missing("assets", "there are no assets to match: normalise or add assets first"))
        }
        Agent::DeliveryModel | Agent::CapabilityGaps | Agent::SupportDocs | Agent::PitchDeck
            if !has_diagnosis =>
        {
            return Err(missing("diagnosis", "run the diagnosis (stage 2) first: this agent builds on it"))
        }
        _ => {}
    }
    let mut digest = Sha256::new();
    for part in files.iter().chain(&upstream) {
        digest.update(part.as_bytes());
        digest.update(b"\n");
    }
    Ok(format!("sha256:{}", hex::encode(digest.finalize())))
}

/// How long this request waits for its run, and whether that honours `Prefer: respond-async`.
fn wait_for(
    state: &AppState,
    agent: Agent,
    wait: Option<u64>,
    prefer: &Preferences,
) -> ApiResult<(Duration, bool)> {
    let most = Duration::from_secs(MAX_WAIT_SECS);
    Ok(match wait {
        Some(w) if w > MAX_WAIT_SECS => {
            return Err(ApiError::invalid("wait", format!("wait must be at most {MAX_WAIT_SECS} seconds")))
        }
        Some(w) => (Duration::from_secs(w), false),
        None if prefer.respond_async => (Duration::ZERO, true),
        None => match prefer.wait {
            Some(w) => (w.min(most), false),
            None if agent == Agent::Matcher => (Duration::ZERO, false),
            None => (state.settings.agent_sync_wait, false),
        },
    })
}

/// Each user, and each opportunity, may start so many runs a minute (across every process).
async fn limit_rate(state: &AppState, user: &User, id: Uuid) -> ApiResult<()> {
    let s = &state.settings;
    let buckets: [(String, u32, &str); 2] = [
        (format!("agent-runs/user/{}", user.email.to_lowercase()), s.agent_runs_per_minute_per_user, "you"),
        (format!("agent-runs/opportunity/{id}"), s.agent_runs_per_minute_per_opportunity, "this opportunity"),
    ];
    for (key, per_minute, who) in buckets {
        if let Err(refused) = rate_limit::take(&state.pool, &key, rate_limit::Limit { per_minute }).await? {
            return Err(ApiError::RateLimited {
                field: "agent runs",
                message: format!(
                    "{who} may start {per_minute} agent runs a minute; try again in {} s",
                    refused.retry_after.as_secs()
                ),
                retry_after: refused.retry_after,
            });
        }
    }
    Ok(())
}

/// The spend limits a run is checked against; none when the provider costs nothing.
async fn budget(state: &AppState) -> ApiResult<Option<Budget>> {
    if state.settings.llm_provider == "offline" {
        return Ok(None);
    }
    let spent_today: Decimal = sqlx::query_scalar(
        "SELECT coalesce(sum(cost_usd), 0) FROM agent_runs
          WHERE finished_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    )
    .fetch_one(&state.pool)
    .await?;
    let s = &state.settings;
    Ok(Some(Budget {
        per_opportunity: s.agent_spend_cap_per_opportunity,
        per_day: s.agent_spend_cap_per_day,
        spent_today,
    }))
}

/// The run, waiting (bounded) for the read model when it was requested a moment ago by a
/// request still catching up; past that, the answer says the run is recorded but not yet shown.
async fn load_in_flight(state: &AppState, id: Uuid, run_id: Uuid) -> ApiResult<AgentRunView> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match load_run(state, run_id).await {
            Err(ApiError::NotFound(_)) if tokio::time::Instant::now() < deadline => {
                state.projector.catch_up().await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e @ ApiError::NotFound(_)) => {
                crate::visibility::mark_behind(id);
                return Err(e);
            }
            other => return other,
        }
    }
}

async fn request_run(
    state: &AppState,
    user: &User,
    raw_id: &str,
    agent: Agent,
    wait: Option<u64>,
    prefer: Preferences,
) -> ApiResult<(StatusCode, HeaderMap, Json<AgentRunView>)> {
    let id = uuid_param("id", raw_id)?;
    user.require(Role::Editor)?;
    let (wait, respond_async) = wait_for(state, agent, wait, &prefer)?;
    ensure_exists(&state.pool, id).await?;
    let input_digest = check_inputs(state, id, agent).await?;
    limit_rate(state, user, id).await?;
    let mut run_id = Uuid::new_v4();
    let command = Cmd::RequestAgentRun {
        run_id,
        agent,
        input_digest,
        prompt_version: agent_workers::prompts::prompt(agent).version,
        budget: budget(state).await?,
        actor: user.actor(),
        at: clock::now(),
    };
    match state.bus.execute(id, command, user).await {
        Ok(()) => {}
        // The same agent already runs on the same inputs: that run is the answer.
        Err(CommandError::Rejected(OpportunityError::AgentRunInFlight(running))) => run_id = running,
        Err(e) => return Err(e.into()),
    }
    let deadline = tokio::time::Instant::now() + wait;
    // The run in flight may have been requested a moment ago by a request still catching up.
    let mut run = load_in_flight(state, id, run_id).await?;
    let mut advanced = state.projector.advanced();
    while run.status == "requested" && tokio::time::Instant::now() < deadline {
        // A worker in this process records through the same projector, which wakes us at once;
        // one elsewhere is seen within the poll.
        let _ = tokio::time::timeout(Duration::from_millis(50), advanced.changed()).await;
        state.projector.catch_up().await?;
        run = load_run(state, run_id).await?;
    }
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/agent-runs/{run_id}")) {
        headers.insert(header::LOCATION, location);
    }
    if respond_async {
        headers.insert(PREFERENCE_APPLIED, HeaderValue::from_static("respond-async"));
    }
    let status = if run.status == "requested" { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, headers, Json(run)))
}

macro_rules! agent_endpoint {
    ($name:ident, $operation_id:literal, $agent:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, operation_id = $operation_id, path = $path, tag = "agents",
            params(("id" = Uuid, Path), WaitQuery,
                ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 at once; `wait=SECONDS`: wait at most this long (RFC 7240)")),
            responses((status = 200, body = AgentRunView, description = "the run ended (succeeded or failed) within the wait: its artifact is `output`"),
                (status = 202, body = AgentRunView, description = "requested and still running (Prefer: respond-async, or the wait ran out): poll Location"),
                (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem),
                (status = 403, body = Problem, content_type = "application/problem+json",
                    description = "not an editor, or a paid run over this opportunity's spend cap"),
                (status = 429, body = Problem, content_type = "application/problem+json",
                    description = "over the agent-run rate (per user or per opportunity) or today's spend cap; see Retry-After",
                    headers(("Retry-After" = u64, description = "seconds to wait")))))]
        async fn $name(
            user: User,
            State(state): State<AppState>,
            ValidPath(id): ValidPath<String>,
            ValidQuery(q): ValidQuery<WaitQuery>,
            headers: HeaderMap,
        ) -> ApiResult<(StatusCode, HeaderMap, Json<AgentRunView>)> {
            request_run(&state, &user, &id, $agent, q.wait, Preferences::from_headers(&headers)).await
        }
    };
}

agent_endpoint!(
    intake,
    "run_intake_agent",
    Agent::Intake,
    "/api/opportunities/{id}/intake",
    "Stage 1: reads the uploaded files and fills the opportunity's blank fields."
);
agent_endpoint!(
    diagnose,
    "run_diagnosis_agent",
    Agent::Diagnosis,
    "/api/opportunities/{id}/diagnose",
    "Stage 2: diagnoses the brief and replaces the clarifications diagnosis raised before."
);
agent_endpoint!(
    normalize,
    "run_asset_normalizer_agent",
    Agent::AssetNormalizer,
    "/api/opportunities/{id}/assets/normalize",
    "Stage 6: replaces the asset list (and the assets' matches and rate-card lines)."
);
agent_endpoint!(
    match_assets,
    "run_matcher_agent",
    Agent::Matcher,
    "/api/opportunities/{id}/match",
    "Stage 7: proposes up to three catalog matches per asset; a strong first one is selected."
);
agent_endpoint!(
    delivery_model,
    "run_delivery_model_agent",
    Agent::DeliveryModel,
    "/api/opportunities/{id}/delivery-model",
    "Stage 9: recommends how the work should be delivered."
);
agent_endpoint!(
    capability_gaps,
    "run_capability_gaps_agent",
    Agent::CapabilityGaps,
    "/api/opportunities/{id}/capability-gaps",
    "Stage 12: core capabilities in scope and the gaps, with sourcing."
);
agent_endpoint!(
    support_docs,
    "run_support_docs_agent",
    Agent::SupportDocs,
    "/api/opportunities/{id}/support-docs",
    "Stage 13: caveats, assumptions, SLAs, KPIs and governance."
);
agent_endpoint!(
    pitch_deck,
    "run_pitch_deck_agent",
    Agent::PitchDeck,
    "/api/opportunities/{id}/pitch-deck",
    "Stage 15: a slide-by-slide pitch outline from the platform's outputs."
);
agent_endpoint!(
    implementation_plan,
    "run_implementation_plan_agent",
    Agent::ImplementationPlan,
    "/api/opportunities/{id}/implementation-plan",
    "Stage 16: the post-win rollout plan (won deals only)."
);
