//! The AI agents (intake, diagnosis, asset normaliser, matcher, delivery model, capability gaps,
//! support docs, pitch deck, implementation plan): they will take agent requests from NATS JetStream,
//! call a provider and record each result as a command on the opportunity.
//!
//! Empty until the agents issue: the foundation only fixes where they live.
