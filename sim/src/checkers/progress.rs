//! Monotonic progress per node: within a node's lifetime its commit index and applied index
//! never go back, and after a restart it never starts below the snapshot it had made durable
//! (its state machine is restored from that snapshot or a newer one), unless its disk was
//! replaced by an empty one or damaged by the fault atlas. Only leaders serve
//! reads and entries are compared per index, so without this a follower that re-applies
//! entries or rolls its state machine back would pass every other check.

use super::{Checkers, Property};
use crate::config::Micros;

/// What one node has reached.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct NodeProgress {
    /// Commit and applied index in this lifetime (0 after a restart, until its first step).
    commit: u64,
    applied: u64,
    /// The highest snapshot index this node made durable, in any lifetime.
    durable_snapshot: u64,
}

impl NodeProgress {
    /// The commit index the node reached in this lifetime.
    pub(super) fn commit(&self) -> u64 {
        self.commit
    }
}

impl Checkers {
    /// After a step of `node`: its commit and applied index now.
    pub fn check_progress(&mut self, now: Micros, node: usize, commit: u64, applied: u64) {
        let seen = self.progress[node];
        let back = if commit < seen.commit {
            Some(("commit", commit, seen.commit))
        } else if applied < seen.applied {
            Some(("applied", applied, seen.applied))
        } else {
            None
        };
        if let Some((what, now_at, was)) = back {
            self.fail(
                Property::MonotonicProgress,
                now,
                Some(node),
                format!("{what} index went back from {was} to {now_at} within one lifetime"),
            );
        }
        let p = &mut self.progress[node];
        p.commit = commit;
        p.applied = applied;
    }

    /// `node` made a snapshot at `index` durable.
    pub fn on_durable_snapshot(&mut self, node: usize, index: u64) {
        let p = &mut self.progress[node];
        p.durable_snapshot = p.durable_snapshot.max(index);
    }

    /// `node`'s application rebuilds its state from its snapshot at `index` on purpose (NRG
    /// `DrainAndReplaySnapshot`): its applied index goes back to `index` and climbs again;
    /// its commit index stays.
    pub fn on_progress_replay(&mut self, node: usize, index: u64) {
        let p = &mut self.progress[node];
        p.applied = p.applied.min(index);
    }

    /// `node` lost power: a new lifetime starts at its recovery.
    pub fn on_progress_crash(&mut self, node: usize) {
        let p = &mut self.progress[node];
        p.commit = 0;
        p.applied = 0;
    }

    /// `node`'s disk was replaced by an empty one: what it had made durable is gone on
    /// purpose (a disk-loss fault), and its next lifetime starts from nothing.
    pub fn on_progress_disk_replaced(&mut self, node: usize) {
        self.progress[node].durable_snapshot = 0;
    }

    /// The nemesis damaged `node`'s synced data (the fault atlas): a damaged snapshot file is
    /// lost on purpose, and the node restarts below it and is repaired from its peers.
    pub fn on_progress_damaged(&mut self, node: usize) {
        self.progress[node].durable_snapshot = 0;
    }

    /// `node` restarted from the snapshot at `snapshot` (0: none).
    pub fn check_restart_progress(&mut self, now: Micros, node: usize, snapshot: u64) {
        let durable = self.progress[node].durable_snapshot;
        if snapshot < durable {
            self.fail(
                Property::MonotonicProgress,
                now,
                Some(node),
                format!(
                    "restarted from the snapshot at {snapshot}, below the snapshot at {durable} it had made durable"
                ),
            );
        }
    }
}
