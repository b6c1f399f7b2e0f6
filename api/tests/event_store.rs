//! The event store's own SQL: one statement appends a command's events, a lost race is a conflict
//! the bus retries, commits arriving together share a transaction without sharing a fate, and
//! loading through a snapshot gives what replaying from zero gives.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use api::auth::{Role, User};
use api::command_bus::CommandBus;
use api::store::OpportunityStore;
use chrono::Utc;
use cqrs_es::{AggregateError, DomainEvent, EventStore};
use domain::commands::{Actor, ActorRole};
use domain::{DetailsChanges, OpportunityCommand, OpportunityDetails, OpportunityEvent};
use projections::Projector;
use sqlx::PgPool;
use uuid::Uuid;

const SNAPSHOT_EVERY: usize = 3;

fn user() -> User {
    User {
        id: 0,
        email: "store@osop.test".into(),
        name: "Store".into(),
        role: Role::Admin,
        created_at: Utc::now(),
    }
}

fn bus(pool: &PgPool) -> CommandBus {
    CommandBus::new(pool.clone(), Arc::new(Projector::new(pool.clone())), SNAPSHOT_EVERY)
}

fn describe(text: &str) -> DetailsChanges {
    DetailsChanges { description: Some(Some(text.to_string())), ..DetailsChanges::default() }
}

fn update(text: &str) -> OpportunityCommand {
    OpportunityCommand::UpdateDetails { changes: describe(text), at: Utc::now() }
}

/// Creates an opportunity through the bus: one command, two events.
async fn create(bus: &CommandBus) -> Uuid {
    let id = Uuid::new_v4();
    let details = OpportunityDetails {
        name: "Store test".into(),
        client_name: Some("Halvorsen".into()),
        owner_email: user().email,
        ..OpportunityDetails::default()
    };
    let command = OpportunityCommand::CreateOpportunity {
        opportunity_id: id,
        details,
        actor: Actor::new(user().email, ActorRole::Admin),
        at: Utc::now(),
    };
    assert_eq!(bus.append(id, command, &user()).await.unwrap().attempts, 1);
    id
}

/// (sequence, tx_id as text) of every event of `id`, in sequence order.
async fn stored(pool: &PgPool, id: &Uuid) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT sequence, tx_id::text FROM events WHERE aggregate_id = $1 ORDER BY sequence")
        .bind(id.to_string())
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_commits_events_share_one_transaction_and_consecutive_sequences(pool: PgPool) {
    let bus = bus(&pool);
    let id = create(&bus).await;
    let store = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let context = store.load_aggregate(&id.to_string()).await.unwrap();
    let events = ["one", "two", "three"]
        .map(|text| OpportunityEvent::OpportunityDetailsUpdated { changes: describe(text), at: Utc::now() });
    let metadata = HashMap::from([("correlation_id".to_string(), "c-1".to_string())]);
    let envelopes = store.commit(events.to_vec(), context, metadata).await.unwrap();
    assert_eq!(envelopes.iter().map(|e| e.sequence).collect::<Vec<_>>(), [3, 4, 5]);

    let rows = stored(&pool, &id).await;
    assert_eq!(rows.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    // The create's two events in one transaction, the three updates in another.
    assert_eq!(rows[0].1, rows[1].1);
    assert!(rows[2..].iter().all(|(_, tx)| *tx == rows[2].1), "{rows:?}");
    assert_ne!(rows[1].1, rows[2].1);

    // Every column reads back as postgres-es wrote it: type, version, JSON payload and metadata.
    let (event_type, version, payload, metadata): (String, String, serde_json::Value, serde_json::Value) =
        sqlx::query_as(
            "SELECT event_type, event_version, payload, metadata FROM events
              WHERE aggregate_id = $1 AND sequence = 5",
        )
        .bind(id.to_string())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(event_type, "OpportunityDetailsUpdated");
    assert_eq!(version, events[2].event_version());
    assert_eq!(payload, serde_json::to_value(&events[2]).unwrap());
    assert_eq!(metadata, serde_json::json!({ "correlation_id": "c-1" }));
    let history = store.load_events(&id.to_string()).await.unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(history[4].metadata["correlation_id"], "c-1");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn two_commits_at_one_version_store_one_and_the_other_conflicts(pool: PgPool) {
    let id = create(&bus(&pool)).await.to_string();
    let store = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let ours = store.load_aggregate(&id).await.unwrap();
    let theirs = store.load_aggregate(&id).await.unwrap();
    assert_eq!(ours.current_sequence, theirs.current_sequence);
    let event =
        |text| vec![OpportunityEvent::OpportunityDetailsUpdated { changes: describe(text), at: Utc::now() }];
    store.commit(event("theirs"), theirs, HashMap::new()).await.unwrap();
    let lost = store.commit(event("ours"), ours, HashMap::new()).await;
    assert!(matches!(lost, Err(AggregateError::AggregateConflict)), "{lost:?}");
    let (state, version) = store.load_from_zero(&id).await.unwrap();
    assert_eq!(version, 3);
    assert_eq!(state.details.description.as_deref(), Some("theirs"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn the_bus_retries_a_lost_race_on_fresh_state(pool: PgPool) {
    let bus = Arc::new(bus(&pool));
    let id = create(&bus).await;
    // Another writer's event at sequence 3, not yet committed: the bus still loads version 2,
    // and its append of sequence 3 waits on this transaction's row.
    let mut theirs = pool.begin().await.unwrap();
    let event = OpportunityEvent::OpportunityDetailsUpdated { changes: describe("theirs"), at: Utc::now() };
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Opportunity', $1, 3, $2, $3, $4, '{}')",
    )
    .bind(id.to_string())
    .bind(event.event_type())
    .bind(event.event_version())
    .bind(serde_json::to_value(&event).unwrap())
    .execute(&mut *theirs)
    .await
    .unwrap();

    let ours = tokio::spawn({
        let bus = bus.clone();
        async move { bus.append(id, update("ours"), &user()).await }
    });
    let blocked = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if waiting > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(blocked.is_ok(), "the bus's append never waited on the other writer");
    theirs.commit().await.unwrap();

    // The first attempt conflicted; the second decided again on version 3 and appended 4.
    assert_eq!(ours.await.unwrap().unwrap().attempts, 2);
    let rows = stored(&pool, &id).await;
    assert_eq!(rows.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let store = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let (state, version) = store.load_from_zero(&id.to_string()).await.unwrap();
    assert_eq!(version, 4);
    assert_eq!(state.details.description.as_deref(), Some("ours"));
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn loading_a_snapshot_and_later_events_equals_replaying_from_zero(pool: PgPool) {
    let bus = bus(&pool);
    let id = create(&bus).await;
    // 2 + 5 events: snapshots are written on crossing 3 and 6, so one event follows the latest.
    for i in 0..5 {
        bus.append(id, update(&format!("rev {i}")), &user()).await.unwrap();
    }
    let id = id.to_string();
    let snapshot_at: i64 =
        sqlx::query_scalar("SELECT last_sequence FROM aggregate_snapshots WHERE aggregate_id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(snapshot_at, 6);
    let store = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let (from_zero, version) = store.load_from_zero(&id).await.unwrap();
    assert_eq!(version, 7);
    let loaded = store.load_aggregate(&id).await.unwrap();
    assert_eq!(loaded.aggregate, from_zero);
    assert_eq!(loaded.current_sequence, 7);

    // The load really starts from the snapshot: a mark put in it survives, with event 7 on top.
    let mark = |sql: &'static str| {
        let (pool, id) = (pool.clone(), id.clone());
        async move { sqlx::query(sql).bind(id).execute(&pool).await.unwrap() }
    };
    mark(
        "UPDATE aggregate_snapshots SET payload = jsonb_set(payload, '{details,client_name}', '\"marked\"')
          WHERE aggregate_id = $1",
    )
    .await;
    let marked = store.load_aggregate(&id).await.unwrap();
    assert_eq!(marked.aggregate.details.client_name.as_deref(), Some("marked"));
    assert_eq!(marked.aggregate.details.description.as_deref(), Some("rev 4"));
    assert_eq!(marked.current_sequence, 7);

    // A snapshot of an older schema, or one that no longer deserialises, is a cache miss.
    mark("UPDATE aggregate_snapshots SET schema_version = schema_version - 1 WHERE aggregate_id = $1").await;
    let stale = store.load_aggregate(&id).await.unwrap();
    assert_eq!((stale.aggregate, stale.current_sequence), (from_zero.clone(), 7));
    mark(
        "UPDATE aggregate_snapshots SET schema_version = schema_version + 1, payload = '{\"unexpected\": true}'
          WHERE aggregate_id = $1",
    )
    .await;
    let unreadable = store.load_aggregate(&id).await.unwrap();
    assert_eq!((unreadable.aggregate, unreadable.current_sequence), (from_zero.clone(), 7));

    // And the version-bounded replay stops where it is told.
    let (at_five, reached) = store.load_as_of(&id, 5).await.unwrap();
    assert_eq!(reached, 5);
    assert_eq!(at_five.details.description.as_deref(), Some("rev 2"));
}

/// The description and version of `id`, replayed from the log.
async fn replayed(pool: &PgPool, id: Uuid) -> (Option<String>, usize) {
    let store = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let (state, version) = store.load_from_zero(&id.to_string()).await.unwrap();
    (state.details.description.clone(), version)
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_state_remembered_behind_another_process_costs_a_retry_not_a_lost_write(pool: PgPool) {
    // Two buses on one database are two API processes.
    let (ours, theirs) = (bus(&pool), bus(&pool));
    let id = create(&ours).await;
    assert_eq!(ours.append(id, update("ours 1"), &user()).await.unwrap().attempts, 1);
    assert_eq!(theirs.append(id, update("theirs"), &user()).await.unwrap().attempts, 1);

    // Ours remembers version 3; the log is at 4. The remembered decision conflicts, the retry loads.
    let appended = ours.append(id, update("ours 2"), &user()).await.unwrap();
    assert_eq!(appended.attempts, 2);
    assert_eq!(replayed(&pool, id).await, (Some("ours 2".into()), 5));
    // What it recorded is remembered now: the next command needs no retry.
    assert_eq!(ours.append(id, update("ours 3"), &user()).await.unwrap().attempts, 1);
    assert_eq!(stored(&pool, &id).await.len(), 6);
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_precondition_is_checked_against_the_log_not_a_remembered_state(pool: PgPool) {
    let (ours, theirs) = (bus(&pool), bus(&pool));
    let id = create(&ours).await;
    assert_eq!(ours.append(id, update("ours"), &user()).await.unwrap().attempts, 1);
    assert_eq!(theirs.append(id, update("theirs"), &user()).await.unwrap().attempts, 1);

    // A client that read version 4 (from the other process) sends If-Match 4 here, where version
    // 3 is remembered: the write goes through instead of a false 412.
    let current = api::precondition::Expected(vec![4]);
    let appended = api::precondition::scope(current, ours.append(id, update("if-match 4"), &user())).await;
    assert!(appended.is_ok(), "{appended:?}");
    assert_eq!(replayed(&pool, id).await, (Some("if-match 4".into()), 5));

    // And a truly stale one is still refused, naming the log's version.
    let stale = api::precondition::Expected(vec![4]);
    let refused = api::precondition::scope(stale, theirs.append(id, update("late"), &user())).await;
    assert!(matches!(refused, Err(api::command_bus::CommandError::Stale { actual: 5 })), "{refused:?}");
    assert_eq!(replayed(&pool, id).await.1, 5);
}

type Committed =
    Result<Vec<cqrs_es::EventEnvelope<domain::Opportunity>>, AggregateError<domain::OpportunityError>>;

/// Commits two events on each loaded state, all at once.
async fn commit_all_at_once(
    store: &OpportunityStore,
    contexts: Vec<<OpportunityStore as EventStore<domain::Opportunity>>::AC>,
) -> Vec<Committed> {
    let commits = contexts.into_iter().map(|context| {
        let events = ["first", "second"].map(|text| OpportunityEvent::OpportunityDetailsUpdated {
            changes: describe(text),
            at: Utc::now(),
        });
        store.commit(events.to_vec(), context, HashMap::new())
    });
    futures::future::join_all(commits).await
}

/// Creates 40 opportunities; the store that is to commit on them has loaded each.
async fn forty_loaded(
    pool: &PgPool,
) -> (OpportunityStore, Vec<String>, Vec<<OpportunityStore as EventStore<domain::Opportunity>>::AC>) {
    let bus = bus(pool);
    let store = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let (mut ids, mut contexts) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        let id = create(&bus).await.to_string();
        contexts.push(store.load_aggregate(&id).await.unwrap());
        ids.push(id);
    }
    (store, ids, contexts)
}

/// Sequences of each opportunity's events; the events of its last command share one transaction.
async fn assert_four_events_each(pool: &PgPool, ids: &[String]) {
    for id in ids {
        let events = stored(pool, &id.parse().unwrap()).await;
        assert_eq!(events.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3, 4], "{id}");
        assert_eq!(events[2].1, events[3].1, "a command's events share one transaction");
    }
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn commits_arriving_together_share_transactions_and_each_keeps_its_own(pool: PgPool) {
    let (store, ids, contexts) = forty_loaded(&pool).await;
    let results = commit_all_at_once(&store, contexts).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_four_events_each(&pool, &ids).await;
    let transactions: i64 = sqlx::query_scalar("SELECT count(DISTINCT tx_id) FROM events WHERE sequence > 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(transactions < 40, "commits arriving together were grouped: {transactions} transactions");
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_conflict_in_a_group_fails_only_its_own_command(pool: PgPool) {
    let (store, ids, mut contexts) = forty_loaded(&pool).await;
    // Another process writes to the first opportunity after this store loaded it.
    let stale = contexts.remove(0);
    let other = OpportunityStore::new(pool.clone(), SNAPSHOT_EVERY);
    let context = other.load_aggregate(&ids[0]).await.unwrap();
    let theirs =
        vec![OpportunityEvent::OpportunityDetailsUpdated { changes: describe("theirs"), at: Utc::now() }];
    other.commit(theirs, context, HashMap::new()).await.unwrap();

    let ours =
        vec![OpportunityEvent::OpportunityDetailsUpdated { changes: describe("ours"), at: Utc::now() }];
    let (lost, results) =
        tokio::join!(store.commit(ours, stale, HashMap::new()), commit_all_at_once(&store, contexts));
    assert!(matches!(lost, Err(AggregateError::AggregateConflict)), "{lost:?}");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (state, version) = store.load_from_zero(&ids[0]).await.unwrap();
    assert_eq!((state.details.description.as_deref(), version), (Some("theirs"), 3));
    assert_four_events_each(&pool, &ids[1..]).await;
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn commands_on_one_opportunity_in_one_process_take_turns_and_never_conflict(pool: PgPool) {
    let bus = Arc::new(bus(&pool));
    let id = create(&bus).await;
    let commands = (0..32).map(|i| {
        let bus = bus.clone();
        tokio::spawn(async move { bus.append(id, update(&format!("turn {i}")), &user()).await })
    });
    for appended in futures::future::join_all(commands).await {
        assert_eq!(appended.unwrap().unwrap().attempts, 1, "each decided on the state the last one recorded");
    }
    let sequences: Vec<i64> = stored(&pool, &id).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(sequences, (1..=34).collect::<Vec<i64>>());
}
