//! Files attached to an opportunity: upload (checked by content, text extracted), list, download, remove.

use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::{FileMeta, OpportunityCommand as Cmd};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_view::ensure_exists;
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidPath};
use crate::startup::AppState;
use crate::uploads::multipart::read_file_field;
use crate::uploads::{extract_text, sniff};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        .routes(routes!(get_one, remove))
        .routes(routes!(download))
}

/// The multipart form of an upload (documentation only: the handler reads the stream itself).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FileUpload {
    /// The file, with its name in the part's `filename`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct FileView {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Characters of text extracted for the agents.
    pub text_chars: i64,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

const SELECT: &str =
    "SELECT id, opportunity_id, filename, media_type, size_bytes, sha256, text_chars, uploaded_by,
        uploaded_at FROM opportunity_files";

async fn find(state: &AppState, opportunity_id: Uuid, file_id: Uuid) -> ApiResult<FileView> {
    sqlx::query_as(&format!("{SELECT} WHERE id = $1 AND opportunity_id = $2"))
        .bind(file_id)
        .bind(opportunity_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound("file"))
}

/// Uploads a brief document (multipart field `file`): .txt, .md, .docx, .xlsx or .pdf, checked by
/// content. Its text (up to ~150k characters) is kept for the agents.
#[utoipa::path(post, operation_id = "upload_file",
    path = "/api/opportunities/{id}/files", tag = "files", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", content = FileUpload, description = "field `file`: the document"),
    responses((status = 201, body = FileView), (status = 404, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn upload(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(StatusCode, Json<FileView>)> {
    let id = uuid_param("id", &id)?;
    user.require(Role::Editor)?;
    ensure_exists(&state.pool, id).await?;
    let (filename, bytes) = read_file_field(multipart, state.settings.max_upload_bytes).await?;
    let sniff_name = filename.clone();
    let (kind, text) = tokio::task::spawn_blocking({
        let bytes = bytes.clone();
        move || {
            let kind = sniff(&sniff_name, &bytes)?;
            extract_text(kind, &bytes).map(|t| (kind, t))
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("extraction task failed: {e}")))??;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let stored_here = sqlx::query(
        "INSERT INTO file_blobs (sha256, bytes, extracted_text) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&sha256)
    .bind(bytes.as_ref())
    .bind(&text)
    .execute(&state.pool)
    .await?
    .rows_affected()
        == 1;
    let file = FileMeta {
        file_id: Uuid::new_v4(),
        filename,
        media_type: kind.media_type().to_string(),
        size_bytes: bytes.len() as u64,
        sha256: sha256.clone(),
        text_chars: text.chars().count() as u64,
        uploaded_by: user.email.clone(),
        uploaded_at: clock::now(),
    };
    let file_id = file.file_id;
    if let Err(refused) = state.bus.execute(id, Cmd::RecordFileUpload { file }, &user).await {
        if stored_here {
            forget_blob(&state, &sha256).await;
        }
        return Err(refused.into());
    }
    Ok((StatusCode::CREATED, Json(find(&state, id, file_id).await?)))
}

/// Removes a blob this request stored when its upload was refused (an archived opportunity, a
/// lost race), unless a file has come to use it meanwhile.
async fn forget_blob(state: &AppState, sha256: &str) {
    let removed = sqlx::query(
        "DELETE FROM file_blobs b WHERE b.sha256 = $1
            AND NOT EXISTS (SELECT 1 FROM opportunity_files f WHERE f.sha256 = b.sha256)",
    )
    .bind(sha256)
    .execute(&state.pool)
    .await;
    if let Err(e) = removed {
        tracing::warn!(sha256, error = %e, "the blob of a refused upload was not removed");
    }
}

/// The files of an opportunity, oldest first.
#[utoipa::path(get, operation_id = "list_files",
    path = "/api/opportunities/{id}/files", tag = "files", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<FileView>), (status = 404, body = Problem)))]
async fn list(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<Vec<FileView>>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(
        sqlx::query_as(&format!("{SELECT} WHERE opportunity_id = $1 ORDER BY uploaded_at, id"))
            .bind(id)
            .fetch_all(&state.pool)
            .await?,
    ))
}

/// One file's metadata; another opportunity's file is 404.
#[utoipa::path(get, operation_id = "get_file",
    path = "/api/opportunities/{id}/files/{file_id}", tag = "files",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 200, body = FileView), (status = 404, body = Problem)))]
async fn get_one(
    _user: User,
    State(state): State<AppState>,
    ValidPath((id, file_id)): ValidPath<(String, String)>,
) -> ApiResult<Json<FileView>> {
    Ok(Json(find(&state, uuid_param("id", &id)?, uuid_param("file_id", &file_id)?).await?))
}

/// The file's bytes, as uploaded.
#[utoipa::path(get, operation_id = "download_file",
    path = "/api/opportunities/{id}/files/{file_id}/download", tag = "files",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
async fn download(
    _user: User,
    State(state): State<AppState>,
    ValidPath((id, file_id)): ValidPath<(String, String)>,
) -> ApiResult<Response> {
    let file = find(&state, uuid_param("id", &id)?, uuid_param("file_id", &file_id)?).await?;
    let bytes: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM file_blobs WHERE sha256 = $1")
        .bind(&file.sha256)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound("file content"))?;
    let disposition = super::attachment::content_disposition(&file.filename);
    Response::builder()
        .header(header::CONTENT_TYPE, file.media_type)
        .header(header::CONTENT_DISPOSITION, disposition)
        .body(Body::from(bytes))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Removes a file from the opportunity (its history stays in the log).
#[utoipa::path(delete, operation_id = "remove_file",
    path = "/api/opportunities/{id}/files/{file_id}", tag = "files",
    params(("id" = Uuid, Path), ("file_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn remove(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, file_id)): ValidPath<(String, String)>,
) -> ApiResult<StatusCode> {
    user.require(Role::Editor)?;
    let id = uuid_param("id", &id)?;
    let file = find(&state, id, uuid_param("file_id", &file_id)?).await?;
    state.bus.execute(id, Cmd::RemoveFile { file_id: file.id, at: clock::now() }, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
