//! Rate limits on agent runs, as token buckets in PostgreSQL so they hold across every process:
//! each user and each opportunity may start so many runs a minute, with a burst of as many.

use std::time::Duration;

use sqlx::PgPool;

/// A limit: `per_minute` runs a minute, and up to that many at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    pub per_minute: u32,
}

/// What a refused take says: how long until a token is there.
#[derive(Debug, PartialEq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// Takes one token from the bucket `key` (created full), or says how long until one is there.
pub async fn take(pool: &PgPool, key: &str, limit: Limit) -> Result<Result<(), Refused>, sqlx::Error> {
    let capacity = f64::from(limit.per_minute.max(1));
    let per_second = capacity / 60.0;
    // One statement, so concurrent takes in any process never overdraw the bucket.
    let taken: Option<f64> = sqlx::query_scalar(
        "INSERT INTO rate_buckets AS b (key, tokens, refreshed_at) VALUES ($1, $2 - 1, now())
         ON CONFLICT (key) DO UPDATE
            SET tokens = LEAST($2, b.tokens + extract(epoch FROM now() - b.refreshed_at) * $3) - 1,
                refreshed_at = now()
          WHERE LEAST($2, b.tokens + extract(epoch FROM now() - b.refreshed_at) * $3) >= 1
         RETURNING tokens",
    )
    .bind(key)
    .bind(capacity)
    .bind(per_second)
    .fetch_optional(pool)
    .await?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let now: f64 = sqlx::query_scalar(
        "SELECT LEAST($2, tokens + extract(epoch FROM now() - refreshed_at) * $3) FROM rate_buckets WHERE key = $1",
    )
    .bind(key)
    .bind(capacity)
    .bind(per_second)
    .fetch_optional(pool)
    .await?
    .unwrap_or(0.0);
    let wait = ((1.0 - now).max(0.0) / per_second).ceil().max(1.0);
    Ok(Err(Refused { retry_after: Duration::from_secs(wait as u64) }))
}
