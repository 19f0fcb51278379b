//! accord-node integration tests (one binary).

mod collect;
mod egress;
mod leaks;
mod receipts;
