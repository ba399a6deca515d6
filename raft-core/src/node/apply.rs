//! Apply: committed entries are handed to the application in order, each once, and held
//! back while the application is paused (NRG `PauseApply` / `ResumeApply`).

use super::Node;
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

    /// Rule: committed entries are handed out in order, each once, except while paused.
    pub(super) fn hand_out_committed(&mut self) {
        debug_assert!(self.commit_index <= self.log.last_index());
        if !self.paused && self.commit_index > self.apply_handed_out {
            let entries = self
                .log
                .slice(self.apply_handed_out + 1, self.commit_index)
                .to_vec();
            self.apply_handed_out = self.commit_index;
            self.outbox.apply(entries);
        }
    }
}
