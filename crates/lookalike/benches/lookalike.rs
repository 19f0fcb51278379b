//! `cargo bench -p accord-lookalike`: one check per name kind, against a small index.
use accord_lookalike::{Detector, Index, IndexBuilder, SuffixList};
use std::sync::OnceLock;

fn main() {
    divan::main();
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut b = IndexBuilder::new(SuffixList::Bundled);
        let _ = b.add_brands("paypal.com\nmicrosoft.com\ndhl.com\nhmrc.gov.uk\nmetamask.io\n");
        b.add_popular(accord_lookalike::index::BUNDLED_POPULAR);
        b.build()
    })
}

#[divan::bench(args = ["www.example.org", "cdn-17.assets.shop-example.net", "paypal-login-secure.com", "paypal.com.verify.tk", "xn--pypal-4ve.com"])]
fn check(bencher: divan::Bencher, name: &str) {
    let mut d = Detector::new(index());
    bencher.bench_local(|| d.check(divan::black_box(name)).ok().flatten().is_some());
}
