//! Shared text utilities for the offline provider: segments, phrases, dates, milestones, markets,
//! languages and volumes found in a brief.
//!
//! Every function here is pure and deterministic (no I/O, no clock), so the same brief always gives
//! the same answer. Date rule: a phrase that names a period resolves to the period's *last* day,
//! because a deadline or go-live stated as a period is met on its last day — "March 2026" →
//! 2026-03-31, "Q2 2026" and "end of Q2 2026" → 2026-06-30, "H1 2027" → 2027-06-30, "end of 2026" →
//! 2026-12-31. "Early …"/"start of …"/"beginning of …" resolve to the first day, "mid …" to the 15th.
//! A day without a year ("w/c 6 April", "15 April") takes the year of the brief's reference date
//! (see [`reference_date`]) and moves to the next year if it would fall before that date; with no
//! reference date it is not resolved at all. Numeric dates are read day first (25/12/2026).

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// One unit of a brief: a bullet item, a `Label: value` line or one sentence of a paragraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The nearest markdown heading above it, without the `#` marks ("" before any heading).
    pub heading: String,
    /// The text with whitespace collapsed and any bullet marker removed.
    pub text: String,
    /// Whether it came from a bulleted or numbered list item.
    pub bullet: bool,
}

/// A date found in a text: the words as written, their span and the explicit date they resolve to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateMention {
    /// The phrase as written, e.g. "end of Q3 2026" or "w/c 6 April".
    pub phrase: String,
    /// The explicit date the phrase resolves to (see the module's date rule).
    pub date: NaiveDate,
    /// Byte offset of the phrase in the searched text.
    pub start: usize,
    /// Whether the year was not written and came from the reference date.
    pub year_inferred: bool,
    /// Whether the phrase names a period (month, quarter, half, year) rather than a day.
    pub period: bool,
}

/// The milestone a dated statement is about, told by the words before the date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Milestone {
    /// When the brief was issued ("Issue date:", "Date:").
    Issue,
    /// Deadline for the agency's questions.
    Questions,
    /// Deadline for the proposal or response.
    Proposal,
    /// Pitch or presentation dates.
    Pitch,
    /// Decision, award or signature.
    Decision,
    /// Contract or work start.
    ContractStart,
    /// Go-live or roll-out.
    GoLive,
    /// A date with no milestone words near it.
    Other,
}

/// A date tied to its milestone, with the segment it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MilestoneDate {
    /// Which milestone the date belongs to.
    pub milestone: Milestone,
    /// The date as found.
    pub mention: DateMention,
    /// The whole segment the date was read from, for quoting.
    pub segment: String,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern is valid")
}

static BULLET: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+"));
static LABEL_LINE: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z][A-Za-z0-9 /&'-]{0,40}:\s"));
static NEGATED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)\b(?:not\s+in\s+scope|out\s+of\s+scope|not\s+part\s+of\s+(?:this|the)\s+scope|excluded
        |not\s+required|not\s+included)\b")
});

/// Splits a brief into headed segments: each bullet item (with its wrapped lines), each
/// `Label: value` line, and each sentence of an ordinary paragraph.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut para = String::new();
    let mut bullet: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        let indented = line.starts_with(char::is_whitespace);
        let label = LABEL_LINE.is_match(trimmed) && !(indented && bullet.is_some());
        if trimmed.is_empty() || trimmed.starts_with('#') || BULLET.is_match(line) || label {
            flush(&mut out, &heading, &mut para, &mut bullet);
        }
        if trimmed.starts_with('#') {
            heading = trimmed.trim_start_matches('#').trim().to_string();
        } else if let Some(m) = BULLET.find(line) {
            bullet = Some(line[m.end()..].trim().to_string());
        } else if !trimmed.is_empty() {
            let target = bullet.as_mut().unwrap_or(&mut para);
            if !target.is_empty() {
                target.push(' ');
            }
            target.push_str(trimmed);
        }
    }
    flush(&mut out, &heading, &mut para, &mut bullet);
    out
}

fn flush(out: &mut Vec<Segment>, heading: &str, para: &mut String, bullet: &mut Option<String>) {
    if let Some(b) = bullet.take() {
        out.push(Segment { heading: heading.to_string(), text: collapse(&b), bullet: true });
    }
    for s in sentences(para) {
        out.push(Segment { heading: heading.to_string(), text: s, bullet: false });
    }
    para.clear();
}

/// Collapses runs of whitespace into single spaces and trims the ends.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits a paragraph into sentences at `.`, `!` or `?` followed by a space and a capital or digit,
/// without splitting after abbreviations ("e.g.", "approx.", "B.V.", single initials).
pub fn sentences(paragraph: &str) -> Vec<String> {
    const ABBREVIATIONS: &[&str] =
        &["e.g", "i.e", "etc", "approx", "vs", "no", "c", "ca", "mr", "mrs", "ms", "dr"];
    let text = collapse(paragraph);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let (mut out, mut from) = (Vec::new(), 0);
    for (i, &(pos, c)) in chars.iter().enumerate() {
        let next_starts = matches!(chars.get(i + 2), Some((_, n)) if n.is_uppercase() || n.is_ascii_digit());
        if !matches!(c, '.' | '!' | '?') || !matches!(chars.get(i + 1), Some((_, ' '))) || !next_starts {
            continue;
        }
        let word = text[from..pos].rsplit(' ').next().unwrap_or("");
        let abbreviation = ABBREVIATIONS.contains(&word.to_lowercase().as_str())
            || word.contains('.')
            || (word.len() == 1 && word.chars().all(char::is_uppercase));
        if c == '.' && abbreviation {
            continue;
        }
        out.push(text[from..=pos].trim().to_string());
        from = pos + 1;
    }
    let rest = text[from..].trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// The brief's title: its first markdown heading, else its first non-empty line.
pub fn title(text: &str) -> Option<String> {
    let lines = || text.lines().map(str::trim).filter(|l| !l.is_empty());
    let heading = lines().find(|l| l.starts_with('#')).or_else(|| lines().next())?;
    Some(quote(heading.trim_start_matches('#'), 120)).filter(|t| !t.is_empty())
}

/// Whether a segment says its subject is out of scope ("not in scope", "excluded", …).
pub fn is_negated(text: &str) -> bool {
    NEGATED.is_match(text)
}

/// Removes parenthesised asides, "(like this)", and collapses the whitespace left behind.
pub fn strip_parentheticals(text: &str) -> String {
    static PAREN: LazyLock<Regex> = LazyLock::new(|| re(r"\s*\([^()]*\)"));
    collapse(&PAREN.replace_all(text, ""))
}

/// Lower-case alphanumeric words of a text, in order ("A+ content" → ["a", "content"]).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Joins items as prose: "a", "a and b", "a, b and c".
pub fn join_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// Shortens a text to at most `max` characters at a word boundary, adding "…" when cut.
pub fn quote(text: &str, max: usize) -> String {
    let text = collapse(text);
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

/// Keeps the first occurrence of each item, in order.
pub fn unique<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Upper-cases the first letter of a text.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

const MONTHS: &str = concat!(
    "(?:January|February|March|April|May|June|July|August|September|October|November|December",
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
);

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b)
        |(?P<num>\b(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>\d{4})\b)
        |(?P<dmy>(?:(?i:w/c|w\.c\.|week\s+commencing|week\s+of)\s+)?\b(?P<dd>\d{1,2})(?:st|nd|rd|th)?
            \s+(?:of\s+)?(?P<dm>MONTH)\b\.?(?:,?\s+(?P<dy>\d{4})\b)?)
        |(?P<mdy>\b(?P<um>MONTH)\.?\s+(?P<ud>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<uy>\d{4})\b)
        |(?P<my>(?:(?P<mq>(?i:early|beginning\s+of|start\s+of|mid-|mid|late|end\s+of))\s*)?
            \b(?P<mm>MONTH)\b\.?,?\s+(?P<myy>\d{4})\b)
        |(?P<q>(?:(?P<qq>(?i:end\s+of|close\s+of|start\s+of|beginning\s+of|early))\s+)?
            \bQ(?P<qn>[1-4])\s*['’]?(?P<qy>\d{4}|\d{2})\b)
        |(?P<h>(?:(?i:end\s+of)\s+)?\bH(?P<hn>[12])\s+(?P<hy>\d{4})\b)
        |(?P<ye>(?i:end\s+of|year[-\x20]end)\s+(?P<yy>\d{4})\b)";
    re(&format!("(?x){}", pattern.replace("MONTH", MONTHS)))
});

/// The month number of an English month name or abbreviation ("Sept" → 9).
pub fn month_number(name: &str) -> Option<u32> {
    let key: String = name.chars().take(3).collect::<String>().to_lowercase();
    let all = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    all.iter().position(|m| *m == key).map(|i| i as u32 + 1)
}

/// The last day of a month; `None` for an invalid month.
pub fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt().filter(|_| (1..=12).contains(&month))
}

/// Every date phrase in `text`, resolved with the module's date rule. Yearless days need a
/// `reference` date; without one they are skipped.
pub fn find_dates(text: &str, reference: Option<NaiveDate>) -> Vec<DateMention> {
    DATE.captures_iter(text).filter_map(|c| resolve(&c, reference)).collect()
}

/// Resolves the first date phrase in `phrase` ("end of Q2 2026" → 2026-06-30); see [`find_dates`].
pub fn parse_date_phrase(phrase: &str, reference: Option<NaiveDate>) -> Option<NaiveDate> {
    find_dates(phrase, reference).into_iter().next().map(|m| m.date)
}

fn resolve(c: &regex::Captures<'_>, reference: Option<NaiveDate>) -> Option<DateMention> {
    let whole = c.get(0)?;
    let num = |name: &str| c.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let year = |name: &str| num(name).map(|y| if y < 100 { 2000 + y as i32 } else { y as i32 });
    let qualifier = |name: &str| c.name(name).map(|m| m.as_str().to_lowercase()).unwrap_or_default();
    let starts = |q: &str| ["early", "beginning", "start"].iter().any(|w| q.starts_with(w));
    let mut year_inferred = false;
    let period = ["my", "q", "h", "ye"].iter().any(|g| c.name(g).is_some());
    let date = if c.name("iso").is_some() {
        NaiveDate::from_ymd_opt(year("iy")?, num("im")?, num("id")?)
    } else if c.name("num").is_some() {
        NaiveDate::from_ymd_opt(year("ny")?, num("nm")?, num("nd")?)
    } else if c.name("dmy").is_some() {
        let (day, month) = (num("dd")?, month_number(c.name("dm")?.as_str())?);
        match year("dy") {
            Some(y) => NaiveDate::from_ymd_opt(y, month, day),
            None => {
                year_inferred = true;
                let reference = reference?;
                let this_year = NaiveDate::from_ymd_opt(reference.year(), month, day)?;
                if this_year < reference {
                    NaiveDate::from_ymd_opt(reference.year() + 1, month, day)
                } else {
                    Some(this_year)
                }
            }
        }
    } else if c.name("mdy").is_some() {
        NaiveDate::from_ymd_opt(year("uy")?, month_number(c.name("um")?.as_str())?, num("ud")?)
    } else if c.name("my").is_some() {
        let (y, m, q) = (year("myy")?, month_number(c.name("mm")?.as_str())?, qualifier("mq"));
        match q.as_str() {
            q if starts(q) => NaiveDate::from_ymd_opt(y, m, 1),
            q if q.starts_with("mid") => NaiveDate::from_ymd_opt(y, m, 15),
            _ => last_day_of_month(y, m),
        }
    } else if c.name("q").is_some() {
        let (y, q) = (year("qy")?, num("qn")?);
        if starts(&qualifier("qq")) {
            NaiveDate::from_ymd_opt(y, q * 3 - 2, 1)
        } else {
            last_day_of_month(y, q * 3)
        }
    } else if c.name("h").is_some() {
        last_day_of_month(year("hy")?, num("hn")? * 6)
    } else {
        last_day_of_month(year("yy")?, 12)
    }?;
    Some(DateMention {
        phrase: whole.as_str().trim_end_matches('.').to_string(),
        date,
        start: whole.start(),
        year_inferred,
        period,
    })
}

/// The brief's reference date: the date on an "Issue date:"/"Date:"/"Dated" line, else the first
/// date written with its year. Used to give yearless days a year.
pub fn reference_date(text: &str) -> Option<NaiveDate> {
    static LINE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?im)^\s*(?:issue date|date issued|issued on|issued|date|dated)\s*:?\s*(.+)$"));
    LINE.captures_iter(text)
        .find_map(|c| parse_date_phrase(&c[1], None))
        .or_else(|| find_dates(text, None).into_iter().next().map(|m| m.date))
}

static MILESTONE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?xi)(?P<issue>\bissue\s+date|\bdate\s+issued|\bissued\s+on|^date\b|\bdated\b)
        |(?P<questions>\bquestions?\s+(?:are\s+)?due|\bclarification\s+questions|\bdeadline\s+for\s+questions)
        |(?P<golive>\bgo(?:es|ing)?[-\x20]live|\blaunch\s+date|\broll[-\x20]?out)
        |(?P<start>\bcontract\s+start|\bstart\s+date|\bstarts?\s+(?:on|from)|\bcommenc\w*|\bkick[-\x20]?off
            |\btake\s+over|\bonboarding)
        |(?P<decision>\bsign(?:ed)?\s+by|\bsignature|\bdecision|\baward|\bappoint\w*)
        |(?P<pitch>\bpitch\w*|\bpresentations?|\bshortlist)
        |(?P<proposal>\bproposals?|\bsubmissions?|\bsubmit|\bresponses?\s+due|\brespond\s+by|\breply\s+by
            |\bdeadline)")
});

/// Every date in the brief tied to its milestone: each date belongs to the nearest milestone words
/// before it in its segment, else the first ones after it, else [`Milestone::Other`].
pub fn milestone_dates(text: &str) -> Vec<MilestoneDate> {
    let reference = reference_date(text);
    let mut out = Vec::new();
    for seg in segments(text) {
        let hits: Vec<(usize, Milestone)> = MILESTONE
            .captures_iter(&seg.text)
            .map(|c| {
                let kind = [
                    ("issue", Milestone::Issue),
                    ("questions", Milestone::Questions),
                    ("golive", Milestone::GoLive),
                    ("start", Milestone::ContractStart),
                    ("decision", Milestone::Decision),
                    ("pitch", Milestone::Pitch),
                    ("proposal", Milestone::Proposal),
                ];
                let found = kind.iter().find(|(name, _)| c.name(name).is_some());
                (c.get(0).map_or(0, |m| m.start()), found.map_or(Milestone::Other, |(_, k)| *k))
            })
            .collect();
        for mention in find_dates(&seg.text, reference) {
            let before = hits.iter().rfind(|(pos, _)| *pos <= mention.start);
            let milestone = before.or_else(|| hits.first()).map_or(Milestone::Other, |(_, k)| *k);
            out.push(MilestoneDate { milestone, mention, segment: seg.text.clone() });
        }
    }
    out
}

static MARKET_RE: LazyLock<(Regex, HashMap<&'static str, usize>)> = LazyLock::new(|| {
    let mut names: Vec<(&'static str, usize)> = Vec::new();
    for (i, m) in MARKETS.iter().enumerate() {
        names.push((m.name, i));
        names.extend(m.aliases.iter().map(|a| (*a, i)));
    }
    names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    let alternation: Vec<String> = names.iter().map(|(n, _)| regex::escape(n)).collect();
    (re(&format!(r"\b(?:{})\b", alternation.join("|"))), names.into_iter().collect())
});

/// The markets a text names (country names and safe upper-case codes such as "UK" or "UAE"),
/// each once, in order of first mention. Names are matched as written (capitalised).
pub fn find_markets(text: &str) -> Vec<&'static Market> {
    let (regex, index) = &*MARKET_RE;
    let mut out: Vec<&'static Market> = Vec::new();
    for m in regex.find_iter(text) {
        let market = &MARKETS[index[m.as_str()]];
        if !out.iter().any(|seen| seen.name == market.name) {
            out.push(market);
        }
    }
    out
}

/// The languages a text names (capitalised English names), each once, in order of first mention.
pub fn find_languages(text: &str) -> Vec<&'static str> {
    static ALL: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        unique(
            MARKETS.iter().flat_map(|m| m.languages.iter().copied()).chain(EXTRA_LANGUAGES.iter().copied()),
        )
    });
    static LANGS: LazyLock<Regex> = LazyLock::new(|| {
        let mut all = ALL.clone();
        all.sort_by_key(|l| std::cmp::Reverse(l.len()));
        re(&format!(r"\b(?:{})\b", all.iter().map(|l| regex::escape(l)).collect::<Vec<_>>().join("|")))
    });
    unique(LANGS.find_iter(text).filter_map(|m| ALL.iter().copied().find(|l| *l == m.as_str())))
}

/// The quantity a deliverable line states, in the brief's own words: a rate ("~50 per month",
/// "3 organic posts per week per centre"), else a count ("300 SKUs", "around 20 statics and
/// 4 videos"), else a frequency ("monthly"), else an open volume ("on demand"). A "TBC" clause is
/// kept ("Around 12 toolkits in total; split across tiers TBC"). `None` when no quantity is stated.
pub fn volume_phrase(text: &str) -> Option<String> {
    const APPROX: &str =
        r"(?:~\s*|c\.\s*|approx(?:imately|\.)?\s+|around\s+|about\s+|up to\s+|at least\s+|over\s+)?";
    const NUMBER: &str = concat!(
        r"(?:\d[\d,.]*\+?(?:\s*[-–]\s*\d[\d,.]*)?",
        "|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    );
    const PERIOD: &str =
        r"(?:per|a|an|each|every)\s+(?:week|month|quarter|year|annum|day)\b(?:\s+per\s+\w+)?";
    static RATE: LazyLock<Regex> =
        LazyLock::new(|| re(&format!(r"(?i){APPROX}\b{NUMBER}\s+(?:[^\s.;:]+\s+){{0,6}}?{PERIOD}")));
    static COUNT: LazyLock<Regex> =
        LazyLock::new(|| re(&format!(r"(?i){APPROX}\b\d[\d,.]*\+?(?:\s*[-–]\s*\d[\d,.]*)?\s+[^,.;:()]+")));
    static FREQUENCY: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\b(daily|weekly|fortnightly|monthly|quarterly|annually|yearly|bi-weekly)\b")
    });
    static OPEN: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(on demand|on-demand|as needed|as required|ad[- ]hoc|when required)\b"));
    static TBC: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:TBC|TBD|to be confirmed|to be defined|to be agreed)\b"));
    let plain = strip_parentheticals(text);
    let asides: Vec<&str> = text.split(['(', ')']).skip(1).step_by(2).collect();
    let rate = std::iter::once(plain.as_str()).chain(asides).find_map(|t| RATE.find(t).map(|m| m.as_str()));
    let after_label = |m: &regex::Match<'_>| {
        let word = plain[..m.start()].trim_end().rsplit(' ').next().unwrap_or("").to_lowercase();
        matches!(word.as_str(), "phase" | "year" | "section" | "tier" | "wave" | "round" | "step" | "option")
    };
    let count = || {
        let m = COUNT.find_iter(&plain).find(|m| !after_label(m))?;
        Some(m.as_str().split_whitespace().take(8).collect::<Vec<_>>().join(" "))
    };
    let base = match (rate, FREQUENCY.captures(&plain)) {
        (Some(r), _) => Some(r.trim().to_string()),
        (None, Some(f)) => {
            Some(count().map_or(f[1].to_lowercase(), |c| format!("{}; {c}", f[1].to_lowercase())))
        }
        (None, None) => count().or_else(|| OPEN.captures(&plain).map(|o| o[1].to_lowercase())),
    };
    let tbc = plain.split([',', '.', ';', ':']).map(str::trim).find(|clause| TBC.is_match(clause));
    match (base, tbc) {
        (Some(b), Some(t)) if !b.contains(t) => Some(format!("{b}; {t}")),
        (Some(b), _) => Some(b),
        (None, t) => t.map(str::to_string),
    }
}

/// A market the offline provider recognises.
#[derive(Debug)]
pub struct Market {
    /// Display name, e.g. "United Kingdom".
    pub name: &'static str,
    /// "Europe", "Middle East", "Africa", "Asia Pacific" or "Americas".
    pub region: &'static str,
    /// Main official languages, by their English names.
    pub languages: &'static [&'static str],
    /// Other names and safe upper-case codes meaning this market ("UK", "England").
    pub aliases: &'static [&'static str],
}

const fn mk(
    name: &'static str,
    region: &'static str,
    languages: &'static [&'static str],
    aliases: &'static [&'static str],
) -> Market {
    Market { name, region, languages, aliases }
}

const EU: &str = "Europe";
const ME: &str = "Middle East";
const AF: &str = "Africa";
const AP: &str = "Asia Pacific";
const AM: &str = "Americas";

/// European and major world markets. Ambiguous names (Georgia, Jordan, Chad) and two-letter codes
/// that are ordinary words (IT, NO, AT, IN) are left out on purpose.
pub const MARKETS: &[Market] = &[
    mk("Netherlands", EU, &["Dutch"], &["Holland", "NL"]),
    mk("Belgium", EU, &["Dutch", "French", "German"], &["BE"]),
    mk("Luxembourg", EU, &["Luxembourgish", "French", "German"], &[]),
    mk("Germany", EU, &["German"], &["DE"]),
    mk("Austria", EU, &["German"], &[]),
    mk("Switzerland", EU, &["German", "French", "Italian"], &["CH"]),
    mk("France", EU, &["French"], &["FR"]),
    mk(
        "United Kingdom",
        EU,
        &["English"],
        &["UK", "GB", "Great Britain", "Britain", "England", "Scotland", "Wales"],
    ),
    mk("Northern Ireland", EU, &["English"], &[]),
    mk("Ireland", EU, &["English", "Irish"], &["IE"]),
    mk("Spain", EU, &["Spanish"], &["ES"]),
    mk("Portugal", EU, &["Portuguese"], &["PT"]),
    mk("Italy", EU, &["Italian"], &[]),
    mk("Greece", EU, &["Greek"], &["GR"]),
    mk("Cyprus", EU, &["Greek", "Turkish"], &[]),
    mk("Malta", EU, &["Maltese", "English"], &[]),
    mk("Poland", EU, &["Polish"], &["PL"]),
    mk("Czech Republic", EU, &["Czech"], &["Czechia", "CZ"]),
    mk("Slovakia", EU, &["Slovak"], &["SK"]),
    mk("Hungary", EU, &["Hungarian"], &["HU"]),
    mk("Romania", EU, &["Romanian"], &["RO"]),
    mk("Bulgaria", EU, &["Bulgarian"], &["BG"]),
    mk("Croatia", EU, &["Croatian"], &["HR"]),
    mk("Slovenia", EU, &["Slovenian"], &["SI"]),
    mk("Serbia", EU, &["Serbian"], &["RS"]),
    mk("Sweden", EU, &["Swedish"], &["SE"]),
    mk("Denmark", EU, &["Danish"], &["DK"]),
    mk("Norway", EU, &["Norwegian"], &[]),
    mk("Finland", EU, &["Finnish", "Swedish"], &["FI"]),
    mk("Iceland", EU, &["Icelandic"], &[]),
    mk("Estonia", EU, &["Estonian"], &["EE"]),
    mk("Latvia", EU, &["Latvian"], &["LV"]),
    mk("Lithuania", EU, &["Lithuanian"], &["LT"]),
    mk("Ukraine", EU, &["Ukrainian"], &["UA"]),
    mk("Turkey", EU, &["Turkish"], &["Türkiye", "TR"]),
    mk("United Arab Emirates", ME, &["Arabic"], &["UAE"]),
    mk("Saudi Arabia", ME, &["Arabic"], &["KSA"]),
    mk("Qatar", ME, &["Arabic"], &[]),
    mk("Kuwait", ME, &["Arabic"], &[]),
    mk("Bahrain", ME, &["Arabic"], &[]),
    mk("Oman", ME, &["Arabic"], &[]),
    mk("Israel", ME, &["Hebrew"], &[]),
    mk("Egypt", AF, &["Arabic"], &[]),
    mk("Morocco", AF, &["Arabic", "French"], &[]),
    mk("South Africa", AF, &["English", "Afrikaans", "Zulu"], &[]),
    mk("Nigeria", AF, &["English"], &[]),
    mk("Kenya", AF, &["English", "Swahili"], &[]),
    mk("United States", AM, &["English"], &["USA", "US", "United States of America"]),
    mk("Canada", AM, &["English", "French"], &[]),
    mk("Mexico", AM, &["Spanish"], &[]),
    mk("Brazil", AM, &["Portuguese"], &[]),
    mk("Argentina", AM, &["Spanish"], &[]),
    mk("Chile", AM, &["Spanish"], &[]),
    mk("Colombia", AM, &["Spanish"], &[]),
    mk("China", AP, &["Chinese"], &["PRC", "Mainland China"]),
    mk("Hong Kong", AP, &["Chinese", "English"], &[]),
    mk("Taiwan", AP, &["Chinese"], &[]),
    mk("Japan", AP, &["Japanese"], &[]),
    mk("South Korea", AP, &["Korean"], &["Korea"]),
    mk("India", AP, &["Hindi", "English"], &[]),
    mk("Singapore", AP, &["English", "Malay", "Chinese", "Tamil"], &[]),
    mk("Malaysia", AP, &["Malay"], &[]),
    mk("Indonesia", AP, &["Indonesian"], &[]),
    mk("Thailand", AP, &["Thai"], &[]),
    mk("Vietnam", AP, &["Vietnamese"], &[]),
    mk("Philippines", AP, &["Filipino", "English"], &[]),
    mk("Australia", AP, &["English"], &["AU"]),
    mk("New Zealand", AP, &["English", "Maori"], &["NZ"]),
];

/// Languages recognised in a text besides the markets' own ones.
pub const EXTRA_LANGUAGES: &[&str] =
    &["Catalan", "Basque", "Galician", "Flemish", "Mandarin", "Cantonese", "Farsi", "Urdu", "Russian"];
