//! Integration tests of accord-patterns.
