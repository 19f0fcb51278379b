//! The hub's enrichment, stored beside the objects: every address the objects are about
//! gets its country, ASN and AS name from MaxMind-format databases, every domain its
//! registrable domain (Public Suffix List). Objects are never changed: the facts live
//! in the store's enrichment tables (`accord_store::Store::put_enrichment`), with the
//! metadata of the databases they came from, and are recomputed when a database
//! changes (another build epoch, type or tree) or objects arrive.
//!
//! What locates an object is [`accord_enrich::Subjects`]; where it is, its
//! [`Location`], is the set of countries and ASNs of its subjects' addresses. The gate
//! asks for it under agreements scoped by location (the door's resolver calls
//! [`locate_in_store`]); routing and trends use an in-memory [`Index`].

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use accord_agreements::Location;
use accord_enrich::{registrable_domain, Database, Enricher, Subjects};
use accord_store::{
    for_each_row, AddressEnrichment, DomainEnrichment, EnrichmentSource, EnrichmentState,
    ObjectQuery, Scope, Store, StoreError, VersionFilter,
};

/// Rows read per store page while enriching.
const PAGE: usize = 1_000;

/// From this many distinct addresses, enrichment flattens the databases into a range
/// table before looking up (`Enricher::flatten`). Measured on a 100,000-network
/// country + ASN pair (BENCHMARKS.md, "The hub"): flattening costs 0.46 s CPU, a
/// lookup then 0.04 µs instead of 0.65 µs through the reader: worth it from about
/// 750,000 addresses.
pub const FLATTEN_FROM: usize = 1_000_000;

/// Why enrichment failed (nothing was stored).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrichError {
    /// A database file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A database file is not a MaxMind DB.
    #[error("{path}: {source}")]
    Database {
        /// The file.
        path: PathBuf,
        /// Why.
        source: accord_enrich::EnrichError,
    },
    /// No database was given and the store records none to reuse.
    #[error(
        "no database: give --mmdb-country and/or --mmdb-asn (scripts/fetch-geo-db fetches free ones)"
    )]
    NoDatabase,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The databases of one run, with what the store records of them.
#[derive(Debug)]
pub struct Databases {
    /// The lookups.
    pub enricher: Enricher,
    /// Their metadata, by role (`asn`, `country`, in that order).
    pub sources: Vec<EnrichmentSource>,
}

impl Databases {
    /// Reads the country and ASN databases (either may be absent, not both).
    pub fn open(country: Option<&Path>, asn: Option<&Path>) -> Result<Databases, EnrichError> {
        if country.is_none() && asn.is_none() {
            return Err(EnrichError::NoDatabase);
        }
        let read = |path: &Path, role: &str| -> Result<(Database, EnrichmentSource), EnrichError> {
            let bytes = std::fs::read(path).map_err(|source| EnrichError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let db = Database::from_bytes(bytes).map_err(|source| EnrichError::Database {
                path: path.to_path_buf(),
                source,
            })?;
            let info = db.info();
            let source = EnrichmentSource {
                role: role.to_owned(),
                path: path.display().to_string(),
                database_type: info.database_type.clone(),
                build_epoch: info.build_epoch,
                node_count: info.node_count,
            };
            Ok((db, source))
        };
        let mut sources = Vec::new();
        let asn = match asn {
            Some(p) => {
                let (db, s) = read(p, "asn")?;
                sources.push(s);
                Some(db)
            }
            None => None,
        };
        let country = match country {
            Some(p) => {
                let (db, s) = read(p, "country")?;
                sources.push(s);
                Some(db)
            }
            None => None,
        };
        Ok(Databases {
            enricher: Enricher::new(country, asn),
            sources,
        })
    }

    /// The databases the store's last enrichment read, from the paths it recorded.
    pub fn reopen(state: &EnrichmentState) -> Result<Databases, EnrichError> {
        let path = |role: &str| {
            state
                .sources
                .iter()
                .find(|s| s.role == role)
                .map(|s| PathBuf::from(&s.path))
        };
        Databases::open(path("country").as_deref(), path("asn").as_deref())
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Nothing to do: same databases, no new objects.
    pub up_to_date: bool,
    /// Everything was recomputed (the databases changed, or `force`).
    pub recomputed: bool,
    /// Object versions read.
    pub objects_read: u64,
    /// Distinct addresses looked up.
    pub addresses: u64,
    /// Of those, addresses a database placed (country or ASN known).
    pub located: u64,
    /// Distinct domains given their registrable domain.
    pub domains: u64,
    /// The databases read.
    pub sources: Vec<EnrichmentSource>,
    /// What the run did to the country/ASN trend cells ([`crate::located`]).
    pub trend_cells: crate::located::Refresh,
}

/// Whether two runs read the same databases (same role, type, build and tree; the
/// path may differ).
fn same_sources(a: &[EnrichmentSource], b: &[EnrichmentSource]) -> bool {
    let key = |s: &EnrichmentSource| {
        (
            s.role.clone(),
            s.database_type.clone(),
            s.build_epoch,
            s.node_count,
        )
    };
    let mut a: Vec<_> = a.iter().map(key).collect();
    let mut b: Vec<_> = b.iter().map(key).collect();
    a.sort();
    b.sort();
    a == b
}

/// Brings the store's enrichment up to date with `databases`: recomputes everything
/// when the databases differ from those recorded (or `force`), else enriches the
/// subjects of object versions added since the last run; nothing when neither.
pub fn run(store: &dyn Store, databases: &Databases, force: bool) -> Result<Summary, EnrichError> {
    let state = store.enrichment_state()?;
    let head = store.feed_heads()?.objects;
    let recompute = force
        || state
            .as_ref()
            .is_none_or(|s| !same_sources(&s.sources, &databases.sources));
    let mut summary = Summary {
        sources: databases.sources.clone(),
        recomputed: recompute,
        ..Summary::default()
    };
    // The generation whose location cells this run leaves true: an incremental run
    // only adds the addresses of objects added since (crate::located).
    let still_valid = match (&state, recompute) {
        (Some(s), false) => Some(s.generation),
        _ => None,
    };
    let after = match (&state, recompute) {
        (Some(s), false) if s.covers_until >= head => {
            summary.up_to_date = true;
            summary.trend_cells = crate::located::refresh(store, still_valid)?;
            return Ok(summary);
        }
        (Some(s), false) => Some(s.covers_until),
        _ => None,
    };
    let mut addresses: BTreeSet<IpAddr> = BTreeSet::new();
    let mut domains: BTreeSet<String> = BTreeSet::new();
    let mut query = ObjectQuery::new(Scope::Store, PAGE);
    query.versions = VersionFilter::all();
    query.added_after = after;
    let mut covers = after.unwrap_or(0);
    for_each_row(store, query, |row| {
        summary.objects_read += 1;
        covers = covers.max(row.date_added);
        let subjects = Subjects::of_json(&row.json);
        addresses.extend(subjects.addresses);
        domains.extend(subjects.domains);
        true
    })?;
    let enricher = &databases.enricher;
    // Many addresses: the databases flattened into one range table first (a sweep of
    // each tree, then one search per address; accord_enrich::flat), else the reader.
    let flat = if addresses.len() >= FLATTEN_FROM {
        enricher.flatten().ok()
    } else {
        None
    };
    let address_rows: Vec<AddressEnrichment> = addresses
        .iter()
        .map(|ip| {
            let place = match &flat {
                Some(flat) => flat.lookup(*ip),
                None => enricher.lookup(*ip),
            };
            if !place.is_unknown() {
                summary.located += 1;
            }
            AddressEnrichment {
                address: ip.to_string(),
                country: place.country.map(|c| c.to_string()),
                asn: place.asn,
                as_name: place.as_name.map(str::to_owned),
            }
        })
        .collect();
    let domain_rows: Vec<DomainEnrichment> = domains
        .iter()
        .map(|d| DomainEnrichment {
            domain: d.clone(),
            registrable: registrable_domain(d),
        })
        .collect();
    summary.addresses = address_rows.len() as u64;
    summary.domains = domain_rows.len() as u64;
    store.put_enrichment(
        recompute,
        &databases.sources,
        covers.max(head),
        &address_rows,
        &domain_rows,
    )?;
    summary.trend_cells = crate::located::refresh(store, still_valid)?;
    Ok(summary)
}

/// Where an address is, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// Country code (two uppercase letters), when known.
    pub country: Option<[u8; 2]>,
    /// ASN, when known.
    pub asn: Option<u32>,
}

impl Place {
    fn of(row: &AddressEnrichment) -> Place {
        Place {
            country: row
                .country
                .as_deref()
                .and_then(|c| <[u8; 2]>::try_from(c.as_bytes()).ok()),
            asn: row.asn,
        }
    }
}

/// Addresses asked of the store per look-up of [`Index::of_addresses`].
const ADDRESSES_PER_LOOKUP: usize = 500;

/// The stored enrichment of addresses, in memory (for routing and trends: one load,
/// then a hash lookup per address).
#[derive(Debug, Default, Clone)]
pub struct Index {
    /// foldhash: one lookup per address of every routed object.
    places: HashMap<IpAddr, Place, foldhash::fast::RandomState>,
}

impl Index {
    /// Loads every enriched address of the store.
    pub fn load(store: &dyn Store) -> Result<Index, StoreError> {
        let mut places = HashMap::default();
        let mut after = String::new();
        loop {
            let rows = store.scan_enriched_addresses(&after, 10_000)?;
            let Some(last) = rows.last() else { break };
            after.clone_from(&last.address);
            for row in &rows {
                if let Ok(ip) = row.address.parse::<IpAddr>() {
                    places.insert(ip, Place::of(row));
                }
            }
        }
        Ok(Index { places })
    }

    /// An index over these places (tests, benchmarks).
    pub fn from_places(places: HashMap<IpAddr, Place>) -> Index {
        Index {
            places: places.into_iter().collect(),
        }
    }

    /// Where `ip` is (unknown when not enriched).
    pub fn place(&self, ip: &IpAddr) -> Place {
        self.places.get(ip).copied().unwrap_or_default()
    }

    /// Addresses held.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether no address is held.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Where the object with this subjects is: the countries and ASNs of its
    /// addresses, sorted, without duplicates.
    pub fn locate(&self, subjects: &Subjects) -> Location {
        self.locate_addresses(&subjects.addresses)
    }

    /// Where these addresses are: their countries and ASNs, sorted, without
    /// duplicates.
    pub fn locate_addresses(&self, addresses: &[IpAddr]) -> Location {
        location(addresses.iter().map(|ip| self.place(ip)))
    }

    /// The stored enrichment of these addresses (those enriched), as an index.
    pub fn of_addresses(
        store: &dyn Store,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> Result<Index, StoreError> {
        let asked: Vec<String> = addresses
            .into_iter()
            .collect::<BTreeSet<IpAddr>>()
            .iter()
            .map(IpAddr::to_string)
            .collect();
        let mut places = HashMap::default();
        for chunk in asked.chunks(ADDRESSES_PER_LOOKUP) {
            learn_places(store, chunk, &mut places)?;
        }
        Ok(Index { places })
    }
}

fn location(places: impl Iterator<Item = Place>) -> Location {
    let mut countries = BTreeSet::new();
    let mut asns = BTreeSet::new();
    for p in places {
        if let Some(c) = p.country.and_then(|c| String::from_utf8(c.to_vec()).ok()) {
            countries.insert(c);
        }
        asns.extend(p.asn);
    }
    Location {
        countries: countries.into_iter().collect(),
        asns: asns.into_iter().collect(),
    }
}

/// Where the object stored as `json` is, from the store's enrichment (one lookup per
/// address; `cache` keeps the answers across calls).
pub fn locate_in_store(
    store: &dyn Store,
    json: &str,
    cache: &mut HashMap<IpAddr, Place>,
) -> Result<Location, StoreError> {
    let subjects = Subjects::of_json(json);
    let missing: Vec<String> = subjects
        .addresses
        .iter()
        .filter(|ip| !cache.contains_key(ip))
        .map(IpAddr::to_string)
        .collect();
    if !missing.is_empty() {
        learn_places(store, &missing, cache)?;
    }
    Ok(location(
        subjects
            .addresses
            .iter()
            .map(|ip| cache.get(ip).copied().unwrap_or_default()),
    ))
}

/// Adds the stored places of `addresses` (those enriched) to `places`.
fn learn_places<S: std::hash::BuildHasher>(
    store: &dyn Store,
    addresses: &[String],
    places: &mut HashMap<IpAddr, Place, S>,
) -> Result<(), StoreError> {
    for row in store.enriched_addresses(addresses)? {
        if let Ok(ip) = row.address.parse::<IpAddr>() {
            places.insert(ip, Place::of(&row));
        }
    }
    Ok(())
}

/// One answer of [`lookup`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Answer {
    /// An address.
    Address {
        /// As asked.
        value: String,
        /// The stored enrichment (`None`: no object is about it, or not enriched yet).
        enrichment: Option<AddressEnrichment>,
    },
    /// A domain.
    Domain {
        /// As asked.
        value: String,
        /// Its registrable domain (computed now from the bundled list).
        registrable: Option<String>,
        /// Whether the store's enrichment holds it (an object is about it).
        stored: bool,
    },
    /// An object id: its subjects and location.
    Object {
        /// As asked.
        value: String,
        /// Whether the store holds it.
        found: bool,
        /// Its addresses.
        addresses: Vec<String>,
        /// Its domains.
        domains: Vec<String>,
        /// Countries of its addresses.
        countries: Vec<String>,
        /// ASNs of its addresses.
        asns: Vec<u32>,
    },
}

/// What the store's enrichment says of each value: an address, a domain name, or an
/// object id (`type--uuid`; its latest version).
pub fn lookup(store: &dyn Store, values: &[String]) -> Result<Vec<Answer>, StoreError> {
    let mut out = Vec::new();
    for value in values {
        if let Ok(ip) = value.parse::<IpAddr>() {
            let canonical = ip.to_string();
            let enrichment = store.enriched_addresses(&[canonical])?.into_iter().next();
            out.push(Answer::Address {
                value: value.clone(),
                enrichment,
            });
        } else if value.contains("--") {
            let latest = store.latest(value)?;
            let (found, subjects, loc) = match &latest {
                Some(row) => {
                    let mut cache = HashMap::new();
                    let loc = locate_in_store(store, &row.json, &mut cache)?;
                    (true, Subjects::of_json(&row.json), loc)
                }
                None => (false, Subjects::default(), Location::default()),
            };
            out.push(Answer::Object {
                value: value.clone(),
                found,
                addresses: subjects.addresses.iter().map(IpAddr::to_string).collect(),
                domains: subjects.domains,
                countries: loc.countries,
                asns: loc.asns,
            });
        } else {
            let d = value.trim_end_matches('.').to_ascii_lowercase();
            let stored = !store.enriched_domains(std::slice::from_ref(&d))?.is_empty();
            out.push(Answer::Domain {
                value: value.clone(),
                registrable: registrable_domain(&d),
                stored,
            });
        }
    }
    Ok(out)
}
