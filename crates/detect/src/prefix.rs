//! A prefix table: which of a set of networks (CIDRs) contain an address.
//!
//! Networks form a laminar family (two CIDRs are disjoint or one contains the other),
//! so the address space splits into disjoint *elementary intervals*, each covered by a
//! chain of nested networks. The table stores the sorted interval starts with the
//! innermost covering network of each, and every network knows its parent. A lookup
//! is a binary search over the starts — narrowed first by a 2^16-entry index on the
//! top 16 address bits, so that a table of a million networks needs about four probes
//! — followed by a walk up the parent chain (at most 33 / 129 networks deep).

use std::fmt::Debug;

const NONE: u32 = u32::MAX;
const INDEX_BITS: u32 = 16;

/// An unsigned integer form of an address (`u32` for IPv4, `u128` for IPv6).
pub trait Key: Copy + Ord + Debug + Default {
    /// Width in bits.
    const BITS: u32;
    /// The largest value.
    const MAX: Self;
    /// `self + 1` (never called on `MAX`).
    fn succ(self) -> Self;
    /// The top [`INDEX_BITS`] bits.
    fn bucket(self) -> usize;
    /// The smallest key of a bucket.
    fn bucket_start(b: usize) -> Self;
}

impl Key for u32 {
    const BITS: u32 = 32;
    const MAX: Self = u32::MAX;
    fn succ(self) -> Self {
        self + 1
    }
    fn bucket(self) -> usize {
        (self >> (32 - INDEX_BITS)) as usize
    }
    fn bucket_start(b: usize) -> Self {
        (b as u32) << (32 - INDEX_BITS)
    }
}

impl Key for u128 {
    const BITS: u32 = 128;
    const MAX: Self = u128::MAX;
    fn succ(self) -> Self {
        self + 1
    }
    fn bucket(self) -> usize {
        (self >> (128 - INDEX_BITS)) as usize
    }
    fn bucket_start(b: usize) -> Self {
        (b as u128) << (128 - INDEX_BITS)
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
    starts: Vec<K>,
    innermost: Vec<u32>,
    parent: Vec<u32>,
    values: Vec<V>,
    index: Vec<u32>,
}

impl<K: Key, V: Copy> PrefixTable<K, V> {
    /// Builds the table. Entries must be CIDR networks (nested or disjoint) and distinct.
    ///
    /// ```
    /// use accord_detect::prefix::{PrefixTable, NetEntry};
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
            starts: vec![K::default()],
            innermost: vec![NONE],
            parent: Vec::with_capacity(entries.len()),
            values: Vec::with_capacity(entries.len()),
            index: Vec::new(),
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
        t.index = (0..=(1usize << INDEX_BITS))
            .map(|b| {
                if b == 1 << INDEX_BITS {
                    t.starts.len() as u32
                } else {
                    let s = K::bucket_start(b);
                    t.starts.partition_point(|x| *x < s) as u32
                }
            })
            .collect();
        t
    }

    fn push_interval(&mut self, start: K, cover: u32) {
        if self.starts.last() == Some(&start) {
            if let Some(last) = self.innermost.last_mut() {
                *last = cover;
            }
        } else {
            self.starts.push(start);
            self.innermost.push(cover);
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

    #[inline]
    fn innermost_at(&self, addr: K) -> u32 {
        if self.values.is_empty() {
            return NONE;
        }
        let b = addr.bucket();
        let lo = self.index[b] as usize;
        let hi = self.index[b + 1] as usize;
        let k = self.starts[lo..hi].partition_point(|s| *s <= addr);
        // starts[0] == 0 <= addr, so lo + k >= 1.
        let pos = (lo + k).saturating_sub(1);
        self.innermost[pos]
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
        self.starts.len()
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
