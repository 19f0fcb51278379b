//! How random a domain name looks: the name-side signal of domain generation
//! algorithms (DGA).
//!
//! A DGA bot asks for many machine-made names, most of which do not exist
//! (NXDOMAIN); the few that resolve are its C2. Names a human chose are pronounceable:
//! vowels between consonants, common letter pairs, no digit soup. The score looks
//! only at the label an owner registers (the one left of the public suffix,
//! approximated: the last label is the TLD, and a short second-to-last label under a
//! two-letter TLD such as `co.uk` is taken as part of the suffix).

/// Labels shorter than this are never called random: too little text to judge.
pub const MIN_LABEL_LEN: usize = 7;

/// Score at or above which a name counts as random-looking.
pub const RANDOM_NAME: f64 = 0.6;

/// The label an owner registers, lower-cased into `buf` (no allocation once `buf` has
/// grown). Returns `None` for names without a dot or for address literals.
pub fn registered_label<'b>(name: &str, buf: &'b mut String) -> Option<&'b str> {
    let name = name.trim_end_matches('.');
    if name.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let mut labels = name.rsplit('.');
    let tld = labels.next()?;
    let mut label = labels.next()?;
    if label.len() <= 3 && tld.len() == 2 {
        if let Some(l) = labels.next() {
            label = l;
        }
    }
    buf.clear();
    buf.extend(label.chars().map(|c| c.to_ascii_lowercase()));
    Some(buf.as_str())
}

/// Letter pairs of English and of the Latin-script languages host names are made of;
/// a made-up string has few of them.
const COMMON_BIGRAMS: [&[u8; 2]; 96] = [
    b"th", b"he", b"in", b"er", b"an", b"re", b"on", b"at", b"en", b"nd", b"ti", b"es", b"or",
    b"te", b"of", b"ed", b"is", b"it", b"al", b"ar", b"st", b"to", b"nt", b"ng", b"se", b"ha",
    b"as", b"ou", b"io", b"le", b"ve", b"co", b"me", b"de", b"hi", b"ri", b"ro", b"ic", b"ne",
    b"ea", b"ra", b"ce", b"li", b"ch", b"ll", b"be", b"ma", b"si", b"om", b"ur", b"ca", b"el",
    b"ta", b"la", b"ns", b"di", b"fo", b"ho", b"pe", b"ec", b"pr", b"no", b"ct", b"us", b"ac",
    b"ot", b"il", b"tr", b"ly", b"nc", b"et", b"ut", b"ss", b"so", b"rs", b"un", b"lo", b"wa",
    b"ge", b"ie", b"wh", b"ee", b"wi", b"em", b"ad", b"ol", b"rt", b"po", b"we", b"na", b"ul",
    b"ni", b"ts", b"mo", b"ow", b"pa",
];

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// How random `label` (already lower-case) looks, in `0..=1`.
///
/// Three cues, each in `0..=1`, averaged with weights: the share of letter pairs that
/// are not common (made-up strings: most), the longest run of consonants (over four is
/// rare in chosen names), and the mixing of digits into letters. Short labels score 0.
///
/// ```
/// use accord_detect::c2::dga::randomness;
/// assert!(randomness("xkqzvbtrwp") >= 0.6);
/// assert!(randomness("microsoft") < 0.6);
/// assert!(randomness("google") == 0.0);
/// ```
pub fn randomness(label: &str) -> f64 {
    let b = label.as_bytes();
    if b.len() < MIN_LABEL_LEN {
        return 0.0;
    }
    let letters = b.iter().filter(|c| c.is_ascii_lowercase()).count();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let mut pairs = 0usize;
    let mut rare = 0usize;
    for w in b.windows(2) {
        if w[0].is_ascii_lowercase() && w[1].is_ascii_lowercase() {
            pairs += 1;
            if !COMMON_BIGRAMS.iter().any(|c| c[..] == w[..]) {
                rare += 1;
            }
        }
    }
    let mut run = 0usize;
    let mut longest = 0usize;
    for &c in b {
        if c.is_ascii_lowercase() && !is_vowel(c) {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let rare_share = if pairs == 0 {
        0.0
    } else {
        rare as f64 / pairs as f64
    };
    // Chosen names have about half their pairs common; made-up ones under a fifth.
    let bigram = ((rare_share - 0.5) / 0.35).clamp(0.0, 1.0);
    let consonants = ((longest as f64 - 3.0) / 3.0).clamp(0.0, 1.0);
    let mixed = if letters > 0 && digits > 0 {
        (digits.min(letters) as f64 / (b.len() as f64 / 3.0)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (0.6 * bigram + 0.25 * consonants + 0.15 * mixed + 0.25 * bigram * consonants).min(1.0)
}

/// [`randomness`] of the registered label of `name` (0 for names that have none).
pub fn name_randomness(name: &str, buf: &mut String) -> f64 {
    registered_label(name, buf).map_or(0.0, randomness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_names_score_high_and_chosen_ones_low() {
        let mut buf = String::new();
        for n in [
            "xjkqzvbnmwpt.com",
            "JEPNTWJOMIAQ.SU",
            "qwhrtzplkvbn.net",
            "cxewiwbohq.biz",
            "kq3x9vz7tpl2.info",
        ] {
            assert!(
                name_randomness(n, &mut buf) >= RANDOM_NAME,
                "{n}: {}",
                name_randomness(n, &mut buf)
            );
        }
        for n in [
            "www.microsoft.com",
            "windowsupdate.com",
            "clients4.google.com",
            "facebook.com",
            "dropbox.com",
            "akamaiedge.net",
            "wikipedia.org",
            "bbc.co.uk",
            "stackoverflow.com",
            "cloudflare.com",
            "amazonaws.com",
            "instagram.com",
            "netflix.com",
            "github.com",
            "ubuntu.com",
            "mozilla.org",
            "spotify.com",
            "example.com",
        ] {
            assert!(
                name_randomness(n, &mut buf) < RANDOM_NAME,
                "{n}: {}",
                name_randomness(n, &mut buf)
            );
        }
    }
}
