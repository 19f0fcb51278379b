//! Findings: what a name imitates, how, and why it scored what it scored.

use serde::Serialize;

/// How a name imitates a brand. Serialised in kebab-case (`tld-swap`, `vowel-swap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// One edit from the brand: insertion, omission, transposition, replacement,
    /// repetition, keyboard-adjacent replacement.
    Typo,
    /// Same UTS #39 skeleton as the brand but different characters (Unicode confusables,
    /// `rn`/`m`, `0`/`o`, `1`/`l`), including punycode names.
    Homoglyph,
    /// One character differs by one bit from the brand's.
    Bitsquat,
    /// The brand's label under another public suffix.
    TldSwap,
    /// The brand token plus words, hyphens or numbers in the registrable label.
    Combosquat,
    /// The brand (token or whole domain) as labels under another registrable domain.
    Subdomain,
    /// The brand's label with hyphens inserted.
    Hyphenation,
    /// One vowel of the brand replaced by another.
    VowelSwap,
}

impl Technique {
    /// The kebab-case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::Typo => "typo",
            Technique::Homoglyph => "homoglyph",
            Technique::Bitsquat => "bitsquat",
            Technique::TldSwap => "tld-swap",
            Technique::Combosquat => "combosquat",
            Technique::Subdomain => "subdomain",
            Technique::Hyphenation => "hyphenation",
            Technique::VowelSwap => "vowel-swap",
        }
    }
}

/// Evidence an analyst reads: the variant of the technique, the brand token and where it
/// was found, the edit or skeleton that matched, and the reasons behind the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Finer kind: `insertion`, `omission`, `transposition`, `replacement`,
    /// `repetition`, `keyboard-adjacent`, `skeleton`, `bit-flip`, `brand-domain-as-labels`,
    /// `brand-token-as-label`, `brand-token-in-label`, `suffix-differs`, `hyphens-inserted`.
    pub variant: &'static str,
    /// The brand token looked for (the brand's registrable label without hyphens).
    pub brand_token: String,
    /// The label in which it was found (or that is one edit from it).
    pub label: String,
    /// Where: `registrable-label` or `subdomain`.
    pub found_in: &'static str,
    /// The registrable domain of the name (after hosting-suffix extension).
    pub registrable_domain: String,
    /// Damerau–Levenshtein distance between the label and the brand token, when the
    /// technique is an edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_distance: Option<u32>,
    /// The edit: what changed, e.g. `'l' -> '1' at 5`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
    /// The UTS #39 skeleton shared with the brand (homoglyphs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skeleton: Option<String>,
    /// The Unicode form of a punycode name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unicode: Option<String>,
    /// Whether the Unicode label mixes scripts (UTS #39 mixed-script detection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixed_script: Option<bool>,
    /// Lure words found beside the brand (`login`, `secure`, `verify`...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lure_words: Vec<String>,
    /// Why the score is what it is: the base of the technique and each adjustment.
    pub reasons: Vec<String>,
}

/// A name that imitates a protected brand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Always `phishing`.
    pub kind: &'static str,
    /// The name as normalised (lower-case ASCII, punycode).
    pub domain: String,
    /// The brand's registrable domain as listed in the brands file.
    pub imitates: String,
    /// 0..1: how sure the detector is that the name imitates the brand.
    pub score: f64,
    /// The technique.
    pub technique: Technique,
    /// The evidence.
    pub evidence: Evidence,
}
