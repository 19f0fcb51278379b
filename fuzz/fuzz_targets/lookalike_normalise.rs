//! The look-alike engine on hostile names: overlong labels, invalid punycode, mixed
//! scripts, thousands of labels. Every input is either refused with a reason (a rule
//! code) or normalised within the documented limits and checked; nothing panics.
#![no_main]

use std::sync::OnceLock;

use accord_lookalike::normalise::{MAX_DOMAIN_LEN, MAX_LABELS, MAX_LABEL_LEN};
use accord_lookalike::{Detector, Index, IndexBuilder, Normaliser, SuffixList};
use libfuzzer_sys::fuzz_target;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut b = IndexBuilder::new(SuffixList::Bundled);
        let _ = b.add_brands(
            "paypal.com\nhmrc.gov.uk\ngov.uk\ndhl.com\nmicrosoft.com\nservice-public.fr\nbankofamerica.com\n",
        );
        b.build()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut n = Normaliser::new();
    match n.normalise(text, &SuffixList::Bundled) {
        Ok(d) => {
            assert!(d.ascii.len() <= MAX_DOMAIN_LEN);
            assert!(d.ascii.split('.').count() <= MAX_LABELS);
            assert!(d.ascii.split('.').all(|l| !l.is_empty() && l.len() <= MAX_LABEL_LEN));
            assert!(d.ascii.is_ascii());
            let _ = d.registrable();
            let _ = d.suffix();
        }
        Err(refusal) => assert!(!refusal.rule().is_empty()),
    }
    let mut det = Detector::new(index());
    if let Ok(Some(f)) = det.check(text) {
        assert!((0.0..=1.0).contains(&f.score));
        let _ = serde_json::to_string(&f);
    }
    // The same bytes as a list of many labels.
    let many = format!("{}.com", text.replace('\n', ".").repeat(3));
    let _ = det.check(&many);
});
