//! Names in, findings out.

use crate::error::Refusal;
use crate::finding::{Evidence, Finding, Technique};
use crate::index::{
    HostKind, Index, PatKind, DEFENSIVE_EVIDENCE_MIN, LONG_TOKEN_MIN, MIN_TYPO2_LEN, MIN_TYPO_LEN,
    SHORT_TOKEN_MAX,
};
use crate::normalise::Normaliser;
use crate::words::{classify, Edit};
use unicode_security::MixedScript;

/// Longest chunk beside a brand token that is tried as a sequence of lure words.
const MAX_LURE_CHUNK: usize = 40;
/// Longest single lure word.
const MAX_LURE_WORD: usize = 16;

/// Checks names against an [`Index`]. Holds the buffers a check reuses, so the common
/// path (an ASCII name that imitates nothing) allocates nothing; one per thread.
#[derive(Debug)]
pub struct Detector<'i> {
    index: &'i Index,
    norm: Normaliser,
    nohyph: String,
    skel: String,
    fold: Vec<u8>,
    del: String,
    /// Fold of each ASCII byte: its UTS #39 prototype when that is one other ASCII
    /// character (`0` → `o`, `1` → `l`), else itself. Length-preserving, so positions
    /// in the folded name are positions in the name.
    fold_table: [u8; 128],
}

/// Where a scan runs: the ASCII name (folded) or the skeleton of its Unicode form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    Ascii,
    UnicodeSkeleton,
}

struct Best {
    score: f64,
    token_len: usize,
    finding: Option<Finding>,
}

impl<'i> Detector<'i> {
    /// A detector over `index`.
    pub fn new(index: &'i Index) -> Self {
        let mut fold_table = [0u8; 128];
        for (b, slot) in fold_table.iter_mut().enumerate() {
            let s = index.ascii_skel.get(b).map(|s| s.as_bytes()).unwrap_or(&[]);
            *slot = if s.len() == 1 { s[0] } else { b as u8 };
        }
        Detector {
            index,
            norm: Normaliser::new(),
            nohyph: String::new(),
            skel: String::new(),
            fold: Vec::new(),
            del: String::new(),
            fold_table,
        }
    }

    /// Check one name. `Ok(None)`: it imitates no brand (or is legitimate); `Err`: it is
    /// not a name this crate will look at, and why.
    pub fn check(&mut self, input: &str) -> Result<Option<Finding>, Refusal> {
        let Detector {
            index,
            norm,
            nohyph,
            skel,
            fold,
            del,
            fold_table,
        } = self;
        let index: &Index = index;
        let n = norm.normalise(input, &index.psl)?;
        let Some(mut rs) = n.registrable_start else {
            return Ok(None);
        };
        let ascii = n.ascii;
        let mut hosted = false;
        let mut host_kind = None;
        if let Some(&kind) = index.hosting.get(&ascii[rs..]) {
            if rs == 0 {
                return Ok(None);
            }
            rs = ascii[..rs - 1].rfind('.').map_or(0, |p| p + 1);
            hosted = true;
            host_kind = Some(kind);
        }
        // Legitimate: the registrable domain or a longer suffix of the name is listed.
        let mut b = 0;
        loop {
            if index.legit.contains(&ascii[b..]) {
                return Ok(None);
            }
            if b == rs && index.popular.contains(&ascii[b..]) {
                // A popular registrable domain that is no hoster, with its subdomains:
                // brand names there are its infrastructure (`itunes-apple.com.akadns.net`,
                // `officeapps.live.com`); user content lives under the hosting domains,
                // which are never popular.
                return Ok(None);
            }
            if b >= rs {
                break;
            }
            match ascii[b..].find('.') {
                Some(p) => b += p + 1,
                None => break,
            }
        }
        let label_end = ascii[rs..].find('.').map_or(ascii.len(), |p| rs + p);
        let label = &ascii[rs..label_end];
        let suffix = ascii.get(label_end + 1..).unwrap_or("");
        if !hosted && index.popular_labels.contains(label) {
            // The label of a popular site under another suffix: that site's own
            // country or classic domain (`microsoftstore.com.hk`), excused like it.
            return Ok(None);
        }
        if let Some(&kind) = index.hosting.get(suffix) {
            hosted = true;
            host_kind.get_or_insert(kind);
        }
        let registrable = &ascii[rs..];
        let pre = &ascii[..label_end];
        let mut best = Best {
            score: 0.0,
            token_len: 0,
            finding: None,
        };
        let ctx = Ctx {
            index,
            domain: ascii,
            registrable,
            unicode: n.unicode,
            hosted,
            host_kind,
            suffix,
        };

        let reg_label_index = ascii[..rs].bytes().filter(|&c| c == b'.').count();
        let uni_label = n
            .unicode
            .and_then(|u| u.split('.').nth(reg_label_index))
            .filter(|u| !u.is_ascii());
        {
            // 1. The label is the brand token: TLD swap, hyphenation, or a hosted copy.
            nohyph.clear();
            nohyph.extend(label.chars().filter(|&c| c != '-'));
            if let Some(ids) = index.exact.get(nohyph.as_str()) {
                for &id in ids {
                    let br = &index.brands[id as usize];
                    let own = index.own_swaps.get(id as usize).copied().unwrap_or(0);
                    let own_evidence = own >= DEFENSIVE_EVIDENCE_MIN;
                    let cc_after = !br.suffix.is_empty()
                        && suffix.len() > br.suffix.len() + 1
                        && suffix.starts_with(br.suffix.as_str())
                        && suffix.as_bytes().get(br.suffix.len()) == Some(&b'.');
                    let (tech, variant, base, why) = if label.contains('-') && label != br.label {
                        (
                            Technique::Hyphenation,
                            "hyphens-inserted",
                            0.85,
                            "the brand's label with hyphens inserted".to_string(),
                        )
                    } else if hosted
                        && matches!(host_kind, Some(HostKind::Cdn | HostKind::Org))
                        && ctx.lure_words().is_empty()
                    {
                        (
                            Technique::Subdomain,
                            "brand-token-as-label",
                            0.6,
                            "the brand's bare label as a host name on a CDN or an account-named hoster, where the brand names its own hosts and accounts (apple.com.akamaized.net, twitter.github.io), and no lure word".to_string(),
                        )
                    } else if hosted {
                        (
                            Technique::Subdomain,
                            "brand-token-as-label",
                            0.85,
                            "the brand's label as a site name on a hosting domain".to_string(),
                        )
                    } else if suffix == br.suffix {
                        continue;
                    } else if cc_after && !own_evidence {
                        (
                            Technique::TldSwap,
                            "brand-suffix-then-country-code",
                            0.85,
                            format!(
                                "the brand's whole domain followed by a country code ({}.{suffix}), spelled to read as {}",
                                br.label, br.domain
                            ),
                        )
                    } else if defensive_suffix(suffix) && own_evidence {
                        (
                            Technique::TldSwap,
                            "suffix-differs",
                            0.5,
                            format!(
                                "the brand's label under a country-code or classic suffix, and {own} popular domains show the brand registers its label under other suffixes"
                            ),
                        )
                    } else if defensive_suffix(suffix) {
                        (
                            Technique::TldSwap,
                            "suffix-differs",
                            0.7,
                            "the brand's label under a country-code or classic suffix (no popular domain shows the brand holding its label elsewhere)".to_string(),
                        )
                    } else {
                        (
                            Technique::TldSwap,
                            "suffix-differs",
                            0.75,
                            "the brand's label under another public suffix".to_string(),
                        )
                    };
                    ctx.offer(
                        &mut best,
                        Offer {
                            id,
                            technique: tech,
                            variant,
                            label,
                            in_sub: false,
                            score: base,
                            reasons: vec![format!("base {base:.2}: {why}")],
                            edit: None,
                            skeleton: None,
                            permutation: tech != Technique::Subdomain,
                        },
                    );
                }
            }

            // 2. Same skeleton, different characters: homoglyph.
            let mut mixed = None;
            skel.clear();
            if let Some(u) = uni_label {
                skel.extend(
                    unicode_security::skeleton(u)
                        .filter(|&c| !unicode_normalization::char::is_combining_mark(c))
                        .flat_map(char::to_lowercase)
                        .filter(|&c| c != '-'),
                );
                mixed = Some(!u.is_single_script());
            } else {
                for c in nohyph.bytes() {
                    skel.push_str(crate::index::skel_of(&index.ascii_skel, c));
                }
            }
            if let Some(ids) = index.skeletons.get(skel.as_str()) {
                for &id in ids {
                    let br = &index.brands[id as usize];
                    if uni_label.is_none() && br.token == *nohyph {
                        continue;
                    }
                    let mut score = 0.9;
                    let mut reasons = vec![format!(
                        "base 0.90: the label's UTS #39 skeleton {skel:?} equals the brand's"
                    )];
                    if mixed == Some(true) {
                        score += 0.05;
                        reasons.push("+0.05: the Unicode label mixes scripts".into());
                    }
                    ctx.offer(
                        &mut best,
                        Offer {
                            id,
                            technique: Technique::Homoglyph,
                            variant: "skeleton",
                            label: uni_label.unwrap_or(label),
                            in_sub: false,
                            score,
                            reasons,
                            edit: None,
                            skeleton: Some(skel.clone()),
                            permutation: uni_label.is_none(),
                        },
                    );
                }
            }

            // 3. One edit from a brand token (symmetric-delete lookup): typo, bitsquat, vowel swap.
            let (min_len, max_len) = index.typo_len;
            let whole = nohyph.len() + 1 >= min_len && nohyph.len() <= max_len + 1;
            if uni_label.is_some() {
                // A punycode label: its skeleton (diacritics dropped) one edit from a brand.
                let sk = skel.clone();
                typo_probe(
                    &ctx,
                    &mut best,
                    del,
                    &sk,
                    uni_label.unwrap_or(label),
                    false,
                    true,
                );
            } else if whole {
                typo_probe(&ctx, &mut best, del, nohyph, label, false, false);
            }
            if uni_label.is_none() && best.finding.is_none() {
                typo2_probe(&ctx, &mut best, del, nohyph, label);
            }
            if label.contains('-') {
                for piece in label.split('-') {
                    if piece.len() + 1 >= min_len.max(MIN_TYPO_LEN) && piece.len() <= max_len + 1 {
                        typo_probe(&ctx, &mut best, del, piece, label, true, false);
                    }
                }
            }
        }

        // 4. Brand tokens inside labels: combosquat, subdomain (and homoglyphs inside).
        if let Some(ac) = &index.ac {
            fold.clear();
            fold.extend(
                pre.bytes()
                    .map(|c| fold_table.get(c as usize).copied().unwrap_or(c)),
            );
            scan(&ctx, &mut best, ac, fold, pre.as_bytes(), rs, Text::Ascii);
            if let Some(u) = n.unicode {
                let upre: String = u
                    .split('.')
                    .take(reg_label_index + 1)
                    .collect::<Vec<_>>()
                    .join(".");
                let sk: String = unicode_security::skeleton(&upre)
                    .flat_map(char::to_lowercase)
                    .collect();
                let sk: Vec<u8> = sk
                    .bytes()
                    .map(|c| fold_table.get(c as usize).copied().unwrap_or(c))
                    .collect();
                let ls = sk.iter().rposition(|&c| c == b'.').map_or(0, |p| p + 1);
                if let Some(ac_skel) = &index.ac_skel {
                    scan(
                        &ctx,
                        &mut best,
                        ac_skel,
                        &sk,
                        &sk,
                        ls,
                        Text::UnicodeSkeleton,
                    );
                }
            }
        }
        Ok(best.finding)
    }
}

struct Ctx<'a> {
    index: &'a Index,
    /// The name is under a hosting domain.
    hosted: bool,
    /// The kind of that hosting domain.
    host_kind: Option<HostKind>,
    /// The public suffix (extended over a hosting domain).
    suffix: &'a str,
    domain: &'a str,
    registrable: &'a str,
    unicode: Option<&'a str>,
}

struct Offer<'a> {
    id: u32,
    technique: Technique,
    variant: &'static str,
    label: &'a str,
    in_sub: bool,
    score: f64,
    reasons: Vec<String>,
    edit: Option<Edit>,
    skeleton: Option<String>,
    /// A permutation of the brand's label (typo, bit flip, vowel swap, TLD swap, ASCII
    /// homoglyph, hyphens): what brands and unrelated businesses also register.
    permutation: bool,
}

impl Ctx<'_> {
    fn offer(&self, best: &mut Best, o: Offer<'_>) {
        let mut score = o.score;
        let mut reasons = o.reasons;
        if o.permutation
            && self.index.brands[o.id as usize].token.len() < LONG_PERMUTATION_MIN
            && !self.corroborated()
        {
            score -= 0.15;
            reasons.push(
                "-0.15: a permutation of a short brand label and nothing else suspicious (no lure word in a subdomain, no abused suffix, no hosting domain): brands and unrelated businesses register such names too"
                    .into(),
            );
        }
        if o.in_sub
            && self.host_kind == Some(HostKind::Cdn)
            && score > 0.6
            && self.lure_words().is_empty()
        {
            score = 0.6;
            reasons.push("capped at 0.60: a CDN host name without a lure word; CDN customers name their edge hosts after their own brands".into());
        }
        let score = (score.clamp(0.0, 1.0) * 100.0).round() / 100.0;
        let br = &self.index.brands[o.id as usize];
        let token = &br.token;
        if score < self.index.min_score
            || score < best.score
            || (score == best.score && br.token.len() <= best.token_len)
        {
            return;
        }
        best.score = score;
        best.token_len = br.token.len();
        let lure_words = self.lure_words();
        let edit = o.edit.map(|e| match e.variant {
            "insertion" | "repetition" | "keyboard-adjacent" if e.from == 0 => {
                format!("inserted {:?} at {}", e.to as char, e.pos)
            }
            "omission" => format!("omitted {:?} at {}", e.from as char, e.pos),
            "two-edits" => format!("two edits from {token:?}, the first at {}", e.pos),
            "transposition" => format!(
                "swapped {:?} and {:?} at {}",
                e.from as char, e.to as char, e.pos
            ),
            _ => format!("{:?} -> {:?} at {}", e.from as char, e.to as char, e.pos),
        });
        best.finding = Some(Finding {
            kind: "phishing",
            domain: self.domain.to_string(),
            imitates: br.domain.clone(),
            score,
            technique: o.technique,
            evidence: Evidence {
                variant: o.edit.map_or(o.variant, |e| e.variant),
                brand_token: br.token.clone(),
                label: o.label.to_string(),
                found_in: if o.in_sub {
                    "subdomain"
                } else {
                    "registrable-label"
                },
                registrable_domain: self.registrable.to_string(),
                edit_distance: o.edit.map(|e| e.distance),
                edit,
                skeleton: o.skeleton,
                unicode: self.unicode.map(str::to_string),
                mixed_script: self
                    .unicode
                    .map(|u| u.split('.').any(|l| !l.is_ascii() && !l.is_single_script())),
                lure_words,
                reasons,
            },
        });
    }

    /// Whether something beside a permutation makes the name suspicious: a hosting
    /// domain, a suffix phishing favours, or lure words in the subdomains.
    fn corroborated(&self) -> bool {
        if self.hosted || abused_suffix(self.suffix) {
            return true;
        }
        // Lure words in the subdomains or in the registrable label itself
        // (`dhls-tracking.com`): the name speaks to the brand's customers.
        let label_end = self.registrable.find('.').unwrap_or(self.registrable.len());
        let upto_label = self
            .domain
            .get(..self.domain.len() - self.registrable.len() + label_end)
            .unwrap_or("");
        !upto_label.is_empty() && self.lure_elsewhere(upto_label.as_bytes(), (0, 0))
    }

    /// Lure words among the name's pieces (split at dots, hyphens and digits).
    fn lure_words(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let pre = self
            .domain
            .get(..self.domain.len() - self.registrable.len())
            .unwrap_or("");
        let label = self.registrable.split('.').next().unwrap_or("");
        for piece in pre
            .split(['.', '-'])
            .chain(label.split('-'))
            .flat_map(|p| p.split(|c: char| c.is_ascii_digit()))
        {
            if !piece.is_empty() && self.is_lure_seq(piece) && !out.iter().any(|w| w == piece) {
                out.push(piece.to_string());
            }
        }
        out
    }

    /// Whether `s` is a sequence of lure words (`securelogin`).
    fn is_lure_seq(&self, s: &str) -> bool {
        let n = s.len();
        if n == 0 || n > MAX_LURE_CHUNK || !s.is_ascii() {
            return false;
        }
        let mut ok = [false; MAX_LURE_CHUNK + 1];
        ok[0] = true;
        for i in 1..=n {
            for j in i.saturating_sub(MAX_LURE_WORD)..i {
                if ok[j] && self.index.lure.contains(&s[j..i]) {
                    ok[i] = true;
                    break;
                }
            }
        }
        ok[n]
    }

    /// Whether any piece of the name outside `skip` (a byte range of `text`) is a lure
    /// word sequence.
    fn lure_elsewhere(&self, text: &[u8], skip: (usize, usize)) -> bool {
        let mut start = 0;
        for i in 0..=text.len() {
            let sep = i == text.len() || matches!(text[i], b'.' | b'-' | b'0'..=b'9');
            if sep {
                if i > start && (i <= skip.0 || start >= skip.1) {
                    if let Ok(p) = std::str::from_utf8(&text[start..i]) {
                        if self.is_lure_seq(p) {
                            return true;
                        }
                    }
                }
                start = i + 1;
            }
        }
        false
    }
}

/// Brand tokens at least this long are rarely one edit from a legitimate name: their
/// permutations need no corroboration.
const LONG_PERMUTATION_MIN: usize = 8;

/// Suffixes phishing favours (cheap or free registration, lax abuse handling; the
/// suffixes most represented in public phishing feeds).
fn abused_suffix(suffix: &str) -> bool {
    let last = suffix.rsplit('.').next().unwrap_or(suffix);
    matches!(
        last,
        "tk" | "ml"
            | "ga"
            | "cf"
            | "gq"
            | "xyz"
            | "top"
            | "online"
            | "site"
            | "live"
            | "shop"
            | "icu"
            | "buzz"
            | "click"
            | "link"
            | "club"
            | "vip"
            | "work"
            | "support"
            | "help"
            | "info"
            | "biz"
            | "cc"
            | "ws"
            | "su"
            | "pw"
            | "rest"
            | "fit"
            | "cam"
            | "monster"
            | "sbs"
            | "cfd"
            | "bond"
            | "cyou"
            | "lol"
            | "quest"
            | "website"
            | "space"
            | "store"
            | "tech"
            | "fun"
            | "host"
            | "press"
            | "today"
            | "loan"
            | "win"
            | "bid"
            | "men"
            | "date"
            | "review"
            | "country"
            | "stream"
            | "download"
            | "racing"
            | "accountant"
            | "science"
            | "party"
            | "gdn"
            | "kim"
            | "ltd"
            | "services"
            | "network"
            | "digital"
    )
}

/// Suffixes brands register for themselves (country codes, `com`/`net`/`org`): the
/// brand's label there is more often the brand's own than a phish.
fn defensive_suffix(suffix: &str) -> bool {
    let last = suffix.rsplit('.').next().unwrap_or(suffix);
    last.len() == 2 || matches!(last, "com" | "net" | "org")
}

/// Probe the one-deletion neighbourhood of `cand` for brand tokens one edit away.
fn typo_probe(
    ctx: &Ctx<'_>,
    best: &mut Best,
    del: &mut String,
    cand: &str,
    label: &str,
    piece: bool,
    idn: bool,
) {
    let index = ctx.index;
    if !typo_prefilter(index, cand.as_bytes()) {
        return;
    }
    let hit = |id: u32, best: &mut Best| {
        let br = &index.brands[id as usize];
        if br.token == cand || br.token.len() < MIN_TYPO_LEN {
            return;
        }
        let Some(e) = classify(cand.as_bytes(), br.token.as_bytes()) else {
            return;
        };
        let l = br.token.len();
        // Short tokens are one edit from many real words and names: lower bases.
        let base = match l {
            0..=5 => 0.65,
            6 => 0.7,
            7 => 0.75,
            _ => 0.8,
        };
        let mut reasons = vec![format!(
            "base {base:.2}: one edit ({}) from the {l}-letter brand token",
            e.variant
        )];
        let mut score = base;
        match e.variant {
            "insertion" | "replacement" => {
                score -= 0.05;
                reasons.push(format!(
                    "-0.05: an arbitrary {} is a weaker sign than a slip of the finger",
                    e.variant
                ));
            }
            _ => {
                score += 0.05;
                reasons.push(format!("+0.05: {} is a common typing slip", e.variant));
            }
        }
        if e.pos == 0 {
            score -= 0.1;
            reasons.push("-0.10: the edit is on the first letter, which typing slips rarely touch and other words often differ in".into());
        }
        if piece {
            if ctx.lure_elsewhere(label.as_bytes(), (0, 0)) {
                score += 0.05;
                reasons.push("+0.05: a lure word beside it".into());
            } else {
                score -= 0.1;
                reasons.push("-0.10: one hyphen-separated piece, no lure word".into());
            }
        }
        if idn {
            score += 0.1;
            reasons.push("+0.10: a punycode label whose skeleton is that edit (confusable characters and an edit together)".into());
        }
        let technique = match e.variant {
            _ if idn => Technique::Homoglyph,
            "bit-flip" => Technique::Bitsquat,
            "vowel-swap" => Technique::VowelSwap,
            _ => Technique::Typo,
        };
        ctx.offer(
            best,
            Offer {
                id,
                technique,
                variant: e.variant,
                label,
                in_sub: false,
                score,
                reasons,
                edit: Some(e),
                skeleton: None,
                permutation: !piece && !idn,
            },
        );
    };
    if let Some(ids) = index.deletes.get(cand) {
        for &id in ids {
            hit(id, best);
        }
    }
    for j in 0..cand.len() {
        if !cand.is_char_boundary(j) || !cand.is_char_boundary(j + 1) {
            continue;
        }
        del.clear();
        del.push_str(&cand[..j]);
        del.push_str(&cand[j + 1..]);
        if let Some(ids) = index.exact.get(del.as_str()) {
            for &id in ids {
                hit(id, best);
            }
        }
        if let Some(ids) = index.deletes.get(del.as_str()) {
            for &id in ids {
                hit(id, best);
            }
        }
    }
}

/// Probe `cand` (a whole registrable label without hyphens) for brand tokens of
/// [`MIN_TYPO2_LEN`]+ letters two edits away (`blcokchian` for `blockchain`).
///
/// Symmetric delete at distance 2: the index holds each long token's zero-, one- and
/// two-deletion variants as polynomial hashes (a Bloom filter, then a hash set); the
/// candidate's variants are hashed from prefix hashes, no string built. Only a hash hit
/// builds variants (in the detector's reused buffer) to settle the brand and the exact
/// Damerau–Levenshtein distance.
fn typo2_probe(ctx: &Ctx<'_>, best: &mut Best, del: &mut String, cand: &str, label: &str) {
    use crate::index::{bloom_bit, POLY};
    let index = ctx.index;
    let c = cand.as_bytes();
    let n = c.len();
    let (lo, hi) = index.typo2_len;
    if lo == usize::MAX || n == 0 || n > 64 || n + 2 < lo || n > hi + 2 {
        return;
    }
    let mut pre = [0u64; 65];
    let mut pow = [1u64; 65];
    for i in 0..n {
        pre[i + 1] = pre[i].wrapping_mul(POLY).wrapping_add(u64::from(c[i]));
        pow[i + 1] = pow[i].wrapping_mul(POLY);
    }
    // Hash of c[a..b].
    let sub = |a: usize, b: usize| pre[b].wrapping_sub(pre[a].wrapping_mul(pow[b - a]));
    let bloom = &index.typo2_bloom;
    let probe = |h: u64| {
        let b = bloom_bit(h);
        bloom.get(b / 64).is_some_and(|w| w & (1 << (b % 64)) != 0)
            && index.typo2_hashes.contains(&h)
    };
    let mut hit = probe(pre[n]);
    for j in 0..n {
        if hit {
            break;
        }
        if probe(
            sub(0, j)
                .wrapping_mul(pow[n - 1 - j])
                .wrapping_add(sub(j + 1, n)),
        ) {
            hit = true;
            break;
        }
        for k in j + 1..n {
            let h = sub(0, j)
                .wrapping_mul(pow[n - 2 - j])
                .wrapping_add(sub(j + 1, k).wrapping_mul(pow[n - 1 - k]))
                .wrapping_add(sub(k + 1, n));
            if probe(h) {
                hit = true;
                break;
            }
        }
    }
    if !hit {
        return;
    }
    // Settle: the candidate's variants looked up among the tokens and their variants.
    let mut seen: [u32; 8] = [u32::MAX; 8];
    let mut nseen = 0;
    let mut consider = |id: u32, best: &mut Best| {
        if seen[..nseen].contains(&id) {
            return;
        }
        if nseen < seen.len() {
            seen[nseen] = id;
            nseen += 1;
        }
        let br = &index.brands[id as usize];
        let t = br.token.as_bytes();
        // The optimal-string-alignment distance counts a transposition beside a dropped
        // letter (`bankofamieca`) as 3; the deletion neighbourhoods matched at two, so
        // 3 is accepted for these slips (the letters already rule out replacements).
        if t.len() < MIN_TYPO2_LEN || !one_sided_letters(c, t) {
            return;
        }
        let Some(distance) = osa_distance_within(c, t, 3).filter(|&d| d >= 2) else {
            return;
        };
        let pos = c.iter().zip(t).position(|(a, b)| a != b).unwrap_or(0);
        let mut score = if t.len() >= 10 { 0.75 } else { 0.7 };
        let mut reasons = vec![format!(
            "base {score:.2}: two slips (optimal-string-alignment distance {distance}) from the {}-letter brand token",
            t.len()
        )];
        if pos == 0 {
            score -= 0.1;
            reasons.push("-0.10: the first letter differs, which typing slips rarely touch".into());
        }
        ctx.offer(
            best,
            Offer {
                id,
                technique: Technique::Typo,
                variant: "two-edits",
                label,
                in_sub: false,
                score,
                reasons,
                edit: Some(Edit {
                    variant: "two-edits",
                    pos,
                    from: t.get(pos).copied().unwrap_or(0),
                    to: c.get(pos).copied().unwrap_or(0),
                    distance,
                }),
                skeleton: None,
                permutation: true,
            },
        );
    };
    let mut look = |key: &str, best: &mut Best| {
        for map in [&index.exact, &index.deletes, &index.deletes2] {
            if let Some(ids) = map.get(key) {
                for &id in ids {
                    consider(id, best);
                }
            }
        }
    };
    look(cand, best);
    for j in 0..n {
        if !cand.is_char_boundary(j) || !cand.is_char_boundary(j + 1) {
            continue;
        }
        del.clear();
        del.push_str(&cand[..j]);
        del.push_str(&cand[j + 1..]);
        look(del.as_str(), best);
        for k in j + 1..n {
            if !cand.is_char_boundary(k) || !cand.is_char_boundary(k + 1) {
                continue;
            }
            del.clear();
            del.push_str(&cand[..j]);
            del.push_str(&cand[j + 1..k]);
            del.push_str(&cand[k + 1..]);
            look(del.as_str(), best);
        }
    }
}

/// Whether one name's letters contain the other's (as multisets): the two edits are
/// slips (transpositions, doubled or dropped letters: `blcokchian`, `biitfiinex`), not
/// replacements, which make other words (`etherscams`, `cryptokittens`).
fn one_sided_letters(a: &[u8], b: &[u8]) -> bool {
    let mut diff = [0i16; 128];
    for &x in a {
        diff[usize::from(x & 127)] += 1;
    }
    for &x in b {
        diff[usize::from(x & 127)] -= 1;
    }
    diff.iter().all(|&d| d >= 0) || diff.iter().all(|&d| d <= 0)
}

/// Optimal-string-alignment (restricted Damerau–Levenshtein) distance of `a` and `b`
/// when it is at most `max`, on the stack (both at most 64 bytes).
fn osa_distance_within(a: &[u8], b: &[u8], max: u32) -> Option<u32> {
    let (n, m) = (a.len(), b.len());
    if n > 64 || m > 64 || n.abs_diff(m) > max as usize {
        return None;
    }
    let mut rows = [[0u32; 65]; 3];
    for (j, v) in rows[0].iter_mut().enumerate().take(m + 1) {
        *v = j as u32;
    }
    for i in 1..=n {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur][0] = i as u32;
        let mut row_min = rows[cur][0];
        for j in 1..=m {
            let cost = u32::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[prev][j] + 1)
                .min(rows[cur][j - 1] + 1)
                .min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
    }
    let d = rows[n % 3][m];
    (d <= max).then_some(d)
}

/// Whether a chunk beside a brand token is a clean boundary: empty, digits, a sequence
/// of lure words, or (long tokens) one letter. Returns (clean, is_lure).
fn chunk_clean(ctx: &Ctx<'_>, chunk: &[u8], token_len: usize) -> (bool, bool) {
    if chunk.is_empty() || chunk.iter().all(u8::is_ascii_digit) {
        return (true, false);
    }
    let letters = std::str::from_utf8(chunk)
        .unwrap_or("")
        .trim_matches(|c: char| c.is_ascii_digit());
    if ctx.is_lure_seq(letters) {
        return (true, true);
    }
    (letters.len() == 1 && token_len >= 6, false)
}

/// Whether `cand` or one of its one-byte deletions may be a key of the typo maps
/// (polynomial hashes, no string built; false positives are settled by the maps).
fn typo_prefilter(index: &Index, cand: &[u8]) -> bool {
    use crate::index::POLY;
    let n = cand.len();
    if n == 0 || n > 64 {
        return false;
    }
    if index.typo_hashes.contains(&crate::index::poly_hash(cand)) {
        return true;
    }
    // suffix[j] = hash(cand[j..]), pow[k] = POLY^k.
    let mut suffix = [0u64; 65];
    let mut pow = [1u64; 65];
    for j in (0..n).rev() {
        pow[n - j] = pow[n - j - 1].wrapping_mul(POLY);
        suffix[j] = u64::from(cand[j])
            .wrapping_mul(pow[n - j - 1])
            .wrapping_add(suffix[j + 1]);
    }
    let mut prefix = 0u64;
    for j in 0..n {
        // hash(cand[..j] + cand[j+1..]) = hash(cand[..j]) * POLY^(n-1-j) + hash(cand[j+1..])
        let h = prefix
            .wrapping_mul(pow[n - 1 - j])
            .wrapping_add(suffix[j + 1]);
        if index.typo_hashes.contains(&h) {
            return true;
        }
        prefix = prefix.wrapping_mul(POLY).wrapping_add(u64::from(cand[j]));
    }
    false
}

/// Whether a chunk is one letter (with digits around it at most).
fn lone_letter(chunk: &[u8]) -> bool {
    chunk.iter().filter(|c| c.is_ascii_alphabetic()).count() == 1
}

/// Scan `text` (folded name up to the registrable label) for brand patterns.
fn scan(
    ctx: &Ctx<'_>,
    best: &mut Best,
    ac: &aho_corasick::AhoCorasick,
    text: &[u8],
    raw: &[u8],
    label_start: usize,
    which: Text,
) {
    let index = ctx.index;
    for m in ac.find_overlapping_iter(text) {
        let Some((kind, ids)) = index.pattern_info.get(m.pattern().as_usize()) else {
            continue;
        };
        let (s, e) = (m.start(), m.end());
        let differs = raw.get(s..e) != text.get(s..e) || which == Text::UnicodeSkeleton;
        for &id in ids {
            let br = &index.brands[id as usize];
            let l = br.token.len();
            let offer_label = |ls: usize, le: usize| -> String {
                String::from_utf8_lossy(&raw[ls..le]).into_owned()
            };
            match kind {
                PatKind::Dotted | PatKind::Dashed => {
                    let lb = s == 0 || matches!(text[s - 1], b'.' | b'-');
                    let rb = e == text.len() || matches!(text[e], b'.' | b'-');
                    if !(lb && rb) {
                        continue;
                    }
                    let in_sub = s < label_start;
                    let cdn_own = in_sub
                        && ctx.host_kind == Some(HostKind::Cdn)
                        && ctx.lure_words().is_empty();
                    let (tech, score, why) = if cdn_own {
                        (
                            Technique::Subdomain,
                            0.6,
                            "base 0.60: the brand's whole domain as labels of a CDN host name without a lure word: CDN customers name their edge hosts after their own domains (apple.com.akamaized.net)",
                        )
                    } else if in_sub {
                        (
                            Technique::Subdomain,
                            0.95,
                            "base 0.95: the brand's whole domain as labels under another registrable domain",
                        )
                    } else {
                        (
                            Technique::Combosquat,
                            0.9,
                            "base 0.90: the brand's whole domain spelled inside the registrable label",
                        )
                    };
                    let ls = text[..s]
                        .iter()
                        .rposition(|&c| c == b'.')
                        .map_or(0, |p| p + 1);
                    let le = text[e..]
                        .iter()
                        .position(|&c| c == b'.')
                        .map_or(text.len(), |p| e + p);
                    let le = if *kind == PatKind::Dotted {
                        e.max(le)
                    } else {
                        le
                    };
                    let label = offer_label(ls, le);
                    ctx.offer(
                        best,
                        Offer {
                            id,
                            technique: if differs { Technique::Homoglyph } else { tech },
                            variant: if in_sub {
                                "brand-domain-as-labels"
                            } else {
                                "brand-domain-in-label"
                            },
                            label: &label,
                            in_sub,
                            score,
                            reasons: vec![why.into()],
                            edit: None,
                            skeleton: None,
                            permutation: false,
                        },
                    );
                }
                PatKind::Token | PatKind::Hyphenated => {
                    let ls = text[..s]
                        .iter()
                        .rposition(|&c| c == b'.')
                        .map_or(0, |p| p + 1);
                    let le = text[e..]
                        .iter()
                        .position(|&c| c == b'.')
                        .map_or(text.len(), |p| e + p);
                    let in_sub = ls < label_start;
                    if !in_sub && s == ls && e == le {
                        continue; // the whole registrable label: steps 1 and 2
                    }
                    let mut reasons = Vec::new();
                    let (score, variant);
                    // A stray letter beside the token in the registrable label is an
                    // insertion: a permutation.
                    let mut stray = false;
                    if s == ls && e == le {
                        let lure = ctx.lure_elsewhere(raw, (s, e));
                        if l < 5 && !lure {
                            continue;
                        }
                        variant = "brand-token-as-label";
                        let mut sc = 0.85;
                        reasons.push(
                            "base 0.85: the brand token is a whole label under another registrable domain"
                                .to_string(),
                        );
                        if lure {
                            sc += 0.05;
                            reasons.push("+0.05: lure words in the name".into());
                        }
                        score = sc;
                    } else {
                        let lc = text[ls..s]
                            .iter()
                            .rposition(|&c| c == b'-')
                            .map_or(ls, |p| ls + p + 1);
                        let rc = text[e..le]
                            .iter()
                            .position(|&c| c == b'-')
                            .map_or(le, |p| e + p);
                        let (lclean, llure) = chunk_clean(ctx, &raw[lc..s], l);
                        let (rclean, rlure) = chunk_clean(ctx, &raw[e..rc], l);
                        let lure = llure || rlure || ctx.lure_elsewhere(raw, (lc, rc));
                        let mut sc;
                        let (lstray, rstray) = (lone_letter(&raw[lc..s]), lone_letter(&raw[e..rc]));
                        let short_bare = l <= SHORT_TOKEN_MAX && !lure;
                        match (
                            lclean || (short_bare && lstray),
                            rclean || (short_bare && rstray),
                        ) {
                            (true, true) if short_bare => {
                                // A short token and no lure word: only in the registrable
                                // label under a suffix phishing favours (`dpdn62.click`,
                                // `dpdi.xyz`).
                                if in_sub || !abused_suffix(ctx.suffix) {
                                    continue;
                                }
                                stray = lstray || rstray;
                                sc = 0.65;
                                reasons.push(format!(
                                    "base 0.65: the {l}-letter brand token between clean boundaries under a suffix phishing favours ({})", ctx.suffix
                                ));
                            }
                            (true, true) => {
                                if lone_letter(&raw[lc..s]) || lone_letter(&raw[e..rc]) {
                                    stray = !in_sub;
                                    sc = 0.6;
                                    reasons.push(format!(
                                        "base 0.60: the {l}-letter brand token with one stray letter beside it (an insertion more than a word)"
                                    ));
                                } else {
                                    sc = 0.8;
                                    reasons.push(format!(
                                        "base 0.80: the {l}-letter brand token between clean boundaries (label edge, hyphen, digit or lure word)"
                                    ));
                                }
                            }
                            (true, false) | (false, true) => {
                                if l < LONG_TOKEN_MIN {
                                    continue;
                                }
                                sc = 0.7;
                                reasons.push(format!(
                                    "base 0.70: the {l}-letter brand token joined to other letters on one side"
                                ));
                            }
                            (false, false) => {
                                if l < LONG_TOKEN_MIN + 1 {
                                    continue;
                                }
                                sc = 0.65;
                                reasons.push(format!(
                                    "base 0.65: the {l}-letter brand token embedded in a longer word"
                                ));
                            }
                        }
                        if lure {
                            sc += 0.1;
                            reasons.push("+0.10: lure words beside the brand".into());
                        }
                        score = sc;
                        variant = "brand-token-in-label";
                    }
                    if differs {
                        reasons.push("the brand token appears only after folding confusable characters (UTS #39)".into());
                    }
                    let label = offer_label(ls, le);
                    ctx.offer(
                        best,
                        Offer {
                            id,
                            technique: if differs {
                                Technique::Homoglyph
                            } else if in_sub {
                                Technique::Subdomain
                            } else {
                                Technique::Combosquat
                            },
                            variant,
                            label: &label,
                            in_sub,
                            score,
                            reasons,
                            edit: None,
                            skeleton: None,
                            permutation: stray,
                        },
                    );
                }
            }
        }
    }
}
