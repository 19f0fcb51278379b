//! Signed tree heads, the node's ledger key, and the proofs a recipient or an auditor
//! checks offline — in the style of Certificate Transparency (RFC 9162) and Rekor.
//!
//! The ledger's Merkle tree ([`crate::merkle`]) commits to every entry; a *signed tree
//! head* is the node's Ed25519 signature over a tree size, its root hash and a time.
//! Whoever holds a signed head can later demand a consistency proof: a ledger that was
//! cut short, or rewritten with every later hash recomputed, has no valid proof that it
//! extends the head. A [`LedgerProof`] bundles a signed head with entries and their
//! inclusion proofs; with the node's public key alone it shows that the node logged
//! those entries.
//!
//! # Signed bytes
//! The signature covers, in order: the domain prefix `"accord-ledger-tree-head-v1\0"`,
//! the key id (32 bytes), the tree size (u64 big-endian), the root hash (32 bytes) and
//! the timestamp (i64 big-endian, microseconds since the Unix epoch). The domain prefix
//! keeps the signature from being valid for anything else the key could sign; the key
//! id ties it to one key, so a head cannot be replayed as another node's.
//!
//! # Key text
//! A public key is exchanged as one line: `accord-ledger-key ed25519 <64 hex digits>`.
//! Its *key id* is `SHA-256` of the 32 raw key bytes.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ledger::{decode_chain, EntryFormat, LedgerEntry};
use crate::merkle::{self, Hash, MerkleError};
use crate::time::UtcMicros;

/// Domain-separation prefix of the bytes a tree head signature covers.
pub const HEAD_DOMAIN: &[u8] = b"accord-ledger-tree-head-v1\0";

/// The first words of a public key's text form.
pub const KEY_TEXT_PREFIX: &str = "accord-ledger-key ed25519 ";

/// `format` of a signed tree head's JSON.
pub const HEAD_FORMAT: &str = "accord-signed-tree-head/1";

/// `format` of a proof's JSON.
pub const PROOF_FORMAT: &str = "accord-ledger-proof/1";

/// Most entries one proof may hold (a receipt covers one TAXII page, at most the
/// server's largest page; a `prove` covers one object's releases to one recipient).
pub const MAX_PROOF_ENTRIES: usize = 100_000;

/// A tree size, its root and when it was signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// Leaves (ledger entries) in the tree.
    pub tree_size: u64,
    /// `MTH` of those leaves.
    pub root_hash: Hash,
    /// When the node signed it.
    pub timestamp: UtcMicros,
}

/// A tree head with the node's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "HeadJson", try_from = "HeadJson")]
pub struct SignedTreeHead {
    /// What was signed.
    pub head: TreeHead,
    /// SHA-256 of the signing key's public key.
    pub key_id: Hash,
    /// Ed25519 signature over [`SignedTreeHead::signed_bytes`].
    pub signature: [u8; 64],
}

impl SignedTreeHead {
    /// The canonical bytes the signature covers (see the module docs).
    pub fn signed_bytes(head: &TreeHead, key_id: &Hash) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEAD_DOMAIN.len() + 80);
        out.extend_from_slice(HEAD_DOMAIN);
        out.extend_from_slice(key_id);
        out.extend_from_slice(&head.tree_size.to_be_bytes());
        out.extend_from_slice(&head.root_hash);
        out.extend_from_slice(&head.timestamp.0.to_be_bytes());
        out
    }

    /// Checks that `key` signed this head.
    pub fn verify(&self, key: &LedgerPublicKey) -> Result<(), ProofError> {
        if self.key_id != key.id() {
            return Err(ProofError::OtherKey {
                head_key: hex::encode(self.key_id),
                key: hex::encode(key.id()),
            });
        }
        let signature = Signature::from_bytes(&self.signature);
        key.key
            .verify_strict(
                &SignedTreeHead::signed_bytes(&self.head, &self.key_id),
                &signature,
            )
            .map_err(|_| ProofError::BadSignature)
    }
}

/// The JSON form of a signed tree head (hashes and signature in hex).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadJson {
    format: String,
    key_id: String,
    tree_size: u64,
    root_hash: String,
    timestamp: String,
    timestamp_micros: i64,
    signature: String,
}

impl From<SignedTreeHead> for HeadJson {
    fn from(h: SignedTreeHead) -> HeadJson {
        HeadJson {
            format: HEAD_FORMAT.to_owned(),
            key_id: hex::encode(h.key_id),
            tree_size: h.head.tree_size,
            root_hash: hex::encode(h.head.root_hash),
            timestamp: h.head.timestamp.to_stix(),
            timestamp_micros: h.head.timestamp.0,
            signature: hex::encode(h.signature),
        }
    }
}

impl TryFrom<HeadJson> for SignedTreeHead {
    type Error = String;

    fn try_from(j: HeadJson) -> Result<SignedTreeHead, String> {
        if j.format != HEAD_FORMAT {
            return Err(format!(
                "format is {:?}, expected {HEAD_FORMAT:?}",
                j.format
            ));
        }
        let timestamp = UtcMicros(j.timestamp_micros);
        if timestamp.to_stix() != j.timestamp {
            return Err(format!(
                "timestamp {} does not match timestamp_micros {}",
                j.timestamp, j.timestamp_micros
            ));
        }
        Ok(SignedTreeHead {
            head: TreeHead {
                tree_size: j.tree_size,
                root_hash: hex_array("root_hash", &j.root_hash)?,
                timestamp,
            },
            key_id: hex_array("key_id", &j.key_id)?,
            signature: hex_array("signature", &j.signature)?,
        })
    }
}

fn hex_array<const N: usize>(name: &str, text: &str) -> Result<[u8; N], String> {
    let bytes = hex::decode(text).map_err(|e| format!("{name}: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{name}: not {N} bytes"))
}

/// The node's ledger signing key. Its `Debug` shows the key id only: the key itself
/// is never printed or logged.
pub struct LedgerSigner {
    key: SigningKey,
}

impl fmt::Debug for LedgerSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerSigner")
            .field("key_id", &hex::encode(self.public_key().id()))
            .finish_non_exhaustive()
    }
}

impl LedgerSigner {
    /// The key whose 32-byte Ed25519 seed is `seed` (the caller draws it from the
    /// operating system's random source, or reads it from the key file).
    pub fn from_seed(seed: &[u8; 32]) -> LedgerSigner {
        LedgerSigner {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The seed, to write to the key file.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The Ed25519 key, for the other signatures the node makes ([`crate::jws`]).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The public key partners and auditors verify heads with.
    pub fn public_key(&self) -> LedgerPublicKey {
        LedgerPublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// Signs a tree head.
    pub fn sign(&self, head: TreeHead) -> SignedTreeHead {
        let key_id = self.public_key().id();
        let signature = self.key.sign(&SignedTreeHead::signed_bytes(&head, &key_id));
        SignedTreeHead {
            head,
            key_id,
            signature: signature.to_bytes(),
        }
    }
}

/// A node's ledger public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerPublicKey {
    key: VerifyingKey,
}

/// Why a public key's text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an Accord ledger public key ({0}); expected `{KEY_TEXT_PREFIX}<64 hex digits>`")]
pub struct KeyTextError(&'static str);

impl LedgerPublicKey {
    /// The key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<LedgerPublicKey, KeyTextError> {
        VerifyingKey::from_bytes(bytes)
            .map(|key| LedgerPublicKey { key })
            .map_err(|_| KeyTextError("not a valid Ed25519 point"))
    }

    /// Its 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Its id: SHA-256 of the raw bytes.
    pub fn id(&self) -> Hash {
        Sha256::digest(self.key.as_bytes()).into()
    }

    /// The one-line text form.
    pub fn to_text(&self) -> String {
        format!("{KEY_TEXT_PREFIX}{}", hex::encode(self.key.as_bytes()))
    }

    /// Reads the text form (surrounding white space and `#` comment lines allowed).
    ///
    /// ```
    /// use accord_agreements::transparency::{LedgerPublicKey, LedgerSigner};
    /// let key = LedgerSigner::from_seed(&[7; 32]).public_key();
    /// assert_eq!(LedgerPublicKey::parse(&key.to_text()).unwrap(), key);
    /// assert!(LedgerPublicKey::parse("ed25519 00").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<LedgerPublicKey, KeyTextError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or(KeyTextError("empty"))?;
        let digits = line
            .strip_prefix(KEY_TEXT_PREFIX)
            .ok_or(KeyTextError("wrong prefix"))?;
        let bytes: [u8; 32] = hex::decode(digits.trim())
            .map_err(|_| KeyTextError("not hex"))?
            .try_into()
            .map_err(|_| KeyTextError("not 32 bytes"))?;
        LedgerPublicKey::from_bytes(&bytes)
    }
}

/// Why a head, a proof or a receipt does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The head names another key than the one given (a head of another node, or a
    /// key that was replaced).
    #[error("the head was signed by key {head_key}, not by the key given ({key})")]
    OtherKey {
        /// Key id in the head.
        head_key: String,
        /// Id of the key given.
        key: String,
    },
    /// The signature does not verify (the head was changed or forged).
    #[error("the tree head's signature is not valid for its content (forged or changed)")]
    BadSignature,
    /// An entry's leaf is not a single well-formed entry.
    #[error("entry {seq}: its leaf is malformed: {detail}")]
    BadLeaf {
        /// The entry's claimed seq.
        seq: u64,
        /// What is wrong.
        detail: String,
    },
    /// An entry's inclusion proof does not lead to the signed root.
    #[error("entry {seq} is not in the signed tree of {tree_size} entries: {source}")]
    NotIncluded {
        /// The entry.
        seq: u64,
        /// The head's tree size.
        tree_size: u64,
        /// What failed.
        source: MerkleError,
    },
    /// An opening does not match the entry's object commitment.
    #[error(
        "entry {seq}: the object id given ({object_id}) is not the one the entry committed to"
    )]
    WrongOpening {
        /// The entry.
        seq: u64,
        /// The id given.
        object_id: String,
    },
    /// The readable copy of an entry differs from the entry its leaf holds.
    #[error("entry {seq}: the readable fields do not match the signed leaf")]
    ReadableMismatch {
        /// The entry.
        seq: u64,
    },
    /// The proof is malformed (too many entries, a wrong format tag).
    #[error("malformed proof: {0}")]
    Malformed(String),
}

/// One entry of a [`LedgerProof`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenEntry {
    /// The entry's seq (its leaf index is `seq - 1`).
    pub seq: u64,
    /// The encoded entry: its Merkle leaf.
    pub leaf: Vec<u8>,
    /// The inclusion proof of the leaf in the signed tree.
    pub inclusion_proof: Vec<Hash>,
    /// For an auditor: the stored object id and the salt of its commitment (format 2).
    /// Never in a receipt handed to the recipient.
    pub opening: Option<(String, [u8; 16])>,
}

/// Entries, their inclusion proofs and the signed head they lead to: a receipt for
/// a recipient, or the proof `accord ledger prove` gives an auditor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerProof {
    /// The receipt id, for a receipt.
    pub receipt_id: Option<String>,
    /// The head the proofs lead to.
    pub signed_head: SignedTreeHead,
    /// The proven entries.
    pub entries: Vec<ProvenEntry>,
}

impl LedgerProof {
    /// Checks the head's signature with `key`, and every entry's inclusion (and opening,
    /// where given); returns the entries, decoded.
    ///
    /// Needs nothing but the proof and the key: no database, no network.
    pub fn verify(&self, key: &LedgerPublicKey) -> Result<Vec<LedgerEntry>, ProofError> {
        if self.entries.len() > MAX_PROOF_ENTRIES {
            return Err(ProofError::Malformed(format!(
                "{} entries, more than {MAX_PROOF_ENTRIES}",
                self.entries.len()
            )));
        }
        self.signed_head.verify(key)?;
        let head = &self.signed_head.head;
        self.entries
            .iter()
            .map(|proven| {
                let entry = decode_leaf(proven.seq, &proven.leaf)?;
                let index = proven.seq.checked_sub(1).ok_or(ProofError::BadLeaf {
                    seq: 0,
                    detail: "seq 0".into(),
                })?;
                merkle::verify_inclusion(
                    index,
                    head.tree_size,
                    &merkle::leaf_hash(&proven.leaf),
                    &proven.inclusion_proof,
                    &head.root_hash,
                )
                .map_err(|source| ProofError::NotIncluded {
                    seq: proven.seq,
                    tree_size: head.tree_size,
                    source,
                })?;
                open(entry, proven)
            })
            .collect()
    }
}

/// Decodes a leaf that must hold exactly the entry `seq`, hashed as it claims.
pub fn decode_leaf(seq: u64, leaf: &[u8]) -> Result<LedgerEntry, ProofError> {
    let bad = |detail: String| ProofError::BadLeaf { seq, detail };
    let mut entries = decode_chain(leaf).map_err(|e| bad(e.to_string()))?;
    let entry = match (entries.pop(), entries.is_empty()) {
        (Some(entry), true) => entry,
        _ => return Err(bad("it does not hold exactly one entry".into())),
    };
    if entry.seq != seq {
        return Err(bad(format!("it holds entry {}", entry.seq)));
    }
    if entry.compute_hash() != entry.hash {
        return Err(bad("its content does not match its hash".into()));
    }
    Ok(entry)
}

fn open(mut entry: LedgerEntry, proven: &ProvenEntry) -> Result<LedgerEntry, ProofError> {
    if let Some((object_id, salt)) = &proven.opening {
        if entry.format == EntryFormat::V2 {
            entry.object_id.clone_from(object_id);
            entry.object_salt = *salt;
        }
        if !entry.opening_matches() || entry.object_id != *object_id {
            return Err(ProofError::WrongOpening {
                seq: proven.seq,
                object_id: object_id.clone(),
            });
        }
    }
    Ok(entry)
}

/// The readable JSON of an entry (hashes in hex): one line of `accord ledger export`,
/// and the `entry` of each proven entry. Format 2 entries carry `object_id` and
/// `object_salt` only when the opening is known.
pub fn entry_json(e: &LedgerEntry) -> serde_json::Value {
    let mut v = serde_json::json!({
        "format": match e.format { EntryFormat::V1 => 1, EntryFormat::V2 => 2 },
        "seq": e.seq,
        "time": e.time.to_stix(),
        "time_micros": e.time.0,
        "recipient": e.recipient,
    });
    let map = v.as_object_mut();
    if let Some(map) = map {
        if e.opening_known() {
            map.insert("object_id".into(), e.object_id.clone().into());
        }
        if e.format == EntryFormat::V2 {
            map.insert("released_id".into(), e.released_id.clone().into());
            if e.opening_known() {
                map.insert("object_salt".into(), hex::encode(e.object_salt).into());
            }
            map.insert(
                "object_commitment".into(),
                hex::encode(e.object_commitment).into(),
            );
        }
        for (k, val) in [
            ("object_version", e.object_version.clone().into()),
            ("agreement_id", e.agreement_id.clone().into()),
            ("agreement_version", e.agreement_version.into()),
            ("purpose", e.purpose.clone().into()),
            ("legal_basis", e.legal_basis.clone().into()),
            ("released_sha256", hex::encode(e.released_sha256).into()),
            ("prev_hash", hex::encode(e.prev_hash).into()),
            ("hash", hex::encode(e.hash).into()),
        ] {
            map.insert(k.into(), val);
        }
    }
    v
}

/// The fields of [`entry_json`], read back (an export written before format 2 has no
/// `format`, and is format 1).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    #[serde(default = "format_one")]
    format: u8,
    seq: u64,
    time: String,
    time_micros: i64,
    recipient: String,
    #[serde(default)]
    object_id: Option<String>,
    #[serde(default)]
    released_id: Option<String>,
    #[serde(default)]
    object_salt: Option<String>,
    #[serde(default)]
    object_commitment: Option<String>,
    object_version: String,
    agreement_id: String,
    agreement_version: u32,
    purpose: String,
    legal_basis: String,
    released_sha256: String,
    prev_hash: String,
    hash: String,
}

fn format_one() -> u8 {
    1
}

/// Reads an entry from its [`entry_json`] form. The readable time must say what the
/// hashed one says; a format 2 entry must carry its opening (an export is for
/// auditors), and the fields of the other format are refused.
pub fn entry_from_json(value: &serde_json::Value) -> Result<LedgerEntry, String> {
    let j = EntryJson::deserialize(value).map_err(|e| e.to_string())?;
    let time = UtcMicros(j.time_micros);
    if time.to_stix() != j.time {
        return Err(format!(
            "time {} does not match time_micros {}",
            j.time, j.time_micros
        ));
    }
    let required = |name: &str, v: Option<String>| v.ok_or_else(|| format!("{name} is missing"));
    let (format, object_id, released_id, salt, commitment) = match j.format {
        1 => {
            if j.released_id.is_some() || j.object_salt.is_some() || j.object_commitment.is_some() {
                return Err(
                    "a format 1 entry has no released_id, object_salt or object_commitment".into(),
                );
            }
            (
                EntryFormat::V1,
                required("object_id", j.object_id)?,
                String::new(),
                [0; 16],
                [0; 32],
            )
        }
        2 => (
            EntryFormat::V2,
            required("object_id", j.object_id)?,
            required("released_id", j.released_id)?,
            hex_array("object_salt", &required("object_salt", j.object_salt)?)?,
            hex_array(
                "object_commitment",
                &required("object_commitment", j.object_commitment)?,
            )?,
        ),
        other => return Err(format!("unknown entry format {other}")),
    };
    Ok(LedgerEntry {
        format,
        seq: j.seq,
        time,
        recipient: j.recipient,
        object_id,
        released_id,
        object_salt: salt,
        object_commitment: commitment,
        object_version: j.object_version,
        agreement_id: j.agreement_id,
        agreement_version: j.agreement_version,
        purpose: j.purpose,
        legal_basis: j.legal_basis,
        released_sha256: hex_array("released_sha256", &j.released_sha256)?,
        prev_hash: hex_array("prev_hash", &j.prev_hash)?,
        hash: hex_array("hash", &j.hash)?,
    })
}

/// The JSON form of a [`LedgerProof`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofJson {
    format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipt_id: Option<String>,
    public_key_id: String,
    signed_head: SignedTreeHead,
    entries: Vec<ProvenJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvenJson {
    seq: u64,
    leaf: String,
    inclusion_proof: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_salt: Option<String>,
    /// Readable copy of the leaf's entry; checked against the leaf when read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry: Option<serde_json::Value>,
}

impl LedgerProof {
    /// The JSON form. Each entry also carries a readable copy of its leaf, which
    /// [`LedgerProof::from_json`] checks against the leaf.
    pub fn to_json(&self) -> serde_json::Value {
        let entries = self
            .entries
            .iter()
            .map(|p| {
                let readable = decode_leaf(p.seq, &p.leaf)
                    .and_then(|e| open(e, p))
                    .ok()
                    .map(|e| entry_json(&e));
                ProvenJson {
                    seq: p.seq,
                    leaf: hex::encode(&p.leaf),
                    inclusion_proof: p.inclusion_proof.iter().map(hex::encode).collect(),
                    object_id: p.opening.as_ref().map(|(id, _)| id.clone()),
                    object_salt: p.opening.as_ref().map(|(_, salt)| hex::encode(salt)),
                    entry: readable,
                }
            })
            .collect();
        serde_json::to_value(ProofJson {
            format: PROOF_FORMAT.to_owned(),
            receipt_id: self.receipt_id.clone(),
            public_key_id: hex::encode(self.signed_head.key_id),
            signed_head: self.signed_head,
            entries,
        })
        .unwrap_or(serde_json::Value::Null)
    }

    /// Reads the JSON form (the signature and proofs are checked by
    /// [`LedgerProof::verify`], not here).
    pub fn from_json(value: &serde_json::Value) -> Result<LedgerProof, ProofError> {
        let j = ProofJson::deserialize(value).map_err(|e| ProofError::Malformed(e.to_string()))?;
        if j.format != PROOF_FORMAT {
            return Err(ProofError::Malformed(format!(
                "format is {:?}, expected {PROOF_FORMAT:?}",
                j.format
            )));
        }
        if j.public_key_id != hex::encode(j.signed_head.key_id) {
            return Err(ProofError::Malformed(
                "public_key_id differs from the head's key_id".into(),
            ));
        }
        if j.entries.len() > MAX_PROOF_ENTRIES {
            return Err(ProofError::Malformed(format!(
                "more than {MAX_PROOF_ENTRIES} entries"
            )));
        }
        let mut entries = Vec::with_capacity(j.entries.len());
        for p in j.entries {
            let malformed = |e: String| ProofError::Malformed(format!("entry {}: {e}", p.seq));
            let leaf = hex::decode(&p.leaf).map_err(|e| malformed(format!("leaf: {e}")))?;
            if p.inclusion_proof.len() > merkle::MAX_PROOF_HASHES {
                return Err(malformed("inclusion proof too long".into()));
            }
            let inclusion_proof = p
                .inclusion_proof
                .iter()
                .map(|h| hex_array("inclusion_proof", h))
                .collect::<Result<Vec<_>, _>>()
                .map_err(malformed)?;
            let opening = match (p.object_id, p.object_salt) {
                (Some(id), Some(salt)) => {
                    Some((id, hex_array("object_salt", &salt).map_err(malformed)?))
                }
                (None, None) => None,
                _ => return Err(malformed("object_id and object_salt go together".into())),
            };
            let proven = ProvenEntry {
                seq: p.seq,
                leaf,
                inclusion_proof,
                opening,
            };
            if let Some(readable) = p.entry {
                let decoded =
                    decode_leaf(proven.seq, &proven.leaf).and_then(|e| open(e, &proven))?;
                if entry_json(&decoded) != readable {
                    return Err(ProofError::ReadableMismatch { seq: proven.seq });
                }
            }
            entries.push(proven);
        }
        Ok(LedgerProof {
            receipt_id: j.receipt_id,
            signed_head: j.signed_head,
            entries,
        })
    }
}

/// Why a ledger does not hold against the entries' chain or a signed head.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogProblem {
    /// The hash chain is broken at an entry.
    #[error(transparent)]
    Chain(#[from] crate::ledger::LedgerBreak),
    /// The first `tree_size` entries are not those the head signed: entries up to
    /// there were changed, replaced or reordered (even with every later hash recomputed).
    #[error("the first {tree_size} entries are not the ones signed at {}: the ledger was rewritten (its root is {}, the signed root {})", .timestamp.to_stix(), hex::encode(.found), hex::encode(.signed))]
    Rewritten {
        /// The head's tree size.
        tree_size: u64,
        /// When the head was signed.
        timestamp: UtcMicros,
        /// The root of the entries as they are.
        found: Hash,
        /// The signed root.
        signed: Hash,
    },
    /// The ledger has fewer entries than a head signed: entries were cut off the end.
    #[error("the ledger has {entries} entries, but {tree_size} were signed at {}: entries from {} on were deleted", .timestamp.to_stix(), .entries + 1)]
    Truncated {
        /// Entries present.
        entries: u64,
        /// The head's tree size.
        tree_size: u64,
        /// When the head was signed.
        timestamp: UtcMicros,
    },
}

/// Checks a whole ledger, entry by entry from the first: the hash chain, and the
/// Merkle root at the size of every signed head given (whose signatures the caller
/// checked). What an auditor runs over an export, or the node over its store.
#[derive(Clone, Debug)]
pub struct LogVerifier {
    chain: crate::ledger::Verifier,
    tree: merkle::Frontier,
    /// Heads still to reach, largest first (popped as the tree reaches them).
    heads: Vec<TreeHead>,
}

impl LogVerifier {
    /// A verifier that checks the ledger against `heads`.
    pub fn new(heads: impl IntoIterator<Item = TreeHead>) -> LogVerifier {
        let mut heads: Vec<TreeHead> = heads.into_iter().collect();
        heads.sort_by_key(|h| std::cmp::Reverse(h.tree_size));
        LogVerifier {
            chain: crate::ledger::Verifier::new(),
            tree: merkle::Frontier::new(),
            heads,
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: &LedgerEntry) -> Result<(), LogProblem> {
        self.chain.push(entry)?;
        self.tree.push(entry.leaf_hash());
        self.reached()
    }

    fn reached(&mut self) -> Result<(), LogProblem> {
        while let Some(head) = self.heads.last().copied() {
            if head.tree_size > self.tree.size() {
                break;
            }
            self.heads.pop();
            if head.tree_size == self.tree.size() && head.root_hash != self.tree.root() {
                return Err(LogProblem::Rewritten {
                    tree_size: head.tree_size,
                    timestamp: head.timestamp,
                    found: self.tree.root(),
                    signed: head.root_hash,
                });
            }
        }
        Ok(())
    }

    /// Entries checked so far.
    pub fn entries(&self) -> u64 {
        self.tree.size()
    }

    /// The tree of the entries checked so far.
    pub fn tree(&self) -> &merkle::Frontier {
        &self.tree
    }

    /// Ends the check: every head must have been reached.
    pub fn finish(mut self) -> Result<merkle::Frontier, LogProblem> {
        // The empty-tree head (size 0) is reached at once.
        self.reached()?;
        if let Some(head) = self.heads.first() {
            return Err(LogProblem::Truncated {
                entries: self.tree.size(),
                tree_size: head.tree_size,
                timestamp: head.timestamp,
            });
        }
        Ok(self.tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_verifies_with_its_key_only() {
        let signer = LedgerSigner::from_seed(&[1; 32]);
        let other = LedgerSigner::from_seed(&[2; 32]);
        let head = TreeHead {
            tree_size: 3,
            root_hash: [9; 32],
            timestamp: UtcMicros(1_780_000_000_000_000),
        };
        let signed = signer.sign(head);
        signed.verify(&signer.public_key()).unwrap();
        assert!(matches!(
            signed.verify(&other.public_key()),
            Err(ProofError::OtherKey { .. })
        ));
        // Another node's head relabelled with this node's key id: the signature fails.
        let mut relabelled = other.sign(head);
        relabelled.key_id = signer.public_key().id();
        assert_eq!(
            relabelled.verify(&signer.public_key()),
            Err(ProofError::BadSignature)
        );
        for change in 0..3 {
            let mut changed = signed;
            match change {
                0 => changed.head.tree_size += 1,
                1 => changed.head.root_hash[0] ^= 1,
                _ => changed.head.timestamp.0 += 1,
            }
            assert_eq!(
                changed.verify(&signer.public_key()),
                Err(ProofError::BadSignature)
            );
        }
        let json = serde_json::to_value(signed).unwrap();
        assert_eq!(json["format"], HEAD_FORMAT);
        assert_eq!(
            serde_json::from_value::<SignedTreeHead>(json).unwrap(),
            signed
        );
    }

    #[test]
    fn the_signer_never_shows_its_key() {
        let signer = LedgerSigner::from_seed(&[0xab; 32]);
        let shown = format!("{signer:?}");
        assert!(!shown.contains(&hex::encode([0xab; 32])), "{shown}");
        assert!(shown.contains(&hex::encode(signer.public_key().id())));
    }
}
