//! The `Prefer` request header (RFC 7240) as the agent endpoints read it: `respond-async` asks for
//! 202 at once, `wait=N` bounds how long the server may take. Unknown or malformed preferences are
//! ignored, as the RFC says.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName};

pub const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Preferences {
    pub respond_async: bool,
    pub wait: Option<Duration>,
}

impl Preferences {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut found = Self::default();
        let values = headers.get_all(axum::http::header::HeaderName::from_static("prefer"));
        for value in values.iter().filter_map(|v| v.to_str().ok()) {
            for preference in value.split(',') {
                // A preference may carry parameters after ';' (none we use).
                let token = preference.split(';').next().unwrap_or_default().trim();
                let (name, arg) = match token.split_once('=') {
                    Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                    None => (token, None),
                };
                if name.eq_ignore_ascii_case("respond-async") {
                    found.respond_async = true;
                } else if name.eq_ignore_ascii_case("wait") && found.wait.is_none() {
                    found.wait = arg.and_then(|a| a.parse::<u64>().ok()).map(Duration::from_secs);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(values: &[&str]) -> Preferences {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("prefer", v.parse().unwrap());
        }
        Preferences::from_headers(&headers)
    }

    #[test]
    fn respond_async_and_wait_are_read_in_any_case_and_order() {
        assert_eq!(read(&["respond-async"]), Preferences { respond_async: true, wait: None });
        assert_eq!(
            read(&["wait=10, Respond-Async"]),
            Preferences { respond_async: true, wait: Some(Duration::from_secs(10)) }
        );
        assert_eq!(read(&["handling=lenient", "wait=\"5\""]).wait, Some(Duration::from_secs(5)));
    }

    #[test]
    fn unknown_or_malformed_preferences_are_ignored() {
        assert_eq!(read(&[]), Preferences::default());
        assert_eq!(read(&["return=minimal", "wait=soon", "respond-asyncx", ";;,"]), Preferences::default());
    }
}
