//! The error answers of every operation, documented in one place: problem bodies are
//! `application/problem+json`, and the statuses that the shared layers (authentication, roles,
//! extractors, body limit, the command bus) can answer are listed on each operation they guard.
//!
//! Handlers document what is particular to them (a 400 for a stage rule, a 415 for a file type);
//! what every route of a kind can answer is added here, so a new route cannot forget it.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

const PROBLEM: &str = "application/problem+json";

/// Operations no one needs to sign in for (the OpenAPI document gives them no security requirement).
pub(crate) const PUBLIC: &[&str] = &["/api/health"];

/// Mutating operations open to every signed-in user: they change only the caller's own state.
const ANYONE_MAY_CHANGE: &[&str] = &["/api/notifications/"];

/// Rewrites the document in place; see the module comment.
pub fn document(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in operations {
            if let Some(op) = op.as_mut() {
                document_operation(path, method, op);
            }
        }
    }
}

fn document_operation(path: &str, method: &str, op: &mut Operation) {
    problems_as_problem_json(op);
    let has = |op: &Operation, at: ParameterIn| {
        op.parameters
            .iter()
            .flatten()
            .any(|p| std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&at))
    };
    let (path_params, query_params) = (has(op, ParameterIn::Path), has(op, ParameterIn::Query));
    let body = op.request_body.is_some();
    let mutating = method != "get";
    add(op, 431, "A header is over 16 KiB (e.g. an oversized bearer token); `field` names it.");
    if !PUBLIC.contains(&path) {
        add(op, 401, "Not signed in: no bearer token, or one that is malformed, expired or not ours.");
        add(op, 503, "The identity provider's signing keys cannot be fetched.");
    }
    if mutating && !PUBLIC.contains(&path) && !ANYONE_MAY_CHANGE.iter().any(|p| path.starts_with(p)) {
        add(op, 403, "The caller's role may not do this.");
    }
    if body {
        add(op, 400, "The body is not JSON (or not multipart), or cannot be read.");
        add(op, 413, "The body is larger than the upload limit.");
        add(op, 408, "The body did not arrive within BODY_READ_TIMEOUT_SECS of the headers.");
        add(
            op,
            415,
            "The body is sent as another media type than the operation takes (`field` names Content-Type).",
        );
    }
    if body || path_params || query_params {
        add(op, 422, "A parameter or field is invalid; `field` names it.");
    }
    if path_params {
        add(op, 404, "Nothing has this id.");
    }
    let changes_an_opportunity =
        path.starts_with("/api/opportunities/{id}") || path.starts_with("/api/approvals/{id}");
    if mutating && changes_an_opportunity {
        add(op, 409, "The opportunity is archived, or was changed by someone else at the same moment.");
    }
}

/// `Problem` bodies are sent as `application/problem+json` (RFC 9457), not `application/json`.
fn problems_as_problem_json(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        let is_problem = response.content.get("application/json").is_some_and(
            |c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")),
        );
        if is_problem {
            if let Some(content) = response.content.shift_remove("application/json") {
                response.content.insert(PROBLEM.to_string(), content);
            }
        }
    }
}

fn add(op: &mut Operation, status: u16, description: &str) {
    op.responses.responses.entry(status.to_string()).or_insert_with(|| {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        RefOr::T(ResponseBuilder::new().description(description).content(PROBLEM, content).build())
    });
}
