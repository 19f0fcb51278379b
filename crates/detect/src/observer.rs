//! The seam every detector implements.

use std::fmt;

use accord_telemetry::{Micros, Record};
use serde_json::Value;

/// The span of telemetry a detector's findings cover, in microseconds since the epoch
/// (`end` inclusive: the time of the last record seen, or the window's boundary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First instant of the window.
    pub start: Micros,
    /// Last instant of the window.
    pub end: Micros,
}

/// Who produces the findings and when: what STIX output needs beyond the finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Producer {
    /// The operator's identity (`identity--<uuid>`): `created_by_ref` of every object
    /// and `where_sighted_refs` of sightings.
    pub identity: String,
    /// Creation time of the objects, in microseconds since the epoch (the node's
    /// clock; the library reads no clock).
    pub now: Micros,
}

/// A detector: sees each record once, and gives its findings at the end of a window.
///
/// Observers are driven by a [`crate::Pass`]. `observe` sits on the hot path of
/// telemetry (millions of records per second): it must not allocate per record, and
/// the state it keeps must be bounded per key (sketches, not every timestamp).
pub trait Observer: Send {
    /// Short stable name: `c2`, `ddos`, `phishing`, `match`.
    fn name(&self) -> &'static str;

    /// Sees one record.
    fn observe(&mut self, record: &Record<'_>);

    /// The findings of the window that ends now; the observer starts the next window
    /// with whatever state its method carries over (none, or decayed summaries).
    fn finish(&mut self, window: &Window) -> Vec<Box<dyn Finding>>;
}

/// One finding of a detector, with the evidence an analyst reads.
pub trait Finding: fmt::Debug + Send {
    /// `c2`, `ddos`, `phishing`, `sighting`.
    fn kind(&self) -> &'static str;

    /// Confidence in `0..=1`.
    fn score(&self) -> f64;

    /// What the finding is about, for a human table: a destination, a target, a domain.
    fn subject(&self) -> String;

    /// One line of the strongest evidence, for a human table.
    fn summary(&self) -> String;

    /// The finding as the JSON contract of `accord --json detect` documents it.
    fn to_json(&self) -> Value;

    /// The finding as STIX 2.1 objects. Ids are deterministic (UUIDv5 over what the
    /// finding is about), so that storing the findings of the same telemetry again
    /// updates instead of duplicating. Internal (customer) addresses never appear.
    fn to_stix(&self, producer: &Producer) -> Vec<Value>;
}
