//! Compiling indicators: reduce each pattern to atoms where possible, keep the rest for
//! the pattern engine, and drop what can never match.

use std::collections::HashMap;

use accord_telemetry::Micros;

use crate::fallback::FallbackRule;
use crate::indicator::IndicatorInput;
use crate::matcher::{Matcher, MatcherSizes};
use crate::reduce;

/// What the detector keeps of an indicator.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub id: Box<str>,
    pub valid_from: Micros,
    /// Exclusive; `Micros::MAX` when open.
    pub valid_until: Micros,
}

impl Meta {
    #[inline]
    pub fn valid_at(&self, t: Micros) -> bool {
        t >= self.valid_from && t < self.valid_until
    }
}

/// An indicator that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The indicator id.
    pub id: String,
    /// Why (the pattern parser's message, naming the position).
    pub reason: String,
}

/// What compiling found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileReport {
    /// Indicators given.
    pub received: usize,
    /// Older versions dropped because a later `modified` of the same id was given.
    pub superseded: usize,
    /// Revoked indicators (never match).
    pub revoked: usize,
    /// Indicators whose validity window is empty (`valid_until <= valid_from`).
    pub never_valid: usize,
    /// Indicators compiled into the flat structures.
    pub compiled: usize,
    /// Atoms compiled (an indicator may have several).
    pub atoms: usize,
    /// Indicators left to the pattern engine.
    pub fallback: usize,
    /// Fallback indicators naming no object type that telemetry yields (`file`,
    /// `process`, ...): they can never match a record and are not evaluated.
    pub unreachable: usize,
    /// Fallback counts per reason code (e.g. `observation-operator`).
    pub fallback_reasons: Vec<(&'static str, usize)>,
    /// Indicators whose pattern does not parse.
    pub rejected: Vec<Rejected>,
    /// Sizes of the compiled structures.
    pub sizes: MatcherSizes,
}

/// Compiled indicators, ready for a [`Detector`](crate::Detector).
#[derive(Debug)]
pub struct Ruleset {
    pub(crate) matcher: Matcher,
    pub(crate) meta: Vec<Meta>,
    pub(crate) fallback: Vec<FallbackRule>,
    report: CompileReport,
}

impl Ruleset {
    /// Compiles indicators. Bad patterns are reported, not fatal.
    ///
    /// ```
    /// use accord_match::{IndicatorInput, Ruleset};
    /// let ind = |id: &str, p: &str| IndicatorInput {
    ///     id: id.into(), pattern: p.into(), valid_from: 0, valid_until: None, revoked: false, modified: 0,
    /// };
    /// let rules = Ruleset::compile(vec![
    ///     ind("indicator--1", "[ipv4-addr:value = '192.0.2.1']"),
    ///     ind("indicator--2", "[ipv4-addr:value = '192.0.2.1'"),
    /// ]);
    /// assert_eq!(rules.report().compiled, 1);
    /// assert_eq!(rules.report().rejected.len(), 1);
    /// ```
    pub fn compile(indicators: impl IntoIterator<Item = IndicatorInput>) -> Ruleset {
        let mut report = CompileReport::default();
        let mut inputs: Vec<IndicatorInput> = indicators.into_iter().collect();
        report.received = inputs.len();
        // Sorting by id (then `modified`) finds the latest version of each id without
        // hashing a million strings, and gives compiled indices, and so the output, a
        // reproducible order.
        inputs.sort_unstable_by(|a, b| a.id.cmp(&b.id).then(a.modified.cmp(&b.modified)));
        let mut latest: Vec<IndicatorInput> = Vec::with_capacity(inputs.len());
        for ind in inputs {
            match latest.last_mut() {
                Some(prev) if prev.id == ind.id => {
                    report.superseded += 1;
                    *prev = ind;
                }
                _ => latest.push(ind),
            }
        }
        let inputs = latest;
        let mut atoms = Vec::new();
        let mut meta = Vec::new();
        let mut fallback = Vec::new();
        let mut reasons: HashMap<&'static str, usize> = HashMap::new();
        for ind in inputs {
            if ind.revoked {
                report.revoked += 1;
                continue;
            }
            let valid_until = ind.valid_until.unwrap_or(Micros::MAX);
            if valid_until <= ind.valid_from {
                report.never_valid += 1;
                continue;
            }
            let pattern = match accord_patterns::parse(&ind.pattern) {
                Ok(p) => p,
                Err(e) => {
                    report.rejected.push(Rejected {
                        id: ind.id,
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let index = meta.len() as u32;
            match reduce::reduce(&pattern) {
                Ok(found) => {
                    report.compiled += 1;
                    report.atoms += found.len();
                    atoms.extend(found.into_iter().map(|a| (a, index)));
                }
                Err(reason) => match FallbackRule::new(index, &pattern, &ind.pattern) {
                    Ok(rule) => {
                        report.fallback += 1;
                        *reasons.entry(reason).or_default() += 1;
                        if rule.unreachable() {
                            report.unreachable += 1;
                        } else {
                            fallback.push(rule);
                        }
                    }
                    Err(e) => {
                        report.rejected.push(Rejected {
                            id: ind.id,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                },
            }
            meta.push(Meta {
                id: ind.id.into_boxed_str(),
                valid_from: ind.valid_from,
                valid_until,
            });
        }
        let matcher = Matcher::build(atoms);
        report.sizes = matcher.sizes();
        report.fallback_reasons = reasons.into_iter().collect();
        report.fallback_reasons.sort();
        Ruleset {
            matcher,
            meta,
            fallback,
            report,
        }
    }

    /// What compiling found.
    pub fn report(&self) -> &CompileReport {
        &self.report
    }

    /// The compiled matcher (for callers matching observables directly).
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Number of indicators that can match (compiled or fallback).
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// `true` if no indicator can match.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// The STIX id of the indicator at `index` (as reported by the matcher).
    pub fn indicator_id(&self, index: u32) -> Option<&str> {
        self.meta.get(index as usize).map(|m| &*m.id)
    }
}
