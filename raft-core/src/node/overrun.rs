//! Overrun (nats-server #7853, #8065): what a node does when its backlogs pass
//! [`Config::max_uncommitted_entries`](crate::Config::max_uncommitted_entries), NRG's
//! 100,000-entry threshold.
//!
//! - A leader whose log is full of uncommitted entries (proposals are refused with
//!   `Overloaded` at the threshold), or whose application is more than the threshold behind
//!   its commit index, steps down at its next tick: leading on is what made it fall behind,
//!   and another node may do better. (NRG steps down inside the proposal; here a refused
//!   proposal changes nothing, so the step-down is the tick's.)
//! - A follower whose application is more than the threshold behind its commit index
//!   pauses its quorum: it still stores what the leader sends, but acknowledges nothing, so
//!   it neither counts toward commits it could not apply soon nor invites more entries. It
//!   resumes once its backlog drained to a tenth of the threshold. A candidacy clears the
//!   pause. (NRG also cancels its catch-up; here a leader's replication to a silent follower
//!   waits at its in-flight window, which is the same effect.)

use super::Node;
use crate::action::Role;

impl Node {
    /// The application's backlog: committed entries not yet applied.
    fn unapplied(&self) -> u64 {
        self.commit_index.saturating_sub(self.applied_index)
    }

    /// Rule (leader overrun): at a tick, a leader whose own uncommitted proposals reached the
    /// threshold or whose unapplied backlog passed it steps down in its term. Returns true
    /// when it stepped down.
    pub(super) fn step_down_if_overrun(&mut self) -> bool {
        let Some(noop_index) = self.leadership.as_ref().map(|l| l.noop_index) else {
            return false;
        };
        let limit = self.config.max_uncommitted_entries;
        // Only this leadership's own proposals count: a leader that restarted re-learns its
        // commit index, and the entries it inherited commit with its no-op.
        let uncommitted = self.log.last_index() - self.commit_index.max(noop_index);
        if uncommitted < limit && self.unapplied() <= limit {
            return false;
        }
        self.become_follower_in_term();
        true
    }

    /// Rule (quorum pause): a follower pauses its acknowledgements once its unapplied backlog
    /// passes the threshold, and resumes once it is down to a tenth of it (rounded down: an
    /// empty backlog always resumes). Evaluated whenever
    /// the commit or applied index moves.
    pub(super) fn update_quorum_pause(&mut self) {
        let limit = self.config.max_uncommitted_entries;
        if self.role == Role::Leader {
            self.quorum_paused = false;
        } else if self.unapplied() > limit {
            self.quorum_paused = true;
        } else if self.unapplied() <= limit / 10 {
            self.quorum_paused = false;
        }
    }

    /// NRG `quorumPaused`: this follower acknowledges nothing until its application catches
    /// up (see the module documentation).
    pub fn is_quorum_paused(&self) -> bool {
        self.quorum_paused
    }
}
