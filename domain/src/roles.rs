//! The delivery roles hours are scoped against, the discipline each belongs to, and where it sits.

use serde::{Deserialize, Serialize};

/// Serialised as it is displayed ("Creative"), the spelling the API also accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Discipline {
    Creative,
    Motion,
    Production,
    Technology,
    Account,
    /// Leadership of the whole programme: never reduced by efficiency.
    Programme,
}

impl Discipline {
    pub const ALL: [Discipline; 6] =
        [Self::Creative, Self::Motion, Self::Production, Self::Technology, Self::Account, Self::Programme];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creative => "Creative",
            Self::Motion => "Motion",
            Self::Production => "Production",
            Self::Technology => "Technology",
            Self::Account => "Account",
            Self::Programme => "Programme",
        }
    }
    /// Case-insensitive, as people type discipline names in override sliders.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Where a role is staffed from; it matters for team shape and pricing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoleLocation {
    #[default]
    Onshore,
    Nearshore,
    Offshore,
}

impl RoleLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onshore => "onshore",
            Self::Nearshore => "nearshore",
            Self::Offshore => "offshore",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "onshore" | "on" | "local" => Some(Self::Onshore),
            "nearshore" | "near" => Some(Self::Nearshore),
            "offshore" | "off" => Some(Self::Offshore),
            _ => None,
        }
    }
}

/// Every role the catalog may name, with its discipline.
pub const ROLES: [(&str, Discipline); 22] = [
    ("Creative Director", Discipline::Creative),
    ("Art Director", Discipline::Creative),
    ("Designer", Discipline::Creative),
    ("Senior Designer", Discipline::Creative),
    ("Copywriter", Discipline::Creative),
    ("Illustrator", Discipline::Creative),
    ("Motion Designer", Discipline::Motion),
    ("Animator", Discipline::Motion),
    ("Video Editor", Discipline::Motion),
    ("Retoucher", Discipline::Production),
    ("Artworker", Discipline::Production),
    ("Producer", Discipline::Production),
    ("Photographer", Discipline::Production),
    ("Localisation Specialist", Discipline::Production),
    ("Developer", Discipline::Technology),
    ("QA Analyst", Discipline::Technology),
    ("Account Manager", Discipline::Account),
    ("Account Director", Discipline::Account),
    ("Project Manager", Discipline::Account),
    ("Programme Director", Discipline::Programme),
    ("Head of Project Management", Discipline::Programme),
    ("Programme Manager", Discipline::Programme),
];

/// The canonical name and discipline of a role, matched case-insensitively.
pub fn role(name: &str) -> Option<(&'static str, Discipline)> {
    let name = name.trim();
    ROLES.iter().find(|(r, _)| r.eq_ignore_ascii_case(name)).copied()
}
