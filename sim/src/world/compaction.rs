//! Aggressive compaction in snapshot-heavy runs (`SimConfig::compaction`): the application
//! snapshots its state at the applied index as soon as enough entries were applied past its
//! last snapshot, looked at after each tick of the node. Logs stay a few entries long, so a
//! follower that falls behind or diverges is caught up by a snapshot, sent in chunks of
//! `max_bytes_per_message` bytes.

use super::World;
use crate::app::{Application, Replica};
use crate::event;

impl<A: Application> World<A> {
    /// Snapshots `node`'s application if the run compacts aggressively and the node applied
    /// `every_entries` entries past its snapshot. A refusal (a checkpoint open, a snapshot
    /// received and not yet applied) waits for the next tick.
    pub(super) fn compact_if_due(&mut self, node: usize) {
        let Some(compaction) = self.config.compaction else {
            return;
        };
        let host = &mut self.hosts[node];
        let Some(raft) = host.node.as_ref() else {
            return;
        };
        let index = raft.applied_index();
        if host.running().is_none() || index < raft_snapshot_index(host) + compaction.every_entries
        {
            return;
        }
        let data = host.replica.snapshot();
        let Some(raft) = host.running() else {
            return;
        };
        if let Ok(actions) = raft.install_snapshot(index, data) {
            self.stats.fault("compaction");
            self.record(event!(self.now, Some(node), "compact", index = index));
            self.execute(node, actions);
        }
    }
}

fn raft_snapshot_index<A: Application>(host: &super::host::Host<A>) -> u64 {
    host.node.as_ref().map_or(0, |raft| raft.snapshot_index())
}
