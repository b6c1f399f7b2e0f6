//! The offline intake and diagnosis agents on the sample briefs in `examples/briefs`, on small
//! hand-written briefs (date phrases, conflicts, vague phrases) and on an empty brief.
//!
//! An empty brief is valid input: intake returns empty fields with a summary saying so, and the
//! diagnosis asks the generic questions for the missing basics (at least six of them).

use agent_workers::offline::diagnosis::{diagnose, DiagnosisOutput};
use agent_workers::offline::intake::intake;
use agent_workers::offline::text::parse_date_phrase;
use chrono::NaiveDate;

fn brief(name: &str) -> String {
    let path = format!("{}/../examples/briefs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("sample brief {path} could not be read ({e}); the tests read examples/briefs")
    })
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

/// The seed's rules for clarifications, checked on every diagnosis.
fn assert_clarifications_valid(d: &DiagnosisOutput, at_least: usize) {
    assert!(
        d.clarifications.len() >= at_least,
        "{} clarifications: {:#?}",
        d.clarifications.len(),
        d.clarifications
    );
    let json = serde_json::to_value(d).expect("serialises");
    for (c, raw) in d.clarifications.iter().zip(json["clarifications"].as_array().expect("array")) {
        assert!(c.question.trim_end().ends_with('?'), "not a question: {}", c.question);
        assert!(!c.category.trim().is_empty(), "no category: {c:?}");
        assert!(!c.rationale.trim().is_empty(), "no rationale: {c:?}");
        let priority = raw["priority"].as_str().expect("priority is a string");
        assert!(["red", "amber", "green"].contains(&priority), "priority {priority}");
    }
    for a in &d.ambiguities {
        assert!(
            d.clarifications.iter().any(|c| c.rationale.contains(a.as_str())),
            "ambiguity without a clarification: {a}"
        );
    }
    let complexity = json["complexity_assessment"].as_str().expect("string");
    assert!(["low", "medium", "high"].contains(&complexity));
}

fn has(list: &[String], needle: &str) -> bool {
    list.iter().any(|s| s.to_lowercase().contains(&needle.to_lowercase()))
}

#[test]
fn halvorsen_intake_reads_client_brands_region_and_dates() {
    let out = intake(&brief("halvorsen-emea-content-rfp.md"));
    assert_eq!(out.client_name.as_deref(), Some("Halvorsen Home Appliances B.V."));
    assert_eq!(out.region.as_deref(), Some("EMEA"));
    assert_eq!(out.brands, ["Halvorsen", "Kestrel Kitchen", "AiroPure", "Nordlund Floorcare"]);
    assert_eq!(out.deadline_iso, Some(date(2026, 9, 30)), "proposal due end of Q3 2026");
    assert_eq!(out.go_live_iso, Some(date(2027, 3, 31)), "first go-live statement, Q1 2027");
    for service in ["Content", "Social", "eCommerce", "CRM", "Localisation", "Production"] {
        assert!(out.service_types.iter().any(|s| s == service), "missing {service}: {:?}", out.service_types);
    }
    assert!(!out.service_types.iter().any(|s| s == "Community management"), "out of scope in the brief");
    assert!(out.summary.contains("end of Q3 2026"), "summary quotes the phrase: {}", out.summary);
    assert!(out.summary.contains("end of Q4 2026"), "summary flags the second go-live: {}", out.summary);

    let json = serde_json::to_value(&out).expect("serialises");
    let mut keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    let expected =
        ["brands", "client_name", "deadline_iso", "go_live_iso", "region", "service_types", "summary"];
    assert_eq!(keys, expected);
    assert_eq!(json["deadline_iso"], "2026-09-30");
    let back: agent_workers::offline::intake::IntakeOutput =
        serde_json::from_value(json).expect("round-trips");
    assert_eq!(back, out);
}

#[test]
fn halvorsen_diagnosis_finds_markets_conflicts_ambiguities_and_questions() {
    let d = diagnose(&brief("halvorsen-emea-content-rfp.md"));
    let phase_one = [
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
    for market in phase_one {
        assert!(d.markets.iter().any(|m| m == market), "missing market {market}: {:?}", d.markets);
    }
    assert_eq!(d.markets.len(), 12, "only the Phase 1 markets are named: {:?}", d.markets);

    assert!(
        d.contradictions.iter().any(|c| {
            let c = c.to_lowercase();
            c.contains("go-live") && c.contains("2027-03-31") && c.contains("2026-12-31")
        }),
        "go-live stated twice: {:#?}",
        d.contradictions
    );
    assert!(has(&d.ambiguities, "standard turnaround"), "{:#?}", d.ambiguities);
    assert!(has(&d.ambiguities, "feedback iterations"), "{:#?}", d.ambiguities);
    assert!(has(&d.ambiguities, "TBC"), "toolkit tiers and print quantities are TBC");
    assert!(has(&d.ambiguities, "on demand"), "retailer banners on demand");
    assert_clarifications_valid(&d, 8);
    let red = |needle: &str| {
        d.clarifications.iter().any(|c| c.question.contains(needle) && c.priority.as_str() == "red")
    };
    assert!(red("turnaround"), "turnaround blocks pricing");
    assert!(red("rounds of feedback"), "rounds block pricing");
    assert!(red("go-live"), "conflicting go-live is asked");

    let volume =
        |name: &str| d.deliverables.iter().find(|x| x.name == name).map(|x| x.volume_estimate.as_str());
    assert_eq!(volume("Paid social statics"), Some("~50 per month"));
    assert_eq!(volume("Organic social posts"), Some("120-200 per quarter"));
    assert!(volume("Campaign toolkits").is_some_and(|v| v.contains("TBC")));
    assert!(d.channels.iter().any(|c| c == "Paid social") && d.channels.iter().any(|c| c == "Display"));
    assert!(has(&d.capabilities_required, "right-to-left"));
    assert!(has(&d.tech_asks, "Bynder"));
    assert!(has(&d.kpis_slas, "95%"));
    assert!(has(&d.timelines, "2026-09-30"));
    assert_eq!(d.complexity_assessment.as_str(), "high");
}

#[test]
fn brightwater_intake_and_diagnosis_are_sensible() {
    let text = brief("brightwater-social-retainer.md");
    let out = intake(&text);
    assert_eq!(out.client_name.as_deref(), Some("Brightwater Leisure Centres"));
    assert!(out.brands.is_empty(), "the brief names no consumer brands: {:?}", out.brands);
    assert_eq!(out.region.as_deref(), Some("United Kingdom"));
    assert_eq!(out.deadline_iso, Some(date(2026, 4, 15)), "sign by 15 April, year from the brief's date");
    assert_eq!(out.go_live_iso, Some(date(2026, 5, 1)), "take over from 1 May 2026");
    assert!(out.service_types.iter().any(|s| s == "Social"));
    assert!(out.summary.contains("15 April"));

    let d = diagnose(&text);
    assert_eq!(d.markets, ["United Kingdom"]);
    assert_clarifications_valid(&d, 6);
    let organic = d.deliverables.iter().find(|x| x.name == "Organic social posts").expect("organic posts");
    assert_eq!(organic.volume_estimate, "3 organic posts per week per centre");
    assert!(has(&d.ambiguities, "a few days"), "client feedback time is vague");
    assert!(has(&d.ambiguities, "brand guidelines"), "no brand guidelines yet");
    assert!(d.contradictions.is_empty(), "{:#?}", d.contradictions);
}

#[test]
fn date_phrases_resolve_to_explicit_dates() {
    let brief_date = Some(date(2026, 3, 3));
    let cases = [
        ("end of Q2 2026", date(2026, 6, 30)),
        ("by 15 March 2026", date(2026, 3, 15)),
        ("March 2026", date(2026, 3, 31)),
        ("Q1 2027", date(2027, 3, 31)),
        ("start of Q2 2026", date(2026, 4, 1)),
        ("mid-June 2026", date(2026, 6, 15)),
        ("H2 2026", date(2026, 12, 31)),
        ("end of 2026", date(2026, 12, 31)),
        ("Q3 '26", date(2026, 9, 30)),
        ("week of 12 October 2026", date(2026, 10, 12)),
        ("2026-07-20", date(2026, 7, 20)),
        ("20/07/2026", date(2026, 7, 20)),
        ("March 15, 2026", date(2026, 3, 15)),
        ("w/c 6 April", date(2026, 4, 6)),
        ("1st of February", date(2027, 2, 1)),
    ];
    for (phrase, expected) in cases {
        assert_eq!(parse_date_phrase(phrase, brief_date), Some(expected), "{phrase}");
    }
    assert_eq!(parse_date_phrase("w/c 6 April", None), None, "a yearless day needs the brief's date");
    assert_eq!(parse_date_phrase("31 April 2026", None), None, "no such day");
    assert_eq!(parse_date_phrase("we may follow up in 12 months", None), None);

    let out =
        intake("Brief date: 1 February 2026\n\nProposals due by 15 March 2026. Launch: go-live w/c 6 April.");
    assert_eq!(out.deadline_iso, Some(date(2026, 3, 15)));
    assert_eq!(out.go_live_iso, Some(date(2026, 4, 6)));
    assert!(out.summary.contains("w/c 6 April"), "{}", out.summary);
}

#[test]
fn conflicting_figures_and_dates_are_contradictions() {
    let text = "# Brief\n\n- Paid social statics: 200 per month.\n- Go-live: 1 March 2026.\n\n\
                We expect 500 paid social statics per month. Go-live is April 2026.\n";
    let d = diagnose(text);
    assert!(
        d.contradictions.iter().any(|c| c.contains("200") && c.contains("500")),
        "{:#?}",
        d.contradictions
    );
    assert!(
        d.contradictions.iter().any(|c| c.contains("2026-03-01") && c.contains("2026-04-30")),
        "{:#?}",
        d.contradictions
    );
    assert_clarifications_valid(&d, 6);
}

#[test]
fn vague_phrases_become_red_questions() {
    let text =
        "Social content for multiple markets.\n\n- Social posts: as needed.\n- Display banners: TBC.\n\n\
                Turnaround as per usual. Rounds of amends as standard.";
    let d = diagnose(text);
    assert!(has(&d.ambiguities, "multiple markets"), "{:#?}", d.ambiguities);
    assert!(has(&d.ambiguities, "as needed"));
    assert!(has(&d.ambiguities, "TBC"));
    assert!(has(&d.ambiguities, "turnaround"));
    assert!(has(&d.ambiguities, "rounds"));
    assert!(d.clarifications.iter().filter(|c| c.priority.as_str() == "red").count() >= 4);
    assert_clarifications_valid(&d, 6);
}

#[test]
fn an_empty_brief_gives_valid_output_and_asks_for_the_basics() {
    for text in ["", "   \n\n  "] {
        let out = intake(text);
        assert_eq!(out.client_name, None);
        assert!(out.brands.is_empty() && out.service_types.is_empty());
        assert_eq!((out.deadline_iso, out.go_live_iso), (None, None));
        assert!(!out.summary.is_empty());
        let json = serde_json::to_value(&out).expect("serialises");
        assert!(json.get("deadline_iso").is_none(), "unknown dates are omitted");

        let d = diagnose(text);
        assert!(d.deliverables.is_empty() && d.markets.is_empty());
        assert_eq!(d.complexity_assessment.as_str(), "low");
        assert_clarifications_valid(&d, 6);
        for basic in ["markets", "deliverables", "turnaround", "rounds of feedback", "proposal due"] {
            assert!(d.clarifications.iter().any(|c| c.question.contains(basic)), "asks about {basic}");
        }
    }
}

#[test]
fn odd_input_never_panics() {
    let long = "word ".repeat(5_000);
    let odd = [
        "Q5 2026, 32/13/2026, 31 February 2026, 99 March, w/c 6 April",
        "Türkiye — 15 März 2026 • “quoted” … Proposal due: 2026-02-30",
        "- \n-\n# \n#\n: : :\n1. 2. 3.",
        long.as_str(),
    ];
    for text in odd {
        let out = intake(text);
        assert!(!out.summary.is_empty());
        assert_clarifications_valid(&diagnose(text), 6);
    }
}
