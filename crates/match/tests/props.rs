//! Property tests: compiled structures agree with naive matchers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use accord_match::atom::{Atom, Side};
use accord_match::like::like_match;
use accord_match::matcher::Matcher;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn v4net() -> impl Strategy<Value = IpNet> {
    // Few distinct top bits so that networks nest and collide often.
    (0u32..16, 0u8..=32, any::<u32>()).prop_map(|(hi, len, lo)| {
        let addr = (hi << 28) | (lo >> 4);
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc())
    })
}

fn v6net() -> impl Strategy<Value = IpNet> {
    (0u128..8, 0u8..=128, any::<u128>()).prop_map(|(hi, len, lo)| {
        let addr = (hi << 125) | (lo >> 3);
        IpNet::V6(Ipv6Net::new(Ipv6Addr::from(addr), len).unwrap().trunc())
    })
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Any), Just(Side::Src), Just(Side::Dst)]
}

fn near(nets: &[(IpNet, Side)]) -> impl Strategy<Value = IpAddr> + '_ {
    // Addresses at, inside and just outside the networks, plus random ones.
    let edges: Vec<IpAddr> = nets
        .iter()
        .flat_map(|(n, _)| {
            let (a, b) = (n.network(), n.broadcast());
            let step = |x: IpAddr, up: bool| match x {
                IpAddr::V4(v) => IpAddr::V4(Ipv4Addr::from(if up {
                    u32::from(v).wrapping_add(1)
                } else {
                    u32::from(v).wrapping_sub(1)
                })),
                IpAddr::V6(v) => IpAddr::V6(Ipv6Addr::from(if up {
                    u128::from(v).wrapping_add(1)
                } else {
                    u128::from(v).wrapping_sub(1)
                })),
            };
            [a, b, step(a, false), step(b, true)]
        })
        .collect();
    let edges = if edges.is_empty() {
        vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)]
    } else {
        edges
    };
    prop_oneof![
        prop::sample::select(edges),
        any::<u32>().prop_map(|a| IpAddr::V4(a.into())),
        any::<u128>().prop_map(|a| IpAddr::V6(a.into())),
    ]
}

fn naive_ip(nets: &[(IpNet, Side)], addr: IpAddr, seen: Side) -> Vec<u32> {
    let mut v: Vec<u32> = nets
        .iter()
        .enumerate()
        .filter(|(_, (n, s))| n.contains(&addr) && (*s == Side::Any || *s == seen))
        .map(|(i, _)| i as u32)
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn prefix_table_agrees_with_linear_scan(
        nets in prop::collection::vec((prop_oneof![v4net(), v6net()], side()), 0..60),
        seed in any::<u64>(),
    ) {
        let m = Matcher::build(nets.iter().enumerate().map(|(i, (n, s))| (Atom::Ip { net: *n, side: *s }, i as u32)).collect());
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            ProptestConfig::default(),
            proptest::test_runner::TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &{
                let mut s = [0u8; 32]; s[..8].copy_from_slice(&seed.to_le_bytes()); s
            }),
        );
        let strat = near(&nets);
        for _ in 0..64 {
            let addr = strat.new_tree(&mut runner).unwrap().current();
            for seen in [Side::Any, Side::Src, Side::Dst] {
                let mut got = Vec::new();
                m.match_ip(addr, seen, &mut |i| got.push(i));
                got.sort();
                prop_assert_eq!(got, naive_ip(&nets, addr, seen), "addr {} seen {:?}", addr, seen);
            }
        }
    }

    #[test]
    fn domain_structures_agree_with_like_semantics(
        patterns in prop::collection::vec(prop_oneof![
            "[abc]{1,3}(\\.[abc]{1,3}){0,2}".prop_map(|d| (d, false)),
            "%\\.[abc]{1,3}(\\.[abc]{1,2}){0,1}".prop_map(|d| (d, true)),
            "[abc%_.]{1,8}".prop_map(|d| (d, true)),
        ], 0..30),
        names in prop::collection::vec("[abc]{0,3}(\\.[abc]{1,3}){0,3}", 1..30),
    ) {
        let atoms = patterns.iter().enumerate().map(|(i, (p, like))| {
            (if *like { Atom::DomainLike(p.clone()) } else { Atom::Domain(p.clone()) }, i as u32)
        }).collect();
        let m = Matcher::build(atoms);
        for name in &names {
            let mut got = Vec::new();
            m.match_domain(name, &mut |i| got.push(i));
            got.sort();
            got.dedup();
            let want: Vec<u32> = patterns.iter().enumerate()
                .filter(|(_, (p, like))| if *like { like_match(p, name) } else { p == name })
                .map(|(i, _)| i as u32)
                .collect();
            prop_assert_eq!(got, want, "name {}", name);
        }
    }

    #[test]
    fn like_agrees_with_a_regex(pattern in "[ab%_]{0,8}", text in "[abé]{0,10}") {
        let mut re = String::from("^");
        for c in pattern.chars() {
            match c {
                '%' => re.push_str(".*"),
                '_' => re.push('.'),
                c => re.push_str(&regex_escape(c)),
            }
        }
        re.push('$');
        let r = regex_lite(&re);
        prop_assert_eq!(like_match(&pattern, &text), r(&text), "{} {}", pattern, text);
    }
}

fn regex_escape(c: char) -> String {
    c.to_string()
}

/// A tiny backtracking matcher for `^...$` with `.` and `.*` (test oracle only).
fn regex_lite(re: &str) -> impl Fn(&str) -> bool {
    let body: Vec<char> = re
        .trim_start_matches('^')
        .trim_end_matches('$')
        .chars()
        .collect();
    move |text: &str| {
        fn go(p: &[char], t: &[char]) -> bool {
            match p {
                [] => t.is_empty(),
                ['.', '*', rest @ ..] => (0..=t.len()).any(|k| go(rest, &t[k..])),
                ['.', rest @ ..] => !t.is_empty() && go(rest, &t[1..]),
                [c, rest @ ..] => t.first() == Some(c) && go(rest, &t[1..]),
            }
        }
        let t: Vec<char> = text.chars().collect();
        go(&body, &t)
    }
}

mod engine_agreement {
    //! Compiled matching and the pattern engine must agree on reducible patterns.

    use accord_match::{observed_data, Detector, DetectorConfig, IndicatorInput, Ruleset};
    use accord_patterns::{CompiledPattern, ObservedData};
    use accord_telemetry::TelemetryReader;
    use proptest::prelude::*;

    const ADDRS: [&str; 6] = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.130",
        "203.0.113.7",
        "2001:db8::1",
        "2001:db8:1::9",
    ];
    const NETS: [&str; 5] = [
        "198.51.100.0/24",
        "198.51.100.0/25",
        "203.0.113.0/30",
        "2001:db8::/48",
        "0.0.0.0/0",
    ];
    const NAMES: [&str; 5] = [
        "a.example",
        "b.a.example",
        "example",
        "c2.evil.example",
        "evil.example",
    ];

    fn pattern() -> impl Strategy<Value = String> {
        let a = prop::sample::select(&ADDRS[..]);
        let n = prop::sample::select(&NETS[..]);
        let d = prop::sample::select(&NAMES[..]);
        let side = prop::sample::select(&["src_ref", "dst_ref"][..]);
        prop_oneof![
            a.clone().prop_map(|a| {
                let t = if a.contains(':') {
                    "ipv6-addr"
                } else {
                    "ipv4-addr"
                };
                format!("[{t}:value = '{a}']")
            }),
            n.clone().prop_map(|n| {
                let t = if n.contains(':') {
                    "ipv6-addr"
                } else {
                    "ipv4-addr"
                };
                format!("[{t}:value ISSUBSET '{n}']")
            }),
            (side.clone(), a).prop_map(|(s, a)| format!("[network-traffic:{s}.value = '{a}']")),
            (side, n).prop_map(|(s, n)| format!("[network-traffic:{s}.value ISSUBSET '{n}']")),
            (
                prop::sample::select(&[53u16, 80, 443][..]),
                prop::sample::select(&["tcp", "udp", "dns", "ipv6"][..])
            )
                .prop_map(|(p, pr)| format!(
                    "[network-traffic:dst_port = {p} AND network-traffic:protocols[*] = '{pr}']"
                )),
            d.clone()
                .prop_map(|d| format!("[domain-name:value = '{d}']")),
            d.clone()
                .prop_map(|d| format!("[domain-name:value LIKE '%.{d}']")),
            d.prop_map(|d| format!("[domain-name:value LIKE '{}%']", &d[..2])),
        ]
    }

    fn record() -> impl Strategy<Value = String> {
        let a = prop::sample::select(&ADDRS[..]);
        (a.clone(), a.clone(), prop::sample::select(&[53u16, 80, 443][..]), prop::sample::select(&["tcp", "udp"][..]),
         prop::sample::select(&NAMES[..]), prop::collection::vec(prop_oneof![a.prop_map(String::from), prop::sample::select(&NAMES[..]).prop_map(String::from)], 0..3), any::<bool>())
            .prop_map(|(o, r, p, proto, q, answers, dns)| {
                if dns {
                    format!(r#"{{"ts":1000,"id.orig_h":"{o}","id.resp_h":"{r}","id.resp_p":{p},"proto":"{proto}","service":"dns","query":"{q}","answers":{}}}"#, serde_json::json!(answers))
                } else {
                    format!(r#"{{"ts":1000,"id.orig_h":"{o}","id.resp_h":"{r}","id.resp_p":{p},"proto":"{proto}"}}"#)
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn compiled_and_engine_agree(patterns in prop::collection::vec(pattern(), 1..8), line in record()) {
            let inds: Vec<IndicatorInput> = patterns.iter().enumerate().map(|(i, p)| crate::ind(i as u32, p)).collect();
            let rules = Ruleset::compile(inds);
            let r = rules.report();
            prop_assert_eq!(r.compiled + r.fallback, patterns.len());
            let mut reader = TelemetryReader::new(line.as_bytes(), None).unwrap();
            let rec = reader.next_record().unwrap().unwrap();
            let mut det = Detector::new(&rules, DetectorConfig::new(crate::OBSERVER).unwrap());
            det.observe(&rec);
            let mut compiled: Vec<String> = det.finish().0.into_iter().map(|s| s.indicator_id).collect();
            compiled.sort();
            let od = observed_data(&rec);
            let data = ObservedData::from_json(&od).unwrap();
            let mut engine: Vec<String> = patterns
                .iter()
                .enumerate()
                // The engine refuses some operands (`ISSUBSET '0.0.0.0/0'`): no match.
                .filter(|(_, p)| CompiledPattern::compile(p).unwrap().matches(&data).unwrap_or(false))
                .map(|(i, _)| crate::ind(i as u32, "").id)
                .collect();
            engine.sort();
            engine.dedup();
            prop_assert_eq!(compiled, engine, "record {}", line);
        }
    }
}
