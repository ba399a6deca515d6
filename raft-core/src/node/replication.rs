//! The leader's sends: what each follower is missing, within its flow-control window, and the
//! heartbeats that repair lost messages.
//!
//! A [`Replicator`] borrows only what building and sending a follower's messages needs (the
//! log, the snapshot, the limits, the outbox), so the leader can hold that follower's
//! [`Progress`] and update it as it sends: no second lookup of the progress, and no
//! allocation to walk the followers.

use super::log_cache::LogReads;
use super::outbox::Outbox;
use super::Node;
use crate::config::Config;
use crate::log::Log;
use crate::message::{AppendEntries, Message};
use crate::progress::{Progress, ProgressMap, ProgressState};
use crate::types::{Entry, NodeId, Snapshot};

/// A leader's view for sending to its followers (see the module documentation).
pub(super) struct Replicator<'a> {
    pub(super) id: NodeId,
    pub(super) term: u64,
    pub(super) commit: u64,
    /// The read round every AppendEntries carries: the latest while reads wait, else 0 (so
    /// without reads the bytes are NRG's and followers send no ReadAck).
    pub(super) read_seq: u64,
    pub(super) config: &'a Config,
    pub(super) log: &'a Log,
    /// The latest snapshot, for followers that need compacted entries.
    pub(super) snapshot: Option<&'a Snapshot>,
    pub(super) outbox: &'a mut Outbox,
    /// Payloads read back from storage, and the read in flight (`log_cache.rs`).
    pub(super) log_reads: &'a mut LogReads,
}

impl Node {
    /// While leading: the followers' progress and a replicator to send to them with.
    pub(super) fn replicator(&mut self) -> Option<(&mut ProgressMap, Replicator<'_>)> {
        let leadership = self.leadership.as_mut()?;
        let replicator = Replicator {
            id: self.config.id,
            term: self.hard_state.term,
            commit: self.commit_index,
            read_seq: leadership.reads.seq_on_the_wire(),
            config: &self.config,
            log: &self.log,
            snapshot: self.snapshot.as_ref(),
            outbox: &mut self.outbox,
            log_reads: &mut self.log_reads,
        };
        Some((&mut leadership.progress, replicator))
    }

    /// Sends every follower what it is missing (new entries, usually).
    pub(super) fn replicate_to_all(&mut self) {
        let Some((followers, mut replicator)) = self.replicator() else {
            return;
        };
        for (&peer, progress) in followers.iter_mut() {
            replicator.send_append(peer, progress);
        }
    }

    /// Sends `peer` what it is missing (see [`Replicator::send_append`]).
    pub(super) fn send_append(&mut self, peer: NodeId) {
        let Some((followers, mut replicator)) = self.replicator() else {
            return;
        };
        if let Some(progress) = followers.get_mut(&peer) {
            replicator.send_append(peer, progress);
        }
    }

    /// Rule: every heartbeat interval the leader tells each follower its commit index and
    /// resends whatever is not acknowledged, so lost messages are repaired within one interval.
    pub(super) fn broadcast_heartbeat(&mut self) {
        let Some((followers, mut replicator)) = self.replicator() else {
            return;
        };
        let last_index = replicator.log.last_index();
        for (&peer, progress) in followers.iter_mut() {
            progress.retransmit();
            // A snapshot in transfer: its chunk is resent (a stalled transfer resumes).
            if progress.next_index <= last_index || progress.state == ProgressState::Snapshot {
                replicator.send_append(peer, progress);
            } else {
                let heartbeat = replicator.heartbeat_from(progress.next_index);
                replicator
                    .outbox
                    .send_unattested(peer, Message::AppendEntries(heartbeat));
            }
        }
    }
}

impl Replicator<'_> {
    /// Sends `peer` what it is missing, as far as its flow-control window allows, and records
    /// it in `progress`. One message carries entries of a single term (the NRG layout has one
    /// entry term per message). A follower that needs compacted entries gets the snapshot.
    pub(super) fn send_append(&mut self, peer: NodeId, progress: &mut Progress) {
        loop {
            if progress.state == ProgressState::Snapshot {
                self.send_snapshot_chunk(peer, progress);
                return;
            }
            if progress.next_index > self.log.last_index()
                || !progress.can_send(self.config.max_inflight_messages)
            {
                return;
            }
            let from = progress.next_index;
            if from <= self.log.start_index() {
                // What it needs next is compacted: it gets the snapshot instead.
                self.send_snapshot_chunk(peer, progress);
                return;
            }
            let Some(append) = self.append_from(from) else {
                // Its next payloads left memory: they are read back first, and the answer
                // sends them (`log_cache.rs`).
                self.log_reads
                    .request(self.log, from, self.config, self.outbox);
                return;
            };
            progress.sent(append.prev_index + append.entries.len() as u64);
            self.outbox
                .send_unattested(peer, Message::AppendEntries(append));
        }
    }

    /// The AppendEntries that continues a follower's log at `from` with entries (flow
    /// control: at most [`Config::max_entries_per_message`] entries and
    /// [`Config::max_bytes_per_message`] data bytes, but always at least one entry so an
    /// oversized entry still travels). Entries whose payload left memory come from the
    /// payloads read back; the message stops before the first that is not there, and there
    /// is none (`None`) when that is the first.
    pub(super) fn append_from(&self, from: u64) -> Option<AppendEntries> {
        let mut append = self.heartbeat_from(from);
        let limit = from + self.config.max_entries_per_message as u64 - 1;
        let mut bytes = 0usize;
        let slice = self.log.slice(from, limit);
        append.entries.reserve_exact(slice.len());
        for entry in slice {
            if append
                .entries
                .first()
                .is_some_and(|first: &Entry| first.term != entry.term)
            {
                break;
            }
            let entry = if self.log.payload_evicted(entry.index) {
                match self.log_reads.payload(entry) {
                    Some(read) => read,
                    None => break,
                }
            } else {
                entry
            };
            bytes = bytes.saturating_add(entry.data.len());
            if !append.entries.is_empty() && bytes > self.config.max_bytes_per_message {
                break;
            }
            append.entries.push(entry.clone());
        }
        (!append.entries.is_empty() || slice.is_empty()).then_some(append)
    }

    /// The AppendEntries without entries that continues a follower's log at `from`: a
    /// heartbeat.
    pub(super) fn heartbeat_from(&self, from: u64) -> AppendEntries {
        let prev_index = from - 1;
        let prev_term = self
            .log
            .term_at(prev_index)
            .expect("next index within the log");
        AppendEntries {
            leader: self.id,
            term: self.term,
            commit: self.commit,
            prev_term,
            prev_index,
            entries: Vec::new(),
            read_seq: self.read_seq,
        }
    }
}
