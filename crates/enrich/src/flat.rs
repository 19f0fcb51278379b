//! The databases flattened into sorted range tables, for bulk enrichment.
//!
//! Hand-written because measured (BENCHMARKS.md, "The hub"): a lookup through the
//! `maxminddb` reader walks ~24 levels of the search tree (~128 for IPv6) and decodes a
//! record with `serde`, once per database: 1.4 M addresses enriched per CPU second on a
//! 100,000-network database pair, against the 5 M. A [`FlatEnricher`] walks each
//! database's tree once ([`Enricher::flatten`]), decodes each distinct record once, and
//! merges the country and the ASN database into one table of contiguous ranges (start
//! address, interned [`Place`]): an address is then one search in that table, whatever
//! the number of databases, with no decoding.
//!
//! Layout: IPv4 ranges as `u32` starts with a first-level index by the top 16 bits (a
//! bucket of a few ranges, searched by `partition_point`); IPv6 ranges as `u128` starts,
//! searched by `partition_point`. Adjacent ranges with the same place are merged.
//!
//! The tables are built by sweeping the address space with the reader's own lookup
//! (each lookup says the network it matched, the next sweep address is the one after
//! it), so a flat answer is the reader's answer by construction; the property test
//! `flat_lookups_equal_the_reader` in the crate's tests checks it on random addresses.
//! A tree that does not sweep (a corrupt file) is refused ([`EnrichError::Invalid`]):
//! callers then keep [`Enricher::lookup`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::mmdb::{country_of, AsnRecord, Database, EnrichError, Enricher, Place};

/// Most ranges a flattened database may have (a real IPv4 country or ASN database has
/// well under 2,000,000 networks; the sweep also counts the gaps between them). A tree
/// with more is refused rather than filling memory.
pub const MAX_RANGES: usize = 16_000_000;

/// Bits of an IPv4 address the first-level index is keyed by.
const V4_INDEX_BITS: u32 = 16;

/// A country database and an ASN database flattened into range tables (see the module
/// documentation). Answers exactly as [`Enricher::lookup`].
#[derive(Debug)]
pub struct FlatEnricher<'a> {
    /// Distinct places; index 0 is the unknown place.
    places: Vec<Place<'a>>,
    v4_starts: Vec<u32>,
    v4_places: Vec<u32>,
    /// `v4_index[b]`: the range holding address `b << 16` (`b` in `0..=65536`, the
    /// last entry the last range).
    v4_index: Vec<u32>,
    v6_starts: Vec<u128>,
    v6_places: Vec<u32>,
}

impl Enricher {
    /// The databases as a [`FlatEnricher`]: one pass over each database's tree (about
    /// as long as a lookup per network), then lookups without tree walks or decoding.
    /// Worth it for many lookups (`accord enrich` over a large store); refused for a
    /// tree that does not sweep (corrupt) or holds more than [`MAX_RANGES`] ranges.
    pub fn flatten(&self) -> Result<FlatEnricher<'_>, EnrichError> {
        let country_v4 = match self.country_database() {
            Some(db) => sweep_v4(db, |r| country_of(&r))?,
            None => vec![(0, None)],
        };
        let asn_v4 = match self.asn_database() {
            Some(db) => sweep_v4(db, asn_of)?,
            None => vec![(0, None)],
        };
        let country_v6 = match self.country_database() {
            Some(db) if db.info().ip_version == 6 => sweep_v6(db, |r| country_of(&r))?,
            _ => vec![(0, None)],
        };
        let asn_v6 = match self.asn_database() {
            Some(db) if db.info().ip_version == 6 => sweep_v6(db, asn_of)?,
            _ => vec![(0, None)],
        };
        let mut places = Places::default();
        let (v4_starts, v4_places) = merge(&country_v4, &asn_v4, &mut places);
        let (v6_starts, v6_places) = merge(&country_v6, &asn_v6, &mut places);
        let buckets = 1u64 << V4_INDEX_BITS;
        let mut v4_index = Vec::with_capacity(buckets as usize + 1);
        for b in 0..buckets {
            let at = (b << (32 - V4_INDEX_BITS)) as u32;
            // The first range starts at 0, so at least one start is <= `at`.
            v4_index.push((v4_starts.partition_point(|&s| s <= at) - 1) as u32);
        }
        v4_index.push((v4_starts.len() - 1) as u32);
        Ok(FlatEnricher {
            places: places.list,
            v4_starts,
            v4_places,
            v4_index,
            v6_starts,
            v6_places,
        })
    }
}

impl<'a> FlatEnricher<'a> {
    /// Where `ip` is: the same answer as [`Enricher::lookup`] (an IPv4-mapped IPv6
    /// address is looked up as the IPv4 address it carries).
    pub fn lookup(&self, ip: IpAddr) -> Place<'a> {
        let at = match ip {
            IpAddr::V4(v4) => self.lookup_v4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.lookup_v4(u32::from(v4)),
                None => {
                    let a = u128::from(v6);
                    // The first range starts at 0.
                    let i = self.v6_starts.partition_point(|&s| s <= a) - 1;
                    self.v6_places[i]
                }
            },
        };
        self.places[at as usize]
    }

    /// Ranges in the IPv4 and IPv6 tables (after merging equal neighbours).
    pub fn ranges(&self) -> (usize, usize) {
        (self.v4_starts.len(), self.v6_starts.len())
    }

    fn lookup_v4(&self, a: u32) -> u32 {
        let b = (a >> (32 - V4_INDEX_BITS)) as usize;
        let lo = self.v4_index[b] as usize;
        let hi = self.v4_index[b + 1] as usize;
        // starts[lo] <= a; count the starts after it that are <= a too.
        let i = lo + self.v4_starts[lo + 1..=hi].partition_point(|&s| s <= a);
        self.v4_places[i]
    }
}

/// Interned places.
#[derive(Default)]
struct Places<'a> {
    list: Vec<Place<'a>>,
    ids: HashMap<Place<'a>, u32>,
}

impl<'a> Places<'a> {
    fn id(&mut self, place: Place<'a>) -> u32 {
        if self.list.is_empty() {
            self.list.push(Place::default());
            self.ids.insert(Place::default(), 0);
        }
        *self.ids.entry(place).or_insert_with(|| {
            self.list.push(place);
            (self.list.len() - 1) as u32
        })
    }
}

fn asn_of(r: crate::mmdb::Record<'_>) -> AsnRecord<'_> {
    (r.autonomous_system_number, r.autonomous_system_organization)
}

/// Two step functions (sorted starts, the first at 0) merged into one of places,
/// equal neighbours merged.
fn merge<'a, K: Copy + Ord>(
    country: &[(K, Option<Option<crate::CountryCode>>)],
    asn: &[(K, Option<AsnRecord<'a>>)],
    places: &mut Places<'a>,
) -> (Vec<K>, Vec<u32>) {
    let (mut starts, mut ids) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < country.len() || j < asn.len() {
        // The next boundary: the smaller of the two next starts.
        let at = match (country.get(i), asn.get(j)) {
            (Some(c), Some(a)) => c.0.min(a.0),
            (Some(c), None) => c.0,
            (None, Some(a)) => a.0,
            (None, None) => break,
        };
        if country.get(i).is_some_and(|c| c.0 == at) {
            i += 1;
        }
        if asn.get(j).is_some_and(|a| a.0 == at) {
            j += 1;
        }
        // In force at `at`: the last entry of each list at or before it.
        let c = i.checked_sub(1).and_then(|k| country[k].1).flatten();
        let (asn_number, as_name) = j.checked_sub(1).and_then(|k| asn[k].1).unwrap_or_default();
        let id = places.id(Place {
            country: c,
            asn: asn_number,
            as_name,
        });
        if ids.last() != Some(&id) {
            starts.push(at);
            ids.push(id);
        }
    }
    (starts, ids)
}

/// The reader's answer for every IPv4 address, as (start, value) ranges from 0:
/// `None` where it has no record (or the record does not decode, as in
/// [`Enricher::lookup`]).
fn sweep_v4<'a, T: Copy + PartialEq>(
    db: &'a Database,
    make: impl Fn(crate::mmdb::Record<'a>) -> T,
) -> Result<Vec<(u32, Option<T>)>, EnrichError> {
    let mut decoded = Decoded::new(make);
    let mut out: Vec<(u32, Option<T>)> = Vec::new();
    let mut start: u64 = 0;
    let mut steps = 0usize;
    while start <= u64::from(u32::MAX) {
        let ip = IpAddr::V4(Ipv4Addr::from(start as u32));
        let found = db.reader().lookup(ip).map_err(invalid)?;
        let network = found.network().map_err(invalid)?;
        // An IPv6 network for an IPv4 address: the tree ends above its IPv4 subtree,
        // one answer for all of IPv4.
        let end = if network.is_ipv4() {
            let host_bits = 32 - u32::from(network.prefix());
            start | ((1u64 << host_bits) - 1)
        } else {
            u64::from(u32::MAX)
        };
        let value = decoded.value(&found);
        push(&mut out, start as u32, value)?;
        steps += 1;
        if steps > MAX_RANGES {
            return Err(too_many());
        }
        start = end + 1;
    }
    Ok(out)
}

/// [`sweep_v4`] over all of IPv6 (an IPv6 database only).
fn sweep_v6<'a, T: Copy + PartialEq>(
    db: &'a Database,
    make: impl Fn(crate::mmdb::Record<'a>) -> T,
) -> Result<Vec<(u128, Option<T>)>, EnrichError> {
    let mut decoded = Decoded::new(make);
    let mut out: Vec<(u128, Option<T>)> = Vec::new();
    let mut start: u128 = 0;
    let mut steps = 0usize;
    loop {
        let ip = IpAddr::V6(Ipv6Addr::from(start));
        let found = db.reader().lookup(ip).map_err(invalid)?;
        let network = found.network().map_err(invalid)?;
        if network.is_ipv4() {
            return Err(EnrichError::Invalid(format!(
                "the tree answers an IPv4 network for {ip}"
            )));
        }
        let host_bits = 128 - u32::from(network.prefix());
        let end = if host_bits == 128 {
            u128::MAX
        } else {
            start | ((1u128 << host_bits) - 1)
        };
        let value = decoded.value(&found);
        push(&mut out, start, value)?;
        steps += 1;
        if steps > MAX_RANGES {
            return Err(too_many());
        }
        match end.checked_add(1) {
            Some(next) => start = next,
            None => return Ok(out),
        }
    }
}

fn push<K, T: PartialEq>(
    out: &mut Vec<(K, Option<T>)>,
    at: K,
    value: Option<T>,
) -> Result<(), EnrichError> {
    if out.last().is_some_and(|last| last.1 == value) {
        return Ok(());
    }
    out.push((at, value));
    Ok(())
}

fn too_many() -> EnrichError {
    EnrichError::Invalid(format!("more than {MAX_RANGES} networks: not flattened"))
}

fn invalid(e: maxminddb::MaxMindDbError) -> EnrichError {
    EnrichError::Invalid(e.to_string())
}

/// Records decoded once per data offset.
struct Decoded<T, F> {
    make: F,
    by_offset: HashMap<usize, Option<T>>,
}

impl<T: Copy, F> Decoded<T, F> {
    fn new(make: F) -> Self {
        Decoded {
            make,
            by_offset: HashMap::new(),
        }
    }

    fn value<'a>(&mut self, found: &maxminddb::LookupResult<'a, Vec<u8>>) -> Option<T>
    where
        F: Fn(crate::mmdb::Record<'a>) -> T,
    {
        let offset = found.offset()?;
        if let Some(v) = self.by_offset.get(&offset) {
            return *v;
        }
        // As `Database::record`: a record that does not decode is unknown.
        let v = found
            .decode::<crate::mmdb::Record<'a>>()
            .ok()
            .flatten()
            .map(&self.make);
        self.by_offset.insert(offset, v);
        v
    }
}
