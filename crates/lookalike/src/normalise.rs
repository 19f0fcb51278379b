//! Domain normalisation: case, trailing dot, IDNA (UTS #46) and punycode, length limits,
//! and the registrable-domain split with the Public Suffix List.
//!
//! Hostile input (overlong names or labels, invalid punycode, disallowed code points,
//! thousands of labels) is refused with a [`Refusal`] naming the rule; nothing here
//! panics. Pure ASCII names — the bulk of resolver traffic — are lower-cased into a
//! buffer the caller reuses, so the common path allocates nothing.

use crate::error::Refusal;
use psl_types::List as _;

/// Longest input accepted before any work, in bytes. A DNS name is at most 253 bytes in
/// its ASCII form; Unicode input may be longer (up to 4 bytes per code point before
/// punycode), so this bounds the IDNA work on hostile input.
pub const MAX_INPUT_BYTES: usize = 1024;
/// Longest domain name in its ASCII (punycode) form, without the trailing dot (RFC 1035).
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest label in its ASCII form (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;
/// Most labels in a name: 253 bytes allow at most 127 one-byte labels.
pub const MAX_LABELS: usize = 127;

/// The Public Suffix List used to find registrable domains: the list bundled in the
/// `psl` crate (compiled in, refreshed with the crate's releases), or a newer
/// `public_suffix_list.dat` the caller read (parsed by the `publicsuffix` crate).
pub enum SuffixList {
    /// The list compiled into the `psl` crate.
    Bundled,
    /// A list parsed from the text of a `public_suffix_list.dat` file.
    Custom(Box<publicsuffix::List>),
}

impl std::fmt::Debug for SuffixList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuffixList::Bundled => f.write_str("SuffixList::Bundled"),
            SuffixList::Custom(_) => f.write_str("SuffixList::Custom"),
        }
    }
}

impl SuffixList {
    /// Parse the text of a `public_suffix_list.dat` file (a newer list than the bundled one).
    pub fn parse(text: &str) -> Result<Self, Refusal> {
        let list: publicsuffix::List =
            text.parse()
                .map_err(|e: publicsuffix::Error| Refusal::SuffixList {
                    detail: e.to_string(),
                })?;
        if list.is_empty() {
            return Err(Refusal::SuffixList {
                detail: "the list has no rules".into(),
            });
        }
        Ok(SuffixList::Custom(Box::new(list)))
    }

    /// Byte offsets into `name` (lower-case ASCII, no trailing dot) of the registrable
    /// domain and of its public suffix; `None` when `name` is itself a public suffix
    /// (or has no label in front of one).
    pub fn split(&self, name: &str) -> Option<(usize, usize)> {
        let bytes = name.as_bytes();
        let (dom, suf) = match self {
            SuffixList::Bundled => {
                let d = psl::List.domain(bytes)?;
                (d.as_bytes().len(), d.suffix().as_bytes().len())
            }
            SuffixList::Custom(list) => {
                let d = list.domain(bytes)?;
                (d.as_bytes().len(), d.suffix().as_bytes().len())
            }
        };
        Some((bytes.len() - dom, bytes.len() - suf))
    }
}

/// A normalised name, borrowed from the [`Normaliser`]'s buffers.
#[derive(Debug, Clone, Copy)]
pub struct Normalised<'a> {
    /// Lower-case ASCII (punycode) form without trailing dot.
    pub ascii: &'a str,
    /// Unicode form when the name has an IDN (`xn--`) label, else `None`.
    pub unicode: Option<&'a str>,
    /// Byte offset in `ascii` where the registrable domain starts (`None`: the name is a
    /// public suffix).
    pub registrable_start: Option<usize>,
    /// Byte offset in `ascii` where the public suffix starts.
    pub suffix_start: usize,
}

impl<'a> Normalised<'a> {
    /// The registrable domain (`paypal.com` of `www.paypal.com`), if any.
    pub fn registrable(&self) -> Option<&'a str> {
        self.registrable_start.and_then(|s| self.ascii.get(s..))
    }
    /// The public suffix (`com`, `co.uk`, `web.app`).
    pub fn suffix(&self) -> &'a str {
        self.ascii.get(self.suffix_start..).unwrap_or("")
    }
}

/// Normalises names into reusable buffers (one per thread).
#[derive(Debug, Default)]
pub struct Normaliser {
    ascii: String,
    unicode: String,
}

impl Normaliser {
    /// A normaliser with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Normalise `input` (a host name, any case, optional trailing dot, ASCII or Unicode)
    /// and split it with `psl`.
    pub fn normalise<'s>(
        &'s mut self,
        input: &str,
        psl: &SuffixList,
    ) -> Result<Normalised<'s>, Refusal> {
        let input = input.trim();
        if input.len() > MAX_INPUT_BYTES {
            return Err(Refusal::TooLong {
                len: input.len(),
                max: MAX_INPUT_BYTES,
            });
        }
        let input = input.strip_suffix('.').unwrap_or(input);
        if input.is_empty() {
            return Err(Refusal::Empty);
        }
        // Count labels on the raw input first: 10,000 labels are refused before IDNA runs.
        let dots = input.bytes().filter(|&b| b == b'.').count();
        if dots + 1 > MAX_LABELS {
            return Err(Refusal::TooManyLabels {
                labels: dots + 1,
                max: MAX_LABELS,
            });
        }
        self.ascii.clear();
        self.unicode.clear();
        let mut idn = false;
        if input.is_ascii() {
            for b in input.bytes() {
                let c = b.to_ascii_lowercase();
                if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.') {
                    return Err(Refusal::InvalidChar { ch: b as char });
                }
                self.ascii.push(c as char);
            }
            check_labels(&self.ascii)?;
            if self.ascii.starts_with("xn--") || self.ascii.contains(".xn--") {
                idn = true;
            }
        } else {
            let ascii = idna::domain_to_ascii(input).map_err(|e| Refusal::Idna {
                detail: format!("{e:?}"),
            })?;
            self.ascii.push_str(&ascii);
            check_labels(&self.ascii)?;
            idn = true;
        }
        if idn {
            let (uni, res) = idna::domain_to_unicode(&self.ascii);
            if let Err(e) = res {
                return Err(Refusal::Idna {
                    detail: format!("{e:?}"),
                });
            }
            // idna maps invalid punycode to U+FFFD in the output and reports an error; a
            // label that decodes to itself is not an IDN.
            if uni != self.ascii {
                self.unicode.push_str(&uni);
            } else {
                idn = false;
            }
        }
        let (registrable_start, suffix_start) = match psl.split(&self.ascii) {
            Some((r, s)) => (Some(r), s),
            None => (None, 0),
        };
        Ok(Normalised {
            ascii: &self.ascii,
            unicode: if idn { Some(&self.unicode) } else { None },
            registrable_start,
            suffix_start,
        })
    }
}

/// Check the ASCII form against the DNS limits.
fn check_labels(ascii: &str) -> Result<(), Refusal> {
    if ascii.len() > MAX_DOMAIN_LEN {
        return Err(Refusal::TooLong {
            len: ascii.len(),
            max: MAX_DOMAIN_LEN,
        });
    }
    let mut n = 0usize;
    for label in ascii.split('.') {
        n += 1;
        if label.is_empty() {
            return Err(Refusal::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(Refusal::LabelTooLong {
                len: label.len(),
                max: MAX_LABEL_LEN,
            });
        }
    }
    if n > MAX_LABELS {
        return Err(Refusal::TooManyLabels {
            labels: n,
            max: MAX_LABELS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_strips_dot_and_splits() {
        let mut n = Normaliser::new();
        let d = n
            .normalise("WWW.PayPal.co.UK.", &SuffixList::Bundled)
            .unwrap();
        assert_eq!(d.ascii, "www.paypal.co.uk");
        assert_eq!(d.registrable(), Some("paypal.co.uk"));
        assert_eq!(d.suffix(), "co.uk");
        assert!(d.unicode.is_none());
    }

    #[test]
    fn decodes_punycode_and_encodes_unicode() {
        let mut n = Normaliser::new();
        let d = n
            .normalise("xn--pypal-4ve.com", &SuffixList::Bundled)
            .unwrap();
        assert_eq!(d.unicode, Some("pаypal.com"));
        let d = n.normalise("pаypal.com", &SuffixList::Bundled).unwrap();
        assert_eq!(d.ascii, "xn--pypal-4ve.com");
    }

    #[test]
    fn refuses_hostile_input_with_reasons() {
        let mut n = Normaliser::new();
        let psl = SuffixList::Bundled;
        let long = "a".repeat(64) + ".com";
        assert!(matches!(
            n.normalise(&long, &psl),
            Err(Refusal::LabelTooLong { len: 64, .. })
        ));
        let many = "a.".repeat(10_000) + "com";
        assert!(matches!(
            n.normalise(&many, &psl),
            Err(Refusal::TooLong { .. }) | Err(Refusal::TooManyLabels { .. })
        ));
        let many = "a.".repeat(200) + "com";
        assert!(matches!(
            n.normalise(&many, &psl),
            Err(Refusal::TooManyLabels { .. })
        ));
        assert!(matches!(
            n.normalise("xn--a.com", &psl),
            Err(Refusal::Idna { .. })
        ));
        assert!(matches!(
            n.normalise("a..com", &psl),
            Err(Refusal::EmptyLabel)
        ));
        assert!(matches!(n.normalise(" . ", &psl), Err(Refusal::Empty)));
        assert!(matches!(
            n.normalise("a b.com", &psl),
            Err(Refusal::InvalidChar { ch: ' ' })
        ));
    }

    #[test]
    fn custom_list_is_used() {
        let psl = SuffixList::parse("// ===BEGIN ICANN DOMAINS===\ncom\nexample.com\n").unwrap();
        let mut n = Normaliser::new();
        let d = n.normalise("a.b.example.com", &psl).unwrap();
        assert_eq!(d.registrable(), Some("b.example.com"));
    }
}
