//! accord-detect: behaviour detection over network telemetry.
//!
//! Indicator matching (`accord-match`) finds what someone has already named. The
//! detectors built on this crate find what nobody has named yet: command-and-control
//! servers, floods, look-alike domains. They all run in **one pass** over the same
//! records, share the windowing and the distinct-host sketches, and hand back
//! findings through one seam, so that a sensor's telemetry is read once however many
//! detectors run.
//!
//! The seam is modelled on ripgrep's `Matcher`/`Sink` split and on vector's
//! transforms: a detector is an [`Observer`] that sees each [`Record`] once
//! ([`Observer::observe`]) and, at the end of a [`Window`], gives its findings
//! ([`Observer::finish`]); a [`Pass`] drives any number of observers over one record
//! stream. A [`Finding`] knows how to print itself for the analyst (evidence, not a
//! bare score), as the JSON contract of `accord --json detect`, and as STIX.
//!
//! A pure library: no files, sockets or clocks. Reading inputs, running a pass and
//! storing findings is the node's job (`accord-node`).
//!
//! # Layout
//! - [`observer`]: the [`Observer`] and [`Finding`] traits, [`Window`].
//! - [`pass`]: [`Pass`], one record stream through many observers, in windows.
//! - [`sketch`]: [`DistinctHosts`], a bounded distinct-count sketch.
//! - [`internal`]: [`InternalNets`], which addresses are the operator's customers.
//! - [`c2`]: [`c2::C2Detector`], command-and-control destinations (beacons, DGA,
//!   check-ins, fan-in), with evidence.
//! - [`ddos`]: [`ddos::DdosDetector`], floods against customers and from the network.
//! - [`botnet`]: [`botnet::Botnets`], both in one observer, outbound floods linked to
//!   the C2 destinations their participants beaconed to.
//! - [`warninglist`]: [`Warninglists`], known-benign destinations (MISP warninglists).
//!
//! [`Record`]: accord_telemetry::Record

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod botnet;
pub mod c2;
pub mod ddos;
mod error;
pub mod internal;
pub mod observer;
pub mod pass;
pub mod sketch;
pub mod warninglist;

pub use error::Error;
pub use internal::InternalNets;
pub use observer::{Finding, Observer, Producer, Window};
pub use pass::{Pass, Tumbling};
pub use sketch::DistinctHosts;
pub use warninglist::Warninglists;
