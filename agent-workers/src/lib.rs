//! The AI agents (intake, diagnosis, asset normaliser, matcher, delivery model, capability gaps,
//! support docs, pitch deck, implementation plan). The offline provider here reads a brief with
//! deterministic rules and statistics; the worker loop on NATS JetStream and the Anthropic provider
//! come next (see the agents issue).

pub mod offline;
pub mod provider;
pub mod worker;
