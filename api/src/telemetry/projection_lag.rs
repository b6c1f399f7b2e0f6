//! How far each reader of the log (projection or publisher) is behind its head, measured from the
//! checkpoints when scraped: no background task keeps a copy that could go stale.

use std::fmt::Write;

use sqlx::PgPool;

/// One reader's distance from the head of the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Lag {
    pub projection: String,
    /// Committed events it has not taken in yet (including those not yet given a log position).
    pub events: i64,
    /// Age of the oldest of those events; 0 when caught up.
    pub seconds: f64,
}

/// The lag of each named checkpoint; a reader that never ran is behind by the whole log.
pub async fn measure(pool: &PgPool, names: &[&str]) -> Result<Vec<Lag>, sqlx::Error> {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    // Positions are dense, so a reader's oldest missing event is the one at checkpoint + 1;
    // committed events the sequencer has not positioned yet are behind for every reader.
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(
        "WITH cursor AS (SELECT last_tx, last_seq, last_position FROM log_sequencer WHERE id = 1),
              unsequenced AS (
                SELECT count(*) AS n, min(e.recorded_at) AS oldest
                  FROM events e, cursor c WHERE (e.tx_id, e.global_seq) > (c.last_tx, c.last_seq))
         SELECT n.name,
                (c.last_position - COALESCE(p.position, 0)) + u.n,
                GREATEST(0, COALESCE(EXTRACT(EPOCH FROM now() - LEAST(
                    (SELECT e.recorded_at FROM event_log l JOIN events e ON e.global_seq = l.global_seq
                      WHERE l.position = COALESCE(p.position, 0) + 1),
                    u.oldest)), 0))::float8
           FROM unnest($1::text[]) AS n(name)
          CROSS JOIN cursor c CROSS JOIN unsequenced u
           LEFT JOIN projection_checkpoints p ON p.name = n.name
          ORDER BY n.name",
    )
    .bind(&names)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(projection, events, seconds)| Lag { projection, events, seconds }).collect())
}

/// Appends the lag as two Prometheus gauges to a rendered exposition.
pub fn render(lags: &[Lag], out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let events = "Events in the log this reader has not applied yet.";
    gauge(out, "osop_projection_lag_events", events, lags, |l| l.events.to_string());
    let seconds = "Age of the oldest event this reader has not applied yet; 0 when caught up.";
    gauge(out, "osop_projection_lag_seconds", seconds, lags, |l| l.seconds.to_string());
}

/// Appends `osop_projection_stalled`: 1 for each projection stopped at an event it cannot apply.
pub fn render_stalled(names: &[&str], stalled: &[projections::stalls::RecordedStall], out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let name = "osop_projection_stalled";
    let _ = writeln!(out, "# HELP {name} 1 while the projection is stopped at an event it cannot apply.");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for projection in names {
        let stopped = stalled.iter().any(|s| s.name == *projection);
        let _ = writeln!(out, "{name}{{projection=\"{projection}\"}} {}", u8::from(stopped));
    }
}

fn gauge(out: &mut String, name: &str, help: &str, lags: &[Lag], value: impl Fn(&Lag) -> String) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for lag in lags {
        // Names are our own identifiers ([a-z_]), so they need no escaping.
        let _ = writeln!(out, "{name}{{projection=\"{}\"}} {}", lag.projection, value(lag));
    }
}
