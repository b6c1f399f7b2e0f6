//! Hostile uploads: broken documents, archive bombs, names that look like paths, bodies past the
//! limit. Each is a 4xx problem naming `file` and stores nothing (no event, no file row, no blob);
//! a path-like name keeps only its base name. (`files.rs` covers the well-formed cases, the .exe,
//! the text-named-docx, the single-entry zip bomb, the empty .txt and the 2 MiB + 1 byte file.)

mod common;

use std::io::{Cursor, Write};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use serde_json::json;

fn docx() -> Vec<u8> {
    let paragraphs: Vec<String> = (0..40)
        .map(|i| format!("Paragraph {i}: the Fjordline relaunch needs banners, statics and films."))
        .collect();
    documents::docx(&paragraphs.iter().map(String::as_str).collect::<Vec<_>>())
}

fn xlsx() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for row in 0..200 {
        sheet.write_string(row, 0, format!("Deliverable {row}")).unwrap();
        sheet.write_number(row, 1, f64::from(row) * 12.5).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn pdf() -> Vec<u8> {
    documents::pdf("Polar outreach tender")
}

fn truncated(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len() / 2].to_vec()
}

/// The bytes with a stretch in the middle overwritten, so the structure around it stays.
fn corrupted(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let (from, to) = (out.len() / 3, out.len() / 3 + out.len() / 4);
    for (i, b) in out[from..to].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    out
}

/// A zip holding these entries.
fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A zip of `entries` files of `each` zero bytes, named so it looks like a Word document.
fn zip_of(entries: usize, each: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(b"<w:document/>").unwrap();
    let chunk = vec![0u8; each];
    for i in 0..entries {
        zip.start_file(format!("word/media/part{i}.bin"), options).unwrap();
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&app.pool).await.unwrap()
}

/// Events, file rows and blobs: what a refused upload must leave as it was.
async fn stored(app: &TestApp) -> [i64; 3] {
    [app.event_count().await, count(app, "opportunity_files").await, count(app, "file_blobs").await]
}

/// Sends a multipart body whose file part has this raw Content-Disposition.
async fn upload_raw(app: &TestApp, token: &str, id: &str, disposition: &str, bytes: &[u8]) -> Response {
    let boundary = "hostile-upload-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/opportunities/{id}/files"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Uploads each case and collects every one that is not a 4xx problem naming `file` with
/// nothing stored.
async fn refused_all(app: &TestApp, token: &str, id: &str, cases: Vec<(&str, Vec<u8>, StatusCode)>) {
    let mut failures = Vec::new();
    for (name, bytes, status) in cases {
        let before = stored(app).await;
        let r = app.upload(token, id, name, &bytes).await;
        let after = stored(app).await;
        let label = format!("{name} ({} bytes)", bytes.len());
        if r.status != status || !r.is_problem() || r.field() != "file" || r.body["status"] != status.as_u16()
        {
            failures.push(format!(
                "{label}: expected a {status} problem naming file, got {} {}",
                r.status, r.body
            ));
        }
        if r.body["detail"].as_str().is_none_or(|d| d.len() <= 10) {
            failures.push(format!("{label}: the problem does not say what is wrong: {}", r.body));
        }
        if after != before {
            failures
                .push(format!("{label}: stored something ([events, files, blobs] {before:?} -> {after:?})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let list = app.get(&format!("/api/opportunities/{id}/files"), token).await;
    assert_eq!(list.body, json!([]), "a refused upload was listed");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn truncated_and_corrupt_documents_are_refused_and_store_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Broken documents").await;
    let (docx, xlsx, pdf) = (docx(), xlsx(), pdf());
    let unsupported = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let unreadable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = vec![
        // A cut-off zip has no central directory: it is not a readable archive at all.
        ("brief.docx", truncated(&docx), unsupported),
        ("budget.xlsx", truncated(&xlsx), unsupported),
        // Damage inside an intact archive fails its checksums while inflating.
        ("brief.docx", corrupted(&docx), unsupported),
        ("budget.xlsx", corrupted(&xlsx), unsupported),
        // A PDF is judged by whether its text can be read.
        ("tender.pdf", truncated(&pdf), unreadable),
        ("tender.pdf", corrupted(&pdf), unreadable),
        ("tender.pdf", b"%PDF-1.7\n".to_vec(), unreadable),
        ("tender.pdf", [b"%PDF-1.4\n".as_slice(), &[0xA5; 4096]].concat(), unreadable),
        // The zip signature and nothing after it.
        ("brief.docx", b"PK\x03\x04".to_vec(), unsupported),
        // Intact archives whose XML is broken.
        (
            "brief.docx",
            zip_with(&[("word/document.xml", b"<w:document><w:body><w:p><w:t>cut</w:p>")]),
            unreadable,
        ),
        (
            "budget.xlsx",
            zip_with(&[
                ("xl/workbook.xml", b"<workbook><sheets><sheet name=\"A\" r:id=\"rId1\"/>"),
                ("[Content_Types].xml", b"<<<"),
            ]),
            unreadable,
        ),
    ];
    refused_all(&app, &token, &id, cases).await;
    // The intact originals are accepted, so it was the damage that was refused.
    for (name, bytes) in [("brief.docx", docx), ("budget.xlsx", xlsx), ("tender.pdf", pdf)] {
        let r = app.upload(&token, &id, name, &bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn archive_bombs_and_empty_documents_are_refused_and_store_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Bombs").await;
    // 120 entries of 1 MiB of zeros: each small, together past the 100 MiB inflation cap.
    let spread = zip_of(120, 1024 * 1024);
    // More entries than any real document has.
    let crowded = zip_of(5_001, 0);
    assert!(spread.len() < 2 * 1024 * 1024 && crowded.len() < 2 * 1024 * 1024);
    let unsupported = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let empty = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = vec![
        ("brief.docx", spread.clone(), unsupported),
        ("budget.xlsx", spread, unsupported),
        ("brief.docx", crowded, unsupported),
        ("brief.docx", vec![], empty),
        ("budget.xlsx", vec![], empty),
        ("tender.pdf", vec![], empty),
        ("notes.md", vec![], empty),
    ];
    refused_all(&app, &token, &id, cases).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_body_past_the_transport_limit_is_a_413_naming_the_file(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Oversized").await;
    // Past the 2 MiB file limit and the extra 1 MiB the body limit allows for the multipart framing,
    // so it is the body limit, not the file-size check, that stops it.
    let huge = vec![b'a'; 5 * 1024 * 1024];
    refused_all(&app, &token, &id, vec![("big.txt", huge, StatusCode::PAYLOAD_TOO_LARGE)]).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn path_like_names_keep_only_their_base_name(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Traversal").await;
    let cases = [
        ("form-data; name=\"file\"; filename=\"../../etc/passwd.txt\"", "passwd.txt"),
        ("form-data; name=\"file\"; filename=\"/etc/passwd.txt\"", "passwd.txt"),
        ("form-data; name=\"file\"; filename=\"a\\b.txt\"", "b.txt"),
        ("form-data; name=\"file\"; filename=\"C:\\Users\\x\\..\\brief.txt\"", "brief.txt"),
        ("form-data; name=\"file\"; filename=\"..\\..\\windows\\win.ini.md\"", "win.ini.md"),
        ("form-data; name=\"file\"; filename=\"notes/./../scope.md\"", "scope.md"),
    ];
    for (i, (disposition, base)) in cases.iter().enumerate() {
        let text = format!("case {i}: a plain brief");
        let r = upload_raw(&app, &token, &id, disposition, text.as_bytes()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{disposition}: {}", r.body);
        assert_eq!(r.body["filename"], *base, "{disposition}");
        let file = r.body["id"].as_str().unwrap();
        let d = app.get(&format!("/api/opportunities/{id}/files/{file}/download"), &token).await;
        assert_eq!(d.bytes, text.as_bytes());
        let disposition = d.headers[header::CONTENT_DISPOSITION].to_str().unwrap().to_string();
        assert_eq!(disposition, format!("attachment; filename=\"{base}\"; filename*=UTF-8''{base}"));
    }
    // The log holds only base names.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT payload::jsonb #>> '{FileUploaded,file,filename}' FROM events WHERE event_type = 'FileUploaded'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(names.len(), cases.len(), "{names:?}");
    assert!(names.iter().all(|n| !n.contains(['/', '\\']) && n != ".."), "{names:?}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn names_with_no_base_name_are_refused_and_store_nothing(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "No name").await;
    for disposition in [
        "form-data; name=\"file\"; filename=\"../\"",
        "form-data; name=\"file\"; filename=\"..\"",
        "form-data; name=\"file\"; filename=\"/\"",
        "form-data; name=\"file\"; filename=\"uploads\\\\\"",
        "form-data; name=\"file\"; filename=\"   \"",
    ] {
        let before = stored(&app).await;
        let r = upload_raw(&app, &token, &id, disposition, b"some text").await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "file");
        assert_eq!(stored(&app).await, before, "{disposition}");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_upload_to_an_archived_opportunity_stores_no_blob(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Archived").await;
    let r = app.post(&format!("/api/opportunities/{id}/archive"), &token, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = stored(&app).await;
    let r = app.upload(&token, &id, "late.txt", b"arrives after the archive").await;
    assert_problem(&r, StatusCode::CONFLICT, "");
    assert_eq!(stored(&app).await, before, "[events, files, blobs]");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn broken_multipart_bodies_are_400s_naming_the_file(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Broken forms").await;
    let part =
        "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"brief.txt\"\r\n\r\nhello";
    let cases: [(&str, Vec<u8>); 4] = [
        // Cut off before the closing boundary.
        ("multipart/form-data; boundary=b0undary", part.as_bytes().to_vec()),
        // A boundary the body never uses.
        ("multipart/form-data; boundary=elsewhere", format!("{part}\r\n--b0undary--\r\n").into_bytes()),
        // No boundary at all.
        ("multipart/form-data", format!("{part}\r\n--b0undary--\r\n").into_bytes()),
        // Headers of the part that never end.
        (
            "multipart/form-data; boundary=b0undary",
            b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"".to_vec(),
        ),
    ];
    for (content_type, body) in cases {
        let before = stored(&app).await;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/opportunities/{id}/files"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let r = app.send(request).await;
        assert!(r.status.is_client_error(), "{content_type}: {} {}", r.status, r.body);
        assert_problem(&r, r.status, "file");
        assert_eq!(stored(&app).await, before, "{content_type}");
    }
}
