//! The logs themselves: leader append-only and log matching at every change to a node's
//! in-memory log, state-machine safety at every apply, commit within the log after every
//! step. The first node to hand out an index records the committed prefix the other
//! properties read.

use super::prefix_log::entry_hash;
use super::{Checkers, Property};
use crate::config::Micros;
use raft_core::{Entry, LogWrite, Role};

impl Checkers {
    /// Leader append-only and log matching, at every change to a node's in-memory log.
    pub fn on_log_write(&mut self, now: Micros, node: usize, write: &LogWrite) {
        let log = &self.memory[node];
        if self.roles[node].0 == Role::Leader && write.prev_index < log.len() {
            let len = log.len();
            self.fail(
                Property::LeaderAppendOnly,
                now,
                Some(node),
                format!(
                    "leader n{node} rewrote its log after index {} (it ended at {len})",
                    write.prev_index
                ),
            );
        }
        if write.prev_index > self.memory[node].len() {
            // The node writes after entries it never wrote: what it keeps in memory is not what
            // it persists (a gap on disk).
            let len = self.memory[node].len();
            self.fail(
                Property::LogMatching,
                now,
                Some(node),
                format!(
                    "n{node} writes entries after index {} but its persisted log ends at {len}",
                    write.prev_index
                ),
            );
            return;
        }
        self.memory[node].write(write.prev_index, &write.entries);
        for entry in &write.entries {
            let prefix = self.memory[node].at(entry.index).expect("just written");
            match self.seen.get(&(entry.index, entry.term)) {
                Some(&other) if other != prefix && self.is_reused_term(entry.term) => {
                    self.seen.insert((entry.index, entry.term), prefix);
                }
                Some(&other) if other != prefix => {
                    self.fail(
                        Property::LogMatching,
                        now,
                        Some(node),
                        format!(
                            "entry {}/{} on n{node} has a different log prefix than another log with the same index and term",
                            entry.term, entry.index
                        ),
                    );
                    return;
                }
                Some(_) => {}
                None => {
                    self.seen.insert((entry.index, entry.term), prefix);
                }
            }
        }
    }

    /// A node handed these entries to its state machine: they are committed. Records the
    /// committed prefix and checks state-machine safety (same entry at an index everywhere).
    pub fn on_committed(&mut self, now: Micros, node: usize, entries: &[Entry]) {
        let mut grew = false;
        for entry in entries {
            let i = entry.index as usize;
            let hash = entry_hash(entry);
            if i <= self.applied.len() {
                if self.applied[i - 1] != hash {
                    self.fail(
                        Property::StateMachineSafety,
                        now,
                        Some(node),
                        format!("n{node} applies {entry:?} at index {i}, another node applied a different entry there"),
                    );
                    return;
                }
            } else if i == self.applied.len() + 1 {
                self.applied.push(hash);
                // The first node to hand out an index is the leader that committed it.
                let prefix = self.memory[node].at(entry.index).unwrap_or(0);
                self.committed.push(prefix);
                self.committed_in_term.push(self.roles[node].1);
                grew = true;
            }
        }
        self.check_committed_durable(now);
        if grew {
            self.check_commit_guarded(now);
        }
    }

    /// Commit index within the log, after every step of a node.
    pub fn check_commit_within_log(
        &mut self,
        now: Micros,
        node: usize,
        commit: u64,
        last_index: u64,
    ) {
        if commit > last_index {
            self.fail(
                Property::CommitWithinLog,
                now,
                Some(node),
                format!("commit index {commit} beyond the last log index {last_index}"),
            );
        }
    }
}
