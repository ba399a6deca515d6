//! Protocol-aware recovery on the host's side: what a boot found damaged, and when the node
//! is repaired.
//!
//! The node decides everything that matters for safety (raft-core's `node/repair.rs`: it
//! answers votes with the log it held and does not campaign until its durable log caught
//! up); the host only carries it out and counts it. As the server's storage does, a boot
//! that finds damage writes what the node answers for to the damage file, then replaces the
//! WAL by the node's log (`wal_of`, atomically, as WAL compaction is); the node's repair
//! appends to that WAL, and its repair empties the damage file. *Invariant:* a crash at any
//! point answers for the same log until the repair (the damaged WAL before the replace, the
//! damage file after it), and a repaired node's disk holds no damage: a later boot finds
//! none, so a node counted repaired stays a healthy voter (seeds 2182, 2613 and 9092 left
//! the damaged bytes in place until a quiet moment with the whole log in memory, which a
//! bounded log cache never has; a later crash then found the old damage again and the node
//! answered for its whole log, the sole voter of its cluster, or with an uncommitted tail
//! no other voter could win without: planted as `repaired-damage-left-on-disk`).

use super::World;
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
        host.damage = DiskDamage::Intact;
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

/// The WAL that holds exactly the log a node booted with (after its snapshot, if any): what
/// replaces a WAL whose damaged records, or records the node's log does not take, a boot
/// found. At a boot the log's payloads are all in memory (a bounded cache evicts only once
/// the node handles inputs).
pub(super) fn wal_of(raft: &raft_core::Node) -> Vec<u8> {
    let (index, term) = raft
        .snapshot()
        .map_or((0, 0), |s| (s.meta.index, s.meta.term));
    assert!(
        raft.payloads_evicted_through() <= index,
        "a node that has not handled an input yet holds every payload"
    );
    storage::encode_wal_append(index, term, raft.log(), 0).expect("the node's own log encodes")
}
