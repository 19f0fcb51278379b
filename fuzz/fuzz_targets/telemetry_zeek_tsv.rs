//! Fuzz the Zeek TSV reader: no panic, and every record it yields is usable.
//!
//! The first byte picks a header to prepend (none, conn, dns, http) so that the
//! fuzzer spends its time on data lines as well as on headers.
#![no_main]

use accord_telemetry::{Format, TelemetryReader};
use libfuzzer_sys::fuzz_target;

mod telemetry_common;

const HEADERS: [&str; 4] = [
    "",
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tlocal_orig\tlocal_resp\torig_pkts\tresp_pkts\tlabel\n",
    "#separator \\x09\n#set_separator\t,\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers\n",
    "#separator \\x09\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\treferrer\tuser_agent\tstatus_code\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut input = HEADERS[usize::from(pick) % HEADERS.len()]
        .as_bytes()
        .to_vec();
    input.extend_from_slice(rest);
    telemetry_common::drain(&input, Some(Format::ZeekTsv));
    let _ = TelemetryReader::new(&input[..], None);
});
