//! Property tests: generated logs read back exactly; arbitrary bytes never panic.

use std::net::IpAddr;

use accord_telemetry::{Format, TelemetryReader};
use proptest::prelude::*;

fn drain(input: &[u8], format: Option<Format>) -> usize {
    let Ok(mut r) = TelemetryReader::new(input, format) else {
        return 0;
    };
    let mut n = 0;
    for _ in 0..10_000 {
        match r.next_record() {
            Ok(Some(_)) => n += 1,
            Ok(None) => break,
            Err(e) if e.is_fatal() => break,
            Err(_) => {}
        }
    }
    n
}

fn flows() -> impl Strategy<Value = Vec<(u32, IpAddr, u16, IpAddr, u16)>> {
    prop::collection::vec(
        (
            0u32..2_000_000_000,
            any::<IpAddr>(),
            any::<u16>(),
            any::<IpAddr>(),
            any::<u16>(),
        ),
        0..40,
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for f in [None, Some(Format::ZeekTsv), Some(Format::ZeekJson), Some(Format::Csv)] {
            drain(&bytes, f);
        }
    }

    #[test]
    fn header_then_garbage_never_panics(tail in "[-#a-z0-9.,:\t\\\\{}\"\\[\\] \n]{0,300}") {
        let heads = [
            "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tanswers\tquery\n",
            "ts,sa,da,sp,dp,pr,te\n",
            "{\"ts\":1,\"id.orig_h\":\"1.2.3.4\",\"id.resp_h\":\"::1\",\"answers\":",
        ];
        for h in heads {
            let input = format!("{h}{tail}");
            drain(input.as_bytes(), None);
        }
    }

    #[test]
    fn generated_tsv_reads_back(rows in flows()) {
        let mut s = String::from("#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tlabel\n");
        for (ts, a, ap, b, bp) in &rows {
            s.push_str(&format!("{ts}.000001\t{a}\t{ap}\t{b}\t{bp}\tMalicious\n"));
        }
        let mut r = TelemetryReader::new(s.as_bytes(), None).unwrap();
        for (ts, a, ap, b, bp) in &rows {
            let rec = r.next_record().unwrap().unwrap();
            let c = rec.conn();
            prop_assert_eq!(c.ts, i64::from(*ts) * 1_000_000 + 1);
            prop_assert_eq!((c.orig_h, c.orig_p, c.resp_h, c.resp_p), (*a, Some(*ap), *b, Some(*bp)));
        }
        prop_assert!(r.next_record().unwrap().is_none());
    }

    #[test]
    fn generated_json_and_csv_read_back(rows in flows()) {
        let mut j = String::new();
        let mut c = String::from("ts,src_ip,src_port,dst_ip,dst_port\n");
        for (ts, a, ap, b, bp) in &rows {
            j.push_str(&format!("{{\"ts\":{ts}.5,\"id.orig_h\":\"{a}\",\"id.orig_p\":{ap},\"id.resp_h\":\"{b}\",\"id.resp_p\":{bp}}}\n"));
            c.push_str(&format!("{ts}.5,{a},{ap},{b},{bp}\n"));
        }
        for input in [j, c] {
            let mut r = TelemetryReader::new(input.as_bytes(), None).unwrap();
            for (ts, a, ap, b, bp) in &rows {
                let rec = r.next_record().unwrap().unwrap();
                let c = rec.conn();
                prop_assert_eq!(c.ts, i64::from(*ts) * 1_000_000 + 500_000);
                prop_assert_eq!((c.orig_h, c.orig_p, c.resp_h, c.resp_p), (*a, Some(*ap), *b, Some(*bp)));
            }
            prop_assert!(r.next_record().unwrap().is_none());
        }
    }
}
