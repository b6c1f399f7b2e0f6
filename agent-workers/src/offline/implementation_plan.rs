//! Stage 16 offline (the implementation plan agent, tool `submit_implementation_plan`): turns a won
//! proposal into a rollout plan the delivery team can run from day one.
//!
//! Dates hang off two anchors: go-live (the opportunity's `go_live`, else the intake artifact's, else
//! the brief's first go-live date) and the contract start in the brief (else go-live minus twelve
//! weeks). Markets roll out in three waves: the lead market (the brief's "lead market", else the
//! first named) at go-live, fast followers six weeks later, the long tail at twelve weeks
//! (right-to-left markets at sixteen). With no go-live known the plan is in plan weeks instead.
//! Phases: mobilise, foundations, lead-market go-live, fast followers, long tail, optimise (3–6,
//! fewer when there are fewer markets). Owners are real role names.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::capability_gaps::{capability_gaps, CapabilityGapsOutput, Criticality};
use super::delivery_model::{
    delivery_model, diagnosis_of, recorded_or, Approach, DeliveryModelOutput, Headline, Scope,
};
use super::markets::{place, rtl, waves};
use super::support_docs::{support_docs, SupportDocsOutput};
use super::text::{self, Milestone};
use crate::provider::AgentInputs;

/// One phase of the rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// E.g. "Mobilise".
    pub name: String,
    /// Plan weeks, with dates when go-live is known.
    pub timeframe: String,
    /// What the phase must achieve.
    pub objectives: Vec<String>,
    /// Checkable events that close it.
    pub milestones: Vec<String>,
    /// The accountable role.
    pub owner: String,
}

/// When one market goes live and what it waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketRollout {
    /// The market's name.
    pub market: String,
    /// An ISO date, or a plan week when no go-live date is known.
    pub go_live: String,
    /// What must be true first.
    pub dependencies: Vec<String>,
}

/// A metric watched while the plan runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightMetric {
    /// What is measured.
    pub metric: String,
    /// The level to hold.
    pub target: String,
    /// How often it is reviewed.
    pub review_cadence: String,
}

/// The implementation plan agent's output, with the seed's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImplementationPlanOutput {
    /// The plan in a few sentences.
    pub summary: String,
    /// Three to six phases.
    pub phases: Vec<Phase>,
    /// Every market of the brief, lead market first.
    pub market_rollout: Vec<MarketRollout>,
    /// Client-side enablement.
    pub training_and_adoption: Vec<String>,
    /// Legal, brand, access, tool, data and rights steps.
    pub compliance_and_policy: Vec<String>,
    /// KPIs from the support docs plus operational metrics.
    pub in_flight_metrics: Vec<InFlightMetric>,
    /// What could derail the plan.
    pub risks: Vec<String>,
}

/// Plan days from mobilisation: the start day and, when known, its date.
struct Clock {
    start: Option<NaiveDate>,
    go_live: i64,
}

impl Clock {
    /// Go-live from the opportunity, else the intake artifact, else the brief; mobilisation from the
    /// brief's contract start when it leaves at least six weeks, else twelve weeks before go-live.
    fn of(inputs: &AgentInputs) -> Self {
        let milestones = text::milestone_dates(&inputs.documents);
        let date = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| s.parse::<NaiveDate>().ok());
        let recorded = inputs.artifacts.get("intake").and_then(|i| i.get("go_live_iso"));
        let written =
            |k: Milestone| milestones.iter().filter(move |m| m.milestone == k).map(|m| m.mention.date);
        let go_live =
            date(inputs.opportunity.get("go_live")).or(date(recorded)).or(written(Milestone::GoLive).next());
        match (go_live, written(Milestone::ContractStart).min()) {
            (Some(g), Some(s)) if (g - s).num_days() >= 42 => {
                Clock { start: Some(s), go_live: (g - s).num_days() }
            }
            (Some(g), _) => Clock { start: Some(g - Duration::weeks(12)), go_live: 84 },
            (None, _) => Clock { start: None, go_live: 84 },
        }
    }

    fn day(&self, day: i64) -> String {
        self.start.map_or(format!("plan week {}", day / 7 + 1), |s| (s + Duration::days(day)).to_string())
    }

    fn span(&self, from: i64, to: i64) -> String {
        let weeks = format!("Weeks {}–{}", from / 7 + 1, to / 7 + 1);
        self.start.map_or(weeks.clone(), |_| format!("{weeks} ({} to {})", self.day(from), self.day(to)))
    }
}

/// `text` when `cond`, else "".
fn when(cond: bool, text: impl FnOnce() -> String) -> String {
    cond.then(text).unwrap_or_default()
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn phase(name: &str, timeframe: String, objectives: Vec<String>, done: Vec<String>, owner: &str) -> Phase {
    Phase { name: name.into(), timeframe, objectives, milestones: done, owner: owner.into() }
}

/// What the plan is built from.
struct Plan {
    clock: Clock,
    lead: String,
    fast: Vec<String>,
    tail: Vec<String>,
    /// Red capability gaps, to close while mobilising.
    red: Vec<String>,
    dam: String,
    ai: bool,
}

impl Plan {
    fn last_day(&self) -> i64 {
        self.clock.go_live + if self.tail.iter().any(|m| rtl(m)) { 112 } else { 84 }
    }

    fn phases(&self) -> Vec<Phase> {
        let (c, g, lead) = (&self.clock, self.clock.go_live, &self.lead);
        let mut mobilise =
            vec!["Kick-off workshop in week 1".to_string(), format!("{} access by week 2", self.dam)];
        mobilise.extend(self.red.iter().map(|r| format!("Partner contracted: {r}")));
        let mut out = vec![
            phase("Mobilise", c.span(0, 27), lines(MOBILISE), mobilise, "Programme Director"),
            phase(
                "Foundations",
                c.span(14, (g - 22).max(28)),
                lines(FOUNDATIONS),
                lines(FOUNDED),
                "Delivery Lead",
            ),
            phase(
                &format!("Lead-market go-live ({lead})"),
                c.span((g - 21).max(28), g),
                lines(LAUNCH),
                vec![
                    format!("Go-live in {lead} on {}", c.day(g)),
                    "Two weeks of hypercare, daily stand-up".into(),
                ],
                "Account Lead",
            ),
        ];
        if !self.fast.is_empty() {
            let named = text::join_list(&self.fast.iter().map(|m| place(m)).collect::<Vec<_>>());
            let objectives = vec![
                format!("Adapt approved masters for {named}"),
                "Name a local approver per market".into(),
            ];
            let done = vec![
                format!("Go-live in {named} on {}", c.day(g + 42)),
                "On-time at target four weeks running".into(),
            ];
            out.push(phase("Fast followers", c.span(g + 1, g + 42), objectives, done, "Delivery Lead"));
        }
        if !self.tail.is_empty() {
            let objectives = vec![
                format!("Roll out to {}", text::join_list(&self.tail)),
                "Bring language partners to SLA".into(),
            ];
            let done = vec![
                format!("Last market live by {}", c.day(self.last_day())),
                "All markets in one KPI dashboard".into(),
            ];
            out.push(phase("Long tail", c.span(g + 43, self.last_day()), objectives, done, "Delivery Lead"));
        }
        let from = if self.tail.is_empty() { g + 43 } else { self.last_day() + 1 };
        let when = format!("From week {} ({}), reviewed quarterly", from / 7 + 1, c.day(from));
        let first = if self.ai {
            "Phase in AI-supported efficiency as tools clear review"
        } else {
            "Cut cycle time through reuse"
        };
        let objectives =
            vec![first.to_string(), "Quarterly business review of volumes, rate card and KPIs".into()];
        out.push(phase("Optimise and scale", when, objectives, lines(OPTIMISED), "Programme Director"));
        out
    }

    fn rollout(&self, markets: &[String]) -> Vec<MarketRollout> {
        let g = self.clock.go_live;
        let mut out: Vec<(i64, MarketRollout)> = markets
            .iter()
            .map(|m| {
                let (day, first) = if *m == self.lead_market() {
                    (g, format!("Master templates approved; {} access", self.dam))
                } else if self.fast.contains(m) {
                    (g + 42, text::capitalise(&format!("{} live and stable", self.lead)))
                } else {
                    (g + if rtl(m) { 112 } else { 84 }, "Fast followers live".to_string())
                };
                let approver =
                    if day == g { "Single point of contact named" } else { "Local approver named" };
                let mut deps = vec![first, approver.to_string()];
                if markets.len() >= 2 {
                    deps.push("Glossary and tone of voice agreed for its language".into());
                }
                if rtl(m) {
                    deps.push("Right-to-left templates built and checked by a native reader".into());
                }
                let lang = text::MARKETS.iter().find(|x| x.name == m).and_then(|x| x.languages.first());
                let partner = |l: &&&str| self.red.iter().any(|r| r.starts_with("Local") && r.contains(**l));
                if let Some(lang) = lang.filter(partner) {
                    deps.push(format!("Native {lang} translator in place (long-tail localisation partner)"));
                }
                (day, MarketRollout { market: m.clone(), go_live: self.clock.day(day), dependencies: deps })
            })
            .collect();
        out.sort_by_key(|(day, _)| *day);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// The lead market's name as the diagnosis lists it (`lead` may carry an article).
    fn lead_market(&self) -> String {
        self.lead.trim_start_matches("the ").to_string()
    }
}

const MOBILISE: &[&str] = &[
    "Stand up the core team and the central studio",
    "Agree briefing standards, SLAs and governance",
    "Open tool access and start security reviews",
];
const FOUNDATIONS: &[&str] = &[
    "Build master templates and brand toolkits",
    "Agree glossaries and tone of voice per language",
    "Switch on SLA and KPI reporting",
];
const FOUNDED: &[&str] =
    &["Template library approved by the client", "Glossaries signed off", "Dry run of one brief end to end"];
const LAUNCH: &[&str] =
    &["Run live briefs end to end in the lead market", "Prove the SLAs before adding markets"];
const OPTIMISED: &[&str] = &["First quarterly business review held", "Efficiency and rate card re-baselined"];
const COMPLIANCE: &[&str] = &[
    "Legal sign-off of the contract, statement of work and rate card",
    "Tool policy approval: each tool through the client's IT security review, no training on client assets",
    "Data handling agreed: personal data in CRM work processed under a data processing agreement",
];
/// Operational metrics every plan tracks: metric, default target, review cadence.
const OPERATIONAL: [(&str, &str, &str); 4] = [
    ("On-time delivery", "≥ 95% of jobs", "Weekly during rollout, then monthly"),
    ("First-time-right rate", "≥ 80% of jobs", "Weekly during rollout, then monthly"),
    ("Brief-to-final cycle time", "", "Weekly"),
    ("Jobs within SLA", "≥ 90% of jobs", "Weekly during rollout, then monthly"),
];

/// Plans the rollout from the diagnosis, delivery model, capability gaps and support docs (each the
/// upstream artifact when present, else derived with the offline rules). Never fails.
pub fn implementation_plan(inputs: &AgentInputs) -> ImplementationPlanOutput {
    let d = diagnosis_of(inputs);
    let model: DeliveryModelOutput = recorded_or(inputs, "delivery_model", delivery_model);
    let gaps: CapabilityGapsOutput = recorded_or(inputs, "capability_gaps", capability_gaps);
    let docs: SupportDocsOutput = recorded_or(inputs, "support_docs", support_docs);
    let scope = Scope::of(&d);
    let (lead, fast, tail) = waves(&inputs.documents, &d.markets);
    let red = gaps.gaps.iter().filter(|x| x.criticality == Criticality::Red).map(|x| x.capability.clone());
    let plan = Plan {
        clock: Clock::of(inputs),
        lead: lead.as_deref().map_or_else(|| "the lead market".into(), place),
        fast,
        tail,
        red: red.collect(),
        dam: scope.dam.clone().map_or_else(|| "Asset library".into(), |d| format!("{d} contributor")),
        ai: model.headline != Headline::Traditional,
    };
    let (phases, market_rollout) = (plan.phases(), plan.rollout(&d.markets));

    let mut training = vec![
        "Briefing standards workshop for brand and market teams: brief template, inputs, feedback".into(),
        format!("{} training: where masters live, naming and metadata, asking for adaptations", plan.dam),
        "Tool access for client reviewers: proofing and approval workflow, SLA and KPI dashboard".into(),
    ];
    if plan.ai {
        let tooled = model.workflow_stages.iter().filter(|w| w.approach != Approach::Manual);
        let tools = text::unique(tooled.flat_map(|w| w.tooling.clone())).join(", ");
        training.push(format!("AI tooling onboarding ({tools}) for studio and reviewers, once cleared"));
    }
    if d.markets.len() >= 2 {
        let n = d.markets.len();
        training.push(format!("Onboarding for the {n} markets' approvers: what to review, how fast, where"));
    }
    let mut compliance = lines(COMPLIANCE);
    let reach = when(!d.markets.is_empty(), || format!(" in all {} markets", d.markets.len()));
    compliance.insert(1, format!("Brand guideline rollout to every team and partner{reach}"));
    compliance.insert(2, format!("{} access granted under the client's access policy", plan.dam));
    if scope.has("photograph|shoot|film|video") {
        compliance.push("IP and talent rights per shoot: usage by market, channel and term, cleared".into());
    }

    let cadence = |metric: &str| if metric.contains("Cost") { "Quarterly" } else { "Monthly" };
    let metric = |metric: &str, target: String, review_cadence: &str| InFlightMetric {
        metric: metric.into(),
        target,
        review_cadence: review_cadence.into(),
    };
    let mut metrics: Vec<InFlightMetric> =
        docs.kpis.iter().map(|k| metric(&k.metric, k.target.clone(), cadence(&k.metric))).collect();
    let cycle = docs.slas.first().map(|s| (s.v1_days + s.v2_days + s.v3_days, &s.deliverable));
    let cycle =
        cycle.map_or("Within the SLA table".into(), |(n, what)| format!("≤ {n} working days: {what}"));
    for (name, target, review) in OPERATIONAL {
        let target = if target.is_empty() { cycle.clone() } else { target.to_string() };
        match metrics.iter_mut().find(|m| m.metric == name) {
            Some(m) => m.review_cadence = review.into(),
            None => metrics.push(metric(name, target, review)),
        }
    }

    let (g, last) = (plan.clock.day(plan.clock.go_live), market_rollout.last().map(|r| r.go_live.clone()));
    let last = last.unwrap_or(g.clone());
    let conflict = d.contradictions.iter().find(|c| c.contains("Go-live"));
    let lead_name = &plan.lead;
    let conflict =
        conflict.map(|c| format!("{c} The plan: {lead_name} live on {g}, the last market on {last}."));
    let mut risks: Vec<String> = conflict.into_iter().collect();
    risks
        .extend(plan.red.iter().map(|r| format!("{r}: not contracted while mobilising, it delays markets.")));
    risks.extend(model.risks.iter().take(2).cloned());
    if d.markets.is_empty() {
        risks.push("No markets are confirmed, so the rollout cannot be sequenced yet.".into());
    }
    risks.push("Client feedback slower than 48 hours stretches every SLA; watch it monthly.".into());
    let start = plan.clock.start.map_or(String::new(), |s| format!(" on {s}"));
    let waves = [lead.is_some(), !plan.fast.is_empty(), !plan.tail.is_empty()].iter().filter(|w| **w).count();
    let headline = serde_json::to_value(model.headline).ok().and_then(|v| v.as_str().map(str::to_string));
    let (n, markets, lead_name) = (phases.len(), d.markets.len(), &plan.lead);
    let summary = format!(
        "{n} phases from mobilisation{start} to optimisation; {markets} market(s) in {waves} wave(s), \
         {lead_name} first on {g}. Delivery model {}; {} in-flight metric(s); {} red gap(s) to close \
         while mobilising.",
        headline.unwrap_or_default(),
        metrics.len(),
        plan.red.len()
    );
    ImplementationPlanOutput {
        summary,
        phases,
        market_rollout,
        training_and_adoption: training,
        compliance_and_policy: compliance,
        in_flight_metrics: metrics,
        risks,
    }
}
