//! Check a plain list of names against a brands file and print the findings as the
//! CLI's `--json detect phishing` does (a JSON array, best score first), without the
//! node: `detect_list BRANDS FILE`. For iterating on the detector's rules with
//! `scripts/eval-phishing` (`ACCORD_BIN` pointing at a wrapper) without linking the CLI.
use accord_lookalike::{input, Detector, IndexBuilder, SuffixList};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [brands, file] = args.as_slice() else {
        eprintln!("usage: detect_list BRANDS FILE");
        std::process::exit(2);
    };
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut b = IndexBuilder::new(SuffixList::Bundled);
    b.add_brands(&read(brands))
        .unwrap_or_else(|e| panic!("{e}"));
    b.add_popular(accord_lookalike::index::BUNDLED_POPULAR);
    let index = b.build();
    let mut d = Detector::new(&index);
    let mut out = Vec::new();
    for line in read(file).lines() {
        let Some(name) = input::host_of_line(line) else {
            continue;
        };
        if let Ok(Some(f)) = d.check(name) {
            out.push(f);
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    println!("{}", serde_json::to_string(&out).unwrap_or_default());
}
