//! Conformance with the OASIS reference tools: what is checked, and where
//! this crate deliberately differs.
//!
//! # How it is checked
//! - `cargo test -p accord-patterns` runs every case of the OASIS test
//!   suites (`stix2-patterns` 2.1.2: 104 validity cases; `stix2-matcher`
//!   3.0.0: 842 match cases, both STIX 2.0 and 2.1 layouts) from
//!   `fixtures/patterns/`, plus the edge-case corpus
//!   `fixtures/patterns/interop-corpus.json` with the outcomes the OASIS
//!   tools gave. All agree except the differences below.
//! - `scripts/interop-patterns [--random N]` runs the same through the
//!   `accord` binary and the Python tools live, optionally with N seeded
//!   random mutations (a differential test of grammar and evaluation).
//!
//! # Deliberate differences
//! Validity ([`crate::check`]) against `stix2-patterns`:
//! - A pattern starting with a comment (`/* c */ [a:b = 1]`) is valid: the
//!   grammar skips comments anywhere; the validator rejects any pattern
//!   whose first character other than space and `(` is not `[` (a shortcut
//!   it takes to improve one error message).
//! - Negative list indexes (`[a:b[-1] = 1]`) and an index after `hashes`
//!   (`[file:hashes[0] = 'x']`) are valid grammar; the validator crashes on
//!   them. An empty pattern is invalid; the validator crashes on it.
//! - Findings beyond the validator's (unknown object types and properties,
//!   impossible timestamps, `WITHIN 0`, ...) are warnings, so validity still
//!   agrees; see [`crate::semantic`].
//!
//! Evaluation ([`crate::CompiledPattern`]) against `stix2-matcher`:
//! - `MATCHES` uses the `regex` crate (linear time, no backtracking): Python
//!   `re` look-around, back-references and possessive quantifiers make the
//!   pattern fail to compile (an error, where Python matches); `$` matches
//!   only at the very end (Python also before a final newline). The check
//!   warns (`regex-syntax`) about expressions the evaluator cannot compile.
//! - `ISSUBSET` / `ISSUPERSET` also work on IPv6 (the matcher raises an
//!   error on IPv6 values); an IPv6 value against an IPv4 network is simply
//!   not contained.
//! - `EXISTS` / `NOT EXISTS` have their specified meaning (the matcher has
//!   no support of its own: `NOT EXISTS` acts as `EXISTS`, and `EXISTS`
//!   combined with `AND` raises an error).
//! - Integer literals beyond 128 bits are evaluated as floats, and JSON
//!   integers beyond 64 bits are read as floats (Python is exact).
//! - The search for observation bindings stops after
//!   [`crate::MAX_BINDING_STEPS`] steps with an error (Python runs on);
//!   patterns longer than [`crate::MAX_PATTERN_LEN`] or nested deeper than
//!   [`crate::MAX_NESTING_DEPTH`] are refused.
//! - Observed data: `first_observed` after `last_observed` is accepted as
//!   given (the matcher fails an assertion when a qualifier looks at it);
//!   a top-level SCO without `observed-data` in a STIX 2.0 array is accepted
//!   (the 2.0 matcher requires every element to be an observation).
