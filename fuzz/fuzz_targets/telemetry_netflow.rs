//! Fuzz the NetFlow v5/v9 and IPFIX decoder: arbitrary datagrams through one decoder,
//! so that templates learnt from one datagram are used (and abused) by the next. No
//! panic on any input; every datagram decodes or is counted as dropped.
#![no_main]

use accord_telemetry::netflow::{encode, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new();
    let exporters = ["192.0.2.1:2055".parse().unwrap(), "[2001:db8::1]:4739".parse().unwrap()];
    // Seed templates so that data sets find them; the input then splits into
    // datagrams at each 0xFF 0xFE pair, the first byte of each choosing an exporter.
    let _ = decoder.decode(exporters[0], &encode::ipfix(0, 0, 1_700_000_000, &[], true));
    let _ = decoder.decode(exporters[0], &encode::v9(0, 0, 1_700_000_000, 0, &[], true));
    let mut n = 2u64;
    for chunk in data.split(|&b| b == 0xFE) {
        let Some((&pick, datagram)) = chunk.split_first() else {
            continue;
        };
        n += 1;
        let from = exporters[usize::from(pick & 1)];
        if let Ok(flows) = decoder.decode(from, datagram) {
            for f in flows {
                let _ = f.conn();
            }
        }
    }
    let s = decoder.stats();
    assert_eq!(s.datagrams, n);
});
