//! The Merkle tree against the RFC 6962 / RFC 9162 test vectors used by the
//! Certificate Transparency implementations (transparency-dev/merkle, google/trillian:
//! eight leaves, their roots, and known inclusion and consistency proofs), and
//! properties over random sizes: every proof the planner builds verifies, and any
//! flipped bit, wrong index or wrong size fails.

use accord_agreements::merkle::{
    consistency_plan, empty_root, inclusion_plan, leaf_hash, node_hash, root_from, root_plan,
    verify_consistency, verify_inclusion, Frontier, Hash, MerkleError, NodeId,
};
use proptest::prelude::*;

fn h(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// The eight leaf inputs of the CT test vectors.
fn leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|l| hex::decode(l).unwrap())
    .collect()
}

/// The roots of the trees of the first 1..=8 leaves.
fn roots() -> Vec<Hash> {
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    .iter()
    .map(|r| h(r))
    .collect()
}

/// Known inclusion proofs: (leaf index, tree size, proof).
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// Known consistency proofs: (old size, new size, proof).
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

/// RFC 9162 §2.1.1 `MTH`, written out recursively: the obviously-correct reference.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// An in-memory store of every perfect subtree, filled the way a store fills it:
/// from what [`Frontier::push`] returns.
struct Nodes {
    completed: Vec<Vec<Hash>>,
}

impl Nodes {
    fn of(leaf_hashes: &[Hash]) -> (Nodes, Frontier) {
        let mut frontier = Frontier::new();
        let completed = leaf_hashes.iter().map(|l| frontier.push(*l)).collect();
        (Nodes { completed }, frontier)
    }

    fn get(&self, ids: &[NodeId]) -> Vec<Hash> {
        ids.iter()
            .map(|id| {
                let row = usize::try_from(id.completed_at_seq() - 1).unwrap();
                self.completed[row][usize::from(id.level)]
            })
            .collect()
    }

    fn inclusion(&self, index: u64, size: u64) -> Vec<Hash> {
        let plan = inclusion_plan(index, size).unwrap();
        plan.assemble(&self.get(&plan.nodes())).unwrap()
    }

    fn consistency(&self, old: u64, new: u64) -> Vec<Hash> {
        let plan = consistency_plan(old, new).unwrap();
        plan.assemble(&self.get(&plan.nodes())).unwrap()
    }

    fn root(&self, size: u64) -> Hash {
        root_from(&self.get(&root_plan(size).nodes()))
    }
}

fn vector_tree() -> (Vec<Hash>, Nodes) {
    let hashes: Vec<Hash> = leaves().iter().map(|l| leaf_hash(l)).collect();
    let (nodes, _) = Nodes::of(&hashes);
    (hashes, nodes)
}

#[test]
fn roots_match_the_ct_vectors() {
    let (hashes, nodes) = vector_tree();
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    for (i, root) in roots().iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(mth(&hashes[..=i]), *root, "reference, size {size}");
        assert_eq!(nodes.root(size), *root, "stored nodes, size {size}");
        let (_, frontier) = Nodes::of(&hashes[..=i]);
        assert_eq!(frontier.root(), *root, "frontier, size {size}");
    }
}

#[test]
fn inclusion_proofs_match_the_ct_vectors_and_verify() {
    let (hashes, nodes) = vector_tree();
    let roots = roots();
    for (index, size, proof) in inclusion_vectors() {
        assert_eq!(
            nodes.inclusion(index, size),
            proof,
            "leaf {index} of {size}"
        );
        let root = roots[size as usize - 1];
        let leaf = hashes[index as usize];
        verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
        // The probes of the CT test suite: each must fail.
        let other = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash)> = vec![
            (index.wrapping_sub(1), size, leaf, proof.clone(), root),
            (index + 1, size, leaf, proof.clone(), root),
            (index ^ 2, size, leaf, proof.clone(), root),
            (index, size * 2, leaf, proof.clone(), root),
            (index, size / 2, leaf, proof.clone(), root),
            (index, size, other, proof.clone(), root),
            (index, size, leaf, proof.clone(), empty_root()),
            (index, size, leaf, proof.clone(), other),
            (
                index,
                size,
                leaf,
                [proof.clone(), vec![root]].concat(),
                root,
            ),
            (
                index,
                size,
                leaf,
                [vec![root], proof.clone()].concat(),
                root,
            ),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 8;
            probes.push((index, size, leaf, wrong, root));
        }
        if !proof.is_empty() {
            probes.push((index, size, leaf, proof[..proof.len() - 1].to_vec(), root));
        }
        for (n, (i, s, l, p, r)) in probes.into_iter().enumerate() {
            if (i, s, l, &p, r) == (index, size, leaf, &proof, root) {
                continue; // a probe that happens to equal the real proof
            }
            assert!(
                verify_inclusion(i, s, &l, &p, &r).is_err(),
                "probe {n} of leaf {index} in {size} verified"
            );
        }
    }
}

#[test]
fn consistency_proofs_match_the_ct_vectors_and_verify() {
    let (_, nodes) = vector_tree();
    let roots = roots();
    for (old, new, proof) in consistency_vectors() {
        assert_eq!(nodes.consistency(old, new), proof, "{old} to {new}");
        let (r1, r2) = (roots[old as usize - 1], roots[new as usize - 1]);
        verify_consistency(old, new, &r1, &r2, &proof).unwrap();
        if proof.is_empty() {
            continue;
        }
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (old - 1, new, r1, r2, proof.clone()),
            (old + 1, new, r1, r2, proof.clone()),
            (old ^ 2, new, r1, r2, proof.clone()),
            (old, new * 2, r1, r2, proof.clone()),
            (old, new / 2, r1, r2, proof.clone()),
            (old, new, empty_root(), r2, proof.clone()),
            (old, new, r1, empty_root(), proof.clone()),
            (old, new, r2, r1, proof.clone()),
            (old, new, r1, r2, vec![]),
            (old, new, r1, r2, [proof.clone(), vec![r1]].concat()),
            (old, new, r1, r2, [proof.clone(), vec![r2]].concat()),
            (old, new, r1, r2, [vec![r1], proof.clone()].concat()),
            (old, new, r1, r2, [vec![r2], proof.clone()].concat()),
            (old, new, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (old, new, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 16;
            probes.push((old, new, r1, r2, wrong));
        }
        for (n, (o, s, a, b, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_consistency(o, s, &a, &b, &p).is_err(),
                "probe {n} of {old} to {new} verified"
            );
        }
    }
}

#[test]
fn edge_cases_of_consistency() {
    let root = roots()[0];
    verify_consistency(0, 0, &empty_root(), &empty_root(), &[]).unwrap();
    verify_consistency(0, 5, &empty_root(), &root, &[]).unwrap();
    verify_consistency(1, 1, &root, &root, &[]).unwrap();
    assert!(verify_consistency(0, 5, &root, &root, &[]).is_err());
    assert!(verify_consistency(1, 1, &root, &empty_root(), &[]).is_err());
    assert!(verify_consistency(1, 1, &root, &root, &[root]).is_err());
    assert_eq!(
        verify_consistency(2, 1, &root, &root, &[]),
        Err(MerkleError::SizesReversed { old: 2, new: 1 })
    );
    assert!(verify_inclusion(0, 0, &root, &[], &root).is_err());
    assert!(inclusion_plan(3, 3).is_err());
}

fn random_leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), (i as u64).to_be_bytes()].concat()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For every size up to 300 and random indices: the root from stored nodes is the
    /// reference `MTH`, every inclusion proof verifies, and a flipped bit, another
    /// index or another size fails.
    #[test]
    fn every_inclusion_proof_verifies_and_any_change_fails(
        size in 1u64..300, pick in any::<u64>(), bit in 0usize..256, seed in any::<u64>(),
        other_size in 1u64..600,
    ) {
        let hashes = random_leaves(size as usize, seed);
        let (nodes, frontier) = Nodes::of(&hashes);
        let root = mth(&hashes);
        prop_assert_eq!(frontier.root(), root);
        prop_assert_eq!(nodes.root(size), root);
        let index = pick % size;
        let proof = nodes.inclusion(index, size);
        let leaf = hashes[index as usize];
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_ok());
        if !proof.is_empty() {
            let mut flipped = proof.clone();
            let at = (pick as usize / 7) % proof.len();
            flipped[at][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(index, size, &leaf, &flipped, &root).is_err());
        }
        let mut wrong_leaf = leaf;
        wrong_leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(index, size, &wrong_leaf, &proof, &root).is_err());
        let mut wrong_root = root;
        wrong_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &wrong_root).is_err());
        if size > 1 {
            let other_index = (index + 1 + pick % (size - 1)) % size;
            prop_assert!(hashes[other_index as usize] == leaf
                || verify_inclusion(other_index, size, &leaf, &proof, &root).is_err());
        }
        // The size is bound by the signed head, not by the proof: a size whose path has
        // another length (RFC 9162's check that `sn` ends at 0) must fail.
        if other_size > index
            && inclusion_plan(index, other_size).unwrap().len() != proof.len()
        {
            prop_assert!(verify_inclusion(index, other_size, &leaf, &proof, &root).is_err());
        }
    }

    /// For every pair of sizes up to 300: the consistency proof verifies, and a flipped
    /// bit, a wrong size or a root of a different prefix fails.
    #[test]
    fn every_consistency_proof_verifies_and_any_change_fails(
        new in 1u64..300, pick in any::<u64>(), bit in 0usize..256, seed in any::<u64>(),
        delta in 1u64..4,
    ) {
        let hashes = random_leaves(new as usize, seed);
        let (nodes, _) = Nodes::of(&hashes);
        let old = 1 + pick % new;
        let (r1, r2) = (mth(&hashes[..old as usize]), mth(&hashes));
        let proof = nodes.consistency(old, new);
        prop_assert!(verify_consistency(old, new, &r1, &r2, &proof).is_ok());
        // Every earlier root is also reproduced from the stored nodes.
        prop_assert_eq!(nodes.root(old), r1);
        if !proof.is_empty() {
            let mut flipped = proof.clone();
            let at = (pick as usize / 7) % proof.len();
            flipped[at][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_consistency(old, new, &r1, &r2, &flipped).is_err());
            // Sizes are bound by the signed heads; a pair whose proof has another
            // length must fail.
            let len = |o: u64, n: u64| consistency_plan(o, n).unwrap().len();
            if len(old, new + delta) != proof.len() {
                prop_assert!(verify_consistency(old, new + delta, &r1, &r2, &proof).is_err());
            }
            if old > delta && len(old - delta, new) != proof.len() {
                prop_assert!(verify_consistency(old - delta, new, &r1, &r2, &proof).is_err());
            }
        }
        // A rewritten leaf inside the old tree: the new root no longer extends the old one.
        let mut rewritten = hashes.clone();
        let at = (pick as usize) % (old as usize);
        rewritten[at][bit / 8] ^= 1 << (bit % 8);
        let forged = mth(&rewritten);
        if old < new {
            prop_assert!(verify_consistency(old, new, &r1, &forged, &proof).is_err());
        }
    }
}
