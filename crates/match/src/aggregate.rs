//! Aggregation of matches into sightings: one per (indicator, time window).
//!
//! A sighting carries counts and times only. The internal (customer) addresses of the
//! matching records go into a HyperLogLog sketch per sighting and leave it only as an
//! estimated number of distinct hosts: no address is ever written into a sighting.

use std::collections::HashMap;
use std::net::IpAddr;

use accord_telemetry::Micros;
use cardinality_estimator::CardinalityEstimator;
use foldhash::fast::RandomState;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::time::format_timestamp;

/// The UUIDv5 namespace of sighting ids (a fixed random UUID of Accord's): the id of a
/// sighting is UUIDv5 over `indicator id | window start | observer identity`, so the
/// same input yields the same ids, and storing them again is idempotent.
pub const SIGHTING_NAMESPACE: Uuid = Uuid::from_u128(0x6d1f_5a6e_3c2b_4f0a_9d87_1e2c_4b5a_6f70);

/// The largest `count` STIX allows on a sighting; larger counts are capped.
pub const MAX_COUNT: u64 = 999_999_999;

/// The custom property carrying the estimated number of distinct internal hosts.
pub const DISTINCT_HOSTS_PROPERTY: &str = "x_accord_distinct_hosts";

/// Sketch of distinct hosts: HyperLogLog++ with 2^12 registers (standard error about
/// 1.6%; exact for small counts).
type HostSketch = CardinalityEstimator<IpAddr>;

#[derive(Debug)]
struct Bucket {
    count: u64,
    first: Micros,
    last: Micros,
    hosts: HostSketch,
}

/// Counts matches per (indicator, window).
#[derive(Debug)]
pub struct Aggregator {
    window: Micros,
    buckets: HashMap<(u32, Micros), Bucket, RandomState>,
}

impl Aggregator {
    /// An aggregator with windows of `window` microseconds (at least one second).
    pub fn new(window: Micros) -> Self {
        Aggregator {
            window: window.max(1_000_000),
            buckets: HashMap::default(),
        }
    }

    /// Start of the window containing `ts`.
    pub fn window_start(&self, ts: Micros) -> Micros {
        ts.div_euclid(self.window) * self.window
    }

    /// Records one match of `indicator` at `ts`, with the internal hosts involved.
    #[inline]
    pub fn add(&mut self, indicator: u32, ts: Micros, hosts: &[IpAddr]) {
        let key = (indicator, self.window_start(ts));
        let b = self.buckets.entry(key).or_insert_with(|| Bucket {
            count: 0,
            first: ts,
            last: ts,
            hosts: HostSketch::new(),
        });
        b.count += 1;
        b.first = b.first.min(ts);
        b.last = b.last.max(ts);
        for h in hosts {
            b.hosts.insert(h);
        }
    }

    /// Number of (indicator, window) buckets so far.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// `true` if nothing matched yet.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The sightings, ordered by indicator id then window. `id_of` names indicators.
    pub fn into_sightings<'a>(
        self,
        id_of: impl Fn(u32) -> Option<&'a str>,
        observer: &str,
    ) -> Vec<Sighting> {
        let window = self.window;
        let mut out: Vec<Sighting> = self
            .buckets
            .into_iter()
            .filter_map(|((ind, start), b)| {
                let indicator_id = id_of(ind)?.to_string();
                Some(Sighting::new(
                    indicator_id,
                    observer,
                    start,
                    window,
                    b.first,
                    b.last,
                    b.count,
                    b.hosts.estimate() as u64,
                ))
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.indicator_id, a.window_start).cmp(&(&b.indicator_id, b.window_start))
        });
        out
    }
}

/// One sighting: an indicator seen in one time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// `sighting--<UUIDv5>` (see [`SIGHTING_NAMESPACE`]).
    pub id: String,
    /// The indicator sighted (`sighting_of_ref`).
    pub indicator_id: String,
    /// The observer's identity (`where_sighted_refs`, `created_by_ref`).
    pub observer: String,
    /// Start of the window.
    pub window_start: Micros,
    /// Window length.
    pub window: Micros,
    /// First matching record's time.
    pub first_seen: Micros,
    /// Last matching record's time.
    pub last_seen: Micros,
    /// Number of matching records.
    pub count: u64,
    /// Estimated number of distinct internal hosts involved.
    pub distinct_hosts: u64,
}

impl Sighting {
    #[allow(clippy::too_many_arguments)]
    fn new(
        indicator_id: String,
        observer: &str,
        window_start: Micros,
        window: Micros,
        first_seen: Micros,
        last_seen: Micros,
        count: u64,
        distinct_hosts: u64,
    ) -> Self {
        let name = format!("{indicator_id}|{window_start}|{observer}");
        let id = format!(
            "sighting--{}",
            Uuid::new_v5(&SIGHTING_NAMESPACE, name.as_bytes())
        );
        Sighting {
            id,
            indicator_id,
            observer: observer.to_string(),
            window_start,
            window,
            first_seen,
            last_seen,
            count,
            distinct_hosts,
        }
    }

    /// The STIX 2.1 `sighting` object.
    ///
    /// `created` is the window's start and `modified` the last sighting time, both
    /// derived from the data so that the same input gives the same object; `count` is
    /// capped at [`MAX_COUNT`]. Besides [`DISTINCT_HOSTS_PROPERTY`] the object carries
    /// nothing about the hosts.
    pub fn to_json(&self) -> Value {
        let created = format_timestamp(self.window_start);
        let modified = format_timestamp(self.last_seen.max(self.window_start));
        json!({
            "type": "sighting",
            "spec_version": "2.1",
            "id": self.id,
            "created": created,
            "modified": modified,
            "created_by_ref": self.observer,
            "first_seen": format_timestamp(self.first_seen),
            "last_seen": format_timestamp(self.last_seen),
            "count": self.count.min(MAX_COUNT),
            "sighting_of_ref": self.indicator_id,
            "where_sighted_refs": [self.observer],
            DISTINCT_HOSTS_PROPERTY: self.distinct_hosts,
        })
    }
}

/// A sighting is the finding of indicator matching: already STIX.
impl accord_detect::Finding for Sighting {
    fn kind(&self) -> &'static str {
        "sighting"
    }

    /// A match of a known indicator is certain; how much the indicator deserves trust
    /// is the indicator's own `confidence`.
    fn score(&self) -> f64 {
        1.0
    }

    fn subject(&self) -> String {
        self.indicator_id.clone()
    }

    fn summary(&self) -> String {
        format!(
            "{} matches, about {} internal hosts",
            self.count, self.distinct_hosts
        )
    }

    fn to_json(&self) -> Value {
        Sighting::to_json(self)
    }

    fn to_stix(&self, _: &accord_detect::Producer) -> Vec<Value> {
        vec![Sighting::to_json(self)]
    }
}
