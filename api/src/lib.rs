//! OSOP's API: the REST server, its authentication, uploads, email, and the command side.

pub mod agents;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod clock;
pub mod command_bus;
pub mod config;
pub mod connections;
pub mod correlation;
pub mod error;
pub mod exports;
pub mod extract;
pub mod http;
pub mod integration_feed;
pub mod mail;
pub mod outage;
pub mod precondition;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod uploads;
pub mod visibility;
pub mod walkthrough;
