//! What every read model and export can hold, so nothing a client sends can be recorded and then
//! refused downstream: dates in the years 1900–9999 (PostgreSQL `date`, spreadsheets), numbers
//! within the columns that keep them, and text of bounded length without NUL or other C0 control
//! characters (PostgreSQL text and JSON reject NUL; the XML inside .xlsx and .docx rejects the
//! other controls; tab, line feed and carriage return are allowed).
//!
//! The limits are defined here once; the API checks its input against them (answering 422 naming
//! the field) and the aggregate checks every command against them again before deciding.

use std::borrow::Cow;
use std::fmt::Display;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use thiserror::Error;

pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 9999;

/// Names: an opportunity's, its client's, its region, a person's.
pub const NAME: usize = 200;
/// Short labels: brands, service types, categories, catalog ids, tools, media types.
pub const LABEL: usize = 100;
pub const MODEL_TYPE: usize = 64;
pub const EMAIL: usize = 254;
/// Long free text: descriptions, lessons learned, the client's answers.
pub const LONG_TEXT: usize = 20_000;
/// Notes on a scorecard or an efficiency profile.
pub const NOTES: usize = 10_000;
pub const APPROVAL_NOTES: usize = 5_000;
pub const QUESTION: usize = 2_000;
pub const RATIONALE: usize = 4_000;
pub const DISMISSAL_REASON: usize = 2_000;
pub const ASSET_NAME: usize = 300;
pub const ASSET_DESCRIPTION: usize = 4_000;
pub const CLIENT_TIER: usize = 50;
/// Why a match was made, and the caveats of a catalog entry.
pub const REASONING: usize = 4_000;
pub const FILENAME: usize = 255;
/// A recorded agent failure's reason (cut to this, never refused: it is ours, not a client's).
pub const FAILURE_REASON: usize = 2_000;

/// Entries of a list field (brands, service types).
pub const LIST_ENTRIES: usize = 100;
pub const TOOLS: usize = 50;

pub const MIN_VOLUME: u32 = 1;
pub const MAX_VOLUME: u32 = 1_000_000;
pub const MAX_PERCENT: f64 = 100.0;
/// Hours one role spends on one asset of a catalog entry.
pub const MAX_ROLE_HOURS: f64 = 10_000.0;

/// The highest hourly rate (the rate-card column is numeric(12, 2); totals multiply it by hours).
pub fn max_rate() -> Decimal {
    Decimal::new(9_999_999, 2)
}

/// A value a client sent that cannot be kept; `field` names it as the request did.
#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum InputError {
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} must be at most {max} characters")]
    TooLong { field: String, max: usize },
    #[error("{field} must not contain NUL (\\u0000) or other control characters (tab, line feed and carriage return are allowed)")]
    ControlCharacter { field: String },
    #[error("{field} must be a date in the years {MIN_YEAR} to {MAX_YEAR}, got {value}")]
    DateOutOfRange { field: String, value: NaiveDate },
    #[error("{field} must be from {min} to {max}, got {value}")]
    OutOfRange { field: String, min: String, max: String, value: String },
    #[error("{field} takes at most {max} entries")]
    TooMany { field: String, max: usize },
    #[error("{field} must be a three-letter ISO 4217 code, e.g. EUR")]
    Currency { field: String },
}

impl InputError {
    /// The request field at fault.
    pub fn field(&self) -> &str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field }
            | Self::DateOutOfRange { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::TooMany { field, .. }
            | Self::Currency { field } => field,
        }
    }
}

/// A character no stored text may hold: the C0 controls but tab, line feed and carriage return.
pub fn is_forbidden(c: char) -> bool {
    c < ' ' && !matches!(c, '\t' | '\n' | '\r')
}

/// Text of at most `max` characters without forbidden characters (it may be empty).
pub fn text(field: &str, value: &str, max: usize) -> Result<(), InputError> {
    if value.chars().count() > max {
        return Err(InputError::TooLong { field: field.into(), max });
    }
    if value.chars().any(is_forbidden) {
        return Err(InputError::ControlCharacter { field: field.into() });
    }
    Ok(())
}

/// Like [`text`], and not blank.
pub fn required(field: &str, value: &str, max: usize) -> Result<(), InputError> {
    text(field, value, max)?;
    if value.trim().is_empty() {
        return Err(InputError::Empty { field: field.into() });
    }
    Ok(())
}

pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<(), InputError> {
    value.map_or(Ok(()), |v| text(field, v, max))
}

/// At most `entries` entries, each `field[i]` of at most `max` characters and not blank.
pub fn list(field: &str, values: &[String], entries: usize, max: usize) -> Result<(), InputError> {
    if values.len() > entries {
        return Err(InputError::TooMany { field: field.into(), max: entries });
    }
    values.iter().enumerate().try_for_each(|(i, v)| required(&format!("{field}[{i}]"), v, max))
}

pub fn date(field: &str, value: NaiveDate) -> Result<(), InputError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&value.year()) {
        Ok(())
    } else {
        Err(InputError::DateOutOfRange { field: field.into(), value })
    }
}

pub fn optional_date(field: &str, value: Option<NaiveDate>) -> Result<(), InputError> {
    value.map_or(Ok(()), |d| date(field, d))
}

/// A number from `min` to `max` inclusive (NaN is never within).
pub fn within<T: PartialOrd + Display>(field: &str, value: T, min: T, max: T) -> Result<(), InputError> {
    if value >= min && value <= max {
        Ok(())
    } else {
        Err(InputError::OutOfRange {
            field: field.into(),
            min: min.to_string(),
            max: max.to_string(),
            value: value.to_string(),
        })
    }
}

pub fn volume(field: &str, value: u32) -> Result<(), InputError> {
    within(field, value, MIN_VOLUME, MAX_VOLUME)
}

pub fn percent(field: &str, value: f64) -> Result<(), InputError> {
    within(field, value, 0.0, MAX_PERCENT)
}

pub fn rate(field: &str, value: Decimal) -> Result<(), InputError> {
    within(field, value, Decimal::ZERO, max_rate())
}

/// A three-letter upper-case ISO 4217 code.
pub fn currency(field: &str, value: &str) -> Result<(), InputError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(InputError::Currency { field: field.into() })
    }
}

/// Text without its forbidden characters (borrowed when it has none).
pub fn strip_forbidden(value: &str) -> Cow<'_, str> {
    if value.chars().any(is_forbidden) {
        Cow::Owned(value.chars().filter(|c| !is_forbidden(*c)).collect())
    } else {
        Cow::Borrowed(value)
    }
}

/// What the system itself records (an agent's fill, a failure's reason): the forbidden characters
/// dropped and cut to `max` characters, rather than refused.
pub fn clean(value: &str, max: usize) -> String {
    strip_forbidden(value).chars().take(max).collect()
}

/// The path of the first string (or key) in a JSON value that holds a NUL, which no PostgreSQL
/// text or jsonb value can hold.
pub fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(path.to_string()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| nul_in(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_in(v, &here)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_hold_from_1900_to_9999() {
        let d = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        assert!(date("deadline", d(1900)).is_ok());
        assert!(date("deadline", d(9999)).is_ok());
        assert!(matches!(date("deadline", d(1899)), Err(InputError::DateOutOfRange { .. })));
        assert!(date("deadline", d(0)).is_err());
        assert!(date("deadline", d(99_999)).is_err());
    }

    #[test]
    fn text_counts_characters_and_refuses_controls_but_whitespace() {
        assert!(text("name", "ünïcødé😀", 9).is_ok());
        assert_eq!(text("name", "abc", 2), Err(InputError::TooLong { field: "name".into(), max: 2 }));
        assert!(text("notes", "a\tb\r\nc", 10).is_ok());
        for bad in ["a\0b", "\u{1}", "\u{1b}[31m", "\u{1f}"] {
            assert_eq!(text("notes", bad, 10), Err(InputError::ControlCharacter { field: "notes".into() }));
        }
        assert_eq!(required("name", "  ", 10), Err(InputError::Empty { field: "name".into() }));
    }

    #[test]
    fn numbers_outside_or_nan_are_out_of_range() {
        assert!(percent("blanket_pct", 100.0).is_ok());
        assert!(percent("blanket_pct", -0.1).is_err());
        assert!(percent("blanket_pct", f64::NAN).is_err());
        assert!(volume("volume", 0).is_err());
        assert!(volume("volume", MAX_VOLUME + 1).is_err());
        assert!(rate("rates.Designer", max_rate()).is_ok());
        assert!(rate("rates.Designer", Decimal::new(10_000_000, 2) * Decimal::TEN).is_err());
    }

    #[test]
    fn cleaning_drops_controls_and_cuts() {
        assert_eq!(clean("a\0b\u{7}c\td", 4), "abc\t");
        assert_eq!(strip_forbidden("plain"), Cow::Borrowed("plain"));
        let v = serde_json::json!({"a": [1, {"b": "x\u{0}"}]});
        assert_eq!(nul_in(&v, "").as_deref(), Some("a[1].b"));
    }
}
