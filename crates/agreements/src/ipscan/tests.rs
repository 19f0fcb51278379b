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
