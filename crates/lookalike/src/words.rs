//! Small tables: keyboard adjacency, vowels, bit flips, lure words, ASCII skeletons.

/// Lure words phishing names put beside a brand (bundled list, see `data/lure-words.txt`).
pub(crate) const LURE_WORDS: &str = include_str!("../data/lure-words.txt");
/// Hosting, CDN and site-builder domains (bundled list, see `data/hosting-suffixes.txt`).
pub(crate) const HOSTING_SUFFIXES: &str = include_str!("../data/hosting-suffixes.txt");

/// Lines of a list file: trimmed, lower-cased later, `#` comments and blanks skipped.
pub(crate) fn list_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

const ROWS: [&[u8]; 4] = [b"1234567890-", b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];

fn key_pos(c: u8) -> Option<(i32, i32)> {
    for (r, row) in ROWS.iter().enumerate() {
        if let Some(col) = row.iter().position(|&k| k == c) {
            return Some((r as i32, col as i32));
        }
    }
    None
}

/// Whether two characters are neighbours on a QWERTY keyboard.
pub(crate) fn keyboard_adjacent(a: u8, b: u8) -> bool {
    match (key_pos(a), key_pos(b)) {
        (Some((ra, ca)), Some((rb, cb))) => a != b && (ra - rb).abs() <= 1 && (ca - cb).abs() <= 1,
        _ => false,
    }
}

/// Whether `c` is a vowel.
pub(crate) fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Whether `a` and `b` differ in exactly one bit (a bit flip in memory or on the wire).
pub(crate) fn bit_flip(a: u8, b: u8) -> bool {
    (a ^ b).count_ones() == 1
}

/// One edit between a candidate label and a brand token, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// `insertion`, `omission`, `transposition`, `replacement`, `repetition`,
    /// `keyboard-adjacent`, `bit-flip`, `vowel-swap`.
    pub variant: &'static str,
    /// Byte position in the candidate (insertion, replacement, transposition) or token.
    pub pos: usize,
    /// The brand's character(s) at that position (0 when none).
    pub from: u8,
    /// The candidate's character(s) at that position (0 when none).
    pub to: u8,
    /// Edit distance: 1 for one edit (a transposition counts as one); for `two-edits`, the
    /// optimal-string-alignment distance (2, or 3 for a transposition beside a dropped letter).
    pub distance: u32,
}

/// Classify `cand` as one edit from `tok`, or `None`.
pub(crate) fn classify(cand: &[u8], tok: &[u8]) -> Option<Edit> {
    let first_diff = cand.iter().zip(tok).position(|(a, b)| a != b);
    if cand.len() == tok.len() {
        let i = first_diff?;
        if cand.get(i + 1..) == tok.get(i + 1..) {
            let (from, to) = (tok[i], cand[i]);
            let variant = if is_vowel(from) && is_vowel(to) {
                "vowel-swap"
            } else if bit_flip(from, to) && (to.is_ascii_alphanumeric() || to == b'-') {
                "bit-flip"
            } else if keyboard_adjacent(from, to) {
                "keyboard-adjacent"
            } else {
                "replacement"
            };
            return Some(Edit {
                variant,
                pos: i,
                from,
                to,
                distance: 1,
            });
        }
        if i + 1 < cand.len()
            && cand[i] == tok[i + 1]
            && cand[i + 1] == tok[i]
            && cand.get(i + 2..) == tok.get(i + 2..)
        {
            return Some(Edit {
                variant: "transposition",
                pos: i,
                from: tok[i],
                to: cand[i],
                distance: 1,
            });
        }
        return None;
    }
    if cand.len() == tok.len() + 1 {
        let i = first_diff.unwrap_or(tok.len());
        if cand.get(i + 1..) != tok.get(i..) {
            return None;
        }
        let c = cand[i];
        let prev = if i > 0 {
            cand.get(i - 1).copied()
        } else {
            None
        };
        let next = cand.get(i + 1).copied();
        let variant = if prev == Some(c) || next == Some(c) {
            "repetition"
        } else if prev.is_some_and(|p| keyboard_adjacent(p, c))
            || next.is_some_and(|n| keyboard_adjacent(n, c))
        {
            "keyboard-adjacent"
        } else {
            "insertion"
        };
        return Some(Edit {
            variant,
            pos: i,
            from: 0,
            to: c,
            distance: 1,
        });
    }
    if cand.len() + 1 == tok.len() {
        let i = first_diff.unwrap_or(cand.len());
        if cand.get(i..) != tok.get(i + 1..) {
            return None;
        }
        return Some(Edit {
            variant: "omission",
            pos: i,
            from: tok[i],
            to: 0,
            distance: 1,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_typo() {
        let v = |c: &str, t: &str| classify(c.as_bytes(), t.as_bytes()).map(|e| e.variant);
        assert_eq!(v("paypall", "paypal"), Some("repetition"));
        assert_eq!(v("paypjal", "paypal"), Some("insertion"));
        assert_eq!(v("paypak", "paypal"), Some("keyboard-adjacent"));
        assert_eq!(v("paypl", "paypal"), Some("omission"));
        assert_eq!(v("pyapal", "paypal"), Some("transposition"));
        assert_eq!(v("paypel", "paypal"), Some("vowel-swap"));
        assert_eq!(v("paypcl", "paypal"), Some("bit-flip"));
        assert_eq!(v("paybal", "paypal"), Some("replacement"));
        assert_eq!(v("pypl", "paypal"), None);
        assert_eq!(v("paypal", "paypal"), None);
    }

    #[test]
    fn keyboard_neighbours() {
        assert!(keyboard_adjacent(b'q', b'w'));
        assert!(keyboard_adjacent(b'g', b'h'));
        assert!(!keyboard_adjacent(b'q', b'p'));
    }
}
