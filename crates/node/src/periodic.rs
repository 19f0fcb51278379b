//! Background work `accord serve` repeats on an interval until it stops (the release
//! views, the enrichment).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a waiting loop looks at its stop flag: a stopping server waits at most
/// this long for it.
const POLL: Duration = Duration::from_millis(100);

/// Runs `pass` at once and then every `interval` (measured from the end of the last
/// pass) until `stop` is set.
pub fn run_every(interval: Duration, stop: &AtomicBool, mut pass: impl FnMut()) {
    let mut last: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if last.is_none_or(|t| t.elapsed() >= interval) {
            pass();
            last = Some(Instant::now());
        }
        std::thread::sleep(POLL);
    }
}
