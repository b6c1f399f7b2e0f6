//! Request extractors whose rejections are problem+json bodies naming the field at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;

/// A JSON body; another media type is a 415, a syntax error a 400, a wrong or missing field a 422
/// naming it.
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let untyped = !req.headers().contains_key(header::CONTENT_TYPE);
        let json = require_json(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        if untyped && bytes.is_empty() {
            return Err(ApiError::malformed(
                "body",
                "the body is missing: send a JSON object (Content-Type: application/json)",
            ));
        }
        json?;
        parse_json(&bytes).map(ValidJson)
    }
}

/// Whether a media type is JSON: `application/json` or `application/<type>+json` (a structured
/// syntax suffix, RFC 6838), in any case, with any parameters.
pub fn is_json(content_type: &str) -> bool {
    content_type.parse::<mime::Mime>().is_ok_and(|m| {
        m.type_() == mime::APPLICATION
            && match m.suffix() {
                Some(suffix) => suffix == mime::JSON && !m.subtype().as_str().is_empty(),
                None => m.subtype() == mime::JSON,
            }
    })
}

/// 415 naming the header unless the request's Content-Type is JSON.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let message = match headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) {
        Some(Ok(ct)) if is_json(ct) => return Ok(()),
        Some(Ok(ct)) => format!(
            "the body must be JSON (Content-Type: application/json or application/<type>+json), not {ct:?}"
        ),
        Some(Err(_)) => "the Content-Type header is not a valid media type: send application/json".into(),
        None => "send the body as JSON with Content-Type: application/json".into(),
    };
    Err(ApiError::UnsupportedMediaType { field: "Content-Type", message })
}

/// A body that could not be read: too large (413) or broken off (400).
pub fn body_rejection(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { field: "body".into(), message: "the body is too large".into() }
    } else {
        ApiError::malformed("body", format!("the body could not be read: {e}"))
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed("body", format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid("body", "the body must be a JSON object"));
    }
    if let Some(field) = domain::limits::nul_in(&value, "") {
        return Err(ApiError::invalid(if field.is_empty() { "body".into() } else { field }, NUL_MESSAGE));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ApiError::invalid(field_at(&path, &message), message)
    })
}

/// PostgreSQL stores NUL in no text or JSON value, so no field of any request may hold one.
const NUL_MESSAGE: &str = "text must not contain NUL (\\u0000) characters";

/// The field an error is about: serde reports a missing field at its parent's path.
fn field_at(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_string(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_string(),
        (path, None) => path.to_string(),
    }
}

/// Query-string parameters, each error naming the parameter.
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        if let Some((key, _)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::invalid(key.replace('\0', ""), NUL_MESSAGE));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(ValidQuery).map_err(|e| {
            let (path, message) = (e.path().to_string(), e.into_inner().to_string());
            ApiError::invalid(field_at(&path, &message).replace("body", "query"), message)
        })
    }
}

/// Path parameters as text; a parameter that is not valid UTF-8 (or holds NUL) is a 422 naming it.
pub struct ValidPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ValidPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => {
                let raw = parts.uri.path();
                if raw.contains("%00") {
                    return Err(ApiError::invalid("path", NUL_MESSAGE));
                }
                Ok(ValidPath(value))
            }
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let field = match e.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key } | ErrorKind::ParseErrorAtKey { key, .. } => {
                        key.clone()
                    }
                    _ => "path".to_string(),
                };
                Err(ApiError::invalid(field.clone(), format!("{field} is not valid: {}", e.body_text())))
            }
            Err(e) => Err(ApiError::invalid("path", e.body_text())),
        }
    }
}

/// Parses an id from the path, naming the parameter when it is not a UUID.
pub fn uuid_param(name: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::invalid(name, format!("{name} must be a UUID, got {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_media_types_are_parsed_not_matched_by_prefix() {
        for good in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            "application/problem+json; charset=UTF-8",
            "application/vnd.osop.v1+JSON",
        ] {
            assert!(is_json(good), "{good}");
        }
        for bad in [
            "application/jsonx",
            "text/html; charset=+json",
            "text/json",
            "application/+json",
            "application/json-seq",
            "application/x-www-form-urlencoded",
            "json",
            "",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}
