//! Elections: election safety, elected by quorum and leader completeness, checked when a
//! node wins; term monotonic and one vote per term, checked on durable state and across
//! restarts (every vote a node sends or holds durably is recorded, so two votes in one term
//! are caught even when the first durable record was lost).

use super::masks::{fmt_mask, in_mask};
use super::{Checkers, Property};
use crate::config::Micros;
use raft_core::{HardState, NodeId, Role};

impl Checkers {
    /// Election safety (history form) and leader completeness, at every role change.
    pub fn on_role(&mut self, now: Micros, node: usize, role: Role, term: u64) {
        self.roles[node] = (role, term);
        if role != Role::Leader {
            return;
        }
        match self.leader_of_term.get(&term) {
            Some(&other) if other != node && self.is_lost(other) => {
                // The lost majority elected `other` in a term the survivors never heard of.
                self.reuse_lost_leaders_term(node, term);
            }
            Some(&other) if other != node => self.fail(
                Property::ElectionSafety,
                now,
                Some(node),
                format!("n{node} became leader of term {term}, which n{other} already led"),
            ),
            _ => {
                self.leader_of_term.insert(term, node);
            }
        }
        self.check_elected_by_quorum(now, node, term);
        if self.completeness_pending[node] == Some(term) {
            return;
        }
        self.check_leader_completeness(now, node, term);
    }

    /// The host reports the term `node` leads (`leading`) and whether it is still repairing
    /// its log from its peers: such a leader relies on its log only once that repair is done,
    /// so leader completeness is checked then, not when it wins.
    pub fn on_leader_repair(
        &mut self,
        now: Micros,
        node: usize,
        leading: Option<u64>,
        repairing: bool,
    ) {
        match (self.completeness_pending[node], leading) {
            (_, Some(term)) if repairing => self.completeness_pending[node] = Some(term),
            (Some(pending), Some(term)) if pending == term => {
                self.completeness_pending[node] = None;
                self.check_leader_completeness(now, node, term);
            }
            (Some(_), _) => self.completeness_pending[node] = None,
            (None, _) => {}
        }
    }

    /// Leader completeness: everything committed in an earlier term is in the log `node`
    /// leads `term` with.
    fn check_leader_completeness(&mut self, now: Micros, node: usize, term: u64) {
        // Leader completeness: everything committed in an earlier term is in this leader's log.
        // Entries committed in this term or later (seen first when a paused leader wakes up
        // late) are not owed.
        let rescued = self.rescued_quorum(node).is_some();
        let owed = if rescued {
            // A rescued win may reuse a term the lost majority led: all of it is owed.
            self.committed.len() as u64
        } else {
            self.committed_in_term.partition_point(|&t| t < term) as u64
        };
        let log = &self.memory[node];
        if owed > 0 && !log.covers(owed) && log.at(owed) != Some(self.committed[owed as usize - 1])
        {
            if rescued {
                // A rescued winner may lack what the lost majority committed: given up.
                let log = &self.memory[node];
                let kept = (1..owed)
                    .rev()
                    .find(|&i| log.covers(i) || log.at(i) == Some(self.committed[i as usize - 1]))
                    .unwrap_or(0);
                return self.give_up_committed(now, node, term, kept, owed);
            }
            self.fail(
                Property::LeaderCompleteness,
                now,
                Some(node),
                format!(
                    "n{node} leads term {term} without the prefix committed before it, up to index {owed} (its log ends at {})",
                    self.memory[node].len()
                ),
            );
        }
    }

    /// Elected by a quorum, when `node` wins `term`.
    pub(super) fn check_elected_by_quorum(&mut self, now: Micros, node: usize, term: u64) {
        let voters = self.node_voters[node];
        if voters == 0 {
            return;
        }
        let granted = (0..self.memory.len())
            .filter(|&v| in_mask(voters, v))
            .filter(|&v| self.votes.get(&(v, term)) == Some(&NodeId(node as u64)))
            .count();
        let quorum = self.quorum_of(node, voters);
        if granted < quorum {
            let which = if self.rescued_quorum(node).is_some() {
                "the rescued quorum"
            } else {
                "a quorum"
            };
            self.fail(
                Property::ElectedByQuorum,
                now,
                Some(node),
                format!(
                    "n{node} became leader of term {term} with the votes of {granted} of its voters {}, {which} is {quorum}",
                    fmt_mask(voters)
                ),
            );
        }
    }

    /// Term monotonic: `term`, which `node` now holds, is not below any term it made durable
    /// (`what` says how it came to hold it, given the durable term). Returns whether it held.
    pub(super) fn check_term_not_below_durable(
        &mut self,
        now: Micros,
        node: usize,
        term: u64,
        what: impl FnOnce(u64) -> String,
    ) -> bool {
        let durable = self.max_durable_term[node];
        if term >= durable {
            return true;
        }
        self.fail(Property::TermMonotonic, now, Some(node), what(durable));
        false
    }

    /// Term monotonic and one vote per term, on durable state.
    pub(super) fn record_durable_hard_state(&mut self, now: Micros, node: usize, hs: HardState) {
        self.check_term_not_below_durable(now, node, hs.term, |durable| {
            format!("durable term went from {durable} down to {}", hs.term)
        });
        self.max_durable_term[node] = self.max_durable_term[node].max(hs.term);
        if let Some(vote) = hs.vote {
            self.record_vote(now, node, hs.term, vote);
        }
        self.durable_hard_state[node] = hs;
    }

    pub(super) fn record_vote(&mut self, now: Micros, node: usize, term: u64, vote: NodeId) {
        match self.votes.get(&(node, term)) {
            Some(&earlier) if earlier != vote => self.fail(
                Property::OneVotePerTerm,
                now,
                Some(node),
                format!("n{node} voted for {earlier} and then for {vote} in term {term}"),
            ),
            Some(_) => {}
            None => {
                self.votes.insert((node, term), vote);
            }
        }
    }
}
