//! The count of one election or one pre-vote: one tally for both, so a pre-vote is won and
//! lost by exactly the rule a real election is.

#[cfg(test)]
use crate::quorum;
use crate::types::NodeId;
use std::collections::BTreeSet;

/// The answers of one election (or pre-vote): who granted, who refused.
///
/// Invariants: an answer counts once per voter however often it arrives (duplicated
/// messages change nothing); only the answers the caller records count (the node records
/// voters' answers only, and its own grant only once it is durable); the outcome compares
/// with a majority of the voters in effect when it is asked.
#[derive(Clone, Debug, Default)]
pub(super) struct VoteTally {
    granted: BTreeSet<NodeId>,
    refused: BTreeSet<NodeId>,
    /// Planted bug `duplicate-vote-counted`: grants counted again on duplicates.
    #[cfg(feature = "planted-bugs")]
    duplicate_grants: usize,
}

/// Where an election stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VoteOutcome {
    /// A majority granted.
    Won,
    /// No majority granted, and a majority refused: this election cannot be won.
    Lost,
    /// Neither yet.
    Undecided,
}

impl VoteTally {
    /// Records `voter`'s answer. Returns false when the same answer from it was already
    /// counted.
    pub(super) fn record(&mut self, voter: NodeId, granted: bool) -> bool {
        if granted {
            self.granted.insert(voter)
        } else {
            self.refused.insert(voter)
        }
    }

    /// Planted bug `duplicate-vote-counted`: a duplicated grant counts again.
    #[cfg(feature = "planted-bugs")]
    pub(super) fn count_duplicate_grant(&mut self) {
        self.duplicate_grants += 1;
    }

    fn grants(&self) -> usize {
        #[cfg(feature = "planted-bugs")]
        let duplicates = self.duplicate_grants;
        #[cfg(not(feature = "planted-bugs"))]
        let duplicates = 0;
        self.granted.len() + duplicates
    }

    /// The outcome among `voters` voters. A majority of grants wins, whatever the refusals.
    #[cfg(test)]
    pub(super) fn outcome(&self, voters: usize) -> VoteOutcome {
        self.outcome_needing(quorum::quorum(voters))
    }

    /// The outcome when `needed` grants win (a majority of the voters, or a rescued quorum
    /// below it): `needed` grants win whatever the refusals; `needed` refusals lose.
    pub(super) fn outcome_needing(&self, needed: usize) -> VoteOutcome {
        if self.grants() >= needed {
            VoteOutcome::Won
        } else if self.refused.len() >= needed {
            VoteOutcome::Lost
        } else {
            VoteOutcome::Undecided
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deliberately naive: keep every answer, dedup by hand, compare counts with halves.
    fn naive_outcome(answers: &[(u64, bool)], voters: usize) -> VoteOutcome {
        let mut granted: Vec<u64> = answers.iter().filter(|a| a.1).map(|a| a.0).collect();
        let mut refused: Vec<u64> = answers.iter().filter(|a| !a.1).map(|a| a.0).collect();
        granted.sort();
        granted.dedup();
        refused.sort();
        refused.dedup();
        if 2 * granted.len() > voters {
            VoteOutcome::Won
        } else if 2 * refused.len() > voters {
            VoteOutcome::Lost
        } else {
            VoteOutcome::Undecided
        }
    }

    fn tally(answers: &[(u64, bool)]) -> VoteTally {
        let mut tally = VoteTally::default();
        for &(voter, granted) in answers {
            tally.record(NodeId(voter), granted);
        }
        tally
    }

    /// Answers: (voter, granted).
    type Answers = &'static [(u64, bool)];

    #[test]
    fn outcome_table() {
        // (voters, answers, outcome) in the style of etcd's table-driven vote tests.
        use VoteOutcome::*;
        let table: &[(usize, Answers, VoteOutcome)] = &[
            (1, &[], Undecided),
            (1, &[(1, true)], Won),
            (1, &[(1, false)], Lost),
            (3, &[(1, true)], Undecided),
            (3, &[(1, true), (2, true)], Won),
            (3, &[(1, true), (2, false)], Undecided),
            (3, &[(1, true), (2, false), (3, false)], Lost),
            (3, &[(1, true), (1, true), (1, true)], Undecided),
            (4, &[(1, true), (2, true)], Undecided),
            (4, &[(1, true), (2, true), (3, true)], Won),
            (4, &[(1, false), (2, false)], Undecided),
            (
                5,
                &[(1, true), (2, true), (3, false), (4, false)],
                Undecided,
            ),
            (
                5,
                &[(1, true), (2, true), (3, false), (4, false), (5, true)],
                Won,
            ),
        ];
        for (voters, answers, outcome) in table {
            assert_eq!(
                tally(answers).outcome(*voters),
                *outcome,
                "{voters} voters, {answers:?}"
            );
        }
    }

    #[test]
    fn a_duplicate_answer_is_not_news() {
        let mut tally = VoteTally::default();
        assert!(tally.record(NodeId(2), true));
        assert!(!tally.record(NodeId(2), true));
        assert!(
            tally.record(NodeId(2), false),
            "a different answer is counted"
        );
        assert_eq!(tally.outcome(3), VoteOutcome::Undecided);
    }

    proptest! {
        #[test]
        fn outcome_matches_naive_model(
            voters in 1usize..8,
            answers in proptest::collection::vec((1u64..9, any::<bool>()), 0..24),
        ) {
            prop_assert_eq!(tally(&answers).outcome(voters), naive_outcome(&answers, voters));
        }

        /// More answers never take back a win (grants are only ever added).
        #[test]
        fn a_win_stays_won(
            voters in 1usize..8,
            answers in proptest::collection::vec((1u64..9, any::<bool>()), 0..24),
            later in proptest::collection::vec((1u64..9, any::<bool>()), 0..8),
        ) {
            let mut t = tally(&answers);
            let won = t.outcome(voters) == VoteOutcome::Won;
            for (voter, granted) in later {
                t.record(NodeId(voter), granted);
            }
            prop_assert!(!won || t.outcome(voters) == VoteOutcome::Won);
        }

        /// Voters that answer one way each cannot both elect and defeat a candidate: a
        /// majority of grants and a majority of refusals would need a voter in both.
        #[test]
        fn consistent_voters_never_decide_both_ways(
            votes in proptest::collection::vec(any::<bool>(), 1..8),
        ) {
            let voters = votes.len();
            let answers: Vec<(u64, bool)> =
                votes.iter().enumerate().map(|(i, &g)| (i as u64, g)).collect();
            let t = tally(&answers);
            let needed = quorum::quorum(voters);
            prop_assert!(!(t.granted.len() >= needed && t.refused.len() >= needed));
            // With an odd number of voters, all of them answering leaves one side a majority.
            prop_assert!(voters % 2 == 0 || t.outcome(voters) != VoteOutcome::Undecided);
        }
    }
}
