//! The bodies that create and change an opportunity, and their validation into domain values.

use chrono::NaiveDate;
use domain::details::nullable;
use domain::details::DEFAULT_MODEL_TYPE;
use domain::{DealStatus, DetailsChanges, OpportunityDetails};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

#[derive(Deserialize, ToSchema)]
pub struct NewOpportunity {
    pub name: String,
    pub client_name: Option<String>,
    pub region: Option<String>,
    #[serde(default)]
    pub brands: Vec<String>,
    #[serde(default)]
    pub service_types: Vec<String>,
    /// ISO date (YYYY-MM-DD).
    pub deadline: Option<NaiveDate>,
    /// ISO date (YYYY-MM-DD).
    pub go_live: Option<NaiveDate>,
    pub description: Option<String>,
    pub model_type: Option<String>,
    /// Defaults to the creator.
    pub owner_email: Option<String>,
}

/// Absent fields stay as they are; `null` clears an optional field.
#[derive(Deserialize, ToSchema, Default)]
pub struct OpportunityChanges {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub client_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    pub brands: Option<Vec<String>>,
    pub service_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub go_live: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub model_type: Option<String>,
    pub owner_email: Option<String>,
    /// `active`, `won`, `lost` or `deprioritized`.
    pub deal_status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub lessons_learned: Option<Option<String>>,
}

/// Trimmed text that must not be empty nor longer than `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} must not be empty")));
    }
    if v.chars().count() > max {
        return Err(ApiError::invalid(field, format!("{field} must be at most {max} characters")));
    }
    Ok(v.to_string())
}

/// Like `required_text`, but absent or blank is `None`.
pub fn optional_text(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}

fn list(field: &str, values: Vec<String>) -> ApiResult<Vec<String>> {
    if values.len() > 100 {
        return Err(ApiError::invalid(field, format!("{field} takes at most 100 entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let v = required_text(&format!("{field}[{i}]"), v, 100)?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&v)) {
            out.push(v);
        }
    }
    Ok(out)
}

pub fn email(field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim();
    let valid = v.len() <= 254
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
    let v = required_text("model_type", value, 64)?;
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

pub const MAX_DESCRIPTION: usize = 20_000;

impl NewOpportunity {
    pub fn validate(self, creator_email: &str) -> ApiResult<OpportunityDetails> {
        Ok(OpportunityDetails {
            name: required_text("name", &self.name, 200)?,
            client_name: optional_text("client_name", self.client_name, 200)?,
            region: optional_text("region", self.region, 200)?,
            brands: list("brands", self.brands)?,
            service_types: list("service_types", self.service_types)?,
            deadline: self.deadline,
            go_live: self.go_live,
            description: optional_text("description", self.description, MAX_DESCRIPTION)?,
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
        Ok(ValidChanges {
            details: DetailsChanges {
                name: self.name.as_deref().map(|n| required_text("name", n, 200)).transpose()?,
                client_name: opt("client_name", self.client_name, 200)?,
                region: opt("region", self.region, 200)?,
                brands: self.brands.map(|b| list("brands", b)).transpose()?,
                service_types: self.service_types.map(|s| list("service_types", s)).transpose()?,
                deadline: self.deadline,
                go_live: self.go_live,
                description: opt("description", self.description, MAX_DESCRIPTION)?,
                model_type: self.model_type.as_deref().map(model_type).transpose()?,
                owner_email: self.owner_email.as_deref().map(|e| email("owner_email", e)).transpose()?,
            },
            deal_status: self.deal_status.as_deref().map(deal_status).transpose()?,
            lessons_learned: opt("lessons_learned", self.lessons_learned, MAX_DESCRIPTION)?,
        })
    }
}
