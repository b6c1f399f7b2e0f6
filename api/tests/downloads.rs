//! The export endpoints: what a person downloads opens and holds the opportunity's own data.

mod common;

use std::io::{Cursor, Read};

use axum::http::{Method, StatusCode};
use calamine::{Reader, Xlsx};
use common::*;
use serde_json::json;

async fn seeded_opportunity(app: &TestApp, token: &str) -> String {
    let id = app.create_opportunity(token, "Downloads").await;
    let uri = format!("/api/opportunities/{id}");
    for (q, p) in [("Which markets?", "green"), ("What budget?", "red"), ("How many rounds?", "amber")] {
        let r = app
            .post(
                &format!("{uri}/clarifications"),
                token,
                json!({"category": "Scope", "question": q, "priority": p}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let asset = app
        .post(&format!("{uri}/assets"), token, json!({"raw_name": "Static banner set", "volume": 12}))
        .await;
    let asset_id = asset.body["id"].as_str().unwrap();
    let chosen = app
        .post(&format!("{uri}/assets/{asset_id}/match"), token, json!({"catalog_id": "GMAL-DIS-001"}))
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    let built = app.post(&format!("{uri}/ratecard/build"), token, json!({})).await;
    assert_eq!(built.status, StatusCode::OK, "{}", built.body);
    id
}

fn sheet_text(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let first = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&first).unwrap();
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_qa_pack_spreadsheet_lists_every_question_red_first(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = seeded_opportunity(&app, &token).await;
    let r = app.get(&format!("/api/opportunities/{id}/qa-pack/excel"), &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-disposition"].to_str().unwrap().contains(".xlsx"));
    let rows = sheet_text(&r.bytes);
    let questions: Vec<&str> =
        rows.iter().flat_map(|row| row.iter()).filter(|c| c.ends_with('?')).map(String::as_str).collect();
    assert_eq!(questions, ["What budget?", "How many rounds?", "Which markets?"]);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_qa_pack_document_holds_every_question_in_order(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = seeded_opportunity(&app, &token).await;
    let r = app.get(&format!("/api/opportunities/{id}/qa-pack/word"), &token).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut zip = zip::ZipArchive::new(Cursor::new(r.bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    let at = |q: &str| xml.find(q).unwrap_or_else(|| panic!("{q} missing"));
    assert!(at("What budget?") < at("How many rounds?") && at("How many rounds?") < at("Which markets?"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_rate_card_spreadsheet_multiplies_by_volume(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = seeded_opportunity(&app, &token).await;
    let card = app.get(&format!("/api/opportunities/{id}/ratecard"), &token).await;
    let total = card.body["totals"]["total_hours"].as_f64().unwrap();
    let r = app.get(&format!("/api/opportunities/{id}/ratecard/excel"), &token).await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = sheet_text(&r.bytes);
    let asset_row = rows.iter().find(|row| row.iter().any(|c| c == "Static banner set")).expect("asset row");
    assert!(asset_row.iter().any(|c| c == "12"), "volume shown: {asset_row:?}");
    assert!(
        rows.iter().flatten().any(|c| c.parse::<f64>().is_ok_and(|v| (v - total).abs() < 1e-6)),
        "total {total}"
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_quick_deck_uses_the_platforms_numbers_and_the_outline_waits_for_its_agent(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = seeded_opportunity(&app, &token).await;
    let r = app.get(&format!("/api/opportunities/{id}/pitch-deck/markdown"), &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/markdown"));
    let deck = String::from_utf8(r.bytes).unwrap();
    assert!(deck.contains("Downloads"));
    assert!(deck.contains("Static banner set"));
    let outline = app.get(&format!("/api/opportunities/{id}/pitch-deck/outline-markdown"), &token).await;
    assert_problem(&outline, StatusCode::NOT_FOUND, "");
    assert!(outline.body["detail"].as_str().unwrap().contains("has not run"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn exports_of_unknown_or_empty_opportunities(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let missing = uuid::Uuid::new_v4();
    for path in [
        "qa-pack/excel",
        "qa-pack/word",
        "ratecard/excel",
        "pitch-deck/markdown",
        "pitch-deck/outline-markdown",
    ] {
        let r = app.call(Method::GET, &format!("/api/opportunities/{missing}/{path}"), &token, None).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "");
    }
    let empty = app.create_opportunity(&token, "Empty").await;
    let r = app.get(&format!("/api/opportunities/{empty}/ratecard/excel"), &token).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    // An empty Q&A pack still opens.
    let r = app.get(&format!("/api/opportunities/{empty}/qa-pack/excel"), &token).await;
    assert_eq!(r.status, StatusCode::OK);
    sheet_text(&r.bytes);
}
