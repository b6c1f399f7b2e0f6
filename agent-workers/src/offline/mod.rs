//! The offline provider: deterministic, rule- and statistics-based extraction from the brief text.
//! No key and no network; it is what the demo, the tests and a user without a key get.

pub mod diagnosis;
pub mod intake;
pub mod matcher;
pub mod normaliser;
pub mod provider;
pub mod text;
