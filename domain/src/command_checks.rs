//! Every command's client-given values checked against [`crate::limits`] before anything is
//! decided, so no handler that forgets a check can record what a read model or export cannot hold.
//! The match is exhaustive: a new command has to say what it checks.

use crate::asset::{Asset, AssetChanges, CatalogMatch};
use crate::clarification::{ClarificationChange, NewClarification};
use crate::commands::OpportunityCommand as Cmd;
use crate::details::{DetailsChanges, OpportunityDetails};
use crate::efficiency::EfficiencyProfile;
use crate::file::FileMeta;
use crate::limits::{self as l, InputError};
use crate::qualification::{TrowlsScores, MAX_SCORE};

type Checked = Result<(), InputError>;

impl Cmd {
    /// The first value of the command that cannot be kept, if any.
    pub fn check_input(&self) -> Checked {
        match self {
            Cmd::CreateOpportunity { details, .. } => details.check(),
            Cmd::UpdateDetails { changes, .. } => changes.check(),
            Cmd::RecordFileUpload { file } => file.check(),
            Cmd::RequestApproval { approver_email, .. } => {
                l::required("approver_email", approver_email, l::EMAIL)
            }
            Cmd::DecideApproval { notes, .. } => l::optional("notes", notes.as_deref(), l::APPROVAL_NOTES),
            Cmd::SetDealStatus { lessons_learned, .. } => {
                l::optional("lessons_learned", lessons_learned.clone().flatten().as_deref(), l::LONG_TEXT)
            }
            Cmd::ScoreQualification { scores, notes, .. } => {
                scores.check()?;
                l::optional("notes", notes.as_deref(), l::NOTES)
            }
            Cmd::AddClarification { clarification, .. } => clarification.check(),
            Cmd::ChangeClarification { change, .. } => match change {
                ClarificationChange::Answer(a) => l::required("client_answer", a, l::LONG_TEXT),
                ClarificationChange::Dismiss(r) => {
                    l::optional("dismissal_reason", r.as_deref(), l::DISMISSAL_REASON)
                }
                ClarificationChange::Reopen => Ok(()),
            },
            Cmd::AddAsset { asset, .. } => asset.check(),
            Cmd::UpdateAsset { changes, .. } => changes.check(),
            Cmd::ProposeMatches { candidates, .. } => {
                candidates.iter().enumerate().try_for_each(|(i, c)| c.check(&format!("matches[{i}].")))
            }
            Cmd::ChooseCatalogEntry { candidate, .. } => candidate.check(""),
            Cmd::BuildRatecard { rates, currency, .. } => {
                for (role, rate) in rates {
                    l::rate(&format!("rates.{role}"), *rate)?;
                }
                currency.as_deref().map_or(Ok(()), |c| l::currency("currency", c))
            }
            Cmd::SetEfficiencyProfile { profile, .. } => profile.check(),
            // Issued by the system, not a client: agent outputs are checked when they are
            // recorded (see agent_output), a failure's reason is cleaned.
            Cmd::RequestAgentRun { .. } | Cmd::RecordAgentOutput { .. } | Cmd::RecordAgentFailure { .. } => {
                Ok(())
            }
            Cmd::ArchiveOpportunity { .. }
            | Cmd::RemoveFile { .. }
            | Cmd::CompleteStage { .. }
            | Cmd::RemoveAsset { .. }
            | Cmd::SelectMatch { .. }
            | Cmd::ClearMatchSelection { .. } => Ok(()),
        }
    }
}

impl OpportunityDetails {
    pub fn check(&self) -> Checked {
        l::required("name", &self.name, l::NAME)?;
        l::optional("client_name", self.client_name.as_deref(), l::NAME)?;
        l::optional("region", self.region.as_deref(), l::NAME)?;
        l::list("brands", &self.brands, l::LIST_ENTRIES, l::LABEL)?;
        l::list("service_types", &self.service_types, l::LIST_ENTRIES, l::LABEL)?;
        l::optional_date("deadline", self.deadline)?;
        l::optional_date("go_live", self.go_live)?;
        l::optional("description", self.description.as_deref(), l::LONG_TEXT)?;
        l::required("model_type", &self.model_type, l::MODEL_TYPE)?;
        l::required("owner_email", &self.owner_email, l::EMAIL)
    }
}

impl DetailsChanges {
    pub fn check(&self) -> Checked {
        let cleared = |v: &Option<Option<String>>| v.clone().flatten();
        if let Some(name) = &self.name {
            l::required("name", name, l::NAME)?;
        }
        l::optional("client_name", cleared(&self.client_name).as_deref(), l::NAME)?;
        l::optional("region", cleared(&self.region).as_deref(), l::NAME)?;
        if let Some(brands) = &self.brands {
            l::list("brands", brands, l::LIST_ENTRIES, l::LABEL)?;
        }
        if let Some(types) = &self.service_types {
            l::list("service_types", types, l::LIST_ENTRIES, l::LABEL)?;
        }
        l::optional_date("deadline", self.deadline.flatten())?;
        l::optional_date("go_live", self.go_live.flatten())?;
        l::optional("description", cleared(&self.description).as_deref(), l::LONG_TEXT)?;
        if let Some(model_type) = &self.model_type {
            l::required("model_type", model_type, l::MODEL_TYPE)?;
        }
        match &self.owner_email {
            Some(email) => l::required("owner_email", email, l::EMAIL),
            None => Ok(()),
        }
    }
}

impl FileMeta {
    pub fn check(&self) -> Checked {
        l::required("file", &self.filename, l::FILENAME)?;
        l::required("media_type", &self.media_type, l::LABEL)
    }
}

impl TrowlsScores {
    pub fn check(&self) -> Checked {
        Self::FIELDS.into_iter().zip(self.values()).try_for_each(|(f, v)| l::within(f, v, 0, MAX_SCORE))
    }
}

impl NewClarification {
    pub fn check(&self) -> Checked {
        l::required("category", &self.category, l::LABEL)?;
        l::required("question", &self.question, l::QUESTION)?;
        l::text("rationale", &self.rationale, l::RATIONALE)
    }
}

impl Asset {
    pub fn check(&self) -> Checked {
        l::required("raw_name", &self.raw_name, l::ASSET_NAME)?;
        l::optional("raw_description", self.raw_description.as_deref(), l::ASSET_DESCRIPTION)?;
        l::optional("client_tier", self.client_tier.as_deref(), l::CLIENT_TIER)?;
        l::volume("volume", self.volume)
    }
}

impl AssetChanges {
    pub fn check(&self) -> Checked {
        if let Some(name) = &self.raw_name {
            l::required("raw_name", name, l::ASSET_NAME)?;
        }
        let description = self.raw_description.clone().flatten();
        l::optional("raw_description", description.as_deref(), l::ASSET_DESCRIPTION)?;
        l::optional("client_tier", self.client_tier.clone().flatten().as_deref(), l::CLIENT_TIER)?;
        self.volume.map_or(Ok(()), |v| l::volume("volume", v))
    }
}

impl CatalogMatch {
    /// `prefix` locates the match in the request (e.g. "matches[0].").
    pub fn check(&self, prefix: &str) -> Checked {
        let field = |name: &str| format!("{prefix}{name}");
        l::required(&field("catalog_id"), &self.catalog_id, l::LABEL)?;
        l::required(&field("catalog_asset_name"), &self.catalog_asset_name, l::ASSET_NAME)?;
        l::within(&field("score"), self.score, 0.0, 1.0)?;
        l::text(&field("reasoning"), &self.reasoning, l::REASONING)?;
        l::text(&field("caveats"), &self.caveats, l::REASONING)
    }
}

impl EfficiencyProfile {
    pub fn check(&self) -> Checked {
        l::percent("blanket_pct", self.blanket_pct)?;
        for (discipline, pct) in &self.discipline_overrides {
            l::percent(&format!("discipline_overrides.{}", discipline.as_str()), *pct)?;
        }
        l::list("tools_applied", &self.tools_applied, l::TOOLS, l::LABEL)?;
        l::optional("notes", self.notes.as_deref(), l::NOTES)
    }
}
