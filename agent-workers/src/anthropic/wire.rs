//! The Messages API wire format: the request body of a run, and what is read back from a reply.

use std::time::Duration;

use domain::agent_run::{Agent, Usage};
use domain::catalog::CatalogEntry;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::prompts;
use crate::provider::{AgentInputs, MAX_DOCUMENT_CHARS};
use crate::schema;

/// The request body: the agent's prompt as a cached system block, its one tool, forced, and a user
/// message with the stable part first (the catalog, cached, for the matcher) and the run's inputs.
pub(super) fn request_body(agent: Agent, inputs: &AgentInputs, model: &str, max_tokens: u32) -> Value {
    let prompt = prompts::prompt(agent);
    let mut content = Vec::new();
    if agent == Agent::Matcher && !inputs.catalog.is_empty() {
        content.push(json!({
            "type": "text",
            "text": catalog_text(&inputs.catalog),
            "cache_control": {"type": "ephemeral"},
        }));
    }
    content.push(json!({"type": "text", "text": inputs_text(agent, inputs)}));
    json!({
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}],
        "tools": [{
            "name": agent.tool(),
            "description": schema::tool_description(agent),
            "input_schema": schema::tool_schema(agent),
        }],
        "tool_choice": {"type": "tool", "name": agent.tool()},
        "messages": [{"role": "user", "content": content}],
    })
}

/// The catalog as the matcher reads it: what each entry is, without its hours (which the matcher
/// does not need), in catalog order so the cached text is byte-identical from run to run.
fn catalog_text(catalog: &[CatalogEntry]) -> String {
    let entries: Vec<Value> = catalog
        .iter()
        .map(|e| {
            let mut v = Map::new();
            v.insert("catalog_id".into(), json!(e.catalog_id));
            v.insert("category".into(), json!(e.category));
            v.insert("sub_category".into(), json!(e.sub_category));
            let optional = [
                ("sub_category_description", &e.sub_category_description),
                ("complexity_description", &e.complexity_description),
                ("agency_caveats", &e.agency_caveats),
            ];
            v.insert("asset_name".into(), json!(e.asset_name));
            v.insert("complexity".into(), json!(e.complexity));
            v.insert("asset_description".into(), json!(e.asset_description));
            for (key, value) in optional {
                if let Some(s) = value.as_deref().filter(|s| !s.trim().is_empty()) {
                    v.insert(key.into(), json!(s));
                }
            }
            Value::Object(v)
        })
        .collect();
    format!(
        "The catalog of hour routes (GMAL), {} entries, as JSON. Use only these catalog_id values as gmal_id.\n{}",
        catalog.len(),
        Value::Array(entries)
    )
}

/// The run's own inputs as one JSON object: the documents, the opportunity, the assets (all of
/// them, for the matcher) and the upstream artifacts, each only when there is something to say.
fn inputs_text(agent: Agent, inputs: &AgentInputs) -> String {
    let mut v = Map::new();
    if !inputs.opportunity.is_null() {
        v.insert("opportunity".into(), inputs.opportunity.clone());
    }
    if !inputs.documents.trim().is_empty() {
        let documents: String = inputs.documents.chars().take(MAX_DOCUMENT_CHARS).collect();
        v.insert("documents".into(), json!(documents));
    }
    if !inputs.assets.is_empty() {
        v.insert("assets".into(), json!(inputs.assets));
    }
    if !inputs.artifacts.is_empty() {
        v.insert("upstream_artifacts".into(), json!(inputs.artifacts));
    }
    format!("The inputs of this run, as JSON. Answer by calling {}.\n{}", agent.tool(), Value::Object(v))
}

/// What a successful reply gives.
pub(super) struct Reply {
    pub output: Value,
    pub model: String,
    pub usage: Usage,
}

/// Reads the model, the usage (every bucket; absent ones are 0) and the forced tool's input.
pub(super) fn parse_reply(agent: Agent, body: &Value) -> Result<Reply, String> {
    let model =
        body["model"].as_str().filter(|m| !m.is_empty()).ok_or("the reply names no model")?.to_string();
    let u = &body["usage"];
    let n = |key: &str| u[key].as_u64().unwrap_or(0);
    let usage = Usage {
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        cache_creation_input_tokens: n("cache_creation_input_tokens"),
        cache_read_input_tokens: n("cache_read_input_tokens"),
    };
    let tool_use = body["content"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["type"] == "tool_use" && b["name"] == agent.tool());
    let Some(block) = tool_use else {
        let stop = body["stop_reason"].as_str().unwrap_or("unknown");
        return Err(format!("the reply has no {} tool_use block (stop_reason {stop})", agent.tool()));
    };
    if body["stop_reason"] == "max_tokens" {
        return Err("the reply was cut off at max_tokens before the tool input was complete".into());
    }
    Ok(Reply { output: block["input"].clone(), model, usage })
}

/// "anthropic 401 authentication_error: invalid x-api-key", from the API's error body when it has
/// one, else from the raw body.
pub(super) fn error_message(status: StatusCode, body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().map(|v| &v["error"]);
    match error.and_then(|e| e["message"].as_str()) {
        Some(message) => {
            let kind = error.and_then(|e| e["type"].as_str()).unwrap_or("error");
            format!("anthropic {} {kind}: {message}", status.as_u16())
        }
        None => {
            let raw: String = String::from_utf8_lossy(body).chars().take(300).collect();
            format!("anthropic {}: {}", status.as_u16(), raw.trim())
        }
    }
}

/// A `retry-after` given in seconds (an HTTP date is ignored; the backoff applies instead).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3_600.0)))
}
