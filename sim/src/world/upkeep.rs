//! The application's snapshot upkeep in the random mix (the nemesis's `Fault::Snapshot`):
//! what the application asks of its node, drawn from a decision of its own
//! (`Key::Upkeep`, so the fault schedule and every other stream stay as they were):
//!
//! - half the time a snapshot at the applied index (`install_snapshot`);
//! - a forced snapshot (`force_install_snapshot`: it aborts an open checkpoint);
//! - a snapshot in two steps (`begin_snapshot`, then `finish_snapshot` or `abort_snapshot`
//!   a little later, with every other input in between: NRG `CreateSnapshotCheckpoint`);
//! - a drain and replay (`drain_and_replay_snapshot`: the application starts over from the
//!   latest snapshot; apply resumes a little later);
//! - the operator resets a follower (`reset`, NRG `Reset`) when that cannot cost liveness:
//!   the cluster has a leader, the node follows it, and no other node answers for a lost log
//!   (otherwise the application takes its plain snapshot).
//!
//! The checkers are told what goes back on purpose (the applied index of a replay, the
//! new lifetime of a reset) and nothing else: every property keeps holding.

use super::events::Event;
use super::repair::DiskDamage;
use super::World;
use crate::app::{Application, Replica};
use crate::decisions::Key;
use crate::event;
use raft_core::{Role, SnapshotCheckpoint};

/// A checkpoint the application began and has not finished or aborted yet.
pub(super) struct OpenCheckpoint {
    pub(super) checkpoint: SnapshotCheckpoint,
    /// The application's state at the checkpoint's index, copied when it began.
    pub(super) data: Vec<u8>,
}

impl<A: Application> World<A> {
    /// `Fault::Snapshot` on `node`: one of the application's snapshot inputs.
    pub(super) fn snapshot_upkeep(&mut self, node: usize) {
        let key = Key::Upkeep {
            node: node as u8,
            at: self.now,
        };
        let roll = self.decisions.upkeep(key, |s| s.next_u64());
        let later = self.now + self.hosts[node].tick_us * (1 + (roll >> 8) % 20);
        match roll % 8 {
            0..=3 => self.upkeep_snapshot(node, false),
            4 => self.upkeep_snapshot(node, true),
            5 => self.upkeep_checkpoint(node, later, !(roll >> 16).is_multiple_of(4)),
            6 => self.upkeep_drain_and_replay(node, later),
            _ => self.upkeep_reset(node),
        }
    }

    fn upkeep_note(&mut self, node: usize, what: String) {
        self.record(event!(self.now, Some(node), "fault", what = what));
    }

    /// A snapshot at the applied index; `force` aborts an open checkpoint.
    fn upkeep_snapshot(&mut self, node: usize, force: bool) {
        let host = &mut self.hosts[node];
        let data = host.replica.snapshot();
        let Some(raft) = host.running() else {
            return;
        };
        let index = raft.applied_index();
        let outcome = if force {
            raft.force_install_snapshot(index, data)
        } else {
            raft.install_snapshot(index, data)
        };
        let kind = if force { "forced snapshot" } else { "snapshot" };
        match outcome {
            Ok(actions) => {
                self.upkeep_note(node, format!("{kind} at {index}"));
                self.execute(node, actions);
            }
            Err(e) => self.upkeep_note(node, format!("{kind} refused: {e}")),
        }
    }

    /// The first step of a snapshot checkpoint; the second (finish, or abort) comes at
    /// `later`.
    fn upkeep_checkpoint(&mut self, node: usize, later: crate::config::Micros, finish: bool) {
        let host = &mut self.hosts[node];
        let data = host.replica.snapshot();
        let incarnation = host.incarnation;
        let Some(raft) = host.running() else {
            return;
        };
        match raft.begin_snapshot(false) {
            Ok(checkpoint) => {
                let index = checkpoint.index;
                self.hosts[node].checkpoint = Some(OpenCheckpoint { checkpoint, data });
                self.upkeep_note(node, format!("checkpoint begun at {index}"));
                let due = Event::CheckpointDue {
                    node,
                    incarnation,
                    finish,
                };
                self.schedule(later, due);
            }
            Err(e) => self.upkeep_note(node, format!("checkpoint refused: {e}")),
        }
    }

    /// The second step of the node's open checkpoint (none after a crash: checkpoints live
    /// in memory).
    pub(super) fn checkpoint_due(&mut self, node: usize, incarnation: u64, finish: bool) {
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation {
            return;
        }
        let Some(open) = host.checkpoint.take() else {
            return;
        };
        let Some(raft) = host.running() else {
            return;
        };
        let index = open.checkpoint.index;
        if !finish {
            raft.abort_snapshot(&open.checkpoint);
            return self.upkeep_note(node, format!("checkpoint at {index} aborted"));
        }
        match raft.finish_snapshot(&open.checkpoint, open.data) {
            Ok(actions) => {
                self.upkeep_note(node, format!("checkpoint at {index} finished"));
                self.execute(node, actions);
            }
            Err(e) => self.upkeep_note(node, format!("checkpoint at {index} refused: {e}")),
        }
    }

    /// The application starts over from the latest snapshot; apply resumes at `later`.
    fn upkeep_drain_and_replay(&mut self, node: usize, later: crate::config::Micros) {
        let incarnation = self.hosts[node].incarnation;
        let Some(raft) = self.hosts[node].running() else {
            return;
        };
        let index = raft.snapshot_index();
        match raft.drain_and_replay_snapshot() {
            Ok(actions) => {
                self.checks.replayed(node, index);
                self.upkeep_note(node, format!("drain and replay from {index}"));
                self.execute(node, actions);
                self.schedule(later, Event::ResumeApply { node, incarnation });
            }
            Err(e) => self.upkeep_note(node, format!("drain and replay refused: {e}")),
        }
    }

    /// The operator resets `node` if it follows a leader and no other node answers for a
    /// lost log (a reset node answers for its own until the leader gave it back).
    fn upkeep_reset(&mut self, node: usize) {
        let leader = self.current_leader();
        let others_whole = (0..self.hosts.len()).filter(|&n| n != node).all(|n| {
            !self.hosts[n].damage.unrepaired() && self.hosts[n].damage != DiskDamage::Repairing
        });
        let Some(raft) = self.hosts[node].running() else {
            return;
        };
        let follows = raft.role() == Role::Follower
            && leader.is_some_and(|l| l != node && raft.leader() == Some(super::id(l)));
        if !follows || !others_whole {
            // The application's plain snapshot instead, as before resets were drawn.
            return self.upkeep_snapshot(node, false);
        }
        match raft.reset() {
            Ok(actions) => {
                self.upkeep_note(node, "reset".into());
                self.execute(node, actions);
            }
            Err(e) => self.upkeep_note(node, format!("reset refused: {e}")),
        }
    }
}
