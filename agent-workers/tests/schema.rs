//! The agents' tool schemas and the output check: valid samples pass, each broken rule is caught
//! with the path of what broke it, and the offline provider's outputs on a sample brief pass.

mod samples;

use agent_workers::offline::provider::OfflineProvider;
use agent_workers::offline::{diagnosis, intake, normaliser};
use agent_workers::provider::{AgentInputs, InputAsset, Provider};
use agent_workers::schema::{check_matcher_references, tool_schema, validate};
use domain::agent_run::Agent;
use domain::catalog_import::default_catalog;
use samples::sample;
use serde_json::{json, Value};

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");
const BRIGHTWATER: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/brightwater-social-retainer.md");

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("sample brief {path} is missing ({e})"))
}

fn halvorsen() -> String {
    read(HALVORSEN)
}

/// The error of the agent's sample after `change`, which must be rejected.
fn broken(agent: Agent, change: impl FnOnce(&mut Value)) -> String {
    let mut v = sample(agent);
    change(&mut v);
    validate(agent, &v).expect_err(&format!("accepted: {v:#}"))
}

#[test]
fn every_sample_is_valid() {
    for agent in Agent::ALL {
        validate(agent, &sample(agent)).unwrap_or_else(|e| panic!("{}: {e}", agent.tool()));
    }
}

#[test]
fn every_schema_is_an_object_schema_with_its_required_fields_declared() {
    for agent in Agent::ALL {
        let s = tool_schema(agent);
        assert_eq!(s["type"], "object", "{}", agent.tool());
        for field in s["required"].as_array().expect("required") {
            let field = field.as_str().unwrap();
            assert!(
                s["properties"].get(field).is_some(),
                "{}: {field} required but not declared",
                agent.tool()
            );
        }
    }
    let matcher = tool_schema(Agent::Matcher);
    let candidate = &matcher["properties"]["assets"]["items"]["properties"]["matches"];
    assert_eq!(candidate["maxItems"], 3);
    assert_eq!(
        candidate["items"]["properties"]["confidence"]["enum"],
        json!(["exact", "close", "multiple", "none"])
    );
}

#[test]
fn missing_fields_and_wrong_types_are_named() {
    assert_eq!(
        broken(Agent::Intake, |v| drop(v.as_object_mut().unwrap().remove("summary"))),
        "summary: is required"
    );
    assert_eq!(broken(Agent::Intake, |v| v["brands"] = json!("Halvorsen")), "brands: must be a list");
    assert_eq!(broken(Agent::Intake, |v| v["brands"][1] = json!(7)), "brands[1]: must be a string");
    assert_eq!(broken(Agent::Intake, |v| v["region"] = json!(1)), "region: must be a string or null");
    assert_eq!(broken(Agent::Intake, |v| *v = json!([])), "output: must be an object");
    assert_eq!(
        broken(Agent::Diagnosis, |v| drop(v["deliverables"][0].as_object_mut().unwrap().remove("category"))),
        "deliverables[0].category: is required"
    );
    assert_eq!(
        broken(Agent::AssetNormalizer, |v| v["assets"][1]["volume"] = json!(2.5)),
        "assets[1].volume: must be a whole number"
    );
    assert_eq!(
        broken(Agent::AssetNormalizer, |v| v["assets"][0]["raw_name"] = json!("  ")),
        "assets[0].raw_name: must not be empty"
    );
}

/// An agent, the path of a field, a change breaking it and the values that field allows.
type Case = (Agent, &'static str, fn(&mut Value), &'static str);

#[test]
fn enums_are_checked() {
    let cases: [Case; 8] = [
        (
            Agent::Diagnosis,
            "clarifications[3].priority",
            |v| v["clarifications"][3]["priority"] = json!("purple"),
            "red, amber or green",
        ),
        (
            Agent::Diagnosis,
            "complexity_assessment",
            |v| v["complexity_assessment"] = json!("huge"),
            "low, medium or high",
        ),
        (
            Agent::Matcher,
            "assets[0].matches[1].confidence",
            |v| v["assets"][0]["matches"][1]["confidence"] = json!("manual"),
            "exact, close, multiple or none",
        ),
        (
            Agent::DeliveryModel,
            "headline",
            |v| v["headline"] = json!("ai_first"),
            "traditional, ai_supported or hybrid",
        ),
        (
            Agent::DeliveryModel,
            "workflow_stages[1].approach",
            |v| v["workflow_stages"][1]["approach"] = json!("ai"),
            "manual, ai_supported or fully_automated",
        ),
        (
            Agent::CapabilityGaps,
            "gaps[0].criticality",
            |v| v["gaps"][0]["criticality"] = json!("RED!"),
            "red, amber or green",
        ),
        (
            Agent::CapabilityGaps,
            "gaps[0].suggested_source",
            |v| v["gaps"][0]["suggested_source"] = json!("agency"),
            "internal_sme, brandtech_partner or external_vendor",
        ),
        (
            Agent::PitchDeck,
            "slides[2].section",
            |v| v["slides"][2]["section"] = json!("appendix"),
            "cover, context, approach, scope, team, commercials, governance or next_steps",
        ),
    ];
    for (agent, path, change, allowed) in cases {
        assert_eq!(broken(agent, change), format!("{path}: must be {allowed}"));
    }
}

#[test]
fn diagnosis_needs_six_clarifications_each_a_question() {
    let few = broken(Agent::Diagnosis, |v| drop(v["clarifications"].as_array_mut().unwrap().pop()));
    assert_eq!(few, "clarifications: must have at least 6 items (got 5)");
    let statement =
        broken(Agent::Diagnosis, |v| v["clarifications"][4]["question"] = json!("Volumes are unclear."));
    assert_eq!(statement, "clarifications[4].question: must end with '?'");
    let mut ok = sample(Agent::Diagnosis);
    ok["clarifications"][0]["question"] = json!("Which markets are in scope?  ");
    validate(Agent::Diagnosis, &ok).unwrap();
}

#[test]
fn matcher_keeps_at_most_three_candidates_scored_between_0_and_1() {
    let four = broken(Agent::Matcher, |v| {
        let m = v["assets"][0]["matches"].as_array_mut().unwrap();
        let extra = m[0].clone();
        m.extend([extra.clone(), extra]);
    });
    assert_eq!(four, "assets[0].matches: must have at most 3 items (got 4)");
    let high = broken(Agent::Matcher, |v| v["assets"][0]["matches"][0]["confidence_score"] = json!(1.2));
    assert_eq!(high, "assets[0].matches[0].confidence_score: must be between 0 and 1 (got 1.2)");
    let low = broken(Agent::Matcher, |v| v["assets"][0]["matches"][1]["confidence_score"] = json!(-0.1));
    assert_eq!(low, "assets[0].matches[1].confidence_score: must be between 0 and 1 (got -0.1)");
    let text = broken(Agent::Matcher, |v| v["assets"][0]["matches"][1]["confidence_score"] = json!("0.9"));
    assert_eq!(text, "assets[0].matches[1].confidence_score: must be a number");
    let id = broken(Agent::Matcher, |v| v["assets"][0]["asset_id"] = json!("asset-1"));
    assert_eq!(id, "assets[0].asset_id: must be a UUID (got \"asset-1\")");
    let mut none = sample(Agent::Matcher);
    none["assets"][0]["matches"] = json!([]);
    validate(Agent::Matcher, &none).expect("an asset may have no candidate");
}

#[test]
fn support_docs_need_three_slas_and_three_kpis() {
    let slas = broken(Agent::SupportDocs, |v| drop(v["slas"].as_array_mut().unwrap().pop()));
    assert_eq!(slas, "slas: must have at least 3 items (got 2)");
    let kpis = broken(Agent::SupportDocs, |v| v["kpis"] = json!([]));
    assert_eq!(kpis, "kpis: must have at least 3 items (got 0)");
    let days = broken(Agent::SupportDocs, |v| v["slas"][1]["v2_days"] = json!(-1));
    assert_eq!(days, "slas[1].v2_days: must be at least 0 (got -1)");
}

#[test]
fn pitch_slides_have_three_to_six_points_and_plans_three_to_six_phases() {
    let two = broken(Agent::PitchDeck, |v| v["slides"][1]["key_points"] = json!(["a", "b"]));
    assert_eq!(two, "slides[1].key_points: must have at least 3 items (got 2)");
    let seven = broken(Agent::PitchDeck, |v| {
        v["slides"][0]["key_points"] = json!(["a", "b", "c", "d", "e", "f", "g"])
    });
    assert_eq!(seven, "slides[0].key_points: must have at most 6 items (got 7)");
    let phases = broken(Agent::ImplementationPlan, |v| drop(v["phases"].as_array_mut().unwrap().pop()));
    assert_eq!(phases, "phases: must have at least 3 items (got 2)");
    let many = broken(Agent::ImplementationPlan, |v| {
        let p = v["phases"][0].clone();
        v["phases"].as_array_mut().unwrap().extend(std::iter::repeat_n(p, 4));
    });
    assert_eq!(many, "phases: must have at most 6 items (got 7)");
}

#[test]
fn intake_dates_are_iso_dates() {
    assert_eq!(
        broken(Agent::Intake, |v| v["deadline_iso"] = json!("end of Q3 2026")),
        "deadline_iso: must be a date as YYYY-MM-DD (got \"end of Q3 2026\")"
    );
    assert!(broken(Agent::Intake, |v| v["go_live_iso"] = json!("2026-02-30"))
        .starts_with("go_live_iso: must be a date"));
}

#[test]
fn the_offline_outputs_on_the_sample_briefs_are_valid() {
    // The Halvorsen RFP is the one the brief names; the retainer and an empty brief widen the net.
    for text in [halvorsen(), read(BRIGHTWATER), String::new()] {
        let outputs = [
            (Agent::Intake, serde_json::to_value(intake::intake(&text)).unwrap()),
            (Agent::Diagnosis, serde_json::to_value(diagnosis::diagnose(&text)).unwrap()),
            (Agent::AssetNormalizer, serde_json::to_value(normaliser::normalise(&text)).unwrap()),
        ];
        for (agent, output) in outputs {
            validate(agent, &output).unwrap_or_else(|e| panic!("{}: {e}\n{output:#}", agent.tool()));
        }
    }
}

#[tokio::test]
async fn the_offline_matcher_output_is_valid_and_refers_to_what_it_was_sent() {
    let text = halvorsen();
    let assets = normaliser::normalise(&text)
        .assets
        .into_iter()
        .enumerate()
        .map(|(n, a)| InputAsset {
            asset_id: uuid::Uuid::from_u128(n as u128 + 1),
            raw_name: a.raw_name,
            raw_description: Some(a.raw_description),
            client_tier: a.client_tier,
            volume: a.volume,
        })
        .collect();
    let inputs = AgentInputs { documents: text, assets, catalog: default_catalog(), ..Default::default() };
    let out = OfflineProvider.run(Agent::Matcher, &inputs).await.expect("offline matcher").output;
    validate(Agent::Matcher, &out).unwrap_or_else(|e| panic!("{e}\n{out:#}"));
    check_matcher_references(&out, &inputs).unwrap();

    let mut invented = out.clone();
    invented["assets"][0]["matches"] = json!([{"gmal_id": "GMAL-NOPE-999", "confidence": "exact",
        "confidence_score": 0.95, "reasoning": "", "caveats": ""}]);
    let err = check_matcher_references(&invented, &inputs).unwrap_err();
    assert_eq!(err, "assets[0].matches[0].gmal_id: \"GMAL-NOPE-999\" is not in the catalog");
    invented["assets"][0]["asset_id"] = json!(uuid::Uuid::from_u128(999).to_string());
    assert!(check_matcher_references(&invented, &inputs)
        .unwrap_err()
        .contains("is not one of the assets sent"));
}
