//! Pattern reduction and compiled matching of each atom kind.

use accord_match::atom::{parse_net, Atom, Side, TrafficAtom};
use accord_match::reduce::reduce;
use accord_match::Ruleset;

use crate::ind;

type Probe<'a> = &'a dyn Fn(&accord_match::matcher::Matcher, &mut dyn FnMut(u32));

fn atoms(p: &str) -> Result<Vec<Atom>, &'static str> {
    reduce(&accord_patterns::parse(p).expect("pattern parses"))
}

#[test]
fn reducible_shapes() {
    assert_eq!(
        atoms("[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value ISSUBSET '203.0.113.0/24']")
            .unwrap(),
        vec![
            Atom::Ip {
                net: parse_net("198.51.100.7").unwrap(),
                side: Side::Any
            },
            Atom::Ip {
                net: parse_net("203.0.113.0/24").unwrap(),
                side: Side::Any
            },
        ]
    );
    assert_eq!(
        atoms("([domain-name:value IN ('A.example', 'b.example.')]) OR [url:value = 'HTTP://X.example']").unwrap(),
        vec![
            Atom::Domain("a.example".into()),
            Atom::Domain("b.example".into()),
            Atom::Url("http://x.example/".into()),
        ]
    );
    assert_eq!(
        atoms("[network-traffic:dst_ref.value = '192.0.2.9']").unwrap(),
        vec![Atom::Ip {
            net: parse_net("192.0.2.9").unwrap(),
            side: Side::Dst
        }]
    );
    assert_eq!(
        atoms("[network-traffic:dst_port = 4444 AND network-traffic:protocols[*] = 'TCP' AND network-traffic:dst_ref.type = 'ipv4-addr']").unwrap(),
        vec![Atom::Traffic(TrafficAtom {
            protocol: Some("tcp".into()),
            src_port: None,
            dst_port: Some(4444),
            src: None,
            dst: Some(parse_net("0.0.0.0/0").unwrap()),
        })]
    );
    assert_eq!(
        atoms("[file:hashes.'SHA-256' = 'AB12']").unwrap(),
        vec![Atom::Hash {
            algorithm: "SHA256".into(),
            value: "ab12".into()
        }]
    );
    // As in the OASIS matcher, `=` compares text: a CIDR or a non-canonical address
    // never equals an observed address; `ISSUBSET` is containment.
    assert_eq!(atoms("[ipv4-addr:value = '10.0.0.0/8']").unwrap(), vec![]);
    assert_eq!(atoms("[ipv6-addr:value = '2001:DB8::1']").unwrap(), vec![]);
    assert_eq!(
        atoms("[ipv4-addr:value ISSUBSET '010.0.0.0/8']"),
        Err("cidr-syntax")
    );
    assert_eq!(
        atoms("[ipv4-addr:value ISSUBSET '10.0.0.1']"),
        Err("cidr-syntax")
    );
    assert_eq!(
        atoms("[ipv4-addr:value ISSUBSET '0.0.0.0/0']"),
        Err("cidr-syntax")
    );
    assert_eq!(
        atoms("[ipv6-addr:value ISSUBSET '::/0']").unwrap(),
        vec![Atom::Ip {
            net: parse_net("::/0").unwrap(),
            side: Side::Any
        }]
    );
    // Can never match: a v6 value on ipv4-addr; a v6 value with a v4 type.
    assert_eq!(atoms("[ipv4-addr:value = '2001:db8::1']").unwrap(), vec![]);
    assert_eq!(
        atoms("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '2001:db8::1']").unwrap(),
        vec![]
    );
}

#[test]
fn irreducible_shapes_say_why() {
    for (p, why) in [
        (
            "[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '1.2.3.5']",
            "observation-operator",
        ),
        ("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES", "qualifier"),
        ("[ipv4-addr:value != '1.2.3.4']", "operator"),
        ("[ipv4-addr:value NOT = '1.2.3.4']", "negation"),
        ("[domain-name:value MATCHES '^evil']", "operator"),
        ("[process:name = 'x']", "property"),
        (
            "[network-traffic:dst_port = 1 AND network-traffic:dst_port = 2]",
            "conjunction",
        ),
        ("[network-traffic:dst_port > 1024]", "operator"),
    ] {
        assert_eq!(atoms(p), Err(why), "{p}");
    }
}

#[test]
fn compile_report_counts_every_outcome() {
    let mut revoked = ind(3, "[ipv4-addr:value = '192.0.2.3']");
    revoked.revoked = true;
    let mut empty_window = ind(4, "[ipv4-addr:value = '192.0.2.4']");
    empty_window.valid_from = 10;
    empty_window.valid_until = Some(10);
    let old = ind(5, "[ipv4-addr:value = '192.0.2.50']");
    let mut new = ind(
        5,
        "[ipv4-addr:value = '192.0.2.5' OR domain-name:value = 'x.example']",
    );
    new.modified = 1;
    let rules = Ruleset::compile(vec![
        ind(1, "[ipv4-addr:value = '192.0.2.1']"),
        ind(2, "[ipv4-addr:value = "),
        revoked,
        empty_window,
        new,
        old,
        ind(6, "[domain-name:value MATCHES 'x']"),
    ]);
    let r = rules.report();
    assert_eq!(r.received, 7);
    assert_eq!(r.superseded, 1);
    assert_eq!(r.revoked, 1);
    assert_eq!(r.never_valid, 1);
    assert_eq!(r.compiled, 2);
    assert_eq!(r.atoms, 3);
    assert_eq!(r.fallback, 1);
    assert_eq!(r.fallback_reasons, vec![("operator", 1)]);
    assert_eq!(r.rejected.len(), 1);
    assert!(r.rejected[0].id.ends_with("000000000002"));
    assert_eq!(rules.len(), 3);
    // The later version of indicator 5 is the one compiled.
    let mut hits = Vec::new();
    rules
        .matcher()
        .match_ip("192.0.2.5".parse().unwrap(), Side::Dst, &mut |i| {
            hits.push(i)
        });
    rules
        .matcher()
        .match_ip("192.0.2.50".parse().unwrap(), Side::Dst, &mut |i| {
            hits.push(i)
        });
    assert_eq!(hits.len(), 1);
    assert!(rules
        .indicator_id(hits[0])
        .unwrap()
        .ends_with("000000000005"));
}

fn matched(
    rules: &Ruleset,
    f: impl FnOnce(&accord_match::matcher::Matcher, &mut dyn FnMut(u32)),
) -> Vec<String> {
    let mut out = Vec::new();
    f(rules.matcher(), &mut |i| {
        out.push(
            rules
                .indicator_id(i)
                .unwrap()
                .rsplit('-')
                .next()
                .unwrap()
                .to_string(),
        )
    });
    out.sort();
    out
}

#[test]
fn each_structure_matches_what_it_should() {
    let rules = Ruleset::compile(vec![
        ind(1, "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
        ind(2, "[ipv4-addr:value ISSUBSET '10.1.0.0/16']"),
        ind(3, "[ipv4-addr:value = '10.1.2.3']"),
        ind(4, "[network-traffic:src_ref.value = '10.1.2.3']"),
        ind(5, "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
        ind(6, "[domain-name:value LIKE '%.evil.example']"),
        ind(7, "[domain-name:value = 'evil.example']"),
        ind(8, "[domain-name:value LIKE 'ev_l%']"),
        ind(9, "[url:value LIKE '%/gate.php%']"),
        ind(10, "[url:value = 'http://Phish.Example/login']"),
        ind(11, "[email-addr:value = 'Boss@Evil.Example']"),
        ind(12, "[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']"),
    ]);
    let m = |f: Probe<'_>| matched(&rules, |mm, g| f(mm, g));
    let ip = |s: &str, side: Side| {
        let a = s.parse().unwrap();
        m(&move |mm, g| mm.match_ip(a, side, &mut |i| g(i)))
    };
    assert_eq!(
        ip("10.1.2.3", Side::Src),
        [
            "000000000001",
            "000000000002",
            "000000000003",
            "000000000004"
        ]
    );
    assert_eq!(
        ip("10.1.2.3", Side::Dst),
        ["000000000001", "000000000002", "000000000003"]
    );
    assert_eq!(
        ip("10.1.2.3", Side::Any),
        ["000000000001", "000000000002", "000000000003"]
    );
    assert_eq!(ip("10.2.0.1", Side::Dst), ["000000000001"]);
    assert_eq!(ip("11.0.0.0", Side::Dst), Vec::<String>::new());
    assert_eq!(ip("2001:db8:1::1", Side::Dst), ["000000000005"]);
    assert_eq!(ip("2001:db9::1", Side::Dst), Vec::<String>::new());
    let dom = |s: &'static str| m(&move |mm, g| mm.match_domain(s, &mut |i| g(i)));
    assert_eq!(dom("a.b.evil.example"), ["000000000006"]);
    assert_eq!(dom("evil.example"), ["000000000007", "000000000008"]);
    assert_eq!(dom("notevil.example"), Vec::<String>::new());
    let url = |s: &'static str| m(&move |mm, g| mm.match_url(s, &mut |i| g(i)));
    assert_eq!(url("http://x.example/a/gate.php?id=1"), ["000000000009"]);
    assert_eq!(url("http://phish.example/login"), ["000000000010"]);
    assert_eq!(url("http://phish.example/Login"), Vec::<String>::new());
    assert_eq!(
        m(&|mm, g| mm.match_email("boss@evil.example", &mut |i| g(i))),
        ["000000000011"]
    );
    assert_eq!(
        m(&|mm, g| mm.match_hash("MD5", "d41d8cd98f00b204e9800998ecf8427e", &mut |i| g(i))),
        ["000000000012"]
    );
}
