//! Stage 13 offline (the support docs agent, tool `submit_support_docs`): the caveats, assumptions,
//! SLAs, KPIs and governance clauses of the proposal.
//!
//! SLAs follow the seed's default pattern (brief acknowledged in 24–48h, two rounds of amends; static
//! ad set 5/2/1 days, eCom hero set 7/3/1, CRM template 7/3/1, motion social 14/5/2), one row per
//! kind of work the brief asks for and at least three. Adjustments: under timeline pressure (a
//! conflicting or early go-live, or "urgent" wording) a V1 of a week or more loses 15%; where the
//! delivery model puts the stage on AI tooling, V1 loses one more day. V1 ≥ V2 ≥ V3 ≥ 1 always.
//! KPIs are the brief's measurable ones first, then the honest defaults (on-time, % within SLA,
//! first-time-right, quality score) up to at least three.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::capability_gaps::{capability_gaps, CapabilityGapsOutput, Criticality};
use super::delivery_model::{
    delivery_model, diagnosis_of, recorded_or, Approach, DeliveryModelOutput, Headline, Scope, WorkflowStage,
};
use super::diagnosis::DiagnosisOutput;
use super::markets::{lead_market, place};
use super::text;
use crate::provider::AgentInputs;

/// Turnaround of one kind of deliverable, in working days per round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// The deliverable, e.g. "Static digital ad (set of 5)".
    pub deliverable: String,
    /// Days to first version.
    pub v1_days: u32,
    /// Days to second version after consolidated feedback.
    pub v2_days: u32,
    /// Days to final after consolidated feedback.
    pub v3_days: u32,
    /// Who is accountable for the turnaround.
    pub responsible_party: String,
    /// Conditions and adjustments.
    pub notes: String,
}

/// A measurable indicator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kpi {
    /// What is measured.
    pub metric: String,
    /// The level to reach.
    pub target: String,
    /// How and how often it is measured.
    pub measurement: String,
}

/// The support docs agent's output, with the seed's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportDocsOutput {
    /// What the price excludes.
    pub caveats: Vec<String>,
    /// What the price assumes.
    pub assumptions: Vec<String>,
    /// At least three turnaround rows.
    pub slas: Vec<Sla>,
    /// At least three measurable KPIs.
    pub kpis: Vec<Kpi>,
    /// Governance clauses.
    pub governance: Vec<String>,
    /// What was produced and what drove it.
    pub summary: String,
}

/// The default SLA pattern (PARASOL Studio SLAs): scope words that call for a row, the row, V1/V2/V3
/// days, the OLIVER team accountable, and the delivery-model stage words that make it AI-supported.
const PATTERN: &[(&str, &str, [u32; 3], &str, &str)] = &[
    (
        "static|social ad|display|banner|organic",
        "Static digital ad (set of 5)",
        [5, 2, 1],
        "studio",
        "statics",
    ),
    ("ecommerce|pdp|a+", "eCom hero set", [7, 3, 1], "eCommerce team", "ecommerce"),
    ("crm|email|newsletter", "CRM email template", [7, 3, 1], "CRM team", "crm"),
    (
        "motion|video|film|cut-down",
        "Motion social (one master + adapts)",
        [14, 5, 2],
        "motion team",
        "cut-downs",
    ),
    (
        "print|point-of-sale|leaflet",
        "Print / POS artwork (print-ready)",
        [7, 3, 1],
        "studio artworkers",
        "print",
    ),
];

/// KPI kinds: words in the brief's KPI line, metric, default target, how it is measured.
const KPI_KINDS: &[(&str, &str, &str, &str)] = &[
    ("on-time|on time", "On-time delivery", "≥ 95% of jobs", "Delivered vs agreed date per job; monthly"),
    (
        "within sla|in sla",
        "Jobs within SLA",
        "≥ 90% of jobs",
        "Each round's turnaround vs the SLA table; monthly",
    ),
    (
        "first-time-right",
        "First-time-right rate",
        "≥ 80% of jobs",
        "Share of jobs approved at round one; monthly",
    ),
    ("quality", "Quality score", "≥ 4 out of 5", "Client scorecard per brand and market; monthly"),
    (
        "cost per asset",
        "Cost per asset",
        "as the brief sets",
        "Cost per delivered asset vs the baseline; quarterly",
    ),
    (
        "acknowledg",
        "Brief acknowledgement",
        "within 1 business day",
        "Brief received to acknowledged; monthly",
    ),
];

/// Default exclusions: words that mark one as named in the brief, the caveat's subject.
const EXCLUSIONS: &[(&str, &str)] = &[
    ("third-party|media", "Third-party fees (media, platforms, printing, retailer listing fees) are"),
    ("stock", "Stock photography and footage licences are"),
    ("talent", "Talent fees and usage rights are"),
    ("music", "Music licences are"),
    ("shoot|production", "Shoot and production costs (crew, studio, location, travel) are"),
];

/// Writes the support docs from the diagnosis, the delivery model and the capability gaps (each the
/// upstream artifact when present, else derived with the offline rules). Never fails.
pub fn support_docs(inputs: &AgentInputs) -> SupportDocsOutput {
    let d = diagnosis_of(inputs);
    let model: DeliveryModelOutput = recorded_or(inputs, "delivery_model", delivery_model);
    let gaps: CapabilityGapsOutput = recorded_or(inputs, "capability_gaps", capability_gaps);
    let scope = Scope::of(&d);
    let pressure = pressure(&d);
    let slas = slas(&d, &scope, &model, pressure.as_deref());
    let kpis = kpis(&d);
    let caveats = caveats(inputs, &d, &gaps, &model);
    let assumptions = assumptions(inputs, &d, &scope);
    let governance = governance(inputs, &d, &gaps, &model);
    let standard =
        if d.deliverables.is_empty() { " (no deliverables read, so the standard rows)" } else { "" };
    let pressed = pressure.map_or(String::new(), |p| format!(", V1 shortened for timeline pressure ({p})"));
    let headline = serde_json::to_value(model.headline).ok().and_then(|v| v.as_str().map(str::to_string));
    let summary = format!(
        "{} SLA row(s) on the default pattern{standard}{pressed}, {} KPI(s), {} caveat(s), {} assumption(s), \
         {} governance clause(s); delivery model {}.",
        slas.len(),
        kpis.len(),
        caveats.len(),
        assumptions.len(),
        governance.len(),
        headline.unwrap_or_default()
    );
    SupportDocsOutput { caveats, assumptions, slas, kpis, governance, summary }
}

/// Why the timeline is pressured, if it is: a short reason for the SLA notes.
fn pressure(d: &DiagnosisOutput) -> Option<String> {
    let said = |c: &String, w: &str| c.to_lowercase().contains(w);
    let urgent = ["urgent", "asap", "as soon as possible", "fast-track", "tight timeline"];
    let conflict = d.contradictions.iter().any(|c| said(c, "two different dates") && said(c, "go-live"));
    let early = d.contradictions.iter().any(|c| said(c, "before the contract start"));
    let rushed = d.timelines.iter().any(|t| urgent.iter().any(|u| said(t, u)));
    let reasons = [
        (conflict, "conflicting go-live dates"),
        (early, "a go-live before the contract start"),
        (rushed, "a timeline marked urgent"),
    ];
    let found: Vec<String> = reasons.iter().filter(|r| r.0).map(|r| r.1.to_string()).collect();
    (!found.is_empty()).then(|| format!("the brief gives {}", text::join_list(&found)))
}

const AMENDS: &str = "Two rounds of amends included; further rounds are charged. The clock runs from a \
                      complete brief and stops while feedback is awaited.";

fn slas(d: &DiagnosisOutput, scope: &Scope, model: &DeliveryModelOutput, pressure: Option<&str>) -> Vec<Sla> {
    let ai = |words: &str| {
        let tooled = |w: &&WorkflowStage| w.approach == Approach::AiSupported;
        model.headline != Headline::Traditional
            && model.workflow_stages.iter().filter(tooled).any(|w| w.stage.to_lowercase().contains(words))
    };
    let mut rows: Vec<_> = PATTERN.iter().filter(|p| scope.has(p.0)).collect();
    for p in PATTERN.iter().take(4) {
        if rows.len() < 3 && !rows.iter().any(|r| r.1 == p.1) {
            rows.push(p);
        }
    }
    let mut out: Vec<Sla> = rows
        .into_iter()
        .map(|(_, name, [v1, v2, v3], team, stage)| {
            let (mut first, mut notes) = (*v1, vec![AMENDS.to_string()]);
            if let Some(p) = pressure.filter(|_| first >= 7) {
                first -= (first * 15 + 50) / 100;
                notes.push(format!(
                    "V1 cut from {v1} to {first} days for timeline pressure ({p}); it holds only \
                                    with the dedicated team in place."
                ));
            }
            if ai(stage) {
                first -= 1;
                notes.push("One day off V1 from AI-supported production, once the tool is cleared.".into());
            }
            if d.deliverables.is_empty() {
                notes.push("Standard row: confirm it against the scope once deliverables are known.".into());
            }
            let v1 = first.max(*v2).max(1);
            Sla {
                deliverable: name.to_string(),
                v1_days: v1,
                v2_days: (*v2).clamp(1, v1),
                v3_days: (*v3).clamp(1, (*v2).max(1)),
                responsible_party: format!("OLIVER {team}"),
                notes: notes.join(" "),
            }
        })
        .collect();
    if d.markets.len() >= 2 {
        out.push(Sla {
            deliverable: format!("Market adaptation of an approved master ({} markets)", d.markets.len()),
            v1_days: if ai("adaptation") { 2 } else { 3 },
            v2_days: 1,
            v3_days: 1,
            responsible_party: "OLIVER localisation team with native reviewers".into(),
            notes: "Per language, from an approved master and glossary; proposed because the brief leaves \
                    adaptation turnaround open."
                .into(),
        });
    }
    out
}

fn kpis(d: &DiagnosisOutput) -> Vec<Kpi> {
    let kpi = |metric: &str, target: String, measurement: &str| Kpi {
        metric: metric.into(),
        target,
        measurement: measurement.into(),
    };
    let mut out: Vec<Kpi> = Vec::new();
    for line in &d.kpis_slas {
        let lower = line.to_lowercase();
        let figure = lower.chars().any(|c| c.is_ascii_digit()) || lower.contains("one business day");
        let kind = KPI_KINDS.iter().find(|k| k.0.split('|').any(|w| lower.contains(w)));
        match kind {
            Some(k) if figure && !out.iter().any(|o| o.metric == k.1) => {
                out.push(kpi(k.1, target_of(line), k.3))
            }
            _ => {}
        }
    }
    for k in KPI_KINDS.iter().take(4) {
        let quality_needed = k.1 != "Quality score" || out.len() < 4;
        if quality_needed && !out.iter().any(|o| o.metric == k.1) {
            out.push(kpi(k.1, k.2.into(), k.3));
        }
    }
    out
}

/// The target a KPI line sets, short ("≥ 95%", "−25% vs 2025 in year one"), marked as the brief's.
fn target_of(line: &str) -> String {
    let find = |p: &str| Regex::new(&format!("(?i){p}")).ok()?.captures(line).map(|c| c[1].to_string());
    let year = find(r"(?:against|vs\.?|versus)\s+(\d{4})").map_or(String::new(), |y| format!(" vs {y}"));
    let first = if find(r"(year\s+one|first\s+year|year\s+1)\b").is_some() { " in year one" } else { "" };
    let floor = find(r"(?:at\s+least|minimum\s+of|no\s+less\s+than|≥)\s*(\d+(?:\.\d+)?\s*%)");
    let cut = || find(r"(?:reduced|reduce|cut|lowered|down)\s+by\s+(\d+(?:\.\d+)?\s*%)");
    let within = || find(r"(within\s+(?:one|two|three|\d+)\s+(?:business|working)?\s*(?:days?|hours?))");
    let short = floor.map(|p| format!("≥ {p}")).or_else(|| cut().map(|p| format!("−{p}{year}{first}")));
    match short.or_else(within) {
        Some(s) => format!("{s} (the brief's target)"),
        None => format!("As the brief sets: “{}”", line.trim_end_matches('.')),
    }
}

fn caveats(
    inputs: &AgentInputs,
    d: &DiagnosisOutput,
    gaps: &CapabilityGapsOutput,
    model: &DeliveryModelOutput,
) -> Vec<String> {
    let segments = text::segments(&inputs.documents);
    let separately: Vec<String> =
        segments.iter().map(|s| s.text.to_lowercase()).filter(|t| t.contains("separately")).collect();
    let shown = |words: &str| words.split('|').any(|w| separately.iter().any(|s| s.contains(w)));
    let mut out: Vec<String> = EXCLUSIONS
        .iter()
        .map(|(words, c)| {
            format!("{c} excluded{}.", if shown(words) { " (shown separately, as asked)" } else { "" })
        })
        .collect();
    let languages = d.capabilities_required.iter().find(|c| c.starts_with("Localisation into"));
    if d.markets.is_empty() {
        out.push("Localisation and languages are excluded until markets are confirmed.".into());
    } else {
        let (n, named) = (d.markets.len(), text::join_list(&d.markets));
        out.push(format!("Localisation beyond the {n} named markets ({named}) is excluded."));
        if let Some((_, list)) = languages.and_then(|l| l.split_once(": ")) {
            out.push(format!("Languages beyond these {} ({list}) are excluded.", list.split(", ").count()));
        }
    }
    for g in gaps.gaps.iter().filter(|g| g.criticality != Criticality::Green) {
        let (what, who) = (&g.capability, &g.suggested_partner);
        out.push(format!("{what}: partner costs ({who}) are quoted separately."));
    }
    if model.headline != Headline::Traditional {
        out.push(
            "AI-supported efficiencies apply only to tools cleared by the client's security review.".into(),
        );
    }
    out
}

fn assumptions(inputs: &AgentInputs, d: &DiagnosisOutput, scope: &Scope) -> Vec<String> {
    let mut out: Vec<String> = vec![
        "Brand guidelines, templates and source files are supplied before kick-off.".into(),
        "Feedback is consolidated and returned within 48 hours per round.".into(),
        "Each brand has a single named decision-maker for final approval.".into(),
        "Two rounds of amends per asset; a new brief after approval is a new job.".into(),
    ];
    if !inputs.assets.is_empty() {
        let (lines, total) =
            (inputs.assets.len(), inputs.assets.iter().map(|a| u64::from(a.volume)).sum::<u64>());
        out.push(format!(
            "Volumes as in the asset list ({lines} lines, {total} a year); ±15% triggers a re-plan."
        ));
    } else if d.ambiguities.iter().any(|a| a.contains("indicative")) {
        out.push("Indicative volumes are priced as a guide; variance over 15% triggers a re-plan.".into());
    }
    if let Some(dam) = &scope.dam {
        out.push(format!("Contributor access to {dam} from day one; masters are filed there."));
    }
    if scope.has("ecommerce|pdp") {
        out.push("Product data, SKU lists and packshots are supplied by the client.".into());
    }
    if d.markets.len() >= 2 {
        out.push(
            "Approved masters are the source of every adaptation; glossaries are agreed in month one.".into(),
        );
    }
    out
}

fn governance(
    inputs: &AgentInputs,
    d: &DiagnosisOutput,
    gaps: &CapabilityGapsOutput,
    model: &DeliveryModelOutput,
) -> Vec<String> {
    let lead = lead_market(&inputs.documents, &d.markets).map_or("the lead market".into(), |m| place(&m));
    let fast = d.kpis_slas.iter().any(|k| k.contains("one business day"));
    let acknowledge = if fast { "one business day (the brief's level)" } else { "24–48 hours" };
    let mut out: Vec<String> = vec![
        format!("Briefs acknowledged within {acknowledge} of receipt."),
        format!("Weekly status between the Account Lead and the client's single point of contact in {lead}."),
        "Monthly review of KPIs and SLA adherence; quarterly review of volumes, rate card and efficiency."
            .into(),
        "Changes to scope or volume go through a written change request before work starts.".into(),
        "Escalation: Account Lead, then Programme Director, then the client's marketing lead.".into(),
    ];
    if inputs.documents.to_lowercase().contains("brand compliance") {
        out.push("Brand-compliance check before every delivery, as the brief asks.".into());
    }
    if model.headline != Headline::Traditional {
        out.push(
            "AI tool register: each tool approved by the client before use; no training on its assets."
                .into(),
        );
    }
    if !gaps.gaps.is_empty() {
        out.push(
            "Partners work under OLIVER's contract and QA; OLIVER stays accountable for their output.".into(),
        );
    }
    out
}
