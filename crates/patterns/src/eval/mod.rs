//! Evaluation of patterns against observed data, with the semantics of the
//! OASIS reference matcher (`stix2-matcher`).
//!
//! [`CompiledPattern`] is built once per pattern (literals decoded, regular
//! expressions compiled, qualifiers checked) and evaluated against any
//! number of [`ObservedData`].
//!
//! Evaluation has two phases, as in the reference matcher:
//! 1. every comparison is evaluated against every object of every
//!    observation (so errors in the data are found the same way); a `[...]`
//!    holds for an observation when some object of the named type (the
//!    *root*) satisfies its comparison expression, where `AND` needs the
//!    same root on both sides;
//! 2. the observation expression is searched for a binding
//!    (module `bindings`).
//!
//! Modules (private; their documentation describes the semantics):
//! `data` (reading observed data), `paths` (object paths), `values` (the
//! type rules of comparisons), `compare` (operators), `ip`
//! (`ISSUBSET`/`ISSUPERSET`), `bindings` (observation expressions and
//! qualifiers).

pub(crate) mod bindings;
pub(crate) mod compare;
pub(crate) mod data;
pub(crate) mod ip;
pub(crate) mod paths;
pub(crate) mod values;

use bindings::{Node, Qual, Search};
use compare::Test;
use data::{Layout, Observation, NON_SCO_TYPES_V21};

use crate::ast::{ComparisonExpr, ObjectPath, ObservationExpr, PathStep, Pattern, Qualifier, Span};
use crate::error::{EvalError, Position};
use values::Val;

pub use data::ObservedData;

/// A pattern prepared for evaluation.
///
/// ```
/// use accord_patterns::{CompiledPattern, ObservedData};
/// use serde_json::json;
///
/// let pattern = CompiledPattern::compile("[domain-name:value = 'example.com'] REPEATS 2 TIMES")?;
/// let observations = json!([
///     {"type": "observed-data", "id": "observed-data--1", "number_observed": 2,
///      "first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:05:00Z",
///      "object_refs": ["domain-name--1"]},
///     {"type": "domain-name", "id": "domain-name--1", "value": "example.com"}
/// ]);
/// let data = ObservedData::from_json(&observations)?;
/// assert!(pattern.matches(&data)?);
/// # Ok::<(), accord_patterns::EvalError>(())
/// ```
#[derive(Debug)]
pub struct CompiledPattern {
    leaves: Vec<CompiledComparison>,
    root: Node,
}

/// A compiled comparison expression (the inside of one `[...]`).
#[derive(Debug)]
enum CompiledComparison {
    Test {
        path: ObjectPath,
        test: Test,
        /// The path is plain keys (see [`plain_lookup`]).
        plain: bool,
    },
    And(Vec<CompiledComparison>),
    Or(Vec<CompiledComparison>),
}

/// Microseconds in a second, for `WITHIN`.
const MICROS_PER_SECOND: f64 = 1_000_000.0;

impl CompiledPattern {
    /// Parses and compiles pattern text.
    pub fn compile(src: &str) -> Result<CompiledPattern, EvalError> {
        let pattern = crate::parse(src)?;
        CompiledPattern::new(&pattern, src)
    }

    /// Compiles a parsed pattern. `src` is the text it was parsed from
    /// (used for positions in errors; may be empty).
    pub fn new(pattern: &Pattern, src: &str) -> Result<CompiledPattern, EvalError> {
        let mut leaves = Vec::new();
        let root = compile_obs(&pattern.expr, src, &mut leaves)?;
        Ok(CompiledPattern { leaves, root })
    }

    /// Whether the pattern matches the observed data.
    ///
    /// Errors are the cases in which the OASIS matcher raises an exception:
    /// a value that must be read as a timestamp or IP address and is not,
    /// an undecodable `*_hex`/`*_bin` property, a malformed reference.
    pub fn matches(&self, data: &ObservedData<'_>) -> Result<bool, EvalError> {
        let obs = &data.observations;
        let mut leaf_matches = Vec::with_capacity(self.leaves.len());
        for leaf in &self.leaves {
            let mut matching = Vec::new();
            for (i, o) in obs.iter().enumerate() {
                if eval_comparison(leaf, o)?.any() {
                    matching.push(i as u32);
                }
            }
            leaf_matches.push(matching);
        }
        Search::new(obs, &leaf_matches).any(&self.root)
    }
}

fn pattern_error(code: &'static str, message: String, src: &str, span: Span) -> EvalError {
    EvalError::Pattern {
        code,
        message,
        position: Position::of(src, span.start),
    }
}

fn compile_obs(
    expr: &ObservationExpr,
    src: &str,
    leaves: &mut Vec<CompiledComparison>,
) -> Result<Node, EvalError> {
    let all = |v: &[ObservationExpr], leaves: &mut Vec<CompiledComparison>| {
        v.iter()
            .map(|e| compile_obs(e, src, leaves))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match expr {
        ObservationExpr::Observation { comparison, .. } => {
            leaves.push(compile_comparison(comparison, src)?);
            Node::Leaf(leaves.len() - 1)
        }
        ObservationExpr::And(v) => Node::And(all(v, leaves)?),
        ObservationExpr::Or(v) => Node::Or(all(v, leaves)?),
        ObservationExpr::FollowedBy(v) => Node::FollowedBy(all(v, leaves)?),
        ObservationExpr::Group { expr, .. } => compile_obs(expr, src, leaves)?,
        ObservationExpr::Qualified { expr, qualifiers } => {
            let inner = compile_obs(expr, src, leaves)?;
            let quals = qualifiers
                .iter()
                .map(|q| compile_qualifier(q, src))
                .collect::<Result<_, _>>()?;
            Node::Qualified(Box::new(inner), quals)
        }
    })
}

fn compile_qualifier(q: &Qualifier, src: &str) -> Result<Qual, EvalError> {
    match q {
        Qualifier::Within {
            seconds,
            text,
            span,
        } => {
            if seconds.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                return Err(pattern_error(
                    "within-value",
                    format!("WITHIN must be positive, found {text}"),
                    src,
                    *span,
                ));
            }
            let micros = (seconds * MICROS_PER_SECOND).round();
            // Saturate: a window beyond the representable range holds always.
            Ok(Qual::Within(if micros >= i64::MAX as f64 {
                i64::MAX
            } else {
                micros as i64
            }))
        }
        Qualifier::Repeats { times, span } => {
            if *times == 0 {
                return Err(pattern_error(
                    "repeats-value",
                    "REPEATS must be at least 1".into(),
                    src,
                    *span,
                ));
            }
            Ok(Qual::Repeats(*times))
        }
        Qualifier::StartStop { start, stop, span } => {
            let instant = |t: &crate::Timestamp| {
                t.micros().ok_or_else(|| {
                    pattern_error(
                        "timestamp-value",
                        format!("timestamp t'{}' names no real instant", t.text()),
                        src,
                        *span,
                    )
                })
            };
            Ok(Qual::StartStop(instant(start)?, instant(stop)?))
        }
    }
}

fn compile_comparison(expr: &ComparisonExpr, src: &str) -> Result<CompiledComparison, EvalError> {
    let all = |v: &[ComparisonExpr]| {
        v.iter()
            .map(|e| compile_comparison(e, src))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match expr {
        ComparisonExpr::Comparison(c) => CompiledComparison::Test {
            plain: is_plain(&c.path.steps),
            path: c.path.clone(),
            test: Test::compile(c.op, &c.operand, c.negated)
                .map_err(|(code, message)| pattern_error(code, message, src, c.span))?,
        },
        ComparisonExpr::And(v) => CompiledComparison::And(all(v)?),
        ComparisonExpr::Or(v) => CompiledComparison::Or(all(v)?),
    })
}

/// The set of root objects (indexes into an observation's objects) that
/// satisfy a comparison expression; inline for up to 64 objects.
enum Roots {
    Small(u64),
    Large(Vec<u64>),
}

impl Roots {
    fn empty(n: usize) -> Roots {
        if n <= 64 {
            Roots::Small(0)
        } else {
            Roots::Large(vec![0; n.div_ceil(64)])
        }
    }

    fn insert(&mut self, i: usize) {
        match self {
            Roots::Small(w) => *w |= 1 << (i % 64),
            Roots::Large(v) => v[i / 64] |= 1 << (i % 64),
        }
    }

    fn any(&self) -> bool {
        match self {
            Roots::Small(w) => *w != 0,
            Roots::Large(v) => v.iter().any(|w| *w != 0),
        }
    }

    fn combine(&mut self, other: &Roots, and: bool) {
        let op = |a: &mut u64, b: u64| if and { *a &= b } else { *a |= b };
        match (self, other) {
            (Roots::Small(a), Roots::Small(b)) => op(a, *b),
            (Roots::Large(a), Roots::Large(b)) => a.iter_mut().zip(b).for_each(|(a, b)| op(a, *b)),
            // Both sets come from the same observation, so same size.
            _ => {}
        }
    }
}

/// The value a path of plain keys selects (no list steps, no references,
/// no `*_hex`/`*_bin` decoding): the common case, without allocation.
fn plain_lookup<'a>(
    root: &'a serde_json::Value,
    steps: &[PathStep],
) -> Option<&'a serde_json::Value> {
    let mut v = root;
    for step in steps {
        let PathStep::Key(k) = step else { return None };
        v = values::get_in(v, k)?;
    }
    Some(v)
}

fn is_plain(steps: &[PathStep]) -> bool {
    steps.iter().all(|s| match s {
        PathStep::Key(k) => !["_ref", "_refs", "_hex", "_bin"]
            .iter()
            .any(|suffix| k.ends_with(suffix)),
        _ => false,
    })
}

/// Evaluates a comparison expression on every root object of `obs` (all
/// operands, as the reference matcher does, so data errors surface alike).
fn eval_comparison(c: &CompiledComparison, obs: &Observation<'_>) -> Result<Roots, EvalError> {
    match c {
        CompiledComparison::Test { path, test, plain } => {
            let mut roots = Roots::empty(obs.objects.len());
            let skip = obs.layout == Layout::Referenced
                && NON_SCO_TYPES_V21.contains(&path.object_type.as_str());
            if skip {
                return Ok(roots);
            }
            for (i, object) in obs.objects.iter().enumerate() {
                if object.ty != Some(path.object_type.as_str()) {
                    continue;
                }
                let holds = if *plain {
                    match plain_lookup(object.value, &path.steps) {
                        Some(v) => test.holds_any(&[Val::Json(v)]),
                        None => test.holds_any(&[]),
                    }
                } else {
                    test.holds_any(&paths::select(object.value, &path.steps, obs)?)
                };
                let holds =
                    holds.map_err(|message| EvalError::data("comparison", obs.id, message))?;
                if holds {
                    roots.insert(i);
                }
            }
            Ok(roots)
        }
        CompiledComparison::And(v) | CompiledComparison::Or(v) => {
            let is_and = matches!(c, CompiledComparison::And(_));
            let mut acc: Option<Roots> = None;
            for e in v {
                let r = eval_comparison(e, obs)?;
                match acc.as_mut() {
                    None => acc = Some(r),
                    Some(a) => a.combine(&r, is_and),
                }
            }
            Ok(acc.unwrap_or_else(|| Roots::empty(obs.objects.len())))
        }
    }
}
