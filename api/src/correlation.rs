//! The correlation id that ties a request, or an agent run, to every event its commands append.
//!
//! It travels as a task-local rather than as a parameter: the HTTP middleware (or the agent host)
//! sets it around the work, and `CommandBus::execute` reads it, so no handler has to pass it on.

use std::future::Future;

use uuid::Uuid;

tokio::task_local! {
    static CURRENT: CorrelationId;
}

/// A client's `x-request-id`, or one we made up: short and printable, safe in a header and a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationId(String);

impl CorrelationId {
    /// Longest id taken from a client; a longer one is replaced, never truncated.
    pub const MAX_LEN: usize = 128;

    /// The id when it is 1 to `MAX_LEN` visible ASCII characters (no spaces or control codes).
    pub fn parse(raw: &str) -> Option<Self> {
        let fits = !raw.is_empty() && raw.len() <= Self::MAX_LEN;
        (fits && raw.bytes().all(|b| b.is_ascii_graphic())).then(|| Self(raw.to_string()))
    }

    pub fn generate() -> Self {
        Self(Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the work this task is doing, if it is doing any.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `work` with this id as the current one.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }
}

impl std::fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::CorrelationId;

    #[test]
    fn short_printable_ids_are_kept_and_others_refused() {
        assert_eq!(CorrelationId::parse("abc-123").unwrap().as_str(), "abc-123");
        assert!(CorrelationId::parse(&"x".repeat(CorrelationId::MAX_LEN)).is_some());
        for bad in ["", "has space", "tab\there", "naïve", "line\nbreak"] {
            assert!(CorrelationId::parse(bad).is_none(), "{bad:?}");
        }
        assert!(CorrelationId::parse(&"x".repeat(CorrelationId::MAX_LEN + 1)).is_none());
    }

    #[tokio::test]
    async fn the_scope_sets_the_current_id_and_nothing_leaks_out() {
        assert_eq!(CorrelationId::current(), None);
        let id = CorrelationId::parse("req-1").unwrap();
        let seen = id.clone().scope(async { CorrelationId::current() }).await;
        assert_eq!(seen, Some(id));
        assert_eq!(CorrelationId::current(), None);
    }
}
