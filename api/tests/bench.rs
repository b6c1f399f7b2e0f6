//! `osop bench --quick` on a per-test database: the report holds every measurement row with a
//! numeric figure, and the measurements really ran against PostgreSQL. Speeds are the benchmark's
//! business, never this test's.

mod common;

use common::*;

const HALVORSEN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/briefs/halvorsen-emea-content-rfp.md");

/// The table's rows as (measurement, figure, baseline, target, met) cells.
fn table(markdown: &str) -> Vec<Vec<String>> {
    markdown
        .lines()
        .skip_while(|l| !l.starts_with("| measurement |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

fn leading_number(cell: &str) -> Option<f64> {
    let digits: String = cell.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ' ').collect();
    digits.replace(' ', "").parse().ok()
}

#[sqlx::test(migrator = "api::startup::MIGRATOR")]
async fn a_quick_bench_reports_every_measurement_with_figures(test_pool: sqlx::PgPool) {
    // The per-test database with the pool size `osop serve` uses, rather than the test's default.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect_with(test_pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    api::catalog::seed_default(&pool).await.unwrap();
    let s = settings(String::new());
    let nats = api::startup::connect_nats(&s.nats_url).await.unwrap();
    let options = api::bench::Options {
        quick: true,
        brief: HALVORSEN.into(),
        note: Some("test run".into()),
        only: vec![],
        server: env!("CARGO_BIN_EXE_osop").into(),
    };
    let report = api::bench::run(s.clone(), pool.clone(), nats.clone(), &options, |line| eprintln!("{line}"))
        .await
        .unwrap();
    api::bench::drop_streams(&nats, &s).await;
    let markdown = report.markdown();
    eprintln!("{markdown}");

    let rows = table(&markdown);
    let count = |prefix: &str| rows.iter().filter(|r| r[0].starts_with(prefix)).count();
    // Quick mode: 1 and 4 clients × (distinct, shared) × (append path, full path).
    assert_eq!(count("command append path"), 4, "{markdown}");
    assert_eq!(count("command full path"), 4, "{markdown}");
    assert_eq!(count("aggregate load"), 3, "{markdown}");
    assert_eq!(count("projection rebuild"), 1, "{markdown}");
    assert_eq!(count("offline walkthrough"), 1, "{markdown}");
    assert_eq!(count("REST read"), 1, "{markdown}");
    assert_eq!(count("memory per connection"), 1, "{markdown}");
    assert_eq!(rows.len(), 15, "no other rows: {markdown}");
    for r in &rows {
        assert_eq!(r.len(), 5, "five cells: {r:?}");
        let figure = leading_number(&r[1]);
        assert!(figure.is_some_and(|f| f >= 0.0), "numeric figure: {r:?}");
        assert!(r[2].chars().any(|c| c.is_ascii_digit()), "the baseline has a figure: {r:?}");
        assert!(["yes", "**no**", "—"].contains(&r[4].as_str()), "met? cell: {r:?}");
    }
    // Rows whose figure is a rate did some work in the time they had.
    for r in rows.iter().filter(|r| r[0].starts_with("command") || r[0].starts_with("REST")) {
        assert!(leading_number(&r[1]).unwrap() > 0.0, "no operation completed: {r:?}");
    }
    for heading in
        ["## Results", "## Machine", "## Findings", "PostgreSQL server: ", "cores: ", "note: test run"]
    {
        assert!(markdown.contains(heading), "{heading} missing: {markdown}");
    }

    // The measurements ran against the database: the raw baseline table was written, the rebuild
    // log holds its events, and every projection was rebuilt up to the head of the log.
    let raw: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bench_raw_events").fetch_one(&pool).await.unwrap();
    assert!(raw > 0);
    let head: i64 = projections::sequencer::head(&pool).await.unwrap();
    assert!(head >= 2_000, "the rebuild log holds at least 2 000 events, not {head}");
    let names: Vec<String> =
        projections::Projector::new(pool.clone()).names().into_iter().map(String::from).collect();
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projection_checkpoints WHERE name = ANY($1) AND position < $2",
    )
    .bind(&names)
    .bind(head)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(behind, 0, "every projection reached the head of the log");
    let rebuilt: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_checkpoints WHERE name = ANY($1)")
        .bind(&names)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rebuilt as usize, names.len());
    let opportunities: i64 =
        sqlx::query_scalar("SELECT count(*) FROM opportunities").fetch_one(&pool).await.unwrap();
    assert!(opportunities > 100, "the rebuilt read model holds the filled opportunities");
    pool.close().await;
}
