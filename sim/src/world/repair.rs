//! Protocol-aware recovery on the host's side: what a boot found damaged, when the node is
//! repaired, and the WAL rewritten once it is.
//!
//! The node decides everything that matters for safety (raft-core's `node/repair.rs`: it
//! answers votes with the log it held and does not campaign until its durable log caught
//! up); the host only carries it out and counts it. *Invariant:* the damaged bytes stay on
//! the disk until the node is repaired, so a crash during repair finds the same damage (and
//! the records appended since, after it) and answers for the same log again; only then is
//! the WAL replaced by the node's durable log, atomically, as WAL compaction is.

use super::{Host, World};
use crate::app::Application;
use crate::event;
use raft_core::storage;

/// Where a node's disk stands with damage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum DiskDamage {
    #[default]
    Intact,
    /// Struck, not read yet: the node runs from memory until its next boot.
    Latent,
    /// A boot found damage; the node answers for the log it held until repaired.
    Repairing,
    /// Repaired; the WAL is rewritten without the damaged bytes at the next quiet moment.
    Rewrite,
}

impl DiskDamage {
    /// Holds damage the node has not repaired (an intact copy elsewhere is still needed).
    pub(super) fn unrepaired(self) -> bool {
        matches!(self, DiskDamage::Latent | DiskDamage::Repairing)
    }
}

impl<A: Application> World<A> {
    /// After the node handled a completed persist: a repairing node whose durable log caught
    /// up with the log it held is repaired.
    pub(super) fn note_repair(&mut self, node: usize) {
        let host = &mut self.hosts[node];
        if host.damage != DiskDamage::Repairing {
            return;
        }
        let Some(raft) = host.node.as_ref() else {
            return;
        };
        if raft.repairing().is_some() {
            return;
        }
        host.damage = DiskDamage::Rewrite;
        host.disk.repair.write_now(Vec::new());
        let last_index = raft.last_index();
        self.stats.nodes_repaired += 1;
        self.checks.repaired(node);
        self.record(event!(
            self.now,
            Some(node),
            "repaired",
            last_index = last_index
        ));
    }
}

/// Replaces a repaired node's WAL by its durable log when no write is in flight (every byte
/// synced, no pending offset to move): a restart then reads no damage. Returns the new
/// WAL's length when it rewrote.
pub(super) fn rewrite_repaired_wal<A: Application>(host: &mut Host<A>) -> Option<usize> {
    if host.damage != DiskDamage::Rewrite || !host.io.is_empty() {
        return None;
    }
    let raft = host.node.as_ref()?;
    if raft.persists_in_flight() > 0 || raft.durable_index() != raft.last_index() {
        return None;
    }
    let (index, term) = raft
        .snapshot()
        .map_or((0, 0), |s| (s.meta.index, s.meta.term));
    if raft.payloads_evicted_through() > index {
        // Payloads left the node's memory (a bounded log cache): its log cannot be written
        // out whole; recovery judges the WAL at the next restart instead.
        return None;
    }
    let bytes =
        storage::encode_wal_append(index, term, raft.log(), 0).expect("the node's own log encodes");
    let len = bytes.len();
    host.disk.wal.replace(bytes);
    host.damage = DiskDamage::Intact;
    Some(len)
}
