//! Assets, their candidate matches and the rate card built from the selected ones.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::OpportunityEvent as Ev;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projection::Fact;
use crate::projection::Projection;
use crate::rows::{distinct, micros, Table};
use crate::stored_event::StoredEvent;

pub struct AssetsProjection;

async fn add_asset(
    db: &mut PgConnection,
    opp: Uuid,
    a: &domain::asset::Asset,
    position: i64,
    at: &chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO assets (id, opportunity_id, raw_name, raw_description, client_tier, volume, position,
            created_at, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(a.asset_id)
    .bind(opp)
    .bind(&a.raw_name)
    .bind(&a.raw_description)
    .bind(&a.client_tier)
    .bind(a.volume as i32)
    .bind(position)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes an asset with its matches and rate-card lines (the seed's cascade).
async fn remove_asset(db: &mut PgConnection, opp: Uuid, asset_id: Uuid) -> Result<(), sqlx::Error> {
    for table in ["asset_matches", "ratecard_lines"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE opportunity_id = $1 AND asset_id = $2"))
            .bind(opp)
            .bind(asset_id)
            .execute(&mut *db)
            .await?;
    }
    sqlx::query("DELETE FROM assets WHERE id = $1").bind(asset_id).execute(db).await?;
    Ok(())
}

async fn mark_stale(db: &mut PgConnection, opportunity_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ratecards SET stale = true WHERE opportunity_id = $1")
        .bind(opportunity_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A row of `assets`.
#[derive(Serialize)]
struct AssetRow<'a> {
    id: Uuid,
    opportunity_id: Uuid,
    raw_name: &'a str,
    raw_description: Option<&'a str>,
    client_tier: Option<&'a str>,
    volume: i32,
    position: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const ASSETS: Table = Table { name: "assets", key: &["id"], values: &[] };

/// Assets added one after another, written in one statement when anything else comes along.
#[derive(Default)]
struct Added<'a> {
    rows: Vec<AssetRow<'a>>,
    opportunities: Vec<Uuid>,
}

/// The batch's connection, holding back added assets until anything else is to be written.
struct Writer<'c, 'a> {
    db: &'c mut PgConnection,
    added: Added<'a>,
}

impl Writer<'_, '_> {
    /// The connection, once the assets held back are written: no other write can overtake them,
    /// so the tables always see the log's order.
    async fn db(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        let added = std::mem::take(&mut self.added);
        ASSETS.insert_new(self.db, &added.rows).await?;
        let opportunities = distinct(added.opportunities);
        if !opportunities.is_empty() {
            sqlx::query("UPDATE ratecards SET stale = true WHERE opportunity_id = ANY($1)")
                .bind(&opportunities)
                .execute(&mut *self.db)
                .await?;
        }
        Ok(&mut *self.db)
    }
}

#[async_trait]
impl Projection for AssetsProjection {
    fn name(&self) -> &'static str {
        "assets"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["assets", "asset_matches", "ratecards", "ratecard_lines"]
    }

    /// Added assets (most of a long log's asset events) are gathered and written together.
    async fn apply(&self, db: &mut PgConnection, facts: &[Fact<'_>]) -> Result<(), sqlx::Error> {
        let mut writer = Writer { db, added: Added::default() };
        for (stored, event) in facts {
            Self::apply_event(&mut writer, stored, event).await?;
        }
        writer.db().await.map(|_| ())
    }
}

impl AssetsProjection {
    /// One event: an addition is held back to be written with the next ones; any other asset
    /// event is written in its own statements.
    async fn apply_event<'a>(
        writer: &mut Writer<'_, 'a>,
        stored: &'a StoredEvent,
        event: &'a Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opp) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::AssetAdded { asset: a, at } => {
                let at = micros(*at);
                writer.added.rows.push(AssetRow {
                    id: a.asset_id,
                    opportunity_id: opp,
                    raw_name: &a.raw_name,
                    raw_description: a.raw_description.as_deref(),
                    client_tier: a.client_tier.as_deref(),
                    volume: a.volume as i32,
                    position: stored.order(0),
                    created_at: at,
                    updated_at: at,
                });
                writer.added.opportunities.push(opp);
            }
            Ev::AssetsNormalized { removed, added, at, .. } => {
                let db = writer.db().await?;
                for asset_id in removed {
                    remove_asset(db, opp, *asset_id).await?;
                }
                for (n, asset) in added.iter().enumerate() {
                    add_asset(db, opp, asset, stored.order(n), at).await?;
                }
                mark_stale(db, opp).await?;
            }
            Ev::AssetUpdated { asset_id, changes: c, at } => {
                let db = writer.db().await?;
                sqlx::query(
                    "UPDATE assets SET raw_name = COALESCE($2, raw_name),
                        raw_description = CASE WHEN $3 THEN $4 ELSE raw_description END,
                        client_tier = CASE WHEN $5 THEN $6 ELSE client_tier END,
                        volume = COALESCE($7, volume), updated_at = $8
                      WHERE id = $1",
                )
                .bind(asset_id)
                .bind(&c.raw_name)
                .bind(c.raw_description.is_some())
                .bind(c.raw_description.clone().flatten())
                .bind(c.client_tier.is_some())
                .bind(c.client_tier.clone().flatten())
                .bind(c.volume.map(|v| v as i32))
                .bind(at)
                .execute(&mut *db)
                .await?;
                mark_stale(db, opp).await?;
            }
            Ev::AssetRemoved { asset_id, .. } => remove_asset(writer.db().await?, opp, *asset_id).await?,
            Ev::MatchesProposed { asset_id, matches, at } => {
                let db = writer.db().await?;
                sqlx::query("DELETE FROM asset_matches WHERE opportunity_id = $1 AND asset_id = $2")
                    .bind(opp)
                    .bind(asset_id)
                    .execute(&mut *db)
                    .await?;
                for m in matches {
                    sqlx::query(
                        "INSERT INTO asset_matches (id, opportunity_id, asset_id, catalog_id, catalog_asset_name,
                            confidence, score, rank, reasoning, caveats, is_selected, proposed_at)
                         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,false,$11)",
                    )
                    .bind(m.match_id)
                    .bind(opp)
                    .bind(asset_id)
                    .bind(&m.catalog_id)
                    .bind(&m.catalog_asset_name)
                    .bind(m.confidence.as_str())
                    .bind(m.score)
                    .bind(i32::from(m.rank))
                    .bind(&m.reasoning)
                    .bind(&m.caveats)
                    .bind(at)
                    .execute(&mut *db)
                    .await?;
                }
                mark_stale(db, opp).await?;
            }
            Ev::MatchSelected { asset_id, match_id, .. } => {
                let db = writer.db().await?;
                sqlx::query("UPDATE asset_matches SET is_selected = (id = $3) WHERE opportunity_id = $1 AND asset_id = $2")
                    .bind(opp)
                    .bind(asset_id)
                    .bind(match_id)
                    .execute(&mut *db)
                    .await?;
                mark_stale(db, opp).await?;
            }
            Ev::MatchSelectionCleared { asset_id, .. } => {
                let db = writer.db().await?;
                sqlx::query("UPDATE asset_matches SET is_selected = false WHERE opportunity_id = $1 AND asset_id = $2")
                    .bind(opp)
                    .bind(asset_id)
                    .execute(&mut *db)
                    .await?;
                mark_stale(db, opp).await?;
            }
            Ev::RatecardBuilt { ratecard: r, at } => {
                let db = writer.db().await?;
                sqlx::query("DELETE FROM ratecard_lines WHERE opportunity_id = $1")
                    .bind(opp)
                    .execute(&mut *db)
                    .await?;
                sqlx::query(
                    "INSERT INTO ratecards (opportunity_id, catalog_version, model_type, currency, stale, built_at)
                     VALUES ($1,$2,$3,$4,false,$5)
                     ON CONFLICT (opportunity_id) DO UPDATE SET catalog_version = EXCLUDED.catalog_version,
                        model_type = EXCLUDED.model_type, currency = EXCLUDED.currency, stale = false,
                        built_at = EXCLUDED.built_at",
                )
                .bind(opp)
                .bind(r.catalog_version)
                .bind(&r.model_type)
                .bind(&r.currency)
                .bind(at)
                .execute(&mut *db)
                .await?;
                for (i, l) in r.lines.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO ratecard_lines (opportunity_id, line_no, asset_id, asset_name, client_tier,
                            catalog_id, catalog_asset_name, role, discipline, role_location, base_hours, volume, rate)
                         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
                    )
                    .bind(opp)
                    .bind(i as i32 + 1)
                    .bind(l.asset_id)
                    .bind(&l.asset_name)
                    .bind(&l.client_tier)
                    .bind(&l.catalog_id)
                    .bind(&l.catalog_asset_name)
                    .bind(&l.role)
                    .bind(l.discipline.as_str())
                    .bind(l.role_location.as_str())
                    .bind(l.base_hours)
                    .bind(l.volume as i32)
                    .bind(l.rate)
                    .execute(&mut *db)
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
