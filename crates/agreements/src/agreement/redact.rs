//! `protections.redact_patterns`: regular expressions whose matches are replaced in
//! every string of a released object (identifiers such as ticket numbers quoted in
//! prose), compiled once when the agreement is loaded.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::{Look, LookSet};

/// Most patterns one agreement may give.
pub const MAX_REDACT_PATTERNS: usize = 64;

/// Longest pattern accepted, in bytes.
pub const MAX_REDACT_PATTERN_LEN: usize = 512;

/// Size limit of one compiled pattern (the `regex` crate's `size_limit`), so that a
/// pattern such as `\w{1000}{1000}` is refused at load instead of exhausting memory.
pub const MAX_REDACT_COMPILED_SIZE: usize = 1 << 20;

/// The text that replaces every match of a redaction pattern.
pub const REDACTED: &str = "[redacted]";

/// The compiled `redact_patterns` of an agreement.
#[derive(Clone, Debug)]
pub struct Redactor {
    patterns: Vec<Regex>,
    set: RegexSet,
    /// Whether a pattern that matches no part of an object's JSON text (when the text
    /// has no escapes) matches no string of the object either: true unless a pattern
    /// holds a start or end anchor, which means the start or end of a string but of
    /// the whole text when run over the JSON.
    raw_prefilter: bool,
}

impl Redactor {
    /// Compiles the patterns; `Err((pattern, message))` names the first one refused.
    pub(crate) fn new(patterns: &[String]) -> Result<Redactor, (String, String)> {
        let mut compiled = Vec::with_capacity(patterns.len());
        let mut raw_prefilter = true;
        for p in patterns {
            if p.len() > MAX_REDACT_PATTERN_LEN {
                return Err((
                    p.clone(),
                    format!("longer than {MAX_REDACT_PATTERN_LEN} bytes"),
                ));
            }
            let re = RegexBuilder::new(p)
                .size_limit(MAX_REDACT_COMPILED_SIZE)
                .build()
                .map_err(|e| (p.clone(), e.to_string()))?;
            // An empty match would insert the replacement between every character.
            if re.is_match("") {
                return Err((p.clone(), "matches the empty string".to_owned()));
            }
            let hir = regex_syntax::parse(p).map_err(|e| (p.clone(), e.to_string()))?;
            let anchors = LookSet::empty()
                .insert(Look::Start)
                .insert(Look::End)
                .insert(Look::StartLF)
                .insert(Look::EndLF)
                .insert(Look::StartCRLF)
                .insert(Look::EndCRLF);
            if !hir.properties().look_set().intersect(anchors).is_empty() {
                raw_prefilter = false;
            }
            compiled.push(re);
        }
        let set = RegexSetBuilder::new(patterns)
            .size_limit(MAX_REDACT_COMPILED_SIZE.saturating_mul(patterns.len().max(1)))
            .build()
            .map_err(|e| (patterns.join(" | "), e.to_string()))?;
        Ok(Redactor {
            patterns: compiled,
            set,
            raw_prefilter,
        })
    }

    /// Whether some string of the object whose JSON text is `raw` may match: `false`
    /// only when none can (the text has no escape, the patterns no anchors, and no
    /// pattern matches the text).
    pub(crate) fn may_match_object(&self, raw: &str) -> bool {
        !self.raw_prefilter
            || memchr::memchr(b'\\', raw.as_bytes()).is_some()
            || self.set.is_match(raw)
    }

    /// Whether a pattern matches `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.set.is_match(text)
    }

    /// `text` with every match of every pattern replaced by [`REDACTED`], patterns in
    /// order; `None` when nothing matched.
    pub(crate) fn redact(&self, text: &str) -> Option<String> {
        if !self.set.is_match(text) {
            return None;
        }
        let mut current = text.to_owned();
        for re in &self.patterns {
            if re.is_match(&current) {
                current = re.replace_all(&current, REDACTED).into_owned();
            }
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(patterns: &[&str]) -> Result<Redactor, (String, String)> {
        Redactor::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn replaces_every_match_of_every_pattern() {
        let red = r(&[r"(?i)ticket\s*#?\d+", r"INC-\d+"]).unwrap();
        assert_eq!(
            red.redact("see Ticket #4711 and INC-9, ticket 12")
                .as_deref(),
            Some("see [redacted] and [redacted], [redacted]")
        );
        assert_eq!(red.redact("nothing"), None);
    }

    #[test]
    fn refuses_bad_huge_and_empty_matching_patterns() {
        assert!(r(&["(unclosed"]).is_err());
        assert!(r(&[r"\w{1000}{1000}"]).is_err());
        assert!(r(&["a*"]).is_err());
        assert!(r(&[&"a".repeat(MAX_REDACT_PATTERN_LEN + 1)]).is_err());
    }

    #[test]
    fn anchored_patterns_disable_the_raw_prefilter() {
        let red = r(&["^secret"]).unwrap();
        // `^secret` matches the string "secret plan" but not the JSON text.
        assert!(red.may_match_object(r#"{"x_note":"secret plan"}"#));
        let plain = r(&["secret"]).unwrap();
        assert!(!plain.may_match_object(r#"{"x_note":"public"}"#));
        assert!(plain.may_match_object(r#"{"x_note":"s\u0065cret"}"#));
    }
}
