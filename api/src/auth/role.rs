//! The three roles, ordered by what they may do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, changes nothing (auditors).
    Viewer,
    /// Works opportunities through their stages.
    Editor,
    /// Also manages users and may decide any approval.
    Admin,
}

impl From<Role> for domain::commands::ActorRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Viewer => Self::Viewer,
            Role::Editor => Self::Editor,
            Role::Admin => Self::Admin,
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }
    /// The Entra ID app role (the token's `roles` claim) that grants this role.
    pub fn app_role(self) -> &'static str {
        match self {
            Self::Viewer => "OSOP.Viewer",
            Self::Editor => "OSOP.Editor",
            Self::Admin => "OSOP.Admin",
        }
    }

    /// The highest role the token's app roles grant (values compared case-insensitively; others
    /// ignored); None when it grants none of ours.
    pub fn from_app_roles<'a>(roles: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let grants = |r: &str| {
            [Self::Viewer, Self::Editor, Self::Admin]
                .into_iter()
                .find(|o| o.app_role().eq_ignore_ascii_case(r))
        };
        roles.into_iter().filter_map(grants).max()
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "viewer" => Some(Self::Viewer),
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}
