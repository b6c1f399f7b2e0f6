//! The rate card (hours for ONE asset × volume, the bug-4 invariant), efficiency, team shape and the won-deal hand-off.

mod common;

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

/// The app after a real start-up migration, which seeds the default catalog as version 1.
async fn seeded(pool: sqlx::PgPool) -> TestApp {
    api::startup::migrate(&pool).await.unwrap();
    TestApp::new(pool).await
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// A number the API may send as a JSON number or as a decimal string.
fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A catalog entry as the API shows it, looked up by id through the search.
async fn entry(app: &TestApp, token: &str, catalog_id: &str) -> Value {
    let r = app.get(&format!("/api/catalog?q={catalog_id}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found = r.body.as_array().unwrap().iter().find(|e| e["catalog_id"] == catalog_id).cloned();
    let found = found.unwrap_or_else(|| panic!("{catalog_id} is not in the catalog: {}", r.body));
    let one = app.get(&format!("/api/catalog/{catalog_id}"), token).await;
    assert_eq!(one.body, found, "the entry reads the same both ways");
    found
}

/// Role → hours for ONE asset, for the standard model type (roles with no hours make no line).
fn standard_hours(entry: &Value) -> BTreeMap<String, f64> {
    let mut hours = BTreeMap::new();
    for rh in entry["hours"]["standard"].as_array().unwrap() {
        let h = rh["hours"].as_f64().unwrap();
        if h > 0.0 {
            *hours.entry(rh["role"].as_str().unwrap().to_string()).or_default() += h;
        }
    }
    hours
}

async fn add_asset(app: &TestApp, token: &str, id: &str, name: &str, volume: i64) -> String {
    let r = app
        .post(&format!("/api/opportunities/{id}/assets"), token, json!({"raw_name": name, "volume": volume}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn choose(app: &TestApp, token: &str, id: &str, asset: &str, catalog_id: &str) {
    let uri = format!("/api/opportunities/{id}/assets/{asset}/match");
    let r = app.post(&uri, token, json!({"catalog_id": catalog_id})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn build(app: &TestApp, token: &str, id: &str, body: Value) -> Response {
    app.post(&format!("/api/opportunities/{id}/ratecard/build"), token, body).await
}

/// Checks every line, asset and total of a rate card against the catalog hours and the volumes.
fn assert_bug4(card: &Value, expected: &[(&str, &BTreeMap<String, f64>, u64)]) -> f64 {
    let lines = card["lines"].as_array().unwrap();
    let mut total = 0.0;
    for (asset, hours, volume) in expected {
        let mine: Vec<&Value> = lines.iter().filter(|l| l["asset_id"] == *asset).collect();
        assert_eq!(mine.len(), hours.len(), "one line per role with hours: {card}");
        for l in mine {
            let base = hours[l["role"].as_str().unwrap()];
            assert!(close(l["base_hours"].as_f64().unwrap(), base), "base_hours is for ONE asset: {l}");
            assert_eq!(l["volume"].as_u64().unwrap(), *volume, "{l}");
            assert!(close(l["total_hours"].as_f64().unwrap(), base), "total_hours is for ONE asset: {l}");
            assert!(close(l["hours_for_volume"].as_f64().unwrap(), base * *volume as f64), "{l}");
            assert_eq!(l["gmal_id"], l["catalog_id"], "the seed's name for the entry: {l}");
            total += base * *volume as f64;
        }
        let per_asset: f64 = hours.values().sum();
        let a = card["assets"].as_array().unwrap().iter().find(|a| a["asset_id"] == *asset).unwrap();
        assert!(close(a["hours_per_asset"].as_f64().unwrap(), per_asset), "{a}");
        assert!(close(a["total_hours"].as_f64().unwrap(), per_asset * *volume as f64), "{a}");
        assert_eq!(a["volume"].as_u64().unwrap(), *volume);
    }
    assert_eq!(lines.len(), expected.iter().map(|(_, h, _)| h.len()).sum::<usize>(), "no other lines");
    assert!(close(card["totals"]["total_hours"].as_f64().unwrap(), total), "Σ base × volume: {card}");
    total
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_rate_card_keeps_hours_for_one_asset_and_multiplies_by_volume(pool: sqlx::PgPool) {
    let app = seeded(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Rate card").await;
    let card_uri = format!("/api/opportunities/{id}/ratecard");
    assert_problem(&app.get(&card_uri, &token).await, StatusCode::NOT_FOUND, "");
    assert_problem(&build(&app, &token, &id, json!({})).await, StatusCode::BAD_REQUEST, "");

    let banners = add_asset(&app, &token, &id, "Banners", 10).await;
    let emails = add_asset(&app, &token, &id, "Emails", 4).await;
    let unmatched = add_asset(&app, &token, &id, "Unmatched", 7).await;
    let r = build(&app, &token, &id, json!({})).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "");
    assert!(r.body["detail"].as_str().unwrap().contains("select"), "{}", r.body);
    assert_problem(&app.get(&card_uri, &token).await, StatusCode::NOT_FOUND, "");

    let (dis, crm) = (entry(&app, &token, "GMAL-DIS-001").await, entry(&app, &token, "GMAL-CRM-001").await);
    let (dis_hours, crm_hours) = (standard_hours(&dis), standard_hours(&crm));
    choose(&app, &token, &id, &banners, "GMAL-DIS-001").await;
    choose(&app, &token, &id, &emails, "GMAL-CRM-001").await;
    let r = build(&app, &token, &id, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["stale"], false);
    assert_eq!(r.body["model_type"], "standard");
    assert_eq!(r.body["catalog_version"], 1);
    assert!(r.body["totals"]["total_cost"].is_null(), "unpriced: {}", r.body);
    assert!(r.body["lines"].as_array().unwrap().iter().all(|l| l["asset_id"] != unmatched.as_str()));
    assert!(r.body["lines"].as_array().unwrap().iter().all(|l| l["cost"].is_null()));
    assert_bug4(&r.body, &[(&banners, &dis_hours, 10), (&emails, &crm_hours, 4)]);
    let pm = dis_hours["Project Manager"] * 10.0 + crm_hours["Project Manager"] * 4.0;
    assert!(close(r.body["totals"]["hours_by_role"]["Project Manager"].as_f64().unwrap(), pm), "{}", r.body);
    assert_eq!(app.get(&card_uri, &token).await.body, r.body, "GET shows what the build returned");

    // Priced: every role present has a rate.
    let roles: Vec<String> = dis_hours.keys().chain(crm_hours.keys()).cloned().collect();
    let rates: BTreeMap<String, f64> =
        roles.iter().enumerate().map(|(i, r)| (r.clone(), 50.0 + 12.5 * i as f64)).collect();
    let priced = build(&app, &token, &id, json!({"rates": rates, "currency": "eur"})).await;
    assert_eq!(priced.status, StatusCode::OK, "{}", priced.body);
    assert_eq!(priced.body["currency"], "EUR");
    let mut sum = 0.0;
    for l in priced.body["lines"].as_array().unwrap() {
        let rate = rates[l["role"].as_str().unwrap()];
        assert!(close(num(&l["rate"]), rate), "{l}");
        let cost = rate * l["base_hours"].as_f64().unwrap() * l["volume"].as_f64().unwrap();
        assert!((num(&l["cost"]) - cost).abs() < 0.005, "cost = rate × base × volume: {l}");
        sum += num(&l["cost"]);
    }
    assert!((num(&priced.body["totals"]["total_cost"]) - sum).abs() < 0.005, "{}", priced.body);
    assert_bug4(&priced.body, &[(&banners, &dis_hours, 10), (&emails, &crm_hours, 4)]);

    let events = app.event_count().await;
    let bad = build(&app, &token, &id, json!({"rates": {"Wizard": 10.0}})).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "rates.Wizard");
    let bad = build(&app, &token, &id, json!({"rates": {"Designer": -1.0}})).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "rates.Designer");
    for currency in ["EURO", "E1", "€€€"] {
        let bad = build(&app, &token, &id, json!({"currency": currency})).await;
        assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "currency");
    }
    assert_eq!(app.event_count().await, events);

    // Changing a volume makes the card stale until it is rebuilt with the new volume.
    let patch = format!("/api/opportunities/{id}/assets/{banners}");
    let r = app.call(Method::PATCH, &patch, &token, Some(json!({"volume": 25}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.get(&card_uri, &token).await.body["stale"], true);
    let rebuilt = build(&app, &token, &id, json!({})).await;
    assert_eq!(rebuilt.body["stale"], false, "{}", rebuilt.body);
    assert_bug4(&rebuilt.body, &[(&banners, &dis_hours, 25), (&emails, &crm_hours, 4)]);
    assert_eq!(app.get(&card_uri, &token).await.body["stale"], false);

    // A model type the catalog has no hours for cannot be built, and the entry is named.
    let opp = format!("/api/opportunities/{id}");
    let r = app.call(Method::PATCH, &opp, &token, Some(json!({"model_type": "offshore-only"}))).await;
    assert_eq!(r.body["model_type"], "offshore-only", "{}", r.body);
    let r = build(&app, &token, &id, json!({})).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("GMAL-DIS-001") && detail.contains("offshore-only"), "{detail}");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_team_shape_applies_efficiency_but_never_to_programme_roles(pool: sqlx::PgPool) {
    let app = seeded(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Team shape").await;
    let programme = app.get("/api/catalog?category=Programme&limit=500", &token).await;
    let pgm = programme.body.as_array().unwrap().iter().find(|e| e["sub_category"] == "Programme Management");
    let pgm_id =
        pgm.expect("the Programme category has programme management")["catalog_id"].as_str().unwrap();
    let emails = add_asset(&app, &token, &id, "Emails", 3).await;
    let months = add_asset(&app, &token, &id, "Programme months", 6).await;
    choose(&app, &token, &id, &emails, "GMAL-CRM-001").await;
    choose(&app, &token, &id, &months, pgm_id).await;
    let card = build(&app, &token, &id, json!({})).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let by_role = card.body["totals"]["hours_by_role"].as_object().unwrap().clone();

    let uri = format!("/api/opportunities/{id}/efficiency-profile");
    let profile = json!({"scenario": "moderate", "blanket_pct": 20, "discipline_overrides": {"Creative": 40},
        "tools_applied": ["Firefly"], "notes": "AI-assisted design"});
    let r = app.post(&uri, &token, profile.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["scenario"], "moderate");
    assert_eq!(r.body["blanket_pct"].as_f64().unwrap(), 20.0);
    assert_eq!(r.body["tools_applied"], json!(["Firefly"]));
    assert_eq!(r.body["notes"], "AI-assisted design");
    assert_eq!(app.get(&uri, &token).await.body, r.body);
    let events = app.event_count().await;
    let mut bad = Vec::new();
    for (key, value, field) in [
        ("scenario", json!("reckless"), "scenario"),
        ("blanket_pct", json!(101), "blanket_pct"),
        ("blanket_pct", json!(-1), "blanket_pct"),
        ("discipline_overrides", json!({"Wizardry": 10}), "discipline_overrides.Wizardry"),
        ("discipline_overrides", json!({"Creative": 150}), "discipline_overrides.Creative"),
    ] {
        let mut body = profile.clone();
        body[key] = value;
        bad.push((body, field));
    }
    for (body, field) in bad {
        assert_problem(&app.post(&uri, &token, body).await, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    assert_eq!(app.event_count().await, events);

    let shape = |query: &str| {
        let uri = format!("/api/opportunities/{id}/team-shape{query}");
        let (app, token) = (&app, &token);
        async move { app.get(&uri, token).await }
    };
    let roles = |shape: &Value| -> BTreeMap<String, Value> {
        let mut roles = BTreeMap::new();
        for d in shape["disciplines"].as_array().unwrap() {
            for r in d["roles"].as_array().unwrap() {
                assert_eq!(r["discipline"], d["discipline"], "{d}");
                roles.insert(r["role"].as_str().unwrap().to_string(), r.clone());
            }
        }
        roles
    };
    let saved = shape("").await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let saved_roles = roles(&saved.body);
    assert_eq!(saved_roles.len(), by_role.len(), "one row per role: {}", saved.body);
    for (role, r) in &saved_roles {
        let hours = by_role[role].as_f64().unwrap();
        assert!(close(r["hours"].as_f64().unwrap(), hours), "hours = Σ base × volume: {r}");
        assert!(close(r["fte_before"].as_f64().unwrap(), hours / 1800.0), "{r}");
        let pct = r["efficiency_pct"].as_f64().unwrap();
        assert!(close(r["hours_after"].as_f64().unwrap(), hours * (1.0 - pct / 100.0)), "{r}");
        assert!(close(r["fte_after"].as_f64().unwrap(), hours * (1.0 - pct / 100.0) / 1800.0), "{r}");
    }
    let pct = |roles: &BTreeMap<String, Value>, role: &str| roles[role]["efficiency_pct"].as_f64().unwrap();
    assert_eq!(pct(&saved_roles, "Designer"), 40.0, "the saved Creative override");
    assert_eq!(pct(&saved_roles, "Developer"), 20.0, "the saved blanket figure");
    assert_eq!(pct(&saved_roles, "Account Manager"), 20.0);
    for role in ["Programme Director", "Head of Project Management", "Programme Manager"] {
        // The team shape spells disciplines in lower case, the rate card lines capitalised.
        let discipline = saved_roles[role]["discipline"].as_str().unwrap();
        assert!(discipline.eq_ignore_ascii_case("Programme"), "{discipline}");
        assert_eq!(pct(&saved_roles, role), 0.0, "{role} is never reduced");
    }
    let total: f64 = by_role.values().map(|v| v.as_f64().unwrap()).sum();
    assert!(close(saved.body["total_hours"].as_f64().unwrap(), total));
    assert!(close(
        saved.body["total_hours"].as_f64().unwrap(),
        card.body["totals"]["total_hours"].as_f64().unwrap()
    ));
    assert!(close(saved.body["total_fte_before"].as_f64().unwrap(), total / 1800.0));
    assert_eq!(saved.body["hours_per_fte"].as_f64().unwrap(), 1800.0);

    let asked = shape("?efficiency_pct=20&discipline_overrides=%7B%22Technology%22%3A50%7D").await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let asked_roles = roles(&asked.body);
    assert_eq!(pct(&asked_roles, "Developer"), 50.0, "an override beats the blanket figure");
    assert_eq!(pct(&asked_roles, "QA Analyst"), 50.0);
    assert_eq!(pct(&asked_roles, "Account Manager"), 20.0);
    assert_eq!(pct(&asked_roles, "Programme Manager"), 0.0);
    let all_in =
        shape("?efficiency_pct=100&discipline_overrides=%7B%22Creative%22%3A95%2C%22Programme%22%3A80%7D")
            .await;
    let all_in_roles = roles(&all_in.body);
    assert_eq!(pct(&all_in_roles, "Designer"), 90.0, "95 is applied as 90");
    assert_eq!(pct(&all_in_roles, "Developer"), 90.0, "a 100 blanket is applied as 90");
    assert_eq!(pct(&all_in_roles, "Programme Director"), 0.0);
    let designer = &all_in_roles["Designer"];
    assert!(close(designer["hours_after"].as_f64().unwrap(), by_role["Designer"].as_f64().unwrap() * 0.1));

    for (query, field) in [
        ("?discipline_overrides=%7Bnot-json", "discipline_overrides"),
        ("?discipline_overrides=%5B1%2C2%5D", "discipline_overrides"),
        ("?discipline_overrides=%7B%22Wizardry%22%3A10%7D", "discipline_overrides.Wizardry"),
        ("?efficiency_pct=101", "efficiency_pct"),
        ("?efficiency_pct=lots", "efficiency_pct"),
    ] {
        assert_problem(&shape(query).await, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn deal_status_persists_and_only_a_won_deal_is_handed_off(pool: sqlx::PgPool) {
    let app = seeded(pool).await;
    let admin = app.admin().await;
    let lost = app.create_opportunity(&admin, "Lost deal").await;
    let body = json!({"deal_status": "lost", "lessons_learned": "Priced out by an in-house team"});
    let r =
        app.call(Method::PUT, &format!("/api/opportunities/{lost}/deal-status"), &admin, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let detail = app.get(&format!("/api/opportunities/{lost}"), &admin).await;
    assert_eq!(detail.body["deal_status"], "lost");
    assert_eq!(detail.body["lessons_learned"], "Priced out by an in-house team");
    app.advance_to(&admin, &lost, 17).await;
    let handed_off = |page: &Value| -> Vec<Value> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event_type"] == "OpportunityHandedOff")
            .cloned()
            .collect()
    };
    let events = app.get(&format!("/api/opportunities/{lost}/events"), &admin).await;
    let history = events.body["events"].as_array().unwrap();
    assert!(history.iter().any(|e| e["payload"]["StageCompleted"]["stage"] == 16));
    assert!(handed_off(&events.body).is_empty(), "a lost deal is not handed off");

    let won = app.create_opportunity(&admin, "Won deal").await;
    let banners = add_asset(&app, &admin, &won, "Banners", 10).await;
    let emails = add_asset(&app, &admin, &won, "Emails", 4).await;
    choose(&app, &admin, &won, &banners, "GMAL-DIS-001").await;
    choose(&app, &admin, &won, &emails, "GMAL-CRM-001").await;
    let card = build(&app, &admin, &won, json!({})).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let profile = json!({"scenario": "conservative", "blanket_pct": 10});
    let r = app.post(&format!("/api/opportunities/{won}/efficiency-profile"), &admin, profile).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let shape = app.get(&format!("/api/opportunities/{won}/team-shape"), &admin).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/api/opportunities/{won}/deal-status"),
            &admin,
            Some(json!({"deal_status": "won"})),
        )
        .await;
    assert_eq!(r.body["deal_status"], "won", "{}", r.body);
    app.advance_to(&admin, &won, 17).await;

    let events = app.get(&format!("/api/opportunities/{won}/events"), &admin).await;
    let handoffs = handed_off(&events.body);
    assert_eq!(handoffs.len(), 1, "{}", events.body);
    let summary = &handoffs[0]["payload"]["OpportunityHandedOff"]["summary"];
    assert_eq!(summary["opportunity_name"], "Won deal", "{summary}");
    assert_eq!(summary["client_name"], "Halvorsen");
    assert_eq!(summary["asset_count"], 2);
    assert_eq!(summary["asset_volume"], 14);
    let hours = card.body["totals"]["total_hours"].as_f64().unwrap();
    assert!(
        close(summary["total_hours"].as_f64().unwrap(), hours),
        "the rate card's Σ base × volume: {summary}"
    );
    let fte = shape.body["total_fte_after"].as_f64().unwrap();
    assert!(close(summary["total_fte"].as_f64().unwrap(), fte), "FTEs after the saved profile: {summary}");
    assert!(fte < hours / 1800.0, "the profile took some hours off");
    let detail = app.get(&format!("/api/opportunities/{won}"), &admin).await;
    assert_eq!(detail.body["current_stage"], 17, "{}", detail.body);
}
