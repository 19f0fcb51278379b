//! The gate: for one recipient and one object version, release (in the form the
//! agreement requires) or withhold, with the reason.
//!
//! Every egress path calls [`RecipientView::decide`]. Building a
//! [`RecipientView`] once per request selects the agreements that apply to the
//! recipient at `now`; each decision after that is a few hash lookups on the
//! precomputed [`ObjectFacts`], and returns the stored text untouched
//! (`Cow::Borrowed`) when the agreement asks for no change: the fast path.

mod evaluate;
mod reason;
mod render;
mod splice;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use reason::WithholdReason;
pub use render::{pseudonymise_text, sco_id, SCO_NAMESPACE};

use crate::agreement::{Agreement, AgreementRef};
use crate::facts::ObjectFacts;
use crate::time::UtcMicros;

/// The text that replaces an id mentioned in a string (prose, custom properties,
/// external references) when the recipient may not receive the object it names.
pub const WITHHELD_ID: &str = "[withheld]";

/// Longest chain of references followed from one object (a report → a
/// relationship → its endpoints is 2). Beyond it the referencing object is
/// withheld ([`WithholdReason::ReferenceChainTooDeep`]).
pub const MAX_REFERENCE_DEPTH: usize = 6;

/// Most referenced objects evaluated for one decision; past it the object is
/// withheld, so a crafted web of references cannot make a read unbounded.
pub const MAX_REFERENCE_EVALUATIONS: usize = 20_000;

/// One object version as the store hands it to the gate.
#[derive(Clone, Copy, Debug)]
pub struct ObjectVersion<'a> {
    /// The facts extracted at ingest from `raw`.
    pub facts: &'a ObjectFacts,
    /// The organisation that provided the object (provenance).
    pub provider: &'a str,
    /// The collection the object is read from, if any.
    pub collection: Option<&'a str>,
    /// When this version was added to the store (TAXII `date_added`).
    pub date_added: UtcMicros,
    /// The stored JSON text of the object.
    pub raw: &'a str,
}

/// A referenced object as the store resolves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedObject {
    /// Facts of the version the recipient would be served (normally the latest).
    pub facts: ObjectFacts,
    /// Its provider.
    pub provider: String,
    /// Its collection, if any.
    pub collection: Option<String>,
    /// Its `date_added`.
    pub date_added: UtcMicros,
    /// Its stored JSON text. The gate needs it for an SCO whose id derives from a
    /// customer address (a `url`, a `network-traffic` pointing at an address
    /// object, ...) to compute the id it is released under; without it, a
    /// reference to such an SCO is withheld.
    pub raw: Option<Arc<str>>,
}

/// Where an object is located, by the hub's enrichment (countries and autonomous
/// systems of the addresses it is about). Computed outside this crate (the node reads
/// the enrichment the store keeps) and asked for through
/// [`ReferenceResolver::locate`] only under an agreement whose scope has `countries`
/// or `asns`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// ISO 3166-1 alpha-2 codes, uppercase.
    pub countries: Vec<String>,
    /// Autonomous system numbers.
    pub asns: Vec<u32>,
}

impl Location {
    /// Whether nothing is known of where the object is.
    pub fn is_unknown(&self) -> bool {
        self.countries.is_empty() && self.asns.is_empty()
    }
}

/// How the gate looks up objects that an object references. The store
/// implements it; `None` means the store has no object with that id.
pub trait ReferenceResolver {
    /// The referenced object, or `None` if it is not in the store.
    fn resolve(&self, id: &str) -> Option<ResolvedObject>;

    /// The object `id` as named by an object read from `collection` (`None`: an
    /// object read store-wide, or one that was itself resolved outside the collection
    /// being read). The gate asks this way for every lookup.
    ///
    /// Why: an object is judged where it was found. A relationship the provider holds
    /// only outside the collection being read is judged as held in the store (its
    /// `collection` is `None`), so its endpoints must be the ones it has there too;
    /// resolving them in the collection being read would judge a relationship that
    /// exists nowhere (one whose endpoint is an older version the recipient may read)
    /// and release references to an object withheld wherever it is held.
    ///
    /// The default ignores `collection` (a resolver without collections).
    fn resolve_from(&self, id: &str, collection: Option<&str>) -> Option<ResolvedObject> {
        let _ = collection;
        self.resolve(id)
    }

    /// Where the object with these facts and stored text is located (`None`: not
    /// known). The default knows nothing, so an agreement scoped by location withholds
    /// everything it would have to locate (fail-closed).
    fn locate(&self, facts: &ObjectFacts, raw: &str) -> Option<Location> {
        let _ = (facts, raw);
        None
    }
}

impl<F: Fn(&str) -> Option<ResolvedObject>> ReferenceResolver for F {
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        self(id)
    }
}

impl ReferenceResolver for HashMap<String, ResolvedObject> {
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        self.get(id).cloned()
    }
}

/// A resolver that knows no objects (every reference is dangling).
pub struct NoObjects;

impl ReferenceResolver for NoObjects {
    fn resolve(&self, _id: &str) -> Option<ResolvedObject> {
        None
    }
}

/// Why the gate could not be built from a set of agreements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// Two agreements have the same id and version.
    #[error("agreement {0} is loaded twice")]
    Duplicate(AgreementRef),
    /// Versions of one agreement name different organisations.
    #[error("agreement {agreement} names {found} but earlier versions name {expected}; an agreement's parties cannot change between versions")]
    PartiesChanged {
        /// The agreement version.
        agreement: AgreementRef,
        /// Parties of the earlier version (`provider → recipient`).
        expected: String,
        /// Parties of this version.
        found: String,
    },
    /// The agreement pseudonymises customer addresses but no key was attached.
    #[error("agreement {0} pseudonymises customer addresses but its key was not loaded")]
    MissingKey(AgreementRef),
}

/// All loaded agreements, indexed for the gate.
#[derive(Debug)]
pub struct Gate {
    agreements: Vec<Agreement>,
    by_recipient: HashMap<String, Vec<usize>>,
    obligation_markings: HashMap<String, usize>,
    /// The node's own organisation, when set ([`Gate::with_holder`]).
    holder: Option<String>,
}

impl Gate {
    /// Indexes the agreements, checking that each (id, version) is unique, that
    /// versions keep their parties, and that every needed key is attached.
    pub fn new(agreements: impl IntoIterator<Item = Agreement>) -> Result<Gate, GateError> {
        let agreements: Vec<Agreement> = agreements.into_iter().collect();
        let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        let mut versions = std::collections::BTreeSet::new();
        for a in &agreements {
            if !versions.insert((a.id(), a.version())) {
                return Err(GateError::Duplicate(a.reference()));
            }
            let parties = (a.provider().id.as_str(), a.recipient().id.as_str());
            if let Some(expected) = seen.insert(a.id(), parties) {
                if expected != parties {
                    return Err(GateError::PartiesChanged {
                        agreement: a.reference(),
                        expected: format!("{} → {}", expected.0, expected.1),
                        found: format!("{} → {}", parties.0, parties.1),
                    });
                }
            }
            if a.needs_key() {
                return Err(GateError::MissingKey(a.reference()));
            }
        }
        let mut by_recipient: HashMap<String, Vec<usize>> = HashMap::new();
        let mut obligation_markings = HashMap::new();
        for (i, a) in agreements.iter().enumerate() {
            by_recipient
                .entry(a.recipient().id.clone())
                .or_default()
                .push(i);
            if let Some(id) = a.obligations_marking_id() {
                obligation_markings.insert(id.to_owned(), i);
            }
        }
        Ok(Gate {
            agreements,
            by_recipient,
            obligation_markings,
            holder: None,
        })
    }

    /// The gate of a node whose own organisation is `holder`: onward sharing applies.
    ///
    /// An object whose provider has no agreement with the recipient, but has one
    /// with the holder (the node received it, from a federation peer or a member),
    /// is released only when the provider's agreement in force with the holder
    /// permits onward sharing (`obligations.onward_sharing`), and then under the
    /// holder's own agreements with the recipient, as if the holder had provided it.
    /// Otherwise it is withheld ([`WithholdReason::OnwardSharingForbidden`]). The
    /// provider's own direct agreements with a recipient, when there are any, decide
    /// as before. Without a holder, an object is released only under its provider's
    /// agreements.
    pub fn with_holder(mut self, holder: impl Into<String>) -> Gate {
        self.holder = Some(holder.into());
        self
    }

    /// The node's own organisation, if set.
    pub fn holder(&self) -> Option<&str> {
        self.holder.as_deref()
    }

    /// Per provider: whether what the holder received from it may go onward, from
    /// the provider's agreements in force with the holder at `now`.
    fn onward_terms(
        &self,
        recipient: &str,
        now: UtcMicros,
    ) -> HashMap<String, Result<(), WithholdReason>> {
        let mut out = HashMap::new();
        let Some(holder) = self.holder.as_deref().filter(|h| *h != recipient) else {
            return out;
        };
        let mut chosen: BTreeMap<(&str, &str), &Agreement> = BTreeMap::new();
        for &i in self.by_recipient.get(holder).into_iter().flatten() {
            let a = &self.agreements[i];
            if a.valid_from() <= now {
                let slot = chosen
                    .entry((a.provider().id.as_str(), a.id()))
                    .or_insert(a);
                if a.version() > slot.version() {
                    *slot = a;
                }
            }
        }
        for ((provider, _), a) in chosen {
            let verdict = if a.is_active(now) && a.obligations().onward_sharing {
                Ok(())
            } else {
                Err(WithholdReason::OnwardSharingForbidden {
                    agreement: a.reference(),
                })
            };
            // Every agreement in force must permit it: which one an object arrived
            // under is not known here, so the strictest decides.
            let entry = out.entry(provider.to_owned()).or_insert(Ok(()));
            if entry.is_ok() {
                *entry = verdict;
            }
        }
        out
    }

    /// The agreements, in load order.
    pub fn agreements(&self) -> &[Agreement] {
        &self.agreements
    }

    /// The decision context for one recipient at `now` (build one per request).
    ///
    /// Which agreement applies, per provider: for each agreement id between the
    /// provider and the recipient, the highest version whose validity has started
    /// (a newer version supersedes the older ones from its `validity.from`); of
    /// those, the ones still valid are tried in order of agreement id, and the
    /// first that releases the object decides its form. When none releases, the
    /// reason given is the first agreement's.
    pub fn view<'g>(&'g self, recipient: &str, now: UtcMicros) -> RecipientView<'g> {
        let mut chosen: BTreeMap<(&str, &str), &'g Agreement> = BTreeMap::new();
        let mut pending: BTreeMap<(&str, &str), &'g Agreement> = BTreeMap::new();
        for &i in self.by_recipient.get(recipient).into_iter().flatten() {
            let a = &self.agreements[i];
            let key = (a.provider().id.as_str(), a.id());
            if a.valid_from() <= now {
                let slot = chosen.entry(key).or_insert(a);
                if a.version() > slot.version() {
                    *slot = a;
                }
            } else {
                let slot = pending.entry(key).or_insert(a);
                if a.valid_from() < slot.valid_from() {
                    *slot = a;
                }
            }
        }
        let mut terms: HashMap<&'g str, Terms<'g>> = HashMap::new();
        for a in chosen.values() {
            let entry = terms
                .entry(a.provider().id.as_str())
                .or_insert(Terms::Active(Vec::new()));
            if a.is_active(now) {
                match entry {
                    Terms::Active(list) => list.push(a),
                    other => *other = Terms::Active(vec![a]),
                }
            } else if matches!(entry, Terms::Active(list) if list.is_empty()) {
                *entry = Terms::Inactive(WithholdReason::AgreementExpired {
                    agreement: a.reference(),
                    until: a.valid_until().unwrap_or(now),
                });
            }
        }
        for a in pending.values() {
            terms.entry(a.provider().id.as_str()).or_insert_with(|| {
                Terms::Inactive(WithholdReason::AgreementNotYetValid {
                    agreement: a.reference(),
                    from: a.valid_from(),
                })
            });
        }
        RecipientView {
            gate: self,
            recipient: recipient.to_owned(),
            now,
            onward: self.onward_terms(recipient, now),
            terms,
            memo: RefCell::new(HashMap::new()),
        }
    }

    pub(crate) fn obligations_marking_owner(&self, id: &str) -> Option<&Agreement> {
        self.obligation_markings
            .get(id)
            .map(|&i| &self.agreements[i])
    }
}

/// What applies between one provider and the view's recipient.
#[derive(Debug)]
enum Terms<'g> {
    /// Agreements in force, in order of agreement id.
    Active(Vec<&'g Agreement>),
    /// Agreements exist but none is in force.
    Inactive(WithholdReason),
}

/// The gate for one recipient at one instant.
///
/// ```
/// use accord_agreements::{Agreement, Decision, Gate, NoObjects, ObjectFacts, ObjectVersion, UtcMicros};
/// let agreement = Agreement::from_toml(r#"
///     id = "demo"
///     version = 1
///     provider = { id = "telco" }
///     recipient = { id = "cert" }
///     purpose = "Blocking of botnet C2 servers"
///     legal_basis = "Contract 2026-17"
///     obligations = { onward_sharing = true }
///     validity = { from = 2026-01-01T00:00:00Z }
///     scope = { types = ["indicator"], max_tlp = "GREEN" }
/// "#).unwrap();
/// let gate = Gate::new([agreement]).unwrap();
/// let raw = r#"{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}"#;
/// let facts = ObjectFacts::extract(&serde_json::from_str(raw).unwrap());
/// let now = UtcMicros::parse("2026-06-01T00:00:00Z").unwrap();
/// let view = gate.view("cert", now);
/// let object = ObjectVersion { facts: &facts, provider: "telco", collection: None, date_added: now, raw };
/// match view.decide(&object, &NoObjects) {
///     Decision::Release(r) => assert!(!r.is_transformed()),
///     Decision::Withhold(reason) => panic!("{reason}"),
/// }
/// assert!(matches!(gate.view("someone-else", now).decide(&object, &NoObjects), Decision::Withhold(_)));
/// ```
#[derive(Debug)]
pub struct RecipientView<'g> {
    gate: &'g Gate,
    recipient: String,
    now: UtcMicros,
    terms: HashMap<&'g str, Terms<'g>>,
    /// Providers the holder received from, and whether that may go onward.
    onward: HashMap<String, Result<(), WithholdReason>>,
    /// Outcomes of referenced objects that did not depend on an assumption about
    /// an object still being evaluated (see `evaluate.rs`), valid for this view: by
    /// the collection the referencing object was read from (an id resolves to another
    /// version store-wide, see [`ReferenceResolver::resolve_from`]), then by id.
    memo: RefCell<HashMap<Option<String>, HashMap<String, evaluate::Memoised>>>,
}

impl<'g> RecipientView<'g> {
    /// The recipient.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The instant decisions are made at.
    pub fn now(&self) -> UtcMicros {
        self.now
    }

    /// Whether any agreement with `provider` is in force: a store can skip a
    /// provider's objects wholesale when not (they would all be withheld).
    pub fn has_active_agreement(&self, provider: &str) -> bool {
        let active =
            |p: &str| matches!(self.terms.get(p), Some(Terms::Active(list)) if !list.is_empty());
        provider == self.recipient
            || active(provider)
            || (!self.terms.contains_key(provider)
                && matches!(self.onward.get(provider), Some(Ok(())))
                && self.gate.holder.as_deref().is_some_and(active))
    }

    /// Release or withhold one object version.
    pub fn decide<'a>(
        &'a self,
        object: &ObjectVersion<'a>,
        resolver: &dyn ReferenceResolver,
    ) -> Decision<'a> {
        let mut ctx = evaluate::Ctx::new(self, resolver, object.raw);
        let outcome = match ctx.evaluate(
            object.facts,
            object.provider,
            object.collection,
            object.date_added,
            0,
        ) {
            Ok(outcome) => outcome,
            Err(reason) => return Decision::Withhold(reason),
        };
        match render::render(object.raw, object.facts, &outcome) {
            Ok(bytes) => Decision::Release(Release {
                bytes,
                basis: outcome.basis,
                released_id: outcome.plan.new_id,
            }),
            Err(reason) => Decision::Withhold(reason),
        }
    }
}

/// The gate's answer.
#[derive(Debug)]
pub enum Decision<'a> {
    /// Release these bytes.
    Release(Release<'a>),
    /// Withhold, for this reason.
    Withhold(WithholdReason),
}

impl Decision<'_> {
    /// Whether the object is released.
    pub fn is_release(&self) -> bool {
        matches!(self, Decision::Release(_))
    }
}

/// Why an object was released.
#[derive(Clone, Copy, Debug)]
pub enum ReleaseBasis<'a> {
    /// Under this agreement (a ledger entry is due).
    Agreement(&'a Agreement),
    /// The recipient is the object's provider (its own data; no ledger entry).
    Owner,
    /// A standard TLP marking definition, public by nature (no ledger entry).
    StandardMarking,
}

/// A released object version.
#[derive(Debug)]
pub struct Release<'a> {
    /// The JSON text to send: the stored text itself when nothing had to change.
    pub bytes: Cow<'a, str>,
    /// Why it is released.
    pub basis: ReleaseBasis<'a>,
    /// The id the recipient sees, when pseudonymisation changed it (address SCOs);
    /// TAXII manifests and envelopes must use it.
    pub released_id: Option<String>,
}

impl Release<'_> {
    /// Whether the released text differs from the stored text.
    pub fn is_transformed(&self) -> bool {
        matches!(self.bytes, Cow::Owned(_))
    }

    /// SHA-256 of the released bytes (for the ledger).
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.bytes.as_bytes()).into()
    }

    /// The agreement released under, if any.
    pub fn agreement(&self) -> Option<&Agreement> {
        match self.basis {
            ReleaseBasis::Agreement(a) => Some(a),
            _ => None,
        }
    }
}

impl Default for Gate {
    /// A gate with no agreements: every object withheld from everyone but its owner.
    fn default() -> Gate {
        Gate {
            agreements: Vec::new(),
            by_recipient: HashMap::new(),
            obligation_markings: HashMap::new(),
            holder: None,
        }
    }
}
