//! Steps that drive the disks and the nodes' lifetimes: syncs, stalled disks, power loss and
//! process kills, restarts, and damage to the files on disk.

use super::Script;
use sim::app::Application;
use sim::world::scripted::CrashKind;
use sim::write_errors::WriteFailure;

impl<A: Application> Script<A> {
    /// Completes every pending persist of `node`.
    pub fn sync(&mut self, node: usize) {
        self.begin(format!("sync n{node}"));
        self.w().script_sync(node);
        self.end();
    }

    /// From now on settle steps do not complete `node`'s I/O (a stalled disk).
    pub fn stall_disk(&mut self, node: usize) {
        self.begin(format!("stall disk n{node}"));
        self.w().script_stall(node, true);
        self.end();
    }

    pub fn unstall_disk(&mut self, node: usize) {
        self.begin(format!("unstall disk n{node}"));
        self.w().script_stall(node, false);
        self.end();
    }

    /// Power loss at `node`: unsynced writes are lost.
    pub fn crash(&mut self, node: usize) {
        self.begin(format!("crash n{node} (power loss)"));
        self.w().script_crash(node, CrashKind::PowerLoss);
        self.end();
    }

    /// The process at `node` is killed: written WAL bytes survive, unrenamed files do not.
    pub fn kill(&mut self, node: usize) {
        self.begin(format!("kill n{node} (process crash)"));
        self.w().script_crash(node, CrashKind::ProcessKill);
        self.end();
    }

    /// The machine of `node` is lost for good (power loss, and it never comes back): the
    /// premise of a rescue quorum.
    pub fn lose(&mut self, node: usize) {
        self.begin(format!("lose n{node} (for good)"));
        self.w().script_lose(node);
        self.end();
    }

    /// Restarts a crashed node through recovery from its disk.
    pub fn restart(&mut self, node: usize) {
        self.begin(format!("restart n{node}"));
        self.w().script_start(node);
        self.end();
    }

    /// Overwrites the node's term/vote file with `bytes` (the node should be down).
    pub fn write_term_vote(&mut self, node: usize, bytes: Vec<u8>) {
        self.begin(format!(
            "write {} bytes over the term/vote file of n{node}",
            bytes.len()
        ));
        self.w().script_write_term_vote(node, bytes);
        self.end();
    }

    /// Flips a bit in the payload of the node's WAL record `from_end` records before the last
    /// (0: the last): damage to synced data (the node should be down).
    #[track_caller]
    pub fn corrupt_wal(&mut self, node: usize, from_end: usize) {
        self.begin(format!(
            "corrupt wal record {from_end} from the end on n{node}"
        ));
        if self.w().script_corrupt_wal(node, from_end).is_none() {
            self.fail(format!(
                "n{node}'s WAL has no record {from_end} from the end"
            ));
        }
        self.end();
    }

    /// Flips a bit in one copy of the node's term/vote record (0: `tav.idx`, 1: its copy):
    /// damage to synced data (the node should be down).
    #[track_caller]
    pub fn damage_term_vote_copy(&mut self, node: usize, copy: usize) {
        let name = raft_core::storage::TERM_VOTE_COPIES.get(copy).copied();
        self.begin(format!(
            "corrupt {} on n{node}",
            name.unwrap_or("a copy that does not exist")
        ));
        if self.w().script_damage_term_vote_copy(node, copy).is_none() {
            self.fail(format!("n{node} has no written term/vote copy {copy}"));
        }
        self.end();
    }

    /// Appends `len` synced zero bytes to the node's WAL: damage that looks like a torn tail.
    pub fn zero_wal_tail(&mut self, node: usize, len: usize) {
        self.begin(format!("zero {len} bytes after the WAL of n{node}"));
        self.w().script_zero_wal_tail(node, len);
        self.end();
    }

    /// Cuts the last byte off the node's durable snapshot file (damage to synced data).
    pub fn truncate_snapshot(&mut self, node: usize) {
        self.begin(format!("truncate the snapshot file of n{node}"));
        self.w().script_truncate_snapshot(node);
        self.end();
    }

    /// The node's next persist fails with `error` when it completes (a write or fsync
    /// error: the disk drops the WAL's unsynced bytes, and the node is told).
    pub fn fail_next_persist(&mut self, node: usize, error: WriteFailure) {
        self.begin(format!("fail the next persist of n{node} ({error})"));
        self.w().script_fail_next_persist(node, error);
        self.end();
    }

    /// Rewrites the node's WAL without its entries up to `through`, whatever its snapshot
    /// holds: a WAL compacted past the snapshot, or with none (the node should be down).
    #[track_caller]
    pub fn compact_wal(&mut self, node: usize, through: u64) {
        self.begin(format!("compact the wal of n{node} through {through}"));
        if let Err(e) = self.w().script_compact_wal(node, through) {
            self.fail(e);
        }
        self.end();
    }

    /// Deletes the node's WAL, keeping the term/vote file (the node should be down).
    pub fn delete_wal(&mut self, node: usize) {
        self.begin(format!("delete wal n{node}"));
        self.w().script_delete_wal(node);
        self.end();
    }
}
