//! The descriptive fields of an opportunity and the partial changes that can be made to them.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

/// Model type used when none is given: selects which catalog hours apply.
pub const DEFAULT_MODEL_TYPE: &str = "standard";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpportunityDetails {
    pub name: String,
    pub client_name: Option<String>,
    pub region: Option<String>,
    pub brands: Vec<String>,
    pub service_types: Vec<String>,
    pub deadline: Option<NaiveDate>,
    pub go_live: Option<NaiveDate>,
    pub description: Option<String>,
    pub model_type: String,
    pub owner_email: String,
}

impl Default for OpportunityDetails {
    fn default() -> Self {
        Self {
            name: String::new(),
            client_name: None,
            region: None,
            brands: Vec::new(),
            service_types: Vec::new(),
            deadline: None,
            go_live: None,
            description: None,
            model_type: DEFAULT_MODEL_TYPE.to_string(),
            owner_email: String::new(),
        }
    }
}

/// A partial update. `None` leaves a field alone; `Some(None)` clears an optional field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DetailsChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub client_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub region: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brands: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub deadline: Option<Option<NaiveDate>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub go_live: Option<Option<NaiveDate>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_email: Option<String>,
}

/// Reads a present `null` as `Some(None)` ("cleared"), which plain serde would read as "absent".
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl DetailsChanges {
    /// Drops every change that would leave the field as it already is, so events record facts.
    pub fn effective_against(self, current: &OpportunityDetails) -> Self {
        fn keep<T: PartialEq>(new: Option<T>, old: &T) -> Option<T> {
            new.filter(|v| v != old)
        }
        Self {
            name: keep(self.name, &current.name),
            client_name: keep(self.client_name, &current.client_name),
            region: keep(self.region, &current.region),
            brands: keep(self.brands, &current.brands),
            service_types: keep(self.service_types, &current.service_types),
            deadline: keep(self.deadline, &current.deadline),
            go_live: keep(self.go_live, &current.go_live),
            description: keep(self.description, &current.description),
            model_type: keep(self.model_type, &current.model_type),
            owner_email: keep(self.owner_email, &current.owner_email),
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    pub fn apply_to(self, d: &mut OpportunityDetails) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { d.$f = v; } )* };
        }
        set!(
            name,
            client_name,
            region,
            brands,
            service_types,
            deadline,
            go_live,
            description,
            model_type,
            owner_email
        );
    }
}
