//! Aggregating decisions for `accord agreement preview`: what a recipient would
//! receive, by type, by TLP and by reason for withholding.

use std::collections::BTreeMap;
use std::fmt;

use crate::facts::ObjectFacts;
use crate::gate::Decision;

/// Released and withheld counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Released (transformed or not).
    pub released: u64,
    /// Of those released, how many were transformed.
    pub transformed: u64,
    /// Withheld.
    pub withheld: u64,
}

/// One decision, as counted.
#[derive(Clone, Copy)]
enum Counted {
    Released { transformed: bool },
    Withheld(&'static str),
}

impl Counts {
    fn add(&mut self, counted: Counted) {
        match counted {
            Counted::Released { transformed } => {
                self.released += 1;
                self.transformed += u64::from(transformed);
            }
            Counted::Withheld(_) => self.withheld += 1,
        }
    }
}

/// Counts of decisions over a set of object versions.
///
/// ```
/// use accord_agreements::{Decision, ObjectFacts, Preview, WithholdReason};
/// let mut preview = Preview::default();
/// let facts = ObjectFacts { kind: "indicator".into(), ..ObjectFacts::default() };
/// preview.record(&facts, &Decision::Withhold(WithholdReason::NoAgreement));
/// assert_eq!(preview.by_reason["no-agreement"], 1);
/// assert_eq!(preview.by_type["indicator"].withheld, 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    /// All objects.
    pub total: Counts,
    /// By STIX type.
    pub by_type: BTreeMap<String, Counts>,
    /// By TLP marking (`TLP:GREEN`, ..., `unmarked`).
    pub by_tlp: BTreeMap<String, Counts>,
    /// Withheld objects by [`crate::WithholdReason::code`].
    pub by_reason: BTreeMap<&'static str, u64>,
}

impl Preview {
    /// Counts one decision.
    pub fn record(&mut self, facts: &ObjectFacts, decision: &Decision<'_>) {
        let counted = match decision {
            Decision::Release(r) => Counted::Released {
                transformed: r.is_transformed(),
            },
            Decision::Withhold(reason) => Counted::Withheld(reason.code()),
        };
        self.count(facts, counted);
    }

    /// Counts one release decided earlier (`transformed`: the released text differs
    /// from the stored one).
    pub fn record_release(&mut self, facts: &ObjectFacts, transformed: bool) {
        self.count(facts, Counted::Released { transformed });
    }

    fn count(&mut self, facts: &ObjectFacts, counted: Counted) {
        self.total.add(counted);
        self.by_type
            .entry(facts.kind.clone())
            .or_default()
            .add(counted);
        let tlp = facts
            .tlp
            .map_or_else(|| "unmarked".to_owned(), |t| t.to_string());
        self.by_tlp.entry(tlp).or_default().add(counted);
        if let Counted::Withheld(code) = counted {
            *self.by_reason.entry(code).or_default() += 1;
        }
    }
}

impl fmt::Display for Preview {
    /// A plain-text report, one table per grouping.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.total;
        writeln!(
            f,
            "{} objects: {} released ({} transformed), {} withheld",
            t.released + t.withheld,
            t.released,
            t.transformed,
            t.withheld
        )?;
        for (title, rows) in [("type", &self.by_type), ("TLP", &self.by_tlp)] {
            writeln!(
                f,
                "\n{title:<32} {:>10} {:>12} {:>10}",
                "released", "transformed", "withheld"
            )?;
            for (name, c) in rows {
                writeln!(
                    f,
                    "{name:<32} {:>10} {:>12} {:>10}",
                    c.released, c.transformed, c.withheld
                )?;
            }
        }
        if !self.by_reason.is_empty() {
            writeln!(f, "\n{:<32} {:>10}", "withheld because", "objects")?;
            for (code, n) in &self.by_reason {
                writeln!(f, "{code:<32} {n:>10}")?;
            }
        }
        Ok(())
    }
}
