//! Each technique on names an analyst would recognise, and the legitimate names that
//! must never be reported.

use accord_lookalike::{Detector, Finding, Index, IndexBuilder, SuffixList, Technique};

/// The index over [`BRANDS`] (built once: the popular list takes a moment to load).
pub fn shared() -> &'static Index {
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| index_with(BRANDS, ""))
}

pub fn index_with(brands: &str, allow: &str) -> Index {
    let mut b = IndexBuilder::new(SuffixList::Bundled);
    b.add_brands(brands).expect("brands");
    b.add_allow(allow).expect("allow");
    b.add_popular(accord_lookalike::index::BUNDLED_POPULAR);
    b.build()
}

pub const BRANDS: &str = "# banks, payment, big tech, parcel, government\n\
    paypal.com\nmicrosoft.com\napple.com\ndhl.com\nhmrc.gov.uk\ngov.uk\nirs.gov\n\
    service-public.fr\nmaybank.com.my\nmetamask.io\nchase.com\n";

fn check(d: &mut Detector<'_>, name: &str) -> Option<Finding> {
    d.check(name).expect("a valid name")
}

#[track_caller]
fn expect(
    d: &mut Detector<'_>,
    name: &str,
    brand: &str,
    tech: Technique,
    variant: &str,
) -> Finding {
    let f = check(d, name).unwrap_or_else(|| panic!("{name} not reported"));
    assert_eq!(f.imitates, brand, "{name}");
    assert_eq!(f.technique, tech, "{name}: {f:?}");
    assert_eq!(f.evidence.variant, variant, "{name}: {f:?}");
    assert!((0.0..=1.0).contains(&f.score));
    assert!(!f.evidence.reasons.is_empty());
    f
}

#[test]
fn typo_variants_with_edit_evidence() {
    let mut d = Detector::new(shared());
    // Short brands (paypal): permutations need corroboration, here an abused suffix.
    let f = expect(
        &mut d,
        "paypall.xyz",
        "paypal.com",
        Technique::Typo,
        "repetition",
    );
    assert_eq!(f.evidence.edit_distance, Some(1));
    assert_eq!(f.evidence.edit.as_deref(), Some("inserted 'l' at 6"));
    expect(
        &mut d,
        "pyapal.top",
        "paypal.com",
        Technique::Typo,
        "transposition",
    );
    expect(
        &mut d,
        "paypl.online",
        "paypal.com",
        Technique::Typo,
        "omission",
    );
    expect(
        &mut d,
        "paypak.tk",
        "paypal.com",
        Technique::Typo,
        "keyboard-adjacent",
    );
    expect(
        &mut d,
        "paypcl.xyz",
        "paypal.com",
        Technique::Bitsquat,
        "bit-flip",
    );
    expect(
        &mut d,
        "paypel.xyz",
        "paypal.com",
        Technique::VowelSwap,
        "vowel-swap",
    );
    // Long brands (microsoft) need none.
    expect(
        &mut d,
        "microsoct.com",
        "microsoft.com",
        Technique::Typo,
        "keyboard-adjacent",
    );
    expect(
        &mut d,
        "microsofjt.com",
        "microsoft.com",
        Technique::Typo,
        "insertion",
    );
    expect(
        &mut d,
        "microsogt.com",
        "microsoft.com",
        Technique::Bitsquat,
        "bit-flip",
    );
}

#[test]
fn short_brand_permutations_need_corroboration() {
    let mut d = Detector::new(shared());
    // One edit of a 6-letter brand under .com: also what brands and businesses register.
    let f = d.check("paypall.com").expect("valid");
    assert_eq!(f, None);
    // A lure word in a subdomain, an abused suffix or a hosting domain corroborates it.
    let f = expect(
        &mut d,
        "login.paypall.com",
        "paypal.com",
        Technique::Typo,
        "repetition",
    );
    assert!(f.evidence.reasons.iter().all(|r| !r.starts_with("-0.15")));
    expect(
        &mut d,
        "paypall.xyz",
        "paypal.com",
        Technique::Typo,
        "repetition",
    );
    expect(
        &mut d,
        "paypall.web.app",
        "paypal.com",
        Technique::Typo,
        "repetition",
    );
}

#[test]
fn homoglyphs_ascii_and_punycode() {
    let mut d = Detector::new(shared());
    let f = expect(
        &mut d,
        "rnicrosoft.com",
        "microsoft.com",
        Technique::Homoglyph,
        "skeleton",
    );
    assert_eq!(f.evidence.skeleton.as_deref(), Some("rnicrosoft"));
    expect(
        &mut d,
        "paypa1.com",
        "paypal.com",
        Technique::Homoglyph,
        "skeleton",
    );
    // Cyrillic а in pаypal: punycode decoded, mixed scripts noted.
    let f = expect(
        &mut d,
        "xn--pypal-4ve.com",
        "paypal.com",
        Technique::Homoglyph,
        "skeleton",
    );
    assert_eq!(f.evidence.unicode.as_deref(), Some("pаypal.com"));
    assert_eq!(f.evidence.mixed_script, Some(true));
    // The same name given in Unicode.
    expect(
        &mut d,
        "pаypal.com",
        "paypal.com",
        Technique::Homoglyph,
        "skeleton",
    );
    // Confusables inside a combosquat.
    expect(
        &mut d,
        "secure-paypa1-login.com",
        "paypal.com",
        Technique::Homoglyph,
        "brand-token-in-label",
    );
}

#[test]
fn combosquats_subdomains_hyphenation_tld_swap() {
    let mut d = Detector::new(shared());
    let f = expect(
        &mut d,
        "paypal-login-secure.com",
        "paypal.com",
        Technique::Combosquat,
        "brand-token-in-label",
    );
    assert_eq!(f.evidence.lure_words, vec!["login", "secure"]);
    assert_eq!(f.evidence.brand_token, "paypal");
    expect(
        &mut d,
        "mypaypal-verify.net",
        "paypal.com",
        Technique::Combosquat,
        "brand-token-in-label",
    );
    expect(
        &mut d,
        "dhl-tracking.com",
        "dhl.com",
        Technique::Combosquat,
        "brand-token-in-label",
    );
    expect(
        &mut d,
        "hmrc-refund.com",
        "hmrc.gov.uk",
        Technique::Combosquat,
        "brand-token-in-label",
    );
    expect(
        &mut d,
        "gov-uk-refund.com",
        "gov.uk",
        Technique::Combosquat,
        "brand-token-in-label",
    );
    let f = expect(
        &mut d,
        "paypal.com.account-verify.tk",
        "paypal.com",
        Technique::Subdomain,
        "brand-domain-as-labels",
    );
    assert_eq!(f.evidence.found_in, "subdomain");
    expect(
        &mut d,
        "hmrc.gov.uk.tax-refund.com",
        "hmrc.gov.uk",
        Technique::Subdomain,
        "brand-domain-as-labels",
    );
    expect(
        &mut d,
        "www-paypal-com.evil.tk",
        "paypal.com",
        Technique::Subdomain,
        "brand-domain-as-labels",
    );
    expect(
        &mut d,
        "metamask.web.app",
        "metamask.io",
        Technique::Subdomain,
        "brand-token-as-label",
    );
    expect(
        &mut d,
        "paypal.vercel.app",
        "paypal.com",
        Technique::Subdomain,
        "brand-token-as-label",
    );
    expect(
        &mut d,
        "pay-pal.com",
        "paypal.com",
        Technique::Hyphenation,
        "hyphens-inserted",
    );
    expect(
        &mut d,
        "service-public.online",
        "service-public.fr",
        Technique::TldSwap,
        "suffix-differs",
    );
    expect(
        &mut d,
        "paypal.online",
        "paypal.com",
        Technique::TldSwap,
        "suffix-differs",
    );
}

#[test]
fn legitimate_names_are_never_reported() {
    let index = index_with(
        BRANDS,
        "paypal-community.com\n# a partner\nlogin.partner.example\n",
    );
    let mut d = Detector::new(&index);
    for name in [
        // The brands' own domains and their subdomains.
        "paypal.com",
        "www.paypal.com",
        "login.microsoftonline.com.paypal.com",
        "hmrc.gov.uk",
        "www.tax.service.gov.uk",
        "irs.gov",
        "www.irs.gov",
        // The allow-list (with subdomains).
        "paypal-community.com",
        "www.paypal-community.com",
        "a.login.partner.example",
        // Popular domains, and short brand tokens inside words.
        "apple.news",
        "applebees.com",
        "pineapple.com",
        "purchase-order.com",
        "string.com",
        "irsa.com",
        "thehills.com",
        "microsoftonline.com",
        // A hoster alone, and hosted names without a brand.
        "akamaihd.net",
        "a248.e.akamaihd.net",
        "my-blog.web.app",
        // A brand token that is a whole dictionary word (chase) inside another word.
        "purchase.com",
        "chasers-club.com",
    ] {
        assert_eq!(check(&mut d, name), None, "{name}");
    }
}

#[test]
fn short_brand_tokens_need_boundaries_and_lure_words() {
    let mut d = Detector::new(shared());
    // dhl and irs (3 letters) inside words, or between hyphens without a lure word.
    assert_eq!(check(&mut d, "adhlx.com"), None);
    assert_eq!(check(&mut d, "firstbirs.com"), None);
    assert_eq!(check(&mut d, "dhl-fans.com"), None);
    // With a lure word beside them they fire.
    assert!(check(&mut d, "irs-refund-claim.com").is_some());
}

#[test]
fn defensive_tld_swaps_score_below_the_threshold() {
    let mut d = Detector::new(shared());
    // Brands that the popular list shows holding their label under other suffixes
    // (google.de, google.fr...) register country codes and com/net/org themselves.
    let index = index_with("google.com\n", "");
    let mut g = Detector::new(&index);
    assert_eq!(check(&mut g, "google.co"), None);
    assert_eq!(check(&mut g, "google.com.bi"), None);
    // Without that evidence a short brand's swap still needs corroboration.
    assert_eq!(check(&mut d, "paypal.co"), None);
}

#[test]
fn hostile_names_are_refused_with_a_rule() {
    let mut d = Detector::new(shared());
    let rule = |d: &mut Detector<'_>, n: &str| d.check(n).err().map(|e| e.rule());
    assert_eq!(
        rule(&mut d, &format!("{}.com", "a".repeat(64))),
        Some("label-too-long")
    );
    assert_eq!(rule(&mut d, &"a.".repeat(10_000)), Some("too-long"));
    assert_eq!(rule(&mut d, &"a.".repeat(300)), Some("too-many-labels"));
    assert_eq!(rule(&mut d, "xn--zz-.com"), Some("idna"));
    assert_eq!(rule(&mut d, "a..b"), Some("empty-label"));
    assert_eq!(rule(&mut d, "pay pal.com"), Some("invalid-char"));
}

#[test]
fn a_newer_suffix_list_changes_the_registrable_domain() {
    // With a list where `evil.xyz` is a public suffix, `paypal.evil.xyz` is a
    // registrable domain whose label is the brand token: a TLD swap.
    let psl =
        SuffixList::parse("// ===BEGIN ICANN DOMAINS===\ncom\nxyz\nevil.xyz\n").expect("list");
    let mut b = IndexBuilder::new(psl);
    b.add_brands("paypal.com\n").expect("brands");
    let index = b.build();
    let mut d = Detector::new(&index);
    let f = d
        .check("paypal.evil.xyz")
        .expect("valid")
        .expect("reported");
    assert_eq!(f.technique, Technique::TldSwap);
    assert_eq!(f.evidence.registrable_domain, "paypal.evil.xyz");
}

#[test]
fn brand_lines_that_are_not_domains_are_refused() {
    let mut b = IndexBuilder::new(SuffixList::Bundled);
    let err = b
        .add_brands("paypal.com\nnot a domain\n")
        .expect_err("refused");
    assert_eq!(err.rule(), "brand");
    assert!(err.to_string().contains("not a domain"));
}
