//! Fuzz the CSV flow reader (nfdump and generic layouts): no panic on any input.
#![no_main]

use accord_telemetry::Format;
use libfuzzer_sys::fuzz_target;

mod telemetry_common;

const HEADERS: [&str; 3] = [
    "",
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt\n",
    "ts,src_ip,src_port,dst_ip,dst_port,proto,duration,src_bytes,dst_bytes,src_pkts,dst_pkts,uid\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut input = HEADERS[usize::from(pick) % HEADERS.len()]
        .as_bytes()
        .to_vec();
    input.extend_from_slice(rest);
    telemetry_common::drain(&input, Some(Format::Csv));
});
