//! accord-node integration tests (one binary).

mod egress;
mod leaks;
mod receipts;
