//! What the agents' outputs change on the opportunity (the seed's side effects), decided when an
//! output is recorded. Ids of what an output creates derive from the run id, so a replay or a
//! redelivery always yields the same ids.

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::agent_run::Agent;
use crate::asset::{Asset, CatalogMatch, MatchConfidence, AUTO_SELECT_SCORE, MAX_MATCHES_PER_ASSET};
use crate::clarification::{NewClarification, Priority};
use crate::details::DetailsChanges;
use crate::errors::OpportunityError as E;
use crate::events::OpportunityEvent as Ev;
use crate::limits::{self as l, clean};
use crate::opportunity::Opportunity;

/// The stage whose clarifications diagnosis replaces.
pub const DIAGNOSIS_STAGE: u8 = 2;

#[derive(Deserialize)]
struct IntakeOut {
    client_name: Option<String>,
    region: Option<String>,
    #[serde(default)]
    brands: Vec<String>,
    #[serde(default)]
    service_types: Vec<String>,
    deadline_iso: Option<NaiveDate>,
    go_live_iso: Option<NaiveDate>,
    summary: Option<String>,
}

#[derive(Deserialize)]
struct ClarificationOut {
    category: String,
    question: String,
    #[serde(default)]
    rationale: String,
    priority: String,
}

#[derive(Deserialize)]
struct DiagnosisOut {
    clarifications: Vec<ClarificationOut>,
}

#[derive(Deserialize)]
struct AssetOut {
    raw_name: String,
    #[serde(default)]
    raw_description: Option<String>,
    #[serde(default)]
    client_tier: Option<String>,
    volume: u32,
}

#[derive(Deserialize)]
struct NormalizerOut {
    assets: Vec<AssetOut>,
}

#[derive(Deserialize)]
struct CandidateOut {
    gmal_id: String,
    #[serde(default)]
    catalog_asset_name: Option<String>,
    confidence: MatchConfidence,
    confidence_score: f64,
    #[serde(default)]
    reasoning: String,
    #[serde(default)]
    caveats: String,
}

#[derive(Deserialize)]
struct AssetMatchesOut {
    asset_id: Uuid,
    matches: Vec<CandidateOut>,
}

#[derive(Deserialize)]
struct MatcherOut {
    assets: Vec<AssetMatchesOut>,
}

fn parse<T: for<'de> Deserialize<'de>>(agent: Agent, output: &serde_json::Value) -> Result<T, E> {
    serde_json::from_value(output.clone()).map_err(|e| E::MalformedOutput(format!("{}: {e}", agent.tool())))
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// An agent's text as the read models and exports can hold it (see `limits::clean`).
fn fit(s: Option<String>, max: usize) -> Option<String> {
    s.map(|v| clean(&v, max)).filter(|v| !v.trim().is_empty())
}

fn fit_list(values: Vec<String>) -> Vec<String> {
    values.into_iter().filter_map(|v| fit(Some(v), l::LABEL)).take(l::LIST_ENTRIES).collect()
}

/// A date the read models can hold; an agent's date outside the years they take is not filled.
fn fit_date(d: Option<NaiveDate>) -> Option<NaiveDate> {
    d.filter(|d| l::date("date", *d).is_ok())
}

fn derived_id(run_id: Uuid, what: &str, n: usize) -> Uuid {
    Uuid::new_v5(&run_id, format!("{what}/{n}").as_bytes())
}

impl Opportunity {
    /// The events an agent's output implies beyond the artifact itself.
    pub(crate) fn output_effects(
        &self,
        agent: Agent,
        run_id: Uuid,
        output: &serde_json::Value,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Ev>, E> {
        Ok(match agent {
            Agent::Intake => {
                let mut o: IntakeOut = parse(agent, output)?;
                o.client_name = fit(o.client_name, l::NAME);
                o.region = fit(o.region, l::NAME);
                o.brands = fit_list(o.brands);
                o.service_types = fit_list(o.service_types);
                o.deadline_iso = fit_date(o.deadline_iso);
                o.go_live_iso = fit_date(o.go_live_iso);
                o.summary = fit(o.summary, l::LONG_TEXT);
                let d = &self.details;
                let changes = DetailsChanges {
                    client_name: (blank(&d.client_name) && !blank(&o.client_name))
                        .then(|| o.client_name.clone()),
                    region: (blank(&d.region) && !blank(&o.region)).then(|| o.region.clone()),
                    brands: (d.brands.is_empty() && !o.brands.is_empty()).then(|| o.brands.clone()),
                    service_types: (d.service_types.is_empty() && !o.service_types.is_empty())
                        .then(|| o.service_types.clone()),
                    deadline: (d.deadline.is_none() && o.deadline_iso.is_some()).then_some(o.deadline_iso),
                    go_live: (d.go_live.is_none() && o.go_live_iso.is_some()).then_some(o.go_live_iso),
                    description: (blank(&d.description) && !blank(&o.summary)).then(|| o.summary.clone()),
                    ..Default::default()
                };
                if changes.is_empty() {
                    vec![]
                } else {
                    vec![Ev::IntakeApplied { run_id, changes, at }]
                }
            }
            Agent::Diagnosis => {
                let o: DiagnosisOut = parse(agent, output)?;
                let mut added = Vec::with_capacity(o.clarifications.len());
                for (n, c) in o.clarifications.into_iter().enumerate() {
                    let priority = Priority::parse(&c.priority).ok_or_else(|| {
                        E::MalformedOutput(format!("clarifications[{n}].priority: {:?}", c.priority))
                    })?;
                    added.push(NewClarification {
                        clarification_id: derived_id(run_id, "clarification", n),
                        category: clean(&c.category, l::LABEL),
                        question: clean(&c.question, l::QUESTION),
                        rationale: clean(&c.rationale, l::RATIONALE),
                        priority,
                        source_stage: DIAGNOSIS_STAGE,
                    });
                }
                let removed = self
                    .clarifications
                    .iter()
                    .filter(|c| c.raised.source_stage == DIAGNOSIS_STAGE)
                    .map(|c| c.raised.clarification_id)
                    .collect();
                vec![Ev::ClarificationsReplaced { run_id, removed, added, at }]
            }
            Agent::AssetNormalizer => {
                let o: NormalizerOut = parse(agent, output)?;
                let added = o
                    .assets
                    .into_iter()
                    .enumerate()
                    .map(|(n, a)| Asset {
                        asset_id: derived_id(run_id, "asset", n),
                        raw_name: clean(&a.raw_name, l::ASSET_NAME),
                        raw_description: fit(a.raw_description, l::ASSET_DESCRIPTION),
                        client_tier: fit(a.client_tier, l::CLIENT_TIER),
                        volume: a.volume.clamp(l::MIN_VOLUME, l::MAX_VOLUME),
                    })
                    .collect();
                let removed = self.assets.iter().map(|a| a.asset_id).collect();
                vec![Ev::AssetsNormalized { run_id, removed, added, at }]
            }
            Agent::Matcher => {
                let o: MatcherOut = parse(agent, output)?;
                let mut events = Vec::new();
                for (i, a) in o.assets.into_iter().enumerate() {
                    if !self.assets.iter().any(|x| x.asset_id == a.asset_id) {
                        continue; // the asset was removed since the run started
                    }
                    let mut matches: Vec<CatalogMatch> = a
                        .matches
                        .into_iter()
                        .take(MAX_MATCHES_PER_ASSET)
                        .enumerate()
                        .map(|(r, c)| CatalogMatch {
                            match_id: derived_id(run_id, &format!("match/{i}"), r),
                            asset_id: a.asset_id,
                            catalog_asset_name: clean(
                                &c.catalog_asset_name.unwrap_or_else(|| c.gmal_id.clone()),
                                l::ASSET_NAME,
                            ),
                            catalog_id: clean(&c.gmal_id, l::LABEL),
                            confidence: c.confidence,
                            score: c.confidence_score.clamp(0.0, 1.0),
                            rank: r as u8 + 1,
                            reasoning: clean(&c.reasoning, l::REASONING),
                            caveats: clean(&c.caveats, l::REASONING),
                        })
                        .collect();
                    matches.sort_by_key(|m| m.rank);
                    let auto = matches.first().filter(|m| m.score >= AUTO_SELECT_SCORE).map(|m| m.match_id);
                    events.push(Ev::MatchesProposed { asset_id: a.asset_id, matches, at });
                    if let Some(match_id) = auto {
                        events.push(Ev::MatchSelected { asset_id: a.asset_id, match_id, at });
                    }
                }
                events
            }
            _ => vec![],
        })
    }
}
