//! Steps that drive the disks and the nodes' lifetimes: syncs, stalled disks, power loss and
//! process kills, restarts, and damage to the files on disk.

use super::Script;
use sim::app::Application;
use sim::world::scripted::CrashKind;

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

    /// Deletes the node's WAL, keeping the term/vote file (the node should be down).
    pub fn delete_wal(&mut self, node: usize) {
        self.begin(format!("delete wal n{node}"));
        self.w().script_delete_wal(node);
        self.end();
    }
}
