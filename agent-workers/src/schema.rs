//! The JSON Schema of each agent's forced tool (what the model must fill in) and the check an
//! output passes before it is recorded.
//!
//! The schemas follow the seed's per-stage reference. [`validate`] walks the same schema (types,
//! required fields, enums, list lengths, ranges, date and UUID formats) and then applies the rules
//! a schema cannot say (a clarification is a question). The first problem found is returned with
//! its path, e.g. `clarifications[3].priority: must be red, amber or green`.

mod check;

use domain::agent_run::Agent;
use serde_json::{json, Value};

use crate::provider::AgentInputs;

/// The JSON Schema of the input of `agent.tool()`.
pub fn tool_schema(agent: Agent) -> Value {
    match agent {
        Agent::Intake => obj(
            &["brands", "service_types", "summary"],
            json!({
                "client_name": nullable("The issuing organisation; omit when not stated."),
                "region": nullable("Region as the documents state it, e.g. EMEA."),
                "brands": strings(),
                "service_types": strings(),
                "deadline_iso": date("Proposal due date, YYYY-MM-DD."),
                "go_live_iso": date("Go-live date, YYYY-MM-DD."),
                "summary": text(),
            }),
        ),
        Agent::Diagnosis => obj(
            &[
                "deliverables",
                "channels",
                "markets",
                "capabilities_required",
                "kpis_slas",
                "tech_asks",
                "timelines",
                "ambiguities",
                "contradictions",
                "complexity_assessment",
                "summary",
                "clarifications",
            ],
            json!({
                "deliverables": list(obj(
                    &["name", "category", "volume_estimate", "complexity_hint"],
                    json!({"name": text(), "category": text(), "volume_estimate": text(), "complexity_hint": text()}),
                )),
                "channels": strings(), "markets": strings(), "capabilities_required": strings(),
                "kpis_slas": strings(), "tech_asks": strings(), "timelines": strings(),
                "ambiguities": strings(), "contradictions": strings(),
                "complexity_assessment": one_of(&["low", "medium", "high"]),
                "summary": text(),
                "clarifications": sized(obj(
                    &["category", "question", "rationale", "priority"],
                    json!({
                        "category": text(),
                        "question": {"type": "string", "minLength": 1, "description": "One sentence ending with '?'."},
                        "rationale": text(),
                        "priority": one_of(&["red", "amber", "green"]),
                    }),
                ), Some(6), None),
            }),
        ),
        Agent::AssetNormalizer => obj(
            &["assets"],
            json!({"assets": list(obj(&["raw_name", "volume"], json!({
                "raw_name": text(),
                "raw_description": {"type": ["string", "null"]},
                "client_tier": nullable("Tier letter or band when the brief uses one."),
                "volume": {"type": "integer", "minimum": 1},
            })))}),
        ),
        Agent::Matcher => obj(
            &["assets"],
            json!({"assets": list(obj(&["asset_id", "matches"], json!({
                "asset_id": {"type": "string", "format": "uuid"},
                "matches": sized(obj(
                    &["gmal_id", "confidence", "confidence_score", "reasoning", "caveats"],
                    json!({
                        "gmal_id": {"type": "string", "minLength": 1, "description": "A catalog_id from the catalog."},
                        "catalog_asset_name": {"type": ["string", "null"]},
                        "confidence": one_of(&["exact", "close", "multiple", "none"]),
                        "confidence_score": {"type": "number", "minimum": 0, "maximum": 1},
                        "reasoning": {"type": "string"},
                        "caveats": {"type": "string"},
                    }),
                ), None, Some(3)),
            })))}),
        ),
        Agent::DeliveryModel => obj(
            &["headline", "summary", "workflow_stages", "tooling_caveats", "risks"],
            json!({
                "headline": one_of(&["traditional", "ai_supported", "hybrid"]),
                "summary": text(),
                "workflow_stages": sized(obj(&["stage", "approach", "tooling", "rationale"], json!({
                    "stage": text(),
                    "approach": one_of(&["manual", "ai_supported", "fully_automated"]),
                    "tooling": strings(),
                    "rationale": text(),
                })), Some(1), None),
                "tooling_caveats": strings(),
                "risks": strings(),
            }),
        ),
        Agent::CapabilityGaps => obj(
            &["core_in_scope", "gaps", "summary"],
            json!({
                "core_in_scope": strings(),
                "gaps": list(obj(&["capability", "criticality", "suggested_source", "rationale"], json!({
                    "capability": text(),
                    "criticality": one_of(&["red", "amber", "green"]),
                    "suggested_source": one_of(&["internal_sme", "brandtech_partner", "external_vendor"]),
                    "suggested_partner": {"type": ["string", "null"]},
                    "rationale": text(),
                }))),
                "summary": text(),
            }),
        ),
        Agent::SupportDocs => obj(
            &["caveats", "assumptions", "slas", "kpis", "governance", "summary"],
            json!({
                "caveats": strings(),
                "assumptions": strings(),
                "slas": sized(obj(&["deliverable", "v1_days", "v2_days", "v3_days", "responsible_party"], json!({
                    "deliverable": text(),
                    "v1_days": days(), "v2_days": days(), "v3_days": days(),
                    "responsible_party": text(),
                    "notes": {"type": ["string", "null"]},
                })), Some(3), None),
                "kpis": sized(obj(&["metric", "target", "measurement"], json!({
                    "metric": text(), "target": text(), "measurement": text(),
                })), Some(3), None),
                "governance": strings(),
                "summary": text(),
            }),
        ),
        Agent::PitchDeck => obj(
            &["headline", "deck_summary", "slides", "appendix"],
            json!({
                "headline": text(),
                "deck_summary": text(),
                "slides": sized(obj(&["section", "title", "key_points", "speaker_notes"], json!({
                    "section": one_of(&[
                        "cover", "context", "approach", "scope", "team", "commercials", "governance", "next_steps",
                    ]),
                    "title": text(),
                    "key_points": sized(json!({"type": "string", "minLength": 1}), Some(3), Some(6)),
                    "speaker_notes": {"type": "string"},
                    "data_callout": {"type": ["string", "null"]},
                })), Some(1), None),
                "appendix": strings(),
            }),
        ),
        Agent::ImplementationPlan => obj(
            &[
                "summary",
                "phases",
                "market_rollout",
                "training_and_adoption",
                "compliance_and_policy",
                "in_flight_metrics",
                "risks",
            ],
            json!({
                "summary": text(),
                "phases": sized(obj(&["name", "timeframe", "objectives", "milestones", "owner"], json!({
                    "name": text(), "timeframe": text(), "objectives": strings(), "milestones": strings(),
                    "owner": text(),
                })), Some(3), Some(6)),
                "market_rollout": list(obj(&["market", "go_live", "dependencies"], json!({
                    "market": text(), "go_live": text(), "dependencies": strings(),
                }))),
                "training_and_adoption": strings(),
                "compliance_and_policy": strings(),
                "in_flight_metrics": list(obj(&["metric", "target", "review_cadence"], json!({
                    "metric": text(), "target": text(), "review_cadence": text(),
                }))),
                "risks": strings(),
            }),
        ),
    }
}

/// The description sent with the tool.
pub fn tool_description(agent: Agent) -> &'static str {
    match agent {
        Agent::Intake => "Record the opportunity's structured metadata read from its documents.",
        Agent::Diagnosis => {
            "Record the brief's diagnosis and at least six clarification questions for the client."
        }
        Agent::AssetNormalizer => "Record the clean list of deliverables, one row per asset, with volumes.",
        Agent::Matcher => {
            "Record up to three ranked catalog matches for every asset, all assets in one call."
        }
        Agent::DeliveryModel => "Record the recommended delivery model per workflow stage.",
        Agent::CapabilityGaps => "Record the capabilities covered in-house and the gaps with their sourcing.",
        Agent::SupportDocs => "Record the proposal's caveats, assumptions, SLAs, KPIs and governance.",
        Agent::PitchDeck => "Record the slide-by-slide pitch deck outline.",
        Agent::ImplementationPlan => "Record the phased post-win implementation plan.",
    }
}

/// Checks an output against its agent's schema and rules; the error names the offending path.
pub fn validate(agent: Agent, output: &Value) -> Result<(), String> {
    check::against(&tool_schema(agent), output, "")?;
    check::rules(agent, output)
}

/// Checks that a (schema-valid) matcher output only names the assets it was sent and, when a
/// catalog was sent, only entries of that catalog: a model may invent ids.
pub fn check_matcher_references(output: &Value, inputs: &AgentInputs) -> Result<(), String> {
    let assets = output["assets"].as_array().into_iter().flatten();
    for (i, a) in assets.enumerate() {
        let id = a["asset_id"].as_str().unwrap_or_default();
        if !inputs.assets.iter().any(|x| x.asset_id.to_string().eq_ignore_ascii_case(id)) {
            return Err(format!("assets[{i}].asset_id: {id} is not one of the assets sent"));
        }
        if inputs.catalog.is_empty() {
            continue;
        }
        for (j, m) in a["matches"].as_array().into_iter().flatten().enumerate() {
            let gmal = m["gmal_id"].as_str().unwrap_or_default();
            if !inputs.catalog.iter().any(|e| e.catalog_id == gmal) {
                return Err(format!("assets[{i}].matches[{j}].gmal_id: {gmal:?} is not in the catalog"));
            }
        }
    }
    Ok(())
}

fn obj(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn list(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn sized(items: Value, min: Option<usize>, max: Option<usize>) -> Value {
    let mut v = list(items);
    if let Some(min) = min {
        v["minItems"] = json!(min);
    }
    if let Some(max) = max {
        v["maxItems"] = json!(max);
    }
    v
}

fn strings() -> Value {
    list(json!({"type": "string"}))
}

fn text() -> Value {
    json!({"type": "string", "minLength": 1})
}

fn nullable(description: &str) -> Value {
    json!({"type": ["string", "null"], "description": description})
}

fn date(description: &str) -> Value {
    json!({"type": ["string", "null"], "format": "date", "description": description})
}

fn days() -> Value {
    json!({"type": "number", "minimum": 0, "description": "Working days."})
}

fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}
