//! The files attached to each opportunity (metadata; the bytes live in `file_blobs`).

use async_trait::async_trait;
use domain::OpportunityEvent as Ev;
use sqlx::PgConnection;

use crate::projection::EventByEvent;
use crate::stored_event::StoredEvent;

pub struct FilesProjection;

#[async_trait]
impl EventByEvent for FilesProjection {
    fn name(&self) -> &'static str {
        "files"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["opportunity_files"]
    }

    async fn apply_event(
        &self,
        db: &mut PgConnection,
        stored: &StoredEvent,
        event: &Ev,
    ) -> Result<(), sqlx::Error> {
        let Some(opportunity_id) = stored.opportunity_id() else { return Ok(()) };
        match event {
            Ev::FileUploaded { file: f } => {
                sqlx::query(
                    "INSERT INTO opportunity_files (id, opportunity_id, filename, media_type, size_bytes, sha256,
                        text_chars, uploaded_by, uploaded_at)
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (id) DO NOTHING",
                )
                .bind(f.file_id)
                .bind(opportunity_id)
                .bind(&f.filename)
                .bind(&f.media_type)
                .bind(f.size_bytes as i64)
                .bind(&f.sha256)
                .bind(f.text_chars as i64)
                .bind(&f.uploaded_by)
                .bind(f.uploaded_at)
                .execute(&mut *db)
                .await?;
            }
            Ev::FileRemoved { file_id, .. } => {
                sqlx::query("DELETE FROM opportunity_files WHERE id = $1")
                    .bind(file_id)
                    .execute(&mut *db)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
