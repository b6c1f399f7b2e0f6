//! The bodies that create and change an opportunity, and their validation into domain values.

use chrono::NaiveDate;
use domain::details::nullable;
use domain::details::DEFAULT_MODEL_TYPE;
use domain::limits;
use domain::{DealStatus, DetailsChanges, OpportunityDetails};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, ToSchema)]
pub struct NewOpportunity {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 200)]
    pub client_name: Option<String>,
    #[schema(max_length = 200)]
    pub region: Option<String>,
    /// At most 100 entries of at most 100 characters.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub brands: Vec<String>,
    /// At most 100 entries of at most 100 characters.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub service_types: Vec<String>,
    /// ISO date (YYYY-MM-DD), in the years 1900 to 9999.
    pub deadline: Option<NaiveDate>,
    /// ISO date (YYYY-MM-DD), in the years 1900 to 9999.
    pub go_live: Option<NaiveDate>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[schema(max_length = 64)]
    pub model_type: Option<String>,
    /// Defaults to the creator.
    #[schema(max_length = 254)]
    pub owner_email: Option<String>,
}

/// Absent fields stay as they are; `null` clears an optional field.
#[derive(Deserialize, ToSchema, Default)]
pub struct OpportunityChanges {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub client_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub region: Option<Option<String>>,
    /// At most 100 entries of at most 100 characters.
    #[schema(max_items = 100)]
    pub brands: Option<Vec<String>>,
    /// At most 100 entries of at most 100 characters.
    #[schema(max_items = 100)]
    pub service_types: Option<Vec<String>>,
    /// ISO date (YYYY-MM-DD), in the years 1900 to 9999.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    /// ISO date (YYYY-MM-DD), in the years 1900 to 9999.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub go_live: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub description: Option<Option<String>>,
    #[schema(min_length = 1, max_length = 64)]
    pub model_type: Option<String>,
    #[schema(max_length = 254)]
    pub owner_email: Option<String>,
    /// `active`, `won`, `lost` or `deprioritized`.
    pub deal_status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub lessons_learned: Option<Option<String>>,
}

/// Trimmed text that must not be blank; as sent, at most `max` characters and no NUL or other
/// control characters (see `domain::limits`).
pub fn required_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    limits::required(field, value, max)?;
    Ok(value.trim().to_string())
}

/// Like `required_text`, but absent or blank is `None`.
pub fn optional_text(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    limits::text(field, &v, max)?;
    Ok(Some(v.trim().to_string()).filter(|v| !v.is_empty()))
}

/// A date the read models and exports can hold (the years 1900–9999).
pub fn date(field: &str, value: Option<NaiveDate>) -> ApiResult<Option<NaiveDate>> {
    limits::optional_date(field, value)?;
    Ok(value)
}

fn list(field: &str, values: Vec<String>) -> ApiResult<Vec<String>> {
    if values.len() > limits::LIST_ENTRIES {
        return Err(domain::InputError::TooMany { field: field.into(), max: limits::LIST_ENTRIES }.into());
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let v = required_text(&format!("{field}[{i}]"), v, limits::LABEL)?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&v)) {
            out.push(v);
        }
    }
    Ok(out)
}

pub fn email(field: &str, value: &str) -> ApiResult<String> {
    limits::text(field, value, limits::EMAIL)?;
    let v = value.trim();
    let valid = v.len() <= limits::EMAIL
        && !v.chars().any(char::is_whitespace)
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(v.to_lowercase())
    } else {
        Err(ApiError::invalid(field, format!("{field} must be an email address, got {value:?}")))
    }
}

fn model_type(value: &str) -> ApiResult<String> {
    let v = required_text("model_type", value, limits::MODEL_TYPE)?;
    if v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ')) {
        Ok(v)
    } else {
        Err(ApiError::invalid("model_type", "model_type may hold letters, digits, spaces, '-' and '_' only"))
    }
}

pub fn deal_status(value: &str) -> ApiResult<DealStatus> {
    DealStatus::parse(value.trim()).ok_or_else(|| {
        ApiError::invalid(
            "deal_status",
            format!("deal_status must be active, won, lost or deprioritized, got {value:?}"),
        )
    })
}

impl NewOpportunity {
    pub fn validate(self, creator_email: &str) -> ApiResult<OpportunityDetails> {
        Ok(OpportunityDetails {
            name: required_text("name", &self.name, limits::NAME)?,
            client_name: optional_text("client_name", self.client_name, limits::NAME)?,
            region: optional_text("region", self.region, limits::NAME)?,
            brands: list("brands", self.brands)?,
            service_types: list("service_types", self.service_types)?,
            deadline: date("deadline", self.deadline)?,
            go_live: date("go_live", self.go_live)?,
            description: optional_text("description", self.description, limits::LONG_TEXT)?,
            model_type: match self.model_type.as_deref().map(str::trim) {
                None | Some("") => DEFAULT_MODEL_TYPE.to_string(),
                Some(m) => model_type(m)?,
            },
            owner_email: match self.owner_email {
                Some(e) => email("owner_email", &e)?,
                None => creator_email.to_lowercase(),
            },
        })
    }
}

pub struct ValidChanges {
    pub details: DetailsChanges,
    pub deal_status: Option<DealStatus>,
    pub lessons_learned: Option<Option<String>>,
}

impl OpportunityChanges {
    pub fn validate(self) -> ApiResult<ValidChanges> {
        let opt = |field: &str, v: Option<Option<String>>, max| -> ApiResult<Option<Option<String>>> {
            v.map(|inner| optional_text(field, inner, max)).transpose()
        };
        let day = |field: &str, v: Option<Option<NaiveDate>>| v.map(|d| date(field, d)).transpose();
        Ok(ValidChanges {
            details: DetailsChanges {
                name: self.name.as_deref().map(|n| required_text("name", n, limits::NAME)).transpose()?,
                client_name: opt("client_name", self.client_name, limits::NAME)?,
                region: opt("region", self.region, limits::NAME)?,
                brands: self.brands.map(|b| list("brands", b)).transpose()?,
                service_types: self.service_types.map(|s| list("service_types", s)).transpose()?,
                deadline: day("deadline", self.deadline)?,
                go_live: day("go_live", self.go_live)?,
                description: opt("description", self.description, limits::LONG_TEXT)?,
                model_type: self.model_type.as_deref().map(model_type).transpose()?,
                owner_email: self.owner_email.as_deref().map(|e| email("owner_email", e)).transpose()?,
            },
            deal_status: self.deal_status.as_deref().map(deal_status).transpose()?,
            lessons_learned: opt("lessons_learned", self.lessons_learned, limits::LONG_TEXT)?,
        })
    }
}
