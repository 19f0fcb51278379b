//! Properties: nothing panics, refusals carry a rule, limits hold, brands' own names and
//! their subdomains are never reported, every one-edit typo of a long brand is found,
//! and every two-slip typo of a long brand (the hash and Bloom prefilter never drops one).

use accord_lookalike::normalise::{MAX_DOMAIN_LEN, MAX_LABELS, MAX_LABEL_LEN};
use accord_lookalike::{Detector, Normaliser, SuffixList};
use proptest::prelude::*;

use crate::techniques::shared;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_refused_with_a_rule_or_normalised_within_limits(s in "\\PC{0,80}|[a-z0-9.-]{0,300}|(xn--[a-z0-9-]{0,20}\\.){1,4}com") {
        let mut n = Normaliser::new();
        match n.normalise(&s, &SuffixList::Bundled) {
            Ok(d) => {
                prop_assert!(d.ascii.is_ascii());
                prop_assert!(d.ascii.len() <= MAX_DOMAIN_LEN);
                prop_assert!(d.ascii.split('.').count() <= MAX_LABELS);
                prop_assert!(d.ascii.split('.').all(|l| !l.is_empty() && l.len() <= MAX_LABEL_LEN));
                prop_assert_eq!(d.ascii.to_ascii_lowercase(), d.ascii);
            }
            Err(e) => prop_assert!(!e.rule().is_empty()),
        }
    }

    #[test]
    fn detector_scores_stay_in_range(s in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,12}){0,3}\\.(com|net|tk|co\\.uk|web\\.app)") {
        let index = shared();
        let mut d = Detector::new(index);
        if let Ok(Some(f)) = d.check(&s) {
            prop_assert!((0.0..=1.0).contains(&f.score));
            prop_assert!(!f.evidence.reasons.is_empty());
        }
    }

    #[test]
    fn own_domains_and_their_subdomains_are_never_reported(sub in "([a-z0-9-]{1,10}\\.){0,3}", brand in 0usize..4) {
        let own = ["paypal.com", "microsoft.com", "hmrc.gov.uk", "metamask.io"][brand];
        let index = shared();
        let mut d = Detector::new(index);
        let name = format!("{sub}{own}");
        prop_assert_eq!(d.check(&name).ok().flatten().map(|f| f.domain), None);
    }

    #[test]
    fn one_edit_of_a_long_brand_is_found(pos in 0usize..9, c in "[a-z]", op in 0usize..3) {
        let token = "microsoft";
        let mut label: Vec<u8> = token.as_bytes().to_vec();
        let ch = c.as_bytes()[0];
        match op {
            0 => label.insert(pos.max(1), ch),
            1 => { label.remove(pos.max(1)); }
            _ => label[pos.max(1)] = ch,
        }
        let label = String::from_utf8(label).unwrap_or_default();
        prop_assume!(label != token);
        let index = shared();
        let mut d = Detector::new(index);
        let name = format!("{label}.com");
        prop_assume!(!index.is_popular(&name));
        let f = d.check(&name).ok().flatten();
        prop_assert!(f.is_some(), "{} not found", name);
        prop_assert_eq!(f.map(|f| f.imitates), Some("microsoft.com".to_string()));
    }

    #[test]
    fn two_slips_of_a_long_brand_are_found(p1 in 1usize..12, p2 in 1usize..12, ops in (0usize..3, 0usize..3)) {
        // Slips: swap two neighbours, double a letter, drop a letter (a doubled and a
        // dropped letter together change the letters both ways, like a replacement:
        // not looked for).
        prop_assume!(!matches!(ops, (1, 2) | (2, 1)));
        let token = "bankofamerica";
        let mut label: Vec<u8> = token.as_bytes().to_vec();
        for (pos, op) in [(p1, ops.0), (p2, ops.1)] {
            let pos = pos.min(label.len() - 2);
            match op {
                0 => label.swap(pos, pos + 1),
                1 => label.insert(pos, label[pos]),
                _ => { label.remove(pos); }
            }
        }
        let label = String::from_utf8(label).unwrap_or_default();
        static INDEX: std::sync::OnceLock<accord_lookalike::Index> = std::sync::OnceLock::new();
        let index = INDEX.get_or_init(|| crate::techniques::index_with("bankofamerica.com\n", ""));
        let mut d = Detector::new(index);
        let name = format!("{label}.com");
        prop_assume!(label != token && !index.is_popular(&name));
        let f = d.check(&name).ok().flatten();
        prop_assert!(f.is_some(), "{} not found", name);
        if let Some(f) = f {
            prop_assert_eq!(f.imitates, "bankofamerica.com");
            prop_assert!(f.evidence.edit_distance.is_some_and(|e| e <= 3), "{:?}", f.evidence);
        }
    }
}
