//! Rescue quorum and nodes lost for good: which guarantees are suspended, for what, and
//! when they resume.
//!
//! An operator rescues a group whose majority is gone for good (NRG `RescueQuorum`): the
//! survivors count a lowered quorum until the membership shrank to what it is a majority of,
//! or the rescue expires. That trades safety for availability on purpose, so while a node's
//! rescue is in effect the checkers judge that node's decisions by the rescued quorum, and
//! say so, instead of reporting a bug:
//!
//! - *elected by quorum*: a rescued node's win needs the rescued number of votes of its
//!   voters, not a majority;
//! - *committed durable on a quorum*: an index a rescued leader commits must be durable on
//!   the rescued number of its voters, not a majority;
//! - *leader completeness* (and with it *state-machine safety* and linearizability for those
//!   indexes): a rescued winner may lack entries the lost majority committed. They are given
//!   up — the committed history is cut back to what the winner holds, and the run's report
//!   names the indexes — and the linearizability check is skipped for that run, since
//!   acknowledged writes were given up;
//! - *commit guarded by votes* and *configuration overlap*: nodes lost for good neither
//!   campaign nor vote again (that is what the operator's rescue presumes), so they are no
//!   candidates and no voters of those forward-looking checks. A rescue lasts until the
//!   natural quorum is no more than the rescued one (or it expires), so for as long as it
//!   is in effect commit guarded by votes asks less:
//!   - an index a rescued leader commits with fewer acknowledgements than a majority is not
//!     guarded (a rescued leader of {n3,n4} commits alone, and n4 with a newly added voter
//!     could elect a leader without it); the guard resumes with the next index a majority
//!     commits;
//!   - a rescued node is no candidate of the guard: it may win alone, lacking what others
//!     committed since, and such a win is a given-up commit, reported as one (below).
//!
//!   Configuration overlap still asks a rescued candidate for the rescued quorum. Held-out
//!   seed 5447 showed both.
//!
//! - *election safety*, *log matching* and *ack matches leader*, for a term a node lost for
//!   good led: the lost majority may have elected leaders in terms the survivors never heard
//!   of, and a survivor can win such a term again. The operator's rescue campaigns past every
//!   term a running server heard (`Node::rescue_quorum_past`), so a reused term's entries are
//!   in lost logs, or reach a survivor only in a message the lost leader sent before it was
//!   lost; there they would match a new entry's index and term without being the same
//!   entry, and a follower acknowledges an append past it by index and term alone. Such a
//!   term is marked reused; other terms keep all three guarantees. (Before the rescue went
//!   past the terms the survivors heard, held-out seed 12328 showed the damage reaching the
//!   later terms: a survivor cut off during the rescue kept the lost leader's entry under the
//!   rescued leader's entries of later terms.)
//!
//! - *convergence* and *no loop without progress*, for a node that knows as committed an
//!   entry a rescue gave up: a follower never truncates what it knows committed, so it can
//!   never take the rescued history, and a leader resends to it in vain. Until it restarts
//!   (a restart forgets the commit index; the leader's log then replaces what it held), an
//!   operator would have to wipe it (held-out seed 1186: a voter removed before the
//!   disaster held the lost majority's commits and was added back after it).
//!
//! Nothing else is suspended: leader append-only, term and vote rules, persist-before-send
//! and commit within the log hold with or without a rescue.
//! The checkers keep their own account of when a rescue ends (latched: once the node's
//! voters' majority is no more than the rescued quorum, or the node reports it over, or the
//! node crashes), so a node that keeps counting a rescued quorum after that is judged by a
//! majority again — the planted bug `rescue-kept-after-natural-quorum` — and *rescue ends at
//! natural quorum* fails as soon as a node reports a rescue the checkers counted as ended:
//! the node would count fewer than a majority with nothing suspended once its voters grow
//! back.

use super::masks::{in_mask, quorum};
use super::{Checkers, Property};
use crate::config::Micros;
use serde::{Deserialize, Serialize};

/// Committed entries given up by a rescue: a rescued winner lacked them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenUp {
    pub time: Micros,
    pub node: usize,
    pub term: u64,
    /// The committed indexes given up: `first..=last`.
    pub first: u64,
    pub last: u64,
}

/// The rescue state the checkers keep per node, and the nodes lost for good.
#[derive(Clone, Debug, Default)]
pub(super) struct Rescues {
    /// The rescued quorum of each node while the checkers count its rescue in effect.
    active: Vec<Option<usize>>,
    /// The rescued quorum each node last reported (to see a rescue start).
    reported: Vec<Option<usize>>,
    /// Nodes lost for good (a mask).
    pub(super) lost: u64,
    /// Committed entries given up by rescued wins, in order.
    pub(super) given_up: Vec<GivenUp>,
    /// Terms a node lost for good led and another node won again.
    reused_terms: Vec<u64>,
    /// The latest term in which a rescued win gave up committed entries: a leader of an
    /// earlier term (cut off from the survivors that were rescued) reports a commit index
    /// that covers what was given up, and counts for nothing.
    pub(super) given_up_in_term: u64,
}

impl Rescues {
    pub(super) fn new(nodes: usize) -> Rescues {
        Rescues {
            active: vec![None; nodes],
            reported: vec![None; nodes],
            ..Rescues::default()
        }
    }
}

impl Checkers {
    /// After a step of `node`: the rescued quorum it reports (`Node::rescue`). A rescue
    /// starts when one appears; it ends when the node reports none, and once its voters'
    /// majority (`on_voters` ran first) is no more than the rescued quorum, whatever the node
    /// reports after that. *Rescue ends at natural quorum*: a node that still reports the
    /// rescue it ended that way keeps what the operator meant to last only until the natural
    /// quorum is back, and counts fewer than a majority once its voters grow again.
    pub fn on_rescue_state(&mut self, now: Micros, node: usize, reported: Option<usize>) {
        let r = &mut self.rescues;
        let before = std::mem::replace(&mut r.reported[node], reported);
        match (before, reported) {
            (None, Some(q)) => r.active[node] = Some(q),
            (_, None) => r.active[node] = None,
            _ => {}
        }
        let voters = self.node_voters[node];
        if let Some(q) = r.active[node] {
            if voters != 0 && quorum(voters) <= q {
                r.active[node] = None;
            }
        }
        if let (Some(q), None) = (reported, r.active[node]) {
            let detail = format!(
                "n{node} reports a rescued quorum of {q} with {} voters (a majority is {}), after a majority of its voters was no more than {q}: the rescue should have ended then",
                voters.count_ones(),
                quorum(voters)
            );
            self.fail(Property::RescueEndsAtNaturalQuorum, now, Some(node), detail);
        }
    }

    /// The rescued quorum `node` counts with, as far as the checkers accept it.
    pub fn rescued_quorum(&self, node: usize) -> Option<usize> {
        self.rescues.active[node]
    }

    /// `node` is lost for good: its machine will never run again.
    pub fn on_lost(&mut self, node: usize) {
        self.rescues.lost |= 1 << node;
        self.forget_rescue(node);
    }

    /// A node's memory is gone (power loss): so is its rescue.
    pub(super) fn forget_rescue(&mut self, node: usize) {
        self.rescues.active[node] = None;
        self.rescues.reported[node] = None;
    }

    /// Whether `node` is lost for good.
    pub(super) fn is_lost(&self, node: usize) -> bool {
        in_mask(self.rescues.lost, node)
    }

    /// The number of votes `node` needs to win in its configuration `voters`: the rescued
    /// quorum while its rescue is in effect, else a majority.
    pub(super) fn quorum_of(&self, node: usize, voters: u64) -> usize {
        let natural = quorum(voters);
        self.rescues.active[node].map_or(natural, |q| q.min(natural))
    }

    /// A rescued `node` won `term` holding the committed prefix only up to `kept` (of
    /// `owed`): the entries after it are given up, and the committed history is cut back.
    pub(super) fn give_up_committed(
        &mut self,
        now: Micros,
        node: usize,
        term: u64,
        kept: u64,
        owed: u64,
    ) {
        self.rescues.given_up_in_term = self.rescues.given_up_in_term.max(term);
        self.rescues.given_up.push(GivenUp {
            time: now,
            node,
            term,
            first: kept + 1,
            last: owed,
        });
        let kept = kept as usize;
        self.committed.truncate(kept);
        self.committed_in_term.truncate(kept);
        self.applied.truncate(kept);
        while self
            .leader_commits
            .back()
            .is_some_and(|c| c.index > kept as u64)
        {
            self.leader_commits.pop_back();
        }
    }

    /// `node` won `term`, which a node lost for good led: the term is reused (election
    /// safety and log matching are suspended for it, see the module documentation).
    pub(super) fn reuse_lost_leaders_term(&mut self, node: usize, term: u64) {
        self.leader_of_term.insert(term, node);
        self.rescues.reused_terms.push(term);
    }

    /// Whether `term` was led by a node lost for good and won again.
    pub(super) fn is_reused_term(&self, term: u64) -> bool {
        self.rescues.reused_terms.contains(&term)
    }

    /// Whether `node` knows as committed, in this lifetime, an entry a rescue gave up: its
    /// commit index reaches a given-up index where its log does not hold the committed
    /// history (see the module documentation for what is suspended for it).
    pub fn holds_given_up_commits(&self, node: usize) -> bool {
        let commit = self.progress[node].commit();
        let log = &self.memory[node];
        self.rescues.given_up.iter().any(|g| {
            g.first <= commit
                && match self.committed.get(g.first as usize - 1) {
                    Some(&prefix) => !log.holds(g.first, prefix),
                    // Not committed again yet: what the node holds there was given up.
                    None => !log.covers(g.first),
                }
        })
    }

    /// Committed entries that rescued wins gave up, in order (empty without a rescue).
    pub fn given_up(&self) -> &[GivenUp] {
        &self.rescues.given_up
    }
}
