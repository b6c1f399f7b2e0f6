//! Where settings come from (the environment, or a test's own lookup) and how a value is read:
//! an empty value means the default, anything else must be what the variable takes.

use axum::http::HeaderValue;

use super::error::ConfigError;

/// The environment (and the files it is read from) as a lookup, so tests can give their own.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Reads variables; an empty value counts as unset, so `.env.example`'s blanks mean "default".
pub(crate) struct Reader<'a>(pub(crate) &'a dyn Source);

impl Reader<'_> {
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub(crate) fn text(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or_else(|| default.to_string())
    }

    pub(crate) fn invalid(name: &'static str, value: String, expected: &'static str) -> ConfigError {
        ConfigError::Invalid { name, value, expected }
    }

    /// A whole number within `range`.
    pub(crate) fn number(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
        expected: &'static str,
    ) -> Result<u64, ConfigError> {
        let Some(value) = self.raw(name) else { return Ok(default) };
        match value.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(Self::invalid(name, value, expected)),
        }
    }

    /// An amount of US dollars, 0 or more (0 stops paid runs altogether).
    pub(crate) fn usd(&self, name: &'static str, default: i64) -> Result<rust_decimal::Decimal, ConfigError> {
        let Some(value) = self.raw(name) else { return Ok(rust_decimal::Decimal::from(default)) };
        match value.parse::<rust_decimal::Decimal>() {
            Ok(d) if !d.is_sign_negative() && d <= rust_decimal::Decimal::from(1_000_000) => Ok(d),
            _ => Err(Self::invalid(name, value, "an amount of US dollars, 0 to 1000000, e.g. 25 or 7.50")),
        }
    }

    pub(crate) fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        let Some(value) = self.raw(name) else { return Ok(false) };
        match value.to_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(Self::invalid(name, value, "true or false (also 1/0, yes/no, on/off)")),
        }
    }

    pub(crate) fn one_of(
        &self,
        name: &'static str,
        default: &str,
        choices: &[&str],
        expected: &'static str,
    ) -> Result<String, ConfigError> {
        let value = self.text(name, default);
        let lower = value.to_lowercase();
        if choices.contains(&lower.as_str()) {
            Ok(lower)
        } else {
            Err(Self::invalid(name, value, expected))
        }
    }

    /// A comma-separated list of browser origins (`scheme://host[:port]`, no path).
    pub(crate) fn origins(&self, name: &'static str) -> Result<Vec<HeaderValue>, ConfigError> {
        const EXPECTED: &str = "a comma-separated list of origins such as https://app.example.com,http://localhost:3011 (scheme, host and optional port; no path)";
        let Some(value) = self.raw(name) else { return Ok(Vec::new()) };
        value
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|origin| {
                let ok = reqwest::Url::parse(origin).ok().is_some_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some()
                        && u.path() == "/"
                        && !origin.ends_with('/')
                        && u.query().is_none()
                        && u.username().is_empty()
                });
                ok.then(|| HeaderValue::from_str(origin).ok())
                    .flatten()
                    .ok_or_else(|| Self::invalid(name, value.clone(), EXPECTED))
            })
            .collect()
    }
}
