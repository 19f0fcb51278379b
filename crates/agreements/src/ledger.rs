//! The ledger's entries: one per released object version, each committing to the
//! previous one (a hash chain, so that the first changed, deleted, inserted or
//! reordered entry is named), and each a leaf of the ledger's Merkle tree (see
//! [`crate::merkle`] and [`crate::transparency`]: signed tree heads, inclusion and
//! consistency proofs, which also catch what a chain cannot, such as entries cut off
//! the end or a rewritten chain with every later hash recomputed).
//!
//! # Canonical encoding
//! Integers are big-endian, strings a `u32` byte length followed by UTF-8.
//!
//! ## Format 2 (entries written since the Merkle tree)
//! | field | encoding |
//! |---|---|
//! | format | u8, the value 2 |
//! | `seq` | u64 |
//! | `time` | i64, microseconds since the Unix epoch (UTC) |
//! | `recipient` | string |
//! | `released_id` | string: the id the recipient holds (a pseudonym for a pseudonymised SCO) |
//! | `object_version` | string |
//! | `agreement_id` | string |
//! | `agreement_version` | u32 |
//! | `purpose` | string |
//! | `legal_basis` | string |
//! | `released_sha256` | 32 bytes |
//! | `object_commitment` | 32 bytes: `SHA-256("accord-ledger-object-v2\0" \|\| object_salt \|\| object_id)` |
//! | `prev_hash` | 32 bytes (all zero for the first entry) |
//!
//! `hash = SHA-256("accord-ledger-v2\0" || body)`. The stored object id is not in the
//! body but committed to with a random 16-byte salt kept beside the entry (its
//! *opening*): a receipt handed to the recipient then shows neither the real id of a
//! pseudonymised SCO (a UUIDv5 of the customer's address, which a search over an
//! address range would recover) nor anything a search could confirm, while an auditor
//! given the opening checks that the entry names exactly that object.
//!
//! ## Format 1 (entries written before; they keep verifying)
//!
//! | field | encoding |
//! |---|---|
//! | `seq` | u64 |
//! | `time` | i64, microseconds since the Unix epoch (UTC) |
//! | `recipient` | string |
//! | `object_id` | string |
//! | `object_version` | string |
//! | `agreement_id` | string |
//! | `agreement_version` | u32 |
//! | `purpose` | string |
//! | `legal_basis` | string |
//! | `released_sha256` | 32 bytes |
//! | `prev_hash` | 32 bytes (all zero for the first entry) |
//!
//! `hash = SHA-256("accord-ledger-v1\0" || body)`. A format 1 body starts with the
//! high byte of `seq`, which is 0 for every sequence number below 2^56; a format 2
//! body starts with the byte 2, so the first byte tells the formats apart.
//!
//! An encoded entry (either format) is `u32 body length || body || hash`; it is also
//! the entry's leaf in the Merkle tree. An encoded chain is the entries one after
//! another. The first entry has `seq` [`GENESIS_SEQ`].

use std::fmt;

use sha2::{Digest, Sha256};

use crate::bytes::ByteCursor;
use crate::gate::{Release, ReleaseBasis};
use crate::time::UtcMicros;

/// Domain-separation prefix of format 1 entry hashes.
const DOMAIN_V1: &[u8] = b"accord-ledger-v1\0";

/// Domain-separation prefix of format 2 entry hashes.
const DOMAIN_V2: &[u8] = b"accord-ledger-v2\0";

/// Domain-separation prefix of the object commitment.
const OBJECT_DOMAIN: &[u8] = b"accord-ledger-object-v2\0";

/// The first body byte of a format 2 entry.
const FORMAT_2_MARK: u8 = 2;

/// Which canonical encoding an entry has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EntryFormat {
    /// The stored object id in clear; no released id (entries written before the
    /// Merkle tree).
    V1,
    /// The released id in clear, the stored object id committed to (what is written now).
    #[default]
    V2,
}

/// `SHA-256("accord-ledger-object-v2\0" || salt || object_id)`.
pub fn object_commitment(salt: &[u8; 16], object_id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(OBJECT_DOMAIN);
    h.update(salt);
    h.update(object_id.as_bytes());
    h.finalize().into()
}

/// `seq` of the first entry of a chain.
pub const GENESIS_SEQ: u64 = 1;

/// Longest body accepted when decoding (a body is a few hundred bytes; the
/// free-text fields are bounded by the agreement file).
pub const MAX_ENTRY_BYTES: usize = 1 << 20;

/// What a release contributes to the ledger, before it is chained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerDraft {
    /// When the release happened.
    pub time: UtcMicros,
    /// The receiving organisation.
    pub recipient: String,
    /// The stored object id (the released id may be a pseudonym; see docs).
    pub object_id: String,
    /// The id the recipient holds: the pseudonymised id of an SCO whose id the gate
    /// recomputed, else `object_id`.
    pub released_id: String,
    /// Salt of the commitment to `object_id`. The ledger writer fills it with fresh
    /// random bytes for every entry ([`LedgerDraft::for_release`] leaves it zero).
    pub object_salt: [u8; 16],
    /// The object version (`modified`, or what the store uses for unversioned objects).
    pub object_version: String,
    /// The agreement released under.
    pub agreement_id: String,
    /// Its version.
    pub agreement_version: u32,
    /// The agreement's purpose, copied so the ledger stands alone.
    pub purpose: String,
    /// The agreement's legal basis, copied likewise.
    pub legal_basis: String,
    /// SHA-256 of the released bytes.
    pub released_sha256: [u8; 32],
}

impl LedgerDraft {
    /// The draft for a release under an agreement; `None` for a recipient's own
    /// objects and the standard TLP marking definitions, which are not releases
    /// to another party.
    pub fn for_release(
        time: UtcMicros,
        recipient: &str,
        object_id: &str,
        object_version: &str,
        release: &Release<'_>,
    ) -> Option<LedgerDraft> {
        let ReleaseBasis::Agreement(a) = release.basis else {
            return None;
        };
        Some(LedgerDraft {
            time,
            recipient: recipient.to_owned(),
            object_id: object_id.to_owned(),
            released_id: release
                .released_id
                .clone()
                .unwrap_or_else(|| object_id.to_owned()),
            object_salt: [0; 16],
            object_version: object_version.to_owned(),
            agreement_id: a.id().to_owned(),
            agreement_version: a.version(),
            purpose: a.purpose().to_owned(),
            legal_basis: a.legal_basis().to_owned(),
            released_sha256: release.sha256(),
        })
    }
}

/// One chained ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Its canonical encoding.
    pub format: EntryFormat,
    /// Position in the chain, from [`GENESIS_SEQ`] without gaps.
    pub seq: u64,
    /// When the release happened.
    pub time: UtcMicros,
    /// The receiving organisation.
    pub recipient: String,
    /// The stored object id. Format 2: known from the opening, which is not part of
    /// the encoding (empty after [`decode_chain`] and in a recipient's receipt).
    pub object_id: String,
    /// The id the recipient holds (format 2; empty for format 1, which did not record it).
    pub released_id: String,
    /// Format 2: the salt of the object commitment (the opening, with `object_id`);
    /// zero when not known, and for format 1.
    pub object_salt: [u8; 16],
    /// Format 2: the commitment to `object_id` (zero for format 1).
    pub object_commitment: [u8; 32],
    /// The object version.
    pub object_version: String,
    /// The agreement released under.
    pub agreement_id: String,
    /// Its version.
    pub agreement_version: u32,
    /// The agreement's purpose.
    pub purpose: String,
    /// The agreement's legal basis.
    pub legal_basis: String,
    /// SHA-256 of the released bytes.
    pub released_sha256: [u8; 32],
    /// `hash` of the previous entry (zero for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over the domain tag and the body.
    pub hash: [u8; 32],
}

impl LedgerEntry {
    /// The canonical body (everything but `hash`).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            200 + self.purpose.len() + self.legal_basis.len() + self.object_id.len(),
        );
        let named = match self.format {
            EntryFormat::V1 => &self.object_id,
            EntryFormat::V2 => {
                out.push(FORMAT_2_MARK);
                &self.released_id
            }
        };
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.time.0.to_be_bytes());
        for s in [
            &self.recipient,
            named,
            &self.object_version,
            &self.agreement_id,
        ] {
            put_str(&mut out, s);
        }
        out.extend_from_slice(&self.agreement_version.to_be_bytes());
        put_str(&mut out, &self.purpose);
        put_str(&mut out, &self.legal_basis);
        out.extend_from_slice(&self.released_sha256);
        if self.format == EntryFormat::V2 {
            out.extend_from_slice(&self.object_commitment);
        }
        out.extend_from_slice(&self.prev_hash);
        out
    }

    /// The hash this entry's content calls for.
    pub fn compute_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(match self.format {
            EntryFormat::V1 => DOMAIN_V1,
            EntryFormat::V2 => DOMAIN_V2,
        });
        h.update(self.body());
        h.finalize().into()
    }

    /// Whether the opening (`object_id`, `object_salt`) is known: always for format 1,
    /// for format 2 when `object_id` is set.
    pub fn opening_known(&self) -> bool {
        self.format == EntryFormat::V1 || !self.object_id.is_empty()
    }

    /// Whether a known opening matches the commitment (true when none is known, or
    /// for format 1).
    pub fn opening_matches(&self) -> bool {
        self.format == EntryFormat::V1
            || self.object_id.is_empty()
            || object_commitment(&self.object_salt, &self.object_id) == self.object_commitment
    }

    /// The id the recipient holds: the released id (format 2), else the stored id.
    pub fn held_id(&self) -> &str {
        match self.format {
            EntryFormat::V1 => &self.object_id,
            EntryFormat::V2 => &self.released_id,
        }
    }

    /// The entry as a recipient may see it: format 2 without its opening.
    pub fn without_opening(&self) -> LedgerEntry {
        let mut entry = self.clone();
        if entry.format == EntryFormat::V2 {
            entry.object_id.clear();
            entry.object_salt = [0; 16];
        }
        entry
    }

    /// The encoded entry (`u32 length || body || hash`): also its Merkle leaf.
    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.encode(&mut out);
        out
    }

    /// Its Merkle leaf hash, `SHA-256(0x00 || encoded)`.
    pub fn leaf_hash(&self) -> [u8; 32] {
        crate::merkle::leaf_hash(&self.encoded())
    }

    /// Appends the encoded entry (`u32 length || body || hash`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let body = self.body();
        out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&self.hash);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Where the next entry goes: its `seq` and the hash it must chain to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// `seq` of the next entry.
    pub next_seq: u64,
    /// `hash` of the last entry (zero before the first).
    pub prev_hash: [u8; 32],
}

impl ChainHead {
    /// The head of an empty chain.
    pub fn genesis() -> ChainHead {
        ChainHead {
            next_seq: GENESIS_SEQ,
            prev_hash: [0; 32],
        }
    }

    /// The head after `entry`.
    pub fn after(entry: &LedgerEntry) -> ChainHead {
        ChainHead {
            next_seq: entry.seq.saturating_add(1),
            prev_hash: entry.hash,
        }
    }

    /// Chains a draft at this head, advances the head, and returns the entry with its
    /// encoding (see [`chain_encoded`]).
    pub fn append_encoded(&mut self, draft: LedgerDraft) -> (LedgerEntry, Vec<u8>) {
        let (entry, encoded) = chain_encoded(*self, draft);
        *self = ChainHead::after(&entry);
        (entry, encoded)
    }

    /// Chains a draft at this head and advances the head.
    ///
    /// ```
    /// use accord_agreements::ledger::{verify, ChainHead, LedgerDraft};
    /// use accord_agreements::UtcMicros;
    /// let mut head = ChainHead::genesis();
    /// let draft = LedgerDraft {
    ///     time: UtcMicros(0), recipient: "cert".into(), object_id: "indicator--1".into(),
    ///     released_id: "indicator--1".into(), object_salt: [7; 16],
    ///     object_version: "2026-01-01T00:00:00.000Z".into(), agreement_id: "demo".into(),
    ///     agreement_version: 1, purpose: "p".into(), legal_basis: "b".into(), released_sha256: [0; 32],
    /// };
    /// let a = head.append(draft.clone());
    /// let b = head.append(draft);
    /// assert_eq!(b.prev_hash, a.hash);
    /// assert!(verify([&a, &b]).is_ok());
    /// assert_eq!(verify([&b]).unwrap_err().seq, 2);
    /// ```
    pub fn append(&mut self, draft: LedgerDraft) -> LedgerEntry {
        let entry = chain(*self, draft);
        *self = ChainHead::after(&entry);
        entry
    }
}

/// Builds the (format 2) entry for `draft` at `head`, with its encoding (built once:
/// what the ledger writer stores, and the entry's Merkle leaf).
pub fn chain_encoded(head: ChainHead, draft: LedgerDraft) -> (LedgerEntry, Vec<u8>) {
    let mut entry = unhashed(head, draft);
    let body = entry.body();
    let mut h = Sha256::new();
    h.update(DOMAIN_V2);
    h.update(&body);
    entry.hash = h.finalize().into();
    let mut encoded = Vec::with_capacity(body.len() + 36);
    encoded.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
    encoded.extend_from_slice(&body);
    encoded.extend_from_slice(&entry.hash);
    (entry, encoded)
}

/// Builds the (format 2) entry for `draft` at `head`.
pub fn chain(head: ChainHead, draft: LedgerDraft) -> LedgerEntry {
    let mut entry = unhashed(head, draft);
    entry.hash = entry.compute_hash();
    entry
}

fn unhashed(head: ChainHead, draft: LedgerDraft) -> LedgerEntry {
    LedgerEntry {
        format: EntryFormat::V2,
        seq: head.next_seq,
        time: draft.time,
        recipient: draft.recipient,
        object_commitment: object_commitment(&draft.object_salt, &draft.object_id),
        object_id: draft.object_id,
        released_id: draft.released_id,
        object_salt: draft.object_salt,
        object_version: draft.object_version,
        agreement_id: draft.agreement_id,
        agreement_version: draft.agreement_version,
        purpose: draft.purpose,
        legal_basis: draft.legal_basis,
        released_sha256: draft.released_sha256,
        prev_hash: head.prev_hash,
        hash: [0; 32],
    }
}

/// How the chain is broken at an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakKind {
    /// The entry's content does not match its hash: it was changed.
    ContentChanged,
    /// The stored object id or salt does not match the entry's commitment: the
    /// object an entry names was changed.
    OpeningChanged,
    /// The entry's `seq` is higher than expected: entries before it were deleted.
    Missing {
        /// The `seq` that should be here.
        expected_seq: u64,
    },
    /// The entry's `seq` is lower than expected: entries were reordered or duplicated.
    OutOfOrder {
        /// The `seq` that should be here.
        expected_seq: u64,
    },
    /// The entry does not chain to the one before it: an entry was replaced or
    /// inserted with consistent numbering.
    LinkBroken,
    /// The chain ends before the head it is checked against: entries at the end
    /// were deleted.
    Truncated {
        /// The `seq` of the first missing entry.
        expected_seq: u64,
    },
}

/// The first broken entry of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ledger broken at entry seq {seq} (position {index}): {kind}")]
pub struct LedgerBreak {
    /// The broken entry's `seq` as stored (for `Truncated`, the first missing seq).
    pub seq: u64,
    /// Its position in the sequence checked, from 0.
    pub index: u64,
    /// What is wrong.
    pub kind: BreakKind,
}

impl fmt::Display for BreakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakKind::ContentChanged => {
                f.write_str("its content does not match its hash (changed)")
            }
            BreakKind::OpeningChanged => f.write_str(
                "its stored object id does not match the object it committed to (changed)",
            ),
            BreakKind::Missing { expected_seq } => {
                write!(f, "expected seq {expected_seq}; entries were deleted")
            }
            BreakKind::OutOfOrder { expected_seq } => {
                write!(
                    f,
                    "expected seq {expected_seq}; entries were reordered or duplicated"
                )
            }
            BreakKind::LinkBroken => {
                f.write_str("it does not chain to the previous entry (replaced or inserted)")
            }
            BreakKind::Truncated { expected_seq } => {
                write!(f, "the chain ends before the expected head; entries from seq {expected_seq} were deleted")
            }
        }
    }
}

/// Checks entries one at a time, so a store can stream its whole ledger.
#[derive(Clone, Debug)]
pub struct Verifier {
    head: ChainHead,
    index: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// Verifies a chain from its first entry.
    pub fn new() -> Verifier {
        Verifier::resume(ChainHead::genesis())
    }

    /// Verifies a segment that continues from a trusted head (for incremental checks).
    pub fn resume(head: ChainHead) -> Verifier {
        Verifier { head, index: 0 }
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: &LedgerEntry) -> Result<(), LedgerBreak> {
        let broken = |kind| LedgerBreak {
            seq: entry.seq,
            index: self.index,
            kind,
        };
        if entry.compute_hash() != entry.hash {
            return Err(broken(BreakKind::ContentChanged));
        }
        if !entry.opening_matches() {
            return Err(broken(BreakKind::OpeningChanged));
        }
        let expected_seq = self.head.next_seq;
        if entry.seq > expected_seq {
            return Err(broken(BreakKind::Missing { expected_seq }));
        }
        if entry.seq < expected_seq {
            return Err(broken(BreakKind::OutOfOrder { expected_seq }));
        }
        if entry.prev_hash != self.head.prev_hash {
            return Err(broken(BreakKind::LinkBroken));
        }
        self.head = ChainHead::after(entry);
        self.index += 1;
        Ok(())
    }

    /// The head after the entries checked so far.
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Checks that the chain ends at `expected` (a head recorded elsewhere, which
    /// is what detects deletion of the newest entries).
    pub fn finish_at(&self, expected: ChainHead) -> Result<(), LedgerBreak> {
        if self.head == expected {
            return Ok(());
        }
        let kind = if self.head.next_seq < expected.next_seq {
            BreakKind::Truncated {
                expected_seq: self.head.next_seq,
            }
        } else {
            BreakKind::LinkBroken
        };
        Err(LedgerBreak {
            seq: self.head.next_seq,
            index: self.index,
            kind,
        })
    }
}

/// Verifies a whole chain from its first entry and returns its head.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
) -> Result<ChainHead, LedgerBreak> {
    let mut verifier = Verifier::new();
    for entry in entries {
        verifier.push(entry)?;
    }
    Ok(verifier.head())
}

/// Encodes a chain (entries one after another).
pub fn encode_chain<'a>(entries: impl IntoIterator<Item = &'a LedgerEntry>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        e.encode(&mut out);
    }
    out
}

/// Why encoded ledger bytes could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("encoded ledger is malformed at byte {offset} (entry {index}): {message}")]
pub struct LedgerDecodeError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// Position of the entry being read, from 0.
    pub index: usize,
    /// What is wrong.
    pub message: &'static str,
}

/// Decodes bytes written by [`encode_chain`] (verify the result with [`verify`]).
pub fn decode_chain(bytes: &[u8]) -> Result<Vec<LedgerEntry>, LedgerDecodeError> {
    let mut entries = Vec::new();
    let mut r = Reader {
        cursor: ByteCursor::at(bytes, 0),
        index: 0,
    };
    while r.cursor.remaining() > 0 {
        r.index = entries.len();
        let len = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
        if len > MAX_ENTRY_BYTES {
            return Err(r.error("entry longer than the limit"));
        }
        if len > r.cursor.remaining() {
            return Err(r.error("entry runs past the end"));
        }
        let body_end = r.cursor.pos() + len;
        let format = match r.peek() {
            Some(FORMAT_2_MARK) => {
                r.cursor.take(1);
                EntryFormat::V2
            }
            Some(0) => EntryFormat::V1,
            _ => return Err(r.error("unknown entry format")),
        };
        let seq = r.u64()?;
        let time = UtcMicros(r.i64()?);
        let recipient = r.string()?;
        let named = r.string()?;
        let (object_id, released_id) = match format {
            EntryFormat::V1 => (named, String::new()),
            EntryFormat::V2 => (String::new(), named),
        };
        let mut entry = LedgerEntry {
            format,
            seq,
            time,
            recipient,
            object_id,
            released_id,
            object_salt: [0; 16],
            object_commitment: [0; 32],
            object_version: r.string()?,
            agreement_id: r.string()?,
            agreement_version: r.u32()?,
            purpose: r.string()?,
            legal_basis: r.string()?,
            released_sha256: r.array()?,
            prev_hash: [0; 32],
            hash: [0; 32],
        };
        if format == EntryFormat::V2 {
            entry.object_commitment = r.array()?;
        }
        entry.prev_hash = r.array()?;
        if r.cursor.pos() != body_end {
            return Err(r.error("entry length does not match its fields"));
        }
        entry.hash = r.array()?;
        entries.push(entry);
    }
    Ok(entries)
}

struct Reader<'a> {
    cursor: ByteCursor<'a>,
    index: usize,
}

impl Reader<'_> {
    fn error(&self, message: &'static str) -> LedgerDecodeError {
        LedgerDecodeError {
            offset: self.cursor.pos(),
            index: self.index,
            message,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.cursor.peek()
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LedgerDecodeError> {
        self.cursor
            .array()
            .ok_or_else(|| self.error("unexpected end"))
    }

    fn u32(&mut self) -> Result<u32, LedgerDecodeError> {
        self.array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, LedgerDecodeError> {
        self.array().map(u64::from_be_bytes)
    }

    fn i64(&mut self) -> Result<i64, LedgerDecodeError> {
        self.array().map(i64::from_be_bytes)
    }

    fn string(&mut self) -> Result<String, LedgerDecodeError> {
        let len = usize::try_from(self.u32()?).unwrap_or(usize::MAX);
        if len > MAX_ENTRY_BYTES {
            return Err(self.error("string longer than the limit"));
        }
        let start = self.cursor.pos();
        let bytes = self
            .cursor
            .take(len)
            .ok_or_else(|| self.error("unexpected end"))?
            .to_vec();
        String::from_utf8(bytes).map_err(|_| LedgerDecodeError {
            offset: start,
            index: self.index,
            message: "string is not UTF-8",
        })
    }
}
