//! The ledger's Merkle tree: RFC 9162 (Certificate Transparency 2.0) §2.1 hashing,
//! inclusion and consistency proofs, and their verification.
//!
//! A tree over `n` leaves (the ledger's encoded entries, in `seq` order) has the root
//! `MTH(D[n])` of RFC 9162 §2.1.1: `SHA-256()` for no leaves, `SHA-256(0x00 || d)` for
//! one leaf `d`, else `SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))` with `k` the largest
//! power of two below `n`. The domain bytes `0x00`/`0x01` keep a leaf from passing for
//! an inner node (second-preimage attacks).
//!
//! # Storage model
//! Every hash a proof needs is the hash of a *perfect* subtree (a [`NodeId`]: `2^level`
//! leaves from `index << level`), or the fold of a few of them (the right edge of a tree
//! whose size is not a power of two). A perfect subtree never changes once its last leaf
//! is appended, so a store keeps each one beside the leaf that completed it: leaf `i`
//! completes the nodes of levels `0..=t`, `t` the number of trailing one bits of `i`
//! (see [`Frontier::push`]). Every proof then costs O(log n) stored hashes, for the
//! current tree or any earlier size. The code here decides *which* nodes a proof needs
//! ([`inclusion_plan`], [`consistency_plan`], [`root_plan`]) and assembles the proof
//! from their hashes; it does no I/O.
//!
//! The verification functions follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Most hashes in a proof. A tree of `2^64` leaves has proofs of at most 64 hashes
/// (plus one for a consistency proof); more is malformed.
pub const MAX_PROOF_HASHES: usize = 65;

/// `SHA-256(0x00 || data)`: the hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A perfect subtree: the `2^level` leaves from `index << level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    /// Height above the leaves (0 for a leaf).
    pub level: u8,
    /// Position among the nodes of that level, from 0.
    pub index: u64,
}

impl NodeId {
    /// The first leaf it covers.
    pub fn first_leaf(self) -> u64 {
        self.index << self.level
    }

    /// The 1-based `seq` of the ledger entry whose append completed this node (its last
    /// leaf is leaf `seq - 1`): where a store keeps its hash.
    pub fn completed_at_seq(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Why a proof could not be planned or did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    LeafOutOfRange {
        /// The leaf index asked about.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The older tree is larger than the newer one.
    #[error("a tree of {old} leaves cannot be a prefix of one of {new}")]
    SizesReversed {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for the sizes given.
    #[error("the proof has the wrong number of hashes ({got}) for these tree sizes")]
    WrongLength {
        /// Hashes in the proof.
        got: usize,
    },
    /// The proof's hashes do not lead to the root given.
    #[error("the proof does not lead to the root hash: {what} differs")]
    Mismatch {
        /// Which computed root differs (`root`, `old root`, `new root`).
        what: &'static str,
    },
    /// A store handed back a different number of hashes than asked for.
    #[error("expected {expected} node hashes, got {got}")]
    MissingNodes {
        /// Hashes asked for.
        expected: usize,
        /// Hashes received.
        got: usize,
    },
}

/// The perfect subtrees that make up the leaves `[start, end)`, largest first, for a
/// range that starts on a boundary of its largest part (every range a proof of this
/// tree shape uses). Folding their hashes from the right gives the range's `MTH`.
fn range_nodes(start: u64, end: u64, out: &mut Vec<NodeId>) {
    let mut at = start;
    while at < end {
        let mut level = 0u8;
        while level < 63 {
            let size = 1u64 << (level + 1);
            if at % size != 0 || at.checked_add(size).is_none_or(|e| e > end) {
                break;
            }
            level += 1;
        }
        out.push(NodeId {
            level,
            index: at >> level,
        });
        at += 1u64 << level;
    }
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Which node hashes make up a proof (or a root), and how to fold them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPlan {
    /// One group per proof hash, in proof order; a group of several is folded from
    /// the right into one hash.
    groups: Vec<Vec<NodeId>>,
}

impl ProofPlan {
    /// Every node hash the plan needs, in order (duplicates possible).
    pub fn nodes(&self) -> Vec<NodeId> {
        self.groups.iter().flatten().copied().collect()
    }

    /// The proof, from the hashes of [`ProofPlan::nodes`] in the same order.
    pub fn assemble(&self, hashes: &[Hash]) -> Result<Vec<Hash>, MerkleError> {
        let expected = self.groups.iter().map(Vec::len).sum::<usize>();
        if hashes.len() != expected {
            return Err(MerkleError::MissingNodes {
                expected,
                got: hashes.len(),
            });
        }
        let mut at = 0;
        let mut proof = Vec::with_capacity(self.groups.len());
        for group in &self.groups {
            let part = &hashes[at..at + group.len()];
            at += group.len();
            proof.push(fold(part));
        }
        Ok(proof)
    }

    /// The number of hashes in the proof.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the proof is empty.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Folds perfect-subtree hashes (largest first) from the right into their range's hash.
fn fold(parts: &[Hash]) -> Hash {
    let mut iter = parts.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |right, left| node_hash(left, &right))
}

fn group(start: u64, end: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    range_nodes(start, end, &mut nodes);
    nodes
}

/// The nodes whose fold is the root of a tree of `size` leaves (empty for size 0,
/// whose root is [`empty_root`]).
pub fn root_plan(size: u64) -> ProofPlan {
    ProofPlan {
        groups: if size == 0 {
            Vec::new()
        } else {
            vec![group(0, size)]
        },
    }
}

/// The root from the hashes of [`root_plan`]`(size).nodes()`.
pub fn root_from(hashes: &[Hash]) -> Hash {
    fold(hashes)
}

/// The nodes of the inclusion proof of leaf `index` in a tree of `size` leaves
/// (RFC 9162 §2.1.3.1, `PATH(m, D[n])`).
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, MerkleError> {
    if index >= size {
        return Err(MerkleError::LeafOutOfRange { index, size });
    }
    let mut groups = Vec::new();
    path(index, 0, size, &mut groups);
    Ok(ProofPlan { groups })
}

fn path(m: u64, start: u64, end: u64, out: &mut Vec<Vec<NodeId>>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < start + k {
        path(m, start, start + k, out);
        out.push(group(start + k, end));
    } else {
        path(m, start + k, end, out);
        out.push(group(start, start + k));
    }
}

/// The nodes of the consistency proof between the trees of `old` and `new` leaves
/// (RFC 9162 §2.1.4.1, `PROOF(m, D[n])`); empty when `old` is 0 or equals `new`.
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, MerkleError> {
    if old > new {
        return Err(MerkleError::SizesReversed { old, new });
    }
    let mut groups = Vec::new();
    if old > 0 && old < new {
        subproof(old, 0, new, true, &mut groups);
    }
    Ok(ProofPlan { groups })
}

fn subproof(m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Vec<NodeId>>) {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(group(start, end));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, start, start + k, whole, out);
        out.push(group(start + k, end));
    } else {
        subproof(m - k, start + k, end, false, out);
        out.push(group(start, start + k));
    }
}

/// Verifies that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves
/// whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::LeafOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(MerkleError::WrongLength { got: proof.len() });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(MerkleError::WrongLength { got: proof.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(MerkleError::WrongLength { got: proof.len() });
    }
    if r != *root {
        return Err(MerkleError::Mismatch { what: "root" });
    }
    Ok(())
}

/// Verifies that the tree of `old` leaves with root `old_root` is a prefix of the tree
/// of `new` leaves with root `new_root` (RFC 9162 §2.1.4.2). Equal sizes need equal
/// roots and an empty proof; the empty tree is a prefix of every tree.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old > new {
        return Err(MerkleError::SizesReversed { old, new });
    }
    if old == new || old == 0 {
        if !proof.is_empty() {
            return Err(MerkleError::WrongLength { got: proof.len() });
        }
        if old == new && old_root != new_root {
            return Err(MerkleError::Mismatch { what: "new root" });
        }
        if old == 0 && *old_root != empty_root() {
            return Err(MerkleError::Mismatch { what: "old root" });
        }
        return Ok(());
    }
    // Step 1.
    if proof.is_empty() || proof.len() > MAX_PROOF_HASHES {
        return Err(MerkleError::WrongLength { got: proof.len() });
    }
    // Step 2.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    // Steps 3 and 4.
    let mut fnode = old - 1;
    let mut snode = new - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    let mut fr = path[0];
    let mut sr = path[0];
    // Step 6.
    for c in &path[1..] {
        if snode == 0 {
            return Err(MerkleError::WrongLength { got: proof.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 7.
    if snode != 0 {
        return Err(MerkleError::WrongLength { got: proof.len() });
    }
    if fr != *old_root {
        return Err(MerkleError::Mismatch { what: "old root" });
    }
    if sr != *new_root {
        return Err(MerkleError::Mismatch { what: "new root" });
    }
    Ok(())
}

/// The right edge of a tree: the hashes of the perfect subtrees of its binary
/// decomposition, largest first (at most 64). Enough to append and to compute the root.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The perfect subtrees whose hashes make up the frontier of a tree of `size`
    /// leaves, largest first (what a store reads to resume appending).
    pub fn ids(size: u64) -> Vec<NodeId> {
        group(0, size)
    }

    /// The frontier of a tree of `size` leaves from the hashes of [`Frontier::ids`].
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, MerkleError> {
        let expected = Frontier::ids(size).len();
        if hashes.len() != expected {
            return Err(MerkleError::MissingNodes {
                expected,
                got: hashes.len(),
            });
        }
        Ok(Frontier {
            size,
            nodes: hashes,
        })
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash of the tree so far.
    pub fn root(&self) -> Hash {
        fold(&self.nodes)
    }

    /// Appends a leaf hash; returns the hashes of the perfect subtrees this leaf
    /// completes, level 0 (the leaf itself) first: what a store keeps with the leaf.
    pub fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        let index = self.size;
        let mut completed = vec![leaf];
        let mut hash = leaf;
        let mut level = 0;
        while level < 64 && (index >> level) & 1 == 1 {
            let Some(left) = self.nodes.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            completed.push(hash);
            level += 1;
        }
        self.nodes.push(hash);
        self.size += 1;
        completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_the_largest_power_below() {
        assert_eq!(split(2), 1);
        assert_eq!(split(3), 2);
        assert_eq!(split(4), 2);
        assert_eq!(split(5), 4);
        assert_eq!(split(u64::MAX), 1 << 63);
    }

    #[test]
    fn node_ids_name_where_they_are_completed() {
        let node = NodeId { level: 2, index: 1 };
        assert_eq!(node.first_leaf(), 4);
        assert_eq!(node.completed_at_seq(), 8);
        assert_eq!(
            Frontier::ids(7),
            [
                NodeId { level: 2, index: 0 },
                NodeId { level: 1, index: 2 },
                NodeId { level: 0, index: 6 }
            ]
        );
    }
}
