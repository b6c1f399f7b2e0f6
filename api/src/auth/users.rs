//! The people who have signed in, upserted on first sight and cached briefly.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::RwLock;

use super::{Role, User};
use crate::error::ApiError;

/// How long a looked-up user is trusted before the database is asked again.
const CACHE_TTL: Duration = Duration::from_secs(30);

pub struct Users {
    pool: PgPool,
    cache: RwLock<HashMap<String, (User, Instant)>>,
}

type Row = (i64, String, String, String, chrono::DateTime<chrono::Utc>);

fn to_user((id, email, name, role, created_at): Row) -> User {
    User { id, email, name, role: Role::parse(&role).unwrap_or(Role::Viewer), created_at }
}

impl Users {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, cache: RwLock::new(HashMap::new()) }
    }

    /// Finds or creates the user. `role` is forced when given (dev bypass); new users otherwise
    /// start as editors.
    pub async fn sign_in(&self, email: &str, name: &str, role: Option<Role>) -> Result<User, ApiError> {
        let key = email.to_lowercase();
        if let Some((user, seen)) = self.cache.read().await.get(&key) {
            if seen.elapsed() < CACHE_TTL && role.is_none_or(|r| r == user.role) {
                return Ok(user.clone());
            }
        }
        let row: Row = sqlx::query_as(
            "INSERT INTO app_users (email, name, role) VALUES ($1, $2, COALESCE($3, 'editor'))
             ON CONFLICT (lower(email)) DO UPDATE
               SET name = EXCLUDED.name, last_seen_at = now(),
                   role = CASE WHEN $3 IS NULL THEN app_users.role ELSE EXCLUDED.role END
             RETURNING id, email, name, role, created_at",
        )
        .bind(email)
        .bind(name)
        .bind(role.map(Role::as_str))
        .fetch_one(&self.pool)
        .await?;
        let user = to_user(row);
        self.cache.write().await.insert(key, (user.clone(), Instant::now()));
        Ok(user)
    }

    pub async fn set_role(&self, id: i64, role: Role) -> Result<User, ApiError> {
        let row: Option<Row> = sqlx::query_as(
            "UPDATE app_users SET role = $2 WHERE id = $1 RETURNING id, email, name, role, created_at",
        )
        .bind(id)
        .bind(role.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let user = to_user(row.ok_or(ApiError::NotFound("user"))?);
        self.cache.write().await.remove(&user.email.to_lowercase());
        Ok(user)
    }
}
