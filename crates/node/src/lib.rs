//! An Accord node's services, shared by the TAXII server and the CLI.
//!
//! # Layout
//! - [`config`]: the node's configuration file (identity, organisations, users, tokens,
//!   API roots, collections and rights), loading, validation and editing.
//! - [`accounts`]: checking credentials (HTTP Basic passwords, Bearer tokens).
//! - [`ingest`]: the way in — validate, extract gate facts, store.
//! - [`egress`]: the one door out — the agreement gate and the release ledger.
//! - [`enforcement`]: converting released objects to blocklists, Zeek intel, CSV.
//! - [`agreements`]: loading the agreement files and their keys into a gate.
//! - [`enrich`]: the hub's enrichment (country, ASN, AS name of addresses from `.mmdb`
//!   databases; registrable domains), stored beside the objects; where an object is.
//! - [`facts`]: what the gate needs to know about an object, extracted at ingest.
//! - [`collect`]: the NetFlow/IPFIX collector's receive loop (UDP and dnstap in,
//!   observers over windows).
//! - [`collector`]: the collector as `accord collect` and `[telemetry]` run it
//!   (indicators loaded through the door, observers assembled, findings stored).
//! - [`dnstap`]: the collector's dnstap intake (resolvers' queries and answers).
//! - [`detect`]: behaviour detectors over telemetry files (C2, DDoS), in one pass or
//!   tumbling windows; the detectors the collector runs.
//! - [`findings`]: storing any detector's findings as STIX, updating on re-runs.
//! - [`phishing`]: look-alike domains over name lists and Zeek logs.
//! - [`federation`]: peers, pull and push over TAXII 2.1 (the client), sync state.
//! - [`route`]: each country its part — per responsible organisation, the objects
//!   located in its countries/ASNs with what explains them, through the door.
//! - [`ledger_key`]: the node's ledger signing key file.
//! - [`misp`]: MISP events in (converted to STIX as misp-stix does, then ingested).
//! - [`signed_bundle`]: offline exchange — bundles signed with that key, verified before ingest.
//! - [`telemetry`]: reading telemetry inputs into a pass of observers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accounts;
pub mod agreements;
pub mod analytics;
pub mod collect;
pub mod collector;
pub mod config;
pub mod correlate;
pub mod detect;
pub mod dnstap;
pub mod egress;
pub mod enforcement;
pub mod enrich;
pub mod enrich_keeper;
pub mod facts;
pub mod federation;
pub mod findings;
pub mod ingest;
pub mod ledger_key;
pub mod located;
pub mod misp;
mod pattern_memo;
pub mod periodic;
pub mod phishing;
pub mod route;
pub mod routed;
pub mod signed_bundle;
pub mod telemetry;
pub mod trends;
