//! Command appends through the `CommandBus` (load + decide + append), on distinct opportunities and
//! on one shared opportunity, beside raw single-row INSERTs of the same payload.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use cqrs_es::DomainEvent;
use domain::commands::{Actor, ActorRole};
use domain::{DetailsChanges, OpportunityCommand, OpportunityDetails, OpportunityEvent};
use projections::Projector;
use sqlx::PgPool;
use uuid::Uuid;

use super::load::{drive, Sample};
use super::report::{grouped, ms, Row};
use crate::auth::{Role, User};
use crate::command_bus::CommandBus;

/// The target: appends reach at least this share of the raw INSERT rate.
const SHARE_OF_RAW: f64 = 0.5;
/// The target p99 at 64 clients on distinct opportunities.
const P99_AT_64: Duration = Duration::from_millis(25);

pub fn bench_user() -> User {
    User {
        id: 0,
        email: "bench@osop.local".into(),
        name: "OSOP benchmark".into(),
        role: Role::Admin,
        created_at: Utc::now(),
    }
}

/// A realistic small change: a new description, different every time so it always records an event.
fn revise(client: usize, iteration: usize) -> OpportunityCommand {
    OpportunityCommand::UpdateDetails {
        changes: DetailsChanges {
            description: Some(Some(format!(
                "Revision {iteration} by client {client}: scope now covers EMEA content localisation, \
                 twelve markets, monthly reporting."
            ))),
            ..DetailsChanges::default()
        },
        at: Utc::now(),
    }
}

pub async fn create(bus: &CommandBus, name: &str) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let user = bench_user();
    let details = OpportunityDetails {
        name: name.to_string(),
        client_name: Some("Halvorsen".into()),
        region: Some("EMEA".into()),
        owner_email: user.email.clone(),
        ..OpportunityDetails::default()
    };
    let command = OpportunityCommand::CreateOpportunity {
        opportunity_id: id,
        details,
        actor: Actor::new(user.email.clone(), ActorRole::Admin),
        at: Utc::now(),
    };
    bus.append(id, command, &user).await?;
    Ok(id)
}

#[derive(Clone, Copy, PartialEq)]
enum Path {
    /// Load, decide, append.
    Append,
    /// The same plus the read-your-writes wait, as `CommandBus::execute` (what a REST call pays).
    Full,
}

async fn commands(
    bus: &Arc<CommandBus>,
    targets: Vec<Uuid>,
    clients: usize,
    duration: Duration,
    path: Path,
) -> Sample {
    let bus = bus.clone();
    let targets = Arc::new(targets);
    drive(clients, duration, move |client, iteration| {
        let bus = bus.clone();
        let id = targets[client % targets.len()];
        async move {
            let appended =
                bus.append(id, revise(client, iteration), &bench_user()).await.map_err(|e| e.to_string())?;
            if path == Path::Full {
                bus.await_read_models(&id.to_string(), appended.last).await;
            }
            Ok(appended.attempts)
        }
    })
    .await
}

/// The baseline: the same event row, one autocommitted INSERT each, with no load or decision.
async fn raw_inserts(pool: &PgPool, clients: usize, duration: Duration) -> anyhow::Result<Sample> {
    let run = Uuid::new_v4();
    let pool = pool.clone();
    Ok(drive(clients, duration, move |client, iteration| {
        let pool = pool.clone();
        async move {
            let event = OpportunityEvent::OpportunityDetailsUpdated {
                changes: match revise(client, iteration) {
                    OpportunityCommand::UpdateDetails { changes, .. } => changes,
                    _ => unreachable!("revise builds UpdateDetails"),
                },
                at: Utc::now(),
            };
            let payload = serde_json::to_value(&event).map_err(|e| e.to_string())?;
            let user = bench_user();
            let metadata = serde_json::json!({
                "user_email": user.email, "user_name": user.name, "user_role": "admin",
                "correlation_id": Uuid::new_v4().to_string(),
            });
            sqlx::query(
                "INSERT INTO bench_raw_events
                   (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                 VALUES ('Opportunity', $1, $2, $3, $4, $5, $6)",
            )
            .bind(format!("{run}-{client}"))
            .bind(iteration as i64 + 1)
            .bind(event.event_type())
            .bind(event.event_version())
            .bind(payload)
            .bind(metadata)
            .execute(&pool)
            .await
            .map_err(|e| e.to_string())?;
            Ok(1)
        }
    })
    .await)
}

/// Why an append figure missed, from what this run measured.
fn append_cause(s: &Sample, raw: &Sample, clients: usize) -> String {
    if clients >= 64 && raw.p99() >= P99_AT_64 {
        return format!(
            "at {clients} clients the raw INSERT baseline's own p99 is {} on this machine, so no command \
             that does more than one INSERT's work can stay under {}: {clients} clients queue for the \
             cores and the 20-connection pool, and that wait is in both figures.",
            ms(raw.p99()),
            ms(P99_AT_64)
        );
    }
    format!(
        "a command does one round trip (the append) when this process recorded the opportunity's last \
         state, as the raw INSERT does; what it adds is deciding and serialising the events, CPU that \
         competes with PostgreSQL for the same cores ({:.0} % of raw here).",
        s.per_second() / raw.per_second().max(f64::EPSILON) * 100.0
    )
}

fn describe(s: &Sample) -> String {
    let mut text = format!("{}/s · p50 {} · p99 {}", grouped(s.per_second()), ms(s.p50()), ms(s.p99()));
    if s.retries > 0 || s.failures > 0 {
        text += &format!(" · {} retries, {} failed", s.retries, s.failures);
    }
    text
}

pub async fn measure(
    pool: &PgPool,
    snapshot_every: usize,
    concurrency: &[usize],
    duration: Duration,
    progress: &impl Fn(&str),
) -> anyhow::Result<Vec<Row>> {
    // Runtime DDL is fine here, unlike in the application: the scratch database is the
    // benchmark's own, dropped and recreated on every run, and this table is its baseline only.
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_raw_events (LIKE events INCLUDING ALL)")
        .execute(pool)
        .await?;
    let projector = Arc::new(Projector::new(pool.clone()));
    let bus = Arc::new(CommandBus::new(pool.clone(), projector.clone(), snapshot_every));
    // The read-model wait catches up from wherever the projections are: start them at the head.
    projector.catch_up().await?;
    let mut rows = Vec::new();
    for &clients in concurrency {
        let raw = raw_inserts(pool, clients, duration).await?;
        progress(&format!("appends: raw INSERT, {clients} clients: {}", describe(&raw)));
        for shared in [false, true] {
            let mut targets = Vec::new();
            for n in 0..if shared { 1 } else { clients } {
                targets.push(create(&bus, &format!("Bench append {clients}/{n}")).await?);
            }
            let mut append_path: Option<Sample> = None;
            for path in [Path::Append, Path::Full] {
                if path == Path::Full {
                    // The append-only run left its events unprojected; a REST client never does
                    // (each command waits), so that backlog is not this measurement's to pay.
                    projector.catch_up().await?;
                }
                let s = commands(&bus, targets.clone(), clients, duration, path).await;
                let share = s.per_second() / raw.per_second().max(f64::EPSILON);
                let (what, label) = match path {
                    Path::Append => ("append path", "load + decide + append"),
                    Path::Full => ("full path", "append + read-model wait"),
                };
                let on = if shared { "one shared opportunity" } else { "distinct opportunities" };
                let measurement = format!("command {what} ({label}), {clients} clients, {on}");
                progress(&format!("{measurement}: {}", describe(&s)));
                let (target, met, cause) = if shared {
                    // Contended writes to one aggregate serialise by design; no target, the
                    // retries are the figure of interest.
                    ("— (conflicts counted)".to_string(), None, None)
                } else if path == Path::Full {
                    // The target is on appends; this row is what a REST call pays on top of one.
                    let extra = append_path.as_ref().map_or(String::new(), |a| {
                        format!(
                            " (the read-your-writes wait adds {} at p50)",
                            ms(s.p50().saturating_sub(a.p50()))
                        )
                    });
                    (format!("— (what a REST write costs{extra})"), None, None)
                } else {
                    let p99_bound = clients >= 64;
                    let met = share >= SHARE_OF_RAW && (!p99_bound || s.p99() < P99_AT_64) && s.failures == 0;
                    let target = if p99_bound {
                        format!("≥ 50 % of raw; p99 < {}", ms(P99_AT_64))
                    } else {
                        "≥ 50 % of raw".to_string()
                    };
                    let cause = (!met).then(|| append_cause(&s, &raw, clients));
                    (target, Some(met), cause)
                };
                if path == Path::Append {
                    append_path = Some(s.clone());
                }
                rows.push(Row {
                    measurement,
                    figure: format!("{} ({:.0} % of raw)", describe(&s), share * 100.0),
                    baseline: format!("raw INSERT: {}", describe(&raw)),
                    target,
                    met,
                    cause,
                });
            }
        }
    }
    Ok(rows)
}
