use std::net::IpAddr;

use accord_enrich::{Database, Enricher};

const COUNTRY: &[u8] = include_bytes!("../../../fixtures/hub/country.mmdb");
const ASN: &[u8] = include_bytes!("../../../fixtures/hub/asn.mmdb");
const COUNTRY_CODE_V4: &[u8] = include_bytes!("../../../fixtures/hub/country-code-v4.mmdb");

fn enricher() -> Enricher {
    Enricher::new(
        Some(Database::from_bytes(COUNTRY.to_vec()).unwrap()),
        Some(Database::from_bytes(ASN.to_vec()).unwrap()),
    )
}

fn place(e: &Enricher, ip: &str) -> (Option<String>, Option<u32>, Option<String>) {
    let p = e.lookup(ip.parse::<IpAddr>().unwrap());
    (
        p.country.map(|c| c.to_string()),
        p.asn,
        p.as_name.map(str::to_owned),
    )
}

#[test]
fn the_fixture_networks() {
    let e = enricher();
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<u32>,
        Option<&'static str>,
    );
    let cases: &[Case] = &[
        ("203.0.113.5", Some("MY"), Some(4788), Some("TM Net")),
        ("203.0.113.63", Some("MY"), Some(4788), Some("TM Net")),
        ("203.0.113.64", Some("MY"), Some(38466), Some("U Mobile")),
        ("203.0.113.200", Some("SG"), Some(4773), Some("MobileOne")),
        ("198.51.100.7", Some("NL"), Some(1136), Some("KPN")),
        (
            "192.0.2.1",
            Some("US"),
            Some(64500),
            Some("Example Transit"),
        ),
        ("192.0.2.129", Some("DE"), None, None),
        ("100.64.3.4", None, Some(64501), Some("Example Carrier NAT")),
        ("2001:db8:1::77", Some("MY"), Some(4788), Some("TM Net")),
        (
            "2001:db8:2:ffff::1",
            Some("DE"),
            Some(3320),
            Some("Deutsche Telekom"),
        ),
        (
            "::ffff:203.0.113.200",
            Some("SG"),
            Some(4773),
            Some("MobileOne"),
        ),
        ("10.1.2.3", None, None, None),
        ("8.8.8.8", None, None, None),
        ("2001:db8:3::1", None, None, None),
    ];
    for &(ip, country, asn, name) in cases {
        assert_eq!(
            place(&e, ip),
            (country.map(str::to_owned), asn, name.map(str::to_owned)),
            "{ip}"
        );
    }
}

#[test]
fn metadata_is_read() {
    let e = enricher();
    let info = e.country_database().unwrap().info();
    assert_eq!(info.database_type, "Accord-Test-Country");
    assert_eq!(info.build_epoch, 1_767_225_600);
    assert_eq!(info.ip_version, 6);
    assert!(info.node_count > 0);
    assert_eq!(
        e.asn_database().unwrap().info().database_type,
        "Accord-Test-ASN"
    );
}

#[test]
fn ip_location_db_layout_and_ipv4_only_tree() {
    let e = Enricher::new(
        Some(Database::from_bytes(COUNTRY_CODE_V4.to_vec()).unwrap()),
        None,
    );
    assert_eq!(place(&e, "203.0.113.200").0.as_deref(), Some("SG"));
    assert_eq!(place(&e, "198.51.100.1").0.as_deref(), Some("NL"));
    // IPv6 cannot be in an IPv4-only tree: unknown, not an error.
    assert_eq!(place(&e, "2001:db8:1::1"), (None, None, None));
}

#[test]
fn broken_files_are_refused() {
    assert!(Database::from_bytes(b"not a database".to_vec()).is_err());
    assert!(Database::from_bytes(COUNTRY[..COUNTRY.len() / 2].to_vec()).is_err());
    assert!(Database::from_bytes(Vec::new()).is_err());
}

proptest::proptest! {
    /// Any bytes: refused or a database whose lookups answer (never a panic).
    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), a in proptest::num::u32::ANY) {
        if let Ok(db) = Database::from_bytes(bytes) {
            let e = Enricher::new(Some(db), None);
            let _ = e.lookup(IpAddr::from(a.to_be_bytes()));
        }
    }

    /// Flipping one byte of a real database: refused or answering (never a panic).
    #[test]
    fn corrupted_database_never_panics(at in 0usize..1820, to in proptest::num::u8::ANY, a in proptest::num::u32::ANY) {
        let mut bytes = ASN.to_vec();
        let i = at % bytes.len();
        bytes[i] = to;
        if let Ok(db) = Database::from_bytes(bytes) {
            let e = Enricher::new(None, Some(db));
            let _ = e.lookup(IpAddr::from(a.to_be_bytes()));
            let _ = e.lookup(IpAddr::from([0x2001, 0xdb8, 1, 0, 0, 0, 0, (a & 0xffff) as u16]));
        }
    }
}

proptest::proptest! {
    /// The cached lookup answers exactly as the plain one, address after address with
    /// one cache (records shared between networks decoded once).
    #[test]
    fn cached_lookups_equal_plain_ones(addrs in proptest::collection::vec((0usize..6, proptest::num::u8::ANY), 1..64)) {
        let e = enricher();
        let mut cache = accord_enrich::EnrichCache::default();
        let bases = ["203.0.113.", "198.51.100.", "192.0.2.", "100.64.0.", "10.0.0.", "2001:db8:1::"];
        for (b, last) in addrs {
            let text = if bases[b].contains(':') { format!("{}{last:x}", bases[b]) } else { format!("{}{last}", bases[b]) };
            let ip: IpAddr = text.parse().unwrap();
            proptest::prop_assert_eq!(e.lookup_cached(ip, &mut cache), e.lookup(ip), "{}", text);
        }
    }
}

/// An address drawn near the fixtures' networks and their edges, or anywhere (mostly in
/// no network), IPv4, IPv6 or IPv4-mapped.
fn any_address() -> impl proptest::strategy::Strategy<Value = IpAddr> {
    use proptest::prelude::*;
    let near_v4 = (
        proptest::sample::select(vec![
            0xCB00_7100u32, // 203.0.113.0
            0xC633_6400,    // 198.51.100.0
            0xC000_0200,    // 192.0.2.0
            0x6440_0000,    // 100.64.0.0
            0x0A00_0000,    // 10.0.0.0
        ]),
        -70_000i64..70_000,
    )
        .prop_map(|(base, d)| (i64::from(base) + d).clamp(0, i64::from(u32::MAX)) as u32);
    let near_v6 = (
        proptest::sample::select(vec![
            0x2001_0db8_0001u128 << 80,
            0x2001_0db8_0002u128 << 80,
            0x2001_0db8_0003u128 << 80,
        ]),
        any::<u128>(),
        0u32..128,
    )
        .prop_map(|(base, noise, bits)| base.wrapping_add(noise >> bits).wrapping_sub(1 << 79));
    // The first and last addresses of the fixtures' networks, and their neighbours.
    let edge_v4 = (
        proptest::sample::select(vec![
            0xCB00_7100u32,
            0xCB00_713F,
            0xCB00_7140,
            0xCB00_717F,
            0xCB00_7180,
            0xCB00_71FF,
            0xC633_6400,
            0xC633_64FF,
            0xC000_0200,
            0xC000_027F,
            0xC000_0280,
            0xC000_02FF,
            0x6440_0000,
            0x6440_FFFF,
        ]),
        -2i64..=2,
    )
        .prop_map(|(base, d)| (i64::from(base) + d) as u32);
    let edge_v6 = (
        proptest::sample::select(vec![
            0x2001_0db8_0001u128 << 80,
            0x2001_0db8_0002u128 << 80,
            0x2001_0db8_0003u128 << 80,
        ]),
        -2i128..=2,
    )
        .prop_map(|(base, d)| (base as i128 + d) as u128);
    prop_oneof![
        edge_v4.prop_map(|a| IpAddr::from(a.to_be_bytes())),
        edge_v6.prop_map(|a| IpAddr::from(a.to_be_bytes())),
        near_v4.clone().prop_map(|a| IpAddr::from(a.to_be_bytes())),
        any::<u32>().prop_map(|a| IpAddr::from(a.to_be_bytes())),
        near_v6.prop_map(|a| IpAddr::from(a.to_be_bytes())),
        any::<u128>().prop_map(|a| IpAddr::from(a.to_be_bytes())),
        near_v4.prop_map(|a| IpAddr::V6(std::net::Ipv4Addr::from(a).to_ipv6_mapped())),
        (0u128..(1 << 32)).prop_map(|a| IpAddr::from(a.to_be_bytes())),
    ]
}

/// Every pairing of the fixture databases, each with its flattened tables (built once:
/// a sweep of the IPv6 space is slow in a debug build).
fn pairs() -> &'static [(Enricher, accord_enrich::FlatEnricher<'static>)] {
    static ENRICHERS: std::sync::OnceLock<Vec<Enricher>> = std::sync::OnceLock::new();
    static PAIRS: std::sync::OnceLock<Vec<(Enricher, accord_enrich::FlatEnricher<'static>)>> =
        std::sync::OnceLock::new();
    let db = |b: &[u8]| Some(Database::from_bytes(b.to_vec()).unwrap());
    let all = || {
        vec![
            Enricher::new(db(COUNTRY), db(ASN)),
            Enricher::new(db(COUNTRY_CODE_V4), db(ASN)),
            Enricher::new(db(COUNTRY), None),
            Enricher::new(None, db(ASN)),
            Enricher::new(db(ASN), db(COUNTRY_CODE_V4)),
            Enricher::new(None, None),
        ]
    };
    PAIRS.get_or_init(|| {
        let flats = ENRICHERS.get_or_init(all);
        all()
            .into_iter()
            .zip(flats)
            .map(|(e, f)| (e, f.flatten().unwrap()))
            .collect()
    })
}

proptest::proptest! {
    /// The flattened databases answer exactly as the `maxminddb` reader, for every
    /// pairing of the fixture databases (IPv6 trees with an IPv4 subtree, an IPv4-only
    /// tree, either role absent).
    #[test]
    fn flat_lookups_equal_the_reader(addrs in proptest::collection::vec(any_address(), 1..256)) {
        for (e, flat) in pairs() {
            for &ip in &addrs {
                proptest::prop_assert_eq!(flat.lookup(ip), e.lookup(ip), "{}", ip);
            }
        }
    }

    /// A corrupted database is refused by the flattening or answers as the reader.
    #[test]
    fn flattened_corrupt_database_answers_as_the_reader(at in 0usize..1820, to in proptest::num::u8::ANY, addrs in proptest::collection::vec(any_address(), 1..32)) {
        let mut bytes = ASN.to_vec();
        let i = at % bytes.len();
        bytes[i] = to;
        if let Ok(db) = Database::from_bytes(bytes) {
            let e = Enricher::new(None, Some(db));
            if let Ok(flat) = e.flatten() {
                for &ip in &addrs {
                    proptest::prop_assert_eq!(flat.lookup(ip), e.lookup(ip), "{}", ip);
                }
            }
        }
    }
}

#[test]
fn flat_table_merges_equal_neighbours() {
    let e = enricher();
    let flat = e.flatten().unwrap();
    let (v4, v6) = flat.ranges();
    // 7 located IPv4 networks, 203.0.113.0/24 split in three, gaps between: a handful
    // of ranges, not one per tree leaf.
    assert!(v4 <= 16, "{v4} IPv4 ranges");
    assert!(v6 >= 3, "{v6} IPv6 ranges");
    assert_eq!(
        flat.lookup("203.0.113.64".parse().unwrap()).asn,
        Some(38466)
    );
}
