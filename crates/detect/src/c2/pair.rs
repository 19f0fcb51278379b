//! Bounded state per (internal host, destination, port): sketches, not timestamps.
//!
//! A beacon is a host talking to one destination at a regular rhythm with regular
//! sizes. What that takes to judge fits in a fixed-size record per pair whatever the
//! number of connections: a histogram of the gaps between connections in
//! half-octave bins (a jittered or sleep-with-jitter beacon keeps its gaps within a
//! factor of two, so within three adjacent bins; random traffic spreads over many),
//! streaming mean and variance of the gaps and of the sizes sent (Welford), the most
//! frequent exact size (Boyer–Moore majority vote), counts of unanswered connections
//! and of long ones, and for HTTP the majority check-in fingerprint (method, path and
//! user agent hashed).
//!
//! **Memory**: [`PairState`] is [`PAIR_STATE_BYTES`] (112) bytes; with its 40-byte key
//! and the hash table's control byte, a slot is 153 bytes, and the table holds between
//! 7/16 and 7/8 of its slots full: 175–350 bytes per pair, one million pairs in at
//! most 350 MB (the HTTP side, [`HttpState`], only for pairs with HTTP records).

use accord_telemetry::Micros;

/// Number of gap bins.
pub const INTERVAL_BINS: usize = 32;

/// Bin 0 holds gaps under one second (bursts: several connections of one check-in);
/// bin `k ≥ 1` holds gaps in `[2^((k-1)/2), 2^(k/2))` seconds; the last bin is open
/// (from about 12 hours).
pub fn interval_bin(gap: Micros) -> usize {
    if gap < 1_000_000 {
        return 0;
    }
    let secs = gap as f64 / 1e6;
    let k = 1 + (2.0 * secs.log2()) as usize;
    k.min(INTERVAL_BINS - 1)
}

/// Lower edge of bin `k` in seconds (0 for bin 0).
pub fn bin_lower_secs(k: usize) -> f64 {
    if k == 0 {
        0.0
    } else {
        2f64.powf((k as f64 - 1.0) / 2.0)
    }
}

/// A connection lasting at least this many seconds is long-lived.
pub const LONG_CONN_SECS: f64 = 3600.0;

/// Where a pair's timing came from: a connection log, or only application logs
/// (HTTP/TLS) when no connection log covered the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Not seen yet.
    #[default]
    None,
    /// HTTP or TLS records.
    App,
    /// Connection records.
    Conn,
}

/// Streaming mean and variance (Welford), stored in single precision (the state is
/// per pair; seven significant digits are plenty for a jitter figure).
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    n: u32,
    mean: f32,
    m2: f32,
}

impl Moments {
    /// Adds a value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n = self.n.saturating_add(1);
        let mean = f64::from(self.mean);
        let d = x - mean;
        let mean = mean + d / f64::from(self.n);
        self.m2 = (f64::from(self.m2) + d * (x - mean)) as f32;
        self.mean = mean as f32;
    }

    /// Number of values.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// Mean (0 with no value).
    pub fn mean(&self) -> f64 {
        f64::from(self.mean)
    }

    /// Standard deviation divided by the mean (0 when undefined).
    pub fn cv(&self) -> f64 {
        if self.n < 2 || self.mean <= 0.0 {
            return 0.0;
        }
        (f64::from(self.m2) / f64::from(self.n - 1)).max(0.0).sqrt() / f64::from(self.mean)
    }
}

/// Boyer–Moore majority vote over 32-bit values: the candidate is the majority value
/// if there is one; `votes` is a lower bound of how far it leads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Majority {
    candidate: u32,
    votes: u32,
}

impl Majority {
    /// Adds a value.
    #[inline]
    pub fn push(&mut self, v: u32) {
        if self.votes == 0 {
            self.candidate = v;
            self.votes = 1;
        } else if self.candidate == v {
            self.votes = self.votes.saturating_add(1);
        } else {
            self.votes -= 1;
        }
    }

    /// The candidate and its lead.
    pub fn get(&self) -> (u32, u32) {
        (self.candidate, self.votes)
    }
}

/// The HTTP side of a pair, kept apart (most pairs have no HTTP log).
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpState {
    /// HTTP requests seen.
    pub http: u32,
    /// Majority check-in fingerprint (method, path, user agent).
    pub checkin: Majority,
    /// Majority user agent hash (for linking check-ins across destinations).
    pub agent: Majority,
    /// An HTTP `Host` header was an address literal (no name used).
    pub literal_host: bool,
}

/// The state of one (internal host, destination, port).
#[derive(Debug, Clone, Default)]
pub struct PairState {
    /// First connection start.
    pub first: Micros,
    /// Latest connection start (gaps are measured from it).
    pub last: Micros,
    /// Connections (or application records when [`Source::App`]).
    pub count: u32,
    /// Connections nobody answered: no responder packet or byte.
    pub failed: u32,
    /// Total bytes sent.
    pub orig_bytes: u64,
    /// Total bytes received.
    pub resp_bytes: u64,
    /// Gaps of at least one second.
    pub gaps: Moments,
    /// Bytes sent by the host per connection.
    pub sizes: Moments,
    /// Most frequent exact size sent.
    pub size_mode: Majority,
    /// Longest duration seen, seconds.
    pub max_duration: f32,
    /// Gap histogram ([`interval_bin`]); when a bin would pass 255 every bin is
    /// halved, which keeps the shape (all the scoring reads) in one byte per bin.
    pub bins: [u8; INTERVAL_BINS],
    /// Connections of at least [`LONG_CONN_SECS`].
    pub long: u16,
    /// Where the timing came from.
    pub source: Source,
}

/// Size of [`PairState`] in bytes (documented in BENCHMARKS.md and docs/detect-c2.md).
pub const PAIR_STATE_BYTES: usize = std::mem::size_of::<PairState>();

impl PairState {
    /// Counts one connection (or application record) starting at `ts`.
    #[inline]
    pub fn connection(&mut self, ts: Micros) {
        if self.count == 0 {
            self.first = ts;
            self.last = ts;
        } else if ts >= self.last {
            let gap = ts.saturating_sub(self.last);
            let k = interval_bin(gap);
            if self.bins[k] == u8::MAX {
                for b in &mut self.bins {
                    *b >>= 1;
                }
            }
            self.bins[k] += 1;
            if k > 0 {
                self.gaps.push(gap as f64 / 1e6);
            }
            self.last = ts;
        } else {
            // Zeek writes connections when they end: a start earlier than the last one
            // is a longer connection finishing late. Its gap is unknown; it still counts.
            self.first = self.first.min(ts);
        }
        self.count = self.count.saturating_add(1);
    }

    /// Volumes and outcome of a connection record.
    #[inline]
    pub fn volumes(
        &mut self,
        orig: Option<u64>,
        resp: Option<u64>,
        resp_pkts: Option<u64>,
        duration: Option<f64>,
    ) {
        let o = orig.unwrap_or(0);
        self.orig_bytes = self.orig_bytes.saturating_add(o);
        self.resp_bytes = self.resp_bytes.saturating_add(resp.unwrap_or(0));
        self.sizes.push(o as f64);
        self.size_mode.push(u32::try_from(o).unwrap_or(u32::MAX));
        if resp_pkts == Some(0) || (resp_pkts.is_none() && resp == Some(0)) {
            self.failed = self.failed.saturating_add(1);
        }
        if let Some(d) = duration {
            self.max_duration = self.max_duration.max(d as f32);
            if d >= LONG_CONN_SECS {
                self.long = self.long.saturating_add(1);
            }
        }
    }

    /// Gaps of at least one second.
    pub fn gaps_counted(&self) -> u32 {
        self.bins[1..].iter().map(|&c| u32::from(c)).sum()
    }

    /// The densest three adjacent gap bins (not bin 0): their share of the gaps of at
    /// least a second, and the first of them.
    pub fn concentration(&self) -> (f64, usize) {
        let n = self.gaps_counted();
        if n == 0 {
            return (0.0, 0);
        }
        let mut best = (0u32, 1usize);
        for k in 1..INTERVAL_BINS {
            let s: u32 = self.bins[k..(k + 3).min(INTERVAL_BINS)]
                .iter()
                .map(|&c| u32::from(c))
                .sum();
            if s > best.0 {
                best = (s, k);
            }
        }
        (f64::from(best.0) / f64::from(n), best.1)
    }

    /// How regular the sizes sent are, in `0..=1`: the majority size's share, or how
    /// little the sizes vary (coefficient of variation under 0.25), whichever is higher.
    pub fn size_regularity(&self) -> f64 {
        let n = self.sizes.n();
        if n == 0 {
            return 0.0;
        }
        let (_, votes) = self.size_mode.get();
        let mode_share = f64::from(votes) / f64::from(n);
        let cv = (1.0 - self.sizes.cv() / 0.25).clamp(0.0, 1.0);
        mode_share.max(cv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_half_octaves() {
        assert_eq!(interval_bin(500_000), 0);
        assert_eq!(interval_bin(1_000_000), 1);
        assert_eq!(interval_bin(1_500_000), 2);
        assert_eq!(interval_bin(2_000_000), 3);
        assert_eq!(interval_bin(60_000_000), 12);
        assert_eq!(interval_bin(i64::MAX), INTERVAL_BINS - 1);
        for k in 1..INTERVAL_BINS - 1 {
            let lo = (bin_lower_secs(k) * 1e6) as i64 + 1;
            assert_eq!(interval_bin(lo), k, "bin {k}");
        }
    }

    const _: () = assert!(PAIR_STATE_BYTES <= 112, "pair state grew past 112 bytes");

    #[test]
    fn a_saturated_histogram_keeps_its_shape() {
        let mut p = PairState::default();
        let mut t = 0;
        for i in 0..3000 {
            p.connection(t);
            // Two gaps of 60 s for one of 5 s.
            t += if i % 3 == 2 { 5_000_000 } else { 60_000_000 };
        }
        let (a, b) = (
            p.bins[interval_bin(60_000_000)],
            p.bins[interval_bin(5_000_000)],
        );
        assert!(
            a >= 128 && (f64::from(a) / f64::from(b) - 2.0).abs() < 0.1,
            "{a} {b}"
        );
        assert_eq!(p.count, 3000);
    }
}
