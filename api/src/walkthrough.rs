//! The main job: walks a brief through stages 1–16 over the real REST API (with the projector,
//! the NATS publishers and agent workers running in this process) and writes the proposal pack.
//!
//! The walk's own requests act as one dev identity (the owner, who requests the approvals). Nobody
//! decides their own gate, so each approval is decided by a distinct person: the walk signs that
//! approver in and decides through the decision route's own code, in this process, as them. No
//! request can choose its identity, so this opens nothing on a server.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::sync::watch;

use domain::ApprovalDecision;

use crate::config::{DevIdentity, Settings};
use crate::startup::AppState;

/// What the walk produced.
pub struct Outcome {
    pub opportunity_id: String,
    pub out_dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub summary: Value,
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.with_context(|| format!("{method} {path}"))?;
        if !response.status().is_success() {
            let status = response.status();
            bail!("{method} {path} answered {status}: {}", response.text().await.unwrap_or_default());
        }
        Ok(response)
    }
    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        Ok(self.send(method, path, body).await?.json().await?)
    }
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.json(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.json(reqwest::Method::POST, path, Some(body)).await
    }
    async fn bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.send(reqwest::Method::GET, path, None).await?.bytes().await?.to_vec())
    }
}

/// Runs the walk: `progress` receives one line per step.
pub async fn run(
    mut settings: Settings,
    pool: PgPool,
    nats: async_nats::Client,
    brief: &Path,
    out_dir: &Path,
    progress: impl Fn(&str),
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let text = std::fs::read(brief).with_context(|| format!("reading the brief {}", brief.display()))?;
    settings.dev_identity = Some(DevIdentity {
        email: "walkthrough@osop.local".into(),
        name: "OSOP walkthrough".into(),
        role: crate::auth::Role::Admin,
    });
    let state = AppState::new(settings, pool, Some(nats));
    let (stop, stopped) = watch::channel(false);
    state.spawn_projector(stopped.clone());
    state.spawn_publishers(stopped.clone());
    crate::agents::workers::spawn(&state, 2, stopped)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = state.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let api = Client { http: reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?, base };
    let result = walk(&api, &state, &text, brief, out_dir, &progress).await;
    let _ = stop.send(true);
    let mut outcome = result?;
    outcome.summary["wall_seconds"] = json!((started.elapsed().as_secs_f64() * 100.0).round() / 100.0);
    let summary = outcome.out_dir.join("summary.json");
    std::fs::write(&summary, serde_json::to_string_pretty(&outcome.summary)? + "\n")?;
    outcome.files.push(summary);
    Ok(outcome)
}

/// The person who decides the walk's approvals for `role` (an editor; never the requester).
async fn approver(state: &AppState, role: &str) -> anyhow::Result<crate::auth::User> {
    let email = format!("{}.approver@osop.local", role.replace('_', "-"));
    let name = format!("Walkthrough {} approver", role.replace('_', " "));
    Ok(state.users.sign_in(&email, &name, Some(crate::auth::Role::Editor)).await?)
}

async fn walk(
    api: &Client,
    state: &AppState,
    text: &[u8],
    brief: &Path,
    out: &Path,
    progress: &impl Fn(&str),
) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    let mut save = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = out.join(name);
        std::fs::write(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    let title = String::from_utf8_lossy(text)
        .lines()
        .find(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim().to_string());
    let name = title.unwrap_or_else(|| brief.file_stem().unwrap_or_default().to_string_lossy().to_string());
    let opp = api.post("/api/opportunities", json!({"name": name})).await?;
    let id = opp["id"].as_str().context("no opportunity id")?.to_string();
    let o = format!("/api/opportunities/{id}");
    progress(&format!("created opportunity {name:?} ({id})"));
    let filename = brief.file_name().unwrap_or_default().to_string_lossy().to_string();
    let part = reqwest::multipart::Part::bytes(text.to_vec()).file_name(filename);
    api.http
        .post(format!("{}{o}/files", api.base))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await?
        .error_for_status()
        .context("uploading the brief")?;
    progress("uploaded the brief");

    let agent = |path: &'static str| {
        let o = o.clone();
        async move {
            let run = api.post(&format!("{o}/{path}?wait=120"), json!({})).await?;
            let status = run["status"].as_str().unwrap_or("?").to_string();
            let detail = match status.as_str() {
                "succeeded" => format!("{} (model {})", status, run["model"].as_str().unwrap_or("?")),
                _ => format!("{status}: {}", run["failure"].as_str().unwrap_or("still running")),
            };
            anyhow::Ok((run, detail))
        }
    };
    let complete = |n: u8| {
        let o = o.clone();
        async move { api.post(&format!("{o}/stages/{n}/complete"), json!({})).await.map(|_| ()) }
    };
    let approve = |n: u8, role: &'static str| {
        let o = o.clone();
        async move {
            let person = approver(state, role).await?;
            let a = api
                .post(
                    &format!("{o}/stages/{n}/approvals"),
                    json!({"role": role, "approver_email": person.email}),
                )
                .await?;
            let aid = a["id"].as_str().and_then(|id| id.parse().ok()).context("approval id")?;
            let notes = Some("Approved in the walkthrough".to_string());
            crate::http::approvals::decide_as(state, &person, aid, ApprovalDecision::Approve, notes).await?;
            anyhow::Ok(person.email)
        }
    };

    let (_, d) = agent("intake").await?;
    complete(1).await?;
    progress(&format!("stage 1  intake: {d}"));
    let (_, d) = agent("diagnose").await?;
    complete(2).await?;
    let clarifications = api.get(&format!("{o}/clarifications")).await?;
    progress(&format!(
        "stage 2  diagnosis: {d}; {} clarifications",
        clarifications.as_array().map_or(0, Vec::len)
    ));
    let q = api.post(&format!("{o}/qualification"),
        json!({"timing": 7, "relationship": 6, "opportunity": 8, "what_we_know": 6, "location": 7, "sector": 7,
               "notes": "Scored by the walkthrough"})).await?;
    let by = approve(3, "commercial").await?;
    complete(3).await?;
    progress(&format!(
        "stage 3  qualification: {}% {} (approved by {by})",
        q["latest"]["percentage"],
        q["latest"]["recommendation"].as_str().unwrap_or("")
    ));
    save("qa-pack.xlsx", &api.bytes(&format!("{o}/qa-pack/excel")).await?)?;
    save("qa-pack.docx", &api.bytes(&format!("{o}/qa-pack/word")).await?)?;
    complete(4).await?;
    progress("stage 4  Q&A pack: qa-pack.xlsx, qa-pack.docx");
    complete(5).await?;
    progress("stage 5  client answers: none yet (the pack is with the client)");
    let (_, d) = agent("assets/normalize").await?;
    complete(6).await?;
    let assets = api.get(&format!("{o}/assets")).await?;
    progress(&format!("stage 6  assets: {d}; {} assets", assets.as_array().map_or(0, Vec::len)));
    let (_, d) = agent("match").await?;
    let matches = api.get(&format!("{o}/matches")).await?;
    // Where the matcher was not sure enough to select, take its first candidate.
    let mut chosen = std::collections::BTreeSet::new();
    for m in matches.as_array().into_iter().flatten() {
        if m["is_selected"] == true {
            chosen.insert(m["asset_id"].to_string());
        }
    }
    for m in matches.as_array().into_iter().flatten() {
        let asset = m["asset_id"].to_string();
        if !chosen.contains(&asset) && m["confidence_score"].as_f64().unwrap_or(0.0) >= 0.3 {
            api.json(
                reqwest::Method::PUT,
                &format!("{o}/matches/{}", m["id"].as_str().unwrap_or("")),
                Some(json!({"is_selected": true})),
            )
            .await?;
            chosen.insert(asset);
        }
    }
    complete(7).await?;
    progress(&format!(
        "stage 7  matching: {d}; {} of {} assets matched",
        chosen.len(),
        assets.as_array().map_or(0, Vec::len)
    ));
    let card = api.post(&format!("{o}/ratecard/build"), json!({})).await?;
    save("ratecard.xlsx", &api.bytes(&format!("{o}/ratecard/excel")).await?)?;
    complete(8).await?;
    let hours = card["totals"]["total_hours"].as_f64().unwrap_or(0.0);
    progress(&format!(
        "stage 8  rate card: {} lines, {hours:.1} hours",
        card["lines"].as_array().map_or(0, Vec::len)
    ));
    let (_, d) = agent("delivery-model").await?;
    complete(9).await?;
    progress(&format!("stage 9  delivery model: {d}"));
    api.post(
        &format!("{o}/efficiency-profile"),
        json!({"scenario": "moderate", "blanket_pct": 20,
        "discipline_overrides": {"Creative": 25, "Production": 30}, "tools_applied": ["Pencil", "Creative-X"],
        "notes": "Walkthrough default"}),
    )
    .await?;
    complete(10).await?;
    progress("stage 10 efficiency: moderate (20 % blanket; Creative 25 %, Production 30 %)");
    let shape = api.get(&format!("{o}/team-shape")).await?;
    save("team-shape.json", (serde_json::to_string_pretty(&shape)? + "\n").as_bytes())?;
    complete(11).await?;
    progress(&format!(
        "stage 11 team shape: {:.2} FTE after efficiency ({:.2} before)",
        shape["total_fte_after"].as_f64().unwrap_or(0.0),
        shape["total_fte_before"].as_f64().unwrap_or(0.0)
    ));
    let (_, d) = agent("capability-gaps").await?;
    complete(12).await?;
    progress(&format!("stage 12 capability gaps: {d}"));
    let (docs, d) = agent("support-docs").await?;
    if docs["status"] == "succeeded" {
        save("support-docs.json", (serde_json::to_string_pretty(&docs["output"])? + "\n").as_bytes())?;
    }
    complete(13).await?;
    progress(&format!("stage 13 support docs: {d}"));
    let delivery = approve(14, "delivery").await?;
    let deal_desk = approve(14, "deal_desk").await?;
    complete(14).await?;
    progress(&format!("stage 14 approvals: delivery ({delivery}) and deal desk ({deal_desk}) approved"));
    let (pitch, d) = agent("pitch-deck").await?;
    save("pitch-deck.md", &api.bytes(&format!("{o}/pitch-deck/markdown")).await?)?;
    if pitch["status"] == "succeeded" {
        save("pitch-outline.md", &api.bytes(&format!("{o}/pitch-deck/outline-markdown")).await?)?;
    }
    complete(15).await?;
    progress(&format!("stage 15 pitch: {d}"));
    api.json(reqwest::Method::PUT, &format!("{o}/deal-status"), Some(json!({"deal_status": "won"}))).await?;
    let (plan, d) = agent("implementation-plan").await?;
    if plan["status"] == "succeeded" {
        save("implementation-plan.json", (serde_json::to_string_pretty(&plan["output"])? + "\n").as_bytes())?;
    }
    complete(16).await?;
    progress(&format!("stage 16 delivery plan (deal won): {d}; handed off"));

    let costs = api.get(&format!("{o}/costs")).await?;
    save("costs.json", (serde_json::to_string_pretty(&costs)? + "\n").as_bytes())?;
    // The full history, read a page at a time.
    let mut history = Vec::new();
    let mut after = 0;
    loop {
        let page = api.get(&format!("{o}/events?after={after}&limit=1000")).await?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            break;
        }
        history.extend(events);
        after = page["next_after"].as_i64().ok_or_else(|| anyhow::anyhow!("a page without next_after"))?;
    }
    let events = Value::Array(history);
    save("events.json", (serde_json::to_string_pretty(&events)? + "\n").as_bytes())?;
    let detail = api.get(&o).await?;
    let summary = json!({
        "opportunity_id": id,
        "opportunity": detail["name"],
        "client": detail["client_name"],
        "current_stage": detail["current_stage"],
        "deal_status": detail["deal_status"],
        "qualification_score": detail["qualification_score"],
        "clarifications": clarifications.as_array().map_or(0, Vec::len),
        "assets": assets.as_array().map_or(0, Vec::len),
        "matched_assets": chosen.len(),
        "ratecard_hours": hours,
        "fte_after_efficiency": shape["total_fte_after"],
        "agent_runs": costs["runs"],
        "agent_cost_usd": costs["total_cost_usd"],
        "events": events.as_array().map_or(0, Vec::len),
    });
    Ok(Outcome { opportunity_id: id, out_dir: out.to_path_buf(), files, summary })
}
