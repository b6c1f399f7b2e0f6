//! The people who have signed in, known by their directory's stable ids (Entra ID `tid` + `oid`),
//! with email and name as attributes. Every authenticated request reads its user here: one indexed
//! lookup, no cache, so a role change applies to the next request in every process at once.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{Role, User};

/// A person's stable ids in the directory: the tenant (`tid`) and their object id there (`oid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryId {
    pub tenant_id: String,
    pub object_id: String,
}

/// Who a sign-in says the caller is.
#[derive(Clone, Debug)]
pub struct Identity {
    /// None for identities known by their email alone (the dev identity, the walkthrough's people).
    pub directory_id: Option<DirectoryId>,
    pub email: String,
    pub name: String,
    /// The role the sign-in grants (the token's app roles, or a configured identity's role);
    /// None: the role kept here applies.
    pub role: Option<Role>,
}

/// Why a sign-in or a user change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error(
        "the email {email} belongs to another account of this directory (another object id): an admin \
         must release it (app_users) before this account can sign in"
    )]
    EmailTaken { email: String },
    #[error("user not found")]
    NotFound,
    #[error(
        "this user's role comes from their Entra ID app role (OSOP.Viewer, OSOP.Editor or OSOP.Admin): \
         change the assignment in the directory"
    )]
    RoleFromDirectory,
    #[error("the user table: {0}")]
    Database(#[from] sqlx::Error),
}

/// A user row; `fresh` says whether `last_seen_at` was updated lately (it is refreshed at most every
/// few minutes, so most requests only read).
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    email: String,
    name: String,
    role: String,
    created_at: DateTime<Utc>,
    role_from_token: bool,
    fresh: bool,
}

const COLUMNS: &str = "id, email, name, role, created_at, role_from_token, \
                       last_seen_at > now() - interval '5 minutes' AS fresh";

impl Row {
    fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }

    fn user(self) -> User {
        let role = self.role();
        User { id: self.id, email: self.email, name: self.name, role, created_at: self.created_at }
    }
}

/// A unique violation on the email index: the email is held by another row.
fn email_taken(e: sqlx::Error, email: &str) -> UsersError {
    match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("app_users_email") => {
            UsersError::EmailTaken { email: email.to_string() }
        }
        _ => e.into(),
    }
}

pub struct Users {
    pool: PgPool,
    /// The role of a new user whose sign-in grants none (`DEFAULT_USER_ROLE`).
    default_role: Role,
}

impl Users {
    pub fn new(pool: PgPool, default_role: Role) -> Self {
        Self { pool, default_role }
    }

    /// Signs in an identity known by email alone (the dev identity, the walkthrough's people);
    /// `role`, when given, is forced.
    pub async fn sign_in(&self, email: &str, name: &str, role: Option<Role>) -> Result<User, UsersError> {
        let who = Identity { directory_id: None, email: email.into(), name: name.into(), role };
        self.sign_in_as(&who).await
    }

    /// Finds the user (by directory ids, or by email for identities without them) and brings
    /// their row up to date with the sign-in; creates them on first sight.
    pub async fn sign_in_as(&self, who: &Identity) -> Result<User, UsersError> {
        let Some(row) = self.find(who).await? else {
            return match &who.directory_id {
                Some(id) => self.first_sign_in(id, who).await,
                None => self.upsert_by_email(who).await,
            };
        };
        let (role, from_token) = self.role_for(who, &row);
        let current = row.email == who.email
            && row.name == who.name
            && row.role == role.as_str()
            && row.role_from_token == from_token;
        if current && row.fresh {
            return Ok(row.user());
        }
        let sql = format!(
            "UPDATE app_users SET email = $2, name = $3, role = $4, role_from_token = $5, last_seen_at = now()
              WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row: Row = sqlx::query_as(&sql)
            .bind(row.id)
            .bind(&who.email)
            .bind(&who.name)
            .bind(role.as_str())
            .bind(from_token)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| email_taken(e, &who.email))?;
        Ok(row.user())
    }

    /// The role a sign-in leaves the user with, and whether it came from the token. A token's app
    /// role wins; without one the role kept here applies, except that a role the directory gave
    /// and has since withdrawn falls back to the default.
    fn role_for(&self, who: &Identity, row: &Row) -> (Role, bool) {
        match who.role {
            Some(role) => (role, who.directory_id.is_some()),
            None if row.role_from_token => (self.default_role, false),
            None => (row.role(), false),
        }
    }

    async fn find(&self, who: &Identity) -> Result<Option<Row>, UsersError> {
        let row = match &who.directory_id {
            Some(id) => {
                let sql = format!("SELECT {COLUMNS} FROM app_users WHERE tenant_id = $1 AND object_id = $2");
                sqlx::query_as(&sql)
                    .bind(&id.tenant_id)
                    .bind(&id.object_id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM app_users WHERE lower(email) = lower($1)");
                sqlx::query_as(&sql).bind(&who.email).fetch_optional(&self.pool).await?
            }
        };
        Ok(row)
    }

    /// A directory user seen for the first time: a row known by this email alone (from before ids
    /// were kept) becomes theirs; otherwise a new row. An email another object id holds is refused.
    async fn first_sign_in(&self, id: &DirectoryId, who: &Identity) -> Result<User, UsersError> {
        let role = who.role.map(Role::as_str);
        let claim = format!(
            "UPDATE app_users SET tenant_id = $1, object_id = $2, email = $3, name = $4,
                    role = COALESCE($5, role), role_from_token = $5 IS NOT NULL, last_seen_at = now()
              WHERE lower(email) = lower($3) AND object_id IS NULL RETURNING {COLUMNS}"
        );
        let claimed: Option<Row> = sqlx::query_as(&claim)
            .bind(&id.tenant_id)
            .bind(&id.object_id)
            .bind(&who.email)
            .bind(&who.name)
            .bind(role)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = claimed {
            return Ok(row.user());
        }
        let insert = format!(
            "INSERT INTO app_users (tenant_id, object_id, email, name, role, role_from_token)
             VALUES ($1, $2, $3, $4, COALESCE($5, $6), $5 IS NOT NULL)
             ON CONFLICT (tenant_id, object_id) DO UPDATE SET last_seen_at = now()
             RETURNING {COLUMNS}"
        );
        let inserted = sqlx::query_as(&insert)
            .bind(&id.tenant_id)
            .bind(&id.object_id)
            .bind(&who.email)
            .bind(&who.name)
            .bind(role)
            .bind(self.default_role.as_str())
            .fetch_one(&self.pool)
            .await;
        match inserted {
            Ok(row) => Ok(Row::user(row)),
            // Two first requests of one new user at once: the other one created the row.
            Err(e) => match (email_taken(e, &who.email), self.find(who).await?) {
                (UsersError::EmailTaken { .. }, Some(row)) => Ok(row.user()),
                (error, _) => Err(error),
            },
        }
    }

    /// Identities known by email alone; a role they carry is forced.
    async fn upsert_by_email(&self, who: &Identity) -> Result<User, UsersError> {
        let sql = format!(
            "INSERT INTO app_users (email, name, role) VALUES ($1, $2, COALESCE($3, $4))
             ON CONFLICT (lower(email)) DO UPDATE
               SET name = EXCLUDED.name, last_seen_at = now(),
                   role = CASE WHEN $3 IS NULL THEN app_users.role ELSE EXCLUDED.role END
             RETURNING {COLUMNS}"
        );
        let row: Row = sqlx::query_as(&sql)
            .bind(&who.email)
            .bind(&who.name)
            .bind(who.role.map(Role::as_str))
            .bind(self.default_role.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.user())
    }

    /// An admin's change of a user's role; a role the directory manages is changed there.
    pub async fn set_role(&self, id: i64, role: Role) -> Result<User, UsersError> {
        let from_token: Option<bool> =
            sqlx::query_scalar("SELECT role_from_token FROM app_users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match from_token {
            None => return Err(UsersError::NotFound),
            Some(true) => return Err(UsersError::RoleFromDirectory),
            Some(false) => {}
        }
        let sql = format!("UPDATE app_users SET role = $2 WHERE id = $1 RETURNING {COLUMNS}");
        let row: Option<Row> =
            sqlx::query_as(&sql).bind(id).bind(role.as_str()).fetch_optional(&self.pool).await?;
        Ok(row.ok_or(UsersError::NotFound)?.user())
    }
}
