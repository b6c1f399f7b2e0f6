//! The catalog of hour routes ("GMAL"): deliverable types with hours per role for each model type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::roles::RoleLocation;

/// Hours one role spends on ONE asset of an entry, under one model type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleHours {
    /// Canonical role name (see `roles::ROLES`).
    pub role: String,
    pub location: RoleLocation,
    pub hours: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// Stable id, e.g. "GMAL-DISP-003".
    pub catalog_id: String,
    pub category: String,
    pub sub_category: String,
    pub sub_category_description: Option<String>,
    pub asset_name: String,
    /// e.g. Simple, Medium, Complex.
    pub complexity: String,
    pub asset_description: String,
    pub complexity_description: Option<String>,
    pub agency_caveats: Option<String>,
    /// Hours per role, keyed by model type (e.g. "standard", "hybrid").
    pub hours: BTreeMap<String, Vec<RoleHours>>,
}

impl CatalogEntry {
    /// Total hours of one asset under a model type; `None` when the entry has no hours for it.
    pub fn total_hours(&self, model_type: &str) -> Option<f64> {
        self.hours.get(model_type).map(|roles| roles.iter().map(|r| r.hours).sum())
    }
}
