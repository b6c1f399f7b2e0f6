//! Reads the one uploaded file of a multipart request (field `file`) within the size limit.

use axum::body::Bytes;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult};

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge {
        field: "file".into(),
        message: format!("files may be at most {} MiB", limit / 1024 / 1024),
    }
}

/// The file's base name without directories or control characters.
fn clean_filename(raw: &str) -> ApiResult<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let name: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if name.is_empty() || name == "." || name == ".." {
        return Err(ApiError::invalid("file", "the uploaded file needs a filename"));
    }
    Ok(name)
}

/// The filename and bytes of the field `file` (or the first field with a filename): 400 when the
/// body is not multipart, 413 over `limit`, 422 when it is missing, nameless or empty.
pub async fn read_file_field(
    multipart: Result<Multipart, MultipartRejection>,
    limit: usize,
) -> ApiResult<(String, Bytes)> {
    let mut multipart = multipart
        .map_err(|e| ApiError::malformed("file", format!("send the file as multipart/form-data: {e}")))?;
    let multipart_error = |e: MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            ApiError::malformed("file", format!("the multipart body is malformed: {e}"))
        }
    };
    let (filename, bytes) = loop {
        let Some(field) = multipart.next_field().await.map_err(multipart_error)? else {
            return Err(ApiError::invalid("file", "no file was sent: use the multipart field `file`"));
        };
        if field.name() == Some("file") || field.file_name().is_some() {
            let filename = clean_filename(field.file_name().unwrap_or(""))?;
            break (filename, field.bytes().await.map_err(multipart_error)?);
        }
    };
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    Ok((filename, bytes))
}
