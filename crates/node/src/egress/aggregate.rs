//! Aggregate answers in the ledger: trends and correlations served to a partner
//! (`GET /{api_root}/analytics/...`) are releases like any other — bytes computed
//! from objects the gate released to it leave the node — so each answer is recorded
//! before it is returned: to whom, what was asked, how many cells or values it holds,
//! the `k` applied, and the SHA-256 of the exact bytes sent.
//!
//! The ledger's entry format is the one of object releases (no new format, so every
//! verifier, proof and receipt works unchanged): the entry's released id names the
//! answer (`aggregate:<query>`, which the recipient knows: it asked), its version
//! field says what the answer holds (`cells=12;suppressed=3;k=3`), and one entry is
//! written per agreement in force between a provider and the recipient — the answer
//! is computed over what each of them released, so each is its basis (its purpose and
//! legal basis copied, as for objects). With no agreement in force nothing of anyone
//! else's can be in the answer (only the recipient's own objects): nothing is
//! recorded, as for a recipient's own objects. Nothing is recorded for the node's own
//! organisation (nothing leaves).

use accord_agreements::{LedgerDraft, UtcMicros};
use sha2::{Digest, Sha256};

use super::{now, Egress, EgressError, Receipt, Recipient};

/// Prefix of the released id of an aggregate answer's ledger entries.
pub const AGGREGATE_PREFIX: &str = "aggregate:";

/// Longest query text recorded (longer ones are cut at a character boundary; the
/// digest covers the whole answer all the same).
pub const MAX_AGGREGATE_QUERY: usize = 2_048;

/// An aggregate answer about to be sent.
#[derive(Debug, Clone, Copy)]
pub struct AggregateAnswer<'a> {
    /// What was asked, canonical: `analytics/trends?by=type&interval=day`.
    pub query: &'a str,
    /// What it holds, for the entry's version field: `cells=12;suppressed=3;k=3`.
    pub summary: &'a str,
    /// The exact bytes sent.
    pub bytes: &'a [u8],
}

impl Egress {
    /// Records `answer` as released to `recipient` now (one entry per agreement in
    /// force for it); returns the receipt (none when nothing was recorded, or the door
    /// has no signing key). The answer must not be sent when this fails.
    pub fn record_aggregate(
        &self,
        recipient: &Recipient,
        answer: &AggregateAnswer<'_>,
    ) -> Result<Option<Receipt>, EgressError> {
        if recipient.organisation == self.local_organisation {
            return Ok(None);
        }
        let now = now();
        let drafts = aggregate_drafts(&self.gate(), &recipient.organisation, answer, now);
        self.record(drafts)
    }
}

/// The ledger drafts of an aggregate answer (pure: the clock is given).
pub fn aggregate_drafts(
    gate: &accord_agreements::Gate,
    recipient: &str,
    answer: &AggregateAnswer<'_>,
    now: i64,
) -> Vec<LedgerDraft> {
    let mut query = answer.query;
    if query.len() > MAX_AGGREGATE_QUERY {
        let mut end = MAX_AGGREGATE_QUERY;
        while !query.is_char_boundary(end) {
            end -= 1;
        }
        query = &query[..end];
    }
    let name = format!("{AGGREGATE_PREFIX}{query}");
    let digest: [u8; 32] = Sha256::digest(answer.bytes).into();
    let mut agreements: Vec<_> = gate
        .agreements()
        .iter()
        .filter(|a| a.recipient().id == recipient)
        .filter(|a| a.valid_from().0 <= now && a.valid_until().is_none_or(|u| now < u.0))
        .collect();
    agreements.sort_by(|a, b| (a.id(), a.version()).cmp(&(b.id(), b.version())));
    agreements
        .into_iter()
        .map(|a| LedgerDraft {
            time: UtcMicros(now),
            recipient: recipient.to_owned(),
            object_id: name.clone(),
            released_id: name.clone(),
            object_salt: [0; 16],
            object_version: answer.summary.to_owned(),
            agreement_id: a.id().to_owned(),
            agreement_version: a.version(),
            purpose: a.purpose().to_owned(),
            legal_basis: a.legal_basis().to_owned(),
            released_sha256: digest,
        })
        .collect()
}
