//! The offline provider: deterministic, rule- and statistics-based extraction from the brief text.
//! No key and no network; it is what the demo, the tests and a user without a key get.

pub mod capability_gaps;
pub mod delivery_model;
pub mod diagnosis;
pub mod implementation_plan;
pub mod intake;
pub mod markets;
pub mod matcher;
pub mod normaliser;
pub mod pitch_deck;
pub mod provider;
pub mod support_docs;
pub mod text;
