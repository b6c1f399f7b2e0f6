//! The agents' side of the API: the JetStream work queue their requests go to, and what a run
//! reads (its inputs) and records (its result).

pub mod host;
pub mod queue;
pub mod rate_limit;
pub mod workers;
