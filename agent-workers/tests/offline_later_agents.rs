//! The offline delivery model (stage 9), capability gaps (12), support docs (13), pitch deck (15)
//! and implementation plan (16) agents, on the Halvorsen sample brief with the artifacts the earlier
//! offline agents produce, on the Brightwater brief and on empty input.
//!
//! Every output is checked against the seed's schema as JSON (exact field names, allowed enum
//! values, counts), against the tool schema the worker validates before recording, and against the
//! seed's rules for its stage.

use std::collections::BTreeSet;

use agent_workers::offline::capability_gaps::{capability_gaps, CapabilityGapsOutput};
use agent_workers::offline::delivery_model::{delivery_model, Approach, DeliveryModelOutput, Headline};
use agent_workers::offline::diagnosis::diagnose;
use agent_workers::offline::implementation_plan::{implementation_plan, ImplementationPlanOutput};
use agent_workers::offline::intake::intake;
use agent_workers::offline::normaliser::normalise;
use agent_workers::offline::pitch_deck::{pitch_deck, PitchDeckOutput};
use agent_workers::offline::provider::OfflineProvider;
use agent_workers::offline::support_docs::{support_docs, SupportDocsOutput};
use agent_workers::provider::{AgentInputs, InputAsset, Provider};
use agent_workers::schema::validate;
use domain::agent_run::Agent;
use serde_json::{json, Value};
use uuid::Uuid;

const LATER: [Agent; 5] = [
    Agent::DeliveryModel,
    Agent::CapabilityGaps,
    Agent::SupportDocs,
    Agent::PitchDeck,
    Agent::ImplementationPlan,
];
const ROLES: [&str; 5] =
    ["Programme Director", "Account Lead", "Delivery Lead", "Client Lead", "Client Marketing Lead"];
const SECTIONS: [&str; 8] =
    ["cover", "context", "approach", "scope", "team", "commercials", "governance", "next_steps"];
const HALVORSEN_MARKETS: [&str; 12] = [
    "Netherlands",
    "Germany",
    "France",
    "United Kingdom",
    "Spain",
    "Italy",
    "Poland",
    "Sweden",
    "Denmark",
    "Turkey",
    "United Arab Emirates",
    "Saudi Arabia",
];

fn brief(name: &str) -> String {
    let path = format!("{}/../examples/briefs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("sample brief {path} could not be read ({e})"))
}

/// The inputs the host would gather after stages 1–7 ran offline on `name`.
fn inputs_for(name: &str, opportunity: Value) -> AgentInputs {
    let documents = brief(name);
    let assets = normalise(&documents).assets;
    let mut inputs = AgentInputs { documents: documents.clone(), opportunity, ..Default::default() };
    inputs.assets = assets
        .iter()
        .enumerate()
        .map(|(i, a)| InputAsset {
            asset_id: Uuid::from_u128(i as u128 + 1),
            raw_name: a.raw_name.clone(),
            raw_description: Some(a.raw_description.clone()),
            client_tier: a.client_tier.clone(),
            volume: a.volume,
        })
        .collect();
    inputs.artifacts.insert("intake".into(), serde_json::to_value(intake(&documents)).unwrap());
    inputs.artifacts.insert("diagnosis".into(), serde_json::to_value(diagnose(&documents)).unwrap());
    inputs.artifacts.insert("asset_normalizer".into(), json!({ "assets": assets }));
    inputs
}

fn halvorsen() -> AgentInputs {
    inputs_for(
        "halvorsen-emea-content-rfp.md",
        json!({
            "id": "00000000-0000-0000-0000-000000000001",
            "name": "EMEA Always-On Content Production Partner",
            "client_name": "Halvorsen Home Appliances B.V.",
            "region": "EMEA",
            "brands": ["Halvorsen", "Kestrel Kitchen", "AiroPure", "Nordlund Floorcare"],
            "service_types": ["Content", "Social", "eCommerce", "CRM", "Localisation", "Production"],
            "deadline": "2026-09-30",
            "go_live": "2027-03-31",
            "model_type": "standard",
            "deal_status": "won",
            "qualification_total": 43,
            "qualification_score": 71.7,
            "qualification_recommendation": "proceed",
        }),
    )
}

/// Halvorsen with each later agent's output recorded as its artifact, as the pipeline would.
fn halvorsen_chained() -> AgentInputs {
    let mut inputs = halvorsen();
    let model = serde_json::to_value(delivery_model(&inputs)).unwrap();
    inputs.artifacts.insert("delivery_model".into(), model);
    let gaps = serde_json::to_value(capability_gaps(&inputs)).unwrap();
    inputs.artifacts.insert("capability_gaps".into(), gaps);
    let docs = serde_json::to_value(support_docs(&inputs)).unwrap();
    inputs.artifacts.insert("support_docs".into(), docs);
    let deck = serde_json::to_value(pitch_deck(&inputs)).unwrap();
    inputs.artifacts.insert("pitch_deck".into(), deck);
    inputs
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().expect("an array").iter().map(|s| s.as_str().expect("a string")).collect()
}

fn one_of(v: &Value, allowed: &[&str]) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    assert!(allowed.contains(&s), "{s:?} is not one of {allowed:?}");
}

fn has(list: &[String], needle: &str) -> bool {
    list.iter().any(|s| s.to_lowercase().contains(&needle.to_lowercase()))
}

/// The seed's schema for each agent, checked on the JSON a run records.
fn assert_schema(agent: Agent, v: &Value) {
    match agent {
        Agent::DeliveryModel => {
            assert_eq!(keys(v), ["headline", "risks", "summary", "tooling_caveats", "workflow_stages"]);
            one_of(&v["headline"], &["traditional", "ai_supported", "hybrid"]);
            for s in v["workflow_stages"].as_array().unwrap() {
                assert_eq!(keys(s), ["approach", "rationale", "stage", "tooling"]);
                one_of(&s["approach"], &["manual", "ai_supported", "fully_automated"]);
                strings(&s["tooling"]);
            }
            strings(&v["tooling_caveats"]);
            assert!(!strings(&v["risks"]).is_empty());
        }
        Agent::CapabilityGaps => {
            assert_eq!(keys(v), ["core_in_scope", "gaps", "summary"]);
            strings(&v["core_in_scope"]);
            for g in v["gaps"].as_array().unwrap() {
                assert_eq!(
                    keys(g),
                    ["capability", "criticality", "rationale", "suggested_partner", "suggested_source"]
                );
                one_of(&g["criticality"], &["red", "amber", "green"]);
                one_of(&g["suggested_source"], &["internal_sme", "brandtech_partner", "external_vendor"]);
            }
        }
        Agent::SupportDocs => {
            assert_eq!(keys(v), ["assumptions", "caveats", "governance", "kpis", "slas", "summary"]);
            let slas = v["slas"].as_array().unwrap();
            assert!(slas.len() >= 3, "{} SLAs", slas.len());
            for s in slas {
                assert_eq!(
                    keys(s),
                    ["deliverable", "notes", "responsible_party", "v1_days", "v2_days", "v3_days"]
                );
                let days: Vec<u64> =
                    ["v1_days", "v2_days", "v3_days"].iter().map(|k| s[k].as_u64().unwrap()).collect();
                assert!(days[0] >= days[1] && days[1] >= days[2] && days[2] >= 1, "{s}");
            }
            let kpis = v["kpis"].as_array().unwrap();
            assert!(kpis.len() >= 3, "{} KPIs", kpis.len());
            for k in kpis {
                assert_eq!(keys(k), ["measurement", "metric", "target"]);
            }
            for list in ["caveats", "assumptions", "governance"] {
                assert!(!strings(&v[list]).is_empty(), "{list} empty");
            }
        }
        Agent::PitchDeck => {
            assert_eq!(keys(v), ["appendix", "deck_summary", "headline", "slides"]);
            let slides = v["slides"].as_array().unwrap();
            assert!((8..=12).contains(&slides.len()), "{} slides", slides.len());
            let mut last = 0;
            for s in slides {
                assert_eq!(keys(s), ["data_callout", "key_points", "section", "speaker_notes", "title"]);
                one_of(&s["section"], &SECTIONS);
                let at = SECTIONS.iter().position(|x| *x == s["section"]).unwrap();
                assert!(at >= last, "section {} out of order", s["section"]);
                last = at;
                let points = strings(&s["key_points"]);
                assert!((3..=6).contains(&points.len()), "{} key points on {}", points.len(), s["title"]);
                assert!(s["data_callout"].is_null() || s["data_callout"].is_string());
            }
            assert_eq!(slides[0]["section"], "cover");
            assert_eq!(slides[slides.len() - 1]["section"], "next_steps");
            strings(&v["appendix"]);
        }
        Agent::ImplementationPlan => {
            let expected = [
                "compliance_and_policy",
                "in_flight_metrics",
                "market_rollout",
                "phases",
                "risks",
                "summary",
                "training_and_adoption",
            ];
            assert_eq!(keys(v), expected);
            let phases = v["phases"].as_array().unwrap();
            assert!((3..=6).contains(&phases.len()), "{} phases", phases.len());
            for p in phases {
                assert_eq!(keys(p), ["milestones", "name", "objectives", "owner", "timeframe"]);
                one_of(&p["owner"], &ROLES);
                assert!(!strings(&p["objectives"]).is_empty() && !strings(&p["milestones"]).is_empty());
            }
            for m in v["market_rollout"].as_array().unwrap() {
                assert_eq!(keys(m), ["dependencies", "go_live", "market"]);
                assert!(!strings(&m["dependencies"]).is_empty());
            }
            for m in v["in_flight_metrics"].as_array().unwrap() {
                assert_eq!(keys(m), ["metric", "review_cadence", "target"]);
            }
        }
        other => panic!("not a later agent: {other:?}"),
    }
}

fn output(agent: Agent, inputs: &AgentInputs) -> Value {
    match agent {
        Agent::DeliveryModel => serde_json::to_value(delivery_model(inputs)),
        Agent::CapabilityGaps => serde_json::to_value(capability_gaps(inputs)),
        Agent::SupportDocs => serde_json::to_value(support_docs(inputs)),
        Agent::PitchDeck => serde_json::to_value(pitch_deck(inputs)),
        Agent::ImplementationPlan => serde_json::to_value(implementation_plan(inputs)),
        other => panic!("not a later agent: {other:?}"),
    }
    .expect("serialises")
}

#[tokio::test]
async fn every_later_agent_runs_through_the_offline_provider_with_a_schema_valid_output() {
    for inputs in [halvorsen(), halvorsen_chained(), AgentInputs::default()] {
        for agent in LATER {
            let run = OfflineProvider.run(agent, &inputs).await.unwrap_or_else(|e| panic!("{agent:?}: {e}"));
            assert_eq!(run.model, "offline-rules-v1");
            assert_schema(agent, &run.output);
            validate(agent, &run.output).unwrap_or_else(|e| panic!("{}: {e}", agent.tool()));
            assert_eq!(
                run.output,
                output(agent, &inputs),
                "{agent:?}: the provider returns the agent's output"
            );
        }
    }
}

#[test]
fn same_input_gives_the_same_output() {
    for agent in LATER {
        assert_eq!(output(agent, &halvorsen_chained()), output(agent, &halvorsen_chained()), "{agent:?}");
        assert_eq!(output(agent, &AgentInputs::default()), output(agent, &AgentInputs::default()));
    }
}

#[test]
fn recorded_artifacts_and_derived_ones_agree_when_built_from_the_same_brief() {
    let (plain, chained) = (halvorsen(), halvorsen_chained());
    for agent in [Agent::SupportDocs, Agent::PitchDeck, Agent::ImplementationPlan] {
        let (a, b) = (output(agent, &plain), output(agent, &chained));
        if agent == Agent::PitchDeck {
            assert_eq!(a["slides"], b["slides"]);
            assert!(a["deck_summary"].as_str().unwrap().contains("derived with the offline rules"));
            assert!(!b["deck_summary"].as_str().unwrap().contains("derived"));
        } else {
            assert_eq!(a, b, "{agent:?}");
        }
    }
}

#[test]
fn halvorsen_delivery_model_is_hybrid_with_manual_origination_and_ai_adaptation() {
    let out: DeliveryModelOutput = delivery_model(&halvorsen());
    assert_eq!(out.headline, Headline::Hybrid, "motion at scale and print: {}", out.summary);
    let approach = |name: &str| {
        let stage = out.workflow_stages.iter().find(|w| w.stage.to_lowercase().contains(name));
        stage.unwrap_or_else(|| panic!("no {name} stage in {:#?}", out.workflow_stages)).approach
    };
    for manual in ["photography", "film and motion mastering", "print", "brand qa", "briefing"] {
        assert_eq!(approach(manual), Approach::Manual, "{manual}");
    }
    for ai in ["social statics", "cut-downs", "localisation"] {
        assert_eq!(approach(ai), Approach::AiSupported, "{ai}");
    }
    assert_eq!(approach("dam"), Approach::FullyAutomated);
    let pencil = out.workflow_stages.iter().find(|w| w.tooling.contains(&"Pencil".to_string())).unwrap();
    assert_eq!(pencil.approach, Approach::AiSupported);
    assert!(has(&out.tooling_caveats, "not motion, not print"));
    assert!(
        has(&out.tooling_caveats, "security review"),
        "the brief's tool condition: {:?}",
        out.tooling_caveats
    );
    assert!(has(&out.risks, "cost per asset"), "{:?}", out.risks);
    assert!(out.summary.contains("motion at scale") && out.summary.contains("print"), "{}", out.summary);
}

#[test]
fn delivery_model_diagnoses_the_documents_when_no_diagnosis_artifact_exists() {
    let mut inputs = halvorsen();
    inputs.artifacts.clear();
    assert_eq!(delivery_model(&inputs), delivery_model(&halvorsen()));
}

#[test]
fn halvorsen_gaps_are_only_what_the_brief_asks_for_with_honest_criticality() {
    let out: CapabilityGapsOutput = capability_gaps(&halvorsen());
    let gap = |needle: &str| out.gaps.iter().find(|g| g.capability.to_lowercase().contains(needle));
    let json = serde_json::to_value(&out).unwrap();
    let criticality = |needle: &str| {
        let i = out.gaps.iter().position(|g| g.capability.to_lowercase().contains(needle)).unwrap();
        json["gaps"][i]["criticality"].as_str().unwrap().to_string()
    };
    let localisation = gap("long-tail").expect("long-tail localisation gap");
    for lang in ["Polish", "Turkish", "Arabic"] {
        assert!(localisation.capability.contains(lang), "{}", localisation.capability);
    }
    assert_eq!(criticality("long-tail"), "red");
    assert_eq!(json["gaps"][0]["criticality"], "red", "red first");
    assert_eq!(criticality("film"), "amber", "four hero films a year is not TVC at scale");
    assert_eq!(criticality("photography"), "amber");
    assert_eq!(criticality("right-to-left"), "amber");
    assert_eq!(gap("ai-assisted").unwrap().suggested_partner, "Pencil");
    for absent in ["community", "seo", "media buying", "influencer"] {
        assert!(gap(absent).is_none(), "{absent} is not asked for: {:#?}", out.gaps);
    }
    assert!(out.summary.contains("out of scope: community management"), "{}", out.summary);
    assert!(has(&out.core_in_scope, "Social content: Paid social statics"), "{:?}", out.core_in_scope);
}

#[test]
fn halvorsen_support_docs_follow_the_default_pattern_and_the_brief() {
    let out: SupportDocsOutput = support_docs(&halvorsen());
    let row = |name: &str| out.slas.iter().find(|s| s.deliverable.starts_with(name)).unwrap();
    let statics = row("Static digital ad");
    assert_eq!((statics.v1_days, statics.v2_days, statics.v3_days), (4, 2, 1), "5/2/1 less a day for Pencil");
    let ecom = row("eCom hero set");
    assert_eq!(
        (ecom.v1_days, ecom.v2_days, ecom.v3_days),
        (6, 3, 1),
        "7/3/1 shortened for timeline pressure"
    );
    assert!(ecom.notes.contains("conflicting go-live dates"), "{}", ecom.notes);
    assert_eq!(row("CRM email template").v2_days, 3);
    assert_eq!((row("Motion social").v2_days, row("Motion social").v3_days), (5, 2));
    assert!(row("Market adaptation").deliverable.contains("12 markets"));
    for caveat in [
        "third-party fees",
        "stock",
        "talent",
        "music",
        "shoot",
        "beyond the 12 named markets",
        "languages beyond these 11",
    ] {
        assert!(has(&out.caveats, caveat), "{caveat}: {:#?}", out.caveats);
    }
    let on_time = out.kpis.iter().find(|k| k.metric == "On-time delivery").unwrap();
    assert!(on_time.target.starts_with("≥ 95%"), "{}", on_time.target);
    assert!(out.kpis.iter().any(|k| k.metric == "First-time-right rate" && k.target.starts_with("≥ 80%")));
    assert!(out.kpis.iter().any(|k| k.metric == "Cost per asset" && k.target.starts_with("−25% vs 2025")));
    assert!(has(&out.governance, "within one business day"), "the brief's tighter acknowledgement");
    assert!(has(&out.governance, "the Netherlands"));
    assert!(has(&out.assumptions, "Bynder"));
}

#[test]
fn support_docs_read_the_recorded_delivery_model() {
    let mut inputs = halvorsen();
    let mut model = delivery_model(&inputs);
    model.headline = Headline::Traditional;
    model.workflow_stages.iter_mut().for_each(|w| w.approach = Approach::Manual);
    inputs.artifacts.insert("delivery_model".into(), serde_json::to_value(&model).unwrap());
    let out = support_docs(&inputs);
    assert_eq!(out.slas[0].v1_days, 5, "no AI day off when the recorded model is traditional");
    assert!(!has(&out.caveats, "AI-supported efficiencies") && out.summary.ends_with("traditional."));
}

#[test]
fn halvorsen_pitch_deck_uses_the_platforms_numbers_in_section_order() {
    let out: PitchDeckOutput = pitch_deck(&halvorsen_chained());
    assert_eq!(out.slides.len(), 12);
    assert!(
        out.headline.starts_with("Halvorsen Home Appliances B.V.") && out.headline.contains("12 markets")
    );
    let callouts: Vec<String> = out.slides.iter().filter_map(|s| s.data_callout.clone()).collect();
    let assets = halvorsen().assets.len();
    let volume: u32 = halvorsen().assets.iter().map(|a| a.volume).sum();
    for expected in [
        "4 brands · 12 markets".to_string(),
        format!("{assets} asset lines · {volume} units a year"),
        "12 markets · 11 languages".into(),
        "Budget EUR 4.2m".into(),
        "Qualification 72% (proceed)".into(),
    ] {
        assert!(callouts.contains(&expected), "{expected} not in {callouts:#?}");
    }
    let markets = out.slides.iter().find(|s| s.title == "Markets and languages").unwrap();
    assert_eq!(markets.key_points[0], "Lead market: Netherlands");
    assert!(out.slides.iter().any(|s| s.key_points.iter().any(|p| p == "Pitch: week of 12 October 2026")));
}

#[test]
fn pitch_deck_leaves_out_slides_whose_data_is_absent() {
    let mut inputs = halvorsen_chained();
    inputs.assets.clear();
    inputs.opportunity["qualification_score"] = Value::Null;
    let out = pitch_deck(&inputs);
    let scope = out.slides.iter().find(|s| s.title == "Scope at a glance").unwrap();
    assert_eq!(
        scope.data_callout.as_deref(),
        Some("14 deliverables"),
        "falls back to the brief's deliverables"
    );
    assert!(out.slides.iter().all(|s| !s.data_callout.clone().unwrap_or_default().contains("Qualification")));
    let empty = pitch_deck(&AgentInputs::default());
    for title in ["What we heard", "Scope at a glance", "Markets and languages", "From brief to delivery"] {
        assert!(empty.slides.iter().all(|s| s.title != title), "{title} has no data on empty input");
    }
}

#[test]
fn halvorsen_plan_rolls_out_twelve_markets_lead_market_first() {
    let out: ImplementationPlanOutput = implementation_plan(&halvorsen_chained());
    assert_eq!(out.phases.len(), 6);
    let markets: Vec<&str> = out.market_rollout.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(markets.len(), 12);
    assert_eq!(markets.iter().copied().collect::<BTreeSet<_>>(), HALVORSEN_MARKETS.into_iter().collect());
    assert_eq!(markets[0], "Netherlands");
    assert_eq!(out.market_rollout[0].go_live, "2027-03-31", "the opportunity's go-live");
    let dates: Vec<&str> = out.market_rollout.iter().map(|m| m.go_live.as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "lead, fast followers, long tail: {dates:?}");
    assert!(dates.iter().filter(|d| **d == "2027-03-31").count() == 1, "lead market alone first");
    assert!(dates.last().unwrap() > &"2027-06-01", "long tail later: {dates:?}");
    let saudi = out.market_rollout.iter().find(|m| m.market == "Saudi Arabia").unwrap();
    assert!(has(&saudi.dependencies, "right-to-left") && has(&saudi.dependencies, "Arabic translator"));
    assert!(out.phases[0].timeframe.contains("2027-01-01"), "from the contract start");
    let metrics: Vec<&str> = out.in_flight_metrics.iter().map(|m| m.metric.as_str()).collect();
    for m in [
        "On-time delivery",
        "First-time-right rate",
        "Brief-to-final cycle time",
        "Jobs within SLA",
        "Cost per asset",
    ] {
        assert!(metrics.contains(&m), "{m} not in {metrics:?}");
    }
    assert!(has(&out.training_and_adoption, "AI tooling onboarding"), "hybrid model");
    for c in ["legal sign-off", "brand guideline", "Bynder", "tool policy", "data", "IP and talent rights"] {
        assert!(has(&out.compliance_and_policy, c), "{c}");
    }
    assert!(has(&out.risks, "Go-live is given two different dates"), "{:#?}", out.risks);
}

#[tokio::test]
async fn brightwater_single_market_brief_stays_schema_valid() {
    let inputs = inputs_for(
        "brightwater-social-retainer.md",
        json!({"name": "Social retainer", "go_live": "2026-05-01"}),
    );
    for agent in LATER {
        let run = OfflineProvider.run(agent, &inputs).await.expect("runs");
        assert_schema(agent, &run.output);
        validate(agent, &run.output).unwrap_or_else(|e| panic!("{}: {e}", agent.tool()));
    }
    let plan = implementation_plan(&inputs);
    assert_eq!(plan.market_rollout.len(), 1);
    assert_eq!(plan.market_rollout[0].go_live, "2026-05-01");
    assert_eq!(plan.phases.len(), 4, "no follower waves for one market");
    assert!(capability_gaps(&inputs).gaps.iter().all(|g| !g.capability.contains("long-tail")));
}

#[test]
fn empty_input_still_gives_schema_valid_honest_output() {
    let inputs = AgentInputs::default();
    let model = delivery_model(&inputs);
    assert_eq!(model.headline, Headline::Traditional);
    assert!(model.summary.contains("no deliverables could be read"), "{}", model.summary);
    let gaps = capability_gaps(&inputs);
    assert!(gaps.gaps.is_empty() && gaps.core_in_scope.is_empty());
    let docs = support_docs(&inputs);
    assert_eq!(docs.slas.len(), 3, "the standard rows");
    assert!(docs.slas.iter().all(|s| s.notes.contains("confirm it against the scope")));
    assert!(has(&docs.caveats, "until markets are confirmed"));
    let plan = implementation_plan(&inputs);
    assert!(plan.market_rollout.is_empty() && (3..=6).contains(&plan.phases.len()));
    assert!(plan.phases[0].timeframe.starts_with("Weeks 1–4") && !plan.phases[0].timeframe.contains('('));
    assert!(has(&plan.risks, "No markets are confirmed"));
    let deck = pitch_deck(&inputs);
    assert_eq!(deck.slides.len(), 8);
    for agent in LATER {
        assert_schema(agent, &output(agent, &inputs));
    }
}
