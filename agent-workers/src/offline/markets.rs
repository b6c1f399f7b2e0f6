//! Markets as the later agents speak of them: which leads, which follow fast, which are written
//! right to left, and how a market's name reads in a sentence.

use super::text;

const RTL_LANGUAGES: &[&str] = &["Arabic", "Hebrew", "Farsi", "Urdu"];

/// Whether a market is written right to left (its rollout takes longer).
pub fn rtl(market: &str) -> bool {
    text::MARKETS.iter().any(|m| m.name == market && m.languages.iter().any(|l| RTL_LANGUAGES.contains(l)))
}

/// A market's name as it reads in a sentence ("the Netherlands", "Germany").
pub fn place(market: &str) -> String {
    const WITH_THE: &str =
        "Netherlands|United Kingdom|United Arab Emirates|United States|Czech Republic|Philippines";
    let the = WITH_THE.split('|').any(|m| m == market);
    format!("{}{market}", if the { "the " } else { "" })
}

/// The lead market: the one a "lead market" sentence names, else the first of `markets`.
pub fn lead_market(documents: &str, markets: &[String]) -> Option<String> {
    let segments = text::segments(documents);
    let mut said = segments.iter().filter(|s| s.text.to_lowercase().contains("lead market"));
    let named = said
        .find_map(|s| text::find_markets(&s.text).into_iter().find(|m| markets.iter().any(|x| x == m.name)));
    named.map(|m| m.name.to_string()).or_else(|| markets.first().cloned())
}

/// The rollout waves: the lead market, up to five fast followers (half the rest, never a
/// right-to-left market) and the long tail, each in the brief's order.
pub fn waves(documents: &str, markets: &[String]) -> (Option<String>, Vec<String>, Vec<String>) {
    let lead = lead_market(documents, markets);
    let rest: Vec<String> = markets.iter().filter(|m| Some(*m) != lead.as_ref()).cloned().collect();
    let room = rest.len().div_ceil(2).min(5);
    let fast: Vec<String> = rest.iter().filter(|m| !rtl(m)).take(room).cloned().collect();
    let tail = rest.into_iter().filter(|m| !fast.contains(m)).collect();
    (lead, fast, tail)
}
