//! Signals and how they combine into a score.
//!
//! Each signal is a value in `0..=1` with a weight; the score is their noisy-OR,
//! `1 − Π(1 − weight·value)`: independent evidence adds up, and no signal alone
//! reaches 1. A destination is reported when the score reaches [`REPORT_SCORE`]. The
//! weights say how much a signal alone should convince: a clean beacon or a DGA-found
//! address alone is reported; a long connection, an address-literal `Host` or failed
//! connections alone are not.

use crate::c2::pair::{HttpState, PairState};

/// Score from which a destination is reported.
pub const REPORT_SCORE: f64 = 0.6;

/// Fewest connections (or application records) of a pair for its timing to count.
pub const MIN_CONNS: u32 = 6;

/// Fewest gaps of at least a second for the timing to count.
pub const MIN_GAPS: u32 = 5;

/// Connections from which a beacon's volume no longer limits its score.
pub const FULL_CONNS: u32 = 12;

/// Concentration (share of gaps in the densest three adjacent half-octave bins) at
/// and below which timing is not regular at all: exponential (Poisson) gaps, the
/// model of independent human requests, put at most about 0.37 there.
pub const CONCENTRATION_FLOOR: f64 = 0.5;

/// Concentration at which timing is fully regular.
pub const CONCENTRATION_FULL: f64 = 0.9;

/// Share of unanswered connections from which a pair is talking to a dead server.
pub const DEAD_SHARE: f64 = 0.8;

/// Internal hosts beaconing to one destination from which it is a botnet's.
pub const FAN_IN_HOSTS: usize = 3;

/// NXDOMAIN answers to random-looking names from which a host behaves like a DGA bot.
pub const NX_BURST: u32 = 8;

/// Share of a pair's HTTP requests carrying its majority fingerprint for a check-in.
pub const CHECKIN_SHARE: f64 = 0.5;

/// Most connections of a pair for the sibling signal (a bot walking its C2 list tries
/// each address once or twice).
pub const SIBLING_MAX_CONNS: u32 = 2;

/// A signal's weight.
pub mod weight {
    /// Regular gaps and sizes.
    pub const BEACON: f64 = 0.8;
    /// Regular attempts nobody answers (a dead or sinkholed C2).
    pub const DEAD: f64 = 0.4;
    /// Several internal hosts beaconing to the destination.
    pub const FAN_IN: f64 = 0.5;
    /// Repeated identical HTTP requests.
    pub const CHECKIN: f64 = 0.45;
    /// Same client fingerprint as a reported destination, to an address literal.
    pub const SHARED_CHECKIN: f64 = 0.75;
    /// Unanswered, never named, same port as a reported destination of the host.
    pub const SIBLING: f64 = 0.7;
    /// Resolved from a random-looking name by a host with an NXDOMAIN burst.
    pub const DGA: f64 = 0.8;
    /// Long-lived connections.
    pub const LONG: f64 = 0.3;
    /// HTTP to an address literal.
    pub const LITERAL: f64 = 0.15;
}

/// One fired signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// Name as printed in the evidence.
    pub name: &'static str,
    /// Strength in `0..=1`.
    pub value: f64,
    /// Weight in `0..=1`.
    pub weight: f64,
}

/// Noisy-OR of the signals.
pub fn combine(signals: &[Signal]) -> f64 {
    1.0 - signals
        .iter()
        .map(|s| 1.0 - (s.weight * s.value).clamp(0.0, 1.0))
        .product::<f64>()
}

/// How regular a pair's timing is in `0..=1` (0 below [`MIN_CONNS`]/[`MIN_GAPS`]).
pub fn regularity(p: &PairState) -> f64 {
    if p.count < MIN_CONNS || p.gaps_counted() < MIN_GAPS {
        return 0.0;
    }
    let (conc, _) = p.concentration();
    ((conc - CONCENTRATION_FLOOR) / (CONCENTRATION_FULL - CONCENTRATION_FLOOR)).clamp(0.0, 1.0)
}

/// The beacon signal of a pair: regular timing, weighted by regular sizes and volume.
pub fn beacon(p: &PairState) -> f64 {
    let r = regularity(p);
    if r == 0.0 {
        return 0.0;
    }
    // Without sizes (TLS/HTTP records only) the sizes neither help nor hurt.
    let size = if p.sizes.n() == 0 {
        0.5
    } else {
        p.size_regularity()
    };
    let volume = (f64::from(p.count) / f64::from(FULL_CONNS)).min(1.0);
    r * (0.7 + 0.3 * size) * (0.6 + 0.4 * volume)
}

/// The dead-C2 signal: regular attempts, most unanswered.
pub fn dead(p: &PairState) -> f64 {
    if p.count < MIN_CONNS {
        return 0.0;
    }
    let share = f64::from(p.failed) / f64::from(p.count);
    if share < DEAD_SHARE {
        return 0.0;
    }
    regularity(p)
}

/// The check-in signal: most HTTP requests identical.
pub fn checkin(p: &HttpState) -> f64 {
    if p.http < MIN_CONNS {
        return 0.0;
    }
    let (_, votes) = p.checkin.get();
    let share = f64::from(votes) / f64::from(p.http);
    if share < CHECKIN_SHARE {
        0.0
    } else {
        share
    }
}

/// The long-connection signal: grows to 1 at four hours.
pub fn long(p: &PairState) -> f64 {
    if p.long == 0 {
        return 0.0;
    }
    (f64::from(p.max_duration) / (4.0 * 3600.0)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noisy_or() {
        let s = |v, w| Signal {
            name: "x",
            value: v,
            weight: w,
        };
        assert_eq!(combine(&[]), 0.0);
        assert!((combine(&[s(1.0, 0.8)]) - 0.8).abs() < 1e-12);
        assert!((combine(&[s(1.0, 0.5), s(1.0, 0.5)]) - 0.75).abs() < 1e-12);
        assert!(combine(&[s(1.0, weight::LONG), s(1.0, weight::LITERAL)]) < REPORT_SCORE);
        assert!(combine(&[s(1.0, weight::BEACON)]) >= REPORT_SCORE);
    }
}
