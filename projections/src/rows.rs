//! Whole-row reads and writes of a read-model table, a batch at a time.
//!
//! A projection that folds a batch of events in memory reads the rows the batch touches in one
//! statement and writes the changed ones back in another, instead of one statement per event: on a
//! rebuild that is the difference between thousands of round trips per batch and two. Rows travel
//! as JSON (`to_jsonb` out, `jsonb_populate_recordset` in), so a row struct only has to name its
//! columns as fields; the table's own types do the conversions on the server.

use chrono::{DateTime, Timelike, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

/// A read-model table written whole rows at a time.
pub struct Table {
    pub name: &'static str,
    /// The primary key's columns, for the upsert's conflict target.
    pub key: &'static [&'static str],
    /// Every other column: what an upsert overwrites.
    pub values: &'static [&'static str],
}

impl Table {
    /// The rows whose `column` is one of `ids`.
    pub async fn load<T: DeserializeOwned + Send + Unpin + 'static>(
        &self,
        db: &mut PgConnection,
        column: &str,
        ids: &[Uuid],
    ) -> Result<Vec<T>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Json<T>> =
            sqlx::query_scalar(&format!("SELECT to_jsonb(t) FROM {} t WHERE {column} = ANY($1)", self.name))
                .bind(ids)
                .fetch_all(&mut *db)
                .await?;
        Ok(rows.into_iter().map(|Json(row)| row).collect())
    }

    /// Inserts `rows`, overwriting every non-key column of those already there.
    pub async fn upsert<T: Serialize + Sync>(
        &self,
        db: &mut PgConnection,
        rows: &[T],
    ) -> Result<(), sqlx::Error> {
        let columns = self.values.join(", ");
        let excluded = self.values.iter().map(|c| format!("EXCLUDED.{c}")).collect::<Vec<_>>().join(", ");
        self.insert_rows(db, rows, &format!("DO UPDATE SET ({columns}) = ROW({excluded})")).await
    }

    /// Inserts `rows`, leaving any already there (by key) as they are.
    pub async fn insert_new<T: Serialize + Sync>(
        &self,
        db: &mut PgConnection,
        rows: &[T],
    ) -> Result<(), sqlx::Error> {
        self.insert_rows(db, rows, "DO NOTHING").await
    }

    /// Deletes the rows whose `column` is one of `ids`.
    pub async fn delete(&self, db: &mut PgConnection, column: &str, ids: &[Uuid]) -> Result<(), sqlx::Error> {
        if !ids.is_empty() {
            sqlx::query(&format!("DELETE FROM {} WHERE {column} = ANY($1)", self.name))
                .bind(ids)
                .execute(&mut *db)
                .await?;
        }
        Ok(())
    }

    async fn insert_rows<T: Serialize + Sync>(
        &self,
        db: &mut PgConnection,
        rows: &[T],
        on_conflict: &str,
    ) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "INSERT INTO {table} SELECT * FROM jsonb_populate_recordset(NULL::{table}, $1)
             ON CONFLICT ({key}) {on_conflict}",
            table = self.name,
            key = self.key.join(", "),
        ))
        // Serialized straight into the statement's buffer, never as a `Value` tree.
        .bind(Json(rows))
        .execute(&mut *db)
        .await?;
        Ok(())
    }
}

/// PostgreSQL keeps microseconds; a folded row truncated to them equals its stored self.
pub fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}

/// Each id once, in order: the rows a batch touches, however many of its events touch them.
pub fn distinct(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids.dedup();
    ids
}
