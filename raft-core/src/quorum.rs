//! Majority quorum arithmetic, kept apart from the node so it can be tested against a naive
//! model (etcd-raft's `quorum/majority.go` is the model for this file).

use crate::types::NodeId;

/// Number of votes or acknowledgements that make a majority of `voters`.
///
/// Invariant: for any two sets of `quorum(n)` voters out of `n`, they intersect.
pub fn quorum(voters: usize) -> usize {
    voters / 2 + 1
}

/// Whether the voters for which `acknowledged` holds make a majority of `voters` (which
/// holds no id twice): [`reaches`] with a natural quorum, the model its tests check.
#[cfg(test)]
pub(crate) fn is_majority(voters: &[NodeId], acknowledged: impl FnMut(&NodeId) -> bool) -> bool {
    reaches(voters, quorum(voters.len()), acknowledged)
}

/// Whether at least `needed` of `voters` (which holds no id twice) acknowledged. One count
/// for every "has a quorum of voters said so" question (ReadIndex rounds, CheckQuorum) with
/// the node's quorum: a majority, or a rescued quorum (NRG `RescueQuorum`) below it;
/// elections count with their own tally.
pub(crate) fn reaches(
    voters: &[NodeId],
    needed: usize,
    mut acknowledged: impl FnMut(&NodeId) -> bool,
) -> bool {
    voters.iter().filter(|v| acknowledged(v)).count() >= needed
}

/// The largest index that a majority of voters has acknowledged, given each voter's match
/// index. Returns 0 for an empty voter set (nothing can be committed without voters).
///
/// Sorting `n` values is cheaper in practice than anything clever for the cluster sizes Raft
/// uses (3 to 7), and it allocates only when there are more than 16 voters.
pub fn committed_index(match_indexes: &[u64]) -> u64 {
    committed_index_needing(match_indexes, quorum(match_indexes.len()))
}

/// The largest index that at least `needed` voters acknowledged (clamped to `1..=n`):
/// [`committed_index`] with the quorum given, which a rescued quorum lowers.
pub fn committed_index_needing(match_indexes: &[u64], needed: usize) -> u64 {
    let n = match_indexes.len();
    if n == 0 {
        return 0;
    }
    let needed = needed.clamp(1, n);
    let mut small = [0u64; 16];
    let mut large;
    let sorted: &mut [u64] = if n <= small.len() {
        small[..n].copy_from_slice(match_indexes);
        &mut small[..n]
    } else {
        large = match_indexes.to_vec();
        &mut large
    };
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    // The needed-th largest value is acknowledged by at least `needed` voters.
    sorted[needed - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deliberately naive: try every candidate index and count the voters at or beyond it.
    fn naive_committed_index(match_indexes: &[u64]) -> u64 {
        let need = match_indexes.len() / 2 + 1;
        let mut best = 0;
        for &candidate in match_indexes {
            let count = match_indexes.iter().filter(|&&m| m >= candidate).count();
            if count >= need && candidate > best {
                best = candidate;
            }
        }
        best
    }

    #[test]
    fn quorum_is_a_strict_majority() {
        let table = [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)];
        for (voters, expected) in table {
            assert_eq!(quorum(voters), expected, "voters={voters}");
        }
    }

    #[test]
    fn committed_index_table() {
        // (match indexes, committed) in the style of etcd's table-driven majority tests.
        let table: &[(&[u64], u64)] = &[
            (&[], 0),
            (&[7], 7),
            (&[5, 3], 3),
            (&[5, 3, 1], 3),
            (&[1, 3, 5], 3),
            (&[9, 9, 1, 1], 1),
            (&[9, 9, 9, 1], 9),
            (&[10, 2, 8, 4, 6], 6),
        ];
        for (matches, expected) in table {
            assert_eq!(committed_index(matches), *expected, "matches={matches:?}");
        }
    }

    proptest! {
        #[test]
        fn committed_index_matches_naive_model(matches in proptest::collection::vec(0u64..50, 0..24)) {
            prop_assert_eq!(committed_index(&matches), naive_committed_index(&matches));
        }

        #[test]
        fn is_majority_matches_naive_model(acks in proptest::collection::vec(any::<bool>(), 0..16)) {
            let voters: Vec<NodeId> = (0..acks.len() as u64).map(NodeId).collect();
            let yes = acks.iter().filter(|&&a| a).count();
            prop_assert_eq!(
                is_majority(&voters, |v| acks[v.0 as usize]),
                yes * 2 > acks.len()
            );
        }

        #[test]
        fn committed_index_needing_matches_naive_count(
            matches in proptest::collection::vec(0u64..50, 1..24),
            needed in 1usize..24,
        ) {
            let needed = needed.min(matches.len());
            let expected = matches
                .iter()
                .copied()
                .filter(|&c| matches.iter().filter(|&&m| m >= c).count() >= needed)
                .max()
                .unwrap_or(0);
            prop_assert_eq!(committed_index_needing(&matches, needed), expected);
        }

        #[test]
        fn two_quorums_always_intersect(n in 1usize..64) {
            prop_assert!(2 * quorum(n) > n);
        }
    }
}
