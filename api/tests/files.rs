//! Opportunity files over REST: upload checked by content, text extraction, limits, download, delete.

mod common;

use std::io::{Cursor, Write};

use axum::http::{header, Method, StatusCode};
use common::documents::{docx, docx_with_raw_xml, pdf};
use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The text the upload left in `file_blobs` for the agents.
async fn extracted(app: &TestApp, sha256: &str) -> String {
    sqlx::query_scalar("SELECT extracted_text FROM file_blobs WHERE sha256 = $1")
        .bind(sha256)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Uploads, expects a 201 of this media type with matching metadata, and returns the extracted text.
async fn accepted(app: &TestApp, token: &str, id: &str, name: &str, bytes: &[u8], media: &str) -> String {
    let r = app.upload(token, id, name, bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
    assert_eq!(r.body["filename"], name);
    assert_eq!(r.body["opportunity_id"], id);
    assert_eq!(r.body["media_type"], media, "{}", r.body);
    assert_eq!(r.body["size_bytes"], bytes.len());
    assert_eq!(r.body["sha256"], hex::encode(Sha256::digest(bytes)));
    assert_eq!(r.body["uploaded_by"], "editor@agency.test");
    let text = extracted(app, r.body["sha256"].as_str().unwrap()).await;
    assert_eq!(r.body["text_chars"], text.chars().count(), "{}", r.body);
    text
}

/// Uploads, expects a problem naming `file`, and checks that nothing was recorded.
async fn rejected(
    app: &TestApp,
    token: &str,
    id: &str,
    name: &str,
    bytes: &[u8],
    status: StatusCode,
) -> Response {
    let before = app.event_count().await;
    let r = app.upload(token, id, name, bytes).await;
    assert_problem(&r, status, "file");
    assert_eq!(app.event_count().await, before, "a rejected upload recorded an event");
    let list = app.get(&format!("/api/opportunities/{id}/files"), token).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body, json!([]), "a rejected upload was listed");
    r
}

fn xlsx() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let budget = book.add_worksheet();
    budget.set_name("Budget").unwrap();
    budget.write_string(0, 0, "Deliverable").unwrap();
    budget.write_string(1, 0, "Lighthouse campaign").unwrap();
    budget.write_number(1, 1, 48250).unwrap();
    let timeline = book.add_worksheet();
    timeline.set_name("Timeline").unwrap();
    timeline.write_string(0, 0, "Kickoff in Trondheim").unwrap();
    book.save_to_buffer().unwrap()
}

/// A plausible Windows PE: "MZ", e_lfanew at 0x3C pointing at a "PE\0\0" signature.
fn windows_exe() -> Vec<u8> {
    let mut exe = vec![0u8; 512];
    exe[..2].copy_from_slice(b"MZ");
    exe[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    exe[0x80..0x84].copy_from_slice(b"PE\0\0");
    exe[0x84..0x86].copy_from_slice(&0x014Cu16.to_le_bytes()); // i386
    exe
}

/// A zip whose word/document.xml inflates to 110 MiB of zeros.
fn zip_bomb() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..110 {
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn text_and_markdown_uploads_keep_their_text(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Text brief").await;
    let txt = "Brief: relaunch the Fjordline ferry brand, budget 1.2M NOK.\n";
    let text = accepted(&app, &token, &id, "brief.txt", txt.as_bytes(), "text/plain").await;
    assert_eq!(text, txt);
    let md = "# Scope\n\n- Nordlys **awareness** campaign\n- Social media\n";
    let text = accepted(&app, &token, &id, "scope.md", md.as_bytes(), "text/markdown").await;
    assert!(text.contains("Nordlys") && text.contains("awareness"), "{text}");
    let list = app.get(&format!("/api/opportunities/{id}/files"), &token).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<_> = list.body.as_array().unwrap().iter().map(|f| f["filename"].clone()).collect();
    assert_eq!(names, vec![json!("brief.txt"), json!("scope.md")]);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn nul_and_control_characters_are_dropped_from_extracted_text(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "NUL brief").await;
    // PostgreSQL keeps no NUL in text: this upload was a 500.
    let txt = b"Brief:\0 relaunch\x07 the ferry\tbrand.\r\nBudget \x1b[1m1.2M\x00 NOK.\n";
    let text = accepted(&app, &token, &id, "nul.txt", txt, "text/plain").await;
    assert_eq!(text, "Brief: relaunch the ferry\tbrand.\r\nBudget [1m1.2M NOK.\n");
    // Content that is mostly control characters is binary, not text.
    let other = app.create_opportunity(&token, "Zeros").await;
    rejected(&app, &token, &other, "zeros.txt", &[0u8; 64], StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_docx_upload_keeps_its_paragraph_text(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Word brief").await;
    let bytes = docx(&["Objective: grow Halvorsen membership", "Deadline is the equinox"]);
    let text = accepted(&app, &token, &id, "brief.docx", &bytes, DOCX).await;
    assert!(text.contains("Objective: grow Halvorsen membership"), "{text:?}");
    assert!(text.contains("Deadline is the equinox"), "{text:?}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_docx_keeps_escaped_characters_and_character_references(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Escapes").await;
    let bytes = docx_with_raw_xml(
        &["P&G wants <bold> \"hero\" films & 'teasers'", "Budget EUROSIGN 40k, NBSPSIGN net"],
        &[("EUROSIGN", "&#8364;"), ("NBSPSIGN", "&#x41;")],
    );
    let text = accepted(&app, &token, &id, "escapes.docx", &bytes, DOCX).await;
    assert!(text.contains("P&G wants <bold> \"hero\" films & 'teasers'"), "{text:?}");
    assert!(text.contains("Budget € 40k, A net"), "{text:?}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_xlsx_upload_keeps_cell_values_from_every_sheet(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Excel brief").await;
    let text = accepted(&app, &token, &id, "budget.xlsx", &xlsx(), XLSX).await;
    for word in ["Budget", "Deliverable", "Lighthouse campaign", "48250", "Timeline", "Kickoff in Trondheim"]
    {
        assert!(text.contains(word), "missing {word:?} in {text:?}");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_pdf_upload_keeps_its_text(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "PDF brief").await;
    let bytes = pdf("Polar outreach tender");
    let text = accepted(&app, &token, &id, "tender.pdf", &bytes, "application/pdf").await;
    for word in ["Polar", "outreach", "tender"] {
        assert!(text.contains(word), "missing {word:?} in {text:?}");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_executable_is_refused_by_its_extension(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Exe").await;
    let r =
        rejected(&app, &token, &id, "brief.exe", &windows_exe(), StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(r.body["detail"].as_str().unwrap().contains(".docx"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_executable_renamed_docx_is_refused_by_its_content(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Disguised exe").await;
    let r =
        rejected(&app, &token, &id, "brief.docx", &windows_exe(), StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(r.body["detail"].as_str().unwrap().contains("exe"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_text_file_named_docx_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Mismatch").await;
    let r = rejected(&app, &token, &id, "brief.docx", b"just some text", StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .await;
    assert!(r.body["detail"].as_str().unwrap().contains("text"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_empty_file_is_a_422(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Empty").await;
    rejected(&app, &token, &id, "empty.txt", b"", StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_upload_over_the_limit_is_a_413(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Too big").await;
    let big = vec![b'a'; 2 * 1024 * 1024 + 1];
    let r = rejected(&app, &token, &id, "big.txt", &big, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(r.body["detail"].as_str().unwrap().contains("2 MiB"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_zip_bomb_named_docx_is_refused(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Bomb").await;
    let bomb = zip_bomb();
    assert!(bomb.len() < 2 * 1024 * 1024, "the bomb is {} bytes", bomb.len());
    let r = rejected(&app, &token, &id, "brief.docx", &bomb, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(r.body["detail"].as_str().unwrap().contains("zip bomb"), "{}", r.body);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn extracted_text_is_capped_at_150k_characters(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Long brief").await;
    // 200k characters, 1 MB (multi-byte), under the 2 MiB limit.
    let long: String = "æøå Fjord ".repeat(20_000);
    assert_eq!(long.chars().count(), 200_000);
    let r = app.upload(&token, &id, "long.txt", long.as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["text_chars"], 150_000);
    assert_eq!(r.body["size_bytes"], long.len());
    let text = extracted(&app, r.body["sha256"].as_str().unwrap()).await;
    assert_eq!(text.chars().count(), 150_000);
    assert!(long.starts_with(&text));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn download_returns_the_exact_bytes(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Download").await;
    let bytes = docx(&["Download me"]);
    let r = app.upload(&token, &id, "brief.docx", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file = r.body["id"].as_str().unwrap();
    let meta = app.get(&format!("/api/opportunities/{id}/files/{file}"), &token).await;
    assert_eq!(meta.status, StatusCode::OK);
    assert_eq!(meta.body, r.body);
    let d = app.get(&format!("/api/opportunities/{id}/files/{file}/download"), &token).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.bytes, bytes);
    assert_eq!(hex::encode(Sha256::digest(&d.bytes)), r.body["sha256"].as_str().unwrap());
    assert_eq!(d.headers[header::CONTENT_TYPE], DOCX);
    let disposition = d.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment") && disposition.contains("brief.docx"), "{disposition}");

    // A name beyond ASCII downloads under its own letters (RFC 8187), with an ASCII fallback.
    let r = app.upload(&token, &id, "Tromsø brief.docx", &docx(&["Nordic"])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file = r.body["id"].as_str().unwrap();
    let d = app.get(&format!("/api/opportunities/{id}/files/{file}/download"), &token).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        d.headers[header::CONTENT_DISPOSITION].to_str().unwrap(),
        "attachment; filename=\"Troms_ brief.docx\"; filename*=UTF-8''Troms%C3%B8%20brief.docx"
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_deleted_file_is_gone(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Delete").await;
    let r = app.upload(&token, &id, "notes.txt", b"delete me").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let uri = format!("/api/opportunities/{id}/files/{}", r.body["id"].as_str().unwrap());
    let d = app.call(Method::DELETE, &uri, &token, None).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT, "{}", d.body);
    assert_problem(&app.get(&uri, &token).await, StatusCode::NOT_FOUND, "");
    assert_problem(&app.get(&format!("{uri}/download"), &token).await, StatusCode::NOT_FOUND, "");
    assert_problem(&app.call(Method::DELETE, &uri, &token, None).await, StatusCode::NOT_FOUND, "");
    let list = app.get(&format!("/api/opportunities/{id}/files"), &token).await;
    assert_eq!(list.body, json!([]));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn files_are_reached_only_through_their_own_opportunity(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let mine = app.create_opportunity(&token, "Mine").await;
    let other = app.create_opportunity(&token, "Other").await;
    let r = app.upload(&token, &mine, "notes.txt", b"private notes").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file = r.body["id"].as_str().unwrap();
    let uri = format!("/api/opportunities/{other}/files/{file}");
    assert_problem(&app.get(&uri, &token).await, StatusCode::NOT_FOUND, "");
    assert_problem(&app.get(&format!("{uri}/download"), &token).await, StatusCode::NOT_FOUND, "");
    assert_problem(&app.call(Method::DELETE, &uri, &token, None).await, StatusCode::NOT_FOUND, "");
    let still = app.get(&format!("/api/opportunities/{mine}/files/{file}"), &token).await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.body);

    let unknown = uuid::Uuid::new_v4();
    let before = app.event_count().await;
    let r = app.upload(&token, &unknown.to_string(), "notes.txt", b"lost").await;
    assert_problem(&r, StatusCode::NOT_FOUND, "");
    assert_eq!(app.event_count().await, before);
    assert_problem(
        &app.get(&format!("/api/opportunities/{unknown}/files"), &token).await,
        StatusCode::NOT_FOUND,
        "",
    );

    assert_problem(
        &app.upload(&token, "not-a-uuid", "a.txt", b"x").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "id",
    );
    let bad_id = app.get(&format!("/api/opportunities/nope/files/{file}"), &token).await;
    assert_problem(&bad_id, StatusCode::UNPROCESSABLE_ENTITY, "id");
    let bad_file = app.get(&format!("/api/opportunities/{mine}/files/nope/download"), &token).await;
    assert_problem(&bad_file, StatusCode::UNPROCESSABLE_ENTITY, "file_id");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_viewer_cannot_upload_or_delete(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let editor = app.editor().await;
    let viewer = app.login("v@agency.test", "viewer").await;
    let id = app.create_opportunity(&editor, "Read only").await;
    let before = app.event_count().await;
    assert_problem(&app.upload(&viewer, &id, "brief.txt", b"hello").await, StatusCode::FORBIDDEN, "");
    assert_eq!(app.event_count().await, before);
    let r = app.upload(&editor, &id, "brief.txt", b"hello").await;
    let uri = format!("/api/opportunities/{id}/files/{}", r.body["id"].as_str().unwrap());
    assert_eq!(app.get(&uri, &viewer).await.status, StatusCode::OK);
    assert_problem(&app.call(Method::DELETE, &uri, &viewer, None).await, StatusCode::FORBIDDEN, "");
    assert_eq!(
        app.get(&format!("/api/opportunities/{id}/files"), &viewer).await.body.as_array().unwrap().len(),
        1
    );
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_json_body_instead_of_multipart_is_a_400(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "No multipart").await;
    let before = app.event_count().await;
    let r = app.post(&format!("/api/opportunities/{id}/files"), &token, json!({ "file": "brief.txt" })).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "");
    assert!(r.body["detail"].as_str().unwrap().contains("multipart"), "{}", r.body);
    assert_eq!(app.event_count().await, before);
}
