//! Stage 7, offline: ranks catalog entries (hour routes) for one client asset by weighted word overlap.
//!
//! How a score is made, so a reader can check one by hand:
//! 1. Both sides are reduced to terms: lower case, singular, with a few spellings merged ("key
//!    visual" → `kv`, "film" → `video`, "copywriting" → `copy`, "point-of-sale" → `pos`) and
//!    complexity, period and filler words dropped.
//! 2. Each term weighs its rarity in the catalog (idf = ln(1 + N / (1 + entries using it))).
//!    `coverage` = how much of the asset's name the entry explains (a term in the entry's name or
//!    sub-category counts fully, one only in its category or descriptions 0.7); `fit` = how much of
//!    the entry's name the asset asks for (a term only in the asset's description counts half).
//!    Word score = 0.6 × coverage + 0.4 × fit.
//! 3. The seed's terminology bridges ("KV" → Photography, "PDP" → eCommerce / Copywriting, "launch
//!    video" → Campaign Video, "social post" → Social, "banner" → Display) and a few of our own lift
//!    entries of the bridged category by 30 % of the remaining gap (50 % for a bridged sub-category)
//!    and lower other categories to 80 %. A bridge never creates a match out of nothing. Moving
//!    work (video, reel, motion) matched to a still route (static, image), or the reverse, keeps 75 %.
//! 4. Complexity is matched literally: a stated level scores 1, one step away 0.85, two 0.72.
//!    "HTML5" and "rich media" imply Complex when no level is stated. With no level at all, Medium
//!    scores 1 and the others 0.96, so all three come back and the user chooses.
//!
//! The best entry is returned, plus up to two more within 5 % of its score. Bands: exact ≥ 0.9,
//! close ≥ 0.3 (called weak below 0.6 in the reasoning), none < 0.3; `multiple` when several are
//! kept. An asset sharing no term with the catalog gets no candidate. Ties go to the lower
//! catalog id, so the same input always gives the same answer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use domain::asset::{MatchConfidence, MAX_MATCHES_PER_ASSET};
use domain::catalog::CatalogEntry;
use serde::{Deserialize, Serialize};

use super::normaliser::NormalizedAsset;
use super::text;

/// One proposed catalog entry for an asset: a row of the seed's `submit_matches`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchCandidate {
    /// The catalog entry's id (`CatalogEntry::catalog_id`).
    pub gmal_id: String,
    /// exact, close, multiple or none (never manual: that is a person's choice).
    pub confidence: MatchConfidence,
    /// 0–1; see the module documentation for how it is made.
    pub confidence_score: f64,
    /// Why this entry: shared terms, bridges and complexity.
    pub reasoning: String,
    /// What the entry covers against what the client described, and the entry's own caveats.
    pub caveats: String,
}

/// Score from which a match is exact.
pub const EXACT_SCORE: f64 = 0.9;
/// Score from which a match is close rather than weak (reasoning only; both are `close`).
pub const CLOSE_SCORE: f64 = 0.6;
/// Below this score a match is `none`.
pub const NONE_BELOW: f64 = 0.3;
/// Runners-up are kept when their score is at least this share of the best.
pub const WITHIN: f64 = 0.95;

/// A terminology bridge: when every `when` term is in the asset's name, entries whose category
/// contains one of `categories` (or whose sub-category contains `sub_category`) are preferred.
struct Bridge {
    when: &'static [&'static str],
    categories: &'static [&'static str],
    sub_category: &'static str,
}

const fn bridge(
    when: &'static [&'static str],
    categories: &'static [&'static str],
    sub: &'static str,
) -> Bridge {
    Bridge { when, categories, sub_category: sub }
}

const BRIDGES: &[Bridge] = &[
    bridge(&["kv"], &["photo"], "kv shoot"),
    bridge(&["pdp"], &["ecommerce", "copywriting"], ""),
    bridge(&["product", "listing"], &["ecommerce", "copywriting"], "product listing"),
    bridge(&["launch", "video"], &["campaign video"], ""),
    bridge(&["social", "post"], &["social"], ""),
    bridge(&["social"], &["social"], ""),
    bridge(&["reel"], &["social"], "reel"),
    bridge(&["shortform"], &["social"], "reel"),
    bridge(&["social", "video"], &["social"], "reel"),
    bridge(&["motion"], &["social"], "motion"),
    bridge(&["banner"], &["display"], ""),
    bridge(&["display"], &["display"], ""),
    bridge(&["photo"], &["photo"], ""),
    bridge(&["shoot"], &["photo"], ""),
    bridge(&["bullet"], &["ecommerce"], "product listing"),
    bridge(&["email"], &["crm", "email"], ""),
    bridge(&["newsletter"], &["crm", "email"], "newsletter"),
    bridge(&["pos"], &["print"], "pos"),
    bridge(&["leaflet"], &["print"], "leaflet"),
    bridge(&["transcreation"], &["locali"], "transcreation"),
    bridge(&["translation"], &["locali"], "language"),
    bridge(&["report"], &["programme"], "reporting"),
];

/// Phrases merged into one term before splitting, on both sides.
const PHRASES: [(&str, &str); 14] = [
    ("short-form", " shortform "),
    ("short form", " shortform "),
    ("key visual", " kv "),
    ("point-of-sale", " pos "),
    ("point of sale", " pos "),
    ("product detail page", " pdp "),
    ("rich media", " richmedia "),
    ("cut-down", " cutdown "),
    ("cut down", " cutdown "),
    ("a+", " aplus "),
    ("enhanced brand content", " aplus "),
    ("enhanced content", " aplus "),
    ("in-store", " instore pos "),
    ("e-mail", " email "),
];
/// Words that say nothing about the kind of deliverable (complexity is scored on its own).
const STOP_WORDS: &str =
    "a an the of for and or in on at to with per each every all from by as is are be our \
    we us this that these those plus up into via using not no any some around approx about than also etc \
    one two three month year week quarter day volume tbc confirm client brief midpoint stated read period \
    given total simple medium complex moderate basic advanced bespoke lightly level";

static STOP: LazyLock<BTreeSet<&'static str>> = LazyLock::new(|| STOP_WORDS.split_whitespace().collect());

/// Ranks `catalog` for `asset` and returns the best candidates, best first (at most three).
/// For many assets, build a [`CatalogIndex`] once instead.
pub fn match_asset(asset: &NormalizedAsset, catalog: &[CatalogEntry]) -> Vec<MatchCandidate> {
    CatalogIndex::new(catalog).match_asset(asset)
}

/// A catalog's terms and their weights, worked out once and reused for every asset.
pub struct CatalogIndex<'a> {
    catalog: &'a [CatalogEntry],
    profiles: Vec<Profile>,
    /// Entries using each term.
    df: BTreeMap<String, f64>,
}

/// What an asset asks for, reduced to terms.
struct Query {
    name: BTreeSet<String>,
    desc: BTreeSet<String>,
    bridges: Vec<&'static Bridge>,
    stated: BTreeSet<u8>,
}

impl<'a> CatalogIndex<'a> {
    /// Indexes `catalog` (any catalog: the default one or a customer's import).
    pub fn new(catalog: &'a [CatalogEntry]) -> Self {
        let profiles: Vec<Profile> = catalog.iter().map(Profile::new).collect();
        let mut df: BTreeMap<String, f64> = BTreeMap::new();
        for t in profiles.iter().flat_map(|p| &p.all) {
            *df.entry(t.clone()).or_default() += 1.0;
        }
        Self { catalog, profiles, df }
    }

    fn idf(&self, term: &str) -> f64 {
        let n = self.profiles.len() as f64;
        (1.0 + n / (1.0 + self.df.get(term).copied().unwrap_or(0.0))).ln()
    }

    /// Ranks the catalog for `asset`: the best entry plus any within 5 % of it, at most three.
    pub fn match_asset(&self, asset: &NormalizedAsset) -> Vec<MatchCandidate> {
        let mut name: BTreeSet<String> = terms(&asset.raw_name).into_iter().collect();
        let mut desc: BTreeSet<String> = terms(&asset.raw_description).into_iter().collect();
        if name.is_empty() {
            std::mem::swap(&mut name, &mut desc);
        }
        desc.retain(|t| !name.contains(t));
        let bridges = BRIDGES.iter().filter(|b| b.when.iter().all(|w| name.contains(*w))).collect();
        let stated = stated_levels(&format!("{} {}", asset.raw_name, asset.raw_description));
        let query = Query { name, desc, bridges, stated };
        if query.name.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(f64, usize)> =
            (0..self.catalog.len()).map(|i| (self.score(&query, i), i)).collect();
        let id = |i: usize| &self.catalog[i].catalog_id;
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| id(a.1).cmp(id(b.1))));
        let top = scored.first().map_or(0.0, |s| s.0);
        if top <= 0.0 {
            return Vec::new();
        }
        let keep = if top < NONE_BELOW { 1 } else { MAX_MATCHES_PER_ASSET };
        let kept: Vec<(f64, usize)> = scored.into_iter().take(keep).filter(|s| s.0 >= top * WITHIN).collect();
        let several = kept.len() > 1;
        kept.iter()
            .map(|&(score, i)| {
                let confidence = match score {
                    _ if several => MatchConfidence::Multiple,
                    s if s >= EXACT_SCORE => MatchConfidence::Exact,
                    s if s >= NONE_BELOW => MatchConfidence::Close,
                    _ => MatchConfidence::None,
                };
                let (reasoning, caveats) =
                    explain(asset, &self.catalog[i], &self.profiles[i], &query, score, several);
                let gmal_id = self.catalog[i].catalog_id.clone();
                MatchCandidate { gmal_id, confidence, confidence_score: score, reasoning, caveats }
            })
            .collect()
    }

    /// The score of entry `i` for `q`, rounded to three decimals (see the module documentation).
    fn score(&self, q: &Query, i: usize) -> f64 {
        let (p, entry) = (&self.profiles[i], &self.catalog[i]);
        let idf = |t: &str| self.idf(t);
        let coverage =
            weighted(
                &q.name,
                &idf,
                |t| if p.name.contains(t) { 1.0 } else { 0.7 * one_if(p.all.contains(t)) },
            );
        let fit = weighted(&p.name, &idf, |t| one_if(q.name.contains(t)) + 0.5 * one_if(q.desc.contains(t)));
        let bridged =
            bridge_adjust(0.6 * coverage + 0.4 * fit, &q.bridges, &entry.category, &entry.sub_category);
        let clash = if medium(&q.name).is_some_and(|m| medium(&p.name) == Some(!m)) { 0.75 } else { 1.0 };
        let score = bridged * clash * level_factor(&q.stated, level(&entry.complexity));
        (score * 1000.0).round() / 1000.0
    }
}

/// An entry's terms: `name` from its asset name and sub-category, `all` adding category and descriptions.
struct Profile {
    name: BTreeSet<String>,
    all: BTreeSet<String>,
}

impl Profile {
    fn new(e: &CatalogEntry) -> Self {
        let name: BTreeSet<String> =
            terms(&format!("{} {}", e.asset_name, e.sub_category)).into_iter().collect();
        let rest = [Some(&e.category), e.sub_category_description.as_ref(), Some(&e.asset_description)];
        let mut all = name.clone();
        all.extend(rest.into_iter().flatten().flat_map(|t| terms(t)));
        Self { name, all }
    }
}

/// 1 for true, 0 for false: a term's credit.
fn one_if(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Σ idf × credit over `set`, divided by Σ idf: the idf-weighted share of `set` that is credited.
fn weighted(set: &BTreeSet<String>, idf: &impl Fn(&str) -> f64, credit: impl Fn(&str) -> f64) -> f64 {
    let total: f64 = set.iter().map(|t| idf(t)).sum();
    let got: f64 = set.iter().map(|t| idf(t) * credit(t).min(1.0)).sum();
    if total > 0.0 {
        got / total
    } else {
        0.0
    }
}

fn bridge_adjust(words: f64, bridges: &[&Bridge], category: &str, sub_category: &str) -> f64 {
    let (category, sub_category) = (category.to_lowercase(), sub_category.to_lowercase());
    let sub = bridges.iter().any(|b| !b.sub_category.is_empty() && sub_category.contains(b.sub_category));
    let cat = bridges.iter().any(|b| b.categories.iter().any(|c| category.contains(c)));
    match () {
        _ if words <= 0.0 || bridges.is_empty() => words,
        _ if sub => words + 0.5 * (1.0 - words),
        _ if cat => words + 0.3 * (1.0 - words),
        _ => words * 0.8,
    }
}

/// Whether a name is about moving (`true`) or still (`false`) work; `None` when it says both or neither.
fn medium(name: &BTreeSet<String>) -> Option<bool> {
    let moving = ["video", "reel", "motion", "animation", "cutdown", "gif"].iter().any(|t| name.contains(*t));
    let still = ["static", "image", "photo", "leaflet", "poster"].iter().any(|t| name.contains(*t));
    (moving != still).then_some(moving)
}

/// Complexity levels the asset states (0 simple, 1 medium, 2 complex); implied Complex for HTML5
/// and rich media when none is stated.
fn stated_levels(text: &str) -> BTreeSet<u8> {
    let words = text::words(text);
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let mut levels: BTreeSet<u8> = BTreeSet::new();
    for (level, list) in
        [(0, &["simple", "basic"][..]), (1, &["medium", "moderate"]), (2, &["complex", "advanced"])]
    {
        if has(list) {
            levels.insert(level);
        }
    }
    if levels.is_empty() && (has(&["html5", "interactive"]) || text.to_lowercase().contains("rich media")) {
        levels.insert(2);
    }
    levels
}

fn level(complexity: &str) -> Option<u8> {
    match complexity.trim().to_lowercase().as_str() {
        "simple" | "low" | "basic" | "light" => Some(0),
        "medium" | "standard" | "mid" | "moderate" => Some(1),
        "complex" | "high" | "advanced" | "premium" => Some(2),
        _ => None,
    }
}

fn level_factor(stated: &BTreeSet<u8>, entry: Option<u8>) -> f64 {
    match (stated.is_empty(), entry) {
        (true, Some(1)) => 1.0,
        (true, _) => 0.96,
        (false, None) => 0.9,
        (false, Some(e)) => match stated.iter().map(|s| s.abs_diff(e)).min().unwrap_or(0) {
            0 => 1.0,
            1 => 0.85,
            _ => 0.72,
        },
    }
}

/// Lower-case terms with phrases merged, synonyms folded, plurals removed and stop words dropped.
fn terms(text: &str) -> Vec<String> {
    let mut lower = format!(" {} ", text.to_lowercase());
    for (phrase, term) in PHRASES {
        lower = lower.replace(phrase, term);
    }
    let raw: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let seconds = ["second", "seconds", "sec"].contains(raw.get(i + 1).unwrap_or(&""));
        if w.chars().all(|c| c.is_ascii_digit()) {
            if seconds {
                out.push(format!("{w}s"));
            }
            continue;
        }
        let term = fold(w);
        if term.len() > 1 && !STOP.contains(w) && !STOP.contains(term) {
            out.push(term.to_string());
            if ["wobbler", "shelf"].contains(&term) {
                out.push("pos".into());
            }
            if term == "reel" {
                out.push("video".into());
            }
            if term == "translation" {
                out.push("language".into());
            }
        }
    }
    out
}

/// One spelling per idea: singular, and a few synonyms folded together.
fn fold(word: &str) -> &str {
    let singular = match word {
        w if w.ends_with("ies") && w.len() > 4 => return fold_ies(w),
        w if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && w.len() > 3 => &w[..w.len() - 1],
        w => w,
    };
    match singular {
        "photography" | "photograph" | "photo" | "imagery" => "photo",
        "film" => "video",
        "copywriting" | "copywriter" => "copy",
        "localisation" | "localization" | "localised" | "localized" => "localisation",
        "adapt" | "adaptation" | "adapted" => "adaptation",
        "reporting" => "report",
        "tiktok" => "reel",
        "advert" | "advertisement" => "ad",
        "translated" | "translate" => "translation",
        w => w,
    }
}

fn fold_ies(word: &str) -> &str {
    match word {
        "stories" => "story",
        "countries" => "country",
        _ => word,
    }
}

fn explain(
    asset: &NormalizedAsset,
    entry: &CatalogEntry,
    profile: &Profile,
    q: &Query,
    score: f64,
    several: bool,
) -> (String, String) {
    let (name, desc, bridges, stated) = (&q.name, &q.desc, &q.bridges, &q.stated);
    let shared: Vec<String> = name.iter().chain(desc).filter(|t| profile.all.contains(*t)).cloned().collect();
    let missing: Vec<String> = name.iter().filter(|t| !profile.all.contains(*t)).cloned().collect();
    let band = match score {
        s if s >= EXACT_SCORE => "exact",
        s if s >= CLOSE_SCORE => "close",
        s if s >= NONE_BELOW => "weak",
        _ => "no reliable match",
    };
    let mut reasoning = format!(
        "\"{}\" read as {} ({} › {}, {}). Shared terms: {}.",
        asset.raw_name,
        entry.asset_name,
        entry.category,
        entry.sub_category,
        entry.complexity,
        if shared.is_empty() { "none".to_string() } else { shared.join(", ") }
    );
    let (ours, others): (Vec<&&Bridge>, Vec<&&Bridge>) =
        bridges.iter().partition(|b| bridge_adjust(0.5, &[b], &entry.category, &entry.sub_category) > 0.5);
    let triggers = |list: &[&&Bridge]| {
        let mut words: Vec<String> = list.iter().map(|b| format!("\"{}\"", b.when.join(" "))).collect();
        words.dedup();
        words.join(", ")
    };
    if !ours.is_empty() {
        reasoning.push_str(&format!(" Terminology bridge {} favours {}.", triggers(&ours), entry.category));
    } else if !others.is_empty() {
        reasoning.push_str(&format!(" Terminology bridge {} favours other categories.", triggers(&others)));
    }
    let level_note = match stated.len() {
        0 => "Complexity not stated: Medium assumed, Simple and Complex kept as alternatives.".to_string(),
        1 => format!("Complexity matched literally to the brief's wording ({}).", entry.complexity),
        _ => "The brief mixes complexity levels; split the volume by level.".to_string(),
    };
    reasoning.push_str(&format!(" {level_note} Score {score:.2} ({band}"));
    reasoning.push_str(if several { "; other routes within 5 %)." } else { ")." });

    let mut caveats = String::new();
    if score < NONE_BELOW {
        caveats.push_str("No catalog route fits well: price this asset by hand or add a route. ");
    }
    caveats.push_str(&format!("The route covers: {}", entry.asset_description.trim_end_matches('.')));
    if let Some(c) = entry.complexity_description.as_deref().filter(|c| !c.is_empty()) {
        caveats.push_str(&format!(" ({})", c.trim_end_matches('.')));
    }
    let described =
        if asset.raw_description.trim().is_empty() { &asset.raw_name } else { &asset.raw_description };
    caveats
        .push_str(&format!(". The client described: {}.", text::quote(described, 160).trim_end_matches('.')));
    if !missing.is_empty() {
        caveats.push_str(&format!(" Not in the route's wording: {}.", missing.join(", ")));
    }
    if stated.is_empty() {
        caveats.push_str(" Confirm the complexity with the client.");
    }
    if let Some(a) = entry.agency_caveats.as_deref().filter(|a| !a.is_empty()) {
        caveats.push_str(&format!(" Agency caveats: {a}"));
    }
    (reasoning, caveats)
}
