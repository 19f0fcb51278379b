//! Semantic checks of a parsed pattern.
//!
//! Two severities, so that validity agrees with the OASIS validator
//! (`stix2-patterns`) while more is reported:
//!
//! Errors (the OASIS validator rejects these patterns too):
//! - `syntax`, `too-long`, `too-deep`: the text does not parse;
//! - `duplicate-qualifier`: two qualifiers of one kind applied directly to
//!   one `[...]` (e.g. `[..] WITHIN 5 SECONDS WITHIN 6 SECONDS`); a
//!   parenthesised group may repeat a kind, as in the OASIS validator;
//! - `hash-format`: a comparison on `...hashes.<algorithm>` whose operand is
//!   not a well-formed hash for a known algorithm (MD5, SHA-1, SHA-256, ...;
//!   the algorithm name is matched case-insensitively without `-`, the
//!   operand as written without quotes), as the OASIS validator checks it.
//!
//! Warnings (valid patterns, but against the specification or vocabulary,
//! or patterns the reference matcher cannot evaluate):
//! - `unknown-object-type`: not a STIX 2.1 cyber-observable type and not a
//!   custom `x-` type; `domain-object-type`: a STIX domain object type (the
//!   2.1 matcher never matches those); `invalid-type-name`: not a valid
//!   type name (lower case, digits, single hyphens, 3 to 250 characters);
//! - `unknown-property`: not a property of that STIX 2.1 type and not a
//!   custom `x_` property;
//! - `unknown-hash-algorithm`: a `hashes` key outside `hash-algorithm-ov`;
//! - `timestamp-value`: a timestamp literal naming no real instant
//!   (February 30, second 60);
//! - `start-stop-order`: `START` not before `STOP` (never matches);
//! - `within-value` / `repeats-value`: `WITHIN 0 SECONDS` / `REPEATS 0
//!   TIMES` (must be positive);
//! - `regex-syntax`: a `MATCHES` operand the evaluator cannot compile;
//! - `cidr-format`: an `ISSUBSET`/`ISSUPERSET` operand that is not an IP
//!   network / address;
//! - `set-types`: an `IN` set mixing types (other than integers and floats);
//! - `and-different-types`: comparisons on different object types joined
//!   by `AND` in one `[...]` (they can never hold for one object);
//! - `number-range`: an integer literal beyond 128 bits (evaluated as an
//!   approximate float).

use crate::ast::{
    CompOp, Comparison, ComparisonExpr, Literal, ObservationExpr, Operand, PathStep, Pattern,
    Qualifier,
};
use crate::error::{Diagnostic, ParseError, ParseErrorKind, Position, Severity, Span};
use crate::eval::ip;
use crate::lexer::{tokenize, TokenKind};
use crate::vocab;

/// The outcome of [`check`]: the parsed pattern (if it parses) and every
/// finding.
#[derive(Debug, Clone)]
pub struct Check {
    /// The pattern, when the text parses.
    pub pattern: Option<Pattern>,
    /// Errors and warnings, errors first, each group in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Check {
    /// Whether the pattern is valid STIX 2.1 patterning (no errors;
    /// warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.pattern.is_some() && self.errors().next().is_none()
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}

/// Parses `src` and runs every check.
///
/// ```
/// use accord_patterns::check;
///
/// let c = check("[file:hashes.'SHA-256' = 'f00']");
/// assert!(!c.is_valid());
/// assert_eq!(c.errors().next().unwrap().code, "hash-format");
///
/// let c = check("[x-acme-widget:colour = 'red'] WITHIN 0 SECONDS");
/// assert!(c.is_valid());
/// assert_eq!(c.warnings().map(|d| d.code).collect::<Vec<_>>(), ["within-value"]);
/// ```
pub fn check(src: &str) -> Check {
    match crate::parse(src) {
        Ok(pattern) => {
            let diagnostics = check_pattern(&pattern, src);
            Check {
                pattern: Some(pattern),
                diagnostics,
            }
        }
        Err(e) => Check {
            pattern: None,
            diagnostics: vec![syntax_diagnostic(&e)],
        },
    }
}

fn syntax_diagnostic(e: &ParseError) -> Diagnostic {
    let code = match e.kind {
        ParseErrorKind::TooLong { .. } => "too-long",
        ParseErrorKind::TooDeep => "too-deep",
        _ => "syntax",
    };
    Diagnostic {
        severity: Severity::Error,
        code,
        message: e.message.clone(),
        span: e.span,
        position: e.position,
    }
}

/// Runs the semantic checks on a parsed pattern (`src` is its text, for
/// positions and for the hash check, which looks at operands as written).
///
/// ```
/// let src = "[file:hashes.MD5 = 'abc'] REPEATS 0 TIMES";
/// let pattern = accord_patterns::parse(src)?;
/// let codes: Vec<_> = accord_patterns::semantic::check_pattern(&pattern, src)
///     .iter().map(|d| d.code).collect();
/// assert_eq!(codes, ["hash-format", "repeats-value"]);
/// # Ok::<(), accord_patterns::ParseError>(())
/// ```
pub fn check_pattern(pattern: &Pattern, src: &str) -> Vec<Diagnostic> {
    let mut c = Checker {
        src,
        out: Vec::new(),
    };
    c.observation(&pattern.expr);
    let mut out = c.out;
    // Errors first; stable, so each group stays in source order.
    out.sort_by_key(|d| std::cmp::Reverse(d.severity));
    out
}

struct Checker<'s> {
    src: &'s str,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn report(&mut self, severity: Severity, code: &'static str, span: Span, message: String) {
        self.out.push(Diagnostic {
            severity,
            code,
            message,
            span,
            position: Position::of(self.src, span.start),
        });
    }

    fn warn(&mut self, code: &'static str, span: Span, message: String) {
        self.report(Severity::Warning, code, span, message);
    }

    fn observation(&mut self, expr: &ObservationExpr) {
        match expr {
            ObservationExpr::Observation { comparison, .. } => {
                self.comparison_expr(comparison);
                self.and_types(comparison);
            }
            ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
                v.iter().for_each(|e| self.observation(e))
            }
            ObservationExpr::Group { expr, .. } => self.observation(expr),
            ObservationExpr::Qualified { expr, qualifiers } => {
                self.observation(expr);
                if matches!(**expr, ObservationExpr::Observation { .. }) {
                    self.duplicate_qualifiers(qualifiers);
                }
                qualifiers.iter().for_each(|q| self.qualifier(q));
            }
        }
    }

    fn duplicate_qualifiers(&mut self, qualifiers: &[Qualifier]) {
        for (i, q) in qualifiers.iter().enumerate() {
            if qualifiers[..i].iter().any(|p| p.keyword() == q.keyword()) {
                let kind = if q.keyword() == "START" {
                    "START/STOP"
                } else {
                    q.keyword()
                };
                self.report(
                    Severity::Error,
                    "duplicate-qualifier",
                    q.span(),
                    format!("duplicate qualifier {kind} on one observation expression"),
                );
            }
        }
    }

    fn qualifier(&mut self, q: &Qualifier) {
        match q {
            Qualifier::Within {
                seconds,
                text,
                span,
            } if *seconds <= 0.0 => self.warn(
                "within-value",
                *span,
                format!("WITHIN {text} SECONDS: the window must be positive"),
            ),
            Qualifier::Repeats { times: 0, span } => self.warn(
                "repeats-value",
                *span,
                "REPEATS 0 TIMES: the count must be positive".into(),
            ),
            Qualifier::StartStop { start, stop, span } => {
                for t in [start, stop] {
                    if t.micros().is_none() {
                        self.warn(
                            "timestamp-value",
                            *span,
                            format!("t'{}' is not a real date and time", t.text()),
                        );
                    }
                }
                if let (Some(a), Some(b)) = (start.micros(), stop.micros()) {
                    if a >= b {
                        self.warn(
                            "start-stop-order",
                            *span,
                            "START is not before STOP: the qualifier never holds".into(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn comparison_expr(&mut self, expr: &ComparisonExpr) {
        expr.for_each_comparison(&mut |c| self.comparison(c));
    }

    fn comparison(&mut self, c: &Comparison) {
        self.object_type(c);
        self.hashes(c);
        let literals: Vec<&Literal> = match &c.operand {
            Operand::Literal(l) => vec![l],
            Operand::Set(v) => v.iter().collect(),
            Operand::None => Vec::new(),
        };
        self.number_range(c);
        for l in &literals {
            if let Literal::Timestamp(t) = l {
                if t.micros().is_none() {
                    self.warn(
                        "timestamp-value",
                        c.operand_span,
                        format!("t'{}' is not a real date and time", t.text()),
                    );
                }
            }
        }
        match (c.op, &c.operand) {
            (CompOp::Matches, Operand::Literal(Literal::String(re))) => {
                if let Err(e) = regex::Regex::new(re) {
                    let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                    self.warn(
                        "regex-syntax",
                        c.operand_span,
                        format!("the regular expression cannot be evaluated: {first}"),
                    );
                }
            }
            (CompOp::IsSubset, Operand::Literal(Literal::String(s)))
                if ip::parse_network(s).is_none() =>
            {
                self.warn(
                    "cidr-format",
                    c.operand_span,
                    format!("'{s}' is not an IP network in CIDR notation"),
                )
            }
            (CompOp::IsSuperset, Operand::Literal(Literal::String(s)))
                if ip::parse_member(s).is_none() =>
            {
                self.warn(
                    "cidr-format",
                    c.operand_span,
                    format!("'{s}' is not an IP address or network"),
                )
            }
            (CompOp::In, Operand::Set(items)) => {
                let kind = |l: &Literal| match l {
                    Literal::Int(_) | Literal::Float(_) => "number",
                    Literal::Binary(_) | Literal::Hex(_) => "binary",
                    other => other.type_name(),
                };
                if items.windows(2).any(|w| kind(&w[0]) != kind(&w[1])) {
                    self.warn(
                        "set-types",
                        c.operand_span,
                        "the members of the set have different types".into(),
                    );
                }
            }
            _ => {}
        }
    }

    /// Integer literals beyond 128 bits are evaluated as floats.
    fn number_range(&mut self, c: &Comparison) {
        let text = operand_text(self.src, c.operand_span);
        let long_integer = tokenize(&text).iter().any(|t| {
            matches!(t.kind, TokenKind::IntPos | TokenKind::IntNeg)
                && t.text.trim_start_matches('+').parse::<i128>().is_err()
        });
        if long_integer {
            self.warn(
                "number-range",
                c.operand_span,
                "an integer literal beyond 128 bits is evaluated as an approximate float".into(),
            );
        }
    }

    fn object_type(&mut self, c: &Comparison) {
        let ty = c.path.object_type.as_str();
        let span = c.path.span;
        if let Some(props) = vocab::sco_properties(ty) {
            let prop = c.path.property();
            let known = props.contains(&prop) || vocab::COMMON_SCO_PROPERTIES.contains(&prop);
            if !known && !prop.starts_with("x_") {
                self.warn("unknown-property", span, format!("'{prop}' is not a property of STIX 2.1 '{ty}' (custom properties start with 'x_')"));
            }
        } else if crate::eval::data::NON_SCO_TYPES_V21.contains(&ty) {
            self.warn(
                "domain-object-type",
                span,
                format!(
                    "'{ty}' is a STIX domain object type; patterns match cyber-observable objects"
                ),
            );
        } else if !valid_type_name(ty) {
            self.warn("invalid-type-name", span, format!("'{ty}' is not a valid object type name (lower case letters, digits and single hyphens, 3 to 250 characters)"));
        } else if !ty.starts_with("x-") {
            self.warn("unknown-object-type", span, format!("'{ty}' is not a STIX 2.1 cyber-observable object type (custom types start with 'x-')"));
        }
    }

    /// The OASIS validator's hash check, plus the vocabulary warning.
    fn hashes(&mut self, c: &Comparison) {
        let steps = &c.path.steps;
        let in_hashes = steps
            .iter()
            .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"));
        let Some(PathStep::Key(algorithm)) = steps.last() else {
            return;
        };
        if !in_hashes || algorithm == "hashes" {
            return;
        }
        if steps.len() >= 2
            && matches!(&steps[steps.len() - 2], PathStep::Key(k) if k == "hashes")
            && !vocab::HASH_ALGORITHMS.contains(&algorithm.as_str())
            && !algorithm.starts_with("x_")
        {
            self.warn(
                "unknown-hash-algorithm",
                c.path.span,
                format!(
                    "'{algorithm}' is not in hash-algorithm-ov ({})",
                    vocab::HASH_ALGORITHMS.join(", ")
                ),
            );
        }
        if c.op == CompOp::Exists {
            return;
        }
        let normalized: String = algorithm
            .to_uppercase()
            .chars()
            .filter(|ch| *ch != '-' && *ch != '\'')
            .collect();
        let written = operand_text(self.src, c.operand_span).replace('\'', "");
        if let Some(false) = hash_format_ok(&normalized, &written) {
            self.report(
                Severity::Error,
                "hash-format",
                c.operand_span,
                format!("'{written}' is not a valid {algorithm} hash"),
            );
        }
    }

    /// Within one `[...]`, `AND` of comparisons on different object types
    /// can never hold for one object.
    fn and_types(&mut self, expr: &ComparisonExpr) {
        match expr {
            ComparisonExpr::Comparison(_) => {}
            ComparisonExpr::Or(v) => v.iter().for_each(|e| self.and_types(e)),
            ComparisonExpr::And(v) => {
                let mut types = Vec::new();
                for e in v {
                    let mut t = Vec::new();
                    e.for_each_comparison(&mut |c| t.push(c.path.object_type.clone()));
                    t.sort();
                    t.dedup();
                    types.push((t, e));
                }
                // Each operand must share a type with the others; report
                // the first operand whose types are disjoint from the first's.
                let first = types.first().map(|(t, _)| t.clone()).unwrap_or_default();
                for (t, e) in &types[1..] {
                    if !t.iter().any(|x| first.contains(x)) {
                        let span = first_span(e);
                        self.warn(
                            "and-different-types",
                            span,
                            format!("comparisons on '{}' and '{}' joined by AND never hold for the same object", first.join("', '"), t.join("', '")),
                        );
                        break;
                    }
                }
                v.iter().for_each(|e| self.and_types(e));
            }
        }
    }
}

fn first_span(e: &ComparisonExpr) -> Span {
    let mut span = None;
    e.for_each_comparison(&mut |c| {
        span.get_or_insert(c.span);
    });
    span.unwrap_or_default()
}

/// The operand as the OASIS validator sees it: its tokens concatenated
/// without whitespace or comments (ANTLR `getText`).
fn operand_text(src: &str, span: Span) -> String {
    let text = src.get(span.start..span.end).unwrap_or_default();
    tokenize(text)
        .iter()
        .filter(|t| t.kind != TokenKind::Eof)
        .map(|t| t.text)
        .collect()
}

fn valid_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Whether `value` is a well-formed hash of `algorithm` (upper case, no
/// `-`), with the regular expressions of the OASIS validator; `None` for
/// algorithms it does not know. As with Python's `re.match(...$)`, one
/// trailing newline is tolerated.
fn hash_format_ok(algorithm: &str, value: &str) -> Option<bool> {
    let value = value.strip_suffix('\n').unwrap_or(value);
    let hex_len = |n: usize| value.len() == n && value.bytes().all(|c| c.is_ascii_hexdigit());
    Some(match algorithm {
        "MD5" => hex_len(32),
        // The validator's MD6 expression only anchors its first alternative:
        // any value starting with 32 hex digits passes.
        "MD6" => value.len() >= 32 && value.as_bytes()[..32].iter().all(u8::is_ascii_hexdigit),
        "RIPEMD160" | "SHA1" => hex_len(40),
        "SHA224" | "SHA3224" => hex_len(56),
        "SHA256" | "SHA3256" => hex_len(64),
        "SHA384" | "SHA3384" => hex_len(96),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => hex_len(128),
        "SSDEEP" => {
            (1..=128).contains(&value.chars().count())
                && value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b':' | b'.'))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<&'static str> {
        check(src).diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn oasis_errors() {
        assert_eq!(codes("[file:hashes.'SHA-256' = 'f00']"), ["hash-format"]);
        assert_eq!(
            codes("[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f')]"),
            ["hash-format"]
        );
        assert_eq!(
            codes("[file:hashes.MD6 = 'cead3f77f6cda6ec00f57d76c9a6879fzz']"),
            ["unknown-hash-algorithm"]
        );
        assert_eq!(
            codes("[x-a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES WITHIN 1 SECONDS"),
            ["duplicate-qualifier"]
        );
        assert!(codes("([x-a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS").is_empty());
        assert_eq!(codes("[x-a:b = ]"), ["syntax"]);
    }

    #[test]
    fn warnings_keep_pattern_valid() {
        let c = check("[indicator:name = 'x' AND file:name = 'y'] START t'2020-01-01T00:00:00Z' STOP t'2019-01-01T00:00:00Z'");
        assert!(c.is_valid());
        let got: Vec<_> = c.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            got,
            [
                "domain-object-type",
                "and-different-types",
                "start-stop-order"
            ]
        );
        assert_eq!(codes("[file:nme = 'a' AND file:hashes.sha256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"), ["unknown-property", "unknown-hash-algorithm"]);
        assert_eq!(codes("[Bad_Type:a = 1]"), ["invalid-type-name"]);
        assert_eq!(codes("[foo:a = 1]"), ["unknown-object-type"]);
        assert_eq!(codes("[x-foo:a MATCHES '(?<=a)b' OR x-foo:a ISSUBSET '10.0.0.0/33' OR x-foo:a IN (1, 'a')]"), ["regex-syntax", "cidr-format", "set-types"]);
        assert_eq!(
            codes("[x-foo:a = t'2023-02-29T00:00:00Z']"),
            ["timestamp-value"]
        );
    }
}
