use super::*;

/// `text of the reading=net` for every reading.
fn found(text: &str) -> Vec<String> {
    scan(text)
        .iter()
        .map(|l| format!("{}={}", &text[l.range()], l.net))
        .collect()
}

/// The addresses (not networks) read in `text`.
fn addresses(text: &str) -> Vec<String> {
    let mut out: Vec<String> = scan(text)
        .iter()
        .filter(|l| !l.is_network())
        .map(|l| l.net.addr().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn has(text: &str, addr: &str) -> bool {
    addresses(text).iter().any(|a| a == addr)
}

/// A number after `%29.` (an escaped `)` then a dot) is not a decimal fraction: the
/// digit before the dot is part of the escape. Found by the property below (a customer
/// IPv6 address written as its 128-bit integer).
#[test]
fn a_number_after_an_escape_and_a_dot_is_read() {
    assert!(has(
        "%29.42540766411282592856903984951653826561",
        "2001:db8::1"
    ));
    assert!(!has(
        "9.42540766411282592856903984951653826561",
        "2001:db8::1"
    ));
}

#[test]
fn finds_plain_defanged_and_zero_padded_ipv4() {
    assert_eq!(found("a 10.0.0.1, b"), ["10.0.0.1=10.0.0.1/32"]);
    assert_eq!(found("x10[.]0(.)0{.}1y"), ["10[.]0(.)0{.}1=10.0.0.1/32"]);
    assert!(has("010.000.000.001", "10.0.0.1"));
    assert!(
        has("010.000.000.001", "8.0.0.1"),
        "the inet_aton reading too"
    );
    assert_eq!(
        found("'198.51.100.0/24'"),
        ["198.51.100.0/24=198.51.100.0/24"]
    );
    assert_eq!(found("http://192.0.2.5:8080/x"), ["192.0.2.5=192.0.2.5/32"]);
}

#[test]
fn every_form_of_the_issue_is_read() {
    let v4 = "198.51.100.23";
    for text in [
        "beaconing...198.51.100.23",
        "www.198.51.100.23.nip.io",
        "capture.198.51.100.23.pcap",
        "IP 198.51.100.23.52344 > 192.0.2.1.443",
        "1.3.6.1.2.1.4.20.1.1.198.51.100.23",
        "198.51.100.23/16",
        "3325256727",
        "x_src_int=3325256727;",
        "0xC6336417",
        "0xc6336417",
        "030614662027",
        "0306.063.0144.027",
        "0xC6.0x33.0x64.0x17",
        "198.51.25623",
        "198.3367959",
        "23.100.51.198.in-addr.arpa",
        "23.100.51.198.IN-ADDR.ARPA.",
        "198%2E51%2E100%2E23",
        "%31%39%38%2E%35%31%2E%31%30%30%2E%32%33",
        "198\\.51\\.100\\.23",
        "198[dot]51[dot]100[dot]23",
        "198(dot)51(dot)100(dot)23",
        "198[.]51[.]100[.]23",
        "198 dot 51 dot 100 dot 23",
        "198-51-100-23",
        "ip-198-51-100-23.example",
        "198_51_100_23",
        "１９８．５１．１００．２３",
        "198。51。100。23",
        "198&#46;51&#46;100&#46;23",
        "2002:c633:6417::",
        "2002:c633:6417::1/48",
        "64:ff9b::c633:6417",
        "64:ff9b::198.51.100.23",
        "::ffff:0:198.51.100.23",
        "::ffff:198.51.100.23",
        "::ffff:c633:6417",
        "::c633:6417",
        "::198.51.100.23",
        "fe80::5efe:198.51.100.23",
        "fe80::200:5efe:c633:6417",
        "2001:0:c633:6417::1",
        "2001:0:4136:e378:8000:63bf:39cc:9be8",
    ] {
        let want = if text.starts_with("2001:0:4136") {
            "198.51.100.23"
        } else {
            v4
        };
        assert!(has(text, want), "{text}: {:?}", found(text));
    }
    let v6 = "2001:db8:4000::17";
    for text in [
        "2001:db8:4000::17.Data",
        "2001:db8:4000::17/32",
        "host2001:db8:4000::17",
        "abc:2001:db8:4000::17",
        "abcd2001:db8:4000::17",
        "2001%3Adb8%3A4000%3A%3A17",
        "２００１：ｄｂ８：４０００：：１７",
        "[2001:db8:4000::17]:443",
        "7.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.8.b.d.0.1.0.0.2.ip6.arpa",
        "42540766431089633485470069350039814167",
        "0x20010db8400000000000000000000017",
    ] {
        assert!(has(text, v6), "{text}: {:?}", found(text));
    }
    // Teredo's client is inverted: 198.51.100.23 is !0x39cc9be8.
    assert_eq!(!0x39cc_9be8u32, u32::from(Ipv4Addr::new(198, 51, 100, 23)));
}

#[test]
fn a_host_with_a_short_prefix_is_an_address_and_a_network_is_not() {
    let host = scan("198.51.100.23/16");
    assert_eq!(host.len(), 1);
    assert!(!host[0].is_network() && host[0].has_prefix);
    assert_eq!(host[0].addr_end, 13);
    let net = scan("198.51.100.0/24");
    assert!(net[0].is_network());
    let v6 = scan("2001:db8:4000::17/32");
    assert!(v6.iter().all(|l| !l.is_network()));
    // A partial reversed name is a network.
    let zone = scan("100.51.198.in-addr.arpa");
    assert_eq!(zone[0].net.to_string(), "198.51.100.0/24");
    assert!(zone[0].is_network());
}

#[test]
fn numbers_that_are_not_addresses_stay_unread() {
    for text in [
        "spec_version 2.1",
        "2026-02-01T10:00:00.000Z",
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "indicator--12345678-1234-4234-8234-123456789012",
        "00000000-0000-4000-8000-000000000001",
        "sha256 a3f1332525672799aa",
        "id3325256727",
        "port 443, count 1234567",
        "256.1.1.1 and 1.2.3 and 11.2.3.4567",
        "00:1a:2b:3c:4d:5e 12:30:45",
        "std::string and crate::ipscan",
    ] {
        assert!(addresses(text).is_empty(), "{text}: {:?}", found(text));
    }
}

#[test]
fn longer_dotted_numbers_give_every_window_of_four() {
    assert_eq!(
        addresses("v 1.2.3.4.5"),
        ["1.2.3.4", "2.3.4.5"],
        "{:?}",
        found("1.2.3.4.5")
    );
    assert_eq!(found("9.2.3.4/33"), ["9.2.3.4=9.2.3.4/32"]);
}

#[test]
fn finds_ipv6_including_brackets_and_punctuation() {
    assert!(has("[2001:DB8::1]:443", "2001:db8::1"));
    assert!(has("to 2001:db8::1.", "2001:db8::1"));
    assert!(found("2001:db8::/32").contains(&"2001:db8::/32=2001:db8::/32".to_owned()));
    assert!(has("src:2001:db8::7", "2001:db8::7"));
}

#[test]
fn long_runs_are_linear_and_find_nothing() {
    for text in [
        "1:".repeat(50_000),
        "1.".repeat(50_000),
        "7".repeat(100_000),
    ] {
        let start = std::time::Instant::now();
        let n = scan(&text).len();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{n} {:?}",
            start.elapsed()
        );
    }
}

/// The compatibility table is exactly NFKC (plus the IDNA full stops).
#[test]
fn compat_table_is_nfkc() {
    use unicode_normalization::UnicodeNormalization;
    for cp in 0x80..=0x10FFFFu32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let n: String = c.to_string().nfkc().collect();
        let mut it = n.chars();
        let want = match (it.next(), it.next()) {
            _ if cp == 0x3002 || cp == 0xFF61 => Some(b'.'),
            (Some(a), None)
                if a.is_ascii_alphanumeric() || matches!(a, '.' | ':' | '/' | '-' | '_' | '%') =>
            {
                Some(a as u8)
            }
            _ => None,
        };
        assert_eq!(compat::compat(cp), want, "U+{cp:04X}");
    }
}

mod properties {
    use super::*;
    use crate::ipscan::reference;
    use crate::{pseudonymise_text, AddressRanges, PseudonymKey};
    use proptest::prelude::*;

    fn ranges() -> AddressRanges {
        AddressRanges::new([
            "198.51.100.0/24".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ])
    }

    fn customer(addr: IpAddr) -> bool {
        ranges().contains_addr(addr)
    }

    /// One ASCII character written in one of the encodings the decoder reads.
    fn encode_char(c: char, how: u8) -> String {
        let b = c as u32;
        match how % 8 {
            0 | 1 => c.to_string(),
            2 => format!("%{b:02X}"),
            3 => format!("&#{b};"),
            4 => format!("\\u{b:04x}"),
            5 if c.is_ascii_alphanumeric() => {
                char::from_u32(b - 0x21 + 0xFF01).unwrap().to_string()
            }
            6 if c.is_ascii_digit() => char::from_u32(b - 0x30 + 0x1D7CE).unwrap().to_string(),
            7 => format!("%25{b:02x}"),
            _ => c.to_string(),
        }
    }

    const DOTS: &[&str] = &[
        ".", ".", "[.]", "(.)", "{.}", "<.>", "[dot]", "(DOT)", " dot ", " [.] ", "%2E", "%2e",
        "%252E", "\\.", "\\\\.", "&#46;", "&#x2e;", "&period;", "\u{3002}", "\u{FF0E}", "\u{FF61}",
        "\\u002e", "\\x2e",
    ];

    /// `text` with each character encoded by the matching entry of `how` (dots as
    /// the matching entry of `dots`).
    fn encode(text: &str, how: &[u8], dots: &[usize]) -> String {
        let mut out = String::new();
        for (k, c) in text.chars().enumerate() {
            if c == '.' {
                out.push_str(DOTS[dots[k % dots.len()] % DOTS.len()]);
            } else {
                out.push_str(&encode_char(c, how[k % how.len()]));
            }
        }
        out
    }

    /// Ways to write an IPv4 address, each as plain text (encoded afterwards).
    fn v4_forms(a: Ipv4Addr) -> Vec<String> {
        let [o0, o1, o2, o3] = a.octets();
        let n = u32::from(a);
        let mut forms = vec![
            a.to_string(),
            format!("{o0:03}.{o1:03}.{o2:03}.{o3:03}"),
            format!("0{o0:o}.0{o1:o}.0{o2:o}.0{o3:o}"),
            format!("0x{o0:x}.0x{o1:X}.0x{o2:02x}.0x{o3:02X}"),
            format!("{o0}.{o1}.{}", u32::from(o2) << 8 | u32::from(o3)),
            format!("{n}"),
            format!("0x{n:08X}"),
            format!("0x{n:x}"),
            format!("0{n:o}"),
            format!("{o0}-{o1}-{o2}-{o3}"),
            format!("{o0}_{o1}_{o2}_{o3}"),
            format!("{o3}.{o2}.{o1}.{o0}.in-addr.arpa"),
            format!("2002:{:x}:{:x}::1", n >> 16, n & 0xFFFF),
            format!("64:ff9b::{:x}:{:x}", n >> 16, n & 0xFFFF),
            format!("64:ff9b::{a}"),
            format!("::ffff:0:{a}"),
            format!("::ffff:{a}"),
            format!("::{:x}:{:x}", n >> 16, n & 0xFFFF),
            format!("fe80::5efe:{a}"),
            format!(
                "2001:0:4136:e378:8000:63bf:{:x}:{:x}",
                (!n) >> 16,
                !n & 0xFFFF
            ),
            format!("{a}/16"),
        ];
        if u32::from(o2) << 8 | u32::from(o3) > 255 {
            forms.push(format!(
                "{o0}.{}",
                u32::from(o1) << 16 | u32::from(o2) << 8 | u32::from(o3)
            ));
        }
        forms
    }

    fn v6_forms(a: Ipv6Addr) -> Vec<String> {
        let n = u128::from(a);
        let s = a.segments();
        let mut nibbles = String::new();
        for k in 0..32 {
            nibbles.push_str(&format!("{:x}.", (n >> (4 * k)) & 0xF));
        }
        vec![
            a.to_string(),
            a.to_string().to_uppercase(),
            s.iter()
                .map(|g| format!("{g:04x}"))
                .collect::<Vec<_>>()
                .join(":"),
            format!("[{a}]:443"),
            format!("{nibbles}ip6.arpa"),
            format!("{n}"),
            format!("0x{n:032x}"),
            format!("{a}/24"),
        ]
    }

    /// Text around an address that the documentation says does not hide it.
    const BEFORE: &[&str] = &[
        "",
        " ",
        "\"",
        "'",
        "(",
        "[",
        "=",
        "at ",
        "beaconing...",
        "www.",
        "capture.",
        "ip ",
        "\n",
        "src:",
        "\\\"",
        ",",
        "<b>",
    ];
    const AFTER: &[&str] = &[
        "", " ", "\"", "'", ")", "]", ".", ".nip.io", ".pcap", ",", "\n", ";", "\\n", "</b>",
        ". Next",
    ];
    /// Any text: glued letters, digits, dots and escapes (the forms may or may not
    /// be read; the fast scanner must still read whatever the reference reads).
    const ANY: &[&str] = &[
        "",
        "a",
        "abc",
        "x_",
        "1",
        "9.",
        ".5",
        "-",
        "_",
        "0x",
        "host",
        "Data",
        "%",
        "%2",
        "&#",
        "\\",
        "[",
        "[.",
        "dot",
        "ip6.arpa",
        ".in-addr.arpa",
        "::",
        ":",
        "f",
        "2001:",
        "/",
        "/8",
        "０",
        "．",
    ];

    fn v4_customer() -> impl Strategy<Value = Ipv4Addr> {
        any::<u8>().prop_map(|h| Ipv4Addr::new(198, 51, 100, h))
    }

    fn v6_customer() -> impl Strategy<Value = Ipv6Addr> {
        (any::<u16>(), any::<u64>(), 1..0xFFFFu16).prop_map(|(g, mid, last)| {
            let x = (0x2001_0db8u128 << 96)
                | u128::from(g) << 80
                | u128::from(mid) << 16
                | u128::from(last);
            Ipv6Addr::from(x)
        })
    }

    /// A customer address in one of its forms, encoded: (address, text).
    fn written() -> impl Strategy<Value = (IpAddr, String)> {
        let how = prop::collection::vec(prop_oneof![4 => Just(0u8), 1 => 0..8u8], 1..6);
        let dots = prop::collection::vec(prop_oneof![3 => Just(0usize), 1 => 0..DOTS.len()], 1..4);
        prop_oneof![
            (
                v4_customer(),
                any::<prop::sample::Index>(),
                how.clone(),
                dots.clone()
            )
                .prop_map(|(a, i, how, dots)| {
                    let forms = v4_forms(a);
                    (IpAddr::V4(a), encode(i.get::<String>(&forms), &how, &dots))
                }),
            (v6_customer(), any::<prop::sample::Index>(), how, dots).prop_map(
                |(a, i, how, dots)| {
                    let forms = v6_forms(a);
                    (IpAddr::V6(a), encode(i.get::<String>(&forms), &how, &dots))
                }
            ),
        ]
    }

    fn fast_addresses(text: &str) -> Vec<IpAddr> {
        scan(text)
            .iter()
            .filter(|l| !l.is_network())
            .map(|l| l.net.addr())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Every documented form, in every encoding, between text that does not glue
        /// to it, is read as the customer address.
        #[test]
        fn every_form_in_every_encoding_is_read(
            (addr, text) in written(),
            before in prop::sample::select(BEFORE),
            after in prop::sample::select(AFTER),
        ) {
            let full = format!("{before}{text}{after}");
            prop_assert!(fast_addresses(&full).contains(&addr), "{addr} not read in {full:?}: {:?}", scan(&full));
            prop_assert!(reference::addresses(&full).contains(&addr), "reference misses {addr} in {full:?}");
        }

        /// Whatever the context, the fast scanner reads every customer address the
        /// reference reads, and after replacement neither finds one.
        #[test]
        fn the_fast_scanner_reads_what_the_reference_reads_and_replacement_leaves_none(
            (_, text) in written(),
            before in prop::collection::vec(prop::sample::select(ANY), 0..3),
            after in prop::collection::vec(prop::sample::select(ANY), 0..3),
        ) {
            let full = format!("{}{text}{}", before.concat(), after.concat());
            let fast = fast_addresses(&full);
            for addr in reference::addresses(&full) {
                if customer(addr) {
                    prop_assert!(fast.contains(&addr), "{addr} read by the reference only in {full:?}");
                }
            }
            let key = PseudonymKey::from_bytes(&[3; 32]).unwrap();
            if let Ok(Some(out)) = pseudonymise_text(&full, &ranges(), &key) {
                for addr in reference::addresses(&out) {
                    prop_assert!(!customer(addr), "{addr} left in {out:?} (from {full:?})");
                }
                for addr in fast_addresses(&out) {
                    prop_assert!(!customer(addr), "{addr} left in {out:?} (from {full:?})");
                }
            }
        }

        /// Arbitrary text: the fast scanner's readings of customer addresses include
        /// the reference's, and spans are in bounds and on character boundaries.
        #[test]
        fn arbitrary_text_agrees_with_the_reference(
            text in "([0-9a-fA-F:.x%/\\[\\]() _-]|198|51|100|2001|db8|\\.in-addr\\.arpa|ip6\\.arpa|dot|&#46;|%2E|０|．){0,30}"
        ) {
            let fast = fast_addresses(&text);
            for addr in reference::addresses(&text) {
                if customer(addr) {
                    prop_assert!(fast.contains(&addr), "{addr} read by the reference only in {text:?}");
                }
            }
            for l in scan(&text) {
                prop_assert!(l.span.0 < l.addr_end && l.addr_end <= l.span.1 && l.span.1 <= text.len());
                prop_assert!(text.is_char_boundary(l.span.0) && text.is_char_boundary(l.span.1) && text.is_char_boundary(l.addr_end));
            }
        }

        /// Passing short numbers without the number parsers ([`starts_nothing`]) changes
        /// no reading, whatever follows them: every reading (span, address, form) is
        /// the same with and without it.
        #[test]
        fn passing_short_numbers_changes_no_reading(
            text in r#"([0-9]{1,11}|[-_.:/xXTZ ]|0x|%3[0-9]|%2[Ee]|%2[Dd]|&#46;|\\\.|\\x3[0-9]|\\u0030|\[\.\]|\(dot\)|．|６|\.in-addr\.arpa|\.ip6\.arpa|ip|[a-f]{1,4}|--|::){0,24}"#
        ) {
            prop_assert_eq!(readings(&text, true), readings(&text, false), "in {:?}", text);
        }

        /// The same for the texts every object carries: STIX ids and timestamps, with
        /// their hex groups and numbers at any value.
        #[test]
        fn ids_and_timestamps_read_the_same_without_the_number_parsers(
            groups in prop::collection::vec("[0-9a-f]{12}", 5),
            digits in "[0-9]{14}",
            fraction in r"(\.[0-9]{1,9})?",
        ) {
            let id = format!(
                "indicator--{}-{}-{}-{}-{}",
                &groups[0][..8], &groups[1][..4], &groups[2][..4], &groups[3][..4], groups[4]
            );
            let d = digits.as_bytes();
            let at = |r: std::ops::Range<usize>| std::str::from_utf8(&d[r]).unwrap_or_default().to_owned();
            let stamp = format!(
                "{}-{}-{}T{}:{}:{}{fraction}Z",
                at(0..4), at(4..6), at(6..8), at(8..10), at(10..12), at(12..14)
            );
            for text in [id, stamp] {
                prop_assert_eq!(readings(&text, true), readings(&text, false), "in {:?}", text);
            }
        }
    }

    /// Every reading of `text` as [`visit_with`] gives them (`pass_short` as given),
    /// sorted, without repeats.
    fn readings(text: &str, pass_short: bool) -> Vec<String> {
        let mut out = Vec::new();
        visit_with(text, &mut |l| out.push(format!("{l:?}")), pass_short);
        out.sort();
        out.dedup();
        out
    }
}
