//! Pitch material as markdown: the quick deck built from an opportunity's data, and a rendered pitch-deck outline.
//!
//! Slides are separated by `---`. A slide whose data is absent is left out
//! rather than filled with invented content.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ExportError;

/// The qualification result as the pipeline scored it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualificationSummary {
    pub total_score: u32,
    pub percentage: f64,
    pub recommendation: String,
}

/// An asset in scope and how many of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetVolume {
    pub name: String,
    pub volume: u32,
}

/// A role on the proposed team and its full-time equivalents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRole {
    pub role: String,
    pub fte: f64,
}

/// Everything the quick deck may show; empty or `None` fields leave their slide out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuickDeckInput {
    pub opportunity_name: String,
    pub client_name: Option<String>,
    pub region: Option<String>,
    pub brands: Vec<String>,
    pub service_types: Vec<String>,
    pub deadline: Option<NaiveDate>,
    pub go_live: Option<NaiveDate>,
    pub description: Option<String>,
    pub qualification: Option<QualificationSummary>,
    pub assets: Vec<AssetVolume>,
    pub total_hours: Option<f64>,
    pub fte_total: Option<f64>,
    pub team: Vec<TeamRole>,
    pub efficiency_pct: Option<f64>,
    pub open_clarifications: usize,
    pub deal_status: String,
}

/// `v` with at most `decimals` decimals (trailing zeros dropped) and thousands separators.
pub fn format_number(v: f64, decimals: usize) -> String {
    let fixed = format!("{:.*}", decimals, v.abs());
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let negative = v < 0.0 && (int.chars().any(|c| c != '0') || !frac.is_empty());
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// One line of text, safe inside a heading or a table cell.
fn inline(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn list(items: &[String]) -> Option<String> {
    let items: Vec<String> = items.iter().map(|s| inline(s)).filter(|s| !s.is_empty()).collect();
    (!items.is_empty()).then(|| items.join(", "))
}

fn cover(d: &QuickDeckInput) -> String {
    let mut s = format!("# {}\n", inline(&d.opportunity_name));
    if let Some(client) = present(&d.client_name) {
        s += &format!("\n## {}\n", inline(client));
    }
    if let Some(region) = present(&d.region) {
        s += &format!("\n*{}*\n", inline(region));
    }
    s
}

fn context(d: &QuickDeckInput) -> Option<String> {
    let mut body = String::new();
    if let Some(text) = present(&d.description) {
        body += &format!("{text}\n\n");
    }
    let mut facts = Vec::new();
    if let Some(brands) = list(&d.brands) {
        facts.push(format!("**Brands:** {brands}"));
    }
    if let Some(services) = list(&d.service_types) {
        facts.push(format!("**Services:** {services}"));
    }
    if let Some(day) = d.deadline {
        facts.push(format!("**Response deadline:** {}", date(day)));
    }
    if let Some(day) = d.go_live {
        facts.push(format!("**Go-live:** {}", date(day)));
    }
    if let Some(q) = &d.qualification {
        facts.push(format!(
            "**Qualification:** {} points ({}%), recommendation: {}",
            q.total_score,
            format_number(q.percentage, 1),
            inline(&q.recommendation)
        ));
    }
    for fact in &facts {
        body += &format!("- {fact}\n");
    }
    (!body.is_empty()).then(|| format!("## Context\n\n{}", body.trim_end()))
}

fn scope(d: &QuickDeckInput) -> Option<String> {
    if d.assets.is_empty() {
        return None;
    }
    let mut s = String::from("## Scope\n\n| Asset | Volume |\n|---|---:|\n");
    for a in &d.assets {
        s += &format!("| {} | {} |\n", inline(&a.name), format_number(a.volume.into(), 0));
    }
    let total: f64 = d.assets.iter().map(|a| f64::from(a.volume)).sum();
    s += &format!("| **Total** | **{}** |", format_number(total, 0));
    Some(s)
}

fn team(d: &QuickDeckInput) -> Option<String> {
    if d.team.is_empty() {
        return None;
    }
    let mut s = String::from("## Team\n\n| Role | FTE |\n|---|---:|\n");
    for m in &d.team {
        s += &format!("| {} | {} |\n", inline(&m.role), format_number(m.fte, 2));
    }
    let total: f64 = d.team.iter().map(|m| m.fte).sum();
    s += &format!("| **Total** | **{}** |", format_number(total, 2));
    Some(s)
}

fn commercials(d: &QuickDeckInput) -> Option<String> {
    let mut facts = Vec::new();
    if let Some(h) = d.total_hours {
        facts.push(format!("- **Total effort:** {} hours", format_number(h, 1)));
    }
    if let Some(fte) = d.fte_total {
        facts.push(format!("- **Team size:** {} FTE", format_number(fte, 2)));
    }
    if let Some(pct) = d.efficiency_pct {
        facts.push(format!("- **Efficiency:** {}%", format_number(pct, 1)));
    }
    (!facts.is_empty()).then(|| format!("## Commercials\n\n{}", facts.join("\n")))
}

fn next_steps(d: &QuickDeckInput) -> Option<String> {
    let mut steps = Vec::new();
    match d.open_clarifications {
        0 => {}
        1 => steps.push("- Resolve the 1 open clarification with the client".to_string()),
        n => steps.push(format!("- Resolve the {n} open clarifications with the client")),
    }
    if let Some(day) = d.deadline {
        steps.push(format!("- Submit the response by {}", date(day)));
    }
    if !d.deal_status.trim().is_empty() {
        steps.push(format!("- Current deal status: **{}**", inline(&d.deal_status)));
    }
    (!steps.is_empty()).then(|| format!("## Next steps\n\n{}", steps.join("\n")))
}

/// The quick deck: cover, context, scope, team, commercials, next steps,
/// each slide present only when it has data; slides separated by `---`.
pub fn quick_deck_markdown(d: &QuickDeckInput) -> String {
    let slides: Vec<String> = std::iter::once(Some(cover(d)))
        .chain([context(d), scope(d), team(d), commercials(d), next_steps(d)])
        .flatten()
        .map(|s| s.trim_end().to_string())
        .collect();
    slides.join("\n\n---\n\n") + "\n"
}

fn missing(field: &str, reason: &str) -> ExportError {
    ExportError::invalid(field, reason)
}

/// A JSON value as display text: strings as they are, other values as JSON.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        other => Some(other.to_string()),
    }
}

fn field_text(obj: &Value, key: &str) -> Option<String> {
    obj.get(key).and_then(value_text)
}

fn bullets(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(value_text).collect(),
        Some(other) => value_text(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// An appendix entry: text, or an object shown as its title and key points.
fn appendix_item(v: &Value) -> Option<String> {
    let Some(title) = v.is_object().then(|| field_text(v, "title")).flatten() else {
        return value_text(v);
    };
    let points = bullets(v.get("key_points"));
    if points.is_empty() {
        Some(format!("**{title}**"))
    } else {
        Some(format!("**{title}**: {}", points.join("; ")))
    }
}

fn blockquote(text: &str) -> String {
    text.lines()
        .map(|l| if l.trim().is_empty() { ">".to_string() } else { format!("> {}", l.trim_end()) })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders a pitch-deck outline `{headline, deck_summary, slides: [{section,
/// title, key_points, speaker_notes, data_callout}], appendix}`: one `## ` per
/// slide, key points as bullets, the data callout bold, speaker notes as a
/// blockquote, then an Appendix. A missing headline or slides array (or a
/// slide that is not an object) is an error naming the field; a slide
/// without a title is headed by its section, else "Slide n".
pub fn outline_markdown(outline: &Value) -> Result<String, ExportError> {
    let headline = field_text(outline, "headline")
        .ok_or_else(|| missing("headline", "the outline needs a non-empty headline"))?;
    let slides = outline
        .get("slides")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("slides", "the outline needs a slides array"))?;
    let mut out = format!("# {}\n", inline(&headline));
    if let Some(summary) = field_text(outline, "deck_summary") {
        out += &format!("\n{summary}\n");
    }
    for (i, slide) in slides.iter().enumerate() {
        if !slide.is_object() {
            return Err(missing(&format!("slides[{i}]"), "each slide must be an object"));
        }
        let section = field_text(slide, "section");
        let title = field_text(slide, "title")
            .or_else(|| section.clone())
            .unwrap_or_else(|| format!("Slide {}", i + 1));
        out += &format!("\n## {}. {}\n", i + 1, inline(&title));
        if let Some(section) = section {
            out += &format!("\n*Section: {}*\n", inline(&section));
        }
        let points = bullets(slide.get("key_points"));
        if !points.is_empty() {
            out += "\n";
            for p in points {
                out += &format!("- {}\n", inline(&p));
            }
        }
        if let Some(callout) = field_text(slide, "data_callout") {
            out += &format!("\n**{}**\n", inline(&callout));
        }
        if let Some(notes) = field_text(slide, "speaker_notes") {
            out += &format!("\n{}\n", blockquote(&notes));
        }
    }
    let appendix: Vec<String> = match outline.get("appendix") {
        Some(Value::Array(items)) => items.iter().filter_map(appendix_item).collect(),
        other => bullets(other),
    };
    if !appendix.is_empty() {
        out += "\n## Appendix\n\n";
        for item in appendix {
            out += &format!("- {}\n", inline(&item));
        }
    }
    Ok(out)
}
