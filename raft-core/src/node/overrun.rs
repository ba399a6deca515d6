//! Overrun (nats-server #7853, #8065): what a node does when its backlogs pass
//! [`Config::max_uncommitted_entries`](crate::Config::max_uncommitted_entries), NRG's
//! 100,000-entry threshold.
//!
//! - A leader whose log is full of its own uncommitted proposals (proposals are refused with
//!   `Overloaded` at the threshold), or whose application has not consumed more than the
//!   threshold of its commits, steps down at its next tick: leading on is what made it fall behind,
//!   and another node may do better. (NRG steps down inside the proposal; here a refused
//!   proposal changes nothing, so the step-down is the tick's.)
//! - A follower whose application has not consumed more than the threshold of its commits
//!   pauses its quorum: it still stores what the leader sends, but acknowledges nothing, so
//!   it neither counts toward commits it could not apply soon nor invites more entries. It
//!   resumes once its backlog drained to a tenth of the threshold. A candidacy clears the
//!   pause. (NRG also cancels its catch-up; here a leader's replication to a silent follower
//!   waits at its in-flight window, which is the same effect.)

use super::Node;
use crate::action::Role;

impl Node {
    /// The application's backlog: committed entries it has not consumed yet (reported
    /// processed). Entries it consumed but holds back unapplied (a batch waiting for its
    /// commit marker) are not backlog: counting them would pause a follower that can only
    /// complete the batch by acknowledging the entries that follow it.
    fn unprocessed(&self) -> u64 {
        self.commit_index.saturating_sub(self.processed_index)
    }

    /// Rule (leader overrun): at a tick, a leader whose own uncommitted proposals reached the
    /// threshold or whose unconsumed commits passed it steps down in its term. Returns true
    /// when it stepped down.
    pub(super) fn step_down_if_overrun(&mut self) -> bool {
        let Some(noop_index) = self.leadership.as_ref().map(|l| l.noop_index) else {
            return false;
        };
        let limit = self.config.max_uncommitted_entries;
        // Only this leadership's own proposals count: a leader that restarted re-learns its
        // commit index, and the entries it inherited commit with its no-op (none counts
        // before the no-op: a leader repairing its log has none yet).
        let uncommitted = self
            .log
            .last_index()
            .saturating_sub(self.commit_index.max(noop_index));
        if uncommitted < limit && self.unprocessed() <= limit {
            return false;
        }
        self.become_follower_in_term();
        true
    }

    /// Rule (quorum pause): a follower pauses its acknowledgements once its unconsumed commits
    /// pass the threshold, and resumes once it is down to a tenth of it (rounded down: an
    /// empty backlog always resumes). Evaluated whenever
    /// the commit or applied index moves.
    pub(super) fn update_quorum_pause(&mut self) {
        let limit = self.config.max_uncommitted_entries;
        if self.role == Role::Leader {
            self.quorum_paused = false;
        } else if self.unprocessed() > limit {
            self.quorum_paused = true;
        } else if self.unprocessed() <= limit / 10 {
            self.quorum_paused = false;
        }
    }

    /// NRG `quorumPaused`: this follower acknowledges nothing until its application catches
    /// up (see the module documentation).
    pub fn is_quorum_paused(&self) -> bool {
        self.quorum_paused
    }
}
