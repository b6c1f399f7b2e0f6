//! The signed-in user, and role management for admins.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Role, User};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ValidJson, ValidPath};
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me)).routes(routes!(set_role))
}

/// The user the request is authenticated as (created on first sight).
#[utoipa::path(get, operation_id = "get_current_user", path = "/api/users/me", tag = "users",
    responses((status = 200, body = User), (status = 401, body = Problem)))]
async fn me(user: User) -> Json<User> {
    Json(user)
}

#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    /// `viewer`, `editor` or `admin`.
    pub role: String,
}

/// Changes a user's role (admins only). It applies to the user's next request, in every process.
/// A role granted by the user's Entra ID app role is changed in the directory instead (409).
#[utoipa::path(put, operation_id = "set_user_role",
    path = "/api/users/{id}/role", tag = "users", request_body = RoleChange,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_role(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<RoleChange>,
) -> ApiResult<Json<User>> {
    user.require(Role::Admin)?;
    let id: i64 =
        id.parse().map_err(|_| ApiError::invalid("id", format!("user id must be a number, got {id:?}")))?;
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::invalid("role", format!("role must be viewer, editor or admin, got {:?}", body.role))
    })?;
    Ok(Json(state.users.set_role(id, role).await?))
}
