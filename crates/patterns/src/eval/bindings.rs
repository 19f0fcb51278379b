//! Observation expressions: finding observations that satisfy the pattern.
//!
//! The OASIS matcher searches for a *binding*: an observation instance for
//! each `[...]` of the pattern (an observed-data object with
//! `number_observed = n` provides `n` instances), such that
//! - `AND` and `FOLLOWEDBY` operands use different instances;
//! - `a FOLLOWEDBY b`: the latest `first_observed` of `a`'s observations is
//!   not after the earliest `last_observed` of `b`'s;
//! - `REPEATS k`: `k` bindings of the operand, pairwise on different
//!   instances;
//! - `WITHIN d`: some window of `d` seconds touches every observation's
//!   `[first_observed, last_observed]`, i.e. the latest `first_observed` is
//!   at most `d` after the earliest `last_observed`;
//! - `START s STOP e`: every observation's interval meets `[s, e)`
//!   (`first_observed < e` and `last_observed >= s`); nothing matches if
//!   `s >= e`.
//!
//! Instances of one observation are interchangeable, so a binding is kept
//! as a count of instances per observation; "different instances" becomes
//! "counts within `number_observed`". Time constraints of an enclosing
//! qualifier hold for every part of a binding that satisfies them, so they
//! are pushed down and prune partial combinations early. The search stops
//! at the first binding of the whole pattern. All loops are iterative (no
//! recursion per operand or repetition), and the work is bounded by
//! [`crate::MAX_BINDING_STEPS`].

use std::cell::Cell;
use std::collections::HashSet;

use super::data::Observation;
use crate::error::EvalError;
use crate::MAX_BINDING_STEPS;

/// A compiled observation expression.
#[derive(Debug)]
pub(crate) enum Node {
    /// The `[...]` with this index in the leaf table.
    Leaf(usize),
    And(Vec<Node>),
    Or(Vec<Node>),
    FollowedBy(Vec<Node>),
    /// Qualifiers in order of application (innermost first).
    Qualified(Box<Node>, Vec<Qual>),
}

/// A compiled qualifier.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Qual {
    /// Window length in microseconds (positive).
    Within(i64),
    /// Repetition count (at least 1).
    Repeats(u64),
    /// `[start, stop)` in microseconds.
    StartStop(i64, i64),
}

/// Instances used per observation, sorted by observation index, plus the
/// time extremes the qualifiers need.
#[derive(Debug, Clone)]
struct Binding {
    parts: Vec<(u32, u64)>,
    max_first: i64,
    min_last: i64,
}

/// Time constraints inherited from enclosing qualifiers.
#[derive(Default, Clone)]
struct Constraints {
    windows: Vec<i64>,
    ranges: Vec<(i64, i64)>,
}

impl Constraints {
    fn window_ok(&self, max_first: i64, min_last: i64) -> bool {
        let spread = i128::from(max_first) - i128::from(min_last);
        self.windows.iter().all(|w| spread <= i128::from(*w))
    }

    fn range_ok(&self, first: i64, last: i64) -> bool {
        self.ranges.iter().all(|&(s, e)| first < e && last >= s)
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

type Sink<'s> = dyn FnMut(&Binding) -> Result<Flow, EvalError> + 's;

/// The search over observations, given which observations satisfy each
/// `[...]` (`leaf_matches[i]`, ascending observation indexes).
pub(crate) struct Search<'d, 'a> {
    observations: &'d [Observation<'a>],
    leaf_matches: &'d [Vec<u32>],
    steps: Cell<usize>,
}

impl<'d, 'a> Search<'d, 'a> {
    pub fn new(observations: &'d [Observation<'a>], leaf_matches: &'d [Vec<u32>]) -> Self {
        Search {
            observations,
            leaf_matches,
            steps: Cell::new(0),
        }
    }

    /// Whether any binding of `root` exists.
    pub fn any(&self, root: &Node) -> Result<bool, EvalError> {
        let mut found = false;
        self.each(root, &Constraints::default(), &mut |_| {
            found = true;
            Ok(Flow::Stop)
        })?;
        Ok(found)
    }

    fn tick(&self) -> Result<(), EvalError> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > MAX_BINDING_STEPS {
            return Err(EvalError::TooManyBindings {
                limit: MAX_BINDING_STEPS,
            });
        }
        Ok(())
    }

    fn capacity(&self, obs: u32) -> u64 {
        self.observations.get(obs as usize).map_or(0, |o| o.count)
    }

    /// Calls `sink` with bindings of `node` that satisfy `cons`.
    fn each(
        &self,
        node: &Node,
        cons: &Constraints,
        sink: &mut Sink<'_>,
    ) -> Result<Flow, EvalError> {
        match node {
            Node::Leaf(i) => {
                let matches = self.leaf_matches.get(*i).map_or(&[][..], Vec::as_slice);
                for &o in matches {
                    self.tick()?;
                    let obs = &self.observations[o as usize];
                    if !cons.range_ok(obs.first, obs.last) || !cons.window_ok(obs.first, obs.last) {
                        continue;
                    }
                    let b = Binding {
                        parts: vec![(o, 1)],
                        max_first: obs.first,
                        min_last: obs.last,
                    };
                    if sink(&b)? == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                Ok(Flow::Continue)
            }
            Node::Or(children) => {
                for c in children {
                    if self.each(c, cons, sink)? == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                Ok(Flow::Continue)
            }
            Node::And(children) => self.join(children, false, cons, sink),
            Node::FollowedBy(children) => self.join(children, true, cons, sink),
            Node::Qualified(inner, quals) => self.qualified(inner, quals, cons, sink),
        }
    }

    fn qualified(
        &self,
        inner: &Node,
        quals: &[Qual],
        cons: &Constraints,
        sink: &mut Sink<'_>,
    ) -> Result<Flow, EvalError> {
        let Some((last, rest)) = quals.split_last() else {
            return self.each(inner, cons, sink);
        };
        match *last {
            Qual::Within(w) => {
                let mut cons = cons.clone();
                cons.windows.push(w);
                self.qualified(inner, rest, &cons, sink)
            }
            Qual::StartStop(s, e) => {
                if s >= e {
                    return Ok(Flow::Continue);
                }
                let mut cons = cons.clone();
                cons.ranges.push((s, e));
                self.qualified(inner, rest, &cons, sink)
            }
            Qual::Repeats(k) => {
                let set = self.collect_with(|sink| self.qualified(inner, rest, cons, sink))?;
                self.repeats(&set, k, cons, sink)
            }
        }
    }

    /// All distinct bindings produced by `f`.
    fn collect_with(
        &self,
        f: impl FnOnce(&mut Sink<'_>) -> Result<Flow, EvalError>,
    ) -> Result<Vec<Binding>, EvalError> {
        let mut seen: HashSet<Vec<(u32, u64)>> = HashSet::new();
        let mut out = Vec::new();
        f(&mut |b: &Binding| {
            if seen.insert(b.parts.clone()) {
                out.push(b.clone());
            }
            Ok(Flow::Continue)
        })?;
        Ok(out)
    }

    /// `AND` / `FOLLOWEDBY`: one binding per operand, on disjoint instances
    /// (and in time order for `FOLLOWEDBY`). The operand with the most
    /// potential bindings is streamed, the others are collected, and each
    /// streamed binding is completed by iterative backtracking over them,
    /// so the first complete binding is found without enumerating all.
    fn join(
        &self,
        children: &[Node],
        ordered: bool,
        cons: &Constraints,
        sink: &mut Sink<'_>,
    ) -> Result<Flow, EvalError> {
        let streamed = (0..children.len())
            .max_by(|&a, &b| {
                self.estimate(&children[a])
                    .total_cmp(&self.estimate(&children[b]))
            })
            .unwrap_or(0);
        let mut sets: Vec<Vec<Binding>> = Vec::with_capacity(children.len());
        for (i, c) in children.iter().enumerate() {
            if i == streamed {
                sets.push(Vec::new());
                continue;
            }
            let set = self.collect_with(|sink| self.each(c, cons, sink))?;
            if set.is_empty() {
                return Ok(Flow::Continue);
            }
            sets.push(set);
        }
        let Some(node) = children.get(streamed) else {
            return Ok(Flow::Continue);
        };
        self.each(node, cons, &mut |b0| {
            sets[streamed] = vec![b0.clone()];
            self.combine(&sets, streamed, ordered, cons, sink)
        })
    }

    /// Backtracking over one binding per set. Sets are visited in the order
    /// `streamed` first (it holds one binding), then the others; for
    /// `FOLLOWEDBY` every earlier operand's latest `first_observed` must not
    /// exceed every later operand's earliest `last_observed` (the left fold
    /// of the operator, checked pairwise so the visiting order is free).
    fn combine(
        &self,
        sets: &[Vec<Binding>],
        streamed: usize,
        ordered: bool,
        cons: &Constraints,
        sink: &mut Sink<'_>,
    ) -> Result<Flow, EvalError> {
        let order: Vec<usize> = std::iter::once(streamed)
            .chain((0..sets.len()).filter(|&i| i != streamed))
            .collect();
        let mut acc = Accumulator::new(self.observations.len());
        // placed[operand] = (max_first, min_last) of the binding chosen for it.
        let mut placed: Vec<Option<(i64, i64)>> = vec![None; sets.len()];
        // choice[depth] = index of the binding tried for operand order[depth].
        let mut choice: Vec<usize> = vec![0];
        loop {
            let depth = choice.len() - 1;
            let operand = order[depth];
            let idx = choice[depth];
            if idx >= sets[operand].len() {
                choice.pop();
                if choice.is_empty() {
                    return Ok(Flow::Continue);
                }
                acc.pop();
                placed[order[depth - 1]] = None;
                if let Some(last) = choice.last_mut() {
                    *last += 1;
                }
                continue;
            }
            self.tick()?;
            let b = &sets[operand][idx];
            let in_order = !ordered
                || placed.iter().enumerate().all(|(j, p)| match p {
                    None => true,
                    Some((first, _)) if j < operand => *first <= b.min_last,
                    Some((_, last)) => b.max_first <= *last,
                });
            if in_order && acc.push(b, 1, |o| self.capacity(o)) {
                if cons.window_ok(acc.max_first(), acc.min_last()) {
                    if depth + 1 == sets.len() {
                        if sink(&acc.binding())? == Flow::Stop {
                            return Ok(Flow::Stop);
                        }
                    } else {
                        placed[operand] = Some((b.max_first, b.min_last));
                        choice.push(0);
                        continue;
                    }
                }
                acc.pop();
            }
            choice[depth] += 1;
        }
    }

    /// An upper bound of the number of bindings of `node` (for choosing the
    /// operand to stream).
    fn estimate(&self, node: &Node) -> f64 {
        match node {
            Node::Leaf(i) => self.leaf_matches.get(*i).map_or(0.0, |m| m.len() as f64),
            Node::Or(v) => v.iter().map(|c| self.estimate(c)).sum(),
            Node::And(v) | Node::FollowedBy(v) => v.iter().map(|c| self.estimate(c)).product(),
            Node::Qualified(inner, quals) => {
                quals.iter().fold(self.estimate(inner), |n, q| match q {
                    // Multisets of k out of n: C(n + k - 1, k), capped.
                    Qual::Repeats(k) => {
                        (1..=(*k).min(64)).fold(1.0, |acc, i| acc * (n + i as f64 - 1.0) / i as f64)
                    }
                    _ => n,
                })
            }
        }
    }

    /// `REPEATS k`: multisets of `k` bindings of `set` on disjoint instances,
    /// choosing each binding with a multiplicity (largest first).
    fn repeats(
        &self,
        set: &[Binding],
        k: u64,
        cons: &Constraints,
        sink: &mut Sink<'_>,
    ) -> Result<Flow, EvalError> {
        if set.is_empty() {
            return Ok(Flow::Continue);
        }
        let mut acc = Accumulator::new(self.observations.len());
        // (index in set, multiplicity) of each choice made.
        let mut chosen: Vec<(usize, u64)> = Vec::new();
        let mut remaining = k;
        let mut next = 0usize;
        loop {
            if remaining == 0 {
                if sink(&acc.binding())? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
                next = self.backtrack(set, &mut acc, &mut chosen, &mut remaining);
                if next == usize::MAX {
                    return Ok(Flow::Continue);
                }
                continue;
            }
            let mut advanced = false;
            while next < set.len() {
                self.tick()?;
                let b = &set[next];
                let mult = acc.max_multiplicity(b, remaining, |o| self.capacity(o));
                let window_ok = cons.window_ok(
                    acc.max_first().max(b.max_first),
                    acc.min_last().min(b.min_last),
                );
                if mult >= 1 && window_ok && acc.push(b, mult, |o| self.capacity(o)) {
                    chosen.push((next, mult));
                    remaining -= mult;
                    next += 1;
                    advanced = true;
                    break;
                }
                next += 1;
            }
            if !advanced {
                next = self.backtrack(set, &mut acc, &mut chosen, &mut remaining);
                if next == usize::MAX {
                    return Ok(Flow::Continue);
                }
            }
        }
    }

    /// Undoes the last choice and returns where to continue: the same
    /// binding with one copy fewer, else the following binding. Returns
    /// `usize::MAX` when nothing is left to try.
    fn backtrack(
        &self,
        set: &[Binding],
        acc: &mut Accumulator,
        chosen: &mut Vec<(usize, u64)>,
        remaining: &mut u64,
    ) -> usize {
        let Some((idx, mult)) = chosen.pop() else {
            return usize::MAX;
        };
        acc.pop();
        *remaining += mult;
        if mult > 1 {
            let fewer = mult - 1;
            if acc.push(&set[idx], fewer, |o| self.capacity(o)) {
                chosen.push((idx, fewer));
                *remaining -= fewer;
            }
        }
        idx + 1
    }
}

/// One push onto an [`Accumulator`]: binding parts, multiplicity, and the
/// time extremes of everything pushed so far.
type Pushed = (Vec<(u32, u64)>, u64, i64, i64);

/// Instances in use, with undo, for the backtracking searches.
struct Accumulator {
    used: Vec<u64>,
    stack: Vec<Pushed>,
}

impl Accumulator {
    fn new(n: usize) -> Self {
        Accumulator {
            used: vec![0; n],
            stack: Vec::new(),
        }
    }

    fn max_first(&self) -> i64 {
        self.stack.last().map_or(i64::MIN, |s| s.2)
    }

    fn min_last(&self) -> i64 {
        self.stack.last().map_or(i64::MAX, |s| s.3)
    }

    /// How many copies of `b` still fit (at most `cap`).
    fn max_multiplicity(&self, b: &Binding, cap: u64, capacity: impl Fn(u32) -> u64) -> u64 {
        b.parts
            .iter()
            .map(|&(o, c)| capacity(o).saturating_sub(self.used[o as usize]) / c.max(1))
            .min()
            .unwrap_or(0)
            .min(cap)
    }

    /// Adds `mult` copies of `b` if they fit.
    fn push(&mut self, b: &Binding, mult: u64, capacity: impl Fn(u32) -> u64) -> bool {
        let fits = b.parts.iter().all(|&(o, c)| {
            c.checked_mul(mult)
                .and_then(|need| need.checked_add(self.used[o as usize]))
                .is_some_and(|total| total <= capacity(o))
        });
        if !fits {
            return false;
        }
        for &(o, c) in &b.parts {
            self.used[o as usize] += c * mult;
        }
        let (mf, ml) = (
            self.max_first().max(b.max_first),
            self.min_last().min(b.min_last),
        );
        self.stack.push((b.parts.clone(), mult, mf, ml));
        true
    }

    fn pop(&mut self) {
        if let Some((parts, mult, _, _)) = self.stack.pop() {
            for (o, c) in parts {
                self.used[o as usize] -= c * mult;
            }
        }
    }

    /// The combined binding of everything pushed.
    fn binding(&self) -> Binding {
        let mut parts: Vec<(u32, u64)> = Vec::new();
        for (p, mult, _, _) in &self.stack {
            for &(o, c) in p {
                parts.push((o, c * mult));
            }
        }
        parts.sort_unstable_by_key(|p| p.0);
        parts.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 += b.1;
                true
            } else {
                false
            }
        });
        Binding {
            parts,
            max_first: self.max_first(),
            min_last: self.min_last(),
        }
    }
}
