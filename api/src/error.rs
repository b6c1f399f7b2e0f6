//! Every error the API answers with, mapped in one place to a status and an RFC 9457 body.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::OpportunityError as D;
use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

use crate::auth::users::UsersError;
use crate::command_bus::CommandError;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The body (or the part of it `field` names) cannot be read as what the route takes (400).
    #[error("{message}")]
    Malformed { field: String, message: String },
    /// The request is well-formed but something it builds on is missing (400, naming it).
    #[error("{message}")]
    MissingInput { field: String, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    UnsupportedFile { field: String, message: String },
    #[error("{message}")]
    TooLarge { field: String, message: String },
    /// The body is sent as a media type the route does not take (415, naming the header).
    #[error("{message}")]
    UnsupportedMediaType { field: &'static str, message: String },
    #[error(transparent)]
    Rejected(#[from] D),
    #[error("the opportunity was changed by someone else at the same moment; retry")]
    Conflict,
    #[error("{0}")]
    Unavailable(String),
    /// A request header is malformed (400, naming it).
    #[error("{message}")]
    BadHeader { field: &'static str, message: String },
    #[error("the opportunity is at version {actual}; this change was based on another (see If-Match and ETag): read it again")]
    PreconditionFailed { actual: usize },
    #[error(
        "this Idempotency-Key was already used for a different request; use a new key for a new request"
    )]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry when it has finished")]
    RequestInFlight,
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
    /// A sign-in or a change of a user was refused; the cause says why.
    #[error(transparent)]
    Users(UsersError),
    /// A request header is longer than the API takes (431, naming it).
    #[error("the {field} header is {size} bytes; at most {limit} are accepted")]
    HeaderTooLarge { field: String, size: usize, limit: usize },
    /// Too many requests of a kind (429, with how long to wait in `Retry-After`).
    #[error("{message}")]
    RateLimited { field: &'static str, message: String, retry_after: std::time::Duration },
    #[error("internal error: {0}")]
    Internal(String),
}

/// The problem+json body (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }

    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Malformed { field: field.into(), message: message.into() }
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<&str>) {
        use StatusCode as S;
        match self {
            Self::Invalid { field, .. } => (S::UNPROCESSABLE_ENTITY, "validation-failed", Some(field)),
            Self::Malformed { field, .. } => (S::BAD_REQUEST, "malformed-request", Some(field)),
            Self::MissingInput { field, .. } => (S::BAD_REQUEST, "missing-input", Some(field)),
            Self::NotFound(_) => (S::NOT_FOUND, "not-found", None),
            Self::Unauthenticated(_) => (S::UNAUTHORIZED, "unauthenticated", None),
            Self::Forbidden(_) => (S::FORBIDDEN, "forbidden", None),
            Self::UnsupportedFile { field, .. } => {
                (S::UNSUPPORTED_MEDIA_TYPE, "unsupported-file", Some(field))
            }
            Self::TooLarge { field, .. } => (S::PAYLOAD_TOO_LARGE, "too-large", Some(field)),
            Self::UnsupportedMediaType { field, .. } => {
                (S::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", Some(field))
            }
            Self::Conflict => (S::CONFLICT, "concurrent-change", None),
            Self::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "unavailable", None),
            Self::BadHeader { field, .. } => (S::BAD_REQUEST, "invalid-header", Some(field)),
            Self::PreconditionFailed { .. } => {
                (S::PRECONDITION_FAILED, "precondition-failed", Some("If-Match"))
            }
            Self::IdempotencyKeyReused => {
                (S::UNPROCESSABLE_ENTITY, "idempotency-key-reused", Some("Idempotency-Key"))
            }
            Self::RequestInFlight => (S::CONFLICT, "request-in-flight", Some("Idempotency-Key")),
            Self::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "method-not-allowed", None),
            Self::Users(e) => match e {
                UsersError::EmailTaken { .. } => (S::FORBIDDEN, "identity-conflict", None),
                UsersError::NotFound => (S::NOT_FOUND, "not-found", None),
                UsersError::RoleFromDirectory => (S::CONFLICT, "role-managed-by-directory", Some("role")),
                UsersError::Database(_) => (S::INTERNAL_SERVER_ERROR, "internal", None),
            },
            Self::HeaderTooLarge { field, .. } => {
                (S::REQUEST_HEADER_FIELDS_TOO_LARGE, "header-too-large", Some(field))
            }
            Self::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal", None),
            Self::RateLimited { field, .. } => (S::TOO_MANY_REQUESTS, "rate-limited", Some(field)),
            Self::Rejected(d) => match d {
                D::Invalid(e) => (S::UNPROCESSABLE_ENTITY, "validation-failed", Some(e.field())),
                D::AlreadyExists => (S::CONFLICT, "already-exists", None),
                D::NotFound => (S::NOT_FOUND, "not-found", None),
                D::Archived => (S::CONFLICT, "archived", None),
                D::StageAlreadyCompleted(_) => (S::BAD_REQUEST, "stage-already-completed", Some("stage")),
                D::StageNotStarted(_) => (S::BAD_REQUEST, "stage-not-started", Some("stage")),
                D::ApprovalsMissing(_) => (S::BAD_REQUEST, "approvals-missing", Some("stage")),
                D::ApprovalsPending { .. } => (S::BAD_REQUEST, "approvals-pending", Some("stage")),
                D::ApprovalsRejected { .. } => (S::BAD_REQUEST, "approvals-rejected", Some("stage")),
                D::StageNotGated(_) => (S::BAD_REQUEST, "stage-not-gated", Some("stage")),
                D::ApprovalAlreadyPending { .. } => (S::CONFLICT, "approval-already-pending", Some("role")),
                D::ApprovalNotFound(_) => (S::NOT_FOUND, "not-found", None),
                D::ApprovalAlreadyDecided(_) => (S::CONFLICT, "approval-already-decided", None),
                D::NotTheApprover => (S::FORBIDDEN, "not-the-approver", None),
                D::ApproverIsRequester => {
                    (S::UNPROCESSABLE_ENTITY, "approver-is-requester", Some("approver_email"))
                }
                D::ApproverIsOwner { .. } => {
                    (S::UNPROCESSABLE_ENTITY, "approver-is-owner", Some("approver_email"))
                }
                D::RequesterMayNotDecide => (S::FORBIDDEN, "requester-may-not-decide", None),
                D::OwnerMayNotDecide => (S::FORBIDDEN, "owner-may-not-decide", None),
                D::ApproverRoleTooLow { .. } => (S::FORBIDDEN, "approver-role-too-low", None),
                D::FileNotFound(_) => (S::NOT_FOUND, "not-found", None),
                D::FileAlreadyRecorded(_) => (S::CONFLICT, "already-exists", None),
                D::ClarificationNotFound(_) | D::AssetNotFound(_) | D::MatchNotFound(_) => {
                    (S::NOT_FOUND, "not-found", None)
                }
                D::TooManyMatches { .. } => (S::UNPROCESSABLE_ENTITY, "validation-failed", Some("matches")),
                D::Ratecard(_) => (S::BAD_REQUEST, "ratecard-not-buildable", None),
                D::DealNotWon => (S::BAD_REQUEST, "deal-not-won", Some("deal_status")),
                D::AgentRunNotFound(_) => (S::NOT_FOUND, "not-found", None),
                D::MalformedOutput(_) => (S::UNPROCESSABLE_ENTITY, "malformed-output", Some("output")),
                D::AgentRunInFlight(_) => (S::CONFLICT, "agent-run-in-flight", None),
                D::SpendCapReached { cap: domain::agent_run::SpendCap::PerOpportunity, .. } => {
                    (S::FORBIDDEN, "spend-cap-reached", None)
                }
                D::SpendCapReached { cap: domain::agent_run::SpendCap::PerDay, .. } => {
                    (S::TOO_MANY_REQUESTS, "spend-cap-reached", None)
                }
            },
        }
    }
}

/// A value outside what the system can keep (see `domain::limits`): 422 naming the field.
impl From<domain::InputError> for ApiError {
    fn from(e: domain::InputError) -> Self {
        Self::Invalid { field: e.field().to_string(), message: e.to_string() }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Rejected(d) => Self::Rejected(d),
            CommandError::Conflict => Self::Conflict,
            CommandError::Stale { actual } => Self::PreconditionFailed { actual },
            CommandError::Unavailable(m) => Self::database_unavailable(m),
            CommandError::Store(m) => Self::Internal(m),
        }
    }
}

impl From<UsersError> for ApiError {
    fn from(e: UsersError) -> Self {
        match e {
            // Outages answer 503 like any other database call.
            UsersError::Database(e) => e.into(),
            refused => Self::Users(refused),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if crate::outage::is_connection_failure(&e) {
            return Self::database_unavailable(e);
        }
        Self::Internal(format!("database: {e}"))
    }
}

impl From<projections::ProjectorError> for ApiError {
    fn from(e: projections::ProjectorError) -> Self {
        match e {
            projections::ProjectorError::Database(e) => e.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// How long a client should wait before trying again, for the answers that have one.
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            // Today's cap lifts at midnight UTC.
            Self::Rejected(D::SpendCapReached { cap: domain::agent_run::SpendCap::PerDay, .. }) => {
                let now = chrono::Utc::now();
                let midnight = (now.date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0)?.and_utc();
                (midnight - now).to_std().ok()
            }
            _ => None,
        }
    }

    /// A lost or refused database connection: 503, so the client retries; the cause is logged.
    pub fn database_unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "database unavailable");
        Self::Unavailable(crate::outage::DATABASE_UNAVAILABLE.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, field) = self.parts();
        let detail = match &self {
            // Internals are logged, never sent.
            Self::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                "something went wrong on our side; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let body = Problem {
            kind: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            field: field.map(str::to_string),
        };
        let mut response = (status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        if let Some(wait) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(wait.as_secs().max(1)));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
