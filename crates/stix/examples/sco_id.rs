//! Reads SCOs as JSON, one per line, from standard input and prints the
//! deterministic id of each (`none` when the object has no ID contributing
//! property, `error: ...` when it cannot be computed). Used by
//! `scripts/interop-stix` to compare with the OASIS `stix2` library.

use std::io::{self, BufRead, Write};

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut out = io::BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(m)) => match accord_stix::sco_id(&m) {
                Ok(Some(id)) => id,
                Ok(None) => "none".to_owned(),
                Err(e) => format!("error: {e}"),
            },
            Ok(_) => "error: not a JSON object".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        writeln!(out, "{answer}")?;
    }
    out.flush()
}
