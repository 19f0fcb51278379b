//! Sealed paging cursors.
//!
//! A store cursor is the `date_added` of the last row a page examined, which may be a
//! row the gate withheld: handed out as it is, it would tell a partner that withheld
//! objects exist and to the microsecond when they arrived. The door hands out cursors
//! through a keyed permutation of the 64-bit value (a four-round Feistel network over
//! HMAC-SHA256, a pseudorandom permutation with a random per-process key), so a cursor
//! says nothing about the rows behind it. A cursor that does not open to a plausible
//! position (one forged, or issued before a restart) is refused.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use accord_store::Cursor;

/// Feistel rounds: four make a strong pseudorandom permutation (Luby-Rackoff).
const ROUNDS: u8 = 4;

/// The two 31-bit halves of a 62-bit position.
const MASK31: u32 = (1 << 31) - 1;
const MASK62: u64 = (1 << 62) - 1;

/// A cursor key, fresh for each process.
pub(super) struct CursorSeal {
    key: [u8; 32],
}

impl CursorSeal {
    pub(super) fn random() -> CursorSeal {
        use rand::RngCore as _;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        CursorSeal { key }
    }

    /// The cursor a client sees. Positions are below 2^62 (microseconds since 1970:
    /// far beyond any date); the permutation works on 62 bits, so sealed cursors are
    /// non-negative like the store's.
    pub(super) fn seal(&self, cursor: Cursor) -> Cursor {
        let mut v = (cursor.0 as u64) & MASK62;
        for round in 0..ROUNDS {
            v = self.round(v, round);
        }
        Cursor(v as i64)
    }

    /// The store cursor behind a client's cursor, if it opens to a position at or
    /// before `now` (microseconds).
    pub(super) fn open(&self, sealed: Cursor, now: i64) -> Option<Cursor> {
        if sealed.0 < 0 || sealed.0 as u64 > MASK62 {
            return None;
        }
        let mut v = sealed.0 as u64;
        for round in (0..ROUNDS).rev() {
            v = self.unround(v, round);
        }
        let position = v as i64;
        (0..=now.saturating_add(MAX_CLOCK_SKEW))
            .contains(&position)
            .then_some(Cursor(position))
    }

    fn f(&self, half: u32, round: u8) -> u32 {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return 0;
        };
        mac.update(&[round]);
        mac.update(&half.to_be_bytes());
        let out = mac.finalize().into_bytes();
        u32::from_be_bytes([out[0], out[1], out[2], out[3]])
    }

    fn round(&self, v: u64, round: u8) -> u64 {
        let (left, right) = (((v >> 31) as u32) & MASK31, (v as u32) & MASK31);
        let new_right = left ^ (self.f(right, round) & MASK31);
        (u64::from(right) << 31) | u64::from(new_right)
    }

    fn unround(&self, v: u64, round: u8) -> u64 {
        let (left, right) = (((v >> 31) as u32) & MASK31, (v as u32) & MASK31);
        let old_left = right ^ (self.f(left, round) & MASK31);
        (u64::from(old_left) << 31) | u64::from(left)
    }
}

/// Stamps may run ahead of the wall clock during very fast loads (see the store's
/// clock); cursors up to a day ahead are still accepted.
const MAX_CLOCK_SKEW: i64 = 86_400_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_is_a_permutation_that_hides_the_position() {
        let seal = CursorSeal::random();
        let now = 1_800_000_000_000_000;
        for position in [0, 1, 1_700_000_000_123_456, now] {
            let sealed = seal.seal(Cursor(position));
            assert_ne!(sealed.0, position);
            assert_eq!(seal.open(sealed, now), Some(Cursor(position)));
        }
        // Neighbouring positions give unrelated cursors.
        let sealed = seal.seal(Cursor(1_700_000_000_000_000));
        assert!(sealed.0 >= 0 && Cursor::from_token(&sealed.to_token()) == Some(sealed));
        let a = sealed.0 as u64;
        let b = seal.seal(Cursor(1_700_000_000_000_001)).0 as u64;
        assert!((a ^ b).count_ones() > 8);
        // Another process's key (a restart) does not open it to a plausible position,
        // nor does a forged value, with overwhelming probability.
        let other = CursorSeal::random();
        let refused = (0..1000)
            .filter(|i| other.open(seal.seal(Cursor(now - i)), now).is_none())
            .count();
        assert!(refused > 990, "{refused}");
    }
}
