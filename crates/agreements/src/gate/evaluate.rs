//! Deciding release from facts alone: scope, markings, embargo, customer
//! addresses, retention, and references (followed through the resolver).
//!
//! References are evaluated depth-first. An object already being evaluated
//! further up the chain (a cycle) is assumed releasable: its own checks have
//! passed before its references are followed, and if one of its other
//! references withholds it, that result reaches the top anyway. Outcomes that
//! relied on such an assumption, or on a reference cut at [`MAX_REFERENCE_DEPTH`],
//! are not memoised; all others are memoised in the [`RecipientView`] for the rest
//! of the request (per collection the referencing object was read from), with how
//! many levels below they reach: a remembered outcome is used only where those
//! levels fit under the depth limit, so that a decision does not depend on what was
//! decided before it in the same view.

use crate::agreement::{label_key, Agreement, CustomerAddressPolicy, UnknownMarkings};
use crate::facts::{ids, is_cyber_observable, MarkingKind, ObjectFacts};
use crate::ipscan::{self, is_network};
use crate::time::UtcMicros;
use crate::tlp::Tlp;

use super::render::{id_contributing, pseudonymise_text, sco_id, transformed_sco_id, Transform};
use super::{
    RecipientView, ReferenceResolver, ReleaseBasis, ResolvedObject, Terms, WithholdReason,
    MAX_REFERENCE_DEPTH, MAX_REFERENCE_EVALUATIONS,
};

/// What to change in a released object.
#[derive(Debug, Default)]
pub(crate) struct Plan<'g> {
    /// The agreement whose protections apply.
    pub agreement: Option<&'g Agreement>,
    /// Replace customer address literals in every string.
    pub pseudonymise: bool,
    /// The object's own id after pseudonymisation (address SCOs).
    pub new_id: Option<String>,
    /// Referenced ids to rewrite (pseudonymised address SCOs).
    pub rewrites: Vec<(String, String)>,
    /// Listed references to drop (withheld objects in `*_refs` lists).
    pub removals: Vec<String>,
    /// Cap to write as an indicator's `valid_until`.
    pub valid_until: Option<UtcMicros>,
    /// The obligations marking to add to `object_marking_refs`.
    pub add_marking: Option<&'g str>,
    /// Id mentions (token keys, as in [`ObjectFacts::mentions`], sorted) to change in
    /// every string.
    pub mentions: Vec<(String, MentionEdit)>,
    /// Apply the agreement's `redact_patterns` (some string matches).
    pub redact: bool,
}

/// How an id mentioned in a string is released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MentionEdit {
    /// The whole token becomes [`crate::gate::WITHHELD_ID`].
    Withheld,
    /// The last `type_len` bytes of the type run, the separator and the UUID become
    /// the id the object is released under (a pseudonymised SCO).
    Rewrite { type_len: usize, new_id: String },
}

/// A decision without the bytes.
#[derive(Debug)]
pub(crate) struct Outcome<'g> {
    pub basis: ReleaseBasis<'g>,
    pub plan: Plan<'g>,
}

/// How a reference appears in the released object.
#[derive(Clone, Debug)]
pub(crate) enum RefOutcome {
    /// Released under its own id.
    Keep,
    /// Released under a pseudonymous id.
    Rewrite(String),
    /// Withheld.
    Withheld(WithholdReason),
}

/// A referenced object's outcome remembered for the rest of a view.
#[derive(Clone, Debug)]
pub(crate) struct Memoised {
    pub outcome: RefOutcome,
    /// How many levels of references below the object its evaluation looked up (it
    /// holds at depths where that many more fit under [`MAX_REFERENCE_DEPTH`]).
    pub height: usize,
}

/// What releasing a referenced SCO changes in its references and mentions.
struct Edits {
    rewrites: Vec<(String, String)>,
    removals: Vec<String>,
    mentions: Vec<(String, MentionEdit)>,
}

/// An object being evaluated further up the chain of references.
struct Pending {
    id: String,
    /// Its id as released, when already known (address SCOs).
    new_id: Option<String>,
    /// Whether its released id may still change with its references (an SCO with
    /// ID contributing properties other than an address object).
    id_open: bool,
    /// Whether a cycle took its id as unchanged while it was still open.
    assumed: bool,
}

pub(crate) struct Ctx<'v, 'g> {
    view: &'v RecipientView<'g>,
    resolver: &'v dyn ReferenceResolver,
    /// The stored text of the object decided (the resolver gives those of the
    /// objects it references).
    raw: Option<&'v str>,
    /// The collection the object being evaluated was read from (`None`: store-wide):
    /// what it names resolves from there ([`ReferenceResolver::resolve_from`]).
    collection: Option<String>,
    /// Ids being evaluated.
    stack: Vec<Pending>,
    /// Count of cycle assumptions made so far (to know what may be memoised).
    assumptions: usize,
    /// Count of references cut at [`MAX_REFERENCE_DEPTH`] so far (an outcome that
    /// depended on a cut depends on where the evaluation started: not memoised).
    cuts: usize,
    /// The deepest level looked up so far below the object whose references are
    /// followed (to know how deep a memoised outcome reaches).
    deepest: usize,
    evaluations: usize,
}

impl<'v, 'g> Ctx<'v, 'g> {
    pub fn new(
        view: &'v RecipientView<'g>,
        resolver: &'v dyn ReferenceResolver,
        raw: &'v str,
    ) -> Self {
        Ctx {
            view,
            resolver,
            raw: Some(raw),
            collection: None,
            stack: Vec::new(),
            assumptions: 0,
            cuts: 0,
            deepest: 0,
            evaluations: 0,
        }
    }

    /// Decides the object `facts` read from `collection`; what it names resolves from
    /// there.
    pub fn evaluate(
        &mut self,
        facts: &ObjectFacts,
        provider: &str,
        collection: Option<&str>,
        date_added: UtcMicros,
        depth: usize,
    ) -> Result<Outcome<'g>, WithholdReason> {
        if self.collection.as_deref() == collection {
            return self.evaluate_here(facts, provider, collection, date_added, depth);
        }
        self.resolving_from(collection.map(str::to_owned), |ctx| {
            ctx.evaluate_here(facts, provider, collection, date_added, depth)
        })
    }

    /// Runs `f` with references resolving from `collection` (where the object being
    /// decided was found), then from where they resolved before.
    fn resolving_from<T>(
        &mut self,
        collection: Option<String>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let outer = std::mem::replace(&mut self.collection, collection);
        let result = f(self);
        self.collection = outer;
        result
    }

    /// `id` as named by the object being evaluated.
    fn resolve(&self, id: &str) -> Option<ResolvedObject> {
        self.resolver.resolve_from(id, self.collection.as_deref())
    }

    fn evaluate_here(
        &mut self,
        facts: &ObjectFacts,
        provider: &str,
        collection: Option<&str>,
        date_added: UtcMicros,
        depth: usize,
    ) -> Result<Outcome<'g>, WithholdReason> {
        let view = self.view;
        if let Some(owner) = view.gate.obligations_marking_owner(&facts.id) {
            return if owner.recipient().id == view.recipient {
                Ok(Outcome {
                    basis: ReleaseBasis::Agreement(owner),
                    plan: Plan::default(),
                })
            } else if provider == view.recipient {
                Ok(Outcome {
                    basis: ReleaseBasis::Owner,
                    plan: Plan::default(),
                })
            } else {
                Err(WithholdReason::OtherRecipientsMarking)
            };
        }
        if facts.kind == "marking-definition" && Tlp::from_marking_id(&facts.id).is_some() {
            return Ok(Outcome {
                basis: ReleaseBasis::StandardMarking,
                plan: Plan::default(),
            });
        }
        if provider == view.recipient {
            return Ok(Outcome {
                basis: ReleaseBasis::Owner,
                plan: Plan::default(),
            });
        }
        let terms = match (view.terms.get(provider), view.onward.get(provider)) {
            (Some(terms), _) => Some(terms),
            (None, None) => None,
            (None, Some(Err(reason))) => return Err(reason.clone()),
            // Received by the holder under terms that let it go onward: the holder's
            // own agreements with the recipient decide.
            (None, Some(Ok(()))) => view.gate.holder().and_then(|h| view.terms.get(h)),
        };
        let agreements = match terms {
            None => return Err(WithholdReason::NoAgreement),
            Some(Terms::Inactive(reason)) => return Err(reason.clone()),
            Some(Terms::Active(list)) => list,
        };
        let mut first = None;
        for &agreement in agreements {
            match self.evaluate_under(agreement, facts, collection, date_added, depth) {
                Ok(plan) => {
                    return Ok(Outcome {
                        basis: ReleaseBasis::Agreement(agreement),
                        plan,
                    })
                }
                Err(reason) => {
                    first.get_or_insert(reason);
                }
            }
        }
        Err(first.unwrap_or(WithholdReason::NoAgreement))
    }

    fn evaluate_under(
        &mut self,
        a: &'g Agreement,
        facts: &ObjectFacts,
        collection: Option<&str>,
        date_added: UtcMicros,
        depth: usize,
    ) -> Result<Plan<'g>, WithholdReason> {
        // Whether the id may still change with the references (looked up only for
        // SCOs: most objects decided are not).
        let id_open = is_cyber_observable(&facts.kind)
            && !facts.is_address_sco()
            && !id_contributing(&facts.kind).is_empty();
        // On the stack while anything it names is evaluated (markings included: a
        // marking definition may itself be marked), so that cycles end.
        let names_others = !facts.refs.is_empty()
            || !facts.ref_lists.is_empty()
            || !facts.optional_refs.is_empty()
            || facts.created_by.is_some()
            || !facts.mentions.is_empty()
            || !facts.other_markings.is_empty();
        if !names_others {
            return self.evaluate_inner(a, facts, collection, date_added, depth, id_open);
        }
        self.stack.push(Pending {
            id: facts.id.clone(),
            new_id: None,
            id_open,
            assumed: false,
        });
        let result = self.evaluate_inner(a, facts, collection, date_added, depth, id_open);
        let assumed = self.stack.pop().is_some_and(|p| p.assumed);
        let plan = result?;
        if id_open && assumed && plan.new_id.is_some() {
            return Err(WithholdReason::ScoIdNotRecomputable {
                id: facts.id.clone(),
            });
        }
        Ok(plan)
    }

    fn evaluate_inner(
        &mut self,
        a: &'g Agreement,
        facts: &ObjectFacts,
        collection: Option<&str>,
        date_added: UtcMicros,
        depth: usize,
        id_open: bool,
    ) -> Result<Plan<'g>, WithholdReason> {
        if facts.kind == "marking-definition" {
            self.check_marking_scope(a, facts, depth)?;
        } else {
            self.check_scope(a, facts, collection, depth)?;
        }
        let embargo = a.protections().embargo;
        if embargo.0 > 0 {
            let until = date_added.plus(embargo);
            if self.view.now < until {
                return Err(WithholdReason::Embargoed { until });
            }
        }
        let mut plan = Plan {
            agreement: Some(a),
            add_marking: a.obligations_marking_id(),
            ..Plan::default()
        };
        check_addresses(a, facts, &mut plan)?;
        if let Some(top) = self.stack.last_mut().filter(|p| p.id == facts.id) {
            top.new_id.clone_from(&plan.new_id);
        }
        if let Some(redactor) = a.redactor() {
            let resolved;
            let raw = if depth == 0 {
                self.raw
            } else {
                resolved = self.resolve(&facts.id).and_then(|r| r.raw);
                resolved.as_deref()
            };
            let Some(raw) = raw else {
                return Err(WithholdReason::MalformedObject {
                    message: "the stored text is needed to apply redact_patterns".to_owned(),
                });
            };
            plan.redact = super::render::redaction_needed(redactor, raw, &facts.kind)?;
        }
        if let (Some(retention), "indicator") = (a.obligations().retention, facts.kind.as_str()) {
            let cap = self.view.now.floor_day().plus(retention);
            if facts.valid_from.is_some_and(|from| from >= cap.0) {
                return Err(WithholdReason::RetentionBeforeValidFrom);
            }
            if facts.valid_until.is_none_or(|until| until > cap.0) {
                plan.valid_until = Some(cap);
            }
        }
        self.check_references(a, facts, depth, &mut plan)?;
        self.check_mentions(a, facts, depth, &mut plan)?;
        if id_open {
            self.recompute_sco_id(a, facts, depth, &mut plan)?;
        }
        Ok(plan)
    }

    /// Every id mentioned in a string (`facts.mentions`) of an object the recipient
    /// may not receive is redacted; one the release pseudonymises is rewritten. Ids
    /// the store does not hold are kept (the provider's own knowledge), except those
    /// of SCOs whose id may derive from a customer address (as for references).
    fn check_mentions(
        &mut self,
        a: &Agreement,
        facts: &ObjectFacts,
        depth: usize,
        plan: &mut Plan<'g>,
    ) -> Result<(), WithholdReason> {
        for key in &facts.mentions {
            let mut edit = None;
            for (type_len, id) in ids::candidates(key) {
                let outcome = if id == facts.id {
                    plan.new_id
                        .clone()
                        .map_or(RefOutcome::Keep, RefOutcome::Rewrite)
                } else {
                    self.reference(a, &id, depth)?
                };
                match outcome {
                    RefOutcome::Keep => {}
                    RefOutcome::Rewrite(new_id) => {
                        edit.get_or_insert(MentionEdit::Rewrite { type_len, new_id });
                    }
                    RefOutcome::Withheld(_) => {
                        edit = Some(MentionEdit::Withheld);
                        break;
                    }
                }
            }
            if let Some(edit) = edit {
                plan.mentions.push((key.clone(), edit));
            }
        }
        Ok(())
    }

    /// The scope of a marking definition: it is released to a recipient with an
    /// agreement in force whatever the agreement's types, labels, confidence or
    /// collections (released objects refer to it), but like any object not when it
    /// is itself marked above `max_tlp` (an unmarked one is not held to
    /// `unmarked_tlp`), carries a withheld or unreadable marking, is listed in
    /// `withhold_markings`, or carries an excluded label.
    fn check_marking_scope(
        &mut self,
        a: &Agreement,
        facts: &ObjectFacts,
        depth: usize,
    ) -> Result<(), WithholdReason> {
        let scope = a.scope();
        if scope.withhold_markings.contains(&facts.id) {
            return Err(WithholdReason::MarkingWithheld {
                id: facts.id.clone(),
            });
        }
        if let Some(tlp) = self.marking_level(a, facts, depth)? {
            if tlp > scope.max_tlp {
                return Err(WithholdReason::TlpAboveMaximum {
                    tlp,
                    max: scope.max_tlp,
                });
            }
        }
        check_excluded_labels(a, facts)
    }

    /// The most restrictive TLP among the object's markings, reading the marking
    /// definitions that are not standard TLP ones through the resolver. Err when a
    /// marking is withheld by the agreement, unreadable (per `unknown_markings`), or
    /// itself withheld from the recipient (its id must not reach the recipient, and
    /// the object must not travel without its terms).
    fn marking_level(
        &mut self,
        a: &Agreement,
        facts: &ObjectFacts,
        depth: usize,
    ) -> Result<Option<Tlp>, WithholdReason> {
        let scope = a.scope();
        let mut level = facts.tlp;
        for id in &facts.other_markings {
            if scope.withhold_markings.contains(id) {
                return Err(WithholdReason::MarkingWithheld { id: id.clone() });
            }
            if self.view.gate.obligations_marking_owner(id).is_some() {
                continue;
            }
            let kind = self.resolve(id).map(|m| m.facts.marking);
            match kind {
                Some(Some(MarkingKind::Tlp(t))) => level = level.max(Some(t)),
                Some(Some(MarkingKind::Statement)) => {}
                _ if scope.unknown_markings == UnknownMarkings::Ignore => {}
                _ => return Err(WithholdReason::MarkingWithheld { id: id.clone() }),
            }
            if kind.is_some() {
                if let RefOutcome::Withheld(because) = self.referenced_object(a, id, depth)? {
                    return Err(WithholdReason::ReferencesWithheld {
                        id: id.clone(),
                        because: Box::new(because),
                    });
                }
            }
        }
        Ok(level)
    }

    /// An SCO (other than an address object) whose ID contributing properties the
    /// release changes gets the id of the changed properties ([`transformed_sco_id`]).
    fn recompute_sco_id(
        &self,
        a: &Agreement,
        facts: &ObjectFacts,
        depth: usize,
        plan: &mut Plan<'g>,
    ) -> Result<(), WithholdReason> {
        if !plan.pseudonymise
            && plan.rewrites.is_empty()
            && plan.removals.is_empty()
            && plan.mentions.is_empty()
        {
            return Ok(());
        }
        let resolved;
        let raw = if depth == 0 {
            self.raw
        } else {
            resolved = self.resolve(&facts.id).and_then(|r| r.raw);
            resolved.as_deref()
        };
        let Some(raw) = raw else {
            return Err(WithholdReason::ScoIdNotRecomputable {
                id: facts.id.clone(),
            });
        };
        let protections = a.protections();
        let transform = Transform {
            rewrites: &plan.rewrites,
            removals: &plan.removals,
            mentions: &plan.mentions,
            remove_properties: &protections.remove_properties,
            pseudonymiser: a
                .key()
                .filter(|_| plan.pseudonymise)
                .map(|k| (&protections.customer_ranges, k)),
        };
        plan.new_id = transformed_sco_id(&facts.kind, raw, &transform)?;
        Ok(())
    }

    fn check_scope(
        &mut self,
        a: &Agreement,
        facts: &ObjectFacts,
        collection: Option<&str>,
        depth: usize,
    ) -> Result<(), WithholdReason> {
        let scope = a.scope();
        if scope
            .types
            .as_ref()
            .is_some_and(|t| !t.contains(facts.kind.as_str()))
        {
            return Err(WithholdReason::TypeOutOfScope {
                kind: facts.kind.clone(),
            });
        }
        if let Some(allowed) = &scope.collections {
            if !collection.is_some_and(|c| allowed.contains(c)) {
                return Err(WithholdReason::CollectionOutOfScope);
            }
        }
        // Relationships and sightings follow their endpoints (references), as with
        // labels; everything else must be located in the scope.
        if scope.by_location() && !matches!(facts.kind.as_str(), "relationship" | "sighting") {
            let resolved;
            let raw = if depth == 0 {
                self.raw
            } else {
                resolved = self.resolve(&facts.id).and_then(|r| r.raw);
                resolved.as_deref()
            };
            let location = raw.and_then(|raw| self.resolver.locate(facts, raw));
            let location = match location {
                Some(l) if !l.is_unknown() => l,
                _ => return Err(WithholdReason::LocationUnknown),
            };
            let country = scope
                .countries
                .as_ref()
                .is_some_and(|set| location.countries.iter().any(|c| set.contains(c)));
            let asn = scope
                .asns
                .as_ref()
                .is_some_and(|set| location.asns.iter().any(|n| set.contains(n)));
            if !country && !asn {
                return Err(WithholdReason::LocationOutOfScope);
            }
        }
        let level = self.marking_level(a, facts, depth)?;
        let tlp = level.unwrap_or(scope.unmarked_tlp);
        if tlp > scope.max_tlp {
            return Err(WithholdReason::TlpAboveMaximum {
                tlp,
                max: scope.max_tlp,
            });
        }
        check_excluded_labels(a, facts)?;
        let wanted = a.label_keys();
        if !wanted.is_empty()
            && is_domain_object(facts)
            && !facts
                .labels
                .iter()
                .any(|l| wanted.iter().any(|w| *w == label_key(l)))
        {
            return Err(WithholdReason::LabelOutOfScope);
        }
        if let Some(min) = scope.min_confidence {
            let below = match facts.confidence {
                Some(c) => c < min,
                None => {
                    facts.has_confidence
                        || (scope.require_confidence && facts.is_domain_or_relationship())
                }
            };
            if below {
                return Err(WithholdReason::BelowMinConfidence {
                    confidence: facts.confidence,
                    min,
                });
            }
        }
        Ok(())
    }

    fn check_references(
        &mut self,
        a: &Agreement,
        facts: &ObjectFacts,
        depth: usize,
        plan: &mut Plan<'g>,
    ) -> Result<(), WithholdReason> {
        for id in &facts.refs {
            match self.reference(a, id, depth)? {
                RefOutcome::Keep => {}
                RefOutcome::Rewrite(new) => plan.rewrites.push((id.clone(), new)),
                RefOutcome::Withheld(because) => {
                    return Err(WithholdReason::ReferencesWithheld {
                        id: id.clone(),
                        because: Box::new(because),
                    })
                }
            }
        }
        // Optional references (`created_by_ref`, top-level `*_ref` STIX does not
        // require) to a withheld object are removed; the object is released.
        let own = facts.created_by.iter().filter(|id| **id != facts.id);
        for id in facts.optional_refs.iter().chain(own) {
            match self.reference(a, id, depth)? {
                RefOutcome::Keep => {}
                RefOutcome::Rewrite(new) => plan.rewrites.push((id.clone(), new)),
                RefOutcome::Withheld(_) => plan.removals.push(id.clone()),
            }
        }
        for list in &facts.ref_lists {
            let mut kept = 0usize;
            let mut first_withheld = None;
            for id in &list.ids {
                match self.reference(a, id, depth)? {
                    RefOutcome::Keep => kept += 1,
                    RefOutcome::Rewrite(new) => {
                        kept += 1;
                        plan.rewrites.push((id.clone(), new));
                    }
                    RefOutcome::Withheld(because) => {
                        plan.removals.push(id.clone());
                        first_withheld.get_or_insert((id, because));
                    }
                }
            }
            if kept == 0 && list.key == "object_refs" {
                if let Some((id, because)) = first_withheld {
                    return Err(WithholdReason::ReferencesWithheld {
                        id: id.clone(),
                        because: Box::new(because),
                    });
                }
            }
        }
        Ok(())
    }

    /// The outcome of one referenced id, as the referencing object (released under
    /// `a`) may carry it. `Err` only when the evaluation budget is exhausted (the
    /// referencing object is then withheld whatever the kind of reference).
    fn reference(
        &mut self,
        a: &Agreement,
        id: &str,
        depth: usize,
    ) -> Result<RefOutcome, WithholdReason> {
        let outcome = self.referenced_object(a, id, depth)?;
        self.protect_customer_address(a, id, outcome, depth)
    }

    /// An SCO whose id derives from an address in `a`'s customer space is referenced
    /// only by the id it has once pseudonymised under `a` (or the reference withholds,
    /// under `drop`), whoever provided it: its real id is a UUIDv5 of the address (or
    /// of a `url`, `email-addr`, `network-traffic`, ... holding one), so keeping it
    /// would tie the referencing object to the customer's address even when the SCO
    /// itself came from another organisation and is released under other terms.
    fn protect_customer_address(
        &mut self,
        a: &Agreement,
        id: &str,
        outcome: RefOutcome,
        depth: usize,
    ) -> Result<RefOutcome, WithholdReason> {
        let protections = a.protections();
        let kind = id.split_once("--").map_or("", |(k, _)| k);
        if protections.customer_ranges.is_empty()
            || matches!(outcome, RefOutcome::Withheld(_))
            || !is_cyber_observable(kind)
            || id_contributing(kind).is_empty()
        {
            return Ok(outcome);
        }
        if kind != "ipv4-addr" && kind != "ipv6-addr" {
            return self.protect_derived_id(a, id, kind, outcome, depth);
        }
        let Some(target) = self.resolve(id) else {
            return Ok(outcome);
        };
        let Some(value) = target.facts.sco_value.as_deref() else {
            return Ok(outcome);
        };
        let pseudonym = match a.key() {
            Some(key) => pseudonymise_text(value, &protections.customer_ranges, key),
            None => Ok(None),
        };
        let customer = match &pseudonym {
            Ok(Some(_)) | Err(_) => true,
            Ok(None) => ipscan::scan(value).iter().any(|l| {
                !l.is_network() && protections.customer_ranges.contains_addr(l.net.addr())
            }),
        };
        if !customer {
            return Ok(outcome);
        }
        if protections.customer_addresses == CustomerAddressPolicy::Drop {
            return Ok(RefOutcome::Withheld(WithholdReason::CustomerAddressDropped));
        }
        Ok(match pseudonym {
            Ok(Some(new_value)) => RefOutcome::Rewrite(sco_id(&target.facts.kind, &new_value)),
            Ok(None) => RefOutcome::Withheld(WithholdReason::CustomerAddressDropped),
            Err(reason) => RefOutcome::Withheld(reason),
        })
    }

    /// [`Self::protect_customer_address`] for an SCO other than an address object:
    /// its id under `a` is recomputed from its text when a customer address or a
    /// rewritten or dropped reference changes its ID contributing properties.
    fn protect_derived_id(
        &mut self,
        a: &Agreement,
        id: &str,
        kind: &str,
        outcome: RefOutcome,
        depth: usize,
    ) -> Result<RefOutcome, WithholdReason> {
        let Some(target) = self.resolve(id) else {
            return Ok(outcome);
        };
        let protections = a.protections();
        let ranges = &protections.customer_ranges;
        let mut customer = false;
        for ip in &target.facts.ips {
            if is_network(&ip.net, ip.has_prefix) {
                if ranges.contains_net(&ip.net) {
                    return Ok(RefOutcome::Withheld(WithholdReason::CustomerNetwork {
                        net: ip.net.to_string(),
                    }));
                }
            } else if ranges.contains_addr(ip.net.addr()) {
                customer = true;
            }
        }
        if customer && protections.customer_addresses == CustomerAddressPolicy::Drop {
            return Ok(RefOutcome::Withheld(WithholdReason::CustomerAddressDropped));
        }
        // Its references resolve from where it was found, as when it was evaluated.
        let edits = self.resolving_from(target.collection.clone(), |ctx| {
            ctx.derived_edits(a, &target, depth)
        });
        let Edits {
            rewrites,
            removals,
            mentions,
        } = match edits? {
            Ok(edits) => edits,
            Err(withheld) => return Ok(withheld),
        };
        if !customer && rewrites.is_empty() && removals.is_empty() && mentions.is_empty() {
            return Ok(outcome);
        }
        let Some(raw) = target.raw.as_deref() else {
            return Ok(RefOutcome::Withheld(WithholdReason::ScoIdNotRecomputable {
                id: id.to_owned(),
            }));
        };
        let transform = Transform {
            rewrites: &rewrites,
            removals: &removals,
            mentions: &mentions,
            remove_properties: &protections.remove_properties,
            pseudonymiser: a.key().filter(|_| customer).map(|k| (ranges, k)),
        };
        Ok(match transformed_sco_id(kind, raw, &transform) {
            Ok(Some(new)) => RefOutcome::Rewrite(new),
            Ok(None) => outcome,
            Err(reason) => RefOutcome::Withheld(reason),
        })
    }

    /// What the release of `target` (an SCO other than an address object) changes in
    /// its references and mentions under `a`, or the outcome withholding it (a
    /// required reference withheld).
    fn derived_edits(
        &mut self,
        a: &Agreement,
        target: &ResolvedObject,
        depth: usize,
    ) -> Result<Result<Edits, RefOutcome>, WithholdReason> {
        let mut rewrites = Vec::new();
        let mut removals = Vec::new();
        for r in &target.facts.refs {
            match self.reference(a, r, depth + 1)? {
                RefOutcome::Keep => {}
                RefOutcome::Rewrite(new) => rewrites.push((r.clone(), new)),
                RefOutcome::Withheld(because) => {
                    return Ok(Err(RefOutcome::Withheld(
                        WithholdReason::ReferencesWithheld {
                            id: r.clone(),
                            because: Box::new(because),
                        },
                    )))
                }
            }
        }
        let lists = target.facts.ref_lists.iter().flat_map(|l| &l.ids);
        for r in lists.chain(&target.facts.optional_refs) {
            match self.reference(a, r, depth + 1)? {
                RefOutcome::Keep => {}
                RefOutcome::Rewrite(new) => rewrites.push((r.clone(), new)),
                RefOutcome::Withheld(_) => removals.push(r.clone()),
            }
        }
        let mut mention_plan = Plan::default();
        self.check_mentions(a, &target.facts, depth + 1, &mut mention_plan)?;
        Ok(Ok(Edits {
            rewrites,
            removals,
            mentions: mention_plan.mentions,
        }))
    }

    /// The outcome of the referenced object itself, under its own provider's terms.
    fn referenced_object(
        &mut self,
        a: &Agreement,
        id: &str,
        depth: usize,
    ) -> Result<RefOutcome, WithholdReason> {
        if let Some(pending) = self.stack.iter_mut().find(|p| p.id == id) {
            self.assumptions += 1;
            pending.assumed |= pending.id_open;
            return Ok(pending
                .new_id
                .clone()
                .map_or(RefOutcome::Keep, RefOutcome::Rewrite));
        }
        let memoised = self
            .view
            .memo
            .borrow()
            .get(&self.collection)
            .and_then(|by_id| by_id.get(id).cloned());
        // A remembered outcome holds where its whole chain fits under the depth limit
        // (deeper, evaluating again cuts the chain, as it would have first time).
        if let Some(known) = memoised.filter(|m| depth + 1 + m.height <= MAX_REFERENCE_DEPTH) {
            self.deepest = self.deepest.max(depth + 1 + known.height);
            return Ok(known.outcome);
        }
        if depth + 1 > MAX_REFERENCE_DEPTH {
            self.cuts += 1;
            return Ok(RefOutcome::Withheld(
                WithholdReason::ReferenceChainTooDeep { id: id.to_owned() },
            ));
        }
        self.evaluations += 1;
        if self.evaluations > MAX_REFERENCE_EVALUATIONS {
            return Err(WithholdReason::ReferenceChainTooDeep { id: id.to_owned() });
        }
        self.deepest = self.deepest.max(depth + 1);
        let Some(target) = self.resolve(id) else {
            // A dangling reference to an SCO whose id may derive from an address (an
            // address object, a url, a network-traffic, ...): the gate cannot tell
            // whether the id hides a customer address.
            let kind = id.split_once("--").map_or("", |(k, _)| k);
            let derived = !id_contributing(kind).is_empty();
            return Ok(if derived && !a.protections().customer_ranges.is_empty() {
                RefOutcome::Withheld(WithholdReason::UnresolvedAddressReference {
                    id: id.to_owned(),
                })
            } else {
                RefOutcome::Keep
            });
        };
        let before = (self.assumptions, self.cuts);
        let outer_deepest = std::mem::replace(&mut self.deepest, depth + 1);
        let evaluated = self.evaluate(
            &target.facts,
            &target.provider,
            target.collection.as_deref(),
            target.date_added,
            depth + 1,
        );
        let height = self.deepest - (depth + 1);
        self.deepest = self.deepest.max(outer_deepest);
        let outcome = match evaluated {
            Ok(o) => o.plan.new_id.map_or(RefOutcome::Keep, RefOutcome::Rewrite),
            Err(WithholdReason::ReferenceChainTooDeep { .. })
                if self.evaluations > MAX_REFERENCE_EVALUATIONS =>
            {
                return Err(WithholdReason::ReferenceChainTooDeep { id: id.to_owned() })
            }
            Err(reason) => RefOutcome::Withheld(reason),
        };
        if (self.assumptions, self.cuts) == before {
            self.view
                .memo
                .borrow_mut()
                .entry(self.collection.clone())
                .or_default()
                .insert(
                    id.to_owned(),
                    Memoised {
                        outcome: outcome.clone(),
                        height,
                    },
                );
        }
        Ok(outcome)
    }
}

/// `scope.exclude_labels`, compared as [`label_key`] says.
fn check_excluded_labels(a: &Agreement, facts: &ObjectFacts) -> Result<(), WithholdReason> {
    let excluded = a.exclude_label_keys();
    if excluded.is_empty() {
        return Ok(());
    }
    match facts
        .labels
        .iter()
        .find(|l| excluded.iter().any(|x| *x == label_key(l)))
    {
        Some(label) => Err(WithholdReason::ExcludedLabel {
            label: label.clone(),
        }),
        None => Ok(()),
    }
}

/// Domain objects (not SCOs, SROs or meta objects): the label requirement applies to them.
fn is_domain_object(facts: &ObjectFacts) -> bool {
    facts.is_domain_or_relationship() && facts.kind != "relationship" && facts.kind != "sighting"
}

fn check_addresses(
    a: &Agreement,
    facts: &ObjectFacts,
    plan: &mut Plan<'_>,
) -> Result<(), WithholdReason> {
    let protections = a.protections();
    let ranges = &protections.customer_ranges;
    if ranges.is_empty() || facts.ips.is_empty() {
        return Ok(());
    }
    // As `pseudonymise_text` decides: a network literal inside the ranges cannot be
    // pseudonymised; an address, also one written with a shorter prefix (host bits
    // set: `198.51.100.23/16` is the host 198.51.100.23), is replaced.
    let mut customer = false;
    for ip in &facts.ips {
        if is_network(&ip.net, ip.has_prefix) {
            if ranges.contains_net(&ip.net) {
                return Err(WithholdReason::CustomerNetwork {
                    net: ip.net.to_string(),
                });
            }
        } else if ranges.contains_addr(ip.net.addr()) {
            customer = true;
        }
    }
    if !customer {
        return Ok(());
    }
    if protections.customer_addresses == CustomerAddressPolicy::Drop {
        return Err(WithholdReason::CustomerAddressDropped);
    }
    plan.pseudonymise = true;
    if let (true, Some(value), Some(key)) = (facts.is_address_sco(), &facts.sco_value, a.key()) {
        if let Some(new_value) = pseudonymise_text(value, ranges, key)? {
            plan.new_id = Some(sco_id(&facts.kind, &new_value));
        }
    }
    Ok(())
}
