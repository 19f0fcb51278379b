//! Recognising patterns simple enough for compiled indicator matching.
//!
//! Most indicators are a disjunction of *atoms*: `[...] OR [...]`, each
//! bracket holding comparisons on one object, e.g.
//! `[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'example.com']`
//! or `[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']`.
//! Such a pattern matches observed data exactly when one of its atoms holds
//! for one object of one observation (no qualifiers, no cross-observation
//! operators), so a telemetry matcher can index the atoms (hash sets,
//! prefix tables) and skip the general evaluator.

use crate::ast::{Comparison, ComparisonExpr, ObservationExpr, Pattern};

/// One atom: comparisons that must all hold for one object of
/// `object_type` (an `AND` inside one `[...]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Atom<'p> {
    /// The object type every comparison of the atom names.
    pub object_type: &'p str,
    /// The comparisons, all on `object_type`, all required (one or more).
    pub comparisons: Vec<&'p Comparison>,
}

/// The atoms of `pattern` if it is a pure disjunction of atoms, else `None`.
///
/// Accepted: observation expressions joined by `OR` (parentheses allowed),
/// without qualifiers, `AND` or `FOLLOWEDBY` between observations; inside
/// each `[...]`, comparisons joined by `OR` of `AND`s (no parentheses
/// needed to express it), each `AND` group on a single object type.
/// `NOT` and every operator are allowed: the caller decides which
/// comparisons it can compile (see [`Comparison::op`] and
/// [`Comparison::operand`]).
///
/// ```
/// use accord_patterns::{atoms::atoms, ast::{CompOp, Literal, Operand}, parse};
///
/// let p = parse("[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'example.com']")?;
/// let a = atoms(&p).unwrap();
/// assert_eq!(a.len(), 2);
/// assert_eq!(a[1].object_type, "domain-name");
/// assert_eq!(a[1].comparisons[0].path.to_string(), "domain-name:value");
/// assert_eq!(a[1].comparisons[0].op, CompOp::Eq);
/// assert_eq!(a[1].comparisons[0].operand, Operand::Literal(Literal::String("example.com".into())));
///
/// let p = parse("[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']")?;
/// assert_eq!(atoms(&p).unwrap()[0].comparisons.len(), 2);
///
/// // Qualifiers and operators across observations are not atoms.
/// assert!(atoms(&parse("[url:value = 'http://a.example/'] REPEATS 2 TIMES")?).is_none());
/// assert!(atoms(&parse("[file:name = 'a'] AND [file:name = 'b']")?).is_none());
/// # Ok::<(), accord_patterns::ParseError>(())
/// ```
pub fn atoms(pattern: &Pattern) -> Option<Vec<Atom<'_>>> {
    let mut out = Vec::new();
    collect_observations(&pattern.expr, &mut out)?;
    Some(out)
}

/// Every comparison of the pattern, in source order.
///
/// ```
/// let p = accord_patterns::parse("[file:name = 'a' OR file:size > 10] FOLLOWEDBY [url:value = 'x']")?;
/// let paths: Vec<String> = accord_patterns::atoms::comparisons(&p).iter().map(|c| c.path.to_string()).collect();
/// assert_eq!(paths, ["file:name", "file:size", "url:value"]);
/// # Ok::<(), accord_patterns::ParseError>(())
/// ```
pub fn comparisons(pattern: &Pattern) -> Vec<&Comparison> {
    let mut out = Vec::new();
    pattern.expr.for_each_comparison(&mut |c| out.push(c));
    out
}

fn collect_observations<'p>(expr: &'p ObservationExpr, out: &mut Vec<Atom<'p>>) -> Option<()> {
    match expr {
        ObservationExpr::Observation { comparison, .. } => collect_disjuncts(comparison, out),
        ObservationExpr::Or(v) => v.iter().try_for_each(|e| collect_observations(e, out)),
        ObservationExpr::Group { expr, .. } => collect_observations(expr, out),
        ObservationExpr::And(_)
        | ObservationExpr::FollowedBy(_)
        | ObservationExpr::Qualified { .. } => None,
    }
}

fn collect_disjuncts<'p>(expr: &'p ComparisonExpr, out: &mut Vec<Atom<'p>>) -> Option<()> {
    match expr {
        ComparisonExpr::Or(v) => v.iter().try_for_each(|e| collect_disjuncts(e, out)),
        ComparisonExpr::Comparison(c) => {
            out.push(Atom {
                object_type: &c.path.object_type,
                comparisons: vec![c],
            });
            Some(())
        }
        ComparisonExpr::And(v) => {
            let mut comparisons = Vec::with_capacity(v.len());
            for e in v {
                match e {
                    ComparisonExpr::Comparison(c) => comparisons.push(c),
                    _ => return None,
                }
            }
            let object_type = comparisons.first()?.path.object_type.as_str();
            if comparisons
                .iter()
                .any(|c| c.path.object_type != object_type)
            {
                return None;
            }
            out.push(Atom {
                object_type,
                comparisons,
            });
            Some(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn count(src: &str) -> Option<usize> {
        let p = parse(src).unwrap();
        atoms(&p).map(|a| a.len())
    }

    #[test]
    fn shapes() {
        assert_eq!(count("[ipv4-addr:value ISSUBSET '10.0.0.0/8']"), Some(1));
        assert_eq!(count("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"), Some(1));
        assert_eq!(count("([a:b = 1] OR ([c:d = 2] OR [e:f = 3]))"), Some(3));
        assert_eq!(count("[a:b = 1 OR c:d = 2 AND c:e = 3]"), Some(2));
        assert_eq!(count("[(a:b = 1 OR a:c = 2) AND a:d = 3]"), None);
        assert_eq!(count("[a:b = 1 AND c:d = 2]"), None);
        assert_eq!(count("[a:b = 1] FOLLOWEDBY [a:b = 2]"), None);
        assert_eq!(count("([a:b = 1]) WITHIN 5 SECONDS"), None);
    }
}
