//! A valid output of every agent, shared by the schema and Anthropic provider tests.

use domain::agent_run::Agent;
use serde_json::{json, Value};

fn clarification(n: usize, priority: &str) -> Value {
    json!({
        "category": "Volumes",
        "question": format!("How many assets of kind {n} are needed per month?"),
        "rationale": format!("The brief gives no volume for kind {n}; the answer sets the team size."),
        "priority": priority,
    })
}

fn sla(deliverable: &str, v1: u32, v2: u32, v3: u32) -> Value {
    json!({"deliverable": deliverable, "v1_days": v1, "v2_days": v2, "v3_days": v3,
           "responsible_party": "Agency studio", "notes": "Two rounds of amends included."})
}

fn kpi(metric: &str, target: &str) -> Value {
    json!({"metric": metric, "target": target, "measurement": "Monthly workflow report"})
}

fn slide(section: &str, title: &str) -> Value {
    json!({"section": section, "title": title,
           "key_points": ["One clear point", "A second point", "A third point"],
           "speaker_notes": "The prose goes here.", "data_callout": "4.2 FTE"})
}

fn phase(name: &str, timeframe: &str) -> Value {
    json!({"name": name, "timeframe": timeframe, "objectives": ["Set up the team"],
           "milestones": ["Kick-off held"], "owner": "Delivery Lead"})
}

/// A valid output of the agent.
pub fn sample(agent: Agent) -> Value {
    match agent {
        Agent::Intake => json!({
            "client_name": "Halvorsen Home Appliances B.V.",
            "region": "EMEA",
            "brands": ["Halvorsen", "AiroPure"],
            "service_types": ["Content", "eCommerce"],
            "deadline_iso": "2026-09-30",
            "go_live_iso": null,
            "summary": "Content production across EMEA; proposal due end of Q3 2026.",
        }),
        Agent::Diagnosis => json!({
            "deliverables": [{"name": "Paid social static", "category": "Social",
                              "volume_estimate": "~50 per month", "complexity_hint": "low: templated"}],
            "channels": ["Paid social"], "markets": ["DE", "FR"], "capabilities_required": ["Design"],
            "kpis_slas": [], "tech_asks": [], "timelines": ["Go-live Q1 2027"],
            "ambiguities": ["Review rounds not counted"], "contradictions": [],
            "complexity_assessment": "medium",
            "summary": "A content retainer with open volumes.",
            "clarifications": (0..6).map(|n| clarification(n, ["red", "amber", "green"][n % 3])).collect::<Vec<_>>(),
        }),
        Agent::AssetNormalizer => json!({"assets": [
            {"raw_name": "PDP hero banner", "raw_description": "From section 3", "client_tier": "A", "volume": 40},
            {"raw_name": "CRM email template", "raw_description": null, "client_tier": null, "volume": 1},
        ]}),
        Agent::Matcher => json!({"assets": [{
            "asset_id": "6f1c2a9e-8a55-4c8e-9d3e-0b6a6c1d2e3f",
            "matches": [
                {"gmal_id": "GMAL-DISP-001", "confidence": "exact", "confidence_score": 0.93,
                 "reasoning": "Simple display banner.", "caveats": "Static only."},
                {"gmal_id": "GMAL-DISP-002", "confidence": "multiple", "confidence_score": 0.9,
                 "reasoning": "Medium banner.", "caveats": ""},
            ],
        }]}),
        Agent::DeliveryModel => json!({
            "headline": "hybrid",
            "summary": "Origination by hand, adaptation with AI support.",
            "workflow_stages": [
                {"stage": "Origination", "approach": "manual", "tooling": [], "rationale": "Craft."},
                {"stage": "Adaptation", "approach": "ai_supported", "tooling": ["Pencil"], "rationale": "Volume."},
            ],
            "tooling_caveats": ["Pencil does not do motion."],
            "risks": ["Brand drift in automated adapts."],
        }),
        Agent::CapabilityGaps => json!({
            "core_in_scope": ["Social statics", "CRM"],
            "gaps": [{"capability": "SEO", "criticality": "amber", "suggested_source": "brandtech_partner",
                      "suggested_partner": "Jellyfish", "rationale": "Requested in section 5."}],
            "summary": "One partner needed.",
        }),
        Agent::SupportDocs => json!({
            "caveats": ["Excludes stock imagery."], "assumptions": ["Masters supplied."],
            "slas": [sla("Static digital ad (5)", 5, 2, 1), sla("eCom hero set", 7, 3, 1), sla("CRM email", 7, 3, 1)],
            "kpis": [kpi("On-time delivery", "95%"), kpi("First-time right", "80%"), kpi("Jobs within SLA", "90%")],
            "governance": ["Weekly status call"],
            "summary": "Standard terms.",
        }),
        Agent::PitchDeck => json!({
            "headline": "Content at the speed of EMEA",
            "deck_summary": "Eight slides from context to next steps.",
            "slides": [slide("cover", "Halvorsen × Agency"), slide("context", "What we heard"),
                       slide("next_steps", "Next steps")],
            "appendix": ["Rate card"],
        }),
        Agent::ImplementationPlan => json!({
            "summary": "Three phases over two quarters.",
            "phases": [phase("Mobilise", "Weeks 1-4"), phase("Lead market", "Months 2-3"), phase("Scale", "Q3")],
            "market_rollout": [{"market": "DE", "go_live": "2027-01-15", "dependencies": ["DAM access"]}],
            "training_and_adoption": ["Briefing standards workshop"],
            "compliance_and_policy": ["Legal sign-off"],
            "in_flight_metrics": [{"metric": "On-time %", "target": "95%", "review_cadence": "Monthly"}],
            "risks": ["Late masters"],
        }),
    }
}
