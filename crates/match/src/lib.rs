//! accord-match: match network telemetry against indicators, produce sightings.
//!
//! Indicators whose patterns reduce to simple atoms (addresses and networks, domain
//! names, URLs, e-mail addresses, file hashes, port/protocol combinations) are compiled
//! into flat in-memory structures — hash sets with a seeded hasher, a prefix table for
//! networks, Aho-Corasick for `LIKE` — so that a record costs a handful of probes
//! whatever the number of indicators. The others are evaluated by the pattern engine
//! on the records that reach them. Matches are aggregated into one STIX `sighting` per
//! indicator and time window, with the number of distinct internal hosts estimated by
//! a HyperLogLog sketch: customer addresses never appear in a sighting.
//!
//! A pure library: it takes indicators as plain values ([`IndicatorInput`]), records
//! from [`accord_telemetry`], and gives sightings as values ([`Sighting::to_json`]).
//!
//! # Layout
//! - [`indicator`]: [`IndicatorInput`]; [`ruleset`]: compiling them ([`Ruleset`]).
//! - [`reduce`]: pattern → [`atom::Atom`]s; [`atom`]: atoms and normalisation.
//! - [`matcher`]: the compiled structures; [`prefix`]: the CIDR prefix table;
//!   [`like`]: `LIKE` semantics.
//! - `fallback`: the pattern-engine path (observed-data per record).
//! - [`detector`]: records in, matches counted ([`Detector`]); [`internal`]: which
//!   endpoints are customers; [`aggregate`]: windows, sketches, [`Sighting`].
//! - [`time`](mod@time): STIX timestamps.
//!
//! ```
//! use accord_match::{Detector, DetectorConfig, IndicatorInput, InternalNets, Ruleset};
//! use accord_telemetry::TelemetryReader;
//!
//! let indicators = vec![IndicatorInput {
//!     id: "indicator--00000000-0000-4000-8000-000000000001".into(),
//!     pattern: "[domain-name:value LIKE '%.evil.example']".into(),
//!     valid_from: 0, valid_until: None, revoked: false, modified: 0,
//! }];
//! let rules = Ruleset::compile(indicators);
//! let config = DetectorConfig::new("identity--00000000-0000-4000-8000-0000000000aa")?
//!     .with_internal(InternalNets::parse(["10.0.0.0/8"])?);
//! let mut detector = Detector::new(&rules, config);
//! let dns = r#"{"ts":7200.5,"id.orig_h":"10.1.2.3","id.resp_h":"192.0.2.53","query":"c2.evil.example"}"#;
//! let mut reader = TelemetryReader::new(dns.as_bytes(), None).unwrap();
//! while let Some(rec) = reader.next_record().unwrap() {
//!     detector.observe(&rec);
//! }
//! let (sightings, _) = detector.finish();
//! let s = sightings[0].to_json();
//! assert_eq!(s["first_seen"], "1970-01-01T02:00:00.500Z");
//! assert_eq!(s["created"], "1970-01-01T02:00:00.000Z");
//! # Ok::<(), accord_match::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod atom;
pub mod detector;
mod error;
mod fallback;
pub mod indicator;
pub mod internal;
pub mod like;
pub mod matcher;
pub mod prefix;
pub mod reduce;
pub mod ruleset;
pub mod time;

pub use aggregate::{Sighting, DISTINCT_HOSTS_PROPERTY, SIGHTING_NAMESPACE};
pub use detector::{DetectStats, Detector, DetectorConfig, DEFAULT_WINDOW};
pub use error::Error;
pub use fallback::observed_data;
pub use indicator::IndicatorInput;
pub use internal::InternalNets;
pub use ruleset::{CompileReport, Rejected, Ruleset};
pub use time::{format_timestamp, parse_timestamp};
