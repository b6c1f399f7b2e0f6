//! The catalog over REST: the seeded default, search and filters, versions, and validating imports.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use serde_json::json;
use sqlx::PgPool;

const HEADER: &str = "catalog_id,category,sub_category,asset_name,complexity,asset_description,model_type,\
    role_1,role_1_location,role_1_hours,role_2,role_2_location,role_2_hours";

/// The app after a real start-up migration, which seeds the default catalog.
async fn app(pool: PgPool) -> TestApp {
    api::startup::migrate(&pool).await.unwrap();
    TestApp::new(pool).await
}

async fn version_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM catalog_versions").fetch_one(&app.pool).await.unwrap()
}

async fn import(app: &TestApp, token: &str, filename: &str, bytes: &[u8]) -> Response {
    let (content_type, body) = multipart_file(filename, bytes);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/catalog/import")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Expects a 422 naming `file` whose detail mentions each of `needles`, and nothing imported.
async fn refused(app: &TestApp, csv: &str, needles: &[&str]) {
    let before = version_count(app).await;
    let r = import(app, &app.admin().await, "bad.csv", csv.as_bytes()).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "file");
    let detail = r.body["detail"].as_str().unwrap();
    for needle in needles {
        assert!(detail.contains(needle), "{needle:?} not in {detail:?}");
    }
    assert_eq!(version_count(app).await, before, "a refused import stored a version");
}

fn ids(r: &Response) -> Vec<String> {
    r.body.as_array().unwrap().iter().map(|e| e["catalog_id"].as_str().unwrap().to_string()).collect()
}

fn total(r: &Response) -> i64 {
    r.headers["x-total-count"].to_str().unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_default_catalog_is_seeded_once(pool: PgPool) {
    // Two processes starting at once still store one version.
    let (a, b) = tokio::join!(api::catalog::seed_default(&pool), api::catalog::seed_default(&pool));
    a.unwrap();
    b.unwrap();
    let app = app(pool).await;
    api::startup::migrate(&app.pool).await.unwrap();
    assert_eq!(version_count(&app).await, 1);
    assert_eq!(api::catalog::current_version(&app.pool).await.unwrap(), Some(1));
    let versions = app.get("/api/catalog/versions", &app.editor().await).await;
    assert_eq!(versions.status, StatusCode::OK);
    let v1 = &versions.body[0];
    assert_eq!((v1["version"].as_i64(), v1["source"].as_str()), (Some(1), Some("default (illustrative)")));
    assert_eq!(v1["imported_by"], "system");
    assert!(v1["entry_count"].as_i64().unwrap() >= 160, "{v1}");
    let ids = ["GMAL-DIS-007".to_string(), "GMAL-NOPE".to_string()];
    let found = api::catalog::entries(&app.pool, 1, &ids).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].hours.contains_key("standard") && found[0].hours.contains_key("hybrid"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn search_filters_and_pages(pool: PgPool) {
    let app = app(pool).await;
    let token = app.editor().await;
    let all = app.get("/api/catalog?limit=500", &token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert!(total(&all) >= 160 && all.body.as_array().unwrap().len() as i64 == total(&all));
    let banners = app.get("/api/catalog?q=BANNER&limit=500", &token).await;
    assert!(ids(&banners).contains(&"GMAL-DIS-001".to_string()), "{}", banners.body);
    for e in banners.body.as_array().unwrap() {
        assert!(e.to_string().to_lowercase().contains("banner"), "{e}");
    }
    let narrow = app.get("/api/catalog?q=html5%20complex&limit=500", &token).await;
    assert!(ids(&narrow).contains(&"GMAL-DIS-009".to_string()), "{}", narrow.body);
    assert!(total(&narrow) < total(&banners) && total(&narrow) > 0);
    for e in narrow.body.as_array().unwrap() {
        let text = e.to_string().to_lowercase();
        assert!(text.contains("html5") && text.contains("complex"), "{e}");
    }
    let display = app.get("/api/catalog?category=display%20banners&limit=500", &token).await;
    assert!(total(&display) > 0 && total(&display) < total(&all));
    assert!(display.body.as_array().unwrap().iter().all(|e| e["category"] == "Display Banners"));
    let simple = app.get("/api/catalog?complexity=simple&model_type=hybrid&limit=500", &token).await;
    assert!(total(&simple) > 0 && total(&simple) < total(&all));
    assert!(simple.body.as_array().unwrap().iter().all(|e| e["complexity"] == "Simple"));
    let none = app.get("/api/catalog?q=zzzqqq", &token).await;
    assert_eq!((none.body.clone(), total(&none)), (json!([]), 0));
    // Pages are disjoint and the header always carries the full count.
    let first = app.get("/api/catalog?limit=5", &token).await;
    let second = app.get("/api/catalog?limit=5&offset=5", &token).await;
    assert_eq!((ids(&first).len(), ids(&second).len()), (5, 5));
    assert!(ids(&first).iter().all(|id| !ids(&second).contains(id)));
    assert_eq!((total(&first), total(&second)), (total(&all), total(&all)));
    assert_eq!(ids(&first), ids(&all)[..5].to_vec());
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=many", "limit"),
        ("offset=-1", "offset"),
        ("version=0", "version"),
    ] {
        let r = app.get(&format!("/api/catalog?{query}"), &token).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    assert_problem(&app.get("/api/catalog?version=9", &token).await, StatusCode::NOT_FOUND, "");
    assert_eq!(app.get("/api/catalog", "").await.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn one_entry_categories_and_versions(pool: PgPool) {
    let app = app(pool).await;
    let token = app.editor().await;
    let e = app.get("/api/catalog/GMAL-PHO-001", &token).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    assert_eq!(
        (e.body["asset_name"].as_str(), e.body["complexity"].as_str()),
        (Some("Key visual hero image"), Some("Simple"))
    );
    assert_eq!(e.body["total_hours"], json!({ "standard": 30.0, "hybrid": 26.1 }));
    let retoucher = &e.body["hours"]["hybrid"][4];
    assert_eq!(*retoucher, json!({ "role": "Retoucher", "location": "offshore", "hours": 3.2 }));
    assert!(e.body["agency_caveats"].as_str().unwrap().contains("usage rights"));
    assert_problem(&app.get("/api/catalog/GMAL-NOPE-999", &token).await, StatusCode::NOT_FOUND, "");
    let categories = app.get("/api/catalog/categories", &token).await;
    assert_eq!(categories.status, StatusCode::OK);
    let list = categories.body.as_array().unwrap();
    assert!(list.iter().any(|c| c["category"] == "Display Banners" && c["entry_count"].as_i64() > Some(0)));
    let sum: i64 = list.iter().map(|c| c["entry_count"].as_i64().unwrap()).sum();
    assert_eq!(sum, total(&app.get("/api/catalog", &token).await));
}

const VALID: &str = "GMAL-X-1,Social,Static Post,Social post,Simple,One social post,standard,\
    Designer,onshore,4,Copywriter,,1.5
GMAL-X-1,Social,Static Post,Social post,Simple,One social post,hybrid,Designer,offshore,3,Copywriter,onshore,1
GMAL-X-2,Social,Video,Social video,Complex,One cut-down,standard,Video Editor,onshore,12,,,
GMAL-X-2,Social,Video,Social video,Complex,One cut-down,hybrid,Video Editor,nearshore,10,Producer,onshore,2";

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_imported_csv_becomes_the_current_version(pool: PgPool) {
    let app = app(pool).await;
    let admin = app.admin().await;
    let r = import(&app, &admin, "halvorsen.csv", format!("{HEADER}\n{VALID}\n").as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body, json!({ "version": 2, "entry_count": 2, "source": "halvorsen.csv" }));
    assert_eq!(api::catalog::current_version(&app.pool).await.unwrap(), Some(2));
    let current = app.get("/api/catalog", &admin).await;
    assert_eq!((ids(&current), total(&current)), (vec!["GMAL-X-1".into(), "GMAL-X-2".into()], 2));
    assert_eq!(current.body[1]["total_hours"], json!({ "standard": 12.0, "hybrid": 12.0 }));
    assert_eq!(current.body[0]["hours"]["standard"][1]["location"], "onshore");
    let old = app.get("/api/catalog?version=1&q=banner", &admin).await;
    assert!(total(&old) > 0 && ids(&old).iter().all(|id| id.starts_with("GMAL-DIS")));
    assert_problem(&app.get("/api/catalog/GMAL-DIS-001", &admin).await, StatusCode::NOT_FOUND, "");
    let versions = app.get("/api/catalog/versions", &admin).await;
    let numbers: Vec<i64> =
        versions.body.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![2, 1]);
    assert_eq!(versions.body[0]["imported_by"], "admin@agency.test");
    assert_eq!(versions.body[0]["entry_count"], 2);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn an_imported_xlsx_becomes_the_current_version(pool: PgPool) {
    let app = app(pool).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, name) in HEADER.split(',').enumerate() {
        sheet.write_string(0, c as u16, name).unwrap();
    }
    // A numeric id must come back as "1001", not "1001.0".
    let row: [&str; 7] = ["", "Print", "Poster", "A2 poster", "Medium", "One poster", "standard"];
    sheet.write_number(1, 0, 1001).unwrap();
    for (c, v) in row.iter().enumerate().skip(1) {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_string(1, 7, "Artworker").unwrap();
    sheet.write_number(1, 9, 6).unwrap();
    sheet.write_string(1, 10, "Designer").unwrap();
    sheet.write_number(1, 12, 2.5).unwrap();
    let r = import(&app, &app.admin().await, "print.xlsx", &book.save_to_buffer().unwrap()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.body["version"].as_i64(), r.body["entry_count"].as_i64()), (Some(2), Some(1)));
    let e = app.get("/api/catalog/1001", &app.editor().await).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    assert_eq!(e.body["total_hours"], json!({ "standard": 8.5 }));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn bad_rows_reject_the_whole_file(pool: PgPool) {
    let app = app(pool).await;
    let ok = "GMAL-Y-1,Social,Post,Post,Simple,A post,standard,Designer,onshore,4,,,";
    let wizard = "GMAL-Y-2,Social,Post,Post,Simple,A post,standard,Designer,onshore,4,Wizard,onshore,1";
    let negative = "GMAL-Y-3,Social,Post,Post,Simple,A post,standard,Designer,onshore,-2,,,";
    let twice = "GMAL-Y-1,Social,Post,Post,Simple,A post,standard,Designer,onshore,5,,,";
    refused(&app, &format!("{HEADER}\n{ok}\n{wizard}\n"), &["row 3 role_2", "unknown role \"Wizard\""]).await;
    refused(&app, &format!("{HEADER}\n{negative}\n"), &["row 2 role_1_hours", "negative"]).await;
    refused(&app, &format!("{HEADER}\n{ok}\n{twice}\n"), &["row 3 catalog_id", "duplicate of row 2"]).await;
    let all_three = format!("{HEADER}\n{ok}\n{wizard}\n{ok}\n\n{negative}\n");
    refused(&app, &all_three, &["row 3 role_2", "row 4 catalog_id", "row 6 role_1_hours", "3 problems"])
        .await;
    refused(&app, HEADER, &["no data rows"]).await;
    assert_eq!(version_count(&app).await, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn imports_are_for_admins_and_catalog_files_only(pool: PgPool) {
    let app = app(pool).await;
    let csv = format!("{HEADER}\n{VALID}\n");
    let r = import(&app, &app.editor().await, "mine.csv", csv.as_bytes()).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    let admin = app.admin().await;
    assert_problem(
        &import(&app, &admin, "mine.txt", csv.as_bytes()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "file",
    );
    let pdf = b"%PDF-1.5\n1 0 obj\n<<>>\nendobj\n";
    assert_problem(&import(&app, &admin, "mine.csv", pdf).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "file");
    assert_problem(
        &import(&app, &admin, "mine.xlsx", csv.as_bytes()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "file",
    );
    assert_problem(&import(&app, &admin, "mine.csv", b"").await, StatusCode::UNPROCESSABLE_ENTITY, "file");
    assert_eq!(version_count(&app).await, 1);
    let small = TestApp::with(app.pool.clone(), |s| s.max_upload_bytes = 256).await;
    let r = import(&small, &small.admin().await, "mine.csv", csv.as_bytes()).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE, "file");
    assert_eq!(version_count(&app).await, 1);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_rate_card_keeps_the_hours_it_was_built_with_after_a_new_import(pool: PgPool) {
    let app = app(pool).await;
    let admin = app.admin().await;
    let id = app.create_opportunity(&admin, "Versioned").await;
    let uri = format!("/api/opportunities/{id}");
    let asset = app.post(&format!("{uri}/assets"), &admin, json!({"raw_name": "Banner", "volume": 3})).await;
    let asset_id = asset.body["id"].as_str().unwrap();
    let chosen = app
        .post(&format!("{uri}/assets/{asset_id}/match"), &admin, json!({"catalog_id": "GMAL-DIS-001"}))
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    let before = app.post(&format!("{uri}/ratecard/build"), &admin, json!({})).await;
    assert_eq!(before.body["catalog_version"], 1);

    // Version 2 gives the same entry very different hours.
    let csv = format!(
        "{HEADER}\nGMAL-DIS-001,Display Banners,Static,Simple static banner,Simple,One banner,standard,Designer,onshore,40,,,\n"
    );
    assert_eq!(import(&app, &admin, "v2.csv", csv.as_bytes()).await.status, StatusCode::CREATED);

    let kept = app.get(&format!("{uri}/ratecard"), &admin).await;
    assert_eq!(kept.body["catalog_version"], 1);
    assert_eq!(kept.body["lines"], before.body["lines"], "the built card keeps its version-1 hours");

    let rebuilt = app.post(&format!("{uri}/ratecard/build"), &admin, json!({})).await;
    assert_eq!(rebuilt.body["catalog_version"], 2);
    let lines = rebuilt.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["base_hours"], 40.0);
    assert_eq!(lines[0]["total_hours"], 40.0, "hours for one asset");
    assert_eq!(lines[0]["hours_for_volume"], 120.0);
}
