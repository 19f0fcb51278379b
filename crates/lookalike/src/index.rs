//! The brand index: brands, legitimate names and lure words compiled for lookup.

use crate::error::Refusal;
use crate::normalise::{Normaliser, SuffixList};
use crate::words::{list_lines, HOSTING_SUFFIXES, LURE_WORDS};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::{HashMap, HashSet};

type Map<V> = HashMap<Box<str>, V, foldhash::fast::RandomState>;
/// What a pattern stands for and the brands it belongs to.
pub(crate) type PatInfo = (PatKind, Vec<u32>);
type Set = HashSet<Box<str>, foldhash::fast::RandomState>;
pub(crate) type HashSet64 = HashSet<u64, foldhash::fast::RandomState>;

/// Base of the polynomial hash of the typo prefilter (odd, so powers stay odd).
pub(crate) const POLY: u64 = 0x100_0000_01b3;

/// Polynomial hash of `s` (wrapping): `Σ s[i]·POLY^(n-1-i)`. The hash of `s` with one
/// byte deleted is computable from prefix and suffix hashes, so a label's whole
/// one-deletion neighbourhood is probed without building a string.
pub(crate) fn poly_hash(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |h, &c| {
        h.wrapping_mul(POLY).wrapping_add(u64::from(c))
    })
}

/// Popular host names bundled with the crate (Tranco, Cisco Umbrella, Cloudflare Radar
/// and Majestic top-10k lists from the MISP warninglists, CC0 1.0); reduced to
/// registrable domains when loaded with [`IndexBuilder::add_popular`].
pub const BUNDLED_POPULAR: &str = include_str!("../data/popular-domains.txt");

/// Shortest brand token looked for inside other labels; shorter brands (`hp.com`, `x.com`)
/// are matched only as whole labels (TLD swap, hyphenation, homoglyph).
pub const MIN_TOKEN_LEN: usize = 3;
/// Shortest brand token for edit-distance (typo, bitsquat, vowel-swap) matching: one edit
/// of a 4-letter word is another common word too often.
pub const MIN_TYPO_LEN: usize = 5;
/// Brand tokens up to this length are short: they fire only between clean boundaries
/// and with a lure word in the name.
pub const SHORT_TOKEN_MAX: usize = 4;
/// Brand tokens at least this long fire even when embedded in other letters.
pub const LONG_TOKEN_MIN: usize = 7;
/// Most brands in one index (the index is built in memory; each brand costs about a
/// kilobyte with its deletion neighbourhood).
pub const MAX_BRANDS: usize = 100_000;
/// Default lowest score reported.
pub const DEFAULT_MIN_SCORE: f64 = 0.65;
/// Shortest brand token looked for at two edits (`blcokchian` for `blockchain`): two
/// edits of a shorter token reach too many real words and names.
pub const MIN_TYPO2_LEN: usize = 8;
/// Bits of the two-edit prefilter (a one-hash Bloom filter over the tokens' two-deletion
/// neighbourhoods, 256 KiB): most labels are rejected by bit tests alone.
const TYPO2_BLOOM_BITS: usize = 1 << 21;
/// Popular registrable domains with a brand's label under other suffixes from which the
/// brand counts as one that registers its label widely (`google.de`, `google.fr`): its
/// country-code and com/net/org swaps are then more likely its own than a phish.
pub const DEFENSIVE_EVIDENCE_MIN: u32 = 2;

/// A protected brand: one registrable domain from the brands file.
#[derive(Debug, Clone)]
pub struct Brand {
    /// The registrable domain as listed (normalised): `paypal.com`, `service-public.fr`.
    pub domain: String,
    /// Its registrable label with hyphens (`service-public`), or for a brand that is
    /// itself a public suffix (`gov.uk`) its labels joined with hyphens.
    pub label: String,
    /// The label without hyphens: what is looked for (`servicepublic`).
    pub token: String,
    /// Its public suffix (`fr`).
    pub suffix: String,
}

/// What an Aho-Corasick pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatKind {
    /// The token (no hyphens).
    Token,
    /// The label with its hyphens.
    Hyphenated,
    /// The whole domain with dots (`paypal.com`).
    Dotted,
    /// The whole domain with hyphens for dots (`paypal-com`).
    Dashed,
}

/// Builds an [`Index`].
pub struct IndexBuilder {
    psl: SuffixList,
    brands: Vec<Brand>,
    brand_domains: Set,
    allow: Set,
    popular: Set,
    extra_hosting: Vec<String>,
    min_score: f64,
}

impl IndexBuilder {
    /// An empty builder using `psl` for registrable domains.
    pub fn new(psl: SuffixList) -> Self {
        IndexBuilder {
            psl,
            brands: Vec::new(),
            brand_domains: Set::default(),
            allow: Set::default(),
            popular: Set::default(),
            extra_hosting: Vec::new(),
            min_score: DEFAULT_MIN_SCORE,
        }
    }

    /// Add brands: one registrable domain a line, `#` comments. A line with a subdomain
    /// (`www.paypal.com`) is reduced to its registrable domain; a public suffix
    /// (`gov.uk`) is kept whole. Returns how many brands were added.
    pub fn add_brands(&mut self, text: &str) -> Result<usize, Refusal> {
        let mut norm = Normaliser::new();
        let mut added = 0;
        for line in list_lines(text) {
            if self.brands.len() >= MAX_BRANDS {
                return Err(Refusal::Brand {
                    line: line.into(),
                    detail: format!("more than {MAX_BRANDS} brands"),
                });
            }
            let n = norm
                .normalise(line, &self.psl)
                .map_err(|e| Refusal::Brand {
                    line: line.into(),
                    detail: e.to_string(),
                })?;
            let (domain, label, suffix) = match n.registrable() {
                Some(reg) => {
                    let dot = reg.find('.').unwrap_or(reg.len());
                    (reg, &reg[..dot], reg.get(dot + 1..).unwrap_or(""))
                }
                // A public suffix as a brand (gov.uk): its labels are the brand.
                None => (n.ascii, n.ascii, ""),
            };
            if !self.brand_domains.insert(domain.into()) {
                continue;
            }
            let label = label.replace('.', "-");
            let token: String = label.chars().filter(|&c| c != '-').collect();
            self.brands.push(Brand {
                domain: domain.into(),
                label,
                token,
                suffix: suffix.into(),
            });
            added += 1;
        }
        Ok(added)
    }

    /// Add allowed names (one a line, `#` comments): a registrable domain allows its
    /// subdomains; a longer name allows itself and its subdomains. Lines that are not
    /// domain names are refused with the reason.
    pub fn add_allow(&mut self, text: &str) -> Result<usize, Refusal> {
        let mut norm = Normaliser::new();
        let mut added = 0;
        for line in list_lines(text) {
            let n = norm.normalise(line, &self.psl)?;
            if self.allow.insert(n.ascii.into()) {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Add popular host names (one a line, `#` comments), reduced to registrable domains;
    /// names that fail normalisation are skipped. Hosting domains are never added.
    pub fn add_popular(&mut self, text: &str) -> usize {
        let mut norm = Normaliser::new();
        let mut added = 0;
        for line in list_lines(text) {
            let Ok(n) = norm.normalise(line, &self.psl) else {
                continue;
            };
            if let Some(reg) = n.registrable() {
                if self.popular.insert(reg.into()) {
                    added += 1;
                }
            }
        }
        added
    }

    /// Add hosting domains beyond the bundled list (one a line, `#` comments; a second
    /// word `cdn` or `org` gives the kind, see `data/hosting-suffixes.txt`).
    pub fn add_hosting(&mut self, text: &str) {
        self.extra_hosting
            .extend(list_lines(text).map(|l| l.to_ascii_lowercase()));
    }

    /// Report only findings scoring at least `min` (default [`DEFAULT_MIN_SCORE`]).
    pub fn min_score(&mut self, min: f64) -> &mut Self {
        self.min_score = min;
        self
    }

    /// Compile the index.
    pub fn build(self) -> Index {
        let mut hosting: Map<HostKind> = Map::default();
        for line in list_lines(HOSTING_SUFFIXES)
            .map(str::to_string)
            .chain(self.extra_hosting)
        {
            let mut words = line.split_whitespace();
            let Some(name) = words.next() else { continue };
            let kind = match words.next() {
                Some("cdn") => HostKind::Cdn,
                Some("org") => HostKind::Org,
                _ => HostKind::Site,
            };
            hosting.insert(name.into(), kind);
        }
        let mut popular = self.popular;
        popular.retain(|d| !hosting.contains_key(d));
        let mut legit = self.brand_domains.clone();
        legit.extend(self.allow.iter().cloned());

        let ascii_skel = ascii_skeleton_table();
        let mut exact: Map<Vec<u32>> = Map::default();
        let mut deletes: Map<Vec<u32>> = Map::default();
        let mut skeletons: Map<Vec<u32>> = Map::default();
        let mut typo_hashes = HashSet64::default();
        let mut patterns: Map<PatInfo> = Map::default();
        let (mut min_len, mut max_len) = (usize::MAX, 0);
        let (mut min2, mut max2) = (usize::MAX, 0);
        let mut deletes2: Map<Vec<u32>> = Map::default();
        let mut typo2_hashes = HashSet64::default();
        let mut typo2_bloom = vec![0u64; TYPO2_BLOOM_BITS / 64];
        for (i, b) in self.brands.iter().enumerate() {
            let id = i as u32;
            push(&mut exact, &b.token, id);
            let mut sk = String::new();
            for c in b.token.bytes() {
                sk.push_str(skel_of(&ascii_skel, c));
            }
            push(&mut skeletons, &sk, id);
            if b.token.len() >= MIN_TYPO_LEN {
                typo_hashes.insert(poly_hash(b.token.as_bytes()));
                min_len = min_len.min(b.token.len());
                max_len = max_len.max(b.token.len());
                let t = b.token.as_bytes();
                for j in 0..t.len() {
                    let mut d = String::with_capacity(t.len());
                    d.push_str(&b.token[..j]);
                    d.push_str(&b.token[j + 1..]);
                    typo_hashes.insert(poly_hash(d.as_bytes()));
                    push(&mut deletes, &d, id);
                }
            }
            if b.token.len() >= MIN_TYPO2_LEN && b.token.len() <= MAX_TYPO2_LEN {
                min2 = min2.min(b.token.len());
                max2 = max2.max(b.token.len());
                let t = b.token.as_bytes();
                let mut add = |v: &[u8]| {
                    let h = poly_hash(v);
                    typo2_hashes.insert(h);
                    bloom_set(&mut typo2_bloom, h);
                };
                add(t);
                let mut v = Vec::with_capacity(t.len());
                for j in 0..t.len() {
                    v.clear();
                    v.extend_from_slice(&t[..j]);
                    v.extend_from_slice(&t[j + 1..]);
                    add(&v);
                    for k in j + 1..t.len() {
                        v.clear();
                        v.extend_from_slice(&t[..j]);
                        v.extend_from_slice(&t[j + 1..k]);
                        v.extend_from_slice(&t[k + 1..]);
                        add(&v);
                        if let Ok(d2) = std::str::from_utf8(&v) {
                            push(&mut deletes2, d2, id);
                        }
                    }
                }
            }
            if b.token.len() >= MIN_TOKEN_LEN {
                push_pat(&mut patterns, &b.token, PatKind::Token, id);
                if b.label != b.token {
                    push_pat(&mut patterns, &b.label, PatKind::Hyphenated, id);
                }
                if !b.suffix.is_empty() {
                    push_pat(&mut patterns, &b.domain, PatKind::Dotted, id);
                    push_pat(
                        &mut patterns,
                        &b.domain.replace('.', "-"),
                        PatKind::Dashed,
                        id,
                    );
                }
            }
        }
        // Evidence that a brand registers its label under other suffixes: popular
        // registrable domains whose label is the brand's. Labels of the other popular
        // domains: the same label under another suffix is that site's own
        // (`microsoftstore.com.hk` beside the popular `microsoftstore.com`).
        let mut own_swaps = vec![0u32; self.brands.len()];
        let mut popular_labels = Set::default();
        for d in &popular {
            let Some((label, _)) = d.split_once('.') else {
                continue;
            };
            if !exact.contains_key(label.replace('-', "").as_str()) {
                popular_labels.insert(label.into());
            }
            if let Some(ids) = exact.get(label) {
                for &id in ids {
                    let br = &self.brands[id as usize];
                    if br.label == label && *br.domain != **d {
                        own_swaps[id as usize] += 1;
                    }
                }
            }
        }
        for v in exact
            .values_mut()
            .chain(deletes.values_mut())
            .chain(deletes2.values_mut())
            .chain(skeletons.values_mut())
        {
            v.sort_unstable();
            v.dedup();
        }
        let mut pats: Vec<(Box<str>, PatInfo)> = patterns.into_iter().collect();
        pats.sort_by(|a, b| a.0.cmp(&b.0));
        let skel_pats: Vec<String> = pats
            .iter()
            .map(|(p, _)| p.bytes().map(|c| skel_of(&ascii_skel, c)).collect())
            .collect();
        let ac = build_ac(pats.iter().map(|(p, _)| p.as_bytes()));
        let ac_skel = build_ac(skel_pats.iter().map(|p| p.as_bytes()));
        let lure: Set = list_lines(LURE_WORDS).map(Box::from).collect();
        Index {
            psl: self.psl,
            brands: self.brands,
            exact,
            deletes,
            typo_hashes,
            skeletons,
            legit,
            popular,
            hosting,
            pattern_info: pats.into_iter().map(|(_, info)| info).collect(),
            ac,
            ac_skel,
            lure,
            ascii_skel,
            typo_len: (min_len, max_len),
            deletes2,
            typo2_hashes,
            typo2_bloom,
            typo2_len: (min2, max2),
            own_swaps,
            popular_labels,
            min_score: self.min_score,
        }
    }
}

/// Longest brand token looked for at two edits (its two-deletion neighbourhood has
/// n(n-1)/2 entries).
pub const MAX_TYPO2_LEN: usize = 24;

/// The Bloom bit of hash `h` (its high bits: the low bits of a polynomial hash of
/// similar strings are correlated).
pub(crate) fn bloom_bit(h: u64) -> usize {
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 21)) as usize
}

fn bloom_set(bloom: &mut [u64], h: u64) {
    let b = bloom_bit(h);
    if let Some(w) = bloom.get_mut(b / 64) {
        *w |= 1 << (b % 64);
    }
}

/// Where a hosting domain's names come from: what a bare brand name there means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostKind {
    /// Site builders and free hosting: anyone picks the name.
    Site,
    /// A CDN: the customer (often the brand) names its edge hosts.
    Cdn,
    /// Account- or organisation-named sites: the brand claims its own name first.
    Org,
}

fn push(map: &mut Map<Vec<u32>>, key: &str, id: u32) {
    map.entry(key.into()).or_default().push(id);
}

fn push_pat(map: &mut Map<PatInfo>, key: &str, kind: PatKind, id: u32) {
    let e = map.entry(key.into()).or_insert((kind, Vec::new()));
    if !e.1.contains(&id) {
        e.1.push(id);
    }
}

fn build_ac<'a>(pats: impl Iterator<Item = &'a [u8]>) -> Option<AhoCorasick> {
    let pats: Vec<&[u8]> = pats.collect();
    if pats.is_empty() {
        return None;
    }
    let kind = if pats.len() <= 20_000 {
        Some(AhoCorasickKind::DFA)
    } else {
        None
    };
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(kind)
        .build(pats)
        .ok()
}

/// UTS #39 skeleton of each ASCII byte, lower-cased (domain names are case-insensitive,
/// so `0` → `O` → `o` and `1` → `l` fold together); `.` and `-` stay themselves.
fn ascii_skeleton_table() -> Vec<Box<str>> {
    (0u8..128)
        .map(|b| {
            let c = b as char;
            if b == b'.' || b == b'-' {
                return c.to_string().into_boxed_str();
            }
            let s: String = unicode_security::skeleton(&c.to_string()).collect();
            s.to_lowercase().into_boxed_str()
        })
        .collect()
}

pub(crate) fn skel_of(table: &[Box<str>], c: u8) -> &str {
    table.get(c as usize).map(|s| &**s).unwrap_or("")
}

/// The compiled index (immutable; share it between threads, give each its [`crate::Detector`]).
pub struct Index {
    pub(crate) psl: SuffixList,
    pub(crate) brands: Vec<Brand>,
    pub(crate) exact: Map<Vec<u32>>,
    pub(crate) deletes: Map<Vec<u32>>,
    /// Polynomial hashes of every key of `exact` (typo-length tokens) and `deletes`:
    /// the prefilter of the typo probe.
    pub(crate) typo_hashes: HashSet64,
    pub(crate) skeletons: Map<Vec<u32>>,
    pub(crate) legit: Set,
    pub(crate) popular: Set,
    pub(crate) hosting: Map<HostKind>,
    pub(crate) pattern_info: Vec<PatInfo>,
    pub(crate) ac: Option<AhoCorasick>,
    pub(crate) ac_skel: Option<AhoCorasick>,
    pub(crate) lure: Set,
    pub(crate) ascii_skel: Vec<Box<str>>,
    pub(crate) typo_len: (usize, usize),
    /// Two-deletion neighbourhoods of tokens of [`MIN_TYPO2_LEN`]+ letters.
    pub(crate) deletes2: Map<Vec<u32>>,
    /// Polynomial hashes of those tokens and their one- and two-deletion variants.
    pub(crate) typo2_hashes: HashSet64,
    /// The same hashes as a one-hash Bloom filter (bit tests before set probes).
    pub(crate) typo2_bloom: Vec<u64>,
    pub(crate) typo2_len: (usize, usize),
    /// Per brand: popular registrable domains with its label under another suffix.
    pub(crate) own_swaps: Vec<u32>,
    /// Registrable labels of popular domains that are no brand's label.
    pub(crate) popular_labels: Set,
    pub(crate) min_score: f64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("brands", &self.brands.len())
            .field("legit", &self.legit.len())
            .finish_non_exhaustive()
    }
}

impl Index {
    /// The brands, in file order.
    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }
    /// The suffix list in use.
    pub fn suffix_list(&self) -> &SuffixList {
        &self.psl
    }
    /// Whether `name` (normalised) is listed as legitimate: a brand's own domain or an
    /// allowed name (their subdomains are legitimate too).
    pub fn is_legit_name(&self, name: &str) -> bool {
        self.legit.contains(name)
    }
    /// Whether `name` (a registrable domain) is in the popular list.
    pub fn is_popular(&self, name: &str) -> bool {
        self.popular.contains(name)
    }
}
