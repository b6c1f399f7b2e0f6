//! Stage 2 offline (the diagnosis agent, tool `submit_brief_diagnosis`): reads a brief like a
//! strategist preparing a scope — deliverables and their volumes, channels, markets, capabilities,
//! KPIs, tech asks, timelines — and turns what it leaves open or contradicts into client questions.
//!
//! Contract (tested): each ambiguity's text appears verbatim in the `rationale` of the clarification
//! that asks about it, and there are always at least six clarifications — a thin or empty brief
//! gets questions for its missing basics (markets, volumes, turnaround, feedback rounds, dates,
//! channels, budget, KPIs). Priorities: red blocks pricing (volumes, markets, turnaround, rounds,
//! conflicting figures), amber is scope detail, green is nice to know. Beyond fifteen questions,
//! only the optional green extras are dropped; a question tied to an ambiguity is never dropped.

use domain::clarification::Priority;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use self::Complexity::{High, Low, Medium};
use super::text::{self, Milestone, Segment};

/// One asset or service the brief asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliverable {
    /// A specific name, e.g. "Paid social statics".
    pub name: String,
    /// Its category, e.g. "Social", "eCommerce", "CRM".
    pub category: String,
    /// The volume in the brief's own words ("~50 per month", "quantities TBC", "on demand"), or
    /// "not stated".
    pub volume_estimate: String,
    /// "low", "medium" or "high", with what drives it ("high: original shoot").
    pub complexity_hint: String,
}

/// Overall complexity of the brief; serialises as "low", "medium" or "high".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Complexity {
    /// A single market and a handful of simple deliverables.
    Low,
    /// Several deliverables or markets, or some craft-heavy work.
    Medium,
    /// Many markets and deliverables, conflicts or specialist needs.
    High,
}

impl Complexity {
    /// The lower-case name used in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// A question for the client (seeded into the clarifications of stage 4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clarification {
    /// Grouping in the Q&A pack, e.g. "Volumes", "Timeline", "Markets & languages".
    pub category: String,
    /// The question itself; always ends with '?'.
    pub question: String,
    /// Why we ask: the observation(s) behind it and what they change.
    pub rationale: String,
    /// Red (blocks pricing), amber (scope detail) or green (nice to know).
    pub priority: Priority,
}

/// The diagnosis agent's output, with the seed's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisOutput {
    /// Specific assets and services with volumes.
    pub deliverables: Vec<Deliverable>,
    /// Channels the work runs on (paid social, email/CRM, display, …, and named platforms).
    pub channels: Vec<String>,
    /// Markets named in the brief, in order of first mention.
    pub markets: Vec<String>,
    /// Capabilities the work needs (photography, HTML5 build, RTL artwork, …).
    pub capabilities_required: Vec<String>,
    /// KPI and service-level statements, as written.
    pub kpis_slas: Vec<String>,
    /// Tools, platforms and technology requirements, as written.
    pub tech_asks: Vec<String>,
    /// Dated statements with their explicit dates, and the contract term.
    pub timelines: Vec<String>,
    /// What the brief leaves open that affects effort.
    pub ambiguities: Vec<String>,
    /// Explicit conflicts (two dates for one milestone, two figures for one volume).
    pub contradictions: Vec<String>,
    /// Overall complexity.
    pub complexity_assessment: Complexity,
    /// A few sentences on what the brief asks and what is open.
    pub summary: String,
    /// Questions for the client: at least six.
    pub clarifications: Vec<Clarification>,
}

/// Compiles a built-in pattern once per process, case-insensitive and in verbose mode (whitespace
/// in the pattern is ignored, so long patterns can wrap; a real space is written `\s`).
fn re(pattern: &'static str) -> Regex {
    static CACHE: LazyLock<Mutex<HashMap<&'static str, Regex>>> = LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let compiled = cache
        .entry(pattern)
        .or_insert_with(|| Regex::new(&format!("(?ix){pattern}")).expect("built-in pattern is valid"));
    compiled.clone()
}

/// Deliverable lexicon, first match wins: pattern, name, category, base complexity.
const LEXICON: &[(&str, &str, &str, Complexity)] = &[
    (r"\bkey\s+visuals?|\bKVs?\b", "Key visuals", "Campaign", High),
    (r"\bhero\s+films?|\blaunch\s+videos?|\bTVCs?\b|\bbrand\s+films?", "Hero films", "Video", High),
    (r"\btoolkits?\b|\btoolbox", "Campaign toolkits", "Campaign", High),
    (r"\bpaid\s+social|\bsocial\s+ads?\b", "Paid social ads", "Social", Low),
    (r"\bmotion\s+social|\bsocial\s+motion|\banimated\s+social", "Motion social", "Social", Medium),
    (r"\bshort-form\s+videos?|\breels\b|\btiktoks?\b", "Short-form social videos", "Social", Medium),
    (r"\borganic\s+(?:social\s+)?posts?|\bsocial\s+posts?", "Organic social posts", "Social", Low),
    (r"\bPDPs?\b|\bproduct\s+detail\s+pages?", "PDP content", "eCommerce", Medium),
    (r"\bA\+|\benhanced\s+content", "A+ / enhanced content", "eCommerce", Medium),
    (r"\bretailer\s+banners?|\bretail\s+media", "Retailer banners", "eCommerce", Low),
    (r"\bproduct\s+listing|\blisting\s+copy", "Product listing copy", "eCommerce", Low),
    (r"\bemail\s+templates?|\bCRM\s+templates?", "CRM email templates", "CRM", Medium),
    (r"\bnewsletters?\b", "Newsletters", "CRM", Low),
    (r"\bdisplay\s+banners?|\bHTML5\b", "Display banners", "Display", Medium),
    (r"\bpoint-of-sale|\bPOS\b|\bleaflets?|\bwobblers?|\bposters?|\bprint\b", "Print and POS", "Print", Low),
    (r"\bphoto\s*shoots?|\bphotography", "Photo shoots", "Production", High),
    (r"\bperformance\s+reports?|\breporting\b", "Performance reporting", "Reporting", Low),
    (r"\bvideos?\b|\bfilms?\b", "Video", "Video", Medium),
    (
        r"\btranscreation|\btranslation|\blocali[sz]ation",
        "Transcreation and translation",
        "Localisation",
        Medium,
    ),
    (r"\bcopywriting|\bcopy\b", "Copywriting", "Content", Low),
];

/// What raises a deliverable's complexity, shown in its hint.
const DRIVERS: &[(&str, &str)] = &[
    (
        r"photography\s+origination|original\s+photography|photo\s*shoot|\bfilmed\b|\bfilming\b",
        "original shoot",
    ),
    (r"master\s+plus|cut-?downs?|\badapts\b", "master plus adapts"),
    (r"\bHTML5\b", "HTML5 build"),
    (r"simple\s+and\s+complex", "mixed simple/complex builds"),
    (r"\b(?:1:1|4:5|9:16|16:9)\b", "several aspect ratios"),
    (
        r"\ball\s+(?:phase\s+\d\s+)?(?:markets|languages)|\b\d+\s+markets|\blocali[sz]ed",
        "multi-market adaptation",
    ),
    (r"\bper\s+centre|\bper\s+store|\bper\s+location", "per-location versions"),
    (r"\bA\+|\benhanced\s+content", "retailer content specs"),
    (r"\bmodular\b", "modular system"),
    (r"\b360\b", "360 toolkit"),
];

const CHANNELS: &[(&str, &str)] = &[
    ("Paid social", r"\bpaid\s+social|\bsocial\s+ads?\b|\bsocial\s+advertising"),
    ("Organic social", r"\borganic\s+(?:social|posts?)|\bsocial\s+posts?|\bsocial\s+content|\bcommunity"),
    ("Email / CRM", r"\bCRM\b|\bemails?\b|\bnewsletters?|\bmailchimp"),
    ("Display", r"\bdisplay\b|\bHTML5\b|\bprogrammatic"),
    (
        "eCommerce / retail media",
        r"\be-?commerce|\bPDPs?\b|\bamazon|\bretailers?\b|\bmarketplaces?|\bretail\s+media",
    ),
    ("Print / point of sale", r"\bprint\b|\bpoint-of-sale|\bleaflets?|\bwobblers?|\bin-store"),
    ("OOH", r"\bOOH\b|\bout-of-home|\bbillboards?|\bdigital\s+signage"),
    ("TV / video", r"\bTV\b|\bbroadcast|\bfilms?\b|\bvideos?\b|\breels\b"),
    ("Web", r"\bwebsites?|\blanding\s+pages?|\bweb\s?pages?|\bmicrosites?"),
    ("Instagram", r"\binstagram"),
    ("Facebook", r"\bfacebook"),
    ("TikTok", r"\btiktok"),
    ("YouTube", r"\byoutube"),
    ("LinkedIn", r"\blinkedin"),
];

const CAPABILITIES: &[(&str, &str)] = &[
    ("Campaign creative and art direction", r"\bkey\s+visuals?|\bart\s+direction|\bcampaign\s+toolkits?"),
    ("Photography (origination and shoots)", r"\bphotograph\w*|\bphoto\s*shoots?"),
    ("Video production and editing", r"\bfilms?\b|\bvideos?\b|\bfilmed\b"),
    ("Motion design", r"\bmotion\b|\banimat\w+"),
    ("Copywriting", r"\bcopy\w*"),
    ("Transcreation and translation", r"\btranscreat\w*|\btranslat\w*|\blocali[sz]\w*"),
    ("Right-to-left (RTL) artwork", r"\bright-to-left|\bRTL\b"),
    ("HTML5 banner build", r"\bHTML5\b|\bdisplay\s+banners?"),
    ("Marketplace content (PDP, Amazon A+)", r"\bPDPs?\b|\bA\+|\benhanced\s+content|\bamazon"),
    ("CRM and email design and build", r"\bCRM\b|\bemail\s+templates?|\bnewsletters?"),
    ("Social content creation", r"\bsocial\b"),
    ("Print and POS artwork", r"\bpoint-of-sale|\bprint\b|\bleaflets?"),
    ("Digital asset management", r"\bDAM\b|\bbynder|\basset\s+library"),
    ("AI-assisted adaptation and resizing", r"\bAI\s+tool\w*"),
    ("Brand compliance QA", r"\bbrand\s+compliance|\bcreative-x"),
    ("Performance reporting and analytics", r"\bperformance\s+reports?|\breporting\b|\banalytics"),
    (
        "Account and project management",
        r"\bsingle\s+point\s+of\s+contact|\baccount\s+management|\bproject\s+management",
    ),
    ("Central production studio", r"\bstudio\b|\bhub-and-spoke|\bnearshore|\boffshore"),
];

static NOT_DELIVERABLES: LazyLock<Regex> = LazyLock::new(|| {
    re(r"background|market|language|ways\s+of\s+working|kpi|service\s+level|timeline|timing
        |commercial|budget|evaluation|contact|submission")
});
static KPI: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\d+\s*%|\bKPIs?\b|\bSLAs?\b|\bturn-?around|\bon-time|\bfirst-time-right|\bservice\s+levels?
        |\bwithin\s+(?:a\s+few|one|two|three|\d+)\b")
});
static TECH: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\bDAM\b|\bbynder|\bcreative-x|\bmailchimp|\bsalesforce|\bSFMC\b|\bhubspot|\bbraze\b|\badobe
        |\bfigma|\bworkfront|\bjira\b|\bshopify|\bsharepoint|\bSSO\b|\bsecurity\s+review|\bAPIs?\b
        |\bintegrat\w+|\bCMS\b|\bAI\s+tool\w*")
});

/// Reads a brief and returns its diagnosis. Never panics; an empty brief gives empty lists, low
/// complexity and the generic questions for the missing basics.
pub fn diagnose(text: &str) -> DiagnosisOutput {
    let segments = text::segments(text);
    let scan: Vec<&Segment> = segments
        .iter()
        .filter(|s| !text::is_negated(&s.text) && !s.heading.to_lowercase().contains("evaluation"))
        .collect();
    let markets = text::find_markets(text);
    let languages = languages(text, &markets);
    let deliverables = deliverables(&segments, markets.len());
    let channels = tagged(&scan, CHANNELS);
    let mut capabilities_required = tagged(&scan, CAPABILITIES);
    if !languages.is_empty() {
        let list: Vec<String> = languages.iter().map(|l| l.to_string()).collect();
        capabilities_required.push(format!(
            "Localisation into {} language(s): {}",
            list.len(),
            list.join(", ")
        ));
    }
    let in_kpi_section = |s: &Segment| re(r"kpi|service\s+level").is_match(&s.heading);
    let kpis_slas = as_written(&scan, |s| (KPI.is_match(&s.text) || in_kpi_section(s)) && !commercial(s));
    let tech_asks = as_written(&scan, |s| TECH.is_match(&s.text));
    let milestones = text::milestone_dates(text);
    let timelines = timelines(&segments, &milestones);

    let mut found = Findings::default();
    found.vague_phrases(&segments, &deliverables, &markets, &languages);
    found.volume_conflicts(&scan);
    found.date_conflicts(&milestones);
    found.missing_basics(text, &markets, &deliverables, &channels, &kpis_slas, &milestones);
    found.extras(&segments, &deliverables);

    let complexity_assessment = complexity(&markets, &deliverables, &channels, &found, text);
    let (ambiguities, contradictions, clarifications) = found.finish();
    let market_names: Vec<String> = markets.iter().map(|m| m.name.to_string()).collect();
    let summary =
        summary(text, &deliverables, &channels, &market_names, languages.len(), complexity_assessment)
            + &format!(
                " {} ambiguit(ies) and {} contradiction(s) lead to {} clarification question(s), {} red.",
                ambiguities.len(),
                contradictions.len(),
                clarifications.len(),
                clarifications.iter().filter(|c| c.priority == Priority::Red).count()
            );
    DiagnosisOutput {
        deliverables,
        channels,
        markets: market_names,
        capabilities_required,
        kpis_slas,
        tech_asks,
        timelines,
        ambiguities,
        contradictions,
        complexity_assessment,
        summary,
        clarifications,
    }
}

fn commercial(s: &Segment) -> bool {
    re(r"commercial|budget|evaluation").is_match(&s.heading)
}

/// Languages the work needs: those the brief names, plus each market's own when it asks for
/// localisation ("official languages", "localised", "translation", …).
fn languages(text: &str, markets: &[&'static text::Market]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if re(r"\blanguages?\b|\blocali[sz]\w*|\btranslat\w*|\btranscreat\w*").is_match(text) {
        out.extend(markets.iter().flat_map(|m| m.languages.first().copied()));
    }
    out.extend(text::find_languages(text));
    text::unique(out)
}

/// The first lexicon entry a text matches.
fn lexicon(text: &str) -> Option<&'static (&'static str, &'static str, &'static str, Complexity)> {
    static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| LEXICON.iter().map(|e| re(e.0)).collect());
    PATTERNS.iter().position(|p| p.is_match(text)).map(|i| &LEXICON[i])
}

/// The deliverable a segment asks for, if it asks for one.
fn deliverable_of(seg: &Segment, market_count: usize) -> Option<Deliverable> {
    static NICE: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:nice\s+to\s+have|optional|also|bonus)\b"));
    static LOCALISATION: LazyLock<Regex> = LazyLock::new(|| re(r"\btranscreat\w*|\btranslat\w*"));
    let nice = NICE.is_match(&seg.text);
    let candidate = seg.bullet || nice || LOCALISATION.is_match(&seg.text);
    if !candidate || text::is_negated(&seg.text) || NOT_DELIVERABLES.is_match(&seg.heading) {
        return None;
    }
    let plain = text::strip_parentheticals(&seg.text);
    let clause = |t: &str| t.split([',', ';', '.']).next().unwrap_or("").trim().to_string();
    let label = plain.split_once(": ").filter(|(l, _)| l.split_whitespace().count() <= 10);
    let entry = label.and_then(|(l, _)| lexicon(l)).or_else(|| lexicon(&seg.text));
    let (_, lex_name, category, level) = entry?;
    let name = match label {
        Some((_, rest)) if nice => format!("{} (nice to have)", text::capitalise(&clause(rest))),
        Some((l, rest)) if !l.contains(' ') => format!("{l}: {}", clause(rest)),
        Some((l, _)) => l.trim().to_string(),
        None => lex_name.to_string(),
    };
    let volume = text::volume_phrase(&seg.text).or_else(|| {
        (*category == "Localisation" && market_count > 0).then(|| format!("all {market_count} markets"))
    });
    let drivers: Vec<&str> =
        DRIVERS.iter().filter(|(p, _)| re(p).is_match(&seg.text)).map(|(_, d)| *d).collect();
    let hint = if drivers.is_empty() {
        level.as_str().to_string()
    } else {
        format!("{}: {}", level.as_str(), drivers.join(", "))
    };
    Some(Deliverable {
        name,
        category: category.to_string(),
        volume_estimate: volume.unwrap_or_else(|| "not stated".to_string()),
        complexity_hint: if nice { format!("{hint} (optional)") } else { hint },
    })
}

fn deliverables(segments: &[Segment], market_count: usize) -> Vec<Deliverable> {
    segments.iter().filter_map(|s| deliverable_of(s, market_count)).collect()
}

fn tagged(segments: &[&Segment], table: &'static [(&'static str, &'static str)]) -> Vec<String> {
    table
        .iter()
        .filter(|(_, p)| {
            let p = re(p);
            segments.iter().any(|s| p.is_match(&s.text))
        })
        .map(|(name, _)| name.to_string())
        .collect()
}

fn as_written(segments: &[&Segment], keep: impl Fn(&Segment) -> bool) -> Vec<String> {
    text::unique(segments.iter().filter(|s| keep(s)).map(|s| s.text.clone()))
}

fn timelines(segments: &[Segment], milestones: &[text::MilestoneDate]) -> Vec<String> {
    static TERM: LazyLock<Regex> = LazyLock::new(|| {
        re(r"\bcontract\s+term\s*\(?\s*\d+\s+years?[^)]*\)?|\bfor\s+\d+\s+(?:months|years)\b")
    });
    let mut out: Vec<String> = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    for m in milestones {
        if done.contains(&m.segment.as_str()) {
            continue;
        }
        done.push(&m.segment);
        let dates: Vec<String> = milestones
            .iter()
            .filter(|o| o.segment == m.segment)
            .map(|o| format!("“{}” → {}", o.mention.phrase, o.mention.date))
            .collect();
        out.push(format!("{} [{}]", text::quote(&m.segment, 140), dates.join("; ")));
    }
    for s in segments {
        if let Some(t) = TERM.find(&s.text).filter(|_| !done.contains(&s.text.as_str())) {
            out.push(format!("Term: {}", t.as_str()));
        }
    }
    out
}

fn complexity(
    markets: &[&text::Market],
    deliverables: &[Deliverable],
    channels: &[String],
    found: &Findings,
    text: &str,
) -> Complexity {
    let channel_kinds = channels.iter().filter(|c| CHANNELS[..9].iter().any(|(n, _)| n == c)).count();
    let score = match markets.len() {
        0..=3 => 0,
        4..=9 => 1,
        _ => 2,
    } + match deliverables.len() {
        0..=4 => 0,
        5..=9 => 1,
        _ => 2,
    } + usize::from(channel_kinds >= 5)
        + usize::from(found.has_contradictions())
        + usize::from(re(r"\bright-to-left|\bRTL\b").is_match(text))
        + usize::from(deliverables.iter().any(|d| d.complexity_hint.starts_with("high")));
    match score {
        0..=1 => Low,
        2..=4 => Medium,
        _ => High,
    }
}

fn summary(
    text: &str,
    deliverables: &[Deliverable],
    channels: &[String],
    markets: &[String],
    language_count: usize,
    complexity: Complexity,
) -> String {
    let title = text::title(text).unwrap_or_else(|| "The brief".to_string());
    if deliverables.is_empty() && markets.is_empty() && channels.is_empty() {
        return format!(
            "{}: no deliverables, channels or markets could be read; the basics are asked below.",
            title.trim_end_matches('.')
        );
    }
    let categories = text::unique(deliverables.iter().map(|d| d.category.as_str()));
    format!(
        "{}: {} deliverable(s) ({}) across {} channel(s), in {} market(s){}. Complexity {}.",
        title.trim_end_matches('.'),
        deliverables.len(),
        categories.join(", "),
        channels.len(),
        markets.len(),
        if language_count > 0 { format!(" and {language_count} language(s)") } else { String::new() },
        complexity.as_str()
    )
}

/// A vague-phrase rule: where `pattern` matches (and `unless` does not), the brief leaves something
/// open. Templates may use {quote} (the segment), {match} (the phrase), {subject} (the deliverable,
/// else the quoted segment) and {langs} (the languages read).
struct Rule {
    pattern: &'static str,
    unless: &'static str,
    category: &'static str,
    priority: Priority,
    observation: &'static str,
    question: &'static str,
    impact: &'static str,
}

const VOLUME_IMPACT: &str =
    "Volume is the multiplier on every rate-card line; without it the price is a guess.";

const RULES: &[Rule] = &[
    Rule {
        pattern: r"\b(?:standard|usual|normal|agreed)\s+turn-?around|\bturn-?around\s+as\s+per",
        unless: r"\d+\s*(?:working\s+|business\s+)?(?:days?|hours?|hrs?)\b",
        category: "Ways of working",
        priority: Priority::Red,
        observation: "Turnaround is not given in days: “{quote}”.",
        question: "What turnaround, in working days, do you expect for new masters, adaptations and resizes",
        impact: "Turnaround sets team size and any rush premium, so it changes the price.",
    },
    Rule {
        pattern: r"\bfeedback\s+(?:iterations|rounds|loops)|\b(?:revision|amend)\s+rounds|\biterations\b
            |\brounds?\s+of\s+(?:feedback|amends|changes|revisions)",
        unless: r"\b(?:\d+|one|two|three|four|five)\s+(?:rounds?|iterations|amends)",
        category: "Ways of working",
        priority: Priority::Red,
        observation: "Feedback rounds are not counted: “{quote}”.",
        question: "How many rounds of feedback are included per asset before further changes are charged",
        impact: "Rounds per asset multiply the hours on every rate-card line.",
    },
    Rule {
        pattern: r"\b(?:multiple|several|various|selected|some|other|key)\s+markets\b",
        unless: "",
        category: "Markets & languages",
        priority: Priority::Red,
        observation: "“{match}” are not listed: “{quote}”.",
        question: "Which markets, and which languages in each, are in scope",
        impact: "Markets and languages multiply every adaptation line.",
    },
    Rule {
        pattern: r"\bTBC\b|\bTBD\b|\bto\s+be\s+(?:confirmed|defined|agreed)\b",
        unless: "",
        category: "Volumes",
        priority: Priority::Red,
        observation: "{subject} is left “{match}”: “{quote}”.",
        question: "What quantities should we plan for {subject}, which the brief leaves {match}",
        impact: VOLUME_IMPACT,
    },
    Rule {
        pattern: r"\bon[-\s]demand\b|\bas\s+needed\b|\bas\s+required\b|\bad[-\s]hoc\b|\bwhen\s+required\b",
        unless: "",
        category: "Volumes",
        priority: Priority::Red,
        observation: "{subject} is asked for “{match}” with no volume: “{quote}”.",
        question: "How many a month should we plan for {subject}, and with how much notice",
        impact: VOLUME_IMPACT,
    },
    Rule {
        pattern: r"\b(?:where|when|as)\s+(?:relevant|appropriate|applicable|necessary)\b",
        unless: "",
        category: "Scope",
        priority: Priority::Amber,
        observation: "Scope is left to judgement (“{match}”): “{quote}”.",
        question: "Which assets need adapting for which markets, and which stay master-only",
        impact: "Adaptation counts drive most of the volume in a multi-market scope.",
    },
    Rule {
        pattern: r"\b(?:a\s+few|several|some)\s+(?:days|weeks|hours)\b|\bshortly\b|\bASAP\b
            |\bas\s+soon\s+as\s+possible\b",
        unless: "",
        category: "Ways of working",
        priority: Priority::Amber,
        observation: "“{match}” is not a number: “{quote}”.",
        question: "How many working days does “{match}” mean in “{quote}”",
        impact: "Review times set the critical path and how much work is in progress at once.",
    },
    Rule {
        pattern: r"\bsimple\s+(?:and|or|/)\s+complex\b",
        unless: "",
        category: "Volumes",
        priority: Priority::Amber,
        observation: "The split between simple and complex builds is not given for {subject}.",
        question: "What share of {subject} are simple builds and what share complex",
        impact: "Complex builds take several times the hours of simple ones.",
    },
    Rule {
        pattern: r"\ball\s+(?:the\s+)?official\s+languages|\blocal\s+languages\b|\ball\s+languages\b",
        unless: "",
        category: "Markets & languages",
        priority: Priority::Amber,
        observation: "Languages are described, not listed: “{quote}”.",
        question: "Can you confirm the languages we read ({langs}), and does any market need two",
        impact: "Each language adds translation, proofing and artwork time.",
    },
    Rule {
        pattern: r"\bindicative\b|\bnon-binding\b",
        unless: "",
        category: "Commercials",
        priority: Priority::Amber,
        observation: "Volumes are only indicative: “{quote}”.",
        question: "Should the rate card treat the indicative volumes as a commitment, a minimum or a guide",
        impact: "Committed volumes allow a dedicated team and lower rates; indicative ones carry risk.",
    },
    Rule {
        pattern: r"\blocation\s+(?:is\s+)?(?:open|flexible|tbc|to\s+be\s+decided)",
        unless: "",
        category: "Ways of working",
        priority: Priority::Amber,
        observation: "The studio location is left open: “{quote}”.",
        question: "Do you have a preferred studio location, or limits on nearshore or offshore delivery",
        impact: "Location sets the rate of every role in the team shape.",
    },
    Rule {
        pattern: r"\bmay\s+(?:follow|ask|be\s+added|come\s+later|expand)|\bphase\s+2\b|\bfuture\s+phases?\b
            |\blater\s+phase",
        unless: "",
        category: "Scope",
        priority: Priority::Green,
        observation: "Later scope is mentioned but not defined: “{quote}”.",
        question: "Should we price the later scope (further markets or services) as options now",
        impact: "An option price now avoids a second negotiation later.",
    },
    Rule {
        pattern: r"\b(?:don['’]t|do\s+not|doesn['’]t|no)\s+(?:\w+\s+){0,2}(?:brand\s+)?guidelines
            |\bguidelines\s+(?:are\s+)?(?:not|still)\b",
        unless: "",
        category: "Brand",
        priority: Priority::Amber,
        observation: "Brand guidelines are not available: “{quote}”.",
        question: "Will brand guidelines be ready before work starts, or should writing them be in our scope",
        impact: "Without guidelines, early work needs extra concept and approval rounds.",
    },
];

/// The basics every brief should give, in the order `missing_basics` checks them: observation,
/// category, priority, question, impact.
const BASICS: [(&str, &str, Priority, &str, &str); 9] = [
    (
        "The brief names no markets or languages.",
        "Markets & languages",
        Priority::Red,
        RULES[2].question,
        RULES[2].impact,
    ),
    (
        "The brief lists no deliverables with volumes.",
        "Volumes",
        Priority::Red,
        "Which deliverables do you need, and roughly how many of each per month or year",
        VOLUME_IMPACT,
    ),
    (
        "The brief gives no turnaround times.",
        "Ways of working",
        Priority::Red,
        RULES[0].question,
        RULES[0].impact,
    ),
    (
        "The brief does not say how many feedback rounds are included.",
        "Ways of working",
        Priority::Red,
        RULES[1].question,
        RULES[1].impact,
    ),
    (
        "The brief gives no proposal deadline.",
        "Timeline",
        Priority::Amber,
        "When is the proposal due, and in what format should it be submitted",
        "The deadline sets how much discovery we can do first.",
    ),
    (
        "The brief gives no start or go-live date.",
        "Timeline",
        Priority::Amber,
        "When should the work start, and when do you expect the first deliveries",
        "The start date sets recruitment and onboarding.",
    ),
    (
        "The brief names no channels.",
        "Scope",
        Priority::Amber,
        "Which channels will the content run on (social, eCommerce, CRM, display, print, OOH, TV/video, web)",
        "Each channel has its own formats and specs.",
    ),
    (
        "The brief gives no budget.",
        "Commercials",
        Priority::Green,
        "Is there a budget range or a current cost baseline we should work to",
        "A baseline shows where efficiencies must land.",
    ),
    (
        "The brief names no KPIs or service levels.",
        "KPIs & SLAs",
        Priority::Green,
        "Which KPIs or service levels will you use to judge the partner",
        "KPIs decide which reporting and QA we include.",
    ),
];

/// Generic questions used only to reach six when a brief leaves little open.
const TOP_UPS: &[(&str, Priority, &str, &str)] = &[
    (
        "Ways of working",
        Priority::Amber,
        "Who approves work on your side, and how many people review each asset",
        "Approval chains add review rounds and coordination time.",
    ),
    (
        "Brand",
        Priority::Amber,
        "Can you share brand guidelines, templates and recent examples of the assets in scope",
        "Existing assets and guidelines shorten the first rounds.",
    ),
    (
        "Technology",
        Priority::Green,
        "Which tools should we plug into for briefing, approvals and asset delivery",
        "Tool set-up and licences belong in the price.",
    ),
    (
        "Scope",
        Priority::Green,
        "Is there an incumbent agency, and what handover should we plan for",
        "A handover adds a transition period to the plan.",
    ),
    (
        "Commercials",
        Priority::Green,
        "How will proposals be evaluated, and who makes the final decision",
        "It tells us where to put the proposal's weight.",
    ),
    (
        "Timeline",
        Priority::Green,
        "Are there fixed launch moments in the first year that the plan must meet",
        "Fixed moments set the ramp-up of the team.",
    ),
];

struct Ask {
    category: String,
    question: String,
    observations: Vec<String>,
    impact: String,
    priority: Priority,
    optional: bool,
}

/// Ambiguities, contradictions and the questions they lead to, collected as the brief is read.
#[derive(Default)]
struct Findings {
    ambiguities: Vec<String>,
    contradictions: Vec<String>,
    asks: Vec<Ask>,
}

/// A segment quoted for an observation, without its final full stop.
fn cite(text: &str) -> String {
    text::quote(text, 110).trim_end_matches('.').to_string()
}

impl Findings {
    fn ask(
        &mut self,
        category: &str,
        priority: Priority,
        question: &str,
        observation: Option<String>,
        impact: &str,
        optional: bool,
    ) {
        let question = format!("{}?", question.trim().trim_end_matches(['.', '?']));
        if let Some(a) = self.asks.iter_mut().find(|a| a.question == question) {
            a.observations.extend(observation);
            a.priority = a.priority.min(priority);
            a.optional &= optional;
            return;
        }
        self.asks.push(Ask {
            category: category.to_string(),
            question,
            observations: observation.into_iter().collect(),
            impact: impact.to_string(),
            priority,
            optional,
        });
    }

    fn ambiguity(
        &mut self,
        observation: String,
        category: &str,
        priority: Priority,
        question: &str,
        impact: &str,
    ) {
        if !self.ambiguities.contains(&observation) {
            self.ambiguities.push(observation.clone());
            self.ask(category, priority, question, Some(observation), impact, false);
        }
    }

    fn has_contradictions(&self) -> bool {
        !self.contradictions.is_empty()
    }

    fn vague_phrases(
        &mut self,
        segments: &[Segment],
        deliverables: &[Deliverable],
        markets: &[&text::Market],
        languages: &[&str],
    ) {
        static RANGE: LazyLock<Regex> = LazyLock::new(|| re(r"\d\s*[-–]\s*\d"));
        static N_MARKETS: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:in|across|for)\s+(\d+)\s+markets\b"));
        static MONTH: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r"\b(January|February|March|April|June|July|August|September|October|November|December)\b",
            )
            .expect("valid")
        });
        let langs = if languages.is_empty() { "none named".to_string() } else { languages.join(", ") };
        let dummy_reference = chrono::NaiveDate::from_ymd_opt(2000, 1, 1);
        for seg in segments {
            let deliverable = deliverable_of(seg, markets.len());
            let quote = cite(&seg.text);
            let subject = deliverable.as_ref().map_or(format!("“{quote}”"), |d| d.name.clone());
            for rule in RULES {
                let Some(found) = re(rule.pattern).find(&seg.text) else { continue };
                if !rule.unless.is_empty() && re(rule.unless).is_match(&seg.text) {
                    continue;
                }
                let sentences = text::sentences(&seg.text);
                let sentence =
                    sentences.iter().find(|s| s.contains(found.as_str())).map_or(quote.clone(), |s| cite(s));
                let fill = |t: &str| {
                    t.replace("{quote}", &sentence)
                        .replace("{match}", found.as_str())
                        .replace("{subject}", &subject)
                        .replace("{langs}", &langs)
                };
                self.ambiguity(
                    text::capitalise(&fill(rule.observation)),
                    rule.category,
                    rule.priority,
                    &fill(rule.question),
                    rule.impact,
                );
            }
            if let Some(c) =
                N_MARKETS.captures(&seg.text).filter(|c| c[1].parse::<usize>().ok() != Some(markets.len()))
            {
                let n = &c[1];
                let observation = format!("“{quote}” does not say which {n} markets.");
                let question = format!("Which {n} markets does {subject} cover");
                self.ambiguity(
                    observation,
                    "Markets & languages",
                    Priority::Red,
                    &question,
                    "The market count multiplies this line's volume.",
                );
            }
            if let Some(m) =
                MONTH.find(&seg.text).filter(|_| text::find_dates(&seg.text, dummy_reference).is_empty())
            {
                let month = m.as_str();
                let observation = format!("“{month}” is named without dates or a year: “{quote}”.");
                let question = format!(
                    "Which dates and year does “{month}” refer to in “{quote}”, and when are the assets due"
                );
                self.ambiguity(
                    observation,
                    "Timeline",
                    Priority::Amber,
                    &question,
                    "Campaign dates decide when the team must be in place.",
                );
            }
        }
        for d in deliverables {
            if d.volume_estimate == "not stated" {
                let question = format!("What volume of “{}” should we plan for per year", d.name);
                self.ambiguity(
                    format!("No volume is given for {}.", d.name),
                    "Volumes",
                    Priority::Red,
                    &question,
                    VOLUME_IMPACT,
                );
            } else if RANGE.is_match(&d.volume_estimate) {
                let observation = format!("{} is given as a range ({}).", d.name, d.volume_estimate);
                let (range, name) = (&d.volume_estimate, &d.name);
                let question =
                    format!("Which figure in {range} should we price {name} on, or should we show both ends");
                self.ambiguity(observation, "Volumes", Priority::Red, &question, VOLUME_IMPACT);
            }
        }
    }

    fn volume_conflicts(&mut self, segments: &[&Segment]) {
        static RATE: LazyLock<Regex> = LazyLock::new(|| {
            re(r"(\d[\d,.]*(?:\s*[-–]\s*\d[\d,.]*)?)\D*?\b(week|month|quarter|year|annum|day)\b")
        });
        let mut seen: Vec<(&str, String, String, String)> = Vec::new();
        for seg in segments {
            let (Some(entry), Some(volume)) = (lexicon(&seg.text), text::volume_phrase(&seg.text)) else {
                continue;
            };
            let Some(c) = RATE.captures(&volume) else { continue };
            let (figure, period) = (c[1].to_string(), c[2].to_lowercase());
            let clash = seen.iter().find(|(n, p, f, _)| *n == entry.1 && *p == period && *f != figure);
            if let Some((name, _, _, earlier)) = clash {
                let observation = format!("{name} volume is stated twice: “{earlier}” and “{volume}”.");
                let question = format!("Which volume of {name} is right: “{earlier}” or “{volume}”");
                self.contradictions.push(observation.clone());
                self.ask("Volumes", Priority::Red, &question, Some(observation), VOLUME_IMPACT, false);
            }
            seen.push((entry.1, period, figure, volume));
        }
    }

    fn date_conflicts(&mut self, milestones: &[text::MilestoneDate]) {
        let kinds = [
            (Milestone::GoLive, "Go-live"),
            (Milestone::Proposal, "The proposal deadline"),
            (Milestone::ContractStart, "The contract start"),
            (Milestone::Decision, "The decision date"),
            (Milestone::Pitch, "The pitch date"),
            (Milestone::Questions, "The questions deadline"),
        ];
        let impact = "Dates set the ramp-up plan, the team start and the first invoices.";
        let mut go_live_conflict = false;
        for (kind, label) in kinds {
            let dated: Vec<&text::MilestoneDate> =
                milestones.iter().filter(|m| m.milestone == kind).collect();
            let Some(first) = dated.first() else { continue };
            let Some(other) = dated.iter().find(|m| m.mention.date != first.mention.date) else { continue };
            let (a, b) = (&first.mention, &other.mention);
            let observation = format!(
                "{label} is given two different dates: “{}” ({}) in “{}” and “{}” ({}) in “{}”.",
                a.phrase,
                a.date,
                cite(&first.segment),
                b.phrase,
                b.date,
                cite(&other.segment)
            );
            let what = if kind == Milestone::GoLive {
                "go-live date".to_string()
            } else {
                label.trim_start_matches("The ").to_string()
            };
            let question = format!(
                "Which {what} is right: “{}” ({}) or “{}” ({}), and does it differ by market",
                a.phrase, a.date, b.phrase, b.date
            );
            self.contradictions.push(observation.clone());
            self.ask("Timeline", Priority::Red, &question, Some(observation), impact, false);
            go_live_conflict |= kind == Milestone::GoLive;
        }
        let start = milestones
            .iter()
            .filter(|m| m.milestone == Milestone::ContractStart)
            .min_by_key(|m| m.mention.date);
        let early = milestones
            .iter()
            .filter(|m| m.milestone == Milestone::GoLive)
            .find(|g| start.is_some_and(|s| g.mention.date < s.mention.date));
        if let (Some(s), Some(g)) = (start, early) {
            let observation = format!(
                "Go-live “{}” ({}) falls before the contract start “{}” ({}).",
                g.mention.phrase, g.mention.date, s.mention.phrase, s.mention.date
            );
            self.contradictions.push(observation.clone());
            if !go_live_conflict {
                let question = format!(
                    "Can go-live come before the contract start ({}), or should one of the dates move",
                    s.mention.date
                );
                self.ask("Timeline", Priority::Red, &question, Some(observation), impact, false);
            }
        }
    }

    fn missing_basics(
        &mut self,
        text: &str,
        markets: &[&text::Market],
        deliverables: &[Deliverable],
        channels: &[String],
        kpis: &[String],
        milestones: &[text::MilestoneDate],
    ) {
        let has = |kinds: &[Milestone]| milestones.iter().any(|m| kinds.contains(&m.milestone));
        let gaps = [
            markets.is_empty(),
            deliverables.is_empty(),
            !re(r"turn-?around|\bSLAs?\b|\bwithin\s+\d+").is_match(text),
            !re(r"\brounds?\b|\biterations?\b|\bamends\b|\brevisions?\b").is_match(text),
            !has(&[Milestone::Proposal, Milestone::Decision]),
            !has(&[Milestone::GoLive, Milestone::ContractStart]),
            channels.is_empty(),
            !re(r"\bbudget\b|£|€|\$|\b(?:EUR|GBP|USD)\b").is_match(text),
            kpis.is_empty(),
        ];
        for (gap, (observation, category, priority, question, impact)) in gaps.into_iter().zip(BASICS) {
            if gap {
                self.ambiguity(observation.to_string(), category, priority, question, impact);
            }
        }
    }

    fn extras(&mut self, segments: &[Segment], deliverables: &[Deliverable]) {
        for d in deliverables.iter().filter(|d| d.complexity_hint.ends_with("(optional)")) {
            let question = format!(
                "Should “{}” be priced as an option or included in the core fee",
                d.name.trim_end_matches(" (nice to have)")
            );
            self.ask(
                "Scope",
                Priority::Green,
                &question,
                None,
                "It changes the headline fee but not the core team.",
                true,
            );
        }
        let budget =
            segments.iter().find(|s| re(r"\bbudget\b").is_match(&s.text) && re(r"\d").is_match(&s.text));
        if let Some(b) = budget.filter(|_| !deliverables.is_empty()) {
            let budget = cite(&b.text);
            let question =
                format!("If the scope costs more than the budget (“{budget}”), what should flex first");
            self.ask(
                "Commercials",
                Priority::Green,
                &question,
                None,
                "It tells us where to trim if the rate card lands above the budget.",
                true,
            );
        }
    }

    fn finish(mut self) -> (Vec<String>, Vec<String>, Vec<Clarification>) {
        while self.asks.len() > 15 {
            let Some(i) = self.asks.iter().rposition(|a| a.optional) else { break };
            self.asks.remove(i);
        }
        for (category, priority, question, impact) in TOP_UPS {
            if self.asks.len() >= 6 {
                break;
            }
            self.ask(category, *priority, question, None, impact, true);
        }
        self.asks.sort_by_key(|a| a.priority);
        let clarifications = self
            .asks
            .into_iter()
            .map(|a| {
                let mut rationale = a.observations.join(" ");
                if !rationale.is_empty() {
                    rationale.push(' ');
                }
                rationale.push_str(&a.impact);
                Clarification { category: a.category, question: a.question, rationale, priority: a.priority }
            })
            .collect();
        (self.ambiguities, self.contradictions, clarifications)
    }
}
