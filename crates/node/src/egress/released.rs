//! What a recipient's release views release, read by value: for aggregates about single
//! values that a partner asks for (its correlations, `crate::correlate`).
//!
//! Why not the store's correlation index: it links a value to every version stating it
//! store-wide, withheld ones included, so an answer built from it and then decided took
//! time in proportion to what the partner may not read (a partner naming a value
//! stated by 10,000 withheld objects waited 1.3 s, against 0.2 ms without them:
//! `examples/partner_value_correlation`). The views file their released entries by
//! the values they state ([`ReleaseView::stating`]), so these reads cost what the
//! partner may read of the value. They file each entry by what its *released* text
//! states, so a value the gate pseudonymises or redacts is found under what the partner
//! receives, never under the customer's real value.

use std::sync::{Arc, Mutex};

use accord_agreements::Gate;
use accord_store::ObjectRow;

use super::view::{Basis, Ctx, ReleaseView};
use super::{now, Egress, EgressError, Recipient};

/// A recipient's release views, each brought up to date once when the reader is made
/// ([`Egress::released_reader`]).
pub struct ReleasedReader<'e> {
    egress: &'e Egress,
    recipient: Recipient,
    views: Vec<(String, Arc<Mutex<ReleaseView>>)>,
    /// The gate and generation the views were brought up to date under, and when.
    gate: Arc<Gate>,
    basis: Basis,
    now: i64,
}

/// A released version read through a [`ReleasedReader`], with the collection whose
/// view released it.
pub struct HeldRow {
    /// The collection it is read from.
    pub collection: String,
    /// The entry as stored there.
    pub row: ObjectRow,
}

impl<'e> ReleasedReader<'e> {
    pub(super) fn new(egress: &'e Egress, recipient: &Recipient) -> Result<Self, EgressError> {
        let (basis, gate) = egress.basis_and_gate();
        let now = now();
        let ctx = Ctx {
            store: &*egress.store,
            gate: &gate,
            now,
            basis,
        };
        let mut views = Vec::new();
        for collection in egress.readable_collections(&recipient.organisation)? {
            let view = egress.view_of(&recipient.organisation, &collection);
            lock(&view).refresh(&ctx)?;
            views.push((collection, view));
        }
        Ok(ReleasedReader {
            egress,
            recipient: recipient.clone(),
            views,
            gate,
            basis,
            now,
        })
    }

    /// The released versions whose released text states the observable
    /// `(kind, value)` (as the analytics extract it); a version released in several
    /// collections once.
    pub fn stating(&self, kind: &str, value: &str) -> Result<Vec<HeldRow>, EgressError> {
        self.filed(|view, ctx| view.stating(ctx, kind, value))
    }

    /// The released sightings whose released text sights any of `ids`.
    pub fn sightings_of(&self, ids: &[&str]) -> Result<Vec<HeldRow>, EgressError> {
        self.filed(|view, ctx| {
            let mut positions = Vec::new();
            for id in ids {
                positions.extend(view.sightings_of(ctx, id)?);
            }
            Ok(positions)
        })
    }

    /// What the recipient receives of each row now, decided by the gate in the
    /// collection it was read from ([`Egress::released_texts_in`]): the released text,
    /// or `None` (the gate changed its mind since the view decided).
    pub fn texts(&self, rows: &[HeldRow]) -> Result<Vec<Option<String>>, EgressError> {
        let mut out = Vec::with_capacity(rows.len());
        // A run of rows read from one collection is decided in one call.
        for run in rows.chunk_by(|a, b| a.collection == b.collection) {
            let Some(first) = run.first() else { continue };
            let in_run = run.iter().map(|h| &h.row);
            out.extend(self.egress.released_texts_in(
                &self.recipient,
                &first.collection,
                in_run,
            )?);
        }
        Ok(out)
    }

    /// The rows at the positions `find` picks in each view; a version held in several
    /// collections comes once, from the first (the same stored text of the same id is
    /// the same version).
    fn filed(
        &self,
        mut find: impl FnMut(&mut ReleaseView, &Ctx<'_>) -> Result<Vec<i64>, EgressError>,
    ) -> Result<Vec<HeldRow>, EgressError> {
        let store = &*self.egress.store;
        let ctx = Ctx {
            store,
            gate: &self.gate,
            now: self.now,
            basis: self.basis,
        };
        let mut rows: Vec<HeldRow> = Vec::new();
        for (collection, view) in &self.views {
            let positions = find(&mut lock(view), &ctx)?;
            if positions.is_empty() {
                continue;
            }
            rows.extend(
                store
                    .entries_at(collection, &positions)?
                    .into_iter()
                    .map(|row| HeldRow {
                        collection: collection.clone(),
                        row,
                    }),
            );
        }
        if self.views.len() > 1 {
            // Stable: of equal rows, the first collection's stays first.
            rows.sort_by(|a, b| (&a.row.id, &a.row.json).cmp(&(&b.row.id, &b.row.json)));
            rows.dedup_by(|a, b| a.row.id == b.row.id && a.row.json == b.row.json);
        }
        Ok(rows)
    }
}

fn lock(view: &Mutex<ReleaseView>) -> std::sync::MutexGuard<'_, ReleaseView> {
    view.lock().unwrap_or_else(|p| p.into_inner())
}
