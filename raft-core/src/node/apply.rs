//! Apply: committed entries are handed to the application in order, each once, and held
//! back while the application is paused (NRG `PauseApply` / `ResumeApply`); the
//! application reports how far it consumed and how far it applied (NRG `Processed`); an
//! application that lost its state rebuilds it from the latest snapshot (NRG
//! `DrainAndReplaySnapshot`).

use super::{ContractError, Node, SnapshotError};
use crate::action::{Action, Role};

impl Node {
    /// NRG `PauseApply`: stop handing out [`Action::Apply`] (the node keeps replicating,
    /// acknowledging, voting and learning the commit index) and stop campaigning, so the
    /// application can, for example, install state of its own. Only a follower pauses: a
    /// leader or candidate first steps down to follower in its term (its vote stays).
    pub fn pause_apply(&mut self) -> Vec<Action> {
        if self.role != Role::Follower {
            self.become_follower_in_term();
        }
        self.pre_votes = None;
        self.paused = true;
        self.finish()
    }

    /// NRG `ResumeApply`: hand out everything committed while paused, in one
    /// [`Action::Apply`], and start a fresh election timeout. A no-op when not paused.
    pub fn resume_apply(&mut self) -> Vec<Action> {
        if self.paused {
            self.paused = false;
            self.reset_election_timer();
            if let Some(snapshot) = self.snapshot_to_apply.take() {
                // As for entries: what is pending is issued first.
                self.outbox.flush();
                self.outbox.apply_snapshot(snapshot.meta, snapshot.data);
            }
            self.hand_out_committed();
        }
        self.finish()
    }

    /// NRG `DrainAndReplaySnapshot`: the application's state is lost or not to be trusted
    /// (its apply failed half-way), so it starts over from the latest snapshot. The node
    /// pauses apply as [`Node::pause_apply`] does (a leader steps down), forgets what it
    /// handed out after the snapshot, and hands out the snapshot at once
    /// ([`Action::ApplySnapshot`], before anything held back). The commit index stays: once
    /// the application restored the snapshot it calls [`Node::resume_apply`], which hands out
    /// every entry after the snapshot up to the commit index, including what was committed
    /// meanwhile. (NRG lowers its commit index to the snapshot and keeps the highest one
    /// aside; here the commit index never goes back, and what moves back is what the
    /// application was handed.) Until the application consumed those entries again the node
    /// does not campaign ([`Node::commits_unprocessed`]).
    ///
    /// Refused with [`SnapshotError::NoSnapshot`] when the node has none (nothing changes).
    pub fn drain_and_replay_snapshot(&mut self) -> Result<Vec<Action>, SnapshotError> {
        let Some(snapshot) = self.snapshot.clone() else {
            return Err(SnapshotError::NoSnapshot);
        };
        if self.role != Role::Follower {
            self.become_follower_in_term();
        }
        self.pre_votes = None;
        self.paused = true;
        self.replay_from(snapshot.meta.index);
        // A snapshot received while paused is the latest one: it is the one replayed now.
        self.snapshot_to_apply = None;
        self.outbox.flush();
        self.outbox.apply_snapshot(snapshot.meta, snapshot.data);
        Ok(self.finish())
    }

    /// Rule (drain and replay): the application's state is back at the snapshot at `index`;
    /// everything after it is handed out again, consumed again and applied again.
    fn replay_from(&mut self, index: u64) {
        self.apply_handed_out = index;
        self.processed_index = index;
        self.applied_index = index;
        self.update_quorum_pause();
    }

    /// Rule: committed entries are handed out in order, each once, except while paused.
    /// Payloads a bounded log cache dropped (handed out again after a drain and replay) come
    /// from a log read: the hand-out stops before the first that is not back yet and asks
    /// for it (`log_cache.rs`).
    pub(super) fn hand_out_committed(&mut self) {
        debug_assert!(self.commit_index <= self.log.last_index());
        if !self.paused && self.commit_index > self.apply_handed_out {
            let from = self.apply_handed_out + 1;
            let slice = self.log.slice(from, self.commit_index);
            let evicted = self.log.evicted_through();
            let entries = if slice.first().is_some_and(|e| e.index > evicted) {
                slice.to_vec()
            } else {
                let (entries, missing) = self.log_reads.with_payloads(&self.log, slice);
                if let Some(missing) = missing {
                    self.log_reads
                        .request(&self.log, missing, &self.config, &mut self.outbox);
                }
                entries
            };
            let Some(last) = entries.last().map(|e| e.index) else {
                return;
            };
            self.apply_handed_out = last;
            self.outbox.apply(entries);
        }
    }

    /// Rule (NRG `Processed(index, applied)`): the application reports the entries up to
    /// `index` consumed and their effects up to `applied` in its state. Applied never passes
    /// processed (it is clamped to `index`), neither moves backwards (a lower report changes
    /// nothing), and nothing past what was handed out can be reported. Processed lets the
    /// node campaign ([`Node::commits_unprocessed`]); applied bounds compaction
    /// ([`Node::install_snapshot`]).
    pub(super) fn record_processed(
        &mut self,
        index: u64,
        applied: u64,
    ) -> Result<(), ContractError> {
        if index > self.apply_handed_out {
            return Err(ContractError::AppliedBeyondCommitted {
                index,
                handed_out: self.apply_handed_out,
            });
        }
        self.processed_index = self.processed_index.max(index);
        self.applied_index = self.applied_index.max(applied.min(index));
        self.update_quorum_pause();
        Ok(())
    }

    /// Rule (NRG `switchToCandidate`): a node whose application has not consumed everything
    /// committed does not campaign: as leader it would serve from a state machine behind its
    /// commit index. Entries held back inside the application (an open batch) count as
    /// consumed once reported processed.
    pub(super) fn commits_unprocessed(&self) -> bool {
        self.processed_index < self.commit_index
    }
}
