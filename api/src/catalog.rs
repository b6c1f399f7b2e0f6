//! The catalog of hour routes in the database: immutable versions, the highest one current.

use chrono::{DateTime, Utc};
use domain::catalog::CatalogEntry;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use utoipa::ToSchema;

/// Key of the advisory lock that serialises seeding and imports (so two never pick one version).
const LOCK_KEY: i64 = 0x0C47_A106;
pub const DEFAULT_SOURCE: &str = "default (illustrative)";

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CatalogVersion {
    pub version: i64,
    /// Where it came from: the imported file's name, or the shipped default.
    pub source: String,
    pub entry_count: i32,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CategoryCount {
    pub category: String,
    pub entry_count: i64,
}

/// Filters of a catalog search; every field narrows it.
#[derive(Debug, Default)]
pub struct Search {
    /// Every word must appear (case-insensitively) in the entry's text.
    pub words: Vec<String>,
    pub category: Option<String>,
    pub complexity: Option<String>,
    /// Only entries with hours for this model type.
    pub model_type: Option<String>,
}

async fn lock(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK_KEY).execute(&mut **tx).await?;
    Ok(())
}

/// The lowercase text a search matches against.
fn search_text(e: &CatalogEntry) -> String {
    let optional = [&e.sub_category_description, &e.complexity_description, &e.agency_caveats];
    [&e.catalog_id, &e.category, &e.sub_category, &e.asset_name, &e.complexity, &e.asset_description]
        .into_iter()
        .chain(optional.into_iter().flatten())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    version: i64,
    entries: &[CatalogEntry],
    source: &str,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO catalog_versions (version, source, entry_count, imported_by) VALUES ($1, $2, $3, $4)",
    )
    .bind(version)
    .bind(source)
    .bind(entries.len() as i32)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    let column = |f: fn(&CatalogEntry) -> &String| entries.iter().map(|e| f(e).clone()).collect::<Vec<_>>();
    let json: Vec<serde_json::Value> =
        entries.iter().map(|e| serde_json::to_value(e).expect("a catalog entry serialises")).collect();
    sqlx::query(
        "INSERT INTO catalog_entries
             (version, catalog_id, category, sub_category, asset_name, complexity, search_text, entry)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::jsonb[])",
    )
    .bind(version)
    .bind(column(|e| &e.catalog_id))
    .bind(column(|e| &e.category))
    .bind(column(|e| &e.sub_category))
    .bind(column(|e| &e.asset_name))
    .bind(column(|e| &e.complexity))
    .bind(entries.iter().map(search_text).collect::<Vec<_>>())
    .bind(json)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores the shipped default catalog as version 1 unless some version exists. Safe to run from
/// several processes at once: the first one in seeds, the others find it done.
pub async fn seed_default(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    lock(&mut tx).await?;
    let seeded: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM catalog_versions)").fetch_one(&mut *tx).await?;
    if !seeded {
        let entries = domain::catalog_import::default_catalog();
        insert(&mut tx, 1, &entries, DEFAULT_SOURCE, "system").await?;
        tracing::info!(entries = entries.len(), "seeded the default catalog as version 1");
    }
    tx.commit().await?;
    Ok(())
}

/// Stores `entries` as a new version (the highest so far + 1), all or nothing; returns it.
pub async fn import(
    pool: &PgPool,
    entries: &[CatalogEntry],
    source: &str,
    by: &str,
) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock(&mut tx).await?;
    let version: i64 = sqlx::query_scalar("SELECT COALESCE(max(version), 0) + 1 FROM catalog_versions")
        .fetch_one(&mut *tx)
        .await?;
    insert(&mut tx, version, entries, source, by).await?;
    tx.commit().await?;
    Ok(version)
}

/// The current (highest) version; `None` before any catalog is stored.
pub async fn current_version(pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(version) FROM catalog_versions").fetch_one(pool).await
}

pub async fn version_exists(pool: &PgPool, version: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM catalog_versions WHERE version = $1)")
        .bind(version)
        .fetch_one(pool)
        .await
}

/// The entries of `version` with these ids (those that exist), ordered by id.
pub async fn entries(pool: &PgPool, version: i64, ids: &[String]) -> Result<Vec<CatalogEntry>, sqlx::Error> {
    let rows: Vec<Json<CatalogEntry>> = sqlx::query_scalar(
        "SELECT entry FROM catalog_entries WHERE version = $1 AND catalog_id = ANY($2) ORDER BY catalog_id",
    )
    .bind(version)
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|Json(e)| e).collect())
}

const FILTER: &str = "version = $1 AND search_text LIKE ALL($2)
    AND ($3::text IS NULL OR lower(category) = lower($3))
    AND ($4::text IS NULL OR lower(complexity) = lower($4))
    AND ($5::text IS NULL OR entry->'hours' ? $5)";

/// One page of the entries of `version` that match, ordered by id, and how many match in all.
pub async fn search(
    pool: &PgPool,
    version: i64,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CatalogEntry>, i64), sqlx::Error> {
    let escape = |w: &String| w.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let patterns: Vec<String> = search.words.iter().map(|w| format!("%{}%", escape(w))).collect();
    let model_type = search.model_type.as_ref().map(|m| m.to_lowercase());
    let rows: Vec<Json<CatalogEntry>> = sqlx::query_scalar(&format!(
        "SELECT entry FROM catalog_entries WHERE {FILTER} ORDER BY catalog_id LIMIT $6 OFFSET $7"
    ))
    .bind(version)
    .bind(&patterns)
    .bind(&search.category)
    .bind(&search.complexity)
    .bind(&model_type)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM catalog_entries WHERE {FILTER}"))
        .bind(version)
        .bind(&patterns)
        .bind(&search.category)
        .bind(&search.complexity)
        .bind(&model_type)
        .fetch_one(pool)
        .await?;
    Ok((rows.into_iter().map(|Json(e)| e).collect(), total))
}

/// The categories of `version` with their entry counts, alphabetically.
pub async fn categories(pool: &PgPool, version: i64) -> Result<Vec<CategoryCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category, count(*) AS entry_count FROM catalog_entries WHERE version = $1
         GROUP BY category ORDER BY category",
    )
    .bind(version)
    .fetch_all(pool)
    .await
}

/// Every stored version, newest first.
pub async fn versions(pool: &PgPool) -> Result<Vec<CatalogVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, source, entry_count, imported_by, imported_at FROM catalog_versions
         ORDER BY version DESC",
    )
    .fetch_all(pool)
    .await
}
