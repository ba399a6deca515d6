//! Write and fsync errors at the host (the fault `Fault::WriteError`, drawn by
//! `crate::write_errors`): the next persist of a node fails, and its supervisor restarts it.
//!
//! Architecture invariant: a failed persist is never treated as durable by the disk or the
//! checkers. When the armed persist completes, the disk drops every unsynced WAL byte (after
//! a failed fsync the kernel may have dropped the dirty pages, and a power loss would lose
//! them anyway), the persist and every later one queued behind it fail together (the node
//! is told once, with the first id, as raft-core's contract asks), and the checkers never
//! hear of them as durable. A small file being replaced stays as a power loss would find
//! it: the rename may or may not survive.
//!
//! The node keeps running with its sticky error (no acknowledgement, vote or campaign, no
//! proposal) until its supervisor restarts it, `restart_after_us` after the failure, or when
//! the faults stop, whichever comes first: liveness then expects of it what it expects of
//! any restarted node.

use super::events::Event;
use super::World;
use crate::app::Application;
use crate::config::Micros;
use crate::event;
use crate::faults::Target;
use crate::write_errors::WriteFailure;
use raft_core::PersistId;

/// A write error armed on a node's disk: its next persist fails.
#[derive(Clone, Copy, Debug)]
pub(super) struct ArmedWriteError {
    pub(super) error: WriteFailure,
    /// When the supervisor restarts the node after the failure (None: a script does).
    pub(super) restart_after_us: Option<Micros>,
}

impl<A: Application> World<A> {
    /// A [`crate::faults::Fault::WriteError`] fires: the node's next persist will fail.
    pub(super) fn arm_write_error(
        &mut self,
        target: Target,
        error: WriteFailure,
        restart_after_us: Micros,
    ) {
        let node = match target {
            Target::Node(n) => n,
            Target::Leader { fallback } => self.current_leader().unwrap_or(fallback),
        };
        self.hosts[node].armed_write_error = Some(ArmedWriteError {
            error,
            restart_after_us: Some(restart_after_us),
        });
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("{error} armed for the next persist")
        ));
    }

    /// Persist `persist` of `node` completes: if a write error is armed, it fails instead.
    /// Returns whether it failed.
    #[inline]
    pub(super) fn fail_armed_persist(&mut self, node: usize, persist: PersistId) -> bool {
        let Some(armed) = self.hosts[node].armed_write_error.take() else {
            return false;
        };
        let now = self.now;
        let host = &mut self.hosts[node];
        let wal = &mut host.disk.wal;
        let dropped = wal.len() - wal.synced_len();
        wal.truncate(wal.synced_len());
        let failed = host.io.len();
        host.io.clear();
        host.compact_wal_to = None;
        let incarnation = host.incarnation;
        self.stats.write_errors += 1;
        self.record(event!(
            now,
            Some(node),
            "write-error",
            id = persist.0,
            error = armed.error.to_string(),
            persists_failed = failed,
            unsynced_dropped = dropped
        ));
        let Some(raft) = self.hosts[node].node.as_mut() else {
            return true;
        };
        match raft.persist_failed(persist, armed.error.error()) {
            Ok(actions) => self.execute(node, actions),
            Err(e) => panic!("simulated host broke the persist contract: {e}"),
        }
        // The supervisor restarts the node, which clears its sticky error; `on_kill` does
        // nothing once the faults have stopped, when the liveness phase restarts it instead.
        if let Some(after) = armed.restart_after_us {
            self.schedule(
                now + after,
                Event::Kill {
                    node,
                    incarnation,
                    down_us: self.config.tick_us,
                },
            );
        }
        true
    }

    /// A script arms a write error on `node`'s disk: its next persist fails, and nothing
    /// restarts it but the script.
    pub fn script_fail_next_persist(&mut self, node: usize, error: WriteFailure) {
        self.hosts[node].armed_write_error = Some(ArmedWriteError {
            error,
            restart_after_us: None,
        });
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("{error} armed for the next persist")
        ));
    }

    /// The faults stop: armed write errors are disarmed, and every node still running with
    /// a sticky write error is restarted (power-cycled: it boots from what its disk holds).
    pub(super) fn restart_after_write_errors(&mut self, node: usize) {
        self.hosts[node].armed_write_error = None;
        let sticky = self.hosts[node]
            .node
            .as_ref()
            .and_then(|raft| raft.write_error());
        if let Some(error) = sticky {
            let what = format!("restart to clear the write error ({error})");
            self.record(event!(self.now, Some(node), "fault", what = what));
            self.crash(node, self.config.tick_us);
        }
    }
}
