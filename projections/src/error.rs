//! What can stop a catch-up or a rebuild: the database, an event that cannot be read, a name
//! that is not a projection.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProjectorError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at log position {position} cannot be read: {source}")]
    Undecodable { position: i64, source: serde_json::Error },
    #[error("no projection is named {name:?}; there are: {known}")]
    UnknownProjection { name: String, known: String },
}
