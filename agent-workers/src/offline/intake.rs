//! Stage 1 offline (the intake agent, tool `submit_intake_metadata`): reads a brief and fills only
//! the opportunity fields the text grounds — client, region, brands, service types, proposal
//! deadline and go-live — leaving the rest empty rather than guessing.
//!
//! Dates follow the rule in [`super::text`]: periods resolve to their last day ("end of Q3 2026" →
//! 2026-09-30, "March 2026" → 2026-03-31), yearless days take the brief's year. The summary always
//! quotes the phrase a date came from. The deadline is the proposal deadline, else the decision or
//! signature date; go-live is the first go-live date, else the contract or work start.

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use super::text::{self, Market, Milestone, MilestoneDate};

/// The intake agent's output, with the seed's field names. Empty where the brief is silent; dates
/// serialise as "YYYY-MM-DD" and are left out of the JSON when unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeOutput {
    /// The organisation issuing the brief, e.g. "Halvorsen Home Appliances B.V.".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// A region as the brief writes it ("EMEA"), else derived from its markets: one market gives
    /// its name, markets in Europe, the Middle East and Africa give "EMEA", wider spreads "Global".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Consumer-facing brands the brief lists as brands; never the umbrella client itself.
    #[serde(default)]
    pub brands: Vec<String>,
    /// Concrete service categories (Strategy, Campaign, Content, Production, Social, eCommerce,
    /// CRM, Display, Print & POS, Localisation, Reporting), in that order; out-of-scope items skipped.
    #[serde(default)]
    pub service_types: Vec<String>,
    /// The proposal deadline (else the decision/signature date) as an explicit date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_iso: Option<NaiveDate>,
    /// The go-live date (else the contract/work start) as an explicit date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_live_iso: Option<NaiveDate>,
    /// A few sentences on the opportunity, quoting the phrases the dates were read from.
    pub summary: String,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern is valid")
}

const SERVICES: &[(&str, &str)] = &[
    ("Strategy", r"\bstrateg\w*|\binsights?\b|\bcomms\s+planning"),
    (
        "Campaign",
        r"\bkey\s+visuals?|\bcampaign\s+toolkits?|\bcreative\s+(?:concepts?|platform|idea)
        |\bart\s+direction",
    ),
    ("Content", r"\bcontent\b"),
    (
        "Production",
        r"\bphotograph\w*|\bphoto\s*shoots?|\bfilm(?:s|ed|ing)?\b|\bvideos?\b|\bproduction\b|\bmotion\b",
    ),
    ("Social", r"\bsocial\b|\binstagram|\bfacebook|\btiktok|\breels\b"),
    ("eCommerce", r"\be-?commerce|\bPDPs?\b|\bamazon|\bretailers?\b|\bmarketplaces?|\bproduct\s+listing"),
    ("CRM", r"\bCRM\b|\bemails?\b|\bnewsletters?|\bmailchimp"),
    ("Display", r"\bdisplay\s+banners?|\bHTML5\b|\bprogrammatic"),
    ("Print & POS", r"\bprint\b|\bpoint-of-sale|\bleaflets?|\bwobblers?|\bin-store"),
    ("Localisation", r"\blocali[sz]\w*|\btranscreat\w*|\btranslat\w*"),
    ("Reporting", r"\bperformance\s+reports?|\breporting\b|\banalytics|\bdashboards?"),
    ("Community management", r"\bcommunity\s+management"),
];

/// Reads a brief and returns the intake fields it grounds. Never panics; an empty brief gives an
/// empty output whose summary says nothing could be read.
pub fn intake(text: &str) -> IntakeOutput {
    let client_name = client_name(text);
    let markets = text::find_markets(text);
    let milestones = text::milestone_dates(text);
    let first = |kinds: &[Milestone]| {
        kinds.iter().find_map(|k| milestones.iter().find(|m| m.milestone == *k)).cloned()
    };
    let deadline = first(&[Milestone::Proposal, Milestone::Decision]);
    let go_live = first(&[Milestone::GoLive, Milestone::ContractStart]);
    let mut out = IntakeOutput {
        region: region(text, &markets),
        brands: brands(text, client_name.as_deref()),
        service_types: service_types(text),
        deadline_iso: deadline.as_ref().map(|m| m.mention.date),
        go_live_iso: go_live.as_ref().map(|m| m.mention.date),
        client_name,
        summary: String::new(),
    };
    out.summary = summary(text, &out, &markets, deadline.as_ref(), go_live.as_ref(), &milestones);
    out
}

fn client_name(text: &str) -> Option<String> {
    static LINE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?imx)^\s*(?:client|company|organi[sz]ation|issued\s+by|from|prepared\s+for|advertiser)
            \s*:\s*(.+)$")
    });
    static ROLE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?ix)\b(?:manager|director|head|officer|lead|team|department|coordinator|executive|procurement
            |marketing|CEO|CMO|VP)\b")
    });
    static LEGAL: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?x)\b(?:[A-Z][\w&'-]*\s+){0,4}[A-Z][\w&'-]*\s+
            (?:B\.V\.|N\.V\.|GmbH|AG|S\.A\.|S\.p\.A\.|SAS|plc|PLC|Ltd\.?|Limited|Inc\.?|LLC|Oy|AB|A/S)")
    });
    let from_label = LINE.captures_iter(text).find_map(|c| {
        c[1].split([',', ';', '|']).flat_map(|part| part.split(" — ")).map(text::strip_parentheticals).find(
            |p| !p.is_empty() && !p.contains('@') && !ROLE.is_match(p) && p.starts_with(char::is_uppercase),
        )
    });
    from_label.or_else(|| LEGAL.find(text).map(|m| m.as_str().trim().to_string()))
}

fn without_legal_suffix(name: &str) -> String {
    static SUFFIX: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)[\s,]+(?:B\.V\.|N\.V\.|GmbH|AG|S\.A\.|plc|Ltd\.?|Limited|Inc\.?|LLC)$"));
    SUFFIX.replace(name.trim(), "").to_lowercase()
}

fn brands(text: &str, client: Option<&str>) -> Vec<String> {
    static LINE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?imx)^\s*(?:[-*]\s*)?
            (?:brands?(?:\s+in\s+scope)?|our\s+brands|brand\s+portfolio|brands\s+covered)\s*:\s*(.+)$")
    });
    static SENTENCE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\bbrands?\s+(?:in\s+scope\s+)?(?:include|are|such\s+as)\s+([^.]+)"));
    static SPLIT: LazyLock<Regex> = LazyLock::new(|| re(r"\s*(?:,|;|\band\b|\s&\s)\s*"));
    let client = client.map(without_legal_suffix);
    let listed = LINE.captures(text).or_else(|| SENTENCE.captures(text));
    let Some(list) = listed.map(|c| text::strip_parentheticals(&c[1])) else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    for item in SPLIT.split(&list) {
        let item = item.trim().trim_end_matches('.').trim();
        let words = item.split_whitespace().count();
        let proper = item.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit());
        let is_client = client.as_deref() == Some(without_legal_suffix(item).as_str());
        if proper && (1..=4).contains(&words) && !is_client && !out.iter().any(|b| b == item) {
            out.push(item.to_string());
        }
    }
    out
}

fn service_types(text: &str) -> Vec<String> {
    static PATTERNS: LazyLock<Vec<Regex>> =
        LazyLock::new(|| SERVICES.iter().map(|(_, p)| re(&format!("(?ix){p}"))).collect());
    let segments: Vec<_> = text::segments(text)
        .into_iter()
        .filter(|s| !text::is_negated(&s.text) && !s.heading.to_lowercase().contains("evaluation"))
        .collect();
    SERVICES
        .iter()
        .zip(PATTERNS.iter())
        .filter(|(_, p)| segments.iter().any(|s| p.is_match(&s.text)))
        .map(|((name, _), _)| name.to_string())
        .collect()
}

fn region(text: &str, markets: &[&Market]) -> Option<String> {
    static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
        re(r"\b(?:EMEA|APAC|APJ|LATAM|MENA|DACH|Benelux|Nordics|CEE|North America|Europe|Middle East)\b")
    });
    static LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?im)^\s*region\s*:\s*(.+)$"));
    if let Some(c) = LABEL.captures(text) {
        return Some(text::collapse(&c[1]));
    }
    let title = text::title(text).unwrap_or_default();
    if let Some(m) = TOKEN.find(&title) {
        return Some(m.as_str().to_string());
    }
    let mut regions: Vec<&str> = markets.iter().map(|m| m.region).collect();
    regions.sort_unstable();
    regions.dedup();
    let emea = |r: &&str| matches!(*r, "Europe" | "Middle East" | "Africa");
    match (markets, regions.as_slice()) {
        ([], _) => TOKEN.find(text).map(|m| m.as_str().to_string()),
        ([one], _) => Some(one.name.to_string()),
        (_, [one]) => Some(one.to_string()),
        (_, many) if many.iter().all(emea) => Some("EMEA".to_string()),
        _ => Some("Global".to_string()),
    }
}

fn describe(m: &MilestoneDate) -> String {
    let date = m.mention.date;
    let mut notes = vec![format!("the brief says “{}”", m.mention.phrase)];
    if m.mention.period && date.succ_opt().is_some_and(|d| d.day() == 1) {
        notes.push("a period, read as its last day".to_string());
    }
    if m.mention.year_inferred {
        notes.push(format!("year taken from the brief's date, {}", date.year()));
    }
    format!("{date} ({})", notes.join("; "))
}

fn summary(
    text: &str,
    out: &IntakeOutput,
    markets: &[&Market],
    deadline: Option<&MilestoneDate>,
    go_live: Option<&MilestoneDate>,
    milestones: &[MilestoneDate],
) -> String {
    let mut parts = Vec::new();
    if let Some(title) = text::title(text) {
        parts.push(format!("{}.", title.trim_end_matches('.')));
    }
    let who = match (&out.client_name, &out.region) {
        (Some(c), Some(r)) => Some(format!("Client: {c} ({r}).")),
        (Some(c), None) => Some(format!("Client: {c}.")),
        (None, Some(r)) => Some(format!("Region: {r}.")),
        (None, None) => None,
    };
    parts.extend(who);
    if !out.brands.is_empty() {
        parts.push(format!("Brands: {}.", text::join_list(&out.brands)));
    }
    if !out.service_types.is_empty() {
        parts.push(format!("Services: {}.", out.service_types.join(", ")));
    }
    if !markets.is_empty() {
        let names: Vec<String> = markets.iter().map(|m| m.name.to_string()).collect();
        parts.push(format!("{} market(s): {}.", names.len(), text::join_list(&names)));
    }
    if let Some(d) = deadline {
        let what = if d.milestone == Milestone::Proposal { "Proposal deadline" } else { "Decision deadline" };
        parts.push(format!("{what} {}.", describe(d)));
    }
    if let Some(g) = go_live {
        let what = if g.milestone == Milestone::GoLive { "Go-live" } else { "Start (used as go-live)" };
        parts.push(format!("{what} {}.", describe(g)));
        let other =
            milestones.iter().find(|m| m.milestone == g.milestone && m.mention.date != g.mention.date);
        if let Some(o) = other {
            let what = if g.milestone == Milestone::GoLive { "go-live" } else { "the start" };
            parts.push(format!("The brief also gives {what} as {}: conflicting, to clarify.", describe(o)));
        }
    }
    if parts.is_empty() {
        return "Nothing could be read from the brief: no client, scope, markets or dates.".to_string();
    }
    parts.join(" ")
}
