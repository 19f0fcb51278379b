//! Integration tests of accord-patterns (one test binary).

mod oasis;
mod properties;
