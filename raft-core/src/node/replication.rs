//! The leader's sends: what each follower is missing, within its flow-control window, and the
//! heartbeats that repair lost messages.

use super::Node;
use crate::message::{AppendEntries, Message};
use crate::progress::ProgressState;
use crate::types::{Entry, NodeId};

impl Node {
    pub(super) fn replicate_to_all(&mut self) {
        let mut peer = self.peer_after(None);
        while let Some(p) = peer {
            self.send_append(p);
            peer = self.peer_after(Some(p));
        }
    }

    /// The leader's next peer in id order after `after` (the first when None). Walking the
    /// peers this way instead of collecting them saves an allocation per proposal.
    fn peer_after(&self, after: Option<NodeId>) -> Option<NodeId> {
        self.leadership.as_ref()?.progress.peer_after(after)
    }

    /// Sends `peer` what it is missing, as far as its flow-control window allows. One message
    /// carries entries of a single term (the NRG layout has one entry term per message).
    pub(super) fn send_append(&mut self, peer: NodeId) {
        loop {
            let last_index = self.log.last_index();
            let Some(progress) = self.leadership.as_ref().and_then(|l| l.progress.get(&peer))
            else {
                return;
            };
            if progress.state == ProgressState::Snapshot {
                self.send_snapshot_chunk(peer);
                return;
            }
            if progress.next_index > last_index
                || !progress.can_send(self.config.max_inflight_messages)
            {
                return;
            }
            let from = progress.next_index;
            if from <= self.log.start_index() {
                // What it needs next is compacted: it gets the snapshot instead.
                self.send_snapshot_chunk(peer);
                return;
            }
            let message = self.build_append(from, true);
            let sent_last = match &message {
                Message::AppendEntries(m) => m.prev_index + m.entries.len() as u64,
                _ => unreachable!("build_append builds AppendEntries"),
            };
            let progress = self
                .leadership
                .as_mut()
                .and_then(|l| l.progress.get_mut(&peer))
                .expect("checked above");
            progress.sent(sent_last);
            self.outbox.send_unattested(peer, message);
        }
    }

    fn build_append(&self, from: u64, with_entries: bool) -> Message {
        let prev_index = from - 1;
        let prev_term = self
            .log
            .term_at(prev_index)
            .expect("next index within the log");
        let mut entries = Vec::new();
        if with_entries {
            // Flow control: at most max_entries_per_message entries and max_bytes_per_message
            // data bytes, but always at least one entry so an oversized entry still travels.
            let limit = from + self.config.max_entries_per_message as u64 - 1;
            let mut bytes = 0usize;
            let slice = self.log.slice(from, limit);
            entries.reserve_exact(slice.len());
            for entry in slice {
                if entries
                    .first()
                    .is_some_and(|first: &Entry| first.term != entry.term)
                {
                    break;
                }
                bytes = bytes.saturating_add(entry.data.len());
                if !entries.is_empty() && bytes > self.config.max_bytes_per_message {
                    break;
                }
                entries.push(entry.clone());
            }
        }
        Message::AppendEntries(AppendEntries {
            leader: self.config.id,
            term: self.hard_state.term,
            commit: self.commit_index,
            prev_term,
            prev_index,
            entries,
            read_seq: self.read_seq_on_the_wire(),
        })
    }

    /// Rule: every heartbeat interval the leader tells each follower its commit index and
    /// resends whatever is not acknowledged, so lost messages are repaired within one interval.
    pub(super) fn broadcast_heartbeat(&mut self) {
        let last_index = self.log.last_index();
        let mut next = self.peer_after(None);
        while let Some(peer) = next {
            next = self.peer_after(Some(peer));
            let progress = self
                .leadership
                .as_mut()
                .and_then(|l| l.progress.get_mut(&peer))
                .expect("peer listed");
            progress.retransmit();
            let next_index = progress.next_index;
            // A snapshot in transfer: its chunk is resent (a stalled transfer resumes).
            if next_index <= last_index || progress.state == ProgressState::Snapshot {
                self.send_append(peer);
            } else {
                let heartbeat = self.build_append(next_index, false);
                self.outbox.send_unattested(peer, heartbeat);
            }
        }
    }
}
