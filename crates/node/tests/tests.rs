//! accord-node integration tests (one binary).

mod analytics;
mod collect;
mod egress;
mod findings;
mod leaks;
mod receipts;
