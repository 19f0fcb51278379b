//! Hand-written dns/http/JSON/CSV fixtures and error behaviour.

use std::borrow::Cow;
use std::io::BufReader;

use accord_telemetry::{CsvLayout, Error, FieldName, Format, Proto, Record, TelemetryReader};

use crate::fixture;

fn read_all(rel: &str) -> (Vec<String>, Vec<Error>) {
    let f = std::fs::File::open(fixture(rel)).expect("fixture");
    let mut r = TelemetryReader::new(BufReader::new(f), None).expect("reader");
    let (mut ok, mut errs) = (Vec::new(), Vec::new());
    loop {
        match r.next_record() {
            Ok(Some(rec)) => ok.push(format!("{rec:?}")),
            Ok(None) => break,
            Err(e) if !e.is_fatal() => errs.push(e),
            Err(e) => panic!("fatal: {e}"),
        }
    }
    (ok, errs)
}

fn answers(rec: &Record<'_>) -> Vec<String> {
    let Record::Dns(d) = rec else {
        panic!("dns expected")
    };
    let mut v = Vec::new();
    d.answers.for_each(|a| v.push(a.to_string()));
    v
}

#[test]
fn zeek_dns_tsv() {
    let text = std::fs::read_to_string(fixture("handmade/dns.log")).unwrap();
    let mut r = TelemetryReader::new(text.as_bytes(), None).unwrap();
    let rec = r.next_record().unwrap().unwrap();
    let Record::Dns(d) = &rec else { panic!() };
    assert_eq!(d.query.as_deref(), Some("c2.evil.example"));
    assert_eq!(d.qtype_name, Some("A"));
    assert_eq!(d.conn.proto, Proto::Udp);
    assert_eq!(answers(&rec), ["198.51.100.66", "198.51.100.67"]);
    let rec = r.next_record().unwrap().unwrap();
    assert_eq!(answers(&rec), ["cdn.good.example", "203.0.113.10"]);
    let rec = r.next_record().unwrap().unwrap();
    let Record::Dns(d) = &rec else { panic!() };
    assert_eq!(d.rcode_name, Some("NXDOMAIN"));
    assert!(answers(&rec).is_empty(), "`-` answers are none");
    let rec = r.next_record().unwrap().unwrap();
    let Record::Dns(d) = &rec else { panic!() };
    assert_eq!(d.query, Some(Cow::Owned("weird\tname.example".to_string())));
    assert!(answers(&rec).is_empty(), "`(empty)` answers are none");
    assert!(r.next_record().unwrap().is_none());
}

#[test]
fn zeek_http_tsv() {
    let text = std::fs::read_to_string(fixture("handmade/http.log")).unwrap();
    let mut r = TelemetryReader::new(text.as_bytes(), Some(Format::ZeekTsv)).unwrap();
    let Some(Record::Http(h)) = r.next_record().unwrap() else {
        panic!()
    };
    assert_eq!(h.method, Some("GET"));
    assert_eq!(h.host.as_deref(), Some("Phish.Example"));
    assert_eq!(h.uri.as_deref(), Some("/login.php?x=1"));
    assert_eq!(h.status_code, Some(200));
    assert_eq!(h.user_agent.as_deref(), Some("Mozilla/5.0"));
    assert_eq!(h.conn.resp_p, Some(80));
    let Some(Record::Http(h)) = r.next_record().unwrap() else {
        panic!()
    };
    assert_eq!(h.referrer.as_deref(), Some("http://x.example/"));
    assert_eq!(h.host.as_deref(), Some("gate.evil.example:8080"));
    let Some(Record::Http(h)) = r.next_record().unwrap() else {
        panic!()
    };
    assert_eq!(h.host, None);
    assert_eq!(h.status_code, None);
    assert!(r.next_record().unwrap().is_none());
}

#[test]
fn zeek_json_conn_with_errors_skipped() {
    let (ok, errs) = read_all("handmade/conn.json");
    assert_eq!(ok.len(), 4, "{ok:#?}");
    assert!(ok[0].contains("198.51.100.66") && ok[0].contains("local_orig: Some(true)"));
    assert!(ok[1].contains("ts: 1714557601500000"), "ISO ts: {}", ok[1]);
    assert!(ok[2].contains("10.1.0.9"), "nested id object: {}", ok[2]);
    assert!(ok.iter().all(|r| !r.contains("Malicious")));
    assert_eq!(errs.len(), 2);
    match &errs[0] {
        Error::Record {
            line, field, rule, ..
        } => {
            assert_eq!(
                (*line, *field, *rule),
                (5, FieldName::Column("id.orig_h"), "ip-address")
            );
        }
        e => panic!("{e:?}"),
    }
    match &errs[1] {
        Error::Record { line, rule, .. } => assert_eq!((*line, *rule), (6, "json")),
        e => panic!("{e:?}"),
    }
}

#[test]
fn zeek_json_dns_and_http_mixed() {
    let text = std::fs::read_to_string(fixture("handmade/dns.json")).unwrap();
    let mut r = TelemetryReader::new(text.as_bytes(), None).unwrap();
    assert_eq!(r.format(), Format::ZeekJson);
    let rec = r.next_record().unwrap().unwrap();
    assert_eq!(answers(&rec), ["198.51.100.66", "198.51.100.67"]);
    let rec = r.next_record().unwrap().unwrap();
    let Record::Dns(d) = &rec else { panic!() };
    assert_eq!(d.query.as_deref(), Some("escaped.example"));
    assert_eq!(
        answers(&rec),
        ["cdn.good.example"],
        "non-string answers are skipped"
    );
    let Some(Record::Http(h)) = r.next_record().unwrap() else {
        panic!()
    };
    assert_eq!(h.uri.as_deref(), Some("/login.php"));
}

#[test]
fn nfdump_csv_with_summary() {
    let text = std::fs::read_to_string(fixture("handmade/flows-nfdump.csv")).unwrap();
    let mut r = TelemetryReader::new(text.as_bytes(), None).unwrap();
    let Some(Record::Conn(c)) = r.next_record().unwrap() else {
        panic!()
    };
    assert_eq!(c.ts, 1_714_557_600_250_000);
    assert_eq!(c.duration, Some(2.5));
    assert_eq!(c.orig_h.to_string(), "10.1.0.5");
    assert_eq!(
        (c.orig_p, c.resp_p, c.proto),
        (Some(50000), Some(443), Proto::Tcp)
    );
    assert_eq!((c.orig_bytes, c.orig_pkts), (Some(3400), Some(12)));
    let Some(Record::Conn(c)) = r.next_record().unwrap() else {
        panic!()
    };
    assert_eq!(c.orig_bytes, Some(1_200_000));
    assert!(c.resp_h.is_ipv6());
    assert!(
        r.next_record().unwrap().is_none(),
        "the Summary block ends the records"
    );
    let TelemetryReader::Csv(inner) = &r else {
        panic!()
    };
    assert_eq!(inner.layout(), Some(CsvLayout::Nfdump));
}

#[test]
fn generic_csv_layout() {
    let (ok, errs) = read_all("handmade/flows-generic.csv");
    assert_eq!(ok.len(), 2, "{ok:#?}");
    assert!(ok[0].contains("duration: Some(1.5)") && ok[0].contains("resp_pkts: Some(6)"));
    assert!(ok[1].contains("10.1.0.6") && ok[1].contains("orig_p: None") && ok[1].contains("Icmp"));
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        matches!(
            errs[0],
            Error::Record {
                field: FieldName::Column("dst_ip"),
                rule: "ip-address",
                line: 4,
                ..
            }
        ),
        "{}",
        errs[0]
    );
    assert!(
        matches!(
            errs[1],
            Error::Record {
                rule: "column-count",
                line: 5,
                ..
            }
        ),
        "{}",
        errs[1]
    );
}

#[test]
fn header_errors_are_fatal_and_precise() {
    let e = TelemetryReader::new(
        &b"#separator \\x09\n#fields\tts\tid.orig_h\n1\t1.2.3.4\n"[..],
        None,
    )
    .unwrap()
    .next_record()
    .unwrap_err();
    assert!(e.is_fatal());
    assert!(
        matches!(
            e,
            Error::MissingColumn {
                line: 2,
                column: "id.resp_h"
            }
        ),
        "{e}"
    );

    let e = TelemetryReader::new(&b"#separator ab\n"[..], None)
        .unwrap()
        .next_record()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Header {
                line: 1,
                rule: "separator-syntax",
                ..
            }
        ),
        "{e}"
    );

    let e = TelemetryReader::new(&b"#separator \\x09\n1\t2\n"[..], None)
        .unwrap()
        .next_record()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Header {
                line: 2,
                rule: "fields-missing",
                ..
            }
        ),
        "{e}"
    );

    let e = TelemetryReader::new(&b"a,b,c\n1,2,3\n"[..], None)
        .unwrap()
        .next_record()
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingColumn {
                line: 1,
                column: "ts"
            }
        ),
        "{e}"
    );
}

#[test]
fn concatenated_logs_reread_headers() {
    let a =
        "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n1\t10.0.0.1\t192.0.2.1\n#close\tx\n";
    let b = "#separator ,\n#fields,id.resp_h,ts,id.orig_h,extra\n192.0.2.2,2,10.0.0.2,zzz\n";
    let input = format!("{a}{b}");
    let mut r = TelemetryReader::new(input.as_bytes(), None).unwrap();
    assert_eq!(
        r.next_record().unwrap().unwrap().conn().resp_h.to_string(),
        "192.0.2.1"
    );
    let rec = r.next_record().unwrap().unwrap();
    assert_eq!(
        (rec.ts(), rec.conn().resp_h.to_string()),
        (2_000_000, "192.0.2.2".to_string())
    );
    assert!(r.next_record().unwrap().is_none());
}

#[test]
fn overlong_and_non_utf8_lines_are_skipped() {
    let mut input = b"#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n".to_vec();
    input.extend(std::iter::repeat_n(
        b'9',
        accord_telemetry::MAX_LINE_LEN + 10,
    ));
    input.extend_from_slice(b"\n1\t10.0.0\xff.1\t192.0.2.1\n2\t10.0.0.1\t192.0.2.1\n");
    let mut r = TelemetryReader::new(&input[..], None).unwrap();
    let e = r.next_record().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Record {
                line: 3,
                rule: "line-length",
                ..
            }
        ),
        "{e}"
    );
    let e = r.next_record().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Record {
                line: 4,
                rule: "utf8",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(r.next_record().unwrap().unwrap().ts(), 2_000_000);
}

/// Zeek `ssl.log` (TSV by `#path`, JSON by `_path` or by its `server_name` field): the
/// server name (SNI) is read; an unset one is `None`.
#[test]
fn zeek_ssl_server_names() {
    let tsv =
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n\
               #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tserver_name\n\
               1700000000.5\tC1\t10.0.0.1\t5555\t192.0.2.7\t443\tTLSv13\tpaypal-login.example\n\
               1700000001.5\tC2\t10.0.0.1\t5556\t192.0.2.8\t443\tTLSv13\t-\n";
    let mut r = TelemetryReader::new(tsv.as_bytes(), None).expect("reader");
    let Some(Record::Ssl(s)) = r.next_record().expect("record") else {
        panic!("an ssl record")
    };
    assert_eq!(s.server_name.as_deref(), Some("paypal-login.example"));
    assert_eq!(s.conn.resp_p, Some(443));
    let Some(Record::Ssl(s)) = r.next_record().expect("record") else {
        panic!("an ssl record")
    };
    assert_eq!(s.server_name, None);
    let json = r#"{"ts":1700000000.5,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.7","server_name":"paypal.com.verify.example"}"#;
    let mut r = TelemetryReader::new(json.as_bytes(), None).expect("reader");
    let Some(Record::Ssl(s)) = r.next_record().expect("record") else {
        panic!("an ssl record")
    };
    assert_eq!(s.server_name.as_deref(), Some("paypal.com.verify.example"));
}
