//! Data exchange agreements and the one gate every egress path goes through.
//!
//! A provider shares STIX objects with a recipient only under an agreement: a
//! versioned TOML document naming the parties, the validity period, the purpose
//! and legal basis, the scope (types, labels, confidence, TLP, collections), the
//! protections (removed properties, pseudonymised or dropped customer addresses,
//! an embargo) and the recipient's obligations (retention, onward sharing).
//! The gate decides, for one recipient and one object version, release (in the
//! transformed form the agreement requires) or withhold with a reason; the
//! ledger records each release in a hash chain.
//!
//! This crate is pure: no I/O, no clock. "Now" is passed in; keys are read by
//! the caller.
//!
//! # Layout
//! - [`agreement`]: the document, its validation, the validated [`Agreement`].
//! - [`tlp`]: TLP 2.0 levels and the STIX TLP 1.0 / 2.0 marking definitions.
//! - [`facts`]: [`ObjectFacts`], extracted once at ingest and stored in a column.
//! - [`gate`]: [`Gate`], [`RecipientView`], [`Decision`], the reference resolver.
//! - [`ipscan`], [`ranges`], [`pseudonym`]: finding, matching and pseudonymising
//!   customer addresses.
//! - [`ledger`]: ledger entries, their canonical encoding, chaining, verification.
//! - [`merkle`]: the ledger's Merkle tree (RFC 9162): hashing, inclusion and consistency proofs.
//! - [`transparency`]: signed tree heads, the ledger key, proofs checked offline.
//! - [`jws`]: detached JWS (EdDSA) over signed bundles for offline exchange.
//! - [`preview`]: counting decisions by type, TLP and reason.
//! - [`time`]: instants and durations.
//!
//! The design decisions are documented in `docs/agreements.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agreement;
mod bytes;
pub mod facts;
pub mod gate;
pub mod ipscan;
pub mod jws;
pub mod ledger;
pub mod merkle;
pub mod preview;
pub mod pseudonym;
pub mod ranges;
pub mod time;
pub mod tlp;
pub mod transparency;

pub use agreement::{
    label_key, Agreement, AgreementError, AgreementRef, CustomerAddressPolicy, KeySource,
    Obligations, Party, Problem, Protections, Scope, UnknownMarkings,
    DEFAULT_AGGREGATE_MIN_PROVIDERS, MAX_AGGREGATE_MIN_PROVIDERS, REDACTED,
};
pub use facts::{FactsError, IpFact, MarkingKind, ObjectFacts, RefList, REQUIRED_REFERENCES};
pub use gate::{
    pseudonymise_text, sco_id, Decision, Gate, GateError, Location, NoObjects, ObjectVersion,
    RecipientView, ReferenceResolver, Release, ReleaseBasis, ResolvedObject, WithholdReason,
    MAX_REFERENCE_DEPTH, MAX_REFERENCE_EVALUATIONS, WITHHELD_ID,
};
pub use ledger::{ChainHead, EntryFormat, LedgerBreak, LedgerDraft, LedgerEntry};
pub use preview::{Counts, Preview};
pub use pseudonym::{KeyError, PseudonymKey};
pub use ranges::AddressRanges;
pub use time::{Span, UtcMicros};
pub use tlp::Tlp;
