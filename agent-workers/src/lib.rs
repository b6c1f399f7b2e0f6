//! The AI agents (intake, diagnosis, asset normaliser, matcher, delivery model, capability gaps,
//! support docs, pitch deck, implementation plan): the worker loop on the NATS JetStream work queue,
//! the provider trait with its offline (rules, no key) and Anthropic (Messages API) providers, the
//! versioned prompts, the output schemas every result is checked against, and the price table.

pub mod anthropic;
pub mod offline;
pub mod pricing;
pub mod prompts;
pub mod provider;
pub mod run_metrics;
pub mod schema;
pub mod worker;
