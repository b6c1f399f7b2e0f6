//! The system prompt of each agent, kept as a versioned file in `agent-workers/prompts/`.
//!
//! Each file starts with a line `version: N`; the rest is the prompt. A run records the version as
//! `<agent>/<N>` (e.g. "intake/1"), so an artifact can be traced back to the words that produced it.
//! Bump the number whenever a prompt's meaning changes.

use domain::agent_run::Agent;

/// A system prompt and the version recorded on the runs that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// `<agent>/<N>`, e.g. "intake/1".
    pub version: String,
    /// The prompt text, without its version line.
    pub system: &'static str,
}

/// The file name (without `.md`) of an agent's prompt; also the first part of its version.
pub fn prompt_name(agent: Agent) -> &'static str {
    match agent {
        Agent::Intake => "intake",
        Agent::Diagnosis => "diagnosis",
        Agent::AssetNormalizer => "asset_normalizer",
        Agent::Matcher => "matcher",
        Agent::DeliveryModel => "delivery_model",
        Agent::CapabilityGaps => "capability_gaps",
        Agent::SupportDocs => "support_docs",
        Agent::PitchDeck => "pitch_deck",
        Agent::ImplementationPlan => "implementation_plan",
    }
}

fn raw(agent: Agent) -> &'static str {
    match agent {
        Agent::Intake => include_str!("../prompts/intake.md"),
        Agent::Diagnosis => include_str!("../prompts/diagnosis.md"),
        Agent::AssetNormalizer => include_str!("../prompts/asset_normalizer.md"),
        Agent::Matcher => include_str!("../prompts/matcher.md"),
        Agent::DeliveryModel => include_str!("../prompts/delivery_model.md"),
        Agent::CapabilityGaps => include_str!("../prompts/capability_gaps.md"),
        Agent::SupportDocs => include_str!("../prompts/support_docs.md"),
        Agent::PitchDeck => include_str!("../prompts/pitch_deck.md"),
        Agent::ImplementationPlan => include_str!("../prompts/implementation_plan.md"),
    }
}

/// The current prompt of an agent.
pub fn prompt(agent: Agent) -> Prompt {
    let (version, system) = split_version(raw(agent));
    Prompt { version: format!("{}/{version}", prompt_name(agent)), system }
}

/// Splits `version: N` off the first line. A file without one counts as version 0 (the tests make
/// sure every shipped prompt has one).
fn split_version(text: &'static str) -> (&'static str, &'static str) {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    match first.trim().strip_prefix("version:") {
        Some(v) => (v.trim(), rest.trim()),
        None => ("0", text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_has_a_versioned_prompt_naming_its_tool() {
        for agent in Agent::ALL {
            let p = prompt(agent);
            let (name, n) = p.version.split_once('/').expect("name/N");
            assert_eq!(name, prompt_name(agent));
            assert!(n.parse::<u32>().is_ok_and(|n| n >= 1), "{}: version {n}", name);
            assert!(!p.system.starts_with("version"), "{name}: version line left in the prompt");
            assert!(p.system.contains(agent.tool()), "{name}: the prompt does not name its tool");
            assert!(p.system.len() > 400, "{name}: prompt suspiciously short");
        }
        assert_eq!(prompt(Agent::Intake).version, "intake/1");
    }

    #[test]
    fn a_file_without_a_version_line_is_version_zero() {
        assert_eq!(split_version("version: 3\nHello\n"), ("3", "Hello"));
        assert_eq!(split_version("Hello\nworld"), ("0", "Hello\nworld"));
    }
}
