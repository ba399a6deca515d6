//! Snapshots: compaction on the application's word, the leader sending its snapshot in
//! chunks, and the follower receiving and installing one.

use super::replication::Replicator;
use super::{Node, SnapshotError};
use crate::action::{Action, Role};
use crate::membership::Membership;
use crate::message::{InstallSnapshot, Message, SnapshotResponse};
use crate::progress::{Progress, ProgressState};
use crate::types::{NodeId, Snapshot, SnapshotMeta};
use bytes::Bytes;

/// A snapshot a follower is receiving from its leader, chunk by chunk (memory only: a crash
/// loses it and the transfer starts over).
#[derive(Clone, Debug)]
pub(super) struct IncomingSnapshot {
    /// The term of the leader that sends it.
    pub(super) term: u64,
    pub(super) meta: SnapshotMeta,
    pub(super) data: Vec<u8>,
}

impl Node {
    /// The application's state at applied index `index` is `data`: compact the log up to
    /// `index` (NRG `InstallSnapshot`). The node drops the entries up to `index` from memory,
    /// keeps the snapshot to send to followers that need them, and emits
    /// [`Action::PersistSnapshot`] (`discard_log: false`): the host writes the snapshot file
    /// and may then drop the WAL records up to `index`.
    ///
    /// Refused unless `index` is applied ([`SnapshotError::NotApplied`]) and past the current
    /// snapshot ([`SnapshotError::Stale`]), and while a snapshot checkpoint is open
    /// ([`SnapshotError::InProgress`]; [`Node::force_install_snapshot`] aborts it instead).
    pub fn install_snapshot(
        &mut self,
        index: u64,
        data: impl Into<Bytes>,
    ) -> Result<Vec<Action>, SnapshotError> {
        self.check_snapshot_index(index)?;
        if let Some(previous) = self.snapshot_in_progress() {
            return Err(SnapshotError::InProgress { previous });
        }
        self.compact_to(index, data.into());
        Ok(self.finish())
    }

    /// A snapshot of the application at `index` compacts the log only past the current
    /// snapshot and up to what is applied, and never once a persist failed (the snapshot's
    /// own persist could not be issued).
    pub(super) fn check_snapshot_index(&self, index: u64) -> Result<(), SnapshotError> {
        self.check_storage_writable()?;
        let snapshot_index = self.log.start_index();
        if index <= snapshot_index {
            return Err(SnapshotError::Stale {
                index,
                snapshot_index,
            });
        }
        if index > self.applied_index {
            return Err(SnapshotError::NotApplied {
                index,
                applied: self.applied_index,
            });
        }
        Ok(())
    }

    /// A snapshot needs a persist, which a node whose persist failed no longer issues
    /// (`write_error.rs`).
    pub(super) fn check_storage_writable(&self) -> Result<(), SnapshotError> {
        match self.write_error {
            Some(error) => Err(SnapshotError::WriteFailed { error }),
            None => Ok(()),
        }
    }

    /// Rule (compaction): the application's state at applied index `index` is `data`: the
    /// entries up to `index` leave memory, the snapshot (with the membership at `index`) is
    /// kept to send to followers, and its persist is issued. It closes the open checkpoint
    /// (this is its second step, or a forced snapshot that aborts it).
    pub(super) fn compact_to(&mut self, index: u64, data: Bytes) {
        self.outbox.flush();
        let meta = SnapshotMeta {
            index,
            term: self
                .log
                .term_at(index)
                .expect("applied entries are in the log"),
            peers: self.membership.at(index).to_peer_state(),
        };
        self.log.compact(index);
        self.membership.compacted_to(index);
        self.checkpoint = None;
        let snapshot = Snapshot { meta, data };
        self.outbox.persist_snapshot(&snapshot, false, &self.log);
        self.snapshot = Some(snapshot);
    }

    /// Rule (snapshots, NRG #6056): a node does not campaign while a snapshot it received is
    /// not applied yet: until then its application lags its commit index, and as leader it
    /// would serve from a state machine that misses committed entries.
    pub(super) fn snapshot_unapplied(&self) -> bool {
        self.applied_index < self.received_snapshot_index
    }

    /// Rules for a snapshot response at the leader (only of this term, from a peer it
    /// tracks): "done" means the follower durably holds everything up to `index` — it counts
    /// toward commit like an acknowledgement, and replication resumes after it; otherwise the
    /// follower asks for the snapshot in transfer from `next_offset` (the next chunk, or 0
    /// after a restart lost what it had), which leaves at once — unless that chunk is the one
    /// already in flight (the answer is a duplicate or a late one: one chunk in flight).
    pub(super) fn handle_snapshot_response(&mut self, from: NodeId, response: SnapshotResponse) {
        if self.role != Role::Leader
            || response.term != self.hard_state.term
            || response.peer != from
        {
            return;
        }
        let last_index = self.log.last_index();
        let resend_after_install = planted!(self, SnapshotResentAfterInstall);
        let resend_stale_answer = planted!(self, StaleSnapshotAnswerResends);
        let Some(progress) = self
            .leadership
            .as_mut()
            .and_then(|l| l.progress.get_mut(&from))
        else {
            return;
        };
        progress.recent_active = true;
        if response.done {
            if response.index > last_index {
                return; // holds entries we never had: malformed
            }
            if resend_after_install
                && progress.state == ProgressState::Snapshot
                && response.index == progress.snapshot_index
            {
                // The bug: the finished transfer is taken for a request to start it over.
                progress.snapshot_requested(0);
            } else if progress.snapshot_installed(response.index) {
                self.advance_leader_commit();
            }
        } else if progress.state == ProgressState::Snapshot
            && response.index == progress.snapshot_index
        {
            if progress.snapshot_chunk_sent
                && response.next_offset == progress.snapshot_offset
                && !resend_stale_answer
            {
                // Asks for the chunk already in flight: a duplicated or late answer. Sending
                // that chunk again would put a second chunk stream on the wire, and each of
                // its answers would be taken for a request too, for the rest of the transfer.
                return;
            }
            progress.snapshot_requested(response.next_offset);
        } else {
            return; // about a snapshot no longer in transfer
        }
        self.send_append(from);
        self.send_timeout_now_once_caught_up(from);
    }

    /// Rules for a received snapshot chunk:
    /// - a lower term is answered with ours, so the stale leader steps down;
    /// - otherwise the sender is the leader of our term (as for an AppendEntries);
    /// - a snapshot at or below the commit index is stale (delayed, duplicated, or already
    ///   installed) and never moves the node backwards; the answer "done" (after every
    ///   persist in flight) moves the leader on;
    /// - chunks are taken in order: offset 0 starts the transfer over (unless a newer
    ///   snapshot of this or a later term is in progress); a chunk at any other offset than
    ///   the one expected is answered with the expected offset (0 when nothing of that
    ///   snapshot was received, as after a restart);
    /// - the last chunk installs the snapshot, and the answer "done" leaves only once it is
    ///   durable.
    pub(super) fn handle_install_snapshot(&mut self, message: InstallSnapshot) {
        let leader = message.leader;
        let index = message.meta.index;
        if message.term < self.hard_state.term {
            let response = self.snapshot_response(index, 0, false);
            self.outbox.send_attesting(leader, response);
            return;
        }
        if !self.follow_leader(leader) {
            return;
        }
        if index <= self.commit_index {
            let response = self.snapshot_response(index, 0, true);
            self.outbox.send_attesting(leader, response);
            return;
        }
        let restart = message.offset == 0
            && self
                .incoming_snapshot
                .as_ref()
                .is_none_or(|i| (message.term, index) >= (i.term, i.meta.index));
        if restart {
            self.incoming_snapshot = Some(IncomingSnapshot {
                term: message.term,
                meta: message.meta.clone(),
                data: Vec::new(),
            });
        }
        let mut incoming = match self.incoming_snapshot.take() {
            Some(i) if i.meta == message.meta && i.data.len() as u64 == message.offset => i,
            other => {
                // Not the chunk expected: ask for the one that is.
                let expected = match &other {
                    Some(i) if i.meta == message.meta => i.data.len() as u64,
                    _ => 0,
                };
                self.incoming_snapshot = other;
                let response = self.snapshot_response(index, expected, false);
                self.outbox.send_unattested(leader, response);
                return;
            }
        };
        incoming.data.extend_from_slice(&message.data);
        let received = incoming.data.len() as u64;
        if !message.done {
            self.incoming_snapshot = Some(incoming);
            let response = self.snapshot_response(index, received, false);
            self.outbox.send_unattested(leader, response);
            return;
        }
        self.install_received_snapshot(Snapshot {
            meta: incoming.meta,
            data: incoming.data.into(),
        });
        let response = self.snapshot_response(index, received, true);
        self.outbox.send_attesting(leader, response);
    }

    fn snapshot_response(&self, index: u64, next_offset: u64, done: bool) -> Message {
        Message::SnapshotResponse(SnapshotResponse {
            term: self.hard_state.term,
            peer: self.config.id,
            index,
            next_offset,
            done,
        })
    }

    /// Rule (snapshots): a snapshot received from the leader replaces the log up to its
    /// index. The entries after it are kept only when the log holds the snapshot's last entry
    /// (same index and term); otherwise the whole log goes, a conflicting entry at the
    /// snapshot's index included. The membership becomes the snapshot's (then the kept
    /// entries'), the commit index moves to the snapshot, and the application is handed the
    /// snapshot ([`Action::ApplySnapshot`], held back while paused).
    fn install_received_snapshot(&mut self, snapshot: Snapshot) {
        let (index, term) = (snapshot.meta.index, snapshot.meta.term);
        self.outbox.flush();
        let keep_log = self.log.term_at(index) == Some(term);
        self.abort_checkpoint();
        if keep_log {
            self.log.compact(index);
        } else {
            self.log.reset(index, term);
        }
        let before = self.membership.current().clone();
        if planted!(self, SnapshotKeepsStaleMembership) && !keep_log {
            // The bug: the membership of the discarded log (an uncommitted change above the
            // snapshot's index) outlives the entry that made it.
            self.membership.reset(before.clone());
        } else {
            self.membership
                .reset(Membership::from_peer_state(&snapshot.meta.peers));
        }
        self.membership.appended(self.log.entries());
        if *self.membership.current() != before {
            self.membership_changed();
        }
        self.commit_index = index;
        self.apply_handed_out = index;
        self.received_snapshot_index = index;
        self.outbox
            .persist_snapshot(&snapshot, !keep_log, &self.log);
        self.snapshot = Some(snapshot.clone());
        if self.paused {
            self.snapshot_to_apply = Some(snapshot);
        } else {
            self.outbox.apply_snapshot(snapshot.meta, snapshot.data);
        }
    }
}

impl Replicator<'_> {
    /// Rule (snapshots): a follower that needs entries the leader compacted gets the leader's
    /// snapshot in chunks of at most [`Config::max_bytes_per_message`] bytes, one chunk in
    /// flight (flow control per follower; the leader serves the others meanwhile). A chunk
    /// with no answer is resent at the next heartbeat. A newer snapshot replaces one in
    /// transfer, from offset 0.
    ///
    /// [`Config::max_bytes_per_message`]: crate::Config::max_bytes_per_message
    pub(super) fn send_snapshot_chunk(&mut self, peer: NodeId, progress: &mut Progress) {
        let Some(snapshot) = self.snapshot else {
            return;
        };
        if progress.state != ProgressState::Snapshot
            || progress.snapshot_index != snapshot.meta.index
        {
            progress.start_snapshot(snapshot.meta.index);
        }
        if progress.snapshot_chunk_sent {
            return;
        }
        let len = snapshot.data.len();
        let offset = usize::try_from(progress.snapshot_offset)
            .unwrap_or(usize::MAX)
            .min(len);
        let end = offset
            .saturating_add(self.config.max_bytes_per_message)
            .min(len);
        progress.snapshot_chunk_sent = true;
        let message = Message::InstallSnapshot(Box::new(InstallSnapshot {
            term: self.term,
            leader: self.id,
            meta: snapshot.meta.clone(),
            offset: offset as u64,
            data: snapshot.data.slice(offset..end),
            done: end == len,
        }));
        self.outbox.send_unattested(peer, message);
    }
}
