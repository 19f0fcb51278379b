//! Fuzz the Zeek JSON-lines reader: no panic on any input.
#![no_main]

use accord_telemetry::Format;
use libfuzzer_sys::fuzz_target;

mod telemetry_common;

fuzz_target!(|data: &[u8]| {
    telemetry_common::drain(data, Some(Format::ZeekJson));
});
