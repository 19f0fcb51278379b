//! accord-node integration tests.
