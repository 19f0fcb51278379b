//! What a recipient learns of deletions: the tombstones of a collection
//! ([`accord_store::Store::tombstones_after`]) it may learn of.
//!
//! A tombstone tells that an object version existed in the collection: served to
//! anyone, it would reveal objects the gate withheld. So a partner learns of the
//! deletion of a version only when it already holds that version: the ledger records a
//! release of it to the partner (under an agreement, by any path: TAXII read, push,
//! export), or the partner provided it itself. The answer depends on nothing else: a
//! deletion of a withheld object changes no page, no `more` flag, no date header a
//! partner sees. The node's own organisation learns of every deletion. Nothing is
//! released (no object content), so nothing is recorded in the ledger.
//!
//! An SCO released under a pseudonymised id is named by the id the partner holds.

use std::collections::HashMap;

use accord_store::Tombstone;

use super::ledger::decode_record;
use super::{Egress, EgressError, Recipient};

/// Tombstones read from the store per batch while looking for a page's deletions.
pub const DELETION_SCAN_BATCH: usize = 1_000;

/// A deletion a recipient may learn of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionNotice {
    /// The object id as the recipient holds it.
    pub id: String,
    /// The deleted version's text (`modified`); `None` for unversioned objects.
    pub version: Option<String>,
    /// When it was deleted (microseconds, unique and increasing: the cursor).
    pub deleted: i64,
    /// Who provided the deleted version (federation does not push the deletion of a
    /// peer's own object back to it).
    pub provider: String,
}

/// A page of deletions, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionsPage {
    /// The deletions.
    pub deletions: Vec<DeletionNotice>,
    /// More follow (after the last one's `deleted`).
    pub more: bool,
}

/// The versions of one object released to the recipient: (version text as recorded,
/// the id it holds).
type Releases = Vec<(String, String)>;

impl Egress {
    /// The deletions in `collection` after `after` (a deletion time in microseconds,
    /// exclusive) that `recipient` may learn of, at most `limit`, oldest first.
    ///
    /// A partner must have the read right on the collection
    /// ([`EgressError::NotReadable`] otherwise). Costs one ledger lookup per deleted
    /// object id and reads every tombstone of the collection after `after` until the
    /// page is full: deletions are rare next to objects.
    pub fn deletions(
        &self,
        recipient: &Recipient,
        collection: &str,
        after: i64,
        limit: usize,
    ) -> Result<DeletionsPage, EgressError> {
        let local = recipient.organisation == self.local_organisation;
        if !local && !self.readers().may_read(&recipient.organisation, collection) {
            return Err(EgressError::NotReadable {
                organisation: recipient.organisation.clone(),
                what: format!("collection '{collection}'"),
            });
        }
        let limit = limit.max(1);
        let mut page = DeletionsPage::default();
        let mut releases: HashMap<String, Releases> = HashMap::new();
        let mut cursor = after;
        loop {
            let batch = self
                .store
                .tombstones_after(collection, cursor, DELETION_SCAN_BATCH)?;
            let end = batch.len() < DELETION_SCAN_BATCH;
            for tombstone in batch {
                cursor = tombstone.deleted;
                let held_as = if local || tombstone.provider == recipient.organisation {
                    Some(tombstone.id.clone())
                } else {
                    self.held_as(&mut releases, recipient, &tombstone)?
                };
                let Some(id) = held_as else { continue };
                if page.deletions.len() == limit {
                    page.more = true;
                    return Ok(page);
                }
                page.deletions.push(DeletionNotice {
                    id,
                    version: (tombstone.version_micros != i64::MIN)
                        .then(|| tombstone.version.clone()),
                    deleted: tombstone.deleted,
                    provider: tombstone.provider,
                });
            }
            if end {
                return Ok(page);
            }
        }
    }

    /// The id under which `recipient` holds the tombstone's version (from the ledger),
    /// or `None` when it was never released to it. An entry that cannot be decoded
    /// counts as no release (nothing is told on doubt).
    fn held_as(
        &self,
        cache: &mut HashMap<String, Releases>,
        recipient: &Recipient,
        tombstone: &Tombstone,
    ) -> Result<Option<String>, EgressError> {
        if !cache.contains_key(&tombstone.id) {
            let mut found = Vec::new();
            for record in self
                .store
                .ledger_find(&recipient.organisation, &tombstone.id)?
            {
                match decode_record(&record) {
                    Ok(entry) => {
                        let held = if record.released_id.is_empty() {
                            tombstone.id.clone()
                        } else {
                            record.released_id.clone()
                        };
                        found.push((entry.object_version, held));
                    }
                    Err(e) => tracing::warn!(
                        target: "accord::egress",
                        seq = record.seq,
                        error = %e,
                        "ledger entry unreadable; its release is not counted"
                    ),
                }
            }
            cache.insert(tombstone.id.clone(), found);
        }
        let releases = cache.get(&tombstone.id).map_or(&[][..], Vec::as_slice);
        // An unversioned object (SCO) has one version: any release of its id is it.
        Ok(releases
            .iter()
            .find(|(version, _)| {
                tombstone.version_micros == i64::MIN || *version == tombstone.version
            })
            .map(|(_, held)| held.clone()))
    }
}
