//! OSOP's domain: the `Opportunity` aggregate, its commands, events and rules.
//!
//! Pure by design: no database, HTTP or NATS. Everything a decision needs arrives in the command,
//! including the time it is taken at, so replaying the log gives the same state years later.

pub mod agent_output;
pub mod agent_run;
pub mod approval;
pub mod asset;
pub mod catalog;
pub mod catalog_import;
pub mod clarification;
pub mod command_checks;
pub mod commands;
pub mod commercial;
pub mod deal_status;
pub mod details;
pub mod efficiency;
pub mod errors;
pub mod events;
pub mod file;
pub mod handoff;
pub mod limits;
pub mod opportunity;
pub mod qualification;
pub mod ratecard;
pub mod roles;
pub mod stage_machine;
pub mod team_shape;

pub use approval::{Approval, ApprovalDecision, ApprovalRole, ApprovalStatus};
pub use commands::OpportunityCommand;
pub use deal_status::DealStatus;
pub use details::{DetailsChanges, OpportunityDetails};
pub use errors::OpportunityError;
pub use events::OpportunityEvent;
pub use file::FileMeta;
pub use limits::InputError;
pub use opportunity::{Lifecycle, Opportunity};
pub use stage_machine::{StageNumber, StageState, StageStatus, STAGE_COUNT, STAGE_NAMES};
