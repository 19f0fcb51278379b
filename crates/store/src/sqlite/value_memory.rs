//! What the correlation follower remembers of the index between its transactions:
//! the values it interned or found (their `vid`, by the value's digest: no copy of its
//! texts, [`ValueDigest`]), each value's set of providers, the
//! providers' numbers, the values of the ids whose first version it applied, and the
//! ids sighted and not stated (`sighted_unstated`).
//!
//! Why: applying a queued row looks every stated value up in the index, and reads its
//! provider set before adding to it, even when the same values were looked up a moment
//! before. Values repeat (a C2 address is reported again and again, a TAXII sync brings
//! the same values page after page), so the follower keeps what it read and wrote. (In
//! schema 11 these lookups, by text and by (value, provider) pair, were a third of the
//! follower's work on the observable-heavy corpus of `scripts/bench-hub-trends`,
//! BENCHMARKS.md, "Correlation and trends".)
//!
//! Why it stays true: only followers write the index, each under the index file's write
//! lock, and each commit moves the index's mark (`correlation_meta.applied`). This
//! memory is what the index held at the mark of this follower's last commit; a
//! transaction that finds another mark (another process's follower applied rows in
//! between) starts from an empty memory, and so does one after a failed transaction
//! (whose writes the index never got).
//!
//! The values of an id (what a sighting of it sights) are known completely only for an
//! id whose first version this follower applied, the memory being true since: those
//! are the ones it keeps, and a sighting of another id is looked up in the index.
//!
//! Bounded: at the start of a transaction, a memory holding more than
//! [`MEMORY_VALUES`] values is emptied (so at most that many plus the values of one
//! transaction's rows), its ids likewise past [`MEMORY_IDS`], and its record of ids
//! sighted and not stated is not kept past [`MEMORY_UNSTATED`] (each such id is then
//! looked up in the index).

use foldhash::{HashMap, HashSet};
use smallvec::SmallVec;

use super::correlation::ValueDigest;

/// Values the memory keeps before it is emptied: about 80 bytes each (digest, `vid`,
/// provider set, in two hash tables), so about 21 MB at most, beside the index's page
/// cache.
pub(super) const MEMORY_VALUES: usize = 262_144;

/// Ids whose values the memory keeps before they are forgotten: about 50 bytes each,
/// so about 13 MB at most.
pub(super) const MEMORY_IDS: usize = 262_144;

/// Ids sighted and not stated that the memory holds at most: about 16 bytes each.
/// An index with more is asked about each id instead.
pub(super) const MEMORY_UNSTATED: usize = 1_048_576;

/// The values of one id (usually one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum IdValues {
    One(i64),
    Many(Vec<i64>),
}

impl IdValues {
    pub(super) fn as_slice(&self) -> &[i64] {
        match self {
            IdValues::One(vid) => std::slice::from_ref(vid),
            IdValues::Many(vids) => vids,
        }
    }

    fn add(&mut self, vid: i64) {
        match self {
            IdValues::One(one) if *one == vid => {}
            IdValues::One(one) => *self = IdValues::Many(vec![*one, vid]),
            IdValues::Many(vids) => {
                if !vids.contains(&vid) {
                    vids.push(vid);
                }
            }
        }
    }
}

/// What the memory knows of the ids sighted and not stated.
#[derive(Debug, Default)]
pub(super) enum Unstated {
    /// Not read yet (the index's table is read at the first question).
    #[default]
    Unread,
    /// All of them.
    Known(HashSet<i64>),
    /// More than [`MEMORY_UNSTATED`]: not kept.
    TooMany,
}

/// A provider's number in the index (`correlation.providers.pid`).
pub(super) type Pid = u32;

/// The providers of a value: their numbers, sorted, without repeats. Stored in the
/// value's row (`obs_values.provider_set`) as each number's four bytes, little-endian.
/// Held inline up to [`INLINE_PROVIDERS`] (most values have one provider, shared ones a
/// few): no allocation per value remembered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ProviderSet(SmallVec<[Pid; INLINE_PROVIDERS]>);

/// Providers a [`ProviderSet`] holds without allocating.
const INLINE_PROVIDERS: usize = 4;

impl ProviderSet {
    /// The set a row stores. A blob that is not a whole number of providers (damaged)
    /// keeps its whole numbers: the count is then low, never a value's providers
    /// invented.
    pub(super) fn from_blob(blob: &[u8]) -> Self {
        let mut pids: SmallVec<[Pid; INLINE_PROVIDERS]> = blob
            .chunks_exact(4)
            .map(|b| Pid::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        ProviderSet(pids)
    }

    /// The bytes the row stores.
    pub(super) fn to_blob(&self) -> SmallVec<[u8; 4 * INLINE_PROVIDERS]> {
        self.0.iter().flat_map(|p| p.to_le_bytes()).collect()
    }

    /// Adds `pid`; whether it was new.
    pub(super) fn insert(&mut self, pid: Pid) -> bool {
        match self.0.binary_search(&pid) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, pid);
                true
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The follower's memory of the index (see the module's doc).
#[derive(Default)]
pub(super) struct ValueMemory {
    /// The mark the memory is true at: the index's mark after this follower's last
    /// commit (`None`: it knows nothing).
    mark: Option<i64>,
    /// A value's digest → its `vid`.
    vids: HashMap<ValueDigest, i64>,
    /// `vid` → its providers, for the values read or written.
    providers: HashMap<i64, ProviderSet>,
    /// Provider name → number.
    pids: HashMap<String, Pid>,
    /// Id key → the values of every version of the id, for ids whose first version
    /// this follower applied.
    ids: HashMap<i64, IdValues>,
    /// The ids sighted and not stated.
    pub(super) unstated: Unstated,
}

impl ValueMemory {
    /// Starts a transaction that found the index at `mark`: the memory is kept only if
    /// it is true there and within its bound.
    pub(super) fn begin(&mut self, mark: i64) {
        if self.mark != Some(mark) || self.providers.len().max(self.vids.len()) > MEMORY_VALUES {
            self.forget();
        }
        if self.ids.len() > MEMORY_IDS {
            self.ids.clear();
        }
        if matches!(&self.unstated, Unstated::Known(set) if set.len() > MEMORY_UNSTATED) {
            self.unstated = Unstated::TooMany;
        }
        self.mark = None;
    }

    /// The transaction committed, leaving the index at `mark`.
    pub(super) fn committed(&mut self, mark: i64) {
        self.mark = Some(mark);
    }

    /// Empties the memory (a failed transaction: some of what it holds was never
    /// written).
    pub(super) fn forget(&mut self) {
        self.mark = None;
        self.vids.clear();
        self.providers.clear();
        self.pids.clear();
        self.ids.clear();
        self.unstated = Unstated::Unread;
    }

    /// The `vid` of the value of digest `digest`, when remembered.
    pub(super) fn vid(&self, digest: ValueDigest) -> Option<i64> {
        self.vids.get(&digest).copied()
    }

    /// Remembers a value's `vid`.
    pub(super) fn remember_vid(&mut self, digest: ValueDigest, vid: i64) {
        self.vids.insert(digest, vid);
    }

    /// The providers of `vid`, when remembered.
    pub(super) fn providers_mut(&mut self, vid: i64) -> Option<&mut ProviderSet> {
        self.providers.get_mut(&vid)
    }

    /// Remembers the providers of `vid` (read from its row).
    pub(super) fn remember_providers(&mut self, vid: i64, providers: ProviderSet) {
        self.providers.insert(vid, providers);
    }

    pub(super) fn pid(&self, provider: &str) -> Option<Pid> {
        self.pids.get(provider).copied()
    }

    pub(super) fn remember_pid(&mut self, provider: &str, pid: Pid) {
        self.pids.insert(provider.to_owned(), pid);
    }

    /// The values of every version of the id of key `key`, when known.
    pub(super) fn id_values(&self, key: i64) -> Option<&IdValues> {
        self.ids.get(&key)
    }

    /// Records that a version of the id of key `key` states `vids`: all of the id's
    /// values when `first` (its first version), else added to those known.
    pub(super) fn stated(&mut self, key: i64, mut vids: impl Iterator<Item = i64>, first: bool) {
        let Some(head) = vids.next() else { return };
        let values = if first {
            self.ids.entry(key).or_insert(IdValues::One(head))
        } else {
            match self.ids.get_mut(&key) {
                Some(values) => values,
                None => return,
            }
        };
        values.add(head);
        for vid in vids {
            values.add(vid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> ValueDigest {
        ValueDigest::of("ip", "192.0.2.1")
    }

    #[test]
    fn a_provider_set_keeps_each_provider_once_in_order() {
        let mut set = ProviderSet::default();
        assert!(set.insert(7));
        assert!(set.insert(2));
        assert!(!set.insert(7));
        assert_eq!(set.len(), 2);
        let blob = set.to_blob();
        assert_eq!(&blob[..], [2, 0, 0, 0, 7, 0, 0, 0]);
        assert_eq!(ProviderSet::from_blob(&blob), set);
        // A damaged blob keeps its whole numbers, never more.
        assert_eq!(ProviderSet::from_blob(&blob[..6]).len(), 1);
        assert_eq!(ProviderSet::from_blob(&[]).len(), 0);
    }

    /// The memory is kept only by the transaction that finds the index where this
    /// follower's last commit left it.
    #[test]
    fn the_memory_is_kept_only_at_its_own_mark() {
        let mut memory = ValueMemory::default();
        memory.begin(i64::MIN);
        memory.remember_vid(digest(), 1);
        memory.remember_providers(1, ProviderSet::default());
        memory.remember_pid("telco", 1);
        memory.committed(5);
        memory.begin(5);
        assert_eq!(memory.vid(digest()), Some(1));
        assert_eq!(memory.pid("telco"), Some(1));
        // This transaction did not commit: the next starts from nothing, even at 5.
        memory.begin(5);
        assert_eq!(memory.vid(digest()), None);
        memory.remember_vid(digest(), 1);
        memory.remember_providers(1, ProviderSet::default());
        memory.committed(6);
        // Another process applied rows: the index is at 9.
        memory.begin(9);
        assert_eq!(memory.vid(digest()), None);
        assert!(memory.providers_mut(1).is_none());
    }

    /// Two values whose keys collide (the index gives the second the next free `vid`)
    /// are two values to the memory: it tells them apart by the rest of their digest.
    #[test]
    fn values_of_one_key_are_remembered_apart() {
        let mut memory = ValueMemory::default();
        memory.begin(0);
        let first = digest();
        let second = ValueDigest {
            check: first.check ^ 1,
            ..first
        };
        memory.remember_vid(first, first.key);
        assert_eq!(memory.vid(second), None);
        memory.remember_vid(second, first.key.wrapping_add(1));
        assert_eq!(memory.vid(first), Some(first.key));
        assert_eq!(memory.vid(second), Some(first.key.wrapping_add(1)));
    }

    /// An id's values are known from its first version on, and only then: a later
    /// version of an id whose first version this follower did not apply adds nothing
    /// (the memory would hold part of the id's values, and a sighting would miss the
    /// rest).
    #[test]
    fn an_ids_values_are_kept_from_its_first_version_only() {
        let mut memory = ValueMemory::default();
        memory.begin(0);
        memory.stated(7, [10, 11, 10].into_iter(), true);
        memory.stated(7, [12].into_iter(), false);
        assert_eq!(
            memory.id_values(7).map(IdValues::as_slice),
            Some(&[10, 11, 12][..])
        );
        memory.stated(8, [20].into_iter(), false);
        assert_eq!(memory.id_values(8), None);
        memory.stated(9, std::iter::empty(), true);
        assert_eq!(
            memory.id_values(9),
            None,
            "an id stating nothing is not known"
        );
        memory.committed(1);
        // Another process applied rows: what it stated of id 7 is not here.
        memory.begin(2);
        assert_eq!(memory.id_values(7), None);
        assert!(matches!(memory.unstated, Unstated::Unread));
    }

    #[test]
    fn a_full_memory_of_ids_is_emptied_at_the_next_transaction() {
        let mut memory = ValueMemory::default();
        memory.begin(0);
        for key in 0..=MEMORY_IDS as i64 {
            memory.stated(key, [1].into_iter(), true);
        }
        memory.remember_vid(digest(), 1);
        memory.committed(1);
        memory.begin(1);
        assert_eq!(memory.id_values(0), None);
        assert_eq!(memory.vid(digest()), Some(1), "values are kept");
    }

    #[test]
    fn a_full_memory_is_emptied_at_the_next_transaction() {
        let mut memory = ValueMemory::default();
        memory.begin(0);
        for vid in 0..=MEMORY_VALUES as i64 {
            memory.remember_providers(vid, ProviderSet::default());
        }
        memory.remember_vid(digest(), 1);
        memory.remember_providers(1, ProviderSet::default());
        memory.committed(1);
        memory.begin(1);
        assert_eq!(memory.vid(digest()), None);
    }
}
