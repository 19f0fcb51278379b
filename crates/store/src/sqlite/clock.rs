//! The store clock: unique, strictly increasing `date_added` stamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out `date_added` stamps in microseconds: the wall clock, but never equal to or
/// below a stamp already used, so stamps order rows totally and serve as cursors.
#[derive(Debug, Default)]
pub(super) struct StampClock {
    last: i64,
}

impl StampClock {
    /// Make sure future stamps are above `seen` (a stamp another process may have
    /// written; read at the start of each write transaction).
    pub(super) fn observe(&mut self, seen: i64) {
        self.last = self.last.max(seen);
    }

    /// The next stamp.
    pub(super) fn next(&mut self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.last = now.max(self.last.saturating_add(1));
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_strictly_increase_even_past_the_wall_clock() {
        let mut clock = StampClock::default();
        clock.observe(i64::MAX / 2);
        let a = clock.next();
        let b = clock.next();
        assert_eq!(a, i64::MAX / 2 + 1);
        assert_eq!(b, a + 1);
    }
}
