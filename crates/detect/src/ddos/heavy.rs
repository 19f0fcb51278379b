//! Heavy hitters with bounded memory: Space-Saving top-k and a Count-Min sketch.
//!
//! A flood brings millions of distinct keys (spoofed sources, scanned targets); a
//! detector can keep only the heavy ones. [`SpaceSaving`] keeps at most `capacity`
//! counters and guarantees every key whose true count exceeds `total / capacity` is
//! among them, with `count - error <= true count <= count` (Metwally, Agrawal,
//! El Abbadi, "Efficient computation of frequent and top-k elements in data streams",
//! 2005). [`CountMin`] answers "has this key been seen often enough to be worth a
//! counter?" in fixed memory, over-estimating only (Cormode, Muthukrishnan, 2005).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;

/// One monitored key of a [`SpaceSaving`] summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted<K> {
    /// The key.
    pub key: K,
    /// Estimated count (an over-estimate by at most `error`).
    pub count: u64,
    /// Over-estimation bound: the count the key inherited when it replaced another.
    pub error: u64,
}

impl<K> Counted<K> {
    /// The count the key certainly reached (`count - error`).
    pub fn guaranteed(&self) -> u64 {
        self.count - self.error
    }
}

/// Space-Saving top-k: at most `capacity` counters whatever the number of keys.
///
/// A new key, when the summary is full, replaces the key with the smallest count and
/// inherits that count as its error. Replacing scans the counters (`O(capacity)`),
/// which is why capacities stay small (tens to a few thousands) and large key spaces
/// are gated by a [`CountMin`] first.
#[derive(Debug, Clone)]
pub struct SpaceSaving<K> {
    capacity: usize,
    index: HashMap<K, usize, FixedState>,
    items: Vec<Counted<K>>,
    /// A lower bound of every count (counts only grow): a scan for the minimum stops
    /// at the first counter at the bound, so a stream of distinct light keys (spoofed
    /// sources) costs O(1) amortised per key instead of O(capacity).
    floor: u64,
    /// Where the next scan starts (after the last replaced counter).
    cursor: usize,
}

impl<K: Hash + Eq + Clone> SpaceSaving<K> {
    /// An empty summary of at most `capacity` (at least 1) counters.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        SpaceSaving {
            capacity,
            index: HashMap::with_capacity_and_hasher(0, FixedState::default()),
            items: Vec::new(),
            floor: 0,
            cursor: 0,
        }
    }

    /// Adds `weight` to `key`; returns the key evicted to make room, if any.
    pub fn add(&mut self, key: &K, weight: u64) -> Option<K> {
        if let Some(&i) = self.index.get(key) {
            self.items[i].count = self.items[i].count.saturating_add(weight);
            return None;
        }
        if self.items.len() < self.capacity {
            self.index.insert(key.clone(), self.items.len());
            self.items.push(Counted {
                key: key.clone(),
                count: weight,
                error: 0,
            });
            return None;
        }
        let i = self.min_slot();
        let min = self.items[i].count;
        self.cursor = (i + 1) % self.items.len();
        let old = std::mem::replace(
            &mut self.items[i],
            Counted {
                key: key.clone(),
                count: min.saturating_add(weight),
                error: min,
            },
        );
        self.index.remove(&old.key);
        self.index.insert(key.clone(), i);
        Some(old.key)
    }

    /// The counter with the smallest count (the first at the floor from the cursor).
    fn min_slot(&mut self) -> usize {
        let n = self.items.len();
        let mut best = self.cursor % n;
        for step in 0..n {
            let i = (self.cursor + step) % n;
            let c = self.items[i].count;
            if c <= self.floor {
                return i;
            }
            if c < self.items[best].count {
                best = i;
            }
        }
        self.floor = self.items[best].count;
        best
    }

    /// Is `key` monitored?
    pub fn contains(&self, key: &K) -> bool {
        self.index.contains_key(key)
    }

    /// The position of `key` among the counters (stable until it is evicted).
    pub fn slot(&self, key: &K) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// Number of monitored keys (at most the capacity).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `true` if nothing was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The monitored keys, largest count first (ties by insertion position).
    pub fn top(&self) -> Vec<&Counted<K>> {
        let mut v: Vec<&Counted<K>> = self.items.iter().collect();
        v.sort_by_key(|c| std::cmp::Reverse(c.count));
        v
    }
}

/// Count-Min sketch: `DEPTH` rows of `width` counters; estimates never under-count.
#[derive(Debug, Clone)]
pub struct CountMin {
    width: usize,
    rows: Vec<u32>,
    hashers: [FixedState; CM_DEPTH],
}

/// Rows of a [`CountMin`]: the probability that an estimate is off by more than
/// `e * total / width` is at most `exp(-CM_DEPTH)` (under 2%).
pub const CM_DEPTH: usize = 4;

impl CountMin {
    /// A sketch of `CM_DEPTH x width` 32-bit counters (`width` at least 16).
    pub fn new(width: usize) -> Self {
        let width = width.max(16);
        CountMin {
            width,
            rows: vec![0; width * CM_DEPTH],
            hashers: [
                FixedState::with_seed(0x9e37_79b9_7f4a_7c15),
                FixedState::with_seed(0xc2b2_ae3d_27d4_eb4f),
                FixedState::with_seed(0x1656_67b1_9e37_79f9),
                FixedState::with_seed(0x85eb_ca77_c2b2_ae63),
            ],
        }
    }

    /// Adds `weight` to `key` and returns the new estimate.
    pub fn add<K: Hash>(&mut self, key: &K, weight: u32) -> u32 {
        let mut est = u32::MAX;
        for (r, h) in self.hashers.iter().enumerate() {
            let col = (h.hash_one(key) % self.width as u64) as usize;
            let c = &mut self.rows[r * self.width + col];
            *c = c.saturating_add(weight);
            est = est.min(*c);
        }
        est
    }

    /// The estimate of `key` (never below its true count).
    pub fn estimate<K: Hash>(&self, key: &K) -> u32 {
        self.hashers
            .iter()
            .enumerate()
            .map(|(r, h)| {
                let col = (h.hash_one(key) % self.width as u64) as usize;
                self.rows[r * self.width + col]
            })
            .min()
            .unwrap_or(0)
    }

    /// Bytes held by the counters.
    pub fn bytes(&self) -> usize {
        self.rows.len() * 4
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        self.rows.iter_mut().for_each(|c| *c = 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_saving_keeps_the_heavy_keys_among_many_light_ones() {
        let mut s = SpaceSaving::new(8);
        for i in 0..10_000u32 {
            s.add(&i, 1);
            if i % 10 == 0 {
                s.add(&1_000_000u32, 5);
            }
        }
        let top = s.top();
        assert_eq!(top[0].key, 1_000_000);
        assert!(top[0].guaranteed() >= 4_000, "{:?}", top[0]);
        assert_eq!(s.len(), 8);
    }

    #[test]
    fn the_floor_scan_evicts_a_true_minimum() {
        let mut s = SpaceSaving::new(4);
        for (k, w) in [(1u32, 5), (2, 3), (3, 7), (4, 2)] {
            s.add(&k, w);
        }
        assert_eq!(s.add(&5, 1), Some(4), "the smallest count goes");
        // 5 now has 3 (2 + 1); 2 has 3 too: either may go, never 1 or 3.
        let gone = s.add(&6, 1);
        assert!(matches!(gone, Some(2) | Some(5)), "{gone:?}");
        assert!(s.contains(&1) && s.contains(&3));
    }

    proptest::proptest! {
        #[test]
        fn space_saving_bounds_hold_and_frequent_keys_are_kept(
            stream in proptest::collection::vec((0u16..64, 1u64..5), 0..600),
            capacity in 1usize..24,
        ) {
            let mut s = SpaceSaving::new(capacity);
            let mut truth = std::collections::HashMap::new();
            let mut total = 0u64;
            for (k, w) in &stream {
                s.add(k, *w);
                *truth.entry(*k).or_insert(0u64) += w;
                total += w;
            }
            for c in s.top() {
                let t = truth[&c.key];
                proptest::prop_assert!(c.guaranteed() <= t && t <= c.count, "{c:?} true {t}");
            }
            for (k, t) in &truth {
                if *t * capacity as u64 > total {
                    proptest::prop_assert!(s.contains(k), "key {k} with {t} of {total} dropped");
                }
            }
        }
    }

    #[test]
    fn count_min_never_under_counts() {
        let mut cm = CountMin::new(64);
        for i in 0..5_000u32 {
            cm.add(&(i % 300), 1);
        }
        for k in 0..300u32 {
            let truth = 5_000 / 300 + u32::from(k < 5_000 % 300);
            assert!(cm.estimate(&k) >= truth);
        }
    }
}
