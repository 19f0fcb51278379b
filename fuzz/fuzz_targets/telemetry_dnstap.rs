//! Fuzz the dnstap intake's pure part: Frame Streams framing over arbitrary bytes, and
//! every data frame (and the raw input itself) through one decoder. No panic on any
//! input; a frame decodes, is skipped, or is refused with a reason.
#![no_main]

use accord_telemetry::dnstap::{frame, DnstapDecoder, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = DnstapDecoder::new();
    if let Ok(Ok(d)) = decoder.decode(data) {
        let _ = (d.query.as_deref().map(str::len), d.rcode_name);
        d.answers.for_each(|a| assert!(!a.is_empty()));
    }
    let mut at = 0;
    while let Ok(Some((f, used))) = frame(&data[at..]) {
        assert!(used > 0 && at + used <= data.len());
        at += used;
        if let Frame::Data(d) = f {
            let _ = decoder.decode(d);
        }
    }
});
