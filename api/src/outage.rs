//! Tells a database that cannot be reached (answer 503, the client may retry) from a genuine
//! failure (500, a bug to look at).

use std::error::Error as StdError;

/// What a client is told while PostgreSQL cannot be reached.
pub const DATABASE_UNAVAILABLE: &str = "the database is unavailable; retry shortly";

/// Whether the error says the server could not be reached or the connection was lost, rather
/// than that a statement was wrong.
pub fn is_connection_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // A reply cut off mid-message reads as a protocol error.
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| is_connection_state(&code)),
        _ => false,
    }
}

/// SQLSTATE class 08 (connection exception), too many connections, and the server shutting down
/// or starting up (57P01–57P03).
fn is_connection_state(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
}

/// Whether a boxed store error (as cqrs-es and our event store wrap them) is, somewhere down its
/// chain of sources, a connection failure.
pub fn is_outage(e: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.downcast_ref::<sqlx::Error>().is_some_and(is_connection_failure) {
            return true;
        }
        current = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_outages_and_bugs_are_not() {
        assert!(is_connection_failure(&sqlx::Error::PoolTimedOut));
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(is_connection_failure(&sqlx::Error::Io(refused)));
        assert!(!is_connection_failure(&sqlx::Error::RowNotFound));
        assert!(!is_connection_failure(&sqlx::Error::ColumnNotFound("x".into())));
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(sqlx::Error::PoolTimedOut);
        assert!(is_outage(boxed.as_ref()));
        let other: Box<dyn StdError + Send + Sync> = Box::new(std::fmt::Error);
        assert!(!is_outage(other.as_ref()));
    }

    #[test]
    fn connection_sqlstates_are_outages() {
        for code in ["08006", "08001", "57P01", "57P03", "53300"] {
            assert!(is_connection_state(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02"] {
            assert!(!is_connection_state(code), "{code}");
        }
    }
}
