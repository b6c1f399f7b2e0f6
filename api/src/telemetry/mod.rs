//! What the running service tells its operators: structured logs, and the Prometheus metrics
//! served at `/metrics` (the process-wide recorder, plus the projection lag read at scrape time).

pub mod logs;
pub mod projection_lag;
pub mod recorder;

pub use logs::LogFormat;
