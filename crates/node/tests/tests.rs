//! accord-node integration tests (one binary).

mod analytics;
mod collect;
mod egress;
mod enrich;
mod findings;
mod leaks;
mod located;
mod partner_trends;
mod receipts;
mod route;
