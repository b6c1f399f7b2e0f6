//! The commercial pipeline over REST: TROWLS qualification, clarifications, assets, catalog matches and time travel.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

/// The app after a real start-up migration, which seeds the default catalog as version 1.
async fn seeded(pool: sqlx::PgPool) -> TestApp {
    api::startup::migrate(&pool).await.unwrap();
    TestApp::new(pool).await
}

fn scores(values: [i64; 6]) -> Value {
    let [timing, relationship, opportunity, what_we_know, location, sector] = values;
    json!({"timing": timing, "relationship": relationship, "opportunity": opportunity,
        "what_we_know": what_we_know, "location": location, "sector": sector, "notes": "scored in a test"})
}

async fn add_asset(app: &TestApp, token: &str, id: &str, name: &str, volume: i64) -> String {
    let body =
        json!({"raw_name": name, "raw_description": "from the brief", "client_tier": "T1", "volume": volume});
    let r = app.post(&format!("/api/opportunities/{id}/assets"), token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Two real catalog ids, as the catalog search lists them.
async fn two_catalog_ids(app: &TestApp, token: &str) -> (String, String) {
    let r = app.get("/api/catalog?q=banner&limit=5", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids: Vec<String> =
        r.body.as_array().unwrap().iter().map(|e| e["catalog_id"].as_str().unwrap().to_string()).collect();
    assert!(ids.len() >= 2, "the default catalog lists banners: {ids:?}");
    (ids[0].clone(), ids[1].clone())
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn trowls_scores_follow_the_50_and_60_percent_thresholds(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Qualify me").await;
    let uri = format!("/api/opportunities/{id}/qualification");
    let empty = app.get(&uri, &token).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body, json!({"latest": null, "history": []}));

    let cases = [
        ([5, 5, 5, 5, 5, 4], 29, 48.33, "no_go"),
        ([5, 5, 5, 5, 5, 5], 30, 50.0, "slt_review"),
        ([6, 6, 6, 6, 6, 5], 35, 58.33, "slt_review"),
        ([6, 6, 6, 6, 6, 6], 36, 60.0, "proceed"),
    ];
    for (n, (values, total, pct, recommendation)) in cases.into_iter().enumerate() {
        let r = app.post(&uri, &token, scores(values)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let latest = &r.body["latest"];
        assert_eq!(latest["total"], total, "{}", r.body);
        assert_eq!(latest["percentage"].as_f64().unwrap(), pct, "{}", r.body);
        assert_eq!(latest["recommendation"], recommendation, "{}", r.body);
        assert_eq!(latest["timing"], values[0]);
        assert_eq!(latest["sector"], values[5]);
        assert_eq!(latest["notes"], "scored in a test");
        assert_eq!(latest["scored_by"], "editor@agency.test");
        // Re-scoring keeps every earlier scorecard, newest first.
        let history = r.body["history"].as_array().unwrap();
        assert_eq!(history.len(), n + 1, "{}", r.body);
        assert_eq!(&history[0], latest);
        let versions: Vec<i64> = history.iter().map(|h| h["version"].as_i64().unwrap()).collect();
        assert!(versions.windows(2).all(|w| w[0] > w[1]), "newest first: {versions:?}");

        let detail = app.get(&format!("/api/opportunities/{id}"), &token).await;
        assert_eq!(detail.body["qualification_total"], total);
        assert_eq!(detail.body["qualification_score"].as_f64().unwrap(), pct);
        assert_eq!(detail.body["qualification_recommendation"], recommendation);
        assert_eq!(detail.body["version"], latest["version"], "the scorecard's version is the opportunity's");
    }
    let read = app.get(&uri, &token).await;
    assert_eq!(read.body["history"].as_array().unwrap().len(), 4);
    assert_eq!(read.body["history"][3]["total"], 29, "the oldest is last");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn trowls_rejects_missing_out_of_range_and_non_integer_scores(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Bad scores").await;
    let uri = format!("/api/opportunities/{id}/qualification");
    let events = app.event_count().await;
    let mut cases: Vec<(Value, &str)> = Vec::new();
    for field in ["timing", "relationship", "opportunity", "what_we_know", "location", "sector"] {
        let mut missing = scores([5; 6]);
        missing.as_object_mut().unwrap().remove(field);
        cases.push((missing, field));
        for bad in [json!(11), json!(-1), json!(3.5), json!("7"), json!(null)] {
            let mut body = scores([5; 6]);
            body[field] = bad;
            cases.push((body, field));
        }
    }
    for (body, field) in cases {
        let r = app.post(&uri, &token, body.clone()).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    assert_eq!(app.event_count().await, events, "a rejected scorecard records nothing");

    let viewer = app.login("viewer@agency.test", "viewer").await;
    let r = app.post(&uri, &viewer, scores([5; 6])).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "");
    assert_eq!(app.event_count().await, events);
    let read = app.get(&uri, &viewer).await;
    assert_eq!(read.body, json!({"latest": null, "history": []}));
    let unknown = format!("/api/opportunities/{}/qualification", uuid::Uuid::new_v4());
    assert_problem(&app.post(&unknown, &token, scores([5; 6])).await, StatusCode::NOT_FOUND, "");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn clarifications_are_answered_dismissed_reopened_and_listed_red_first(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Questions").await;
    let other = app.create_opportunity(&token, "Other").await;
    let uri = format!("/api/opportunities/{id}/clarifications");
    let mut ids = Vec::new();
    for (priority, question) in [("green", "Nice to know?"), ("red", "Budget?"), ("amber", "Markets?")] {
        let body = json!({"category": "Scope", "question": question, "rationale": "The brief is silent",
            "priority": priority});
        let r = app.post(&uri, &token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["status"], "pending");
        assert_eq!(r.body["source_stage"], 5);
        assert_eq!(r.body["priority"], priority);
        assert_eq!(r.body["question"], question);
        assert!(r.body["answered_at"].is_null());
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let list = app.get(&uri, &token).await;
    let order: Vec<&str> =
        list.body.as_array().unwrap().iter().map(|c| c["priority"].as_str().unwrap()).collect();
    assert_eq!(order, ["red", "amber", "green"]);

    let events = app.event_count().await;
    let bad = [
        (json!({"category": "Scope", "question": "Q", "priority": "purple"}), "priority"),
        (json!({"category": "Scope", "question": "   ", "priority": "red"}), "question"),
        (json!({"category": "", "question": "Q"}), "category"),
    ];
    for (body, field) in bad {
        assert_problem(&app.post(&uri, &token, body).await, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    assert_eq!(app.event_count().await, events);

    let one = format!("{uri}/{}", ids[1]);
    let put = |body: Value| app.call(Method::PUT, &one, &token, Some(body));
    let answered = put(json!({"client_answer": "EUR 2m"})).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    assert_eq!(answered.body["status"], "answered");
    assert_eq!(answered.body["client_answer"], "EUR 2m");
    assert!(answered.body["answered_at"].is_string(), "{}", answered.body);

    let dismissed = put(json!({"status": "dismissed", "dismissal_reason": "Out of scope"})).await;
    assert_eq!(dismissed.body["status"], "dismissed", "{}", dismissed.body);
    assert_eq!(dismissed.body["dismissal_reason"], "Out of scope");

    let reopened = put(json!({"status": "pending"})).await;
    assert_eq!(reopened.body["status"], "pending", "{}", reopened.body);
    assert!(reopened.body["answered_at"].is_null(), "{}", reopened.body);
    assert!(reopened.body["dismissal_reason"].is_null(), "{}", reopened.body);

    assert_problem(
        &put(json!({"status": "answered"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "client_answer",
    );
    assert_problem(&put(json!({"status": "closed"})).await, StatusCode::UNPROCESSABLE_ENTITY, "status");
    let foreign = app
        .call(
            Method::PUT,
            &format!("/api/opportunities/{other}/clarifications/{}", ids[1]),
            &token,
            Some(json!({"client_answer": "Sneaky"})),
        )
        .await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "");
    let unchanged = app.get(&uri, &token).await;
    assert_eq!(unchanged.body[0]["status"], "pending", "{}", unchanged.body);
    assert!(app.get(&format!("/api/opportunities/{other}/clarifications"), &token).await.body == json!([]));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn assets_take_whole_positive_volumes_and_stay_in_their_opportunity(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Assets").await;
    let other = app.create_opportunity(&token, "Other").await;
    let uri = format!("/api/opportunities/{id}/assets");
    let body =
        json!({"raw_name": "Hero banner", "raw_description": "300x250", "client_tier": "T1", "volume": 12});
    let r = app.post(&uri, &token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["raw_name"], "Hero banner");
    assert_eq!(r.body["raw_description"], "300x250");
    assert_eq!(r.body["client_tier"], "T1");
    assert_eq!(r.body["volume"], 12);
    let asset = r.body["id"].as_str().unwrap().to_string();

    let events = app.event_count().await;
    for bad in [json!(0), json!(-3), json!(2.5), json!("ten")] {
        let r = app.post(&uri, &token, json!({"raw_name": "Banner", "volume": bad})).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "volume");
        let p =
            app.call(Method::PATCH, &format!("{uri}/{asset}"), &token, Some(json!({"volume": bad}))).await;
        assert_problem(&p, StatusCode::UNPROCESSABLE_ENTITY, "volume");
    }
    assert_eq!(app.event_count().await, events);

    let patched =
        app.call(Method::PATCH, &format!("{uri}/{asset}"), &token, Some(json!({"volume": 40}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["volume"], 40);
    assert_eq!(patched.body["raw_name"], "Hero banner", "only the volume changes");
    assert_eq!(app.get(&uri, &token).await.body[0]["volume"], 40);

    // Another opportunity's path never reaches this asset.
    let foreign = format!("/api/opportunities/{other}/assets/{asset}");
    let p = app.call(Method::PATCH, &foreign, &token, Some(json!({"volume": 2}))).await;
    assert_problem(&p, StatusCode::NOT_FOUND, "");
    assert_problem(&app.call(Method::DELETE, &foreign, &token, None).await, StatusCode::NOT_FOUND, "");
    let m = app.post(&format!("{foreign}/match"), &token, json!({"catalog_id": "GMAL-DIS-001"})).await;
    assert_problem(&m, StatusCode::NOT_FOUND, "");
    assert_eq!(app.get(&uri, &token).await.body.as_array().unwrap().len(), 1);

    let deleted = app.call(Method::DELETE, &format!("{uri}/{asset}"), &token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let again = app.call(Method::DELETE, &format!("{uri}/{asset}"), &token, None).await;
    assert_problem(&again, StatusCode::NOT_FOUND, "");
    let gone = app.call(Method::PATCH, &format!("{uri}/{asset}"), &token, Some(json!({"volume": 2}))).await;
    assert_problem(&gone, StatusCode::NOT_FOUND, "");
    assert_eq!(app.get(&uri, &token).await.body, json!([]));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_hand_picked_match_is_the_only_selection_of_its_asset(pool: sqlx::PgPool) {
    let app = seeded(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Matches").await;
    let other = app.create_opportunity(&token, "Other").await;
    let asset = add_asset(&app, &token, &id, "Banner", 3).await;
    let neighbour = add_asset(&app, &token, &id, "Neighbour", 1).await;
    let (first, second) = two_catalog_ids(&app, &token).await;
    let choose = |asset: &str, catalog_id: &str| {
        let uri = format!("/api/opportunities/{id}/assets/{asset}/match");
        let body = json!({"catalog_id": catalog_id});
        let (app, token) = (&app, &token);
        async move { app.post(&uri, token, body).await }
    };

    let r = choose(&asset, &first).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let matches = r.body.as_array().unwrap();
    assert_eq!(matches.len(), 1, "{}", r.body);
    assert_eq!(matches[0]["catalog_id"], first.as_str());
    assert_eq!(matches[0]["confidence"], "manual");
    assert_eq!(matches[0]["is_selected"], true);
    assert_eq!(matches[0]["asset_id"], asset.as_str());
    let first_match = matches[0]["id"].as_str().unwrap().to_string();
    let n = choose(&neighbour, &first).await;
    assert_eq!(n.body[0]["is_selected"], true, "{}", n.body);

    let unknown = choose(&asset, "GMAL-NOPE-999").await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "catalog_id");

    let r = choose(&asset, &second).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let matches = r.body.as_array().unwrap();
    assert_eq!(matches.len(), 2, "the first choice is still listed: {}", r.body);
    let selected: Vec<&Value> = matches.iter().filter(|m| m["is_selected"] == true).collect();
    assert_eq!(selected.len(), 1, "one selection per asset: {}", r.body);
    assert_eq!(selected[0]["catalog_id"], second.as_str());
    let second_match = selected[0]["id"].as_str().unwrap().to_string();
    let older = matches.iter().find(|m| m["id"] == first_match.as_str()).expect("the first match is kept");
    assert_eq!(older["is_selected"], false);

    let select = |match_id: &str, on: bool| {
        let uri = format!("/api/opportunities/{id}/matches/{match_id}");
        let (app, token) = (&app, &token);
        async move { app.call(Method::PUT, &uri, token, Some(json!({"is_selected": on}))).await }
    };
    let r = select(&first_match, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let state: Vec<(String, bool)> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m["is_selected"].as_bool().unwrap()))
        .collect();
    assert!(state.contains(&(first_match.clone(), true)), "{state:?}");
    assert!(state.contains(&(second_match.clone(), false)), "the sibling is deselected: {state:?}");

    let all = app.get(&format!("/api/opportunities/{id}/matches"), &token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let all = all.body.as_array().unwrap();
    assert_eq!(all.len(), 3, "two for the asset, one for its neighbour");
    assert!(all.iter().all(|m| m["gmal_id"] == m["catalog_id"]), "the seed names the entry gmal_id: {all:?}");
    assert_eq!(all.iter().filter(|m| m["asset_id"] == asset.as_str() && m["is_selected"] == true).count(), 1);
    assert!(
        all.iter().any(|m| m["asset_id"] == neighbour.as_str() && m["is_selected"] == true),
        "another asset's selection is untouched"
    );

    let cleared = select(&first_match, false).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert!(cleared.body.as_array().unwrap().iter().all(|m| m["is_selected"] == false), "{}", cleared.body);
    assert_eq!(cleared.body.as_array().unwrap().len(), 2, "clearing keeps the candidates");

    let foreign = app
        .call(
            Method::PUT,
            &format!("/api/opportunities/{other}/matches/{first_match}"),
            &token,
            Some(json!({"is_selected": true})),
        )
        .await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "");
    let missing = select(&uuid::Uuid::new_v4().to_string(), true).await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn as_of_version_replays_the_first_scorecard_exactly(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.editor().await;
    let id = app.create_opportunity(&token, "Time travel").await;
    let uri = format!("/api/opportunities/{id}");
    let first = app.post(&format!("{uri}/qualification"), &token, scores([2, 3, 4, 5, 6, 7])).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let live_after_first = app.get(&uri, &token).await.body;
    let version = live_after_first["version"].as_i64().unwrap();
    assert_eq!(live_after_first["qualification_total"], 27);

    let second = app.post(&format!("{uri}/qualification"), &token, scores([10; 6])).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let head = app.get(&uri, &token).await.body;
    assert_eq!(head["qualification_total"], 60);
    assert_eq!(head["qualification_recommendation"], "proceed");

    let past = app.get(&format!("{uri}?as_of_version={version}"), &token).await;
    assert_eq!(past.status, StatusCode::OK, "{}", past.body);
    assert_eq!(past.body["qualification_total"], 27);
    assert_eq!(past.body["qualification_score"].as_f64().unwrap(), 45.0);
    assert_eq!(past.body["qualification_recommendation"], "no_go");
    assert_eq!(past.body, live_after_first, "the replay matches what the live view showed then");
    let now = app.get(&format!("{uri}?as_of_version={}", head["version"]), &token).await;
    assert_eq!(now.body, head);
    let before = app.get(&format!("{uri}?as_of_version={}", version - 1), &token).await;
    assert!(before.body["qualification_total"].is_null(), "{}", before.body);
}
