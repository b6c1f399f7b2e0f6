//! Documents the retry-safety headers on every write operation of the OpenAPI document:
//! `Idempotency-Key` and `If-Match` in, and the answers they can cause out (see `idempotency`,
//! `preconditions`). Done once here because the middleware, not each handler, implements them.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required, ResponseBuilder};

fn header(name: &str, description: &str, max_length: Option<usize>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).max_length(max_length)))
        .build()
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    let body = Content::new(Some(Ref::from_schema_name("Problem")));
    RefOr::T(
        ResponseBuilder::new().description(description).content("application/problem+json", body).build(),
    )
}

fn document(operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.push(header(
        "Idempotency-Key",
        "Makes a retry safe: the same key and request answer with the first response (header \
         Idempotent-Replayed: true) instead of running again; keys are per user, kept for a day.",
        Some(255),
    ));
    parameters.push(header(
        "If-Match",
        "The opportunity version (its ETag) this change is based on; a stale one is refused with 412.",
        None,
    ));
    let answers = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        answers.entry(status.to_string()).or_insert_with(|| problem(description));
    };
    add("400", "a malformed Idempotency-Key or If-Match header");
    add("409", "a request with this Idempotency-Key is still in flight");
    add("412", "If-Match names a version the opportunity is not at");
    add("422", "the Idempotency-Key was used for a different request");
    answers.entry("202".to_string()).or_insert_with(|| {
        let body = Content::new(Some(Ref::from_schema_name("Accepted")));
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "recorded, but the read models do not show it yet (one is slow or stopped): read it \
                     at Location shortly; do not send it again",
                )
                .content("application/json", body)
                .build(),
        )
    });
}

/// Adds the headers and answers to every POST, PATCH, PUT and DELETE.
pub fn document_all(doc: &mut OpenApi) {
    use utoipa::{PartialSchema, ToSchema};
    doc.components.get_or_insert_with(Default::default).schemas.insert(
        super::read_your_writes::Accepted::name().to_string(),
        super::read_your_writes::Accepted::schema(),
    );
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.post, &mut item.patch, &mut item.put, &mut item.delete].into_iter().flatten() {
            document(op);
        }
    }
}
