//! accord-node integration tests (one binary).

mod collect;
mod egress;
mod findings;
mod leaks;
mod receipts;
