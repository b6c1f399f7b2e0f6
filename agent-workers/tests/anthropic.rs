//! The Anthropic provider against a fake Messages API on 127.0.0.1: the request it sends, the reply
//! it reads, its retries and how each failure is classified. No real network is used.

mod fake_anthropic;
mod samples;

use std::str::FromStr;
use std::time::Duration;

use agent_workers::anthropic::{AnthropicConfig, AnthropicProvider};
use agent_workers::pricing::PriceTable;
use agent_workers::prompts::prompt;
use agent_workers::provider::{AgentInputs, InputAsset, Provider, ProviderError};
use agent_workers::schema::tool_schema;
use domain::agent_run::{Agent, Usage};
use domain::catalog_import::default_catalog;
use fake_anthropic::{reply, tool_reply, Fake, Step};
use rust_decimal::Decimal;
use samples::sample;
use serde_json::{json, Value};
use uuid::Uuid;

const MODEL: &str = "claude-sonnet-4-5";
const SERVED: &str = "claude-sonnet-4-5-20250929";
const KEY: &str = "test-key-123";

fn config(fake: &Fake) -> AnthropicConfig {
    AnthropicConfig {
        base_url: fake.base_url.clone(),
        model: MODEL.into(),
        max_tokens: 4_096,
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        ..AnthropicConfig::new(KEY)
    }
}

fn provider(fake: &Fake) -> AnthropicProvider {
    AnthropicProvider::new(config(fake), PriceTable::default()).expect("valid configuration")
}

fn brief_inputs() -> AgentInputs {
    AgentInputs {
        documents: "RFP: paid social statics for 12 EMEA markets, volumes TBC.".into(),
        opportunity: json!({"name": "Halvorsen EMEA content"}),
        ..Default::default()
    }
}

fn diagnosis_reply(input: Value) -> Step {
    Step::ok(tool_reply(SERVED, Agent::Diagnosis.tool(), input, [1_234, 567, 8_910, 11_121]))
}

fn permanent(r: Result<agent_workers::provider::ProviderOutput, ProviderError>) -> String {
    match r {
        Err(ProviderError::Permanent(m)) => m,
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_tool_call_becomes_the_output_with_usage_and_exact_cost() {
    let fake = Fake::start(vec![diagnosis_reply(sample(Agent::Diagnosis))]).await;
    let out = provider(&fake).run(Agent::Diagnosis, &brief_inputs()).await.expect("success");

    assert_eq!(out.output, sample(Agent::Diagnosis));
    assert_eq!(out.model, SERVED, "the reply's model is recorded");
    let usage = Usage {
        input_tokens: 1_234,
        output_tokens: 567,
        cache_creation_input_tokens: 8_910,
        cache_read_input_tokens: 11_121,
    };
    assert_eq!(out.usage, usage);
    // 1 234 × 3 + 567 × 15 + 8 910 × 3.75 + 11 121 × 0.30 = 48 955.8 µ$ → 0.048956 at 6 places.
    assert_eq!(out.cost_usd, Decimal::from_str("0.048956").unwrap());

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let (headers, body) = (&requests[0].headers, &requests[0].body);
    assert_eq!(headers["x-api-key"], KEY);
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["max_tokens"], 4_096);
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "submit_brief_diagnosis"}));
    assert_eq!(body["tools"].as_array().unwrap().len(), 1);
    assert_eq!(body["tools"][0]["name"], "submit_brief_diagnosis");
    assert_eq!(body["tools"][0]["input_schema"], tool_schema(Agent::Diagnosis));
    assert_eq!(body["system"][0]["text"], prompt(Agent::Diagnosis).system);
    assert_eq!(body["system"][0]["cache_control"], json!({"type": "ephemeral"}));
    let content = body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(content.len(), 1, "no catalog outside the matcher");
    let text = content[0]["text"].as_str().unwrap();
    assert!(
        text.contains("paid social statics for 12 EMEA markets") && text.contains("Halvorsen EMEA content")
    );
}

#[tokio::test]
async fn the_matcher_sends_the_cached_catalog_and_every_asset_in_one_call() {
    let catalog: Vec<_> = default_catalog().into_iter().take(12).collect();
    let assets: Vec<InputAsset> = (1..=7)
        .map(|n| InputAsset {
            asset_id: Uuid::from_u128(n),
            raw_name: format!("Asset number {n}"),
            raw_description: None,
            client_tier: None,
            volume: n as u32,
        })
        .collect();
    let answer = json!({"assets": assets.iter().map(|a| json!({
        "asset_id": a.asset_id,
        "matches": [{"gmal_id": catalog[0].catalog_id, "confidence": "close", "confidence_score": 0.7,
                     "reasoning": "Same kind of work.", "caveats": "Check the formats."}],
    })).collect::<Vec<_>>()});
    let fake = Fake::start(vec![Step::ok(tool_reply(
        SERVED,
        "submit_matches",
        answer.clone(),
        [100, 200, 0, 5_000],
    ))])
    .await;
    let inputs = AgentInputs { assets: assets.clone(), catalog: catalog.clone(), ..brief_inputs() };
    let out = provider(&fake).run(Agent::Matcher, &inputs).await.expect("success");
    assert_eq!(out.output, answer);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "all assets in one call");
    let body = &requests[0].body;
    assert_eq!(body["tool_choice"]["name"], "submit_matches");
    let content = body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(content.len(), 2);
    assert_eq!(content[0]["cache_control"], json!({"type": "ephemeral"}), "the catalog is cached");
    assert!(content[1].get("cache_control").is_none(), "the run's own inputs are not");
    let (stable, own) = (content[0]["text"].as_str().unwrap(), content[1]["text"].as_str().unwrap());
    assert!(catalog.iter().all(|e| stable.contains(&format!("\"{}\"", e.catalog_id))));
    assert!(assets.iter().all(|a| own.contains(&a.asset_id.to_string()) && own.contains(&a.raw_name)));
    assert!(!own.contains(&catalog[0].catalog_id), "the catalog is only in the cached block");
}

#[tokio::test]
async fn a_rate_limit_is_retried_then_succeeds() {
    let limited = Step::error(429, "rate_limit_error", "slow down").with_header("retry-after", "0");
    let fake = Fake::start(vec![limited, diagnosis_reply(sample(Agent::Diagnosis))]).await;
    let out = provider(&fake).run(Agent::Diagnosis, &brief_inputs()).await.expect("second call succeeds");
    assert_eq!(out.output, sample(Agent::Diagnosis));
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried() {
    let slow = diagnosis_reply(sample(Agent::Diagnosis)).after(Duration::from_secs(5));
    let steps = vec![Step::error(500, "api_error", "oops"), slow, diagnosis_reply(sample(Agent::Diagnosis))];
    let fake = Fake::start(steps).await;
    let p = AnthropicProvider::new(
        AnthropicConfig { timeout: Duration::from_millis(500), ..config(&fake) },
        PriceTable::default(),
    )
    .unwrap();
    p.run(Agent::Diagnosis, &brief_inputs()).await.expect("third call succeeds");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn overload_until_exhaustion_is_transient_after_max_attempts() {
    let fake = Fake::start(vec![Step::error(529, "overloaded_error", "Overloaded")]).await;
    match provider(&fake).run(Agent::Diagnosis, &brief_inputs()).await {
        Err(ProviderError::Transient(m)) => {
            assert!(m.contains("529") && m.contains("Overloaded") && m.contains("3 attempts"), "{m}")
        }
        other => panic!("expected transient, got {other:?}"),
    }
    assert_eq!(fake.requests().len(), 3, "exactly max_attempts calls");
}

#[tokio::test]
async fn an_unreachable_server_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let p = AnthropicProvider::new(
        AnthropicConfig {
            base_url,
            max_attempts: 2,
            backoff_base: Duration::from_millis(1),
            ..AnthropicConfig::new(KEY)
        },
        PriceTable::default(),
    )
    .unwrap();
    let r = p.run(Agent::Intake, &brief_inputs()).await;
    assert!(matches!(&r, Err(ProviderError::Transient(m)) if m.contains("2 attempts")), "{r:?}");
}

#[tokio::test]
async fn a_tool_input_breaking_the_schema_is_permanent_and_not_retried() {
    let mut bad = sample(Agent::Diagnosis);
    bad["clarifications"][3]["priority"] = json!("purple");
    let fake = Fake::start(vec![diagnosis_reply(bad)]).await;
    let m = permanent(provider(&fake).run(Agent::Diagnosis, &brief_inputs()).await);
    assert_eq!(m, "malformed tool input: clarifications[3].priority: must be red, amber or green");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_reply_without_the_tool_call_is_permanent() {
    let text_only =
        reply(SERVED, json!([{"type": "text", "text": "I cannot help."}]), "end_turn", [10, 5, 0, 0]);
    let fake = Fake::start(vec![Step::ok(text_only)]).await;
    let m = permanent(provider(&fake).run(Agent::Diagnosis, &brief_inputs()).await);
    assert!(m.starts_with("malformed tool input: ") && m.contains("submit_brief_diagnosis"), "{m}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_matcher_inventing_a_catalog_id_is_permanent() {
    let catalog: Vec<_> = default_catalog().into_iter().take(3).collect();
    let asset = InputAsset {
        asset_id: Uuid::from_u128(1),
        raw_name: "Banner".into(),
        raw_description: None,
        client_tier: None,
        volume: 1,
    };
    let answer = json!({"assets": [{"asset_id": asset.asset_id, "matches": [{"gmal_id": "GMAL-MADE-UP",
        "confidence": "exact", "confidence_score": 0.99, "reasoning": "", "caveats": ""}]}]});
    let fake = Fake::start(vec![Step::ok(tool_reply(SERVED, "submit_matches", answer, [1, 1, 0, 0]))]).await;
    let inputs = AgentInputs { assets: vec![asset], catalog, ..Default::default() };
    let m = permanent(provider(&fake).run(Agent::Matcher, &inputs).await);
    assert_eq!(
        m,
        "malformed tool input: assets[0].matches[0].gmal_id: \"GMAL-MADE-UP\" is not in the catalog"
    );
}

#[tokio::test]
async fn client_errors_are_permanent_with_the_api_message_and_not_retried() {
    let cases = [
        (401, "authentication_error", "invalid x-api-key"),
        (400, "invalid_request_error", "max_tokens: too large"),
        (403, "permission_error", "not allowed"),
        (404, "not_found_error", "model: no-such-model"),
    ];
    for (status, kind, message) in cases {
        let fake = Fake::start(vec![Step::error(status, kind, message)]).await;
        let m = permanent(provider(&fake).run(Agent::Intake, &brief_inputs()).await);
        assert_eq!(m, format!("anthropic {status} {kind}: {message}"));
        assert_eq!(fake.requests().len(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn an_unpriced_model_is_refused_up_front_and_when_served() {
    let fake = Fake::start(vec![Step::ok(tool_reply(
        "claude-mystery-9",
        "submit_intake_metadata",
        sample(Agent::Intake),
        [1, 1, 0, 0],
    ))])
    .await;
    let err = AnthropicProvider::new(
        AnthropicConfig { model: "claude-mystery-9".into(), ..config(&fake) },
        PriceTable::default(),
    );
    assert!(err.err().unwrap().contains("no price for model \"claude-mystery-9\""));
    let m = permanent(provider(&fake).run(Agent::Intake, &brief_inputs()).await);
    assert!(m.contains("no price for model \"claude-mystery-9\""), "{m}");
    assert!(AnthropicProvider::new(AnthropicConfig::new(" "), PriceTable::default()).is_err(), "empty key");
}
