//! Integration tests of accord-stix (one binary).
