//! A prefix table: which of a set of networks (CIDRs) contain an address.
//!
//! Networks form a laminar family (two CIDRs are disjoint or one contains the other),
//! so the address space splits into disjoint *elementary intervals*, each covered by a
//! chain of nested networks. The table stores the sorted interval starts with the
//! innermost covering network of each (side by side, so the search ends in the cache
//! line holding the answer), and every network knows its parent. A lookup is a binary
//! search over the starts — narrowed first by an index on the top address bits, sized
//! to about one interval per bucket (2^8 to 2^20 buckets), so that even a table of a
//! million networks needs one or two probes — followed by a walk up the parent chain
//! (at most 33 / 129 networks deep).
//!
//! Large tables also keep a 2 MiB bitmap with one bit per 2^-24 of the address space
//! (an IPv4 /24), set where some network touches that block. Most telemetry addresses
//! match nothing, and for them the lookup is one read in a bitmap small enough to stay
//! in cache, instead of two dependent reads in tables of tens of megabytes: measured on
//! the benchmark with a million indicators, this halves the matching cost per record.

use std::fmt::Debug;

const NONE: u32 = u32::MAX;
const MIN_INDEX_BITS: u32 = 8;
const MAX_INDEX_BITS: u32 = 20;
/// Bits of the address selecting a bit of the filter bitmap.
const FILTER_BITS: u32 = 24;
/// Tables with fewer intervals stay in cache anyway and get no filter.
const FILTER_MIN_INTERVALS: usize = 1 << 14;

/// An unsigned integer form of an address (`u32` for IPv4, `u128` for IPv6).
pub trait Key: Copy + Ord + Debug + Default {
    /// Width in bits.
    const BITS: u32;
    /// The largest value.
    const MAX: Self;
    /// `self + 1` (never called on `MAX`).
    fn succ(self) -> Self;
    /// The top `bits` bits.
    fn bucket(self, bits: u32) -> usize;
    /// The smallest key of a bucket.
    fn bucket_start(b: usize, bits: u32) -> Self;
}

impl Key for u32 {
    const BITS: u32 = 32;
    const MAX: Self = u32::MAX;
    fn succ(self) -> Self {
        self + 1
    }
    fn bucket(self, bits: u32) -> usize {
        (self >> (32 - bits)) as usize
    }
    fn bucket_start(b: usize, bits: u32) -> Self {
        (b as u32) << (32 - bits)
    }
}

impl Key for u128 {
    const BITS: u32 = 128;
    const MAX: Self = u128::MAX;
    fn succ(self) -> Self {
        self + 1
    }
    fn bucket(self, bits: u32) -> usize {
        (self >> (128 - bits)) as usize
    }
    fn bucket_start(b: usize, bits: u32) -> Self {
        (b as u128) << (128 - bits)
    }
}

/// A network given to [`PrefixTable::build`]: its first and last address and a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetEntry<K, V> {
    /// First address of the network.
    pub first: K,
    /// Last address of the network.
    pub last: K,
    /// What a lookup reports for this network.
    pub value: V,
}

/// The compiled table (see the module documentation).
#[derive(Debug, Clone)]
pub struct PrefixTable<K, V> {
    /// (interval start, innermost network covering it or `NONE`), by start.
    intervals: Vec<(K, u32)>,
    parent: Vec<u32>,
    values: Vec<V>,
    index: Vec<u32>,
    index_bits: u32,
    /// One bit per top-[`FILTER_BITS`] block: set if a network touches it (empty: no filter).
    filter: Vec<u64>,
}

impl<K: Key, V: Copy> PrefixTable<K, V> {
    /// Builds the table. Entries must be CIDR networks (nested or disjoint) and distinct.
    ///
    /// ```
    /// use accord_match::prefix::{PrefixTable, NetEntry};
    /// let t = PrefixTable::build(vec![
    ///     NetEntry { first: 0x0A00_0000u32, last: 0x0AFF_FFFF, value: "10/8" },
    ///     NetEntry { first: 0x0A01_0000, last: 0x0A01_FFFF, value: "10.1/16" },
    /// ]);
    /// let mut hits = Vec::new();
    /// t.lookup(0x0A01_0203, |v| hits.push(*v));
    /// assert_eq!(hits, ["10.1/16", "10/8"]);
    /// ```
    pub fn build(mut entries: Vec<NetEntry<K, V>>) -> Self {
        entries.sort_by(|a, b| a.first.cmp(&b.first).then(b.last.cmp(&a.last)));
        let mut t = PrefixTable {
            intervals: vec![(K::default(), NONE)],
            parent: Vec::with_capacity(entries.len()),
            values: Vec::with_capacity(entries.len()),
            index: Vec::new(),
            index_bits: MIN_INDEX_BITS,
            filter: Vec::new(),
        };
        let mut stack: Vec<(u32, K)> = Vec::new();
        for e in &entries {
            while let Some(&(_, last)) = stack.last() {
                if last >= e.first {
                    break;
                }
                stack.pop();
                let cover = stack.last().map_or(NONE, |s| s.0);
                t.push_interval(last.succ(), cover);
            }
            let id = t.values.len() as u32;
            t.parent.push(stack.last().map_or(NONE, |s| s.0));
            t.values.push(e.value);
            t.push_interval(e.first, id);
            stack.push((id, e.last));
        }
        while let Some((_, last)) = stack.pop() {
            if last == K::MAX {
                continue;
            }
            let cover = stack.last().map_or(NONE, |s| s.0);
            t.push_interval(last.succ(), cover);
        }
        let wanted = usize::BITS - t.intervals.len().leading_zeros();
        t.index_bits = wanted.clamp(MIN_INDEX_BITS, MAX_INDEX_BITS).min(K::BITS);
        let buckets = 1usize << t.index_bits;
        t.index = Vec::with_capacity(buckets + 1);
        let mut pos = 0usize;
        for b in 0..buckets {
            let s = K::bucket_start(b, t.index_bits);
            while pos < t.intervals.len() && t.intervals[pos].0 < s {
                pos += 1;
            }
            t.index.push(pos as u32);
        }
        t.index.push(t.intervals.len() as u32);
        if t.intervals.len() >= FILTER_MIN_INTERVALS {
            t.filter = vec![0u64; (1usize << FILTER_BITS) / 64];
            for e in &entries {
                let (a, b) = (e.first.bucket(FILTER_BITS), e.last.bucket(FILTER_BITS));
                for block in a..=b {
                    t.filter[block / 64] |= 1u64 << (block % 64);
                }
            }
        }
        t
    }

    fn push_interval(&mut self, start: K, cover: u32) {
        match self.intervals.last_mut() {
            Some(last) if last.0 == start => last.1 = cover,
            _ => self.intervals.push((start, cover)),
        }
    }

    /// Calls `f` with the value of every network containing `addr`, innermost first.
    #[inline]
    pub fn lookup(&self, addr: K, mut f: impl FnMut(&V)) {
        let mut net = self.innermost_at(addr);
        while net != NONE {
            let i = net as usize;
            f(&self.values[i]);
            net = self.parent[i];
        }
    }

    /// A quick, cache-friendly pre-check: `false` means no network contains `addr`;
    /// `true` means one may. Independent pre-checks of many addresses overlap their
    /// memory reads, which is why the detector checks a batch of records first.
    #[inline]
    pub fn may_contain(&self, addr: K) -> bool {
        if self.values.is_empty() {
            return false;
        }
        if self.filter.is_empty() {
            return true;
        }
        let block = addr.bucket(FILTER_BITS);
        let word = self.filter.get(block / 64).copied().unwrap_or(u64::MAX);
        word & (1u64 << (block % 64)) != 0
    }

    #[inline]
    fn innermost_at(&self, addr: K) -> u32 {
        if self.values.is_empty() {
            return NONE;
        }
        if !self.filter.is_empty() {
            let block = addr.bucket(FILTER_BITS);
            let word = self.filter.get(block / 64).copied().unwrap_or(u64::MAX);
            if word & (1u64 << (block % 64)) == 0 {
                return NONE;
            }
        }
        let b = addr.bucket(self.index_bits);
        let lo = self.index.get(b).map_or(0, |v| *v as usize);
        let hi = self
            .index
            .get(b + 1)
            .map_or(self.intervals.len(), |v| *v as usize);
        let k = self
            .intervals
            .get(lo..hi)
            .map_or(0, |s| s.partition_point(|s| s.0 <= addr));
        // intervals[0].0 == 0 <= addr, so lo + k >= 1.
        let pos = (lo + k).saturating_sub(1);
        self.intervals.get(pos).map_or(NONE, |i| i.1)
    }

    /// Number of networks in the table.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// `true` if the table holds no network.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Number of elementary intervals (for sizing reports).
    pub fn intervals(&self) -> usize {
        self.intervals.len()
    }
}

/// First and last address of a network as integers.
pub fn v4_range(n: &ipnet::Ipv4Net) -> (u32, u32) {
    (u32::from(n.network()), u32::from(n.broadcast()))
}

/// First and last address of a network as integers.
pub fn v6_range(n: &ipnet::Ipv6Net) -> (u128, u128) {
    (u128::from(n.network()), u128::from(n.broadcast()))
}
