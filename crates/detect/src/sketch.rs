//! Distinct counts with bounded memory.

use std::net::IpAddr;

use cardinality_estimator::CardinalityEstimator;

/// How many distinct hosts did something: exact while small, then HyperLogLog++ with
/// 2^12 registers (standard error about 1.6%, at most about 3 KiB whatever the count).
///
/// Hosts go in; only the count comes out, which is why internal (customer) addresses
/// may be counted into one.
///
/// ```
/// let mut s = accord_detect::DistinctHosts::new();
/// for i in 0..100u8 {
///     s.insert("10.0.0.1".parse().unwrap());
///     s.insert(std::net::IpAddr::from([10, 0, 1, i]));
/// }
/// assert_eq!(s.estimate(), 101);
/// ```
#[derive(Debug, Clone, Default)]
pub struct DistinctHosts {
    sketch: CardinalityEstimator<IpAddr>,
}

impl DistinctHosts {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `host`.
    #[inline]
    pub fn insert(&mut self, host: IpAddr) {
        self.sketch.insert(&host);
    }

    /// The estimated number of distinct hosts inserted.
    pub fn estimate(&self) -> u64 {
        self.sketch.estimate() as u64
    }

    /// Adds another sketch's hosts to this one.
    pub fn merge(&mut self, other: &DistinctHosts) {
        self.sketch.merge(&other.sketch);
    }
}
