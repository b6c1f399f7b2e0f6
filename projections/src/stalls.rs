//! Projections that stopped at an event they cannot apply. One such projection must never hold
//! the others back: it is left out of catch-ups until its next retry (with backoff), and what
//! stopped it is recorded beside its checkpoint for health checks, metrics and operators.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgConnection;

/// Why and where a projection stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Stall {
    /// The log position of the event it could not apply.
    pub position: i64,
    pub error: String,
    pub attempts: u32,
    retry_at: Instant,
}

/// The wait before the next attempt after `attempts` failed ones: 1 s doubling up to 5 minutes.
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs((1u64 << attempts.saturating_sub(1).min(9)).min(300))
}

/// The stalled projections of this process.
#[derive(Default)]
pub struct Stalls(Mutex<HashMap<&'static str, Stall>>);

impl Stalls {
    /// Whether `name` is waiting out its backoff (a stalled projection past it is tried again).
    pub fn resting(&self, name: &str, now: Instant) -> bool {
        self.lock().get(name).is_some_and(|s| s.retry_at > now)
    }

    pub fn any(&self) -> bool {
        !self.lock().is_empty()
    }

    pub fn is_stalled(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }

    /// Records that `name` failed at `position`; returns the stall as it now stands.
    pub fn stall(&self, name: &'static str, position: i64, error: String) -> Stall {
        let mut stalls = self.lock();
        let attempts = match stalls.get(name) {
            Some(s) if s.position == position => s.attempts + 1,
            _ => 1,
        };
        let stall = Stall { position, error, attempts, retry_at: Instant::now() + backoff(attempts) };
        stalls.insert(name, stall.clone());
        stall
    }

    /// Forgets `name`'s stall; returns whether it had one.
    pub fn clear(&self, name: &str) -> bool {
        self.lock().remove(name).is_some()
    }

    /// Makes every stalled projection due for a retry now (after a fix, say).
    pub fn retry_now(&self) {
        for stall in self.lock().values_mut() {
            stall.retry_at = Instant::now();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Stall>> {
        // A panic while holding this lock leaves plain data behind; it is still usable.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Records a stall beside the checkpoint, for every process to see.
pub async fn record(db: &mut PgConnection, name: &str, stall: &Stall) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_checkpoints
            SET stalled_at = coalesce(stalled_at, now()), stalled_position = $2, stalled_error = $3,
                stalled_attempts = $4
          WHERE name = $1",
    )
    .bind(name)
    .bind(stall.position)
    .bind(&stall.error)
    .bind(stall.attempts as i32)
    .execute(db)
    .await?;
    Ok(())
}

/// Clears the recorded stall of each of `names` that had one.
pub async fn clear_recorded(db: &mut PgConnection, names: &[&str]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_checkpoints
            SET stalled_at = NULL, stalled_position = NULL, stalled_error = NULL, stalled_attempts = 0
          WHERE name = ANY($1) AND stalled_at IS NOT NULL",
    )
    .bind(names)
    .execute(db)
    .await?;
    Ok(())
}

/// A stall as recorded, read by any process.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RecordedStall {
    pub name: String,
    pub position: i64,
    pub error: String,
    pub attempts: i32,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// Every recorded stall, by name.
pub async fn recorded(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<RecordedStall>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, stalled_position AS position, coalesce(stalled_error, '') AS error,
                stalled_attempts AS attempts, stalled_at AS since
           FROM projection_checkpoints WHERE stalled_at IS NOT NULL ORDER BY name",
    )
    .fetch_all(db)
    .await
}

/// Whether a failure is the projection's own (it cannot apply this event: bad data, a constraint,
/// a bug in its SQL), as opposed to the database being unreachable or busy, which every
/// projection shares and which is simply retried.
pub fn is_apply_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            // 08: connection, 40: serialization/deadlock, 53: resources, 57: operator intervention.
            !["08", "40", "53", "57"].iter().any(|class| code.starts_with(class))
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => true,
        sqlx::Error::TypeNotFound { .. } | sqlx::Error::RowNotFound => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_to_five_minutes() {
        let waits: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }

    #[test]
    fn a_stall_at_the_same_event_counts_attempts_and_rests_until_its_retry() {
        let stalls = Stalls::default();
        let first = stalls.stall("assets", 42, "boom".into());
        assert_eq!(first.attempts, 1);
        assert!(stalls.resting("assets", Instant::now()));
        assert!(!stalls.resting("assets", Instant::now() + Duration::from_secs(2)));
        assert_eq!(stalls.stall("assets", 42, "boom".into()).attempts, 2);
        assert_eq!(stalls.stall("assets", 43, "other".into()).attempts, 1, "a new event starts over");
        stalls.retry_now();
        assert!(!stalls.resting("assets", Instant::now()));
        assert!(stalls.clear("assets"));
        assert!(!stalls.is_stalled("assets"));
    }
}
