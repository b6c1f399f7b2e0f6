//! The read side: the ordered event log and the read models fed from it.
//!
//! The sequencer gives every committed event a dense position in commit order; each projection
//! reads the log from its own checkpoint, so any of them can be dropped and rebuilt from zero.

pub mod agent_runs;
pub mod approvals;
pub mod assets;
pub mod batch;
pub mod clarifications;
pub mod efficiency;
pub mod error;
pub mod files;
pub mod notifications;
pub mod opportunities;
pub mod projection;
pub mod projector;
pub mod qualification;
pub mod registry;
mod replay;
pub mod rows;
pub mod sequencer;
pub mod stalls;
pub mod stored_event;
pub mod time_spent;

pub use error::ProjectorError;
pub use projection::Projection;
pub use projector::{GlobalSeq, Projector, RebuildProgress};
pub use stored_event::{event_id, StoredEvent};
