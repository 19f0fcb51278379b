//! A recipient's release view of one collection: which entries the gate releases to
//! it, decided when objects, agreements or time change — not when a page is read.
//!
//! Why: every answer to a recipient (content, counts, `more`, `next`, 404s, the version
//! lists) must be a function of what that recipient may read, and a page must cost
//! O(page). Deciding at read time, a page either scans withheld rows (its latency and
//! its `more` flag then reveal runs of withheld objects) or stops early with an empty
//! page and `more: true` (which reveals them outright). So the view keeps the released
//! entries in order, and every page, version filter and id lookup works on them alone.
//!
//! How it stays current (see [`ReleaseView::refresh`]), each step O(what changed):
//! - entries added to the collection since the view last looked are decided
//!   (`date_added` is the arrival order, so "since" is a position);
//! - every decision records the ids the gate looked up through the resolver (referenced
//!   objects, marking definitions). A new version of one of those ids anywhere in the
//!   store (the store's arrival order again), or a removal of it from the collection
//!   (the store's removal log), re-decides the entries that depended on it;
//! - a withholding that ends with time (an embargo, an indicator's retention window, a
//!   reference withheld for one of those reasons) is re-decided at that instant, and the
//!   whole view is rebuilt when the recipient's agreements change (reload) or one of
//!   them starts or ends.
//!
//! The rows are read again when a page is served and the gate renders them then (the
//! released bytes change with the day, for retention caps); the view only says which.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, Weak};

use accord_agreements::{Decision, Gate, ObjectVersion, UtcMicros, WithholdReason};
use accord_store::{Analytics, ObjectQuery, ObjectRow, Scope, Store, VersionFilter};
use smallvec::SmallVec;

use super::names::Names;
use super::resolver::StoreResolver;
use super::trend_cells::{self, PartnerTrends, TrendEvent, TrendFiling};
use super::EgressError;

/// Rows read from the store per step of a refresh.
const REFRESH_BATCH: usize = 1_000;

/// Threads that judge a batch of new entries at most (the machine's cores, up to
/// this).
const JUDGES: usize = 4;

/// Entries in a batch from which they are judged on several threads (below it, a
/// thread costs more than it saves).
const JUDGE_IN_PARALLEL_FROM: usize = 256;

/// Threads that judge a batch: the machine's cores up to [`JUDGES`], asked once (the
/// standard library reads the process's CPU quota from files on every call).
fn judges() -> usize {
    static JUDGE_THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *JUDGE_THREADS
        .get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(JUDGES)))
}

/// What the gate decided of one entry, and the ids it looked up to decide.
struct Judgement {
    verdict: Verdict,
    asked: Vec<String>,
    /// What the released text states, when the view files its entries by value
    /// ([`Statements`]).
    filing: Option<Analytics>,
    /// What the released text adds to the recipient's trends, when the view is tapped
    /// by them ([`ReleaseView::tap_trends`]).
    trend_filing: Option<Box<TrendFiling>>,
}

/// The part of a [`Decision`] a view keeps.
enum Verdict {
    /// Released, under this id when pseudonymisation changed it.
    Released(Option<String>),
    Withheld(WithholdReason),
}

/// Microseconds in a day (retention caps move at UTC midnight).
const DAY_MICROS: i64 = 86_400_000_000;

/// What the recipient receives at one position of the collection.
#[derive(Debug, Clone)]
struct Slot {
    /// The id as released (a pseudonymised SCO's differs from the stored one).
    id: Arc<str>,
    /// The stored id, when it differs.
    stored_id: Option<Arc<str>>,
    kind: Arc<str>,
    spec_version: Arc<str>,
    /// The version instant (for unversioned objects, the position).
    version: i64,
}

/// The inputs a view was built from; a change of any rebuilds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Basis {
    /// Bumped by the door on every new set of agreements or rights.
    pub generation: u64,
    /// Bumped by the door when the hub's enrichment changed (countries and ASNs of
    /// addresses): only views of recipients with an agreement scoped by location
    /// depend on it ([`Basis::of_view`]).
    pub located: u64,
}

impl Basis {
    /// The basis as it bears on `recipient`'s views: the enrichment's counts only
    /// under an agreement to it scoped by countries or ASNs (a change of the
    /// enrichment rebuilt every view of every recipient, each deciding its whole
    /// collection again, when only these can decide otherwise).
    fn of_view(self, gate: &Gate, recipient: &str) -> Basis {
        let located = gate
            .agreements()
            .iter()
            .any(|a| a.recipient().id == recipient && a.scope().by_location());
        Basis {
            located: if located { self.located } else { 0 },
            ..self
        }
    }
}

/// The context of one refresh or page.
pub(super) struct Ctx<'a> {
    pub store: &'a dyn Store,
    pub gate: &'a Gate,
    pub now: i64,
    pub basis: Basis,
}

/// One recipient's view of one collection.
pub(super) struct ReleaseView {
    recipient: String,
    collection: String,
    basis: Option<Basis>,
    /// The view is rebuilt at this instant: an agreement of the recipient starts or ends.
    rebuild_at: i64,
    /// Entries of the collection up to this position have been decided.
    entries_seen: i64,
    /// Object versions stored up to this `date_added` have been checked for dependents.
    objects_seen: i64,
    /// Removals up to this log position have been applied.
    removals_seen: u64,
    released: BTreeMap<i64, Slot>,
    /// Released versions by released id: (version, position).
    by_id: HashMap<Arc<str>, BTreeSet<(i64, i64)>>,
    /// Positions of pseudonymised entries by their stored id (removals name stored ids).
    by_stored_id: HashMap<Arc<str>, BTreeSet<i64>>,
    by_type: HashMap<Arc<str>, BTreeSet<i64>>,
    /// Ids a decision looked up → the positions decided with them.
    dependents: HashMap<Arc<str>, HashSet<i64>>,
    /// Position → the ids its decision looked up.
    depends_on: HashMap<i64, Box<[Arc<str>]>>,
    /// Instants at which withheld positions may become releasable.
    rechecks: BTreeMap<i64, Vec<i64>>,
    /// Positions to decide again at the next refresh (the gate disagreed at read time).
    stale: BTreeSet<i64>,
    names: Names,
    /// What the released entries state, once an answer about one value asked
    /// ([`ReleaseView::stating`]); kept current from then on, through rebuilds too.
    statements: Option<Statements>,
    /// The recipient's trend cells, once its trends were asked
    /// ([`ReleaseView::tap_trends`]); kept current from then on, through rebuilds too.
    trends: Option<TrendTap>,
}

/// Where a view sends what it releases and forgets for its recipient's trend cells,
/// and what it has not sent yet (sent at the end of each refresh).
struct TrendTap {
    cells: Weak<Mutex<PartnerTrends>>,
    pending: Vec<TrendEvent>,
}

/// The released entries of a view by the observable values their released text states
/// and by the id a released sighting sights: so that an answer about one value (a
/// partner's correlation of a value it names) reads what the recipient may read of
/// that value, and nothing withheld. Built from the view's released entries when
/// first asked, then kept with each entry released or forgotten.
///
/// By the released text, not the stored one: a pseudonymised or redacted value is
/// filed under what the recipient receives, so naming a customer's real address finds
/// nothing to decide (filed by stored text, such a name found the entry, and the time
/// of its decision told that the address was behind a pseudonym).
///
/// Values are keyed by a hash of their kind and text, keyed per view
/// ([`RandomState`]): two values of one hash only add a candidate, which the caller
/// checks against the released text, and no provider can choose values to collide.
#[derive(Default)]
struct Statements {
    hasher: RandomState,
    by_value: HashMap<u64, Positions>,
    by_sighted: HashMap<Arc<str>, Positions>,
    /// Position → what it was filed under (to forget it).
    filed: HashMap<i64, Filed>,
}

/// Positions, ascending: most values are stated by one or two released entries, held
/// inline (a `BTreeSet` each cost an allocation and ~100 bytes per value).
type Positions = SmallVec<[i64; 2]>;

/// What one released entry was filed under in [`Statements`].
struct Filed {
    values: SmallVec<[u64; 1]>,
    sighted: Option<Arc<str>>,
}

impl Statements {
    fn key(&self, kind: &str, value: &str) -> u64 {
        self.hasher.hash_one((kind, value))
    }

    /// Files the released entry at `position` under what its released text states.
    fn file(&mut self, position: i64, analytics: Analytics) {
        if analytics.values.is_empty() && analytics.sighting_of.is_none() {
            return;
        }
        let values: SmallVec<[u64; 1]> = analytics
            .values
            .iter()
            .map(|(kind, value)| self.key(kind, value))
            .collect();
        for key in &values {
            add_position(self.by_value.entry(*key).or_default(), position);
        }
        let sighted: Option<Arc<str>> = analytics.sighting_of.map(|id| Arc::from(id.as_str()));
        if let Some(id) = &sighted {
            add_position(self.by_sighted.entry(id.clone()).or_default(), position);
        }
        self.filed.insert(position, Filed { values, sighted });
    }

    fn forget(&mut self, position: i64) {
        let Some(filed) = self.filed.remove(&position) else {
            return;
        };
        for key in &filed.values {
            if let Some(positions) = self.by_value.get_mut(key) {
                if remove_position(positions, position) {
                    self.by_value.remove(key);
                }
            }
        }
        if let Some(id) = &filed.sighted {
            if let Some(positions) = self.by_sighted.get_mut(id) {
                if remove_position(positions, position) {
                    self.by_sighted.remove(id);
                }
            }
        }
    }
}

/// Adds `position` to the ascending `positions` (usually at the end: entries are
/// decided in collection order).
fn add_position(positions: &mut Positions, position: i64) {
    if let Err(at) = positions.binary_search(&position) {
        positions.insert(at, position);
    }
}

/// Removes `position`; whether none are left.
fn remove_position(positions: &mut Positions, position: i64) -> bool {
    if let Ok(at) = positions.binary_search(&position) {
        positions.remove(at);
    }
    positions.is_empty()
}

/// A page of positions chosen from a view.
#[derive(Debug, Default)]
pub(super) struct Selection {
    /// Positions, ascending.
    pub positions: Vec<i64>,
    /// Released ids at those positions.
    pub ids: Vec<Arc<str>>,
    /// More released entries match after the last one.
    pub more: bool,
}

impl ReleaseView {
    pub(super) fn new(recipient: &str, collection: &str) -> ReleaseView {
        ReleaseView {
            recipient: recipient.to_string(),
            collection: collection.to_string(),
            basis: None,
            rebuild_at: i64::MAX,
            entries_seen: 0,
            objects_seen: 0,
            removals_seen: 0,
            released: BTreeMap::new(),
            by_id: HashMap::new(),
            by_stored_id: HashMap::new(),
            by_type: HashMap::new(),
            dependents: HashMap::new(),
            depends_on: HashMap::new(),
            rechecks: BTreeMap::new(),
            stale: BTreeSet::new(),
            names: Names::default(),
            statements: None,
            trends: None,
        }
    }

    /// Bring the view up to date with the store, the agreements and the clock.
    /// Returns how many new entries of the collection it decided.
    pub(super) fn refresh(&mut self, ctx: &Ctx<'_>) -> Result<u64, EgressError> {
        if self.basis != Some(self.basis_now(ctx)) || ctx.now >= self.rebuild_at {
            self.reset(ctx)?;
        }
        let collection = self.collection.clone();
        let mut dirty: BTreeSet<i64> = std::mem::take(&mut self.stale);
        while let Some(entry) = self.rechecks.first_entry() {
            if *entry.key() > ctx.now {
                break;
            }
            dirty.extend(entry.remove());
        }
        self.read_removals(ctx.store, &mut dirty)?;
        self.read_new_objects(ctx.store, &mut dirty)?;
        // One memo for the new entries, another for what is decided again: those
        // are decided again because something they looked up changed, and must read
        // it as the store holds it now.
        let resolver = StoreResolver::new(ctx.store, Some(&collection));
        let decided = self.decide_new_entries(ctx, &resolver, &mut dirty)?;
        let resolver = StoreResolver::new(ctx.store, Some(&collection));
        self.decide_again(ctx, &resolver, dirty)?;
        self.send_trend_events(ctx.store)?;
        Ok(decided)
    }

    /// Sends the recipient's trend cells what was released and forgotten since the
    /// last time (kept to send again when they cannot take it now: the store failed).
    /// A tap whose cells are gone (rebuilt for other collections) is dropped.
    fn send_trend_events(&mut self, store: &dyn Store) -> Result<(), EgressError> {
        let Some(tap) = &mut self.trends else {
            return Ok(());
        };
        let Some(cells) = tap.cells.upgrade() else {
            self.trends = None;
            return Ok(());
        };
        if tap.pending.is_empty() {
            return Ok(());
        }
        let mut cells = cells.lock().unwrap_or_else(|p| p.into_inner());
        cells.apply(store, &self.collection, &mut tap.pending)?;
        Ok(())
    }

    /// Makes this view send what it releases to `cells` (the recipient's trend
    /// cells), starting with every entry it releases now (each decided again: the
    /// view keeps which entries it releases, not their text; an entry the gate now
    /// decides otherwise is decided again at the next refresh, and sent then).
    /// Nothing when it already does.
    pub(super) fn tap_trends(
        &mut self,
        ctx: &Ctx<'_>,
        cells: &Arc<Mutex<PartnerTrends>>,
    ) -> Result<(), EgressError> {
        let target = Arc::downgrade(cells);
        if self
            .trends
            .as_ref()
            .is_some_and(|t| Weak::ptr_eq(&t.cells, &target))
        {
            return Ok(());
        }
        self.trends = Some(TrendTap {
            cells: target,
            pending: Vec::new(),
        });
        if let Err(e) = self.send_released(ctx) {
            self.trends = None;
            return Err(e);
        }
        Ok(())
    }

    fn send_released(&mut self, ctx: &Ctx<'_>) -> Result<(), EgressError> {
        let positions: Vec<i64> = self
            .released
            .iter()
            .filter(|(_, slot)| trend_cells::files(&slot.kind))
            .map(|(p, _)| *p)
            .collect();
        self.judge_again(ctx, &positions, |view, position, judgement| {
            let (Verdict::Released(_), Some(filing)) = (&judgement.verdict, judgement.trend_filing)
            else {
                view.stale.insert(position);
                return;
            };
            let (Some(slot), Some(tap)) = (view.released.get(&position), &mut view.trends) else {
                return;
            };
            tap.pending.push(TrendEvent::Released {
                id: slot.id.clone(),
                version: slot.version,
                position,
                filing,
            });
        })
    }

    /// Judges the entries at `positions` again (those still in the collection), a
    /// batch at a time on one memo, handing each judgement to `each`.
    fn judge_again(
        &mut self,
        ctx: &Ctx<'_>,
        positions: &[i64],
        mut each: impl FnMut(&mut Self, i64, Judgement),
    ) -> Result<(), EgressError> {
        let collection = self.collection.clone();
        let resolver = StoreResolver::new(ctx.store, Some(&collection));
        for chunk in positions.chunks(REFRESH_BATCH) {
            let rows = ctx.store.entries_at(&collection, chunk)?;
            let judged = self.judge_all(ctx, &resolver, &rows);
            for (row, judgement) in rows.iter().zip(judged) {
                each(self, row.cursor.0, judgement?);
            }
        }
        Ok(())
    }

    /// What this view would be built from under `ctx`.
    fn basis_now(&self, ctx: &Ctx<'_>) -> Basis {
        ctx.basis.of_view(ctx.gate, &self.recipient)
    }

    /// Forget everything and start from the collection's first entry.
    fn reset(&mut self, ctx: &Ctx<'_>) -> Result<(), EgressError> {
        let recipient = std::mem::take(&mut self.recipient);
        let collection = std::mem::take(&mut self.collection);
        let statements = self.statements.is_some();
        let mut trends = self.trends.take();
        if let Some(tap) = &mut trends {
            tap.pending.extend(
                self.released
                    .iter()
                    .filter(|(_, slot)| trend_cells::files(&slot.kind))
                    .map(|(position, slot)| TrendEvent::Forgotten {
                        id: slot.id.clone(),
                        version: slot.version,
                        position: *position,
                    }),
            );
        }
        *self = ReleaseView::new(&recipient, &collection);
        // Asked for once, filed from the start as the entries are decided again.
        if statements {
            self.statements = Some(Statements::default());
        }
        self.trends = trends;
        self.basis = Some(self.basis_now(ctx));
        self.rebuild_at = next_agreement_boundary(ctx.gate, &self.recipient, ctx.now);
        // Changes so far are in what the entries are decided from now; the change feeds
        // start at their current ends (read before any entry is decided, so nothing
        // stored meanwhile is missed).
        let heads = ctx.store.feed_heads()?;
        self.objects_seen = heads.objects;
        self.removals_seen = heads.removals;
        Ok(())
    }

    fn read_removals(
        &mut self,
        store: &dyn Store,
        dirty: &mut BTreeSet<i64>,
    ) -> Result<(), EgressError> {
        loop {
            let removals = store.removals_after(self.removals_seen, REFRESH_BATCH)?;
            let Some(last) = removals.last().map(|r| r.seq) else {
                return Ok(());
            };
            for removal in removals.iter().filter(|r| r.collection == self.collection) {
                self.touch(&removal.id, dirty);
            }
            self.removals_seen = last;
        }
    }

    /// Where the view stands in the store's feed of new versions, if it follows it
    /// under `ctx` (decided before, and not to be rebuilt now).
    pub(super) fn arrivals_seen(&self, ctx: &Ctx<'_>) -> Option<i64> {
        (self.basis == Some(self.basis_now(ctx)) && ctx.now < self.rebuild_at)
            .then_some(self.objects_seen)
    }

    /// Takes a run of the store's feed of new versions, read once for every view
    /// ([`super::Egress::refresh_views`]): the entries whose decisions looked up one of
    /// the ids are decided again at the next refresh. `batch` holds every version
    /// stored after some position at or before the view's, in order.
    pub(super) fn note_arrivals(&mut self, batch: &[(i64, String)]) {
        let Some(&(last, _)) = batch.last() else {
            return;
        };
        for (_, id) in batch.iter().filter(|(at, _)| *at > self.objects_seen) {
            if let Some(positions) = self.dependents.get(id.as_str()) {
                self.stale.extend(positions.iter().copied());
            }
        }
        self.objects_seen = self.objects_seen.max(last);
    }

    fn read_new_objects(
        &mut self,
        store: &dyn Store,
        dirty: &mut BTreeSet<i64>,
    ) -> Result<(), EgressError> {
        loop {
            let added = store.ids_added_after(self.objects_seen, REFRESH_BATCH)?;
            let Some(last) = added.last().map(|(at, _)| *at) else {
                return Ok(());
            };
            for (_, id) in &added {
                if let Some(positions) = self.dependents.get(id.as_str()) {
                    dirty.extend(positions.iter().copied());
                }
            }
            self.objects_seen = last;
        }
    }

    fn decide_new_entries(
        &mut self,
        ctx: &Ctx<'_>,
        resolver: &StoreResolver<'_>,
        dirty: &mut BTreeSet<i64>,
    ) -> Result<u64, EgressError> {
        let mut query = ObjectQuery::new(Scope::Collection(self.collection.clone()), REFRESH_BATCH);
        query.versions = VersionFilter::all();
        let mut decided = 0u64;
        loop {
            query.added_after = Some(self.entries_seen);
            let page = ctx.store.query(&query)?;
            decided += page.rows.len() as u64;
            let judged = self.judge_all(ctx, resolver, &page.rows);
            for (row, judgement) in page.rows.iter().zip(judged) {
                // A new entry of an id changes what the provider holds in this
                // collection: what was decided with the id is decided again (with
                // what the store holds now: not from this refresh's memo).
                self.touch_dependents(&row.id, dirty);
                resolver.forget(&row.id);
                self.record(ctx, row, judgement?);
                dirty.remove(&row.cursor.0);
                self.entries_seen = row.cursor.0;
            }
            if !page.more {
                return Ok(decided);
            }
        }
    }

    /// The gate's judgement of each of `rows`, in order: on [`JUDGES`] threads when
    /// there are enough rows, all sharing `resolver` (its cache is a memo: the answers
    /// are the store's either way; one for a whole refresh, so that what many entries
    /// reference is looked up once). The first pass over a large collection (a
    /// partner's first pull) decides every entry before the first page is answered;
    /// on one thread that was 2.6 µs an entry, the partner waiting (BENCHMARKS.md,
    /// "Federation pull").
    fn judge_all(
        &self,
        ctx: &Ctx<'_>,
        resolver: &StoreResolver<'_>,
        rows: &[ObjectRow],
    ) -> Vec<Result<Judgement, EgressError>> {
        let threads = judges();
        if threads < 2 || rows.len() < JUDGE_IN_PARALLEL_FROM {
            return rows
                .iter()
                .map(|row| self.judge(ctx, resolver, row))
                .collect();
        }
        let chunk = rows.len().div_ceil(threads);
        let parts: Vec<Vec<Result<Judgement, EgressError>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = rows
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|row| self.judge(ctx, resolver, row))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                // A panic in a judge is the gate's bug: raised here as it would be
                // on one thread.
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        parts.into_iter().flatten().collect()
    }

    fn decide_again(
        &mut self,
        ctx: &Ctx<'_>,
        resolver: &StoreResolver<'_>,
        dirty: BTreeSet<i64>,
    ) -> Result<(), EgressError> {
        let positions: Vec<i64> = dirty
            .into_iter()
            .filter(|p| *p <= self.entries_seen)
            .collect();
        for chunk in positions.chunks(REFRESH_BATCH) {
            let rows = ctx.store.entries_at(&self.collection, chunk)?;
            let mut present = rows.iter().map(|r| r.cursor.0).peekable();
            for &position in chunk {
                if present.peek() == Some(&position) {
                    present.next();
                } else {
                    self.forget(position); // removed from the collection
                }
            }
            for row in &rows {
                self.decide(ctx, resolver, row)?;
            }
        }
        Ok(())
    }

    /// Decide one entry and record what the decision depended on.
    fn decide(
        &mut self,
        ctx: &Ctx<'_>,
        resolver: &StoreResolver<'_>,
        row: &ObjectRow,
    ) -> Result<(), EgressError> {
        let judgement = self.judge(ctx, resolver, row)?;
        self.record(ctx, row, judgement);
        Ok(())
    }

    /// What the gate decides of one entry for this view's recipient, and the ids it
    /// looked up (found or not) on the way. Reads the store, changes nothing.
    fn judge(
        &self,
        ctx: &Ctx<'_>,
        resolver: &StoreResolver<'_>,
        row: &ObjectRow,
    ) -> Result<Judgement, EgressError> {
        let facts = super::facts_of(row)?;
        // A fresh view per decision: the gate's memo would skip the lookups of objects
        // already decided in this view, and their ids must be recorded here too.
        let view = ctx.gate.view(&self.recipient, UtcMicros(ctx.now));
        let bound = resolver.bound(&row.provenance.organisation);
        let version = ObjectVersion {
            facts: &facts,
            provider: &row.provenance.organisation,
            collection: Some(&self.collection),
            date_added: UtcMicros(row.date_added),
            raw: &row.json,
        };
        let mut filing = None;
        let mut trend_filing = None;
        let verdict = match view.decide(&version, &bound) {
            Decision::Release(release) => {
                let for_trends = self.trends.is_some() && trend_cells::files(&row.object_type);
                // Extracted once for both filings.
                let analytics = (self.statements.is_some() || for_trends)
                    .then(|| crate::analytics::extract_text(&release.bytes))
                    .flatten();
                trend_filing = for_trends.then(|| {
                    Box::new(TrendFiling::of_released(
                        &row.object_type,
                        &release.bytes,
                        analytics.as_ref(),
                        &row.provenance.organisation,
                        row.date_added,
                    ))
                });
                filing = analytics.filter(|_| self.statements.is_some());
                Verdict::Released(release.released_id)
            }
            Decision::Withhold(reason) => Verdict::Withheld(reason),
        };
        bound.check()?;
        Ok(Judgement {
            verdict,
            asked: bound.into_asked(),
            filing,
            trend_filing,
        })
    }

    /// Keeps a judgement of the entry at `row`'s position (what was there before is
    /// forgotten): released, or when to look again, and what it depended on.
    fn record(&mut self, ctx: &Ctx<'_>, row: &ObjectRow, judgement: Judgement) {
        let position = row.cursor.0;
        self.forget(position);
        match judgement.verdict {
            Verdict::Released(released_id) => {
                self.insert(row, released_id, judgement.filing, judgement.trend_filing)
            }
            Verdict::Withheld(reason) => {
                if let Some(at) = recheck_at(&reason, ctx.now) {
                    self.rechecks.entry(at).or_default().push(position);
                }
            }
        }
        let asked = judgement.asked;
        if !asked.is_empty() {
            let asked: Box<[Arc<str>]> = asked.iter().map(|id| self.name(id)).collect();
            for id in asked.iter() {
                self.dependents
                    .entry(id.clone())
                    .or_default()
                    .insert(position);
            }
            self.depends_on.insert(position, asked);
        }
    }

    fn insert(
        &mut self,
        row: &ObjectRow,
        released_id: Option<String>,
        filing: Option<Analytics>,
        trend_filing: Option<Box<TrendFiling>>,
    ) {
        let position = row.cursor.0;
        let stored: Arc<str> = Arc::from(row.id.as_str());
        let (id, stored_id) = match released_id {
            Some(released) if released != row.id => (Arc::from(released.as_str()), Some(stored)),
            _ => (stored, None),
        };
        let slot = Slot {
            id: id.clone(),
            stored_id: stored_id.clone(),
            kind: self.name(&row.object_type),
            spec_version: self.name(&row.spec_version),
            version: row.version_micros,
        };
        self.by_id
            .entry(id)
            .or_default()
            .insert((slot.version, position));
        if let Some(stored) = stored_id {
            self.by_stored_id
                .entry(stored)
                .or_default()
                .insert(position);
        }
        self.by_type
            .entry(slot.kind.clone())
            .or_default()
            .insert(position);
        if let (Some(tap), Some(filing)) = (&mut self.trends, trend_filing) {
            tap.pending.push(TrendEvent::Released {
                id: slot.id.clone(),
                version: slot.version,
                position,
                filing,
            });
        }
        self.released.insert(position, slot);
        if let (Some(statements), Some(filing)) = (&mut self.statements, filing) {
            statements.file(position, filing);
        }
    }

    /// Drop what the view holds for a position (before deciding it again, or after it
    /// left the collection). Pending rechecks stay: deciding again is harmless.
    fn forget(&mut self, position: i64) {
        if let Some(slot) = self.released.remove(&position) {
            remove_from(&mut self.by_id, &slot.id, &(slot.version, position));
            if let Some(stored) = &slot.stored_id {
                remove_from(&mut self.by_stored_id, stored, &position);
            }
            remove_from(&mut self.by_type, &slot.kind, &position);
            if let Some(statements) = &mut self.statements {
                statements.forget(position);
            }
            if let Some(tap) = &mut self.trends {
                if trend_cells::files(&slot.kind) {
                    tap.pending.push(TrendEvent::Forgotten {
                        id: slot.id,
                        version: slot.version,
                        position,
                    });
                }
            }
        }
        if let Some(asked) = self.depends_on.remove(&position) {
            for id in asked.iter() {
                if let Some(set) = self.dependents.get_mut(id) {
                    set.remove(&position);
                    if set.is_empty() {
                        self.dependents.remove(id);
                    }
                }
            }
        }
    }

    /// Mark for a new decision every entry of `id` and everything decided with it.
    fn touch(&self, id: &str, dirty: &mut BTreeSet<i64>) {
        if let Some(versions) = self.by_id.get(id) {
            dirty.extend(versions.iter().map(|(_, p)| *p));
        }
        if let Some(positions) = self.by_stored_id.get(id) {
            dirty.extend(positions.iter().copied());
        }
        self.touch_dependents(id, dirty);
    }

    fn touch_dependents(&self, id: &str, dirty: &mut BTreeSet<i64>) {
        if let Some(positions) = self.dependents.get(id) {
            dirty.extend(positions.iter().copied());
        }
    }

    /// Decide `position` again at the next refresh.
    pub(super) fn mark_stale(&mut self, position: i64) {
        self.stale.insert(position);
    }

    fn name(&mut self, text: &str) -> Arc<str> {
        self.names.of(text)
    }

    /// The released positions whose released text states `(kind, value)` (as the
    /// analytics extract it), ascending; a few more when another value shares its
    /// hash, and the caller checks the text. The first call files every released
    /// entry, deciding each again (O(what the view releases)).
    pub(super) fn stating(
        &mut self,
        ctx: &Ctx<'_>,
        kind: &str,
        value: &str,
    ) -> Result<Vec<i64>, EgressError> {
        let statements = self.statements(ctx)?;
        let key = statements.key(kind, value);
        Ok(statements
            .by_value
            .get(&key)
            .map(|positions| positions.to_vec())
            .unwrap_or_default())
    }

    /// The released positions of sightings whose released text sights `id`, ascending.
    pub(super) fn sightings_of(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
    ) -> Result<Vec<i64>, EgressError> {
        let statements = self.statements(ctx)?;
        Ok(statements
            .by_sighted
            .get(id)
            .map(|positions| positions.to_vec())
            .unwrap_or_default())
    }

    /// The view's [`Statements`], filed from its released entries on first use (each
    /// decided again: the view keeps which entries it releases, not their text).
    fn statements(&mut self, ctx: &Ctx<'_>) -> Result<&Statements, EgressError> {
        if self.statements.is_none() {
            // Present while the entries are judged, so that the judgements say what
            // each released text states.
            self.statements = Some(Statements::default());
            if let Err(e) = self.file_released(ctx) {
                self.statements = None;
                return Err(e);
            }
        }
        Ok(self.statements.get_or_insert_with(Statements::default))
    }

    fn file_released(&mut self, ctx: &Ctx<'_>) -> Result<(), EgressError> {
        let positions: Vec<i64> = self.released.keys().copied().collect();
        self.judge_again(ctx, &positions, |view, position, judgement| {
            if let (Some(statements), Some(filing)) = (&mut view.statements, judgement.filing) {
                statements.file(position, filing);
            }
        })
    }

    /// Up to `limit` released entries matching `query` after position `after`, in
    /// order, and whether more follow. Works on released entries only.
    pub(super) fn select(
        &self,
        query: &ObjectQuery,
        after: Option<i64>,
        limit: usize,
    ) -> Selection {
        let start = after.into_iter().chain(query.added_after).max();
        let mut selection = Selection::default();
        let mut candidates = self.candidates(query, start);
        for position in candidates.by_ref() {
            let Some(slot) = self.released.get(&position) else {
                continue;
            };
            if !self.matches(query, slot) {
                continue;
            }
            if selection.positions.len() == limit {
                selection.more = true;
                break;
            }
            selection.positions.push(position);
            selection.ids.push(slot.id.clone());
        }
        selection
    }

    /// Positions after `start` that may match, ascending: by id or type when the query
    /// names them, else every released position.
    fn candidates<'v>(
        &'v self,
        query: &ObjectQuery,
        start: Option<i64>,
    ) -> Box<dyn Iterator<Item = i64> + 'v> {
        let from = start.map_or(i64::MIN, |s| s.saturating_add(1));
        if !query.ids.is_empty() {
            let mut positions: Vec<i64> = query
                .ids
                .iter()
                .filter_map(|id| self.by_id.get(id.as_str()))
                .flat_map(|versions| versions.iter().map(|(_, p)| *p))
                .filter(|p| *p >= from)
                .collect();
            positions.sort_unstable();
            positions.dedup();
            return Box::new(positions.into_iter());
        }
        if !query.types.is_empty() {
            let sets: Vec<&BTreeSet<i64>> = query
                .types
                .iter()
                .filter_map(|t| self.by_type.get(t.as_str()))
                .collect();
            return Box::new(merge_ascending(sets, from));
        }
        Box::new(self.released.range(from..).map(|(p, _)| *p))
    }

    fn matches(&self, query: &ObjectQuery, slot: &Slot) -> bool {
        if !query.types.is_empty() && !query.types.iter().any(|t| **t == *slot.kind) {
            return false;
        }
        if !query.spec_versions.is_empty()
            && !query
                .spec_versions
                .iter()
                .any(|v| **v == *slot.spec_version)
        {
            return false;
        }
        let versions = &query.versions;
        if versions.all {
            return true;
        }
        let Some(all) = self.by_id.get(&slot.id) else {
            return false;
        };
        let (first, last) = match (all.first(), all.last()) {
            (Some(f), Some(l)) => (f.0, l.0),
            _ => return false,
        };
        (versions.last && slot.version == last)
            || (versions.first && slot.version == first)
            || versions.exact.contains(&slot.version)
    }
}

fn remove_from<K: std::hash::Hash + Eq + ?Sized, T: Ord, Q>(
    map: &mut HashMap<Arc<K>, BTreeSet<T>>,
    key: &Q,
    value: &T,
) where
    Arc<K>: std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(set) = map.get_mut(key) {
        set.remove(value);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

/// The ascending union of several sorted sets, from `from` on.
fn merge_ascending<'v>(sets: Vec<&'v BTreeSet<i64>>, from: i64) -> impl Iterator<Item = i64> + 'v {
    let mut ranges: Vec<std::iter::Peekable<std::collections::btree_set::Range<'v, i64>>> = sets
        .into_iter()
        .map(|s| s.range(from..).peekable())
        .collect();
    std::iter::from_fn(move || {
        let (best, _) = ranges
            .iter_mut()
            .enumerate()
            .filter_map(|(i, r)| r.peek().map(|v| (i, **v)))
            .min_by_key(|(_, v)| *v)?;
        ranges[best].next().copied()
    })
}

/// When a withholding may end by itself, with time.
fn recheck_at(reason: &WithholdReason, now: i64) -> Option<i64> {
    match reason {
        WithholdReason::Embargoed { until } => Some(until.0),
        WithholdReason::RetentionBeforeValidFrom => Some(
            now.div_euclid(DAY_MICROS)
                .saturating_add(1)
                .saturating_mul(DAY_MICROS),
        ),
        WithholdReason::ReferencesWithheld { because, .. } => recheck_at(because, now),
        _ => None,
    }
}

/// The next instant after `now` at which one of `recipient`'s agreements starts or
/// ends (the set in force changes, so the view is rebuilt).
fn next_agreement_boundary(gate: &Gate, recipient: &str, now: i64) -> i64 {
    gate.agreements()
        .iter()
        .filter(|a| a.recipient().id == recipient)
        .flat_map(|a| [Some(a.valid_from().0), a.valid_until().map(|u| u.0)])
        .flatten()
        .filter(|t| *t > now)
        .min()
        .unwrap_or(i64::MAX)
}
