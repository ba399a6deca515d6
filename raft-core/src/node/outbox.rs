//! Durability plumbing: pending changes become one Persist, and messages that attest state wait
//! for it.

use super::Node;
use crate::action::{Action, LogWrite, PersistId};
use crate::message::Message;
use crate::types::{Entry, HardState, NodeId};

/// A Persist issued and not yet reported complete.
#[derive(Clone, Debug)]
pub(super) struct InFlightPersist {
    pub(super) id: PersistId,
    pub(super) hard_state: Option<HardState>,
    /// Log length once this request is durable.
    pub(super) last_index_after: u64,
    /// Set when the request truncates: durable entries after this index are replaced.
    pub(super) truncates_to: Option<u64>,
}

impl Node {
    /// Adds appended entries (after `prev_index`, which may cut the log) to the pending log
    /// write. An iterator, so a leader's entries extend the pending write one by one without
    /// a `Vec` each, and a follower's message `Vec` becomes the write's without a copy.
    pub(super) fn record_log_write(
        &mut self,
        prev_index: u64,
        entries: impl IntoIterator<Item = Entry>,
    ) {
        match self.pending_log_write.as_mut() {
            Some(write) if prev_index >= write.prev_index => {
                let keep = (prev_index - write.prev_index) as usize;
                write.entries.truncate(keep);
                write.entries.extend(entries);
            }
            _ => {
                let prev_term = self.log.term_at(prev_index).expect("prev within log");
                self.pending_log_write = Some(LogWrite {
                    prev_index,
                    prev_term,
                    entries: entries.into_iter().collect(),
                });
            }
        }
    }

    /// Turns pending changes into one Persist action. Returns the id that a message attesting
    /// the current state must wait for (None when everything is already durable).
    ///
    /// Called for every message sent and every input, and usually with nothing pending: the
    /// check is inlined, the work is not.
    #[inline]
    pub(super) fn flush_persist(&mut self) -> Option<PersistId> {
        if self.dirty_hard_state || self.pending_log_write.is_some() || self.dirty_peers {
            self.issue_persist();
        }
        self.in_flight_persists.back().map(|p| p.id)
    }

    /// [`Node::flush_persist`]'s work: one Persist action for everything pending.
    #[inline(never)]
    fn issue_persist(&mut self) {
        let id = PersistId(self.next_persist_id);
        self.next_persist_id += 1;
        let hard_state = self.dirty_hard_state.then_some(self.hard_state);
        let log = self.pending_log_write.take();
        let peers = self.dirty_peers.then(|| Box::new(self.peer_state()));
        self.dirty_hard_state = false;
        self.dirty_peers = false;
        let truncates_to = log.as_ref().map(|w| w.prev_index);
        self.in_flight_persists.push_back(InFlightPersist {
            id,
            hard_state,
            last_index_after: self.log.last_index(),
            truncates_to,
        });
        self.actions.push(Action::Persist {
            id,
            hard_state,
            log,
            peers,
        });
    }

    /// Sends a message that attests this node's state (a vote, an acknowledgement, a vote
    /// request carrying our own vote): it waits for every persist issued so far.
    pub(super) fn send_attesting(&mut self, to: NodeId, message: Message) {
        match self.flush_persist() {
            Some(after) => self.held_messages.push_back((after, to, message)),
            None => self.actions.push(Action::Send { to, message }),
        }
    }

    /// Sends a leader's AppendEntries, which attests nothing: it may leave before the leader's
    /// own write is durable (the leader counts itself only once it is). Pending writes are
    /// issued first so the host can start the fsync in parallel with the network send.
    pub(super) fn send_unattested(&mut self, to: NodeId, message: Message) {
        self.flush_persist();
        self.actions.push(Action::Send { to, message });
    }
}
