//! The time commands are stamped with.
//!
//! PostgreSQL keeps microseconds; a nanosecond stamp in an event would make a read model (stored in
//! PostgreSQL) differ from the same event folded in memory, so time is cut to microseconds here.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
