//! Stage 12 offline (the capability gap agent, tool `submit_capability_gaps`): splits what the brief
//! asks for into OLIVER's in-house core and the gaps to source, each with an honest criticality.
//!
//! OLIVER's core is in-house creative and content production: statics, motion, social, eCommerce,
//! CRM, retail and basic strategy. Gaps are listed only when the brief asks for them (an out-of-scope
//! mention is named in the summary, never listed): SEO (Jellyfish), performance media (a media
//! Brandtech partner), community management or deep social strategy (Gravity Road), film/TVC and
//! photography origination (production companies), influencer and talent management (external
//! agencies), long-tail localisation (external translators), right-to-left artwork, AI tooling and
//! brand-compliance tooling. Red: we cannot deliver without it; amber: partner, but we could limp;
//! green: nice to have.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::delivery_model::{annual_volume, diagnosis_of};
use super::diagnosis::DiagnosisOutput;
use super::text;
use crate::provider::AgentInputs;

/// How badly a gap hurts; serialises as `red`, `amber` or `green`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// We cannot deliver without solving it.
    Red,
    /// We should partner, but could limp.
    Amber,
    /// Nice to have.
    Green,
}

/// Where to source a gap; serialises as `internal_sme`, `brandtech_partner` or `external_vendor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A specialist elsewhere in OLIVER.
    InternalSme,
    /// A Brandtech Group company.
    BrandtechPartner,
    /// A third party.
    ExternalVendor,
}

/// A capability the brief needs that OLIVER's core does not cover.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The capability, specific to this brief.
    pub capability: String,
    /// Red, amber or green.
    pub criticality: Criticality,
    /// Internal SME, Brandtech partner or external vendor.
    pub suggested_source: Source,
    /// Who, by name or kind.
    pub suggested_partner: String,
    /// The brief's words that ask for it, and why this criticality.
    pub rationale: String,
}

/// The capability gap agent's output, with the seed's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityGapsOutput {
    /// In-house core capabilities this brief uses, with its deliverables.
    pub core_in_scope: Vec<String>,
    /// Gaps, red first.
    pub gaps: Vec<Gap>,
    /// Counts, the red gaps and what the brief puts out of scope.
    pub summary: String,
}

/// Languages assumed covered by OLIVER's in-house writers; the rest are long tail.
pub const IN_HOUSE_LANGUAGES: &[&str] = &["English", "French", "German", "Spanish", "Italian", "Dutch"];

/// A piece of the brief that may ask for a capability.
struct Evidence {
    text: String,
    /// A scope line (a bullet or a diagnosed deliverable), not a passing mention.
    ask: bool,
    /// Marked optional or nice to have.
    nice: bool,
}

/// Partner-only capabilities: capability, pattern, source, partner, criticality when asked for.
const PARTNER_ONLY: &[(&str, &str, Source, &str, Criticality)] = &[
    (
        "SEO and organic search",
        r"\bSEO\b|search\s+engine|organic\s+search",
        Source::BrandtechPartner,
        "Jellyfish",
        Criticality::Red,
    ),
    (
        "Performance media buying",
        r"media\s+(?:buying|planning)|performance\s+media|paid\s+media\s+management|programmatic\s+buying",
        Source::BrandtechPartner,
        "Media-specialist Brandtech partner",
        Criticality::Red,
    ),
    (
        "Community management and social strategy at depth",
        r"community\s+manag|social\s+listening|social\s+strategy|moderation",
        Source::BrandtechPartner,
        "Gravity Road",
        Criticality::Amber,
    ),
    (
        "Influencer and talent management",
        r"influencer|creator\s+partnerships?|talent\s+management|ambassadors?",
        Source::ExternalVendor,
        "Specialist influencer/talent agency",
        Criticality::Red,
    ),
    (
        "Website or platform development",
        r"website\s+(?:build|development)|web\s+development|app\s+development|CMS\s+build",
        Source::ExternalVendor,
        "Development partner",
        Criticality::Red,
    ),
];

fn re(pattern: &str) -> Regex {
    Regex::new(&format!("(?i){pattern}")).expect("built-in pattern is valid")
}

/// Finds the capability gaps in the diagnosis (artifact, else the documents diagnosed afresh) and
/// the brief's own words. Never fails; a brief with no scope gives no core and no gaps.
pub fn capability_gaps(inputs: &AgentInputs) -> CapabilityGapsOutput {
    use Criticality::{Amber, Green, Red};
    let d = diagnosis_of(inputs);
    let segments = text::segments(&inputs.documents);
    let evidence = evidence(&segments, &d);
    let find = |pattern: &str| {
        let p = re(pattern);
        let hits: Vec<&Evidence> = evidence.iter().filter(|e| p.is_match(&e.text)).collect();
        hits.iter().find(|e| e.ask && !e.nice).or(hits.first()).copied()
    };
    let quote = |e: &Evidence| text::quote(&e.text, 120);
    let mut gaps: Vec<Gap> = localisation(&d).into_iter().collect();
    let mut add = |capability: &str, criticality, suggested_source, partner: &str, rationale: String| {
        let (capability, suggested_partner) = (capability.to_string(), partner.to_string());
        gaps.push(Gap { capability, criticality, suggested_source, suggested_partner, rationale });
    };
    for (capability, pattern, source, partner, when_asked) in PARTNER_ONLY {
        if let Some(e) = find(pattern) {
            let level = if e.nice {
                Green
            } else if e.ask {
                *when_asked
            } else {
                Amber
            };
            let why =
                format!("The brief asks: “{}”. OLIVER partners for this rather than staffing it.", quote(e));
            add(capability, level, *source, partner, why);
        }
    }
    if let Some(e) = find(r"\bTVCs?\b|broadcast|hero\s+films?|brand\s+films?|launch\s+videos?") {
        let films =
            d.deliverables.iter().filter(|x| x.category == "Video" && x.complexity_hint.starts_with("high"));
        let yearly: u32 = films.filter_map(|x| annual_volume(&x.volume_estimate)).sum();
        let scale = yearly >= 6 || re(r"\bTVC|broadcast").is_match(&e.text);
        let why = if scale { FILM_AT_SCALE } else { FEW_FILMS };
        let why = format!("“{}”: {why}. Edits, cut-downs and motion stay in-house.", quote(e));
        add(
            "Film and TVC production",
            if scale { Red } else { Amber },
            Source::ExternalVendor,
            PRODUCTION,
            why,
        );
    }
    if let Some(e) = find(r"photography\s+origination|original\s+photography|photo\s*shoots?") {
        let hero = re(r"key\s+visual|hero|launch").is_match(&e.text);
        let why = format!("“{}”: {}.", quote(e), if hero { HERO_SHOOTS } else { SMALL_SHOOTS });
        add(
            "Photography origination and shoot production",
            if hero { Amber } else { Green },
            Source::ExternalVendor,
            "Photographer and shoot-production roster",
            why,
        );
    }
    if let Some(e) = find(r"right-to-left|\bRTL\b") {
        let why = format!("“{}”: every layout needs an RTL version checked by a native reader.", quote(e));
        add("Right-to-left (Arabic) artwork and typesetting", Amber, Source::InternalSme, RTL_PARTNER, why);
    }
    if let Some(e) = find(r"\bAI\s+tool\w*|\bgenerative\b|\bAI-assisted") {
        let target = d.kpis_slas.iter().find(|k| re(r"cost\s+per\s+asset|efficien|reduc").is_match(k));
        let why = target.map_or(AI_OPTIONAL.to_string(), |k| {
            format!("the efficiency target (“{}”) is hard to reach without it", k.trim_end_matches('.'))
        });
        let level = if target.is_some() { Amber } else { Green };
        add(
            "AI-assisted adaptation and resizing at scale",
            level,
            Source::BrandtechPartner,
            "Pencil",
            format!("“{}”: {why}.", quote(e)),
        );
    }
    if let Some(e) = find(r"creative-x") {
        let why = format!("“{}”: the client already runs it; we need seats and its rule set.", quote(e));
        add("Automated brand-compliance checks", Green, Source::BrandtechPartner, "Creative-X", why);
    }
    gaps.sort_by_key(|g| g.criticality);
    let negated = |p: &str| segments.iter().any(|s| text::is_negated(&s.text) && re(p).is_match(&s.text));
    let excluded: Vec<String> =
        PARTNER_ONLY.iter().filter(|(_, p, ..)| negated(p)).map(|(c, ..)| c.to_lowercase()).collect();
    let core_in_scope = core(&d);
    CapabilityGapsOutput { summary: summary(&core_in_scope, &gaps, &excluded), core_in_scope, gaps }
}

const PRODUCTION: &str = "External production company";
const FILM_AT_SCALE: &str = "broadcast or hero film at scale needs a production company on contract";
const FEW_FILMS: &str =
    "a few hero films a year; a production company is safer, a lean in-house crew could limp";
const HERO_SHOOTS: &str = "launch imagery needs a booked photographer and crew; we art-direct, they shoot";
const SMALL_SHOOTS: &str = "small shoots an in-house photographer can cover; a roster adds capacity";
const RTL_PARTNER: &str = "Arabic-native designer or the translation partner's DTP team";
const AI_OPTIONAL: &str = "the client encourages it; it helps the price, but the work can be done without it";

/// What may ask for a capability: the brief's segments that are not out of scope (nor evaluation
/// criteria), the diagnosed deliverables, capabilities, tech asks and KPIs.
fn evidence(segments: &[text::Segment], d: &DiagnosisOutput) -> Vec<Evidence> {
    let nice = re(r"^(?:nice\s+to\s+have|optional|bonus)\b|\(optional\)");
    let in_scope =
        |s: &&text::Segment| !text::is_negated(&s.text) && !s.heading.to_lowercase().contains("evaluation");
    let mut out: Vec<Evidence> = segments
        .iter()
        .filter(in_scope)
        .map(|s| Evidence { text: s.text.clone(), ask: s.bullet, nice: nice.is_match(&s.text) })
        .collect();
    out.extend(d.deliverables.iter().map(|x| Evidence {
        text: format!("{} ({})", x.name, x.volume_estimate),
        ask: true,
        nice: x.complexity_hint.ends_with("(optional)"),
    }));
    let extra = d.capabilities_required.iter().chain(&d.tech_asks).chain(&d.kpis_slas);
    out.extend(extra.map(|t| Evidence { text: t.clone(), ask: false, nice: false }));
    out
}

/// The long-tail localisation gap: languages beyond [`IN_HOUSE_LANGUAGES`].
fn localisation(d: &DiagnosisOutput) -> Option<Gap> {
    let line = d.capabilities_required.iter().find(|c| c.starts_with("Localisation into"))?;
    let languages: Vec<String> = line.split_once(": ")?.1.split(", ").map(str::to_string).collect();
    let tail: Vec<String> =
        languages.iter().filter(|l| !IN_HOUSE_LANGUAGES.contains(&l.as_str())).cloned().collect();
    if tail.is_empty() {
        return None;
    }
    let rtl = tail.iter().any(|l| ["Arabic", "Hebrew", "Farsi", "Urdu"].contains(&l.as_str()));
    let criticality = if tail.len() >= 3 || rtl { Criticality::Red } else { Criticality::Amber };
    let impact = match criticality {
        Criticality::Red => {
            "every market's adaptation depends on them, so the scope cannot ship without this"
        }
        _ => "freelancers could cover them at first",
    };
    let (n, of, assumed) = (tail.len(), languages.len(), IN_HOUSE_LANGUAGES.join(", "));
    Some(Gap {
        capability: format!("Localisation in long-tail languages ({})", text::join_list(&tail)),
        criticality,
        suggested_source: Source::ExternalVendor,
        suggested_partner: "External translators and transcreators (native, per language)".into(),
        rationale: format!(
            "{n} of {of} languages are beyond the in-house writers (assumed: {assumed}; confirm with \
             resourcing); {impact}."
        ),
    })
}

/// The in-house core areas this brief uses, each with its deliverables.
fn core(d: &DiagnosisOutput) -> Vec<String> {
    let areas = [
        ("Campaign", "Campaign and static design"),
        ("Social", "Social content"),
        ("Video", "Motion design, edits and cut-downs"),
        ("eCommerce", "eCommerce content"),
        ("CRM", "CRM and email"),
        ("Display", "Display and HTML5 banners"),
        ("Print", "Retail and print artwork"),
        ("Content", "Copywriting"),
        ("Localisation", "Adaptation and in-house-language localisation"),
        ("Reporting", "Reporting"),
    ];
    let named = |category: &str| -> Vec<String> {
        let of = d.deliverables.iter().filter(|x| x.category == category);
        of.map(|x| text::quote(&x.name, 50)).collect()
    };
    let mut out: Vec<String> = areas
        .iter()
        .map(|(category, area)| (area, named(category)))
        .filter(|(_, names)| !names.is_empty())
        .map(|(area, names)| format!("{area}: {}", names.join("; ")))
        .collect();
    if !out.is_empty() {
        out.push("Basic strategy, account and project management".to_string());
    }
    out
}

fn summary(core: &[String], gaps: &[Gap], excluded: &[String]) -> String {
    let count = |c: Criticality| gaps.iter().filter(|g| g.criticality == c).count();
    let (red, amber, green) = (count(Criticality::Red), count(Criticality::Amber), count(Criticality::Green));
    let mut s = if core.is_empty() && gaps.is_empty() {
        "No scope could be read, so no core capabilities or gaps are listed yet.".to_string()
    } else {
        format!(
            "{} core area(s) in-house; {} gap(s): {red} red, {amber} amber, {green} green.",
            core.len(),
            gaps.len()
        )
    };
    let red: Vec<String> =
        gaps.iter().filter(|g| g.criticality == Criticality::Red).map(|g| g.capability.clone()).collect();
    if !red.is_empty() {
        s += &format!(" Solve before pricing: {}.", text::join_list(&red));
    }
    if !excluded.is_empty() {
        s += &format!(" Not listed because the brief puts it out of scope: {}.", text::join_list(excluded));
    }
    s
}
