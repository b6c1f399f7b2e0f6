//! What the log records about an uploaded file: its identity and digest, never its bytes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub file_id: Uuid,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    /// Characters of text extracted for the agents (after the cap).
    pub text_chars: u64,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}
