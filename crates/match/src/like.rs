//! SQL `LIKE` as the STIX patterning language uses it: `%` matches any run of
//! characters (also none), `_` exactly one character, everything else itself; there is
//! no escape character (as in the OASIS matcher).

/// Does `text` match the LIKE `pattern`?
///
/// Linear in `text` for patterns with one `%`; at worst O(|pattern| × |text|) (greedy
/// matching with one backtracking point, never exponential).
///
/// ```
/// use accord_match::like::like_match;
/// assert!(like_match("%.example.com", "a.b.example.com"));
/// assert!(!like_match("%.example.com", "example.com"));
/// assert!(like_match("h_llo%", "hello world"));
/// ```
pub fn like_match(pattern: &str, text: &str) -> bool {
    let p: &[u8] = pattern.as_bytes();
    let t: &[u8] = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'%' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == b'_' {
            // `_` is one character, which in UTF-8 is one to four bytes.
            pi += 1;
            ti += utf8_len(t[ti]);
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            let next = st + utf8_len(t[st]);
            star = Some((sp, next));
            ti = next;
        } else {
            return false;
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'%') && ti == t.len()
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The longest run of literal characters (no `%` or `_`) of a LIKE pattern: a text that
/// matches must contain it, so it is the key under which the pattern is found.
///
/// ```
/// assert_eq!(accord_match::like::longest_literal("%/gate_php%bin"), "/gate");
/// ```
pub fn longest_literal(pattern: &str) -> &str {
    pattern
        .split(['%', '_'])
        .max_by_key(|s| s.len())
        .unwrap_or("")
}

/// How a LIKE pattern can be matched fastest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LikeShape<'a> {
    /// No wildcards: plain equality.
    Exact(&'a str),
    /// `%.suffix` with a literal suffix: any strict subdomain of `suffix` (label boundary).
    Subdomain(&'a str),
    /// Anything else.
    General,
}

pub(crate) fn shape(pattern: &str) -> LikeShape<'_> {
    if !pattern.contains(['%', '_']) {
        return LikeShape::Exact(pattern);
    }
    if let Some(rest) = pattern.strip_prefix("%.") {
        if !rest.is_empty() && !rest.contains(['%', '_']) {
            return LikeShape::Subdomain(rest);
        }
    }
    LikeShape::General
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantics() {
        assert!(like_match("", ""));
        assert!(!like_match("", "a"));
        assert!(like_match("%", ""));
        assert!(like_match("%%", "abc"));
        assert!(like_match("a%c", "abbbc"));
        assert!(!like_match("a%c", "abbbd"));
        assert!(like_match("_é_", "aéb"));
        assert!(like_match("%é", "xxé"));
        assert!(!like_match("a_", "a"));
        assert!(like_match("%a%b%c%", "xxaxxbxxcxx"));
        assert_eq!(
            shape("%.evil.example"),
            LikeShape::Subdomain("evil.example")
        );
        assert_eq!(shape("evil.example"), LikeShape::Exact("evil.example"));
        assert_eq!(shape("%evil.example"), LikeShape::General);
    }
}
