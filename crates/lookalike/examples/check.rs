//! Check names from stdin against brands from a file: `cargo run --example check -- BRANDS < names`.
use accord_lookalike::{Detector, IndexBuilder, SuffixList};
use std::io::BufRead;
fn main() {
    let brands =
        std::fs::read_to_string(std::env::args().nth(1).unwrap_or_default()).unwrap_or_default();
    let mut b = IndexBuilder::new(SuffixList::Bundled);
    if let Err(e) = b.add_brands(&brands) {
        eprintln!("{e}");
        return;
    }
    b.add_popular(accord_lookalike::index::BUNDLED_POPULAR);
    let index = b.build();
    let mut d = Detector::new(&index);
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        match d.check(&line) {
            Ok(Some(f)) => println!("{}", serde_json::to_string(&f).unwrap_or_default()),
            Ok(None) => println!("-- {line}"),
            Err(e) => println!("!! {line}: {e}"),
        }
    }
}
