//! The real Stratosphere Zeek conn logs.

use std::fs::File;
use std::io::BufReader;
use std::net::IpAddr;

use accord_telemetry::{Format, Proto, Record, TelemetryReader, ZeekTsvReader};

use crate::fixture;

fn open(rel: &str) -> TelemetryReader<BufReader<File>> {
    let f = File::open(fixture(rel)).expect("fixture present");
    TelemetryReader::new(BufReader::new(f), None).expect("reader")
}

#[test]
fn njrat_all_records_parse_with_exact_fields() {
    let mut r = open("stratosphere-001-njrat/conn.log.labeled");
    assert_eq!(r.format(), Format::ZeekTsv);
    let (mut n, mut v6, mut to_c2, mut local_orig) = (0, 0, 0, 0);
    let c2: IpAddr = "41.108.179.197".parse().unwrap();
    while let Some(rec) = r.next_record().expect("every line parses") {
        let Record::Conn(c) = rec else {
            panic!("conn.log gives conn records")
        };
        if n == 0 {
            assert_eq!(c.ts, 19_981_745);
            assert_eq!(c.uid, Some("C91Ycq25p2quMWzEMk"));
            assert_eq!(
                c.orig_h,
                "fd2d:ab8c:225:0:81d3:fd3e:7f62:aec8"
                    .parse::<IpAddr>()
                    .unwrap()
            );
            assert_eq!(c.orig_p, Some(56464));
            assert_eq!(c.resp_h, "fd2d:ab8c:225::1".parse::<IpAddr>().unwrap());
            assert_eq!(c.resp_p, Some(53));
            assert_eq!(c.proto, Proto::Udp);
            assert_eq!(c.service, Some("dns"));
            assert_eq!(c.duration, Some(0.136721));
            assert_eq!((c.orig_bytes, c.resp_bytes), (Some(34), Some(50)));
            assert_eq!((c.orig_pkts, c.resp_pkts), (Some(1), Some(1)));
            assert_eq!((c.local_orig, c.local_resp), (Some(false), Some(false)));
        }
        n += 1;
        v6 += usize::from(c.orig_h.is_ipv6());
        to_c2 += usize::from(c.resp_h == c2);
        local_orig += usize::from(c.local_orig == Some(true));
    }
    assert_eq!(n, 992);
    assert_eq!(v6, 661);
    assert_eq!(to_c2, 237);
    assert_eq!(local_orig, 331);
    assert_eq!(r.line(), 1000);
}

#[test]
fn mixed_capture_counts_and_unset_fields() {
    let mut r = open("stratosphere-008-mixed/conn.log.labeled");
    let (mut n, mut unset_bytes, mut tcp, mut local_resp) = (0, 0, 0, 0);
    let mut second = None;
    while let Some(rec) = r.next_record().expect("every line parses") {
        let c = rec.conn();
        if n == 1 {
            second = Some((
                c.ts,
                c.orig_h,
                c.resp_p,
                c.service.map(str::to_string),
                c.duration,
            ));
        }
        n += 1;
        unset_bytes += usize::from(c.service.is_none());
        tcp += usize::from(c.proto == Proto::Tcp);
        local_resp += usize::from(c.local_resp == Some(true));
    }
    assert_eq!(n, 5663);
    assert_eq!(tcp, 5383);
    assert_eq!(local_resp, 4201);
    assert!(unset_bytes > 0, "`-` service is read as unset");
    assert_eq!(
        second,
        Some((
            1_655_071_231_749_548,
            "193.201.9.232".parse().unwrap(),
            Some(3933),
            None,
            Some(0.00001)
        ))
    );
}

#[test]
fn labels_are_never_read() {
    // Rewrite the label columns to garbage: the records must come out identical.
    let text = std::fs::read_to_string(fixture("stratosphere-001-njrat/conn.log.labeled")).unwrap();
    let scrambled: String = text
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                return format!("{l}\n");
            }
            let mut cols: Vec<&str> = l.split('\t').collect();
            let k = cols.len();
            cols[k - 2] = "\u{1F4A5}not a label";
            cols[k - 1] = "-";
            format!("{}\n", cols.join("\t"))
        })
        .collect();
    let mut a = ZeekTsvReader::new(text.as_bytes());
    let mut b = ZeekTsvReader::new(scrambled.as_bytes());
    let mut n = 0;
    loop {
        let ra = a.next_record().unwrap().map(|r| format!("{r:?}"));
        let rb = b.next_record().unwrap().map(|r| format!("{r:?}"));
        assert_eq!(ra, rb);
        if ra.is_none() {
            break;
        }
        let ra = ra.unwrap();
        assert!(!ra.contains("Malicious") && !ra.contains("Background") && !ra.contains("Benign"));
        n += 1;
    }
    assert_eq!(n, 992);
}
