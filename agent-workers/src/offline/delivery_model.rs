//! Stage 9 offline (the delivery model agent, tool `submit_delivery_model`): decides, workflow stage
//! by workflow stage, where AI tooling genuinely helps and where work stays manual.
//!
//! Rules, from the seed's tool cheat-sheet: origination and mastering (photography, film, print,
//! statics) are manual; adaptation, resizing, localisation, social statics and cut-downs are AI
//! candidates; approvals, brand QA and client review stay manual. The headline is `hybrid` (or
//! `traditional` when nothing is an AI candidate) whenever the brief has motion at scale or print;
//! `ai_supported` only when no origination is asked and AI stages outnumber manual production ones.
//! Also home to the helpers every later agent uses to read its upstream artifacts.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use self::Approach::{AiSupported, FullyAutomated, Manual};
use super::diagnosis::{diagnose, DiagnosisOutput};
use crate::provider::AgentInputs;

/// The overall delivery model; serialises as `traditional`, `ai_supported` or `hybrid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Headline {
    /// People do the work end to end.
    Traditional,
    /// AI tooling carries most production stages under human review.
    AiSupported,
    /// Crafted masters, AI-supported adaptation.
    Hybrid,
}

/// How one workflow stage is run; serialises as `manual`, `ai_supported` or `fully_automated`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approach {
    /// Done by people.
    Manual,
    /// Done by people with AI tooling and human review of every output.
    AiSupported,
    /// Mechanical; no creative judgement involved.
    FullyAutomated,
}

/// One stage of the production workflow and how it is delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStage {
    /// What happens in this stage, e.g. "Localisation and market adaptation".
    pub stage: String,
    /// Manual, AI-supported or fully automated.
    pub approach: Approach,
    /// The tools used (cheat-sheet tools and the client's named platforms).
    pub tooling: Vec<String>,
    /// Why this approach, in a sentence or two.
    pub rationale: String,
}

/// The delivery model agent's output, with the seed's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryModelOutput {
    /// Traditional, AI-supported or hybrid.
    pub headline: Headline,
    /// What is manual, what is AI-supported, and why.
    pub summary: String,
    /// The workflow, in production order.
    pub workflow_stages: Vec<WorkflowStage>,
    /// What each tool used cannot do, and the client's conditions on tools.
    pub tooling_caveats: Vec<String>,
    /// What could go wrong with this model.
    pub risks: Vec<String>,
}

/// The diagnosis the later agents build on: the stage 2 artifact when it parses, else the uploaded
/// documents diagnosed afresh with the offline rules.
pub fn diagnosis_of(inputs: &AgentInputs) -> DiagnosisOutput {
    upstream(inputs, "diagnosis").unwrap_or_else(|| diagnose(&inputs.documents))
}

/// An upstream agent's latest artifact read as `T`; `None` when absent or of another shape.
pub fn upstream<T: DeserializeOwned>(inputs: &AgentInputs, agent: &str) -> Option<T> {
    inputs.artifacts.get(agent).and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The upstream artifact of `agent` when recorded, else `derive` run on the same inputs.
pub fn recorded_or<T: DeserializeOwned>(
    inputs: &AgentInputs,
    agent: &str,
    derive: fn(&AgentInputs) -> T,
) -> T {
    upstream(inputs, agent).unwrap_or_else(|| derive(inputs))
}

/// A volume estimate in the brief's words as a yearly count: the first figure (a range's midpoint)
/// times its period ("~50 per month" → 600, "120-200 per quarter" → 640); `None` without a figure.
pub fn annual_volume(estimate: &str) -> Option<u32> {
    let lower = estimate.to_lowercase();
    let numbers: Vec<u32> = lower
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter_map(|w| w.replace(',', "").parse().ok())
        .collect();
    let first = *numbers.first()?;
    let ranged = lower.contains(&format!("{first}-")) || lower.contains(&format!("{first}–"));
    let figure = match numbers.get(1) {
        Some(second) if ranged => (first + second) / 2,
        _ => first,
    };
    let per = [("week", 52), ("month", 12), ("quarter", 4), ("day", 260)];
    let factor = per.iter().find(|(p, _)| lower.contains(&format!("per {p}"))).map_or(1, |(_, f)| *f);
    Some(figure.saturating_mul(factor))
}

/// What the brief asks for, read once from the diagnosis.
pub(crate) struct Scope {
    /// Deliverables, channels, capabilities and tech asks, lower-cased, one per line.
    pub text: String,
    /// Motion or film at scale: a hero film/TVC, or at least 24 motion pieces a year.
    pub motion_at_scale: bool,
    /// Print or point-of-sale work is asked for.
    pub print: bool,
    /// A named DAM ("Bynder") or just "DAM" when the brief asks for one.
    pub dam: Option<String>,
}

impl Scope {
    /// Reads the scope of a diagnosis.
    pub(crate) fn of(d: &DiagnosisOutput) -> Self {
        let deliverables =
            d.deliverables.iter().map(|x| format!("{} {} {}", x.name, x.category, x.complexity_hint));
        let lines: Vec<String> = deliverables
            .chain(d.channels.iter().cloned())
            .chain(d.capabilities_required.iter().cloned())
            .chain(d.tech_asks.iter().cloned())
            .map(|s| s.to_lowercase())
            .collect();
        let text = lines.join("\n");
        let motion = |x: &&super::diagnosis::Deliverable| {
            x.category == "Video" || x.name.to_lowercase().contains("motion")
        };
        let hero = d.deliverables.iter().filter(motion).any(|x| x.complexity_hint.starts_with("high"));
        let yearly: u32 =
            d.deliverables.iter().filter(motion).filter_map(|x| annual_volume(&x.volume_estimate)).sum();
        let dam = if text.contains("bynder") {
            Some("Bynder".to_string())
        } else {
            text.contains("digital asset management").then(|| "DAM".to_string())
        };
        Scope {
            motion_at_scale: hero || yearly >= 24,
            print: d.deliverables.iter().any(|x| x.category == "Print")
                || text.contains("print / point of sale"),
            dam,
            text,
        }
    }

    /// Whether any of the `|`-separated words occurs in the scope.
    pub(crate) fn has(&self, words: &str) -> bool {
        words.split('|').any(|w| self.text.contains(w))
    }
}

/// A workflow stage and when it applies. `when` lists scope words (any one calls for the stage; ""
/// means always) or one computed condition: `@print`, `@markets` (two or more markets, or
/// localisation asked), `@digital` (any digital channel), `@dam` (a DAM is named), `@html5` (display
/// that is not programmatic).
struct Rule {
    when: &'static str,
    stage: &'static str,
    approach: Approach,
    tooling: &'static [&'static str],
    why: &'static str,
}

/// The workflow in production order (the seed's cheat-sheet, applied stage by stage).
const RULES: &[Rule] = &[
    Rule {
        when: "",
        stage: "Briefing and job intake",
        approach: Manual,
        tooling: &["Brief template", "Traffic and project-management system"],
        why: "An account manager checks each brief is complete and owns the job from day one.",
    },
    Rule {
        when: "photograph|key visual|shoot",
        stage: "Photography and key-visual origination",
        approach: Manual,
        tooling: &["Photography and shoot production"],
        why: "Origination is manual: no cheat-sheet tool originates hero imagery, and launches depend on it.",
    },
    Rule {
        when: "video|film|motion|tvc",
        stage: "Film and motion mastering",
        approach: Manual,
        tooling: &["Film production and post-production", "Motion design suite"],
        why: "Masters are crafted by the film and motion team; video tools only cut down existing masters.",
    },
    Rule {
        when: "static|visual|toolkit|banner|pdp|email|crm|post",
        stage: "Static masters (campaign, social, eCommerce, CRM)",
        approach: Manual,
        tooling: &["Design suite", "Brand templates"],
        why: "Mastering is manual: the master sets the brand standard every adaptation inherits.",
    },
    Rule {
        when: "paid social|static|social ad|organic social",
        stage: "Social statics and static ad resizing",
        approach: AiSupported,
        tooling: &["Pencil"],
        why: "Pencil makes paid-social statics and simple static ads from approved masters; a designer \
              reviews every output.",
    },
    Rule {
        when: "cut-down|cutdown|master plus adapts|motion|video",
        stage: "Video cut-downs and motion adaptation",
        approach: AiSupported,
        tooling: &["Semblance"],
        why: "Cut-downs and edits of an approved master suit Semblance; an editor signs off each version.",
    },
    Rule {
        when: "programmatic|dynamic creative",
        stage: "Display and programmatic versioning",
        approach: AiSupported,
        tooling: &["OMG"],
        why: "Programmatic dynamic creative is versioned through OMG from approved templates.",
    },
    Rule {
        when: "@html5",
        stage: "HTML5 display build",
        approach: Manual,
        tooling: &["HTML5 banner templates"],
        why: "HTML5 builds are developer work no cheat-sheet tool covers; templates keep volume efficient.",
    },
    Rule {
        when: "ecommerce|pdp|a+",
        stage: "eCommerce content (PDP sets, A+ modules)",
        approach: Manual,
        tooling: &["Retouching", "Marketplace templates"],
        why: "Product imagery and A+ modules follow each retailer's specs, which no cheat-sheet tool covers.",
    },
    Rule {
        when: "@print",
        stage: "Print and POS mastering",
        approach: Manual,
        tooling: &["Print artwork and pre-press"],
        why: "Print mastering is manual: Pencil and Creative-X do not cover print, and proofs need a person.",
    },
    Rule {
        when: "@markets",
        stage: "Localisation and market adaptation",
        approach: AiSupported,
        tooling: &["Machine translation with translation memory", "Pencil (resizing localised statics)"],
        why: "Body copy goes machine-first with native review; headlines are transcreated by native writers.",
    },
    Rule {
        when: "elearning|e-learning|training video|internal video",
        stage: "Internal and eLearning video",
        approach: AiSupported,
        tooling: &["Google Vids", "Synthesia"],
        why: "Simple internal and eLearning motion is what Google Vids and Synthesia do well.",
    },
    Rule {
        when: "@digital",
        stage: "Automated brand-policy checks",
        approach: AiSupported,
        tooling: &["Creative-X"],
        why: "Creative-X checks digital assets against brand policy before human QA, not instead of it.",
    },
    Rule {
        when: "",
        stage: "Brand QA, approvals and client review",
        approach: Manual,
        tooling: &["Proofing and approval workflow"],
        why: "Approvals, brand QA and client review stay with people, who are accountable for what ships.",
    },
    Rule {
        when: "@dam",
        stage: "Asset delivery and DAM filing",
        approach: FullyAutomated,
        tooling: &[],
        why: "Approved files, renditions and metadata go to the DAM by integration; no judgement involved.",
    },
];

/// What each cheat-sheet tool cannot do, shown when a stage uses it.
const TOOL_CAVEATS: &[(&str, &str)] = &[
    (
        "Pencil",
        "Pencil covers paid-social statics and simple static digital ads only: not motion, not print.",
    ),
    ("Semblance", "Semblance cuts down and edits approved masters; it does not originate film or motion."),
    ("Creative-X", "Creative-X checks digital assets only; print and the final brand sign-off stay manual."),
    ("OMG", "OMG versions media/programmatic dynamic creative and depends on the media partner's feeds."),
    (
        "Synthesia",
        "Google Vids and Synthesia suit simple internal or eLearning motion only, never brand films.",
    ),
    ("Machine translation", "Machine translation is a first draft: a native reviewer checks every language."),
];

/// Recommends the delivery model from the diagnosis (see the module rules). Never fails; with no
/// readable scope it recommends `traditional` with the stages every job has.
pub fn delivery_model(inputs: &AgentInputs) -> DeliveryModelOutput {
    let d = diagnosis_of(inputs);
    let s = Scope::of(&d);
    let rtl = s.has("right-to-left");
    let applies = |r: &Rule| match r.when {
        "@print" => s.print,
        "@markets" => d.markets.len() >= 2 || s.has("transcreation|translation|locali"),
        "@digital" => s.has("social|display|ecommerce|crm|email|banner|video|motion"),
        "@dam" => s.dam.is_some(),
        "@html5" => s.has("display|html5") && !s.has("programmatic|dynamic creative"),
        words => words.is_empty() || s.has(words),
    };
    let stages: Vec<WorkflowStage> = RULES
        .iter()
        .filter(|r| applies(r))
        .map(|r| {
            let mut tooling: Vec<String> = r.tooling.iter().map(|t| t.to_string()).collect();
            let mut rationale = r.why.to_string();
            if r.when == "@dam" {
                tooling.extend(s.dam.clone());
            }
            if r.when == "@markets" && rtl {
                rationale.push_str(" Right-to-left layouts are checked by hand.");
            }
            WorkflowStage { stage: r.stage.into(), approach: r.approach, tooling, rationale }
        })
        .collect();
    // Production stages: not briefing, QA or the automated brand checks (which support QA only).
    let checks =
        |w: &WorkflowStage| w.stage.starts_with("Brief") || w.tooling.iter().any(|t| t == "Creative-X");
    let production = |w: &&WorkflowStage| !checks(w) && !w.stage.starts_with("Brand QA");
    let ai = stages.iter().filter(production).filter(|w| w.approach == AiSupported).count();
    let manual = stages.iter().filter(production).filter(|w| w.approach == Manual).count();
    let origination = stages.iter().any(|w| w.stage.contains("origination") || w.stage.contains("mastering"));
    let headline = match (ai, s.motion_at_scale || s.print) {
        (0, _) => Headline::Traditional,
        (_, true) => Headline::Hybrid,
        _ if !origination && ai > manual => Headline::AiSupported,
        _ => Headline::Hybrid,
    };
    DeliveryModelOutput {
        summary: summary(headline, &stages, &s, &d),
        tooling_caveats: caveats(&stages, &d, rtl),
        risks: risks(headline, &s, &d, rtl),
        headline,
        workflow_stages: stages,
    }
}

fn summary(headline: Headline, stages: &[WorkflowStage], s: &Scope, d: &DiagnosisOutput) -> String {
    let names = |a: Approach| stages.iter().filter(move |w| w.approach == a).map(|w| w.stage.clone());
    let ai: Vec<String> = names(AiSupported).collect();
    let why = match (s.motion_at_scale, s.print) {
        (true, true) => "the brief has motion at scale and print",
        (true, false) => "the brief has motion at scale",
        (false, true) => "the brief has print",
        _ => "origination and mastering stay manual",
    };
    let lead = match headline {
        Headline::Traditional if d.deliverables.is_empty() => {
            "Traditional until the scope is known: no deliverables could be read, so nothing goes to AI yet."
                .to_string()
        }
        Headline::Traditional => "Traditional: no stage of this scope is a good AI candidate.".to_string(),
        Headline::AiSupported => {
            "AI-supported: the scope is adaptation-heavy with no origination.".to_string()
        }
        Headline::Hybrid => format!("Hybrid because {why}: crafted masters, AI-supported adaptation."),
    };
    let ai_list = if ai.is_empty() { "none".to_string() } else { ai.join("; ") };
    let manual = names(Manual).collect::<Vec<_>>().join("; ");
    let (n, complexity, markets) = (stages.len(), d.complexity_assessment.as_str(), d.markets.len());
    format!(
        "{lead} {} of {n} workflow stages are AI-supported ({ai_list}); manual: {manual}. \
         Complexity {complexity} across {markets} market(s).",
        ai.len()
    )
}

fn caveats(stages: &[WorkflowStage], d: &DiagnosisOutput, rtl: bool) -> Vec<String> {
    let uses = |tool: &str| stages.iter().any(|w| w.tooling.iter().any(|t| t.contains(tool)));
    let mut out: Vec<String> = TOOL_CAVEATS.iter().filter(|c| uses(c.0)).map(|c| c.1.to_string()).collect();
    let condition = |t: &&String| t.to_lowercase().contains("security review") || t.contains("not train");
    if let Some(ask) = d.tech_asks.iter().find(condition) {
        out.push(format!(
            "Every tool must meet the brief's condition (“{ask}”); until then, work stays manual."
        ));
    }
    let rules = [
        (rtl, "Automated resizing mishandles right-to-left layouts; Arabic versions get a manual pass."),
        (true, "Photography, TVC/film origination and print mastering are manual, whatever the tooling."),
    ];
    out.extend(rules.iter().filter(|r| r.0).map(|r| r.1.to_string()));
    out
}

fn risks(headline: Headline, s: &Scope, d: &DiagnosisOutput, rtl: bool) -> Vec<String> {
    let security = d.tech_asks.iter().any(|t| t.to_lowercase().contains("security review"));
    let rules = [
        (headline != Headline::Traditional, "AI output drifts from brand; a designer checks every output."),
        (
            security,
            "A tool failing the client's security review loses its efficiency; price without it at first.",
        ),
        (
            s.motion_at_scale,
            "Motion at scale needs a dedicated motion team; cut-down tools do not replace craft.",
        ),
        (s.print, "Print needs pre-press and printer proofing outside the digital QA and AI workflow."),
        (
            d.markets.len() >= 6,
            "Machine-first translation in many markets risks tone errors; budget native review.",
        ),
        (rtl, "Right-to-left (Arabic) versions break templated resizing; allow manual layout time."),
    ];
    let mut out: Vec<String> = rules.iter().filter(|r| r.0).map(|r| r.1.to_string()).collect();
    if let Some(k) = d.kpis_slas.iter().find(|k| k.to_lowercase().contains("cost per asset")) {
        let k = k.trim_end_matches('.');
        out.insert(
            out.len().min(2),
            format!("The cost target (“{k}”) leans on AI; phase savings in as tools clear."),
        );
    }
    if out.is_empty() {
        out.push(
            "The scope is not yet known; revisit the model once deliverables and volumes are confirmed."
                .into(),
        );
    }
    out
}
