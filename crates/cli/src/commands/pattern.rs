//! `accord pattern check PATTERN` and `accord pattern match FILE PATTERN`.
//!
//! A thin shell over `accord_patterns`: it reads input, calls the library
//! and maps the outcome to the exit codes other tools rely on.
//!
//! - `check`: 0 if the pattern is valid STIX 2.1 patterning, 1 if not; the
//!   reason (rule, line and column) on stderr. Warnings (valid, but not
//!   following the specification or the STIX 2.1 vocabulary) go to stderr
//!   and do not change the exit code.
//! - `match`: FILE (`-` for stdin) is a JSON array of observed-data objects
//!   plus the SCOs they reference, or a STIX bundle. 0 if the pattern
//!   matches, 1 if it does not, 2 on an error (invalid pattern, unreadable or
//!   invalid data) with the reason on stderr.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use accord_patterns::{check as check_pattern, CompiledPattern, ObservedData};
use anyhow::Context as _;

/// `accord pattern check PATTERN`.
pub fn check(pattern: &str) -> ExitCode {
    let result = check_pattern(pattern);
    for d in &result.diagnostics {
        eprintln!("{d}");
    }
    if result.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `accord pattern match FILE PATTERN`.
pub fn match_observed(observed: &Path, pattern: &str) -> ExitCode {
    match run_match(observed, pattern) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_match(observed: &Path, pattern: &str) -> anyhow::Result<bool> {
    let compiled = CompiledPattern::compile(pattern)?;
    let text = read_input(observed)?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", observed.display()))?;
    let data = ObservedData::from_json(&json)?;
    Ok(compiled.matches(&data)?)
}

fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}
