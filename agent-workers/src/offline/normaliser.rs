//! Stage 6, offline: reads a brief and lists the assets it asks for, one row per deliverable.
//!
//! The seed's rules, applied without a model: one asset per row; "Toolbox A, B and C" becomes one
//! row per tier; names are the brief's own specific words, in the singular; a range takes its
//! midpoint; a missing or "TBC" quantity becomes 1 with "Volume TBC — confirm with client"; nothing
//! the brief does not mention is added; repeats are dropped.
//!
//! Period convention: every volume is a YEAR's volume, because rate cards and team shapes are
//! annual. "~50 per month" becomes 600 (× 12), "per week" × 52, "per quarter" × 4, and an adverb
//! such as "monthly" with no figure counts one per period (12). A figure with no period is read as
//! the year's figure, as RFPs state ("volumes are annual estimates unless stated"). "Per centre"
//! multiplies by the number of centres when the brief states it. The description always shows the
//! arithmetic, so a reader can see and undo it.

use serde::{Deserialize, Serialize};

use super::text;

/// One deliverable the client asks for: a row of the seed's `submit_normalized_assets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizedAsset {
    /// The deliverable in the brief's own words, singular ("Paid social static").
    pub raw_name: String,
    /// The brief's wording it came from, and how its volume was worked out.
    pub raw_description: String,
    /// The tier letter or band when the brief uses one ("A"); `None` otherwise.
    pub client_tier: Option<String>,
    /// How many a year (see the module's period convention); at least 1.
    pub volume: u32,
}

/// Everything the normaliser found in one brief, in the brief's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizerOutput {
    /// One row per deliverable.
    pub assets: Vec<NormalizedAsset>,
}

/// The note a row gets when the brief gives no usable quantity.
pub const VOLUME_TBC: &str = "Volume TBC — confirm with client";

/// Sections whose bullets describe the deal, not deliverables.
const SKIPPED_SECTIONS: &str = concat!(
    "background|kpi|service level|timeline|timing|evaluation|commercial|budget|ways of working|",
    "markets and languages|contact|submission"
);
/// Out-of-scope wording beyond what [`text::is_negated`] knows.
const NEGATIONS: &str = "not needed|no need|not part of";
/// Words naming something an agency can scope hours against (singular, lower case).
const DELIVERABLES: &str = concat!(
    "visual|kv|video|film|cut-down|cutdown|toolkit|toolbox|static|post|motion|reel|story|carousel|image|",
    "photo|photograph|photography|shoot|banner|display|copy|copywriting|module|email|e-mail|template|",
    "newsletter|leaflet|wobbler|poster|brochure|flyer|catalogue|mailer|transcreation|translation|subtitle|",
    "ad|advert|report|article|blog|script|tagline|packaging|packshot|infographic|animation|point-of-sale"
);
/// Words a name is cut at: what follows them is context, not the deliverable.
const CUT_WORDS: &str =
    "for|in|across|on|at|per|with|to|from|under|filmed|using|including|via|each|which|where";
/// Words dropped from the start of a name ("We need around 200 …" → "…").
const LEADING_FILLER: &str = concat!(
    "~|around|approx|approx.|approximately|about|circa|roughly|some|up|a|an|the|one|we|i|you|need|want|",
    "require|would|like|please|provide|produce|deliver|create|also|plus|and|our|will|should|must"
);
/// Words that open a quantity ("around 20 statics").
const QUANTITY_LEADS: &str = "around|approx|approx.|approximately|about|circa|roughly|some|up";
/// Labels before a colon that introduce a list rather than name a deliverable.
const LABELS: &str = "nice to have|optional|also|additionally|what we need|deliverables|scope|other";
/// Last words of a list's heading that are too general to keep ("PDP content" → "PDP").
const GENERIC_HEADS: &str = "content|ad|advert|asset|material|deliverable|creative";
const TIER_WORDS: &str = "toolbox|toolkit|tier|band|level|package|tiers|bands";

/// Reads a brief and returns its assets, one per deliverable, deduplicated, in the brief's order.
pub fn normalise(text: &str) -> NormalizerOutput {
    let mut assets = Vec::new();
    for segment in text::segments(&tables_as_bullets(text)) {
        let heading = segment.heading.to_lowercase();
        if !SKIPPED_SECTIONS.split('|').any(|s| heading.contains(s)) {
            read_unit(&segment.text, text, &mut assets);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    assets.retain(|a: &NormalizedAsset| {
        let key: String = a.raw_name.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
        seen.insert((key, a.client_tier.clone()))
    });
    NormalizerOutput { assets }
}

/// Markdown table rows become bullets ("| PDP banner | 200 | per year |" → "- PDP banner: 200 per year");
/// separator rows become blank lines.
fn tables_as_bullets(text: &str) -> String {
    let row = |line: &str| {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) {
            return String::new();
        }
        format!("- {}: {}", cells[0], cells[1..].join(" "))
    };
    let lines: Vec<String> =
        text.lines().map(|l| if l.trim_start().starts_with('|') { row(l) } else { l.to_string() }).collect();
    lines.join("\n")
}

/// Turns one unit into rows: tiers, a labelled list ("PDP content for 300 SKUs: a, b and c"),
/// a plain list ("Transcreation for headlines, translation for body copy") or a single asset.
fn read_unit(unit: &str, brief: &str, out: &mut Vec<NormalizedAsset>) {
    let lower = unit.to_lowercase();
    let negated = text::is_negated(unit) || NEGATIONS.split('|').any(|n| lower.contains(n));
    if negated || !has_deliverable(unit) || tiers(unit, brief, out) {
        return;
    }
    let Some((head, tail)) = split_label(unit) else {
        let parts: Vec<&str> = fragments(unit).into_iter().filter(|f| has_deliverable(f)).collect();
        if parts.len() >= 2 && !unit.chars().any(|c| c.is_ascii_digit()) {
            for part in parts {
                let found = quantity::volume(part, brief).ok_or_else(|| quantity::why_open(unit));
                push(out, clean_name(part), None, text::quote(unit, 240), found);
            }
        } else {
            single(unit, unit, brief, out);
        }
        return;
    };
    let parts: Vec<&str> = fragments(tail).into_iter().filter(|f| has_deliverable(f)).collect();
    let is_label = LABELS.split('|').any(|l| head.to_lowercase().starts_with(l));
    if parts.len() >= 2 {
        let qualifier = if is_label { String::new() } else { qualifier(head) };
        let shared = quantity::volume(head, brief);
        for part in parts {
            let own = starts_with_quantity(part).then(|| quantity::volume(part, brief)).flatten();
            let name = qualify(&qualifier, &clean_name(part));
            let description = format!("{} (from \"{}\")", text::quote(part, 200), text::quote(head, 120));
            let found = own.or_else(|| shared.clone()).ok_or_else(|| quantity::why_open(unit));
            push(out, name, None, description, found);
        }
    } else if has_deliverable(head) && !is_label {
        single(head, unit, brief, out);
    } else {
        single(parts.first().copied().unwrap_or(tail), unit, brief, out);
    }
}

/// One asset named by `name_source`, with the volume read from the whole unit; "30s master plus
/// 15s and 6s cut-downs" becomes one row per duration.
fn single(name_source: &str, unit: &str, brief: &str, out: &mut Vec<NormalizedAsset>) {
    let name = clean_name(name_source);
    let found = quantity::volume(unit, brief).ok_or_else(|| quantity::why_open(unit));
    let lengths = quantity::durations(unit);
    if lengths.len() < 2 {
        return push(out, name, None, text::quote(unit, 240), found);
    }
    let lower = unit.to_lowercase();
    let cut_downs = ["cut-down", "cutdown", "cut down"].iter().any(|w| lower.contains(w));
    for (i, length) in lengths.iter().enumerate() {
        let role = match (i, lower.contains("master"), cut_downs) {
            (0, true, _) => " master",
            (1.., _, true) => " cut-down",
            _ => "",
        };
        push(out, format!("{name} {length}{role}"), None, text::quote(unit, 240), found.clone());
    }
}

/// "Toolbox A, B and C campaign toolkits (A = full 360 toolkit, …)" → one row per tier. A total
/// "across tiers" is not split by guesswork: each tier's volume is TBC, with the total quoted.
fn tiers(unit: &str, brief: &str, out: &mut Vec<NormalizedAsset>) -> bool {
    let toks = quantity::lex(unit);
    for (i, t) in toks.iter().enumerate() {
        let word = t.text(unit).to_lowercase();
        if !listed(TIER_WORDS, &word) {
            continue;
        }
        let (labels, end) = quantity::tier_labels(unit, &toks, i + 1);
        if labels.len() < 2 {
            continue;
        }
        let rest = clean_name(&unit[toks.get(end).map_or(unit.len(), |t| t.start)..]);
        let by_tier = ["tier", "tiers", "band", "bands", "level"].contains(&word.as_str());
        let found = quantity::volume(unit, brief);
        let split_open = quantity::why_open(unit).contains("TBC") || unit.to_lowercase().contains("total");
        let found = match found {
            Some(v) if split_open => Err(format!(
                "the brief gives {} in total across tiers {}, not split per tier",
                v.stated,
                text::join_list(&labels)
            )),
            Some(v) => Ok(v),
            None => Err(quantity::why_open(unit)),
        };
        for label in &labels {
            let name = if by_tier {
                clean_name(&unit[..t.start])
            } else {
                text::capitalise(format!("{} {label} {}", t.text(unit), rest.to_lowercase()).trim())
            };
            let meaning = quantity::tier_meaning(unit, &toks, label);
            let mut description = meaning.map(|m| format!("Tier {label}: {m}. ")).unwrap_or_default();
            description.push_str(&text::quote(unit, 240));
            push(out, name, Some(label.clone()), description, found.clone());
        }
        return true;
    }
    false
}

/// Adds a row; `found` is the worked-out volume, or why there is none (then 1 and [`VOLUME_TBC`]).
fn push(out: &mut Vec<NormalizedAsset>, name: String, tier: Option<String>, context: String, found: Found) {
    if name.trim().is_empty() {
        return;
    }
    let (volume, note) = match found {
        Ok(v) => (v.value, v.note),
        Err(why) => (1, format!("{VOLUME_TBC} ({why}).")),
    };
    let context = context.trim_end_matches('.');
    out.push(NormalizedAsset {
        raw_name: name,
        raw_description: format!("{context}. {note}"),
        client_tier: tier,
        volume,
    });
}

type Found = Result<quantity::Volume, String>;

/// The part before the first colon that is not inside brackets or between digits (1:1).
fn split_label(unit: &str) -> Option<(&str, &str)> {
    let (b, mut depth) = (unit.as_bytes(), 0i32);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b':' if depth == 0 => {
                let digits =
                    i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !digits {
                    return Some((unit[..i].trim(), unit[i + 1..].trim()));
                }
            }
            _ => {}
        }
    }
    None
}

/// Top-level list items: split at commas, semicolons, " and " and " plus " outside brackets.
fn fragments(text: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start, b) = (Vec::new(), 0i32, 0, text.as_bytes());
    let mut i = 0;
    while i < b.len() {
        let sep = match b[i] {
            b'(' => {
                depth += 1;
                0
            }
            b')' => {
                depth -= 1;
                0
            }
            b',' | b';' if depth == 0 => 1,
            b' ' if depth == 0 && text[i..].starts_with(" and ") => 5,
            b' ' if depth == 0 && text[i..].starts_with(" plus ") => 6,
            _ => 0,
        };
        if sep > 0 {
            out.push(text[start..i].trim());
            start = i + sep;
            i += sep;
        } else {
            i += 1;
        }
    }
    out.push(text[start..].trim().trim_end_matches('.'));
    out.retain(|f| !f.is_empty());
    out
}

fn has_deliverable(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || "()/,.;:".contains(c)).any(|w| {
        let w = singular(&w.to_lowercase());
        listed(DELIVERABLES, &w) || listed(DELIVERABLES, w.rsplit('-').next().unwrap_or(""))
    })
}

fn starts_with_quantity(part: &str) -> bool {
    let first = part.split_whitespace().next().unwrap_or("").to_lowercase();
    first.starts_with(|c: char| c.is_ascii_digit() || c == '~') || listed(QUANTITY_LEADS, &first)
}

/// The deliverable's name: filler and quantities dropped, cut before context words, singular.
fn clean_name(source: &str) -> String {
    let mut words: Vec<&str> = Vec::new();
    let mut head_end = None;
    for raw in source.split_whitespace() {
        let lower = raw.to_lowercase();
        // A count ("200", "~50", "120-200") or a length ("30s") is a quantity, not part of a name.
        let figure = raw.starts_with(|c: char| c.is_ascii_digit() || c == '~')
            && raw.trim_end_matches('s').chars().all(|c| c.is_ascii_digit() || ",.-–~+".contains(c));
        if words.is_empty() && (figure || listed(LEADING_FILLER, &lower)) {
            continue;
        }
        if figure {
            break;
        }
        if raw.starts_with('(') {
            let abbreviation = raw.ends_with(')') && raw.len() <= 6 && !raw.chars().any(char::is_lowercase);
            if !abbreviation || words.is_empty() {
                break;
            }
            head_end.get_or_insert(words.len());
            words.push(raw);
            continue;
        }
        if listed(CUT_WORDS, &lower) && !words.is_empty() {
            if !(lower == "for" && words.len() == 1 && head_end.is_none()) {
                break;
            }
            head_end = Some(words.len());
        }
        let core = raw.trim_end_matches([',', ':', ';', '.']);
        words.push(core);
        if core.len() < raw.len() {
            break;
        }
    }
    let head = head_end.unwrap_or(words.len());
    let mut owned: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    if let Some(last) = owned.get_mut(head.wrapping_sub(1)) {
        *last = singular(last);
    }
    text::capitalise(&owned.join(" "))
}

/// "Paid social ads" → "Paid social"; "PDP content" → "PDP"; "Print" → "Print".
fn qualifier(head: &str) -> String {
    let name = clean_name(head);
    let mut words: Vec<&str> = name.split_whitespace().collect();
    if words.len() > 1 && words.last().is_some_and(|w| listed(GENERIC_HEADS, &w.to_lowercase())) {
        words.pop();
    }
    words.join(" ")
}

fn qualify(qualifier: &str, item: &str) -> String {
    if qualifier.is_empty() || item.to_lowercase().contains(&qualifier.to_lowercase()) {
        return item.to_string();
    }
    let mut chars = item.chars();
    let first = chars.next().map(|c| c.to_lowercase().to_string()).unwrap_or_default();
    // "Hero image set" reads "PDP hero image set"; an acronym such as "A+" or "POS" keeps its case.
    let keep_case = item.chars().nth(1).is_some_and(|c| !c.is_lowercase());
    if keep_case {
        format!("{qualifier} {item}")
    } else {
        format!("{qualifier} {first}{}", chars.as_str())
    }
}

/// Whether `word` is one of the `|`-separated entries of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split('|').any(|w| w == word)
}

/// English plural to singular, for the few shapes briefs use.
fn singular(word: &str) -> String {
    let lower = word.to_lowercase();
    if ["news", "series", "analytics"].contains(&lower.as_str()) || word.len() < 3 {
        return word.to_string();
    }
    if lower.ends_with("ies") && word.len() > 4 {
        return format!("{}y", &word[..word.len() - 3]);
    }
    if ["sses", "xes", "ches", "shes"].iter().any(|e| lower.ends_with(e)) {
        return word[..word.len() - 2].to_string();
    }
    if lower.ends_with('s') && !["ss", "us", "is"].iter().any(|e| lower.ends_with(e)) {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

/// Quantities in a brief's wording: counts, ranges, periods, "per centre" multipliers, tiers and
/// durations, read from a small token stream (words, numbers with their suffix, symbols).
mod quantity {
    use super::{listed, singular, text};

    const NOT_COUNT_AFTER: &str =
        "phase|year|tier|q|section|step|wave|version|stage|week|day|under|within|by|since|until";
    /// A number followed by one of these is a dimension or a span, not a volume ("12 markets").
    const DIMENSIONS: &str = concat!(
        "market|country|language|brand|centre|center|location|store|agency|site|region|month|week|year|",
        "day|hour|minute|second|people|fte|staff|round|time|member"
    );
    const MONTHS: &str = concat!(
        "january|february|march|april|may|june|july|august|september|october|november|december|",
        "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov"
    );
    const WORD_NUMBERS: &str = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve";
    const APPROX: &str = "~|around|approx|approximately|about|circa|roughly|c";

    /// A year's volume and the arithmetic behind it, in words.
    #[derive(Clone, Debug)]
    pub struct Volume {
        /// The year's volume, at least 1.
        pub value: u32,
        /// The quantity as the brief states it ("~50 per month").
        pub stated: String,
        /// "Volume: ~50 per month × 12 = 600 a year."
        pub note: String,
    }

    /// What a token is.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Kind {
        Word,
        Num,
        Sym,
    }

    /// A token: its kind and its byte span in the text it was read from.
    #[derive(Clone, Copy, Debug)]
    pub struct Tok {
        pub kind: Kind,
        pub start: usize,
        pub end: usize,
    }

    impl Tok {
        /// The token's text in `s`, the text it was read from.
        pub fn text<'a>(&self, s: &'a str) -> &'a str {
            &s[self.start..self.end]
        }
    }

    /// Words (with inner hyphens, apostrophes and a trailing "+"), numbers with any letters stuck to
    /// them ("30s", "60k") and single symbols.
    pub fn lex(s: &str) -> Vec<Tok> {
        let chars: Vec<(usize, char)> = s.char_indices().collect();
        let at = |i: usize| chars.get(i).map(|c| c.1);
        let (mut out, mut i) = (Vec::new(), 0);
        while let Some(c) = at(i) {
            let start = chars[i].0;
            i += 1;
            let kind = if c.is_whitespace() {
                continue;
            } else if c.is_ascii_digit() {
                while at(i).is_some_and(|d| d.is_ascii_digit())
                    || matches!(at(i), Some(',' | '.')) && at(i + 1).is_some_and(|d| d.is_ascii_digit())
                {
                    i += 1;
                }
                while at(i).is_some_and(char::is_alphabetic) {
                    i += 1;
                }
                Kind::Num
            } else if c.is_alphanumeric() {
                while at(i).is_some_and(|d| {
                    d.is_alphanumeric()
                        || d == '+'
                        || "-'".contains(d) && at(i + 1).is_some_and(char::is_alphanumeric)
                }) {
                    i += 1;
                }
                Kind::Word
            } else {
                Kind::Sym
            };
            out.push(Tok { kind, start, end: chars.get(i).map_or(s.len(), |c| c.0) });
        }
        out
    }

    fn number(s: &str, t: &Tok) -> Option<(f64, String)> {
        let text = t.text(s);
        let split = text.find(char::is_alphabetic).unwrap_or(text.len());
        let value = text[..split].replace(',', "").parse().ok()?;
        (t.kind == Kind::Num).then(|| (value, text[split..].to_lowercase()))
    }

    fn period(word: &str) -> Option<(u32, &'static str)> {
        Some(match word {
            "month" | "months" | "monthly" => (12, "month"),
            "week" | "weeks" | "weekly" => (52, "week"),
            "fortnight" | "fortnightly" => (26, "fortnight"),
            "quarter" | "quarters" | "quarterly" => (4, "quarter"),
            "year" | "years" | "annum" | "annual" | "annually" | "yearly" => (1, "year"),
            _ => return None,
        })
    }

    /// The year's volume a text states, or `None` when it gives none.
    pub fn volume(s: &str, brief: &str) -> Option<Volume> {
        let toks = lex(s);
        let word = |j: usize| toks.get(j).map(|t| t.text(s).to_lowercase()).unwrap_or_default();
        let adverb = || {
            toks.iter().find_map(|t| period(&t.text(s).to_lowercase()).filter(|_| t.text(s).ends_with("ly")))
        };
        // Counts outside brackets first; inside them ("we send one a month") only with a period.
        for aside in [false, true] {
            let mut depth = 0;
            for i in 0..toks.len() {
                depth += match word(i).as_str() {
                    "(" => 1,
                    ")" => -1,
                    _ => 0,
                };
                let Some((lo, hi, next)) = ((depth > 0) == aside).then(|| count_at(s, &toks, i)).flatten()
                else {
                    continue;
                };
                let approx = i > 0 && listed(APPROX, word(i - 1).trim_end_matches('.'));
                let (per, unit) = rate_after(s, &toks, next);
                if !aside || per.is_some() {
                    return Some(compose(lo, hi, approx, per.or_else(adverb), unit, brief));
                }
            }
        }
        adverb().map(|per| compose(1.0, 1.0, false, Some(per), None, brief))
    }

    /// A count starting at token `i`: (low, high, index after it), skipping ratios, percentages,
    /// money, years, dates, durations and dimensions ("12 markets", "Phase 1").
    fn count_at(s: &str, toks: &[Tok], i: usize) -> Option<(f64, f64, usize)> {
        let word = |j: usize| toks.get(j).map(|t| t.text(s).to_lowercase()).unwrap_or_default();
        let Some((lo, suffix)) = number(s, &toks[i]) else {
            let n = WORD_NUMBERS.split('|').position(|w| w == word(i))? as f64 + 1.0;
            let intro = ["a", "an", "per", "each", "every", "/"].contains(&word(i + 1).as_str());
            return (intro && period(&word(i + 2)).is_some()).then_some((n, n, i + 1));
        };
        let before = if i > 0 { word(i - 1) } else { String::new() };
        let is_num = |j: Option<usize>| j.and_then(|j| toks.get(j)).is_some_and(|t| t.kind == Kind::Num);
        let ratio = before == ":" && is_num(i.checked_sub(2)) || word(i + 1) == ":" && is_num(Some(i + 2));
        let money_or_ratio = ratio || ["£", "€", "$", "#"].contains(&before.as_str()) || word(i + 1) == "%";
        let year = lo.fract() == 0.0 && (1900.0..=2100.0).contains(&lo);
        if !suffix.is_empty() || lo <= 0.0 || money_or_ratio || year || listed(NOT_COUNT_AFTER, &before) {
            return None;
        }
        let (mut hi, mut next) = (lo, i + 1);
        if ["-", "–", "—", "to"].contains(&word(i + 1).as_str()) {
            if let Some((h, "")) =
                toks.get(i + 2).and_then(|t| number(s, t)).as_ref().map(|(h, x)| (*h, x.as_str()))
            {
                (hi, next) = (h.max(lo), i + 3);
            }
        }
        let after = if word(next) == "-" { word(next + 1) } else { word(next) };
        let dimension =
            listed(DIMENSIONS, &singular(&after)) || ["sec", "secs", "seconds"].contains(&after.as_str());
        (!dimension && !listed(MONTHS, &after) && !listed(MONTHS, &before)).then_some((lo, hi, next))
    }

    /// The period ("per month", "a week", "/quarter") and unit ("per centre") right after a count,
    /// up to the end of its clause; bracketed asides are stepped over.
    fn rate_after(s: &str, toks: &[Tok], from: usize) -> (Option<(u32, &'static str)>, Option<String>) {
        let (mut per, mut unit, mut depth) = (None, None, 0);
        for (j, t) in toks.iter().enumerate().skip(from).take(14) {
            let w = t.text(s).to_lowercase();
            match w.as_str() {
                "(" => depth += 1,
                ")" => depth -= 1,
                "," | ";" | "." | ":" if depth == 0 => break,
                "per" | "/" | "a" | "an" | "each" | "every" if depth == 0 => {
                    let next = toks.get(j + 1).map(|n| n.text(s).to_lowercase()).unwrap_or_default();
                    match period(&next) {
                        Some(p) if per.is_none() => per = Some(p),
                        None if unit.is_none()
                            && (w == "per" || w == "/")
                            && next.chars().all(char::is_alphabetic) =>
                        {
                            unit = Some(singular(&next));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        (per, unit)
    }

    fn compose(
        lo: f64,
        hi: f64,
        approx: bool,
        per: Option<(u32, &str)>,
        unit: Option<String>,
        brief: &str,
    ) -> Volume {
        let show = |v: f64| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") };
        let mid = (lo + hi) / 2.0;
        let mut stated = if hi > lo {
            format!("{}–{}", show(lo), show(hi))
        } else {
            format!("{}{}", if approx { "~" } else { "" }, show(lo))
        };
        let mut note = format!("Volume: {stated}");
        if hi > lo {
            note.push_str(&format!(" (midpoint {})", show(mid)));
        }
        let mut value = mid;
        match per {
            Some((factor, name)) => {
                stated.push_str(&format!(" per {name}"));
                note.push_str(&format!(" per {name}"));
                if factor != 1 {
                    note.push_str(&format!(" × {factor}"));
                    value *= f64::from(factor);
                }
            }
            None => note.push_str(", no period stated, read as the year's volume"),
        }
        if let Some(unit) = unit {
            stated.push_str(&format!(" per {unit}"));
            match count_of(brief, &unit) {
                Some(n) => {
                    note.push_str(&format!(" × {} {unit}s", show(n)));
                    value *= n;
                }
                None => note.push_str(&format!(" (per {unit}; the brief does not say how many — confirm)")),
            }
        }
        let value = value.round().clamp(1.0, f64::from(u32::MAX)) as u32;
        note.push_str(&format!(" = {value} a year."));
        Volume { value, stated, note }
    }

    /// "9 leisure centres" → 9 for the unit "centre": a number followed within three words by it.
    fn count_of(brief: &str, unit: &str) -> Option<f64> {
        let toks = lex(brief);
        toks.iter().enumerate().find_map(|(i, t)| {
            let (n, suffix) = number(brief, t)?;
            let near = toks[i + 1..].iter().take(3).take_while(|t| t.kind == Kind::Word);
            let names = near.into_iter().any(|w| singular(&w.text(brief).to_lowercase()) == unit);
            (suffix.is_empty() && names).then_some(n)
        })
    }

    /// Why a text gives no volume, for the TBC note.
    pub fn why_open(s: &str) -> String {
        let lower = format!(" {} ", text::words(s).join(" "));
        let said = |ws: &[&str]| ws.iter().any(|w| lower.contains(&format!(" {w} ")));
        if said(&["tbc", "tbd", "to be confirmed", "to be defined", "to be agreed"]) {
            "the brief marks it TBC".into()
        } else if said(&["on demand", "as needed", "as required", "ad hoc", "when required"]) {
            "the brief says it is on demand".into()
        } else {
            "the brief gives no quantity".into()
        }
    }

    /// Video lengths named in a text, in order and without repeats: "30s", "15 seconds" → "15s".
    pub fn durations(s: &str) -> Vec<String> {
        let toks = lex(s);
        let mut out: Vec<String> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            let Some((n, suffix)) = number(s, t) else { continue };
            let next = |k: usize| toks.get(i + k).map(|t| t.text(s).to_lowercase()).unwrap_or_default();
            let unit_word = ["second", "seconds", "sec", "secs"];
            let seconds = suffix == "s" && n < 600.0
                || suffix.is_empty()
                    && (unit_word.contains(&next(1).as_str())
                        || next(1) == "-" && unit_word.contains(&next(2).as_str()));
            let label = format!("{n:.0}s");
            if seconds && !out.contains(&label) {
                out.push(label);
            }
        }
        out
    }

    /// Tier letters (or digits) after a tier word: "A, B and C", "A/B/C", "A–C", "1/2/3".
    pub fn tier_labels(s: &str, toks: &[Tok], from: usize) -> (Vec<String>, usize) {
        let label = |j: usize| {
            let t = toks.get(j)?.text(s);
            let c = t.chars().next()?;
            (t.len() == 1 && (c.is_ascii_uppercase() || ('1'..='9').contains(&c))).then_some(c)
        };
        let mut labels: Vec<char> = label(from).into_iter().collect();
        let mut j = from + 1;
        while !labels.is_empty() {
            let sep = toks.get(j).map(|t| t.text(s).to_lowercase()).unwrap_or_default();
            let Some(next) = label(j + 1) else { break };
            match sep.as_str() {
                "/" | "," | "&" | "and" | "or" => labels.push(next),
                "-" | "–" | "—" | "to" => {
                    let from = labels[labels.len() - 1];
                    if from.is_ascii_digit() != next.is_ascii_digit() {
                        break;
                    }
                    labels.extend((from as u8 + 1..=next as u8).map(char::from));
                }
                _ => break,
            }
            j += 2;
        }
        (labels.into_iter().map(String::from).collect(), j)
    }

    /// What the brief says a tier is: "A = full 360 toolkit" → "full 360 toolkit".
    pub fn tier_meaning(s: &str, toks: &[Tok], label: &str) -> Option<String> {
        let at = toks.windows(3).position(|w| w[0].text(s) == label && ["=", ":"].contains(&w[1].text(s)))?;
        let first = toks[at + 2];
        let last = toks[at + 2..].iter().take_while(|t| ![",", ";", ")", "."].contains(&t.text(s))).last()?;
        Some(s[first.start..last.end].trim().to_string())
    }
}
