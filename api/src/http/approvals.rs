//! Approvals on stages 3 and 14: request (with email deeplink), read, decide.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::{ApprovalDecision, ApprovalRole, OpportunityCommand as Cmd};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::opportunity_input::email;
use super::opportunity_view::ensure_exists;
use super::stages::stage_param;
use crate::auth::{Role, User};
use crate::clock;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{uuid_param, ValidJson, ValidPath};
use crate::mail::Email;
use crate::startup::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request, list_for_stage))
        .routes(routes!(list_for_opportunity))
        .routes(routes!(get_for_opportunity))
        .routes(routes!(get_one))
        .routes(routes!(by_token))
        .routes(routes!(decide))
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ApprovalView {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub opportunity_name: String,
    pub stage: i32,
    /// commercial, delivery, solution, regional or deal_desk.
    pub role: String,
    pub approver_email: String,
    /// pending, approved, rejected or superseded.
    pub status: String,
    pub notes: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub supersedes: Option<Uuid>,
}

const SELECT: &str =
    "SELECT a.id, a.opportunity_id, o.name AS opportunity_name, a.stage, a.role, a.approver_email,
        a.status, a.notes, a.requested_by, a.requested_at, a.decided_by, a.decided_at, a.supersedes
   FROM approvals a JOIN opportunities o ON o.id = a.opportunity_id";

async fn find(state: &AppState, id: Uuid) -> ApiResult<ApprovalView> {
    sqlx::query_as(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound("approval"))
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Deserialize, ToSchema)]
pub struct ApprovalRequest {
    /// commercial, delivery, solution, regional or deal_desk.
    pub role: String,
    pub approver_email: String,
    pub approver_name: Option<String>,
}

/// Asks someone to approve stage 3 or 14: an in-app notification and an email with a deeplink.
#[utoipa::path(post, operation_id = "request_approval",
    path = "/api/opportunities/{id}/stages/{n}/approvals", tag = "approvals",
    request_body = ApprovalRequest, params(("id" = Uuid, Path), ("n" = u8, Path)),
    responses((status = 201, body = ApprovalView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request(
    user: User,
    State(state): State<AppState>,
    ValidPath((id, n)): ValidPath<(String, String)>,
    ValidJson(body): ValidJson<ApprovalRequest>,
) -> ApiResult<(StatusCode, Json<ApprovalView>)> {
    let id = uuid_param("id", &id)?;
    let stage = stage_param(&n)?;
    user.require(Role::Editor)?;
    let role = ApprovalRole::parse(body.role.trim()).ok_or_else(|| {
        ApiError::invalid(
            "role",
            format!(
                "role must be commercial, delivery, solution, regional or deal_desk, got {:?}",
                body.role
            ),
        )
    })?;
    let approver_email = email("approver_email", &body.approver_email)?;
    let approver_name =
        body.approver_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if approver_name.as_ref().is_some_and(|n| n.chars().count() > 200 || n.chars().any(char::is_control)) {
        return Err(ApiError::invalid(
            "approver_name",
            "approver_name must be one line of at most 200 characters",
        ));
    }
    ensure_exists(&state.pool, id).await?;
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let approval_id = Uuid::new_v4();
    let command = Cmd::RequestApproval {
        approval_id,
        stage,
        role,
        approver_email: approver_email.clone(),
        token_digest: token_digest(&token),
        actor: user.actor(),
        at: clock::now(),
    };
    state.bus.execute(id, command, &user).await?;
    let view = find(&state, approval_id).await?;
    let greeting = approver_name.as_deref().unwrap_or("Hello");
    state
        .mailer
        .send(Email {
            to: &approver_email,
            subject: format!("Approval needed: {} (stage {}, {})", view.opportunity_name, stage.get(), role.as_str()),
            body: format!(
                "{greeting},\n\n{} asks for your {} approval of stage {} ({}) of \"{}\".\nOpen the link to approve or reject.",
                user.name,
                role.as_str(),
                stage.get(),
                stage.name(),
                view.opportunity_name
            ),
            deeplink: format!("{}/approvals/by-token/{token}", state.settings.app_public_url.trim_end_matches('/')),
        })
        .await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The approvals requested for one stage.
#[utoipa::path(get, operation_id = "list_stage_approvals",
    path = "/api/opportunities/{id}/stages/{n}/approvals", tag = "approvals",
    params(("id" = Uuid, Path), ("n" = u8, Path)),
    responses((status = 200, body = Vec<ApprovalView>), (status = 404, body = Problem)))]
async fn list_for_stage(
    _user: User,
    State(state): State<AppState>,
    ValidPath((id, n)): ValidPath<(String, String)>,
) -> ApiResult<Json<Vec<ApprovalView>>> {
    let id = uuid_param("id", &id)?;
    let stage = stage_param(&n)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(
        sqlx::query_as(&format!(
            "{SELECT} WHERE a.opportunity_id = $1 AND a.stage = $2 ORDER BY a.requested_at, a.id"
        ))
        .bind(id)
        .bind(i32::from(stage.get()))
        .fetch_all(&state.pool)
        .await?,
    ))
}

/// Every approval of an opportunity.
#[utoipa::path(get, operation_id = "list_opportunity_approvals",
    path = "/api/opportunities/{id}/approvals", tag = "approvals", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ApprovalView>), (status = 404, body = Problem)))]
async fn list_for_opportunity(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<Vec<ApprovalView>>> {
    let id = uuid_param("id", &id)?;
    ensure_exists(&state.pool, id).await?;
    Ok(Json(
        sqlx::query_as(&format!(
            "{SELECT} WHERE a.opportunity_id = $1 ORDER BY a.stage, a.requested_at, a.id"
        ))
        .bind(id)
        .fetch_all(&state.pool)
        .await?,
    ))
}

/// One approval of this opportunity; another opportunity's approval is 404.
#[utoipa::path(get, operation_id = "get_opportunity_approval",
    path = "/api/opportunities/{id}/approvals/{approval_id}", tag = "approvals",
    params(("id" = Uuid, Path), ("approval_id" = Uuid, Path)),
    responses((status = 200, body = ApprovalView), (status = 404, body = Problem)))]
async fn get_for_opportunity(
    _user: User,
    State(state): State<AppState>,
    ValidPath((id, approval_id)): ValidPath<(String, String)>,
) -> ApiResult<Json<ApprovalView>> {
    let id = uuid_param("id", &id)?;
    let approval = find(&state, uuid_param("approval_id", &approval_id)?).await?;
    if approval.opportunity_id != id {
        return Err(ApiError::NotFound("approval"));
    }
    Ok(Json(approval))
}

/// One approval.
#[utoipa::path(get, operation_id = "get_approval",
    path = "/api/approvals/{id}", tag = "approvals", params(("id" = Uuid, Path)),
    responses((status = 200, body = ApprovalView), (status = 404, body = Problem)))]
async fn get_one(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Json<ApprovalView>> {
    Ok(Json(find(&state, uuid_param("id", &id)?).await?))
}

/// The approval an emailed deeplink token points to.
#[utoipa::path(get, operation_id = "get_approval_by_token",
    path = "/api/approvals/by-token/{token}", tag = "approvals", params(("token" = String, Path)),
    responses((status = 200, body = ApprovalView), (status = 404, body = Problem)))]
async fn by_token(
    _user: User,
    State(state): State<AppState>,
    ValidPath(token): ValidPath<String>,
) -> ApiResult<Json<ApprovalView>> {
    Ok(Json(
        sqlx::query_as(&format!("{SELECT} WHERE a.token_digest = $1"))
            .bind(token_digest(token.trim()))
            .fetch_optional(&state.pool)
            .await?
            .ok_or(ApiError::NotFound("approval"))?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `approve` or `reject` (`approved` / `rejected` are accepted too).
    pub decision: String,
    pub notes: Option<String>,
}

/// Decides an approval, once: as the named approver (an editor or admin) or as an admin on their
/// behalf; never as the one who requested it nor as the opportunity's owner. The owner is notified.
#[utoipa::path(post, operation_id = "decide_approval",
    path = "/api/approvals/{id}/decision", tag = "approvals", request_body = DecisionBody,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApprovalView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide(
    user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
    ValidJson(body): ValidJson<DecisionBody>,
) -> ApiResult<Json<ApprovalView>> {
    let approval_id = uuid_param("id", &id)?;
    let decision =
        ApprovalDecision::parse(body.decision.trim().to_lowercase().as_str()).ok_or_else(|| {
            ApiError::invalid(
                "decision",
                format!("decision must be approve or reject, got {:?}", body.decision),
            )
        })?;
    let notes = body.notes.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if notes.as_ref().is_some_and(|n| n.chars().count() > 5_000) {
        return Err(ApiError::invalid("notes", "notes must be at most 5000 characters"));
    }
    Ok(Json(decide_as(&state, &user, approval_id, decision, notes).await?))
}

/// What the decision route does once its input is valid; the walkthrough's approvers decide
/// through it in-process (the rules are the domain's, whoever calls).
pub async fn decide_as(
    state: &AppState,
    user: &User,
    approval_id: Uuid,
    decision: ApprovalDecision,
    notes: Option<String>,
) -> ApiResult<ApprovalView> {
    let approval = find(state, approval_id).await?;
    let command = Cmd::DecideApproval { approval_id, decision, notes, actor: user.actor(), at: clock::now() };
    state.bus.execute(approval.opportunity_id, command, user).await?;
    find(state, approval_id).await
}
