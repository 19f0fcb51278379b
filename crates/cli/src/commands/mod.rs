//! One module per command: parse arguments, call the libraries, report.

pub mod export;
pub mod get;
pub mod ingest;
pub mod stats;
