//! `If-Match` on writes: the opportunity version a request was decided on, checked by the command
//! bus at the moment it appends, so two editors never silently overwrite each other.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static EXPECTED: Cell<Option<Vec<usize>>>;
}

/// The versions an `If-Match` header accepts; an empty list (only weak or foreign tags) matches none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected(pub Vec<usize>);

impl Expected {
    /// Parses an `If-Match` value: `*` (no version condition), or entity tags such as `"12", "13"`.
    /// Our tags are strong, so a weak tag (`W/"12"`) never matches. A bare number is taken as its tag.
    pub fn parse(header: &str) -> Result<Option<Self>, String> {
        let header = header.trim();
        if header == "*" {
            return Ok(None);
        }
        let mut versions = Vec::new();
        for tag in header.split(',').map(str::trim) {
            let (weak, opaque) = match tag.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, tag),
            };
            let value = match opaque.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                Some(quoted) if !quoted.contains('"') => quoted,
                _ if !weak && !opaque.is_empty() && opaque.bytes().all(|b| b.is_ascii_digit()) => opaque,
                _ => {
                    return Err(format!(
                        "If-Match must be * or a list of entity tags such as \"12\"; got {tag:?}"
                    ))
                }
            };
            if !weak {
                if let Ok(v) = value.parse::<usize>() {
                    versions.push(v);
                }
            }
        }
        Ok(Some(Self(versions)))
    }

    pub fn matches(&self, version: usize) -> bool {
        self.0.contains(&version)
    }
}

/// Runs a request's handling with its precondition in force.
pub async fn scope<F: Future>(expected: Expected, work: F) -> F::Output {
    EXPECTED.scope(Cell::new(Some(expected.0)), work).await
}

/// The precondition of the request being handled, taken by its first command: later commands of
/// the same request continue the change the client asked for on that version.
pub fn take() -> Option<Expected> {
    EXPECTED.try_with(|cell| cell.take()).ok().flatten().map(Expected)
}

/// The ETag of an opportunity at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::Expected;

    #[test]
    fn parses_if_match() {
        assert_eq!(Expected::parse("*"), Ok(None));
        assert_eq!(Expected::parse("\"7\""), Ok(Some(Expected(vec![7]))));
        assert_eq!(Expected::parse(" \"7\" , \"9\""), Ok(Some(Expected(vec![7, 9]))));
        assert_eq!(Expected::parse("12"), Ok(Some(Expected(vec![12]))));
        // Weak and foreign tags are well-formed but never match.
        assert_eq!(Expected::parse("W/\"7\""), Ok(Some(Expected(vec![]))));
        assert_eq!(Expected::parse("\"abc\""), Ok(Some(Expected(vec![]))));
        assert!(Expected::parse("abc").is_err());
        assert!(Expected::parse("\"7").is_err());
        assert!(Expected::parse("").is_err());
    }
}
