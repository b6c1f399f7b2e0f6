//! What a model call costs: a price table per model (USD per million tokens for input, output,
//! cache writes and cache reads) and exact decimal arithmetic over a call's usage.
//!
//! The built-in prices are Anthropic's public list prices at the time of writing, with 5-minute
//! cache writes. They are defaults only: set `LLM_PRICES` to correct them or add models, e.g.
//! `{"claude-sonnet-4-5": {"input": "3", "output": "15", "cache_write": "3.75", "cache_read": "0.30"}}`.
//! A model missing `cache_write` or `cache_read` gets 1.25× and 0.1× its input price.

use std::collections::BTreeMap;
use std::str::FromStr;

use domain::agent_run::Usage;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// The environment variable whose JSON overrides or extends the default prices.
pub const PRICES_ENV: &str = "LLM_PRICES";

/// Decimal places a cost is rounded to (half away from zero).
pub const COST_DP: u32 = 6;

/// USD per million tokens of each kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    pub input: Decimal,
    pub output: Decimal,
    pub cache_write: Decimal,
    pub cache_read: Decimal,
}

impl Price {
    /// A price from its four figures in USD per million tokens ("3", "15", "3.75", "0.30").
    pub fn new(input: &str, output: &str, cache_write: &str, cache_read: &str) -> Result<Self, String> {
        let d = |what: &str, s: &str| match Decimal::from_str(s.trim()) {
            Ok(v) if v.is_sign_negative() => Err(format!("{what}: must not be negative")),
            Ok(v) => Ok(v),
            Err(e) => Err(format!("{what}: {s:?} is not a decimal ({e})")),
        };
        Ok(Price {
            input: d("input", input)?,
            output: d("output", output)?,
            cache_write: d("cache_write", cache_write)?,
            cache_read: d("cache_read", cache_read)?,
        })
    }
}

/// Prices by model name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

/// (model, input, output, cache write, cache read), USD per million tokens.
const DEFAULTS: &[(&str, &str, &str, &str, &str)] = &[
    ("claude-opus-4-7", "5", "25", "6.25", "0.50"),
    ("claude-opus-4-6", "5", "25", "6.25", "0.50"),
    ("claude-opus-4-5", "5", "25", "6.25", "0.50"),
    ("claude-opus-4-1", "15", "75", "18.75", "1.50"),
    ("claude-opus-4", "15", "75", "18.75", "1.50"),
    ("claude-sonnet-4-6", "3", "15", "3.75", "0.30"),
    ("claude-sonnet-4-5", "3", "15", "3.75", "0.30"),
    ("claude-sonnet-4", "3", "15", "3.75", "0.30"),
    ("claude-3-7-sonnet", "3", "15", "3.75", "0.30"),
    ("claude-haiku-4-5", "1", "5", "1.25", "0.10"),
    ("claude-3-5-haiku", "0.80", "4", "1", "0.08"),
];

impl Default for PriceTable {
    fn default() -> Self {
        let prices = DEFAULTS
            .iter()
            .map(|(m, i, o, w, r)| {
                (m.to_string(), Price::new(i, o, w, r).expect("built-in prices are decimals"))
            })
            .collect();
        PriceTable { prices }
    }
}

impl PriceTable {
    /// An empty table (every model unknown).
    pub fn empty() -> Self {
        PriceTable { prices: BTreeMap::new() }
    }

    /// The defaults, overridden and extended by `LLM_PRICES` when it is set.
    pub fn from_env() -> Result<Self, String> {
        let mut table = Self::default();
        if let Ok(json) = std::env::var(PRICES_ENV) {
            if !json.trim().is_empty() {
                table.apply_json(&json).map_err(|e| format!("{PRICES_ENV}: {e}"))?;
            }
        }
        Ok(table)
    }

    /// Sets or replaces a model's price.
    pub fn set(&mut self, model: &str, price: Price) {
        self.prices.insert(model.to_string(), price);
    }

    /// Applies `{"model": {"input": "3", "output": "15", "cache_write": "3.75", "cache_read": "0.30"}}`
    /// (figures as strings or numbers); nothing changes when any entry is invalid.
    pub fn apply_json(&mut self, json: &str) -> Result<(), String> {
        let v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON ({e})"))?;
        let models = v.as_object().ok_or("must be an object keyed by model name")?;
        let mut parsed = Vec::with_capacity(models.len());
        for (model, fields) in models {
            let field = |name: &str| -> Result<Option<String>, String> {
                match fields.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    Some(_) => Err(format!("{model}.{name}: must be a decimal string")),
                }
            };
            let input = field("input")?.ok_or(format!("{model}.input: is required"))?;
            let output = field("output")?.ok_or(format!("{model}.output: is required"))?;
            let base = Decimal::from_str(input.trim())
                .map_err(|e| format!("{model}.input: {input:?} is not a decimal ({e})"))?;
            let write = field("cache_write")?
                .unwrap_or_else(|| (base * Decimal::new(125, 2)).normalize().to_string());
            let read =
                field("cache_read")?.unwrap_or_else(|| (base * Decimal::new(1, 1)).normalize().to_string());
            let price = Price::new(&input, &output, &write, &read).map_err(|e| format!("{model}.{e}"))?;
            parsed.push((model.clone(), price));
        }
        for (model, price) in parsed {
            self.set(&model, price);
        }
        Ok(())
    }

    /// The price of a model: its exact name, else a priced name followed by a date stamp or
    /// `-latest` (so "claude-sonnet-4-5-20250929" costs as "claude-sonnet-4-5"). Any other
    /// variant is unknown rather than priced as a relative.
    pub fn get(&self, model: &str) -> Option<&Price> {
        if let Some(p) = self.prices.get(model) {
            return Some(p);
        }
        self.prices
            .iter()
            .filter(|(name, _)| {
                model.strip_prefix(name.as_str()).and_then(|rest| rest.strip_prefix('-')).is_some_and(
                    |suffix| {
                        suffix == "latest"
                            || (suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_digit()))
                    },
                )
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| p)
    }

    /// The USD cost of a call's usage, rounded to [`COST_DP`] places; an unknown model is an error.
    pub fn cost(&self, model: &str, usage: &Usage) -> Result<Decimal, String> {
        let p = self.get(model).ok_or_else(|| format!("no price for model {model:?} (set {PRICES_ENV})"))?;
        let sum = Decimal::from(usage.input_tokens) * p.input
            + Decimal::from(usage.output_tokens) * p.output
            + Decimal::from(usage.cache_creation_input_tokens) * p.cache_write
            + Decimal::from(usage.cache_read_input_tokens) * p.cache_read;
        Ok((sum / Decimal::from(1_000_000u32))
            .round_dp_with_strategy(COST_DP, RoundingStrategy::MidpointAwayFromZero))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, write: u64, read: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_creation_input_tokens: write,
            cache_read_input_tokens: read,
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn cost_adds_every_bucket_at_its_own_price() {
        let t = PriceTable::default();
        // 1 000 × 3 + 500 × 15 + 2 000 × 3.75 + 10 000 × 0.30 = 3 000 + 7 500 + 7 500 + 3 000 = 21 000 µ$.
        assert_eq!(t.cost("claude-sonnet-4-5", &usage(1_000, 500, 2_000, 10_000)).unwrap(), dec("0.021"));
        // Opus 4.5: 1 234 × 5 + 567 × 25 + 8 910 × 6.25 + 11 121 × 0.5
        //   = 6 170 + 14 175 + 55 687.5 + 5 560.5 = 81 593 µ$.
        assert_eq!(t.cost("claude-opus-4-5", &usage(1_234, 567, 8_910, 11_121)).unwrap(), dec("0.081593"));
        // Sonnet with odd counts: 7 × 3 + 3 × 15 + 1 × 3.75 + 1 × 0.3 = 70.05 µ$ → 0.000070.
        assert_eq!(t.cost("claude-sonnet-4-5", &usage(7, 3, 1, 1)).unwrap(), dec("0.000070"));
        assert_eq!(t.cost("claude-haiku-4-5", &usage(0, 0, 0, 0)).unwrap(), Decimal::ZERO);
    }

    #[test]
    fn cost_is_rounded_to_six_places_half_away_from_zero() {
        let t = PriceTable::default();
        // 1 token of Haiku 3.5 cache read = 0.08 µ$ → 0.00000008 → 0.000000.
        assert_eq!(t.cost("claude-3-5-haiku", &usage(0, 0, 0, 1)).unwrap(), dec("0"));
        // 5 cache reads of Sonnet = 1.5 µ$ → 0.0000015 → 0.000002 (away from zero, not to even).
        assert_eq!(t.cost("claude-sonnet-4", &usage(0, 0, 0, 5)).unwrap(), dec("0.000002"));
        // 10^9 output tokens of Opus 4.1 stay exact: 75 000 $.
        assert_eq!(t.cost("claude-opus-4-1", &usage(0, 1_000_000_000, 0, 0)).unwrap(), dec("75000"));
    }

    #[test]
    fn dated_and_latest_names_use_their_family_price_but_other_variants_are_unknown() {
        let t = PriceTable::default();
        assert_eq!(t.get("claude-sonnet-4-5-20250929"), t.get("claude-sonnet-4-5"));
        assert_eq!(t.get("claude-opus-4-20250514"), t.get("claude-opus-4"));
        assert_eq!(t.get("claude-3-5-haiku-latest"), t.get("claude-3-5-haiku"));
        assert_ne!(t.get("claude-opus-4-5-20251101"), t.get("claude-opus-4"));
        assert!(t.get("claude-opus-4-9").is_none(), "not priced as claude-opus-4");
        let err = t.cost("gpt-4o", &usage(1, 1, 0, 0)).unwrap_err();
        assert!(err.contains("gpt-4o") && err.contains(PRICES_ENV), "{err}");
    }

    #[test]
    fn json_overrides_and_adds_models() {
        let mut t = PriceTable::default();
        t.apply_json(
            r#"{"claude-sonnet-4-5": {"input": "2", "output": 10, "cache_write": "2.5", "cache_read": "0.2"},
                         "local-model": {"input": "0.5", "output": "1"}}"#,
        )
        .unwrap();
        assert_eq!(t.cost("claude-sonnet-4-5", &usage(1_000_000, 0, 0, 0)).unwrap(), dec("2"));
        let local = t.get("local-model").unwrap();
        assert_eq!((local.cache_write, local.cache_read), (dec("0.625"), dec("0.05")));
        assert_eq!(t.cost("claude-haiku-4-5", &usage(1_000_000, 0, 0, 0)).unwrap(), dec("1"), "others kept");
    }

    #[test]
    fn bad_json_changes_nothing_and_names_the_field() {
        let mut t = PriceTable::default();
        let before = t.clone();
        let err = t
            .apply_json(r#"{"a": {"input": "1", "output": "2"}, "b": {"input": "x", "output": "1"}}"#)
            .unwrap_err();
        assert!(err.starts_with("b.input"), "{err}");
        assert!(t.apply_json(r#"{"a": {"output": "2"}}"#).unwrap_err().contains("a.input: is required"));
        assert!(t
            .apply_json(r#"{"a": {"input": "-1", "output": "2"}}"#)
            .unwrap_err()
            .contains("a.input: must not be negative"));
        assert!(t.apply_json("[1]").is_err());
        assert_eq!(t, before);
    }

    #[test]
    fn from_env_reads_llm_prices() {
        // The only test touching this variable.
        std::env::set_var(PRICES_ENV, r#"{"claude-haiku-4-5": {"input": "9", "output": "9"}}"#);
        let t = PriceTable::from_env();
        std::env::remove_var(PRICES_ENV);
        assert_eq!(t.unwrap().get("claude-haiku-4-5").unwrap().input, dec("9"));
        assert_eq!(PriceTable::from_env().unwrap(), PriceTable::default());
    }
}
