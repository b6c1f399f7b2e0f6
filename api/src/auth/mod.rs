//! Who is calling and what they may do: dev bypass or Entra ID bearer tokens, and roles.

pub mod entra;
pub mod role;
pub mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use utoipa::ToSchema;

pub use role::Role;

use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl User {
    /// Refuses unless the user's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role; you are {}",
                needed.as_str(),
                self.role.as_str()
            )))
        }
    }

    pub fn actor(&self) -> domain::commands::Actor {
        domain::commands::Actor::new(self.email.clone(), self.role.into())
    }
}

/// How identities are established.
pub enum Authenticator {
    Bypass(crate::config::DevIdentity),
    Entra(Box<entra::EntraVerifier>),
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    /// Signs the caller in once per request: a middleware that needed the caller first (e.g. to
    /// scope an idempotency key) leaves the user in the request's extensions for the handler.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<User>() {
            return Ok(user.clone());
        }
        let identity = match state.auth.as_ref() {
            Authenticator::Bypass(dev) => users::Identity {
                directory_id: None,
                email: dev.email.clone(),
                name: dev.name.clone(),
                role: Some(dev.role),
            },
            Authenticator::Entra(verifier) => {
                let header = parts
                    .headers
                    .get(axum::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| ApiError::Unauthenticated("a bearer token is required".into()))?;
                let token = header
                    .strip_prefix("Bearer ")
                    .or_else(|| header.strip_prefix("bearer "))
                    .ok_or_else(|| {
                        ApiError::Unauthenticated("the Authorization header must be 'Bearer <token>'".into())
                    })?;
                verifier.verify(token.trim()).await?
            }
        };
        let user = state.users.sign_in_as(&identity).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}
