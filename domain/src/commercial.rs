//! The commercial pipeline's rules on the Opportunity: qualification, clarifications, assets,
//! matches, rate card and efficiency (stages 3–11).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::asset::{CatalogMatch, MatchConfidence, AUTO_SELECT_SCORE, MAX_MATCHES_PER_ASSET};
use crate::clarification::{Clarification, ClarificationChange as Change, ClarificationStatus};
use crate::commands::OpportunityCommand as Cmd;
use crate::errors::OpportunityError as E;
use crate::events::OpportunityEvent as Ev;
use crate::opportunity::Opportunity;
use crate::qualification::{percentage, Recommendation, TrowlsScores};
use crate::ratecard::{build_lines, Ratecard};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    pub scores: TrowlsScores,
    pub total: u8,
    pub percentage: f64,
    pub recommendation: Recommendation,
    pub notes: Option<String>,
    pub scored_by: String,
    pub scored_at: DateTime<Utc>,
}

impl Opportunity {
    fn clarification(&self, id: Uuid) -> Result<&Clarification, E> {
        self.clarifications
            .iter()
            .find(|c| c.raised.clarification_id == id)
            .ok_or(E::ClarificationNotFound(id))
    }

    fn ensure_asset(&self, id: Uuid) -> Result<(), E> {
        self.assets.iter().any(|a| a.asset_id == id).then_some(()).ok_or(E::AssetNotFound(id))
    }

    pub fn selected_match(&self, asset_id: Uuid) -> Option<&CatalogMatch> {
        let match_id = self.selected.get(&asset_id)?;
        self.matches.iter().find(|m| m.match_id == *match_id)
    }

    pub(crate) fn decide_commercial(&self, command: Cmd) -> Result<Vec<Ev>, E> {
        Ok(match command {
            Cmd::ScoreQualification { scores, notes, actor, at } => {
                let total = scores.total();
                vec![Ev::QualificationScored {
                    scores,
                    total,
                    percentage: percentage(total),
                    recommendation: Recommendation::for_total(total),
                    notes,
                    scored_by: actor.email,
                    at,
                }]
            }
            Cmd::AddClarification { clarification, at } => vec![Ev::ClarificationAdded { clarification, at }],
            Cmd::ChangeClarification { clarification_id, change, at } => {
                let current = self.clarification(clarification_id)?;
                match change {
                    Change::Answer(answer)
                        if current.client_answer.as_ref() == Some(&answer)
                            && current.status == ClarificationStatus::Answered =>
                    {
                        vec![]
                    }
                    Change::Answer(answer) => {
                        vec![Ev::ClarificationAnswered { clarification_id, answer, at }]
                    }
                    Change::Dismiss(_) if current.status == ClarificationStatus::Dismissed => vec![],
                    Change::Dismiss(reason) => {
                        vec![Ev::ClarificationDismissed { clarification_id, reason, at }]
                    }
                    Change::Reopen if current.status == ClarificationStatus::Pending => vec![],
                    Change::Reopen => vec![Ev::ClarificationReopened { clarification_id, at }],
                }
            }
            Cmd::AddAsset { asset, at } => vec![Ev::AssetAdded { asset, at }],
            Cmd::UpdateAsset { asset_id, changes, at } => {
                self.ensure_asset(asset_id)?;
                vec![Ev::AssetUpdated { asset_id, changes, at }]
            }
            Cmd::RemoveAsset { asset_id, at } => {
                self.ensure_asset(asset_id)?;
                vec![Ev::AssetRemoved { asset_id, at }]
            }
            Cmd::ProposeMatches { asset_id, mut candidates, at } => {
                self.ensure_asset(asset_id)?;
                if candidates.len() > MAX_MATCHES_PER_ASSET {
                    return Err(E::TooManyMatches { max: MAX_MATCHES_PER_ASSET, got: candidates.len() });
                }
                candidates.sort_by_key(|c| c.rank);
                let auto = candidates.first().filter(|c| c.score >= AUTO_SELECT_SCORE).map(|c| c.match_id);
                let mut events = vec![Ev::MatchesProposed { asset_id, matches: candidates, at }];
                if let Some(match_id) = auto {
                    events.push(Ev::MatchSelected { asset_id, match_id, at });
                }
                events
            }
            Cmd::ChooseCatalogEntry { mut candidate, at } => {
                self.ensure_asset(candidate.asset_id)?;
                candidate.confidence = MatchConfidence::Manual;
                let asset_id = candidate.asset_id;
                let mut kept: Vec<CatalogMatch> = self
                    .matches
                    .iter()
                    .filter(|m| m.asset_id == asset_id && m.catalog_id != candidate.catalog_id)
                    .take(MAX_MATCHES_PER_ASSET - 1)
                    .cloned()
                    .collect();
                candidate.rank = 1;
                let match_id = candidate.match_id;
                kept.insert(0, candidate);
                // The hand-picked entry ranks first; the others follow in their earlier order.
                for (i, m) in kept.iter_mut().enumerate() {
                    m.rank = i as u8 + 1;
                }
                vec![
                    Ev::MatchesProposed { asset_id, matches: kept, at },
                    Ev::MatchSelected { asset_id, match_id, at },
                ]
            }
            Cmd::SelectMatch { match_id, at } => {
                let m =
                    self.matches.iter().find(|m| m.match_id == match_id).ok_or(E::MatchNotFound(match_id))?;
                if self.selected.get(&m.asset_id) == Some(&match_id) {
                    return Ok(vec![]);
                }
                vec![Ev::MatchSelected { asset_id: m.asset_id, match_id, at }]
            }
            Cmd::ClearMatchSelection { asset_id, at } => {
                self.ensure_asset(asset_id)?;
                if !self.selected.contains_key(&asset_id) {
                    return Ok(vec![]);
                }
                vec![Ev::MatchSelectionCleared { asset_id, at }]
            }
            Cmd::BuildRatecard { catalog_version, entries, rates, currency, at } => {
                let selected: BTreeMap<Uuid, CatalogMatch> = self
                    .assets
                    .iter()
                    .filter_map(|a| self.selected_match(a.asset_id).map(|m| (a.asset_id, m.clone())))
                    .collect();
                let lines = build_lines(&self.assets, &selected, &entries, &self.details.model_type, &rates)?;
                let ratecard = Ratecard {
                    catalog_version,
                    model_type: self.details.model_type.clone(),
                    currency,
                    lines,
                };
                vec![Ev::RatecardBuilt { ratecard, at }]
            }
            Cmd::SetEfficiencyProfile { profile, at } => vec![Ev::EfficiencyProfileSet { profile, at }],
            other => unreachable!("not a commercial command: {other:?}"),
        })
    }

    pub(crate) fn apply_commercial(&mut self, event: Ev) {
        match event {
            Ev::QualificationScored { scores, total, percentage, recommendation, notes, scored_by, at } => {
                self.qualification = Some(Qualification {
                    scores,
                    total,
                    percentage,
                    recommendation,
                    notes,
                    scored_by,
                    scored_at: at,
                });
            }
            Ev::ClarificationAdded { clarification, at } => self.clarifications.push(Clarification {
                raised: clarification,
                status: ClarificationStatus::Pending,
                client_answer: None,
                answered_at: None,
                dismissal_reason: None,
                created_at: at,
            }),
            Ev::ClarificationAnswered { clarification_id, answer, at } => {
                if let Some(c) = self.clarification_mut(clarification_id) {
                    c.status = ClarificationStatus::Answered;
                    c.client_answer = Some(answer);
                    c.answered_at = Some(at);
                }
            }
            Ev::ClarificationDismissed { clarification_id, reason, .. } => {
                if let Some(c) = self.clarification_mut(clarification_id) {
                    c.status = ClarificationStatus::Dismissed;
                    c.dismissal_reason = reason;
                }
            }
            Ev::ClarificationReopened { clarification_id, .. } => {
                if let Some(c) = self.clarification_mut(clarification_id) {
                    c.status = ClarificationStatus::Pending;
                    c.answered_at = None;
                    c.dismissal_reason = None;
                }
            }
            Ev::AssetAdded { asset, .. } => {
                self.assets.push(asset);
                self.ratecard_stale = self.ratecard.is_some();
            }
            Ev::AssetUpdated { asset_id, changes, .. } => {
                if let Some(a) = self.assets.iter_mut().find(|a| a.asset_id == asset_id) {
                    changes.apply_to(a);
                }
                self.ratecard_stale = self.ratecard.is_some();
            }
            Ev::AssetRemoved { asset_id, .. } => {
                self.assets.retain(|a| a.asset_id != asset_id);
                self.matches.retain(|m| m.asset_id != asset_id);
                self.selected.remove(&asset_id);
                if let Some(r) = &mut self.ratecard {
                    r.lines.retain(|l| l.asset_id != asset_id);
                }
            }
            Ev::MatchesProposed { asset_id, matches, .. } => {
                self.matches.retain(|m| m.asset_id != asset_id);
                self.matches.extend(matches);
                self.selected.remove(&asset_id);
                self.ratecard_stale = self.ratecard.is_some();
            }
            Ev::MatchSelected { asset_id, match_id, .. } => {
                self.selected.insert(asset_id, match_id);
                self.ratecard_stale = self.ratecard.is_some();
            }
            Ev::MatchSelectionCleared { asset_id, .. } => {
                self.selected.remove(&asset_id);
                self.ratecard_stale = self.ratecard.is_some();
            }
            Ev::RatecardBuilt { ratecard, .. } => {
                self.ratecard = Some(ratecard);
                self.ratecard_stale = false;
            }
            Ev::EfficiencyProfileSet { profile, .. } => self.efficiency = Some(profile),
            Ev::IntakeApplied { changes, .. } => changes.apply_to(&mut self.details),
            Ev::ClarificationsReplaced { removed, added, at, .. } => {
                self.clarifications.retain(|c| !removed.contains(&c.raised.clarification_id));
                for clarification in added {
                    self.apply_commercial(Ev::ClarificationAdded { clarification, at });
                }
            }
            Ev::AssetsNormalized { removed, added, at, .. } => {
                for asset_id in removed {
                    self.apply_commercial(Ev::AssetRemoved { asset_id, at });
                }
                for asset in added {
                    self.apply_commercial(Ev::AssetAdded { asset, at });
                }
            }
            _ => {}
        }
    }

    fn clarification_mut(&mut self, id: Uuid) -> Option<&mut Clarification> {
        self.clarifications.iter_mut().find(|c| c.raised.clarification_id == id)
    }
}
