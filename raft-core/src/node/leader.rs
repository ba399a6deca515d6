//! The leader: becoming one, proposals, append responses, commit advancement and CheckQuorum.

use super::leader_repair::LeaderRepair;
use super::read_index::ReadRounds;
use super::transfer::Transfer;
use super::{Node, ProposeError};
use crate::action::Role;
use crate::message::AppendResponse;
use crate::progress::{Progress, ProgressMap};
use crate::quorum;
use crate::types::{Entry, EntryKind, NodeId};
use bytes::Bytes;

/// State that exists only while leading: the node has it exactly when its role is leader,
/// and drops it (with everything below) the moment it is not.
#[derive(Clone, Debug)]
pub(super) struct Leadership {
    /// Every member except this node, in id order (stable, so sends are deterministic):
    /// added when a membership entry adds one, dropped only once the removal commits (so a
    /// removed member hears of its removal). Never holds this node.
    pub(super) progress: ProgressMap,
    /// Members whose progress this leadership dropped (their removal committed): they are
    /// not re-added in this term ([`ProposeError::RemovedInThisTerm`]).
    pub(super) removed: Vec<NodeId>,
    /// Index of this term's no-op entry; the application hears of the leadership once it is
    /// committed.
    pub(super) noop_index: u64,
    /// The no-op is committed (the commit index reached `noop_index`): the application has
    /// been told this node leads, and reads and membership changes are taken. Never reset
    /// within a leadership.
    pub(super) ready: bool,
    /// Ticks into the current CheckQuorum window (`election_timeout_max` ticks long).
    pub(super) quorum_window_elapsed: u32,
    /// A leader transfer in progress.
    pub(super) transfer: Option<Transfer>,
    /// ReadIndex: the read rounds and the reads waiting for them.
    pub(super) reads: ReadRounds,
    /// Elected while repairing damage: the repair before the no-op (`leader_repair.rs`).
    pub(super) repair: Option<LeaderRepair>,
}

impl Node {
    /// Rule: a new leader appends a no-op (its peer state) and tells the application it leads
    /// only once that entry is committed. A leader elected while repairing damage to its log
    /// first repairs it from its peers (`leader_repair.rs`).
    pub(super) fn become_leader(&mut self) {
        self.votes = None;
        self.incoming_snapshot = None;
        self.set_role(Role::Leader);
        self.leader = Some(self.config.id);
        self.heartbeat_elapsed = 0;
        let next = self.log.last_index() + 1;
        // Every member but this node: observers replicate too.
        let progress = self
            .membership
            .current()
            .members()
            .filter(|&v| v != self.config.id)
            .map(|v| (v, Progress::new(next)))
            .collect();
        self.leadership = Some(Leadership {
            progress,
            removed: Vec::new(),
            noop_index: next,
            ready: false,
            quorum_window_elapsed: 0,
            transfer: None,
            reads: ReadRounds::default(),
            repair: None,
        });
        if self.repair.is_some() {
            // No no-op yet: nothing of this leadership is counted or committed before it.
            if let Some(leadership) = self.leadership.as_mut() {
                leadership.noop_index = u64::MAX;
            }
            return self.start_leader_repair();
        }
        self.append_noop_and_replicate();
    }

    /// The no-op of a new leader (after its repair, when it had one) and its first appends.
    pub(super) fn append_noop_and_replicate(&mut self) {
        let next = self.log.last_index() + 1;
        if let Some(leadership) = self.leadership.as_mut() {
            leadership.noop_index = next;
        }
        let peer_state = self.membership.current().to_peer_state();
        self.append_as_leader(
            EntryKind::PeerState,
            crate::codec::encode_peer_state(&peer_state).into(),
        );
        self.replicate_to_all();
        // A single voter may already be able to commit (once the no-op is durable).
        self.advance_leader_commit();
    }

    pub(super) fn check_can_propose(&self, term: u64) -> Result<(), ProposeError> {
        if let Some(error) = self.write_error {
            return Err(ProposeError::WriteFailed { error });
        }
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if term != self.hard_state.term {
            return Err(ProposeError::WrongTerm {
                proposal_term: term,
                current_term: self.hard_state.term,
            });
        }
        if self.is_leader_repairing() {
            return Err(ProposeError::LeaderRepairing);
        }
        if let Some(transfer) = self.leadership.as_ref().and_then(|l| l.transfer.as_ref()) {
            return Err(ProposeError::TransferInProgress {
                target: transfer.target,
            });
        }
        Ok(())
    }

    /// Rule (flow control): the leader's log never runs more than
    /// [`Config::max_uncommitted_entries`](crate::Config::max_uncommitted_entries) ahead of its
    /// commit index because of proposals.
    pub(super) fn check_uncommitted_limit(&self, adding: u64) -> Result<(), ProposeError> {
        let uncommitted = self.log.last_index() - self.commit_index;
        let limit = self.config.max_uncommitted_entries;
        if uncommitted.saturating_add(adding) > limit {
            return Err(ProposeError::Overloaded { uncommitted, limit });
        }
        Ok(())
    }

    pub(super) fn append_as_leader(&mut self, kind: EntryKind, data: Bytes) {
        let entry = Entry {
            term: self.hard_state.term,
            index: self.log.last_index() + 1,
            kind,
            data,
        };
        self.log.append(entry.clone());
        let changes_membership =
            kind != EntryKind::Normal && self.membership.appended(std::slice::from_ref(&entry));
        self.outbox
            .log_written(&self.log, entry.index - 1, std::iter::once(entry));
        if changes_membership {
            self.membership_changed();
        }
    }

    /// The one path of every proposal (local, batched, forwarded): checks that this node may
    /// take them in `term` and that flow control has room for all of them, appends them as
    /// one contiguous run and replicates. Returns their first and last index.
    pub(super) fn append_proposals(
        &mut self,
        term: u64,
        batch: impl ExactSizeIterator<Item = Bytes>,
    ) -> Result<(u64, u64), ProposeError> {
        self.check_can_propose(term)?;
        self.check_uncommitted_limit(batch.len() as u64)?;
        let first_index = self.log.last_index() + 1;
        for data in batch {
            self.append_as_leader(EntryKind::Normal, data);
        }
        self.replicate_to_all();
        Ok((first_index, self.log.last_index()))
    }

    /// Rules for an AppendEntries response at the leader:
    /// - responses from another term are ignored (a higher term already stepped us down);
    /// - the match index is what the acknowledged request contained, never the leader's own
    ///   bookkeeping, and never moves back;
    /// - a rejection moves the next index back to the follower's hint, unless it is stale;
    ///   one below the match index is a lost disk ([`Progress::reject`]).
    pub(super) fn handle_append_response(&mut self, from: NodeId, response: AppendResponse) {
        if self.role != Role::Leader
            || response.term != self.hard_state.term
            || response.peer != from
        {
            return;
        }
        let last_index = self.log.last_index();
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        let Some(progress) = leadership.progress.get_mut(&from) else {
            return;
        };
        progress.recent_active = true;
        if response.success {
            if response.index > last_index {
                return; // acknowledges entries we never sent: malformed
            }
            let acknowledged = if planted!(self, MatchFromBookkeeping) {
                progress.next_index.saturating_sub(1).min(last_index)
            } else {
                response.index
            };
            if progress.acknowledge(acknowledged) {
                self.advance_leader_commit();
            }
        } else if !(planted!(self, RejectionBelowMatchIgnored)
            && response.index < progress.match_index)
        {
            progress.reject(response.index);
        }
        self.send_append(from);
        self.send_timeout_now_once_caught_up(from);
    }

    /// Rule: the leader advances its commit index only to an entry of its current term that
    /// a quorum of voters (itself counted only for durable entries) holds (Raft Figure 8);
    /// earlier-term entries become committed with it.
    pub(super) fn advance_leader_commit(&mut self) {
        let needed = self.quorum_needed();
        let Some(leadership) = self.leadership.as_mut() else {
            return;
        };
        // On the stack for up to 16 voters: this runs for every acknowledgement.
        let (mut small, mut large) = ([0u64; 16], Vec::new());
        let matches: &mut [u64] = if self.voters.len() <= small.len() {
            &mut small[..self.voters.len()]
        } else {
            large.resize(self.voters.len(), 0);
            &mut large
        };
        for (slot, voter) in matches.iter_mut().zip(&self.voters) {
            *slot = if *voter == self.config.id {
                self.outbox.durable_index()
            } else {
                leadership.progress.get(voter).map_or(0, |p| p.match_index)
            };
        }
        let candidate = quorum::committed_index_needing(matches, needed);
        if candidate <= self.commit_index
            || (self.log.term_at(candidate) != Some(self.hard_state.term)
                && !planted!(self, CommitPreviousTerm))
        {
            return;
        }
        let old_commit = self.commit_index;
        self.commit_index = candidate;
        let became_ready = !leadership.ready && candidate >= leadership.noop_index;
        leadership.ready |= became_ready;
        self.hand_out_committed();
        if became_ready {
            self.announce_leader(Some(self.config.id));
        }
        self.membership_committed(old_commit);
    }

    /// Rule (CheckQuorum, NRG lost quorum): at the end of every window of
    /// `election_timeout_max` ticks a leader checks that it heard (an append response or a
    /// read ack of its term) from a quorum of voters, itself included, during the window;
    /// if not, and [`Config::check_quorum`] is on, it steps down to follower in its term.
    /// The window uses the maximum timeout so that a follower whose acknowledgements wait for
    /// a slow fsync is not taken for gone. Returns true when it stepped down.
    ///
    /// [`Config::check_quorum`]: crate::Config::check_quorum
    pub(super) fn check_quorum_at_window_end(&mut self) -> bool {
        let window = self.config.election_timeout_max;
        let needed = self.quorum_needed();
        let Some(leadership) = self.leadership.as_mut() else {
            return false;
        };
        leadership.quorum_window_elapsed += 1;
        if leadership.quorum_window_elapsed < window {
            return false;
        }
        leadership.quorum_window_elapsed = 0;
        let (id, progress) = (self.config.id, &mut leadership.progress);
        let heard_from_quorum = quorum::reaches(&self.voters, needed, |&voter| {
            voter == id || progress.get(&voter).is_some_and(|p| p.recent_active)
        });
        for (_, p) in progress.iter_mut() {
            p.recent_active = false;
        }
        if self.config.check_quorum && !heard_from_quorum {
            self.become_follower_in_term();
            return true;
        }
        false
    }
}
