//! Country and autonomous system of an address, from MaxMind DB (`.mmdb`) files read
//! with the `maxminddb` crate.
//!
//! Record layouts understood (fields not listed are ignored):
//! - country: `country.iso_code` (GeoIP2/GeoLite2 Country and City, DB-IP), else
//!   `country_code` (the `@ip-location-db` country databases);
//! - autonomous system: `autonomous_system_number` and `autonomous_system_organization`
//!   (GeoLite2-ASN, DB-IP ASN, and the ASN database `scripts/fetch-geo-db` builds).
//!
//! A country code is kept only if it is two ASCII letters (uppercased); anything else
//! in a database counts as unknown. An address a database has no record for, or that
//! it cannot hold (IPv6 in an IPv4-only database), is unknown there.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;

/// Why a database could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrichError {
    /// The bytes are not a MaxMind DB file (or its metadata is broken).
    #[error("not a usable MaxMind DB file: {0}")]
    Invalid(String),
}

/// An ISO 3166-1 alpha-2 country code, uppercase (`MY`, `SG`). Databases also use the
/// user-assigned `EU`, `AP` and `XK`; they are kept as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The code of `text` if it is two ASCII letters (any case).
    pub fn parse(text: &str) -> Option<CountryCode> {
        match text.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(CountryCode([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
            ])),
            _ => None,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Two ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a database file says about itself (its metadata): the node records it with the
/// enrichment, and recomputes when it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseInfo {
    /// `database_type` (`GeoLite2-Country`, `geo-whois-asn-country`, ...).
    pub database_type: String,
    /// When the database was built (seconds since the Unix epoch).
    pub build_epoch: u64,
    /// 4 or 6.
    pub ip_version: u16,
    /// Nodes of its search tree (a cheap fingerprint beside the build epoch).
    pub node_count: u32,
}

/// One `.mmdb` file, in memory.
pub struct Database {
    reader: maxminddb::Reader<Vec<u8>>,
    info: DatabaseInfo,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("info", &self.info)
            .finish()
    }
}

impl Database {
    /// Reads a database from its bytes (checks the metadata and the search tree's
    /// layout; records are checked as they are read).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Database, EnrichError> {
        let reader = maxminddb::Reader::from_source(bytes)
            .map_err(|e| EnrichError::Invalid(e.to_string()))?;
        let m = reader.metadata();
        let info = DatabaseInfo {
            database_type: m.database_type.clone(),
            build_epoch: m.build_epoch,
            ip_version: m.ip_version,
            node_count: m.node_count,
        };
        Ok(Database { reader, info })
    }

    /// Its metadata.
    pub fn info(&self) -> &DatabaseInfo {
        &self.info
    }

    pub(crate) fn reader(&self) -> &maxminddb::Reader<Vec<u8>> {
        &self.reader
    }

    fn record(&self, ip: IpAddr) -> Option<Record<'_>> {
        if ip.is_ipv6() && self.info.ip_version == 4 {
            return None;
        }
        // A record that does not decode (a corrupt or foreign layout) is unknown, not
        // an error: one bad record must not stop the enrichment of a store.
        self.reader.lookup(ip).ok()?.decode::<Record<'_>>().ok()?
    }

    /// The record of `ip` through `cache` (keyed by the record's offset in the data
    /// section: many networks share one record, and decoding costs more than the
    /// tree walk).
    fn cached<'a, T: Copy>(
        &'a self,
        ip: IpAddr,
        cache: &mut HashMap<usize, Option<T>>,
        make: impl FnOnce(Record<'a>) -> T,
    ) -> Option<T> {
        if ip.is_ipv6() && self.info.ip_version == 4 {
            return None;
        }
        let found = self.reader.lookup(ip).ok()?;
        let offset = found.offset()?;
        if let Some(hit) = cache.get(&offset) {
            return *hit;
        }
        let value = found.decode::<Record<'a>>().ok().flatten().map(make);
        if cache.len() < MAX_CACHED_RECORDS {
            cache.insert(offset, value);
        }
        value
    }
}

/// Most decoded records an [`EnrichCache`] keeps per database (a real ASN database has
/// ~100,000 distinct records; a country database a few hundred).
pub const MAX_CACHED_RECORDS: usize = 1 << 20;

/// Decoded records by data-section offset, for [`Enricher::lookup_cached`]: one per
/// thread and run.
#[derive(Debug, Default)]
pub struct EnrichCache<'a> {
    country: HashMap<usize, Option<Option<CountryCode>>>,
    asn: HashMap<usize, Option<AsnRecord<'a>>>,
}

/// An ASN record as cached: number and organisation name.
pub(crate) type AsnRecord<'a> = (Option<u32>, Option<&'a str>);

#[derive(Deserialize)]
pub(crate) struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(default)]
    pub(crate) autonomous_system_number: Option<u32>,
    #[serde(borrow, default)]
    pub(crate) autonomous_system_organization: Option<&'a str>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

/// Where an address is, as far as the databases know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Place<'a> {
    /// Country (from the country database).
    pub country: Option<CountryCode>,
    /// Autonomous system number (from the ASN database).
    pub asn: Option<u32>,
    /// The autonomous system's organisation name (from the ASN database).
    pub as_name: Option<&'a str>,
}

impl Place<'_> {
    /// Whether the databases know nothing of the address.
    pub fn is_unknown(&self) -> bool {
        self.country.is_none() && self.asn.is_none()
    }
}

/// The databases enrichment reads: a country database and an ASN database (either may
/// be absent; one file holding both kinds of field may serve as both).
#[derive(Debug, Default)]
pub struct Enricher {
    country: Option<Database>,
    asn: Option<Database>,
}

impl Enricher {
    /// An enricher over these databases.
    pub fn new(country: Option<Database>, asn: Option<Database>) -> Enricher {
        Enricher { country, asn }
    }

    /// The country database, if any.
    pub fn country_database(&self) -> Option<&Database> {
        self.country.as_ref()
    }

    /// The ASN database, if any.
    pub fn asn_database(&self) -> Option<&Database> {
        self.asn.as_ref()
    }

    /// Where `ip` is. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is looked up as
    /// the IPv4 address it carries.
    pub fn lookup(&self, ip: IpAddr) -> Place<'_> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let mut place = Place::default();
        if let Some(record) = self.country.as_ref().and_then(|db| db.record(ip)) {
            place.country = country_of(&record);
        }
        if let Some(record) = self.asn.as_ref().and_then(|db| db.record(ip)) {
            place.asn = record.autonomous_system_number;
            place.as_name = record.autonomous_system_organization;
        }
        place
    }

    /// [`Enricher::lookup`], decoding each distinct record once per `cache`.
    pub fn lookup_cached<'a>(&'a self, ip: IpAddr, cache: &mut EnrichCache<'a>) -> Place<'a> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let mut place = Place::default();
        if let Some(db) = &self.country {
            place.country = db
                .cached(ip, &mut cache.country, |r| country_of(&r))
                .flatten();
        }
        if let Some(db) = &self.asn {
            if let Some((asn, name)) = db.cached(ip, &mut cache.asn, |r| {
                (r.autonomous_system_number, r.autonomous_system_organization)
            }) {
                place.asn = asn;
                place.as_name = name;
            }
        }
        place
    }
}

pub(crate) fn country_of(record: &Record<'_>) -> Option<CountryCode> {
    record
        .country
        .as_ref()
        .and_then(|c| c.iso_code)
        .or(record.country_code)
        .and_then(CountryCode::parse)
}

#[cfg(test)]
mod tests {
    use super::CountryCode;

    #[test]
    fn country_codes() {
        assert_eq!(
            CountryCode::parse("my").map(|c| c.to_string()).as_deref(),
            Some("MY")
        );
        assert_eq!(CountryCode::parse("MYS"), None);
        assert_eq!(CountryCode::parse("1A"), None);
        assert_eq!(CountryCode::parse(""), None);
    }
}
