//! The REST surface: each area's router merged in one place, with the OpenAPI document.

pub mod agent_runs;
pub mod agents;
pub mod approvals;
pub mod assets;
pub mod attachment;
pub mod audit;
pub mod body_deadline;
pub mod catalog;
pub mod clarifications;
pub mod cors;
pub mod domain_schemas;
pub mod efficiency;
pub mod exports;
pub mod files;
pub mod header_limits;
pub mod health;
pub mod idempotency;
pub mod notifications;
pub mod opportunities;
pub mod opportunity_input;
pub mod opportunity_view;
pub mod preconditions;
pub mod prefer;
pub mod problem_responses;
pub mod qualification;
pub mod ratecard;
pub mod read_your_writes;
pub mod request_id;
pub mod request_metrics;
pub mod scrape;
pub mod stages;
pub mod users;
pub mod write_headers;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_scalar::{Scalar, Servable};

use crate::error::ApiError;
use crate::startup::AppState;

/// The version written into the OpenAPI document; pinned so a crate version bump does not make
/// the committed spec stale.
pub const API_VERSION: &str = "1.0.0";

#[derive(OpenApi)]
#[openapi(
    info(title = "OSOP — Sales Operations Platform API", version = "1.0.0",
        description = "From an RFP brief to a defensible proposal, in 17 stages. Event-sourced: every change is an event; see /api/events.",
        // The workspace's license (Cargo.toml): proprietary, no licence granted.
        license(name = "UNLICENSED")),
    tags(
        (name = "health"), (name = "users"), (name = "opportunities"), (name = "stages"), (name = "approvals"),
        (name = "notifications"), (name = "files"), (name = "audit"), (name = "catalog"), (name = "qualification"),
        (name = "clarifications"), (name = "assets"), (name = "ratecard"), (name = "team shape"), (name = "exports"), (name = "agents")
    )
)]
struct ApiDoc;

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(users::router())
        .merge(opportunities::router())
        .merge(stages::router())
        .merge(approvals::router())
        .merge(notifications::router())
        .merge(files::router())
        .merge(audit::router())
        .merge(catalog::router())
        .merge(qualification::router())
        .merge(clarifications::router())
        .merge(assets::router())
        .merge(ratecard::router())
        .merge(efficiency::router())
        .merge(exports::router())
        .merge(agent_runs::router())
        .merge(agents::router())
}

/// The OpenAPI document the code describes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api().split_for_parts();
    doc.info.version = API_VERSION.to_string();
    problem_responses::document(&mut doc);
    write_headers::document_all(&mut doc);
    document_security(&mut doc);
    doc
}

/// The name of the bearer-token security scheme in the OpenAPI document.
pub const BEARER_SCHEME: &str = "bearer";

/// Declares the bearer-token scheme and requires it of every operation but the public ones, which
/// carry an empty requirement (no sign-in); `problem_responses::PUBLIC` lists them.
fn document_security(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some(
            "An Azure Entra ID access token issued for this API, sent as `Authorization: Bearer <token>`: \
             RS256-signed by the tenant, with this API's client id as audience, the tenant as issuer, and \
             an expiry. A server run with the dev identity (DEV_AUTH_BYPASS) ignores it.",
        ))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(BEARER_SCHEME, SecurityScheme::Http(bearer));
    doc.security = Some(vec![SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new())]);
    for (path, item) in doc.paths.paths.iter_mut() {
        if problem_responses::PUBLIC.contains(&path.as_str()) {
            let operations =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                operation.security = Some(vec![SecurityRequirement::default()]);
            }
        }
    }
}

/// Whether `method` on the route template `path` is a documented operation: the retry-safety
/// middleware run before axum's method routing, and must leave a wrong method to its plain 405.
fn is_operation(method: &axum::http::Method, path: &str) -> bool {
    static OPERATIONS: std::sync::OnceLock<std::collections::HashSet<(String, String)>> =
        std::sync::OnceLock::new();
    let operations = OPERATIONS.get_or_init(|| {
        let doc = serde_json::to_value(openapi()).unwrap_or_default();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        paths
            .into_iter()
            .flat_map(|(path, item)| {
                let methods: Vec<String> =
                    item.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                methods.into_iter().map(move |m| (path.clone(), m.to_uppercase()))
            })
            .collect()
    });
    operations.contains(&(path.to_string(), method.as_str().to_string()))
}

/// Whether the request is a write (POST, PATCH, PUT, DELETE) to a documented operation: the only
/// requests the retry-safety headers apply to.
pub(crate) fn is_documented_write(request: &axum::extract::Request) -> bool {
    use axum::http::Method;
    matches!(*request.method(), Method::POST | Method::PATCH | Method::PUT | Method::DELETE)
        && request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .is_some_and(|p| is_operation(request.method(), p.as_str()))
}

/// The router answers a wrong method with an empty 405; clients get a problem body like any other error.
async fn bare_method_errors_as_problems(response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let allow = response.headers().get(header::ALLOW).cloned();
        let mut problem = ApiError::MethodNotAllowed.into_response();
        if let Some(allow) = allow {
            problem.headers_mut().insert(header::ALLOW, allow);
        }
        return problem;
    }
    response
}

pub fn router(state: AppState) -> Router {
    let upload_limit = state.settings.max_upload_bytes + 1024 * 1024;
    let (routes, _) = api().split_for_parts();
    let doc = openapi();
    let spec = doc.clone();
    let cors = cors::layer(&state.settings.cors_allowed_origins);
    let routes = routes
        // Route layers run only for a request some route and method answer, so a wrong method is
        // still a plain 405, whatever its headers.
        .route_layer(axum::middleware::from_fn(read_your_writes::answer_from_the_log))
        .route_layer(axum::middleware::from_fn(preconditions::if_match))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::idempotency))
        .route("/api/openapi.json", get(move || async move { Json(spec.clone()) }))
        .merge(Scalar::with_url("/api/docs", doc))
        // For the scraper on the private network; deliberately not part of the API document.
        .route("/metrics", get(scrape::metrics))
        .fallback(|| async { ApiError::NotFound("route").into_response() })
        .layer(axum::middleware::map_response(bare_method_errors_as_problems))
        .layer(axum::middleware::from_fn(header_limits::refuse_oversized))
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.settings.connections.body_read_timeout,
            body_deadline::enforce,
        ))
        .layer(axum::middleware::from_fn(request_metrics::record))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_id::span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        );
    // Preflights are answered before authentication, as browsers send them without credentials.
    let routes = match cors {
        Some(cors) => routes.layer(cors),
        None => routes,
    };
    // Outermost: the id is there for the span, the handlers and the response.
    routes.layer(axum::middleware::from_fn(request_id::assign)).with_state(state)
}
