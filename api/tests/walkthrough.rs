//! The main job on a clean database: the Halvorsen brief walked through stages 1–16 over REST,
//! NATS and the agent workers, and the proposal pack it writes.

mod common;

use std::io::{Cursor, Read};

use calamine::{Reader, Xlsx};
use common::*;

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");

fn sheets(path: &std::path::Path) -> Vec<String> {
    let book: Xlsx<_> = Xlsx::new(Cursor::new(std::fs::read(path).unwrap())).unwrap();
    book.sheet_names().to_vec()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_walkthrough_writes_a_complete_proposal_pack(pool: sqlx::PgPool) {
    api::catalog::seed_default(&pool).await.unwrap();
    let s = settings(String::new());
    let nats = api::startup::connect_nats(&s.nats_url).await.unwrap();
    let out = std::env::temp_dir().join(format!("osop-walk-{}", uuid::Uuid::new_v4()));
    let outcome =
        api::walkthrough::run(s, pool.clone(), nats, std::path::Path::new(HALVORSEN), &out, |line| {
            eprintln!("{line}")
        })
        .await
        .unwrap();

    let summary = &outcome.summary;
    assert_eq!(summary["current_stage"], 17);
    assert_eq!(summary["deal_status"], "won");
    assert!(summary["clarifications"].as_u64().unwrap() >= 8, "{summary}");
    assert!(summary["assets"].as_u64().unwrap() >= 20, "{summary}");
    assert!(summary["ratecard_hours"].as_f64().unwrap() > 0.0, "{summary}");
    assert!(summary["fte_after_efficiency"].as_f64().unwrap() > 0.0, "{summary}");
    assert!(summary["events"].as_u64().unwrap() > 50, "{summary}");
    // Every agent (stages 1, 2, 6, 7, 9, 12, 13, 15, 16) ran once and succeeded.
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM agent_runs WHERE status <> 'succeeded'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(failed, 0, "every agent run succeeded");
    assert_eq!(summary["agent_runs"], 9);

    for name in [
        "qa-pack.xlsx",
        "qa-pack.docx",
        "ratecard.xlsx",
        "team-shape.json",
        "pitch-deck.md",
        "costs.json",
        "events.json",
        "summary.json",
    ] {
        assert!(out.join(name).is_file(), "{name} missing from the pack");
    }
    assert!(!sheets(&out.join("qa-pack.xlsx")).is_empty());
    assert_eq!(sheets(&out.join("ratecard.xlsx")), ["Rate card", "Lines"]);
    let mut document = String::new();
    zip::ZipArchive::new(std::fs::File::open(out.join("qa-pack.docx")).unwrap())
        .unwrap()
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut document)
        .unwrap();
    assert!(document.contains("?"), "the Word pack holds the questions");
    let docs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("support-docs.json")).unwrap()).unwrap();
    assert!(docs["slas"].as_array().unwrap().len() >= 3 && docs["kpis"].as_array().unwrap().len() >= 3);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("implementation-plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["market_rollout"].as_array().unwrap().len(), 12);
    assert!(std::fs::read_to_string(out.join("pitch-outline.md")).unwrap().contains("## "));
    let deck = std::fs::read_to_string(out.join("pitch-deck.md")).unwrap();
    assert!(deck.contains("Halvorsen"));
    let events: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("events.json")).unwrap()).unwrap();
    let types: Vec<&str> =
        events.as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert!(types.contains(&"OpportunityHandedOff"), "a won deal leaving stage 16 is handed off");
    let _ = std::fs::remove_dir_all(&out);
}
