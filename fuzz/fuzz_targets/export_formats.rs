//! `accord export --format`: any released object text converts to lines of every format
//! or is left out with a reason, without a panic.
#![no_main]

use accord_node::enforcement::{Converter, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (_, format) in Format::ALL {
        let mut converter = Converter::new(format, 1_700_000_000_000_000);
        converter.add(&text);
        converter.finish();
        let _ = converter.render();
    }
});
