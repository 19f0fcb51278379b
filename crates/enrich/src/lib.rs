//! Enrichment of observables for the hub: where an address is (country, autonomous
//! system and its name, from MaxMind-format `.mmdb` databases), what a domain's
//! registrable domain is (Public Suffix List), and which addresses and domains locate a
//! STIX object.
//!
//! Pure: databases are given as bytes (the node opens the files), objects as JSON text.
//! Enrichment never changes an object: it is a fact kept beside it (the node stores it,
//! see `accord_node::enrich`).
//!
//! # Layout
//! - [`mmdb`]: [`Database`] (one `.mmdb` file's bytes and metadata), [`Enricher`] (a
//!   country database and an ASN database, possibly the same), [`Place`].
//! - [`flat`]: [`FlatEnricher`], both databases flattened into one sorted range table
//!   (bulk enrichment: one search per address, no tree walk or decoding).
//! - [`subjects`]: [`Subjects`], the addresses and domains that locate an object.
//! - [`domain`]: registrable domains ([`registrable_domain`]).
//!
//! # Example
//! ```
//! let subjects = accord_enrich::Subjects::of_json(
//!     r#"{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
//!         "pattern_type":"stix","pattern":"[ipv4-addr:value = '203.0.113.9'] OR [domain-name:value = 'www.example.co.uk']"}"#,
//! );
//! assert_eq!(subjects.addresses, vec!["203.0.113.9".parse::<std::net::IpAddr>().unwrap()]);
//! assert_eq!(subjects.domains, vec!["www.example.co.uk".to_string()]);
//! assert_eq!(accord_enrich::registrable_domain("www.example.co.uk").as_deref(), Some("example.co.uk"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod domain;
pub mod flat;
pub mod mmdb;
pub mod subjects;

pub use domain::registrable_domain;
pub use flat::FlatEnricher;
pub use mmdb::{CountryCode, Database, DatabaseInfo, EnrichCache, EnrichError, Enricher, Place};
pub use subjects::{Head, Subjects};
