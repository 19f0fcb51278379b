//! C2 and DDoS linked: bots that beacon to a C2 and then flood a target are one
//! botnet; the flood's finding names the controller, never the bots.

use std::net::IpAddr;

use accord_detect::botnet::Botnets;
use accord_detect::c2::{finding::infrastructure_id, C2Config, C2Detector};
use accord_detect::ddos::{DdosConfig, DdosDetector};
use accord_detect::{Finding, InternalNets, Observer, Producer, Window};
use accord_telemetry::{Conn, Proto, Record};

const S: i64 = 1_000_000;
const T0: i64 = 1_700_000_000 * S;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[allow(clippy::too_many_arguments)]
fn conn(
    ts: i64,
    o: IpAddr,
    r: IpAddr,
    rp: u16,
    proto: Proto,
    (opk, ob): (u64, u64),
    resp: (u64, u64),
) -> Record<'static> {
    Record::Conn(Conn {
        ts,
        uid: None,
        orig_h: o,
        orig_p: Some(40000),
        resp_h: r,
        resp_p: Some(rp),
        proto,
        service: None,
        duration: Some(1.0),
        orig_bytes: Some(ob),
        resp_bytes: Some(resp.1),
        orig_pkts: Some(opk),
        resp_pkts: Some(resp.0),
        local_orig: None,
        local_resp: None,
    })
}

fn producer() -> Producer {
    Producer {
        identity: "identity--5b1f1b0e-8f3c-4c55-9a2e-1d2c3b4a5f60".into(),
        now: T0,
    }
}

fn bots(n: u8, subnet: u8) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::from([10, 9, subnet, 10 + i]))
        .collect()
}

/// `hosts` check in with `c2` every minute for an hour (a few seconds of offset each).
fn beacons(hosts: &[IpAddr], c2: IpAddr) -> Vec<Record<'static>> {
    let mut v = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for k in 0..60i64 {
            let ts = T0 + k * 60 * S + (i as i64 % 7) * S;
            v.push(conn(ts, *h, c2, 443, Proto::Tcp, (4, 320), (4, 900)));
        }
    }
    v
}

/// `hosts` flood `target` with UDP for 20 s, 3,000 packets/s in all.
fn flood(hosts: &[IpAddr], target: IpAddr) -> Vec<Record<'static>> {
    let n = hosts.len() * 40;
    (0..n)
        .map(|i| {
            let ts = T0 + 1800 * S + (i as i64 * 20 * S) / n as i64;
            conn(
                ts,
                hosts[i % hosts.len()],
                target,
                80,
                Proto::Udp,
                (30, 30 * 512),
                (0, 0),
            )
        })
        .collect()
}

fn run(records: &[Record<'static>]) -> Vec<Box<dyn Finding>> {
    let internal = InternalNets::private();
    let mut b = Botnets::new(
        C2Detector::new(C2Config::default()),
        DdosDetector::new(DdosConfig::with_internal(internal)),
    );
    for r in records {
        b.observe(r);
    }
    b.finish(&Window {
        start: T0,
        end: T0 + 3600 * S,
    })
}

#[test]
fn a_flood_by_bots_names_the_c2_they_beacon_to_and_counts_them() {
    let army = bots(40, 1);
    let bystanders = bots(3, 2);
    let mut recs = beacons(&army, ip("203.0.113.50"));
    // Three other hosts beacon to another C2 and take no part in the flood.
    recs.extend(beacons(&bystanders, ip("198.51.100.66")));
    recs.extend(flood(&army[..30], ip("192.0.2.9")));
    recs.sort_by_key(Record::ts);
    let findings = run(&recs);
    let kinds: Vec<&str> = findings.iter().map(|f| f.kind()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "c2").count(),
        2,
        "{findings:#?}"
    );
    let flood = findings
        .iter()
        .find(|f| f.kind() == "ddos")
        .expect("the flood");
    let j = flood.to_json();
    assert_eq!(j["direction"], "outbound");
    assert_eq!(j["participants"], 30);
    let by = j["evidence"]["controlled_by"]
        .as_array()
        .expect("controllers");
    assert_eq!(by.len(), 1, "the bystanders' C2 is not the flood's: {by:?}");
    assert_eq!(by[0]["destination"], "203.0.113.50");
    assert_eq!(by[0]["port"], 443);
    assert_eq!(by[0]["shared_participants"], 30);
    // In STIX: a relationship from the C2's infrastructure, the id its own finding
    // stores as; no customer address anywhere.
    let p = producer();
    let infra = infrastructure_id(ip("203.0.113.50"), Some(443), &p);
    let c2_objects: Vec<_> = findings
        .iter()
        .filter(|f| f.kind() == "c2")
        .flat_map(|f| f.to_stix(&p))
        .collect();
    assert!(c2_objects.iter().any(|o| o["id"] == infra.as_str()));
    let stix = flood.to_stix(&p);
    let rel = stix
        .iter()
        .find(|o| o["type"] == "relationship" && o["source_ref"] == infra.as_str())
        .expect("related-to from the C2");
    assert_eq!(rel["relationship_type"], "related-to");
    let note = stix.iter().find(|o| o["type"] == "note").unwrap();
    assert!(note["object_refs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == infra.as_str()));
    let text = format!("{j}{}", serde_json::to_string(&stix).unwrap());
    assert!(!text.contains("10.9."), "a customer address leaked: {text}");
}

#[test]
fn a_flood_by_hosts_that_beacon_nowhere_has_no_controller() {
    let army = bots(30, 3);
    let mut recs = beacons(&bots(3, 4), ip("203.0.113.51"));
    recs.extend(flood(&army, ip("192.0.2.10")));
    let findings = run(&recs);
    let flood = findings
        .iter()
        .find(|f| f.kind() == "ddos")
        .expect("the flood");
    let j = flood.to_json();
    assert!(j["evidence"].get("controlled_by").is_none(), "{j}");
    assert!(!flood
        .to_stix(&producer())
        .iter()
        .any(|o| o["relationship_type"] == "related-to"));
}
