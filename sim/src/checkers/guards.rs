//! The forward-looking properties: what a node could still win with the logs it holds now.
//! Commit guarded by votes (when the committed prefix grows) is the form of Leader
//! Completeness that fires at the commit rather than at a later overwrite; configuration
//! overlap (when a leader appends a membership change) is its counterpart for membership.
//! Correct Raft can fire neither.

use super::masks::{fmt_mask, in_mask, majorities_can_be_disjoint, quorum};
use super::{Checkers, Property};
use crate::config::Micros;

impl Checkers {
    /// Commit guarded by votes, at the highest committed index, among the voters of the
    /// leader that committed it. A voter's log that could grant is its least up-to-date one
    /// (memory, or disk after a crash); a candidate's is any of its two logs that lacks the
    /// entry. In correct Raft the entry's committing quorum holds it in both logs and
    /// refuses every such candidate, so the check cannot fire; a commit made by counting
    /// replicas of an earlier term's entry (Raft's Figure 8) fires it at once.
    pub(super) fn check_commit_guarded(&mut self, now: Micros) {
        let Some(&prefix) = self.committed.last() else {
            return;
        };
        let index = self.committed.len() as u64;
        let (voters, rescued) = self.committing_voters(index);
        if rescued.is_some_and(|q| q < quorum(voters)) {
            return; // counted by a rescued quorum: suspended, see the rescue module
        }
        let mut unguarded = None;
        'candidates: for candidate in 0..self.memory.len() {
            if self.is_lost(candidate) {
                continue;
            }
            // A candidate campaigns in its own configuration: with membership changes that
            // may not be the committing leader's (single-server changes with the own-term
            // commit rule keep every such configuration's majorities overlapping).
            let own = match self.node_voters[candidate] {
                0 => voters,
                own => own,
            };
            // A node repairing damage does not campaign. A rescued node's win may give up
            // committed entries: that is what the rescue trades (see the rescue module).
            if !in_mask(own, candidate)
                || self.answered_for[candidate].is_some()
                || self.rescued_quorum(candidate).is_some()
            {
                continue;
            }
            let quorum = self.quorum_of(candidate, own);
            for log in [&self.memory[candidate], &self.durable[candidate]] {
                if log.holds(index, prefix) {
                    continue;
                }
                let last = log.last();
                let grants = self.votes_it_could_win(candidate, own, last);
                if grants >= quorum {
                    unguarded = Some((candidate, last, grants, own, quorum));
                    break 'candidates;
                }
            }
        }
        if let Some((candidate, last, grants, voters, quorum)) = unguarded {
            self.fail(
                Property::CommitGuardedByVotes,
                now,
                Some(candidate),
                format!(
                    "n{candidate} lacks committed index {index} but its log (last term {}, last index {}) could win {grants} votes of the voters {}, a quorum is {quorum}",
                    last.0,
                    last.1,
                    fmt_mask(voters)
                ),
            );
        }
    }

    /// The voters in `node`'s own configuration (a mask), after a step; `leading` is the
    /// node's term when it is a leader after the step (and not repairing its log from its
    /// peers: what it fetches are changes of earlier leaders).
    pub fn on_voters(&mut self, now: Micros, node: usize, voters: u64, leading: Option<u64>) {
        let before = std::mem::replace(&mut self.node_voters[node], voters);
        // A leader's configuration changes only when it appends a change itself (a leader
        // never truncates its log).
        if let Some(term) = leading.filter(|_| self.is_leader(node)) {
            if before != 0 && before != voters {
                self.check_configuration_overlap(now, node, term, voters);
                self.check_change_after_own_term_commit(now, node, term, before, voters);
            }
        }
    }

    /// Membership change after own-term commit, when `leader` (leading `term`) appended a
    /// change from `before` to `voters`: the commit index it reported before this step
    /// holds an entry of `term`. Configuration overlap judges what an early change can
    /// lead to, which needs the sizes and the logs to line up; this is the rule that keeps
    /// it from happening (Ongaro's correction of single-server changes), judged at every
    /// change.
    fn check_change_after_own_term_commit(
        &mut self,
        now: Micros,
        leader: usize,
        term: u64,
        before: u64,
        voters: u64,
    ) {
        let commit = self.leader_commit_index[leader];
        let committed_term = self.memory[leader].term_at(commit);
        if committed_term != Some(term) {
            let held = committed_term.map_or("an entry below its log".to_string(), |t| {
                format!("an entry of term {t}")
            });
            self.fail(
                Property::MembershipChangeAfterOwnTermCommit,
                now,
                Some(leader),
                format!(
                    "leader n{leader} of term {term} changed its voters {} to {} while its commit index {commit} holds {held}: no entry of its term is committed",
                    fmt_mask(before),
                    fmt_mask(voters)
                ),
            );
        }
    }

    /// Configuration overlap, when `leader` (leading `term`) appended a change to `voters`.
    /// Only nodes whose logs end before `term` are asked: in correct Raft they lack the
    /// leader's committed own-term entry, so none of them can win (a newer leader, whose
    /// log is ahead of the appending one, is not a candidate this check is about).
    pub(super) fn check_configuration_overlap(
        &mut self,
        now: Micros,
        leader: usize,
        term: u64,
        voters: u64,
    ) {
        let mut rival = None;
        'candidates: for candidate in
            (0..self.memory.len()).filter(|&c| c != leader && self.answered_for[c].is_none())
        {
            let own = self.node_voters[candidate];
            if self.is_lost(candidate)
                || !in_mask(own, candidate)
                || !majorities_can_be_disjoint(own, voters)
            {
                continue;
            }
            let quorum = self.quorum_of(candidate, own);
            for log in [&self.memory[candidate], &self.durable[candidate]] {
                let last = log.last();
                if last.0 >= term {
                    continue;
                }
                let grants = self.votes_it_could_win(candidate, own, last);
                if grants >= quorum {
                    rival = Some((candidate, last, grants, own));
                    break 'candidates;
                }
            }
        }
        if let Some((candidate, last, grants, own)) = rival {
            self.fail(
                Property::ConfigurationOverlap,
                now,
                Some(leader),
                format!(
                    "leader n{leader} of term {term} changed its voters to {} while n{candidate} (log last term {}, last index {}) could win {grants} votes of its voters {}, and a majority of each can be disjoint",
                    fmt_mask(voters),
                    last.0,
                    last.1,
                    fmt_mask(own)
                ),
            );
        }
    }

    /// The votes `candidate`, a voter of `voters`, could win campaigning with a log whose
    /// last entry is `last` (term, index): its own, and every other voter's whose least
    /// up-to-date log (memory, or disk after a crash) is no newer, or, for a node repairing
    /// damage, the log it answers for; nodes lost for good grant nothing.
    pub(super) fn votes_it_could_win(
        &self,
        candidate: usize,
        voters: u64,
        last: (u64, u64),
    ) -> usize {
        // A repairing node grants only candidates at least as up to date as the log it
        // answers for.
        let could_grant_with = |v: usize| {
            let own = self.memory[v].last().min(self.durable[v].last());
            self.answered_for[v]
                .as_ref()
                .map_or(own, |lost| own.max(lost.last()))
        };
        1 + (0..self.memory.len())
            .filter(|&v| v != candidate && in_mask(voters, v) && !self.is_lost(v))
            .filter(|&v| could_grant_with(v) <= last)
            .count()
    }
}
