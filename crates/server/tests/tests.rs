//! Integration tests of the TAXII server (one test binary).

mod support;

mod admission;
mod aggregates;
mod auth;
mod content_types;
mod discovery;
mod errors;
mod federation;
mod leaks;
mod objects;
mod openapi;
mod ops;
mod properties;
mod receipts;
mod rights;
mod routed;
mod serving;
