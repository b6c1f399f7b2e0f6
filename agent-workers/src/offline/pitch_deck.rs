//! Stage 15 offline (the pitch deck agent, tool `submit_pitch_deck_outline`): a client-facing,
//! slide-by-slide outline built from what the platform has produced.
//!
//! Rules: 8–12 slides in the section flow cover → context → approach → scope → team → commercials →
//! governance → next_steps; 3–6 short key points per slide, prose in the speaker notes; data
//! callouts carry real numbers (brands, markets, deliverables, asset lines and yearly volume,
//! questions, AI-supported stages, SLAs and KPIs, qualification score). A slide whose data is absent
//! (no assets, no markets, no brief read) is left out. The delivery model, capability gaps and
//! support docs are the upstream artifacts when recorded, else derived with the offline rules (the
//! summary says which), so eight slides can always be built truthfully.

use regex::Regex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::capability_gaps::{capability_gaps, Gap};
use super::delivery_model::{delivery_model, diagnosis_of, upstream, Approach, Headline, WorkflowStage};
use super::diagnosis::Deliverable;
use super::markets::{place, waves};
use super::support_docs::{support_docs, Sla};
use super::text::{self, Milestone};
use crate::provider::{AgentInputs, InputAsset};
use domain::clarification::Priority;

/// A slide's place in the deck's flow; serialises in snake_case (`next_steps`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Title slide.
    Cover,
    /// What the client asked and what is open.
    Context,
    /// How the work is delivered.
    Approach,
    /// What is delivered, where.
    Scope,
    /// Who delivers it.
    Team,
    /// How it is priced.
    Commercials,
    /// Service levels, KPIs and ways of working.
    Governance,
    /// What happens next.
    NextSteps,
}

/// One slide of the outline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slide {
    /// Where the slide sits in the flow.
    pub section: Section,
    /// The slide title.
    pub title: String,
    /// Three to six short bullets.
    pub key_points: Vec<String>,
    /// What the presenter says.
    pub speaker_notes: String,
    /// The slide's headline number, when the platform has one.
    pub data_callout: Option<String>,
}

/// The pitch deck agent's output, with the seed's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitchDeckOutput {
    /// The deck's one-line promise.
    pub headline: String,
    /// What the deck covers and what it was built from.
    pub deck_summary: String,
    /// Eight to twelve slides in section order.
    pub slides: Vec<Slide>,
    /// Backing material to attach.
    pub appendix: Vec<String>,
}

/// Slides in the making; `add` keeps 3–6 points, topping a thin slide up from [`FILL`].
#[derive(Default)]
struct Deck(Vec<Slide>);

impl Deck {
    fn add(
        &mut self,
        section: Section,
        title: &str,
        points: Vec<String>,
        notes: String,
        call: Option<String>,
    ) {
        let mut key_points = text::unique(points.into_iter().filter(|p| !p.trim().is_empty()));
        let fill = FILL.iter().find(|(s, t, _)| *s == section && title.starts_with(t)).map_or("", |f| f.2);
        let fill = fill.split('|').filter(|f| !f.is_empty()).map(str::to_string);
        key_points.extend(fill.take(3usize.saturating_sub(key_points.len())));
        key_points.truncate(6);
        let (title, speaker_notes, data_callout) = (title.to_string(), notes, call);
        self.0.push(Slide { section, title, key_points, speaker_notes, data_callout });
    }
}

/// The first `n` items joined with `sep`, then how many more.
fn some(items: &[String], n: usize, sep: &str) -> String {
    let more = when(items.len() > n, || format!(" and {} more", items.len() - n));
    format!("{}{more}", items.iter().take(n).cloned().collect::<Vec<_>>().join(sep))
}

/// `text` when `cond`, else "" (dropped by [`Deck::add`]).
fn when(cond: bool, text: impl FnOnce() -> String) -> String {
    cond.then(text).unwrap_or_default()
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn field(o: &Value, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn list(o: &Value, key: &str) -> Vec<String> {
    let items = o.get(key).and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    items.iter().filter_map(|v| v.as_str().map(Into::into)).collect()
}

/// The brief's own statement of its problem: the first sentences of its background section.
fn background(documents: &str) -> Option<String> {
    let found: Vec<String> = text::segments(documents)
        .into_iter()
        .filter(|s| s.heading.to_lowercase().contains("background"))
        .map(|s| s.text)
        .take(3)
        .collect();
    (!found.is_empty()).then(|| text::quote(&found.join(" "), 300))
}

/// The brief's budget clause and its amount ("EUR 4.2m"), if it states one.
fn budget(documents: &str) -> (Option<String>, Option<String>) {
    let segments = text::segments(documents);
    let mut clauses = segments.iter().flat_map(|s| s.text.split(';')).map(|c| c.trim().trim_end_matches('.'));
    let clause =
        clauses.find(|c| c.to_lowercase().contains("budget") && c.chars().any(|ch| ch.is_ascii_digit()));
    let clause = clause.map(str::to_string);
    let amount = Regex::new(r"(?:EUR|GBP|USD|€|£|\$)\s?\d[\d.,]*\s?(?:m|k|bn|million)?\b").expect("valid");
    let found = clause.as_deref().and_then(|c| amount.find(c)).map(|m| m.as_str().to_string());
    (clause, found)
}

/// The upstream artifact `agent` when recorded, else `derive` run on the same inputs (noted in
/// `derived` with spaces for underscores).
fn recorded_or<T: DeserializeOwned>(
    inputs: &AgentInputs,
    agent: &str,
    derive: fn(&AgentInputs) -> T,
    derived: &mut Vec<String>,
) -> T {
    upstream(inputs, agent).unwrap_or_else(|| {
        derived.push(agent.replace('_', " "));
        derive(inputs)
    })
}

/// Generic but true points that top a thin slide up to three: section, title prefix, points.
const FILL: &[(Section, &str, &str)] = &[
    (Section::Cover, "", "Outline built from the platform's current data"),
    (Section::Context, "What we heard", "Our reading, to confirm with you|Full diagnosis in the appendix"),
    (Section::Context, "What we still", "Markets, volumes and turnaround set the price|All in the Q&A pack"),
    (Section::Approach, "Delivery", "Origination and mastering stay manual|A person reviews AI output"),
    (Section::Scope, "Scope", "Volumes are per year|One rate-card line per asset"),
    (Section::Scope, "Markets", "Masters made once, adapted for every market"),
    (Section::Commercials, "", "Assumptions and exclusions in the appendix|Rate card per asset line"),
    (Section::Governance, "Service", "Two rounds of amends standard|Briefs acknowledged in 24–48 hours"),
    (Section::Governance, "Ways", "Weekly status, monthly review|Written change control|Escalation path"),
    (Section::NextSteps, "", "Agree mobilisation within four weeks of award|Confirm team and partners"),
];

/// Composes the outline (see the module rules). Never fails; always 8–12 slides.
pub fn pitch_deck(inputs: &AgentInputs) -> PitchDeckOutput {
    use Section as S;
    let (o, d, docs_text) = (&inputs.opportunity, diagnosis_of(inputs), inputs.documents.as_str());
    let mut derived = Vec::new();
    let model = recorded_or(inputs, "delivery_model", delivery_model, &mut derived);
    let gaps = recorded_or(inputs, "capability_gaps", capability_gaps, &mut derived);
    let docs = recorded_or(inputs, "support_docs", support_docs, &mut derived);
    let intake = inputs.artifacts.get("intake").cloned().unwrap_or(Value::Null);
    let client = field(o, "client_name").or_else(|| field(&intake, "client_name"));
    let brands = Some(list(o, "brands")).filter(|b| !b.is_empty()).unwrap_or_else(|| list(&intake, "brands"));
    let name = field(o, "name").or_else(|| text::title(docs_text)).unwrap_or_else(|| "Proposal".into());
    let who = client.clone().unwrap_or_else(|| "the client".into());
    let (lead, fast, tail) = waves(docs_text, &d.markets);
    let first = lead.as_deref().map_or("the lead market".into(), place);
    let phrase = match model.headline {
        Headline::Hybrid => "crafted masters, AI-supported adaptation",
        Headline::AiSupported => "AI-supported production at scale",
        Headline::Traditional => "craft-led production",
    };
    let names = |keep: &dyn Fn(&WorkflowStage) -> bool| -> Vec<String> {
        model.workflow_stages.iter().filter(|w| keep(w)).map(|w| w.stage.clone()).collect()
    };
    let ai = names(&|w| w.approach == Approach::AiSupported);
    let craft = |w: &WorkflowStage| !w.stage.starts_with("Briefing") && !w.stage.starts_with("Brand QA");
    let crafted = names(&|w| w.approach == Approach::Manual && craft(w));
    let markets = when(!d.markets.is_empty(), || plural(d.markets.len(), "market"));
    let mut deck = Deck::default();

    let callout = [when(!brands.is_empty(), || plural(brands.len(), "brand")), markets.clone()];
    let callout = Some(callout.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · "));
    let notes = background(docs_text).map_or_else(
        || format!("Open with what {who} wants to change; our reading: {}", text::quote(&d.summary, 200)),
        |b| format!("Open with what {who} wants to change, in their words: “{b}”"),
    );
    let points = vec![
        when(!brands.is_empty(), || format!("Brands: {}", brands.join(", "))),
        field(o, "region").map_or(String::new(), |r| format!("Region: {r}")),
        format!("Our answer: {phrase}"),
        format!("Prepared by OLIVER for {who}"),
    ];
    let title = client.as_ref().map_or(name.clone(), |c| format!("{c}: {name}"));
    deck.add(S::Cover, &title, points, notes, callout.filter(|c| !c.is_empty()));

    if !(d.deliverables.is_empty() && d.markets.is_empty() && d.channels.is_empty()) {
        let categories = text::unique(d.deliverables.iter().map(|x| x.category.clone()));
        let (n, c, m) = (d.deliverables.len(), d.channels.len(), d.markets.len());
        let mut points = vec![
            when(n > 0, || format!("{}: {}", plural(n, "deliverable"), categories.join(", "))),
            when(c > 0, || format!("{}: {}", plural(c, "channel"), d.channels.join(", "))),
            when(lead.is_some(), || format!("{markets}, led from {first}")),
        ];
        let bars = d.kpis_slas.iter().filter(|k| k.chars().any(|c| c.is_ascii_digit())).take(2);
        points.extend(bars.map(|k| format!("Your bar: {}", k.trim_end_matches('.'))));
        let callout = format!("{n} deliverables · {c} channels · {m} markets");
        deck.add(S::Context, "What we heard", points, d.summary.clone(), Some(callout));
    }
    let red = d.clarifications.iter().filter(|c| c.priority == Priority::Red).count();
    let points = d.clarifications.iter().take(4).map(|c| c.question.clone()).collect();
    let notes = format!("From the diagnosis, {} contradiction(s) included.", d.contradictions.len());
    let callout = format!("{} questions · {red} red", d.clarifications.len());
    deck.add(S::Context, "What we still need to confirm", points, notes, Some(callout));

    let mut points = vec![
        when(!crafted.is_empty(), || format!("Crafted by people: {}", some(&crafted, 4, "; "))),
        when(!ai.is_empty(), || format!("AI where it is productive: {}", some(&ai, 4, "; "))),
        "Approvals, brand QA and client review stay with people".to_string(),
    ];
    points.extend(model.tooling_caveats.iter().take(2).cloned());
    let callout = format!("{} of {} workflow stages AI-supported", ai.len(), model.workflow_stages.len());
    let title = format!("Delivery model: {phrase}");
    deck.add(S::Approach, &title, points, model.summary.clone(), Some(callout));
    if model.workflow_stages.len() >= 4 {
        let all = names(&|_| true);
        let flow = all.chunks(all.len().div_ceil(5)).map(|c| c.join(" → ")).collect();
        let why: Vec<String> =
            model.workflow_stages.iter().map(|w| format!("{}: {}", w.stage, w.rationale)).collect();
        deck.add(S::Approach, "From brief to delivery", flow, why.join(" "), None);
    }

    if !inputs.assets.is_empty() {
        let total: u64 = inputs.assets.iter().map(|a| u64::from(a.volume)).sum();
        let mut top: Vec<_> = inputs.assets.iter().collect();
        top.sort_by_key(|a| std::cmp::Reverse(a.volume));
        let open = |a: &&InputAsset| a.raw_description.as_deref().is_some_and(|d| d.contains("Volume TBC"));
        let tbc = inputs.assets.iter().filter(open).count();
        let mut points: Vec<String> =
            top.iter().take(4).map(|a| format!("{}: {}/year", a.raw_name, a.volume)).collect();
        points.push(when(tbc > 0, || format!("{} with volume to confirm", plural(tbc, "line"))));
        let notes =
            "Yearly volumes from the normalised asset list; a TBC line is priced at one until confirmed.";
        let callout = format!("{} · {total} units a year", plural(inputs.assets.len(), "asset line"));
        deck.add(S::Scope, "Scope at a glance", points, notes.into(), Some(callout));
    } else if !d.deliverables.is_empty() {
        let line = |x: &Deliverable| format!("{}: {}", text::quote(&x.name, 50), x.volume_estimate);
        let points = d.deliverables.iter().take(6).map(line);
        let notes = "Volumes in the brief's own words, until the normalised asset list gives yearly counts.";
        let callout = Some(plural(d.deliverables.len(), "deliverable"));
        deck.add(S::Scope, "Scope at a glance", points.collect(), notes.into(), callout);
    }
    if d.markets.len() >= 2 {
        let languages = d.capabilities_required.iter().find(|c| c.starts_with("Localisation into")).cloned();
        let n = languages.as_deref().and_then(|l| l.split_whitespace().nth(2));
        let n = n.map(|n| format!(" · {n} languages"));
        let points = vec![
            lead.as_deref().map_or(String::new(), |l| format!("Lead market: {l}")),
            when(!fast.is_empty(), || format!("Fast followers: {}", fast.join(", "))),
            when(!tail.is_empty(), || format!("Long tail: {}", tail.join(", "))),
            languages.unwrap_or_default(),
        ];
        let notes = "Hub and spoke: masters in the central studio, adapted per market from approved masters.";
        let callout = Some(format!("{markets}{}", n.unwrap_or_default()));
        deck.add(S::Scope, "Markets and languages", points, notes.into(), callout);
    }

    let areas: Vec<String> =
        gaps.core_in_scope.iter().map(|c| c.split(':').next().unwrap_or(c).into()).collect();
    let mut points = vec![
        "Programme Director: accountable for the whole programme".to_string(),
        format!("Account Lead: your day-to-day contact{}", when(lead.is_some(), || format!(" in {first}"))),
        "Delivery Lead: runs the studio against the SLAs".into(),
        when(!areas.is_empty(), || format!("In-house: {}", some(&areas, 4, ", "))),
    ];
    let partner = |g: &Gap| {
        let (what, who) =
            (text::strip_parentheticals(&g.capability), text::strip_parentheticals(&g.suggested_partner));
        format!("Partner for {}: {who}", what.to_lowercase())
    };
    points.extend(gaps.gaps.iter().take(2).map(partner));
    let (core, partners) = (plural(areas.len(), "core area"), plural(gaps.gaps.len(), "partner gap"));
    let callout =
        (!gaps.gaps.is_empty() || !areas.is_empty()).then(|| format!("{core} in-house · {partners}"));
    deck.add(S::Team, "Who you work with", points, gaps.summary.clone(), callout);

    let (clause, amount) = budget(docs_text);
    let cost = d.kpis_slas.iter().find(|k| k.to_lowercase().contains("cost per asset"));
    let points = vec![
        when(!inputs.assets.is_empty(), || {
            format!("Rate card on {}", plural(inputs.assets.len(), "asset line"))
        }),
        clause.map_or(String::new(), |c| format!("Budget: {}", text::quote(&c, 100))),
        d.timelines.iter().find(|t| t.starts_with("Term:")).cloned().unwrap_or_default(),
        cost.map_or(String::new(), |c| format!("Efficiency: {}", c.trim_end_matches('.'))),
        docs.caveats.first().cloned().unwrap_or_default(),
        when(!gaps.gaps.is_empty(), || "Partner costs priced on their quotes".into()),
    ];
    let notes =
        format!("Priced on {} assumptions and {} caveats.", docs.assumptions.len(), docs.caveats.len());
    let callout = amount.map(|a| format!("Budget {a}"));
    deck.add(S::Commercials, "Commercial frame", points, notes, callout);

    let sla =
        |s: &Sla| format!("{}: V1 {} / V2 {} / V3 {} days", s.deliverable, s.v1_days, s.v2_days, s.v3_days);
    let kpis = docs.kpis.iter().take(3).map(|k| format!("{}: {}", k.metric, k.target));
    let points = docs.slas.iter().take(3).map(sla).chain(kpis).collect();
    let callout = Some(format!("{} · {}", plural(docs.slas.len(), "SLA"), plural(docs.kpis.len(), "KPI")));
    deck.add(S::Governance, "Service levels and KPIs", points, docs.summary.clone(), callout);
    let points = docs.governance.iter().take(5).cloned().collect();
    let (a, g) = (plural(docs.assumptions.len(), "assumption"), plural(docs.governance.len(), "clause"));
    let callout = Some(format!("{a} · {g}"));
    deck.add(S::Governance, "Ways of working", points, docs.assumptions.join(" "), callout);

    let milestones = text::milestone_dates(docs_text);
    let on = |k: Milestone| milestones.iter().find(|m| m.milestone == k).map(|m| m.mention.phrase.clone());
    let go_live = field(o, "go_live").or(on(Milestone::GoLive));
    let points = vec![
        format!("Close the {} open questions, {red} red, with {who}", d.clarifications.len()),
        field(o, "deadline").map_or(String::new(), |x| format!("Proposal due {x}")),
        on(Milestone::Pitch).map_or(String::new(), |x| format!("Pitch: {x}")),
        go_live.map_or(String::new(), |x| format!("Go-live {x}, {first} first")),
    ];
    let verdict = field(o, "qualification_recommendation").map_or(String::new(), |r| format!(" ({r})"));
    let score = o.get("qualification_score").and_then(Value::as_f64);
    let score = score.map(|s| format!("Qualification {s:.0}%{verdict}"));
    let notes = "Close on the dates and the questions; mobilisation follows award.";
    deck.add(S::NextSteps, "Next steps", points, notes.into(), score);

    let appendix = [
        when(!inputs.assets.is_empty(), || {
            format!("Asset list: {}, yearly volumes", plural(inputs.assets.len(), "line"))
        }),
        format!("Q&A pack: {}", plural(d.clarifications.len(), "question")),
        format!("SLA table ({}) and KPI definitions ({})", docs.slas.len(), docs.kpis.len()),
        format!("Workflow stages and tooling ({})", model.workflow_stages.len()),
        when(!gaps.gaps.is_empty(), || format!("Capability gaps and partners ({})", gaps.gaps.len())),
        format!("Caveats ({}) and assumptions ({})", docs.caveats.len(), docs.assumptions.len()),
    ];
    let mut slides = deck.0;
    slides.truncate(12);
    let sources = match derived.is_empty() {
        true => ", delivery model, capability gaps and support docs".to_string(),
        false => format!("; derived with the offline rules, no artifact recorded: {}", derived.join(", ")),
    };
    let assets = if inputs.assets.is_empty() { "" } else { ", the asset list" };
    let across = when(!markets.is_empty(), || format!(" across {markets}"));
    PitchDeckOutput {
        headline: format!("{}: {phrase}{across}", client.unwrap_or(name)),
        deck_summary: format!(
            "{} slides, cover to next steps, from the diagnosis{assets}{sources}.",
            slides.len()
        ),
        slides,
        appendix: appendix.into_iter().filter(|a| !a.is_empty()).collect(),
    }
}
