//! Integration tests of accord-enrich (one binary): lookups in the test databases of
//! `fixtures/hub` (written by mmdb-writer, see its README).

mod lookups;
