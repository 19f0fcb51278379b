//! Finding STIX ids written inside strings (prose, custom properties of any shape,
//! external references, member names), so that the gate can redact the ids of
//! objects a recipient may not receive.
//!
//! A *token* is a UUID (8-4-4-4-12 hexadecimal digits, either case) preceded by a
//! separator of one to three characters among `-`, `_`, `:`, `/`, `.` and space, itself
//! preceded by a run of ASCII letters, digits and `-` (at most [`MAX_TYPE_RUN`] bytes;
//! dashes at its end are part of the separator). The run holds the type, possibly
//! glued to other words (`see-indicator--…`), so each suffix of the run that starts at
//! its beginning or after a `-` is a candidate type, nearest first, at most
//! [`MAX_TYPE_CANDIDATES`]. A token is kept in the facts as `<run>--<uuid>`, lowercased.
//! A UUID without any type before it is not a token (it names no object the gate
//! could look up).

/// Longest run of type characters read before a UUID.
pub const MAX_TYPE_RUN: usize = 250;

/// Most candidate types tried for one token (the run's suffixes at `-` boundaries,
/// nearest first): STIX 2.1 type names have at most two dashes.
pub const MAX_TYPE_CANDIDATES: usize = 8;

/// Longest separator between the type and the UUID.
const MAX_SEPARATOR: usize = 3;

/// One id-shaped token in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdToken<'t> {
    /// Byte offset where the type run starts.
    pub start: usize,
    /// Byte offset just after the UUID.
    pub end: usize,
    /// The type run (not lowercased; no trailing `-`).
    pub run: &'t str,
    /// The UUID as written.
    pub uuid: &'t str,
}

impl IdToken<'_> {
    /// The form kept in the facts: `<run>--<uuid>`, lowercased.
    pub fn key(&self) -> String {
        let mut key = String::with_capacity(self.run.len() + 38);
        key.push_str(self.run);
        key.push_str("--");
        key.push_str(self.uuid);
        key.make_ascii_lowercase();
        key
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Whether `bytes[at..at + 36]` is a UUID in 8-4-4-4-12 form.
fn uuid_at(bytes: &[u8], at: usize) -> bool {
    let Some(window) = bytes.get(at..at + 36) else {
        return false;
    };
    window.iter().enumerate().all(|(i, &b)| {
        if matches!(i, 8 | 13 | 18 | 23) {
            b == b'-'
        } else {
            is_hex(b)
        }
    })
}

/// Calls `f` with every token of `text`, left to right. No allocation; texts without
/// a `-` are passed over by one `memchr`.
pub(crate) fn visit<'t>(text: &'t str, f: &mut dyn FnMut(IdToken<'t>)) {
    let bytes = text.as_bytes();
    let mut resume = 0;
    for dash in memchr::memchr_iter(b'-', bytes) {
        // A dash at index 8 of a UUID.
        if dash < 8 || dash - 8 < resume || !uuid_at(bytes, dash - 8) {
            continue;
        }
        let uuid_start = dash - 8;
        let end = uuid_start + 36;
        resume = end;
        // The separator, then the run (dashes before the UUID belong to the separator).
        let mut sep = uuid_start;
        while sep > 0
            && uuid_start - sep < MAX_SEPARATOR
            && matches!(bytes[sep - 1], b'-' | b'_' | b':' | b'/' | b'.' | b' ')
        {
            sep -= 1;
        }
        if sep == uuid_start {
            continue;
        }
        let mut start = sep;
        while start > 0
            && sep - start < MAX_TYPE_RUN
            && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'-')
        {
            start -= 1;
        }
        // Dashes at either end of the run are not part of a type.
        let start =
            start + (text[start..sep].len() - text[start..sep].trim_start_matches('-').len());
        let run = text[start..sep].trim_end_matches('-');
        if run.is_empty() {
            continue;
        }
        f(IdToken {
            start,
            end,
            run,
            uuid: &text[uuid_start..end],
        });
    }
}

/// The candidate ids of a token key (`<run>--<uuid>`, lowercased), nearest first:
/// `<suffix>--<uuid>` for each suffix of the run that starts at the run's beginning,
/// after a `-`, with `x-` (custom types), or that is a STIX 2.1 type name (a type
/// glued to a word: `aindicator--…`), at most [`MAX_TYPE_CANDIDATES`]. Each comes with
/// the suffix's length.
pub(crate) fn candidates(key: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let (run, uuid) = match key.len().checked_sub(38) {
        Some(cut) if key.is_char_boundary(cut) && key.get(cut..cut + 2) == Some("--") => {
            (&key[..cut], &key[cut + 2..])
        }
        _ => ("", ""),
    };
    let bytes = run.as_bytes();
    (0..run.len())
        .rev()
        .filter(move |&i| {
            let suffix = &run[i..];
            bytes[i] != b'-'
                && (i == 0
                    || bytes[i - 1] == b'-'
                    || suffix.starts_with("x-")
                    || accord_stix::types::lookup(suffix).is_some())
        })
        .take(MAX_TYPE_CANDIDATES)
        .map(move |i| (run.len() - i, format!("{}--{uuid}", &run[i..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        visit(text, &mut |t| out.push(t.key()));
        out
    }

    const U: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

    #[test]
    fn finds_ids_in_every_written_form() {
        assert_eq!(
            keys(&format!("see indicator--{U}.")),
            [format!("indicator--{U}")]
        );
        assert_eq!(
            keys(&format!("INDICATOR--{}", U.to_uppercase())),
            [format!("indicator--{U}")]
        );
        assert_eq!(
            keys(&format!("indicator---{U}")),
            [format!("indicator--{U}")]
        );
        assert_eq!(keys(&format!("indicator:{U}")), [format!("indicator--{U}")]);
        assert_eq!(
            keys(&format!("my-attack-pattern--{U}x")),
            [format!("my-attack-pattern--{U}")]
        );
        assert!(keys(U).is_empty());
        assert!(keys("no ids - at all -- here").is_empty());
    }

    #[test]
    fn candidates_are_the_runs_suffixes_nearest_first() {
        let c: Vec<String> = candidates(&format!("see-attack-pattern--{U}"))
            .map(|(_, id)| id)
            .collect();
        assert_eq!(
            c,
            [
                format!("pattern--{U}"),
                format!("attack-pattern--{U}"),
                format!("see-attack-pattern--{U}")
            ]
        );
        let one: Vec<(usize, String)> = candidates(&format!("indicator--{U}")).collect();
        assert_eq!(one, [(9, format!("indicator--{U}"))]);
        let glued: Vec<String> = candidates(&format!("aidentity--{U}"))
            .map(|(_, id)| id)
            .collect();
        assert_eq!(glued, [format!("identity--{U}"), format!("aidentity--{U}")]);
        let custom: Vec<String> = candidates(&format!("ax-acme--{U}"))
            .map(|(_, id)| id)
            .collect();
        assert_eq!(
            custom,
            [
                format!("acme--{U}"),
                format!("x-acme--{U}"),
                format!("ax-acme--{U}")
            ]
        );
    }
}
