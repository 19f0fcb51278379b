//! One module per command: parse arguments, call the libraries, report.

pub mod agreement;
pub mod analytics;
pub mod collect;
pub mod collection;
pub mod delete;
pub mod detect;
pub mod enrich;
pub mod export;
pub mod get;
pub mod ingest;
pub mod init;
pub mod ledger;
pub mod match_cmd;
pub mod misp;
pub mod org;
pub mod pattern;
pub mod peer;
pub mod route;
pub mod serve;
pub mod stats;
pub mod telemetry;
pub mod token;
pub mod user;
