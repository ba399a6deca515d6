//! The host's side of the disk: persists submitted to a node's sequential I/O queue, the
//! renames of atomically replaced small files, completions reported back to the node, and
//! WAL compaction after a durable local snapshot.
//!
//! Architecture invariant: a node's persists complete in the order they were submitted, one
//! after another (each takes an fsync latency, slow fsyncs included until the faults stop:
//! a decision keyed by the node life and the persist id), and `persisted` is reported only once the write is synced: the
//! durability contract raft-core's "durable before attested" rests on. WAL bytes are
//! appended (unsynced) at submission and synced at completion; the term/vote, peer-state and
//! snapshot files are replaced atomically, renamed halfway through the write, so a power
//! loss can land between the rename and the directory fsync.
//!
//! A persist completes unless the node loses power first, or a write error armed on the disk
//! fails it (`write_errors.rs`).

use super::events::Event;
use super::trace_text::{write_log_write, NodeOrNone};
use super::{Host, World};
use crate::app::Application;
use crate::config::Micros;
use crate::decisions::{FsyncDraw, Key};
use crate::event;
use crate::put;
use crate::trace::{Lazy, Line};
use raft_core::storage;
use raft_core::{HardState, LogWrite, PersistId};

/// An I/O the host submitted and the disk has not finished.
#[derive(Clone, Debug)]
pub(super) struct PendingIo {
    pub(super) id: PersistId,
    /// Where the WAL ends once this write is synced.
    pub(super) wal_end: usize,
    pub(super) hard_state: Option<HardState>,
    pub(super) log: Option<LogWrite>,
    pub(super) peers: bool,
    pub(super) snapshot: Option<SnapshotIo>,
}

/// The snapshot part of a persist.
#[derive(Clone, Debug)]
pub(super) struct SnapshotIo {
    pub(super) point: SnapshotPoint,
    /// With `discard_log`: the WAL that replaces the old one when the persist completes,
    /// starting at the snapshot.
    pub(super) new_wal: Option<Vec<u8>>,
}

/// The last index and term a snapshot covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SnapshotPoint {
    pub(super) index: u64,
    pub(super) term: u64,
}

/// The small files replaced atomically (write temp, fsync, rename, fsync directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SmallFile {
    TermVote,
    Peers,
    Snapshot,
}

/// A slot of a node's sequential I/O queue.
struct IoSlot {
    start: Micros,
    /// The fsync latency drawn for it.
    latency: Micros,
    done_at: Micros,
}

impl IoSlot {
    /// When a small file written in this slot is renamed into place.
    fn rename_at(&self) -> Micros {
        self.start + self.latency / 2
    }
}

impl<A: Application> World<A> {
    /// The next slot of a node's sequential I/O queue, for its persist `persist`: the
    /// fsync latency is a decision keyed by the node life and the persist id.
    fn io_slot(&mut self, node: usize, persist: PersistId) -> IoSlot {
        let now = self.now;
        let key = Key::Fsync {
            node: node as u8,
            life: self.hosts[node].incarnation,
            persist: persist.0,
        };
        let (config, slow_fsync_ppm) = (&self.config, self.slow_fsync_ppm);
        let draw = self.decisions.fsync(
            key,
            |rng| FsyncDraw {
                latency: rng.between(config.fsync_min_us, config.fsync_max_us),
                slow_by: rng
                    .chance(config.faults.slow_fsync_ppm)
                    .then(|| rng.between(0, config.faults.slow_fsync_max_us)),
            },
            // No slow fsync once the faults have stopped (a replayed draw may come from before).
            |draw| FsyncDraw {
                slow_by: draw.slow_by.filter(|_| slow_fsync_ppm > 0),
                ..draw
            },
        );
        let host = &mut self.hosts[node];
        let latency = draw.latency + draw.slow_by.unwrap_or(0);
        let start = host.io_busy_until.max(now);
        let done_at = start + latency;
        host.io_busy_until = done_at;
        if let Some(extra) = draw.slow_by {
            self.stats.slow_fsyncs += 1;
            self.stats.fault("slow-fsync");
            self.record(event!(now, Some(node), "slow-fsync", extra_us = extra));
        }
        IoSlot {
            start,
            latency,
            done_at,
        }
    }

    /// A snapshot file written atomically; with `discard_log`, the WAL is replaced by one that
    /// starts at the snapshot when the persist completes.
    pub(super) fn submit_snapshot(
        &mut self,
        node: usize,
        persist: PersistId,
        meta: raft_core::SnapshotMeta,
        data: bytes::Bytes,
        discard_log: bool,
    ) {
        let now = self.now;
        let file = storage::encode_snapshot_file(&meta, &data);
        let new_wal = discard_log.then(|| {
            storage::encode_wal_append(meta.index, meta.term, &[], 0)
                .expect("an empty WAL record encodes")
        });
        let slot = self.io_slot(node, persist);
        let host = &mut self.hosts[node];
        let incarnation = host.incarnation;
        let wal_end = host.disk.wal.len();
        let point = SnapshotPoint {
            index: meta.index,
            term: meta.term,
        };
        host.io.push_back(PendingIo {
            id: persist,
            wal_end,
            hard_state: None,
            log: None,
            peers: false,
            snapshot: Some(SnapshotIo { point, new_wal }),
        });
        self.checks.snapshot_submitted(node, point, discard_log);
        let rename = Event::Rename {
            node,
            incarnation,
            bytes: file,
            file: SmallFile::Snapshot,
        };
        self.schedule(slot.rename_at(), rename);
        self.record(event!(
            now,
            Some(node),
            "persist-snapshot",
            id = persist.0,
            index = meta.index,
            term = meta.term,
            discard_log = discard_log,
            done_at = slot.done_at
        ));
        self.schedule(
            slot.done_at,
            Event::PersistDone {
                node,
                incarnation,
                id: persist,
            },
        );
    }

    pub(super) fn submit_io(
        &mut self,
        node: usize,
        persist: PersistId,
        hard_state: Option<HardState>,
        log: Option<LogWrite>,
        peers: Option<raft_core::PeerState>,
    ) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if let (Some(write), Some(_)) = (&log, &peers) {
            host.disk.raise_membership_bound(write);
        }
        if let Some(write) = &log {
            let bytes =
                storage::encode_wal_append(write.prev_index, write.prev_term, &write.entries, 0)
                    .expect("the node produces encodable log writes");
            host.disk.wal.append(&bytes);
        }
        let wal_end = host.disk.wal.len();
        let slot = self.io_slot(node, persist);
        let host = &mut self.hosts[node];
        let incarnation = host.incarnation;
        host.io.push_back(PendingIo {
            id: persist,
            wal_end,
            hard_state,
            log: log.clone(),
            peers: peers.is_some(),
            snapshot: None,
        });
        if let Some(hs) = hard_state {
            let bytes = storage::encode_hard_state(&hs);
            self.schedule(
                slot.rename_at(),
                Event::Rename {
                    node,
                    incarnation,
                    bytes,
                    file: SmallFile::TermVote,
                },
            );
        }
        if let Some(p) = &peers {
            let bytes = storage::encode_peer_state_file(p);
            self.schedule(
                slot.rename_at(),
                Event::Rename {
                    node,
                    incarnation,
                    bytes,
                    file: SmallFile::Peers,
                },
            );
        }
        let two_files = hard_state.is_some() && log.is_some();
        let what = Lazy(|out: &mut Line| match (&hard_state, &log) {
            (Some(hs), Some(w)) => {
                put!(
                    out,
                    "term=",
                    hs.term,
                    " vote=",
                    NodeOrNone(hs.vote),
                    " entries="
                );
                write_log_write(w, out);
            }
            (Some(hs), None) => put!(out, "term=", hs.term, " vote=", NodeOrNone(hs.vote)),
            (None, Some(w)) => {
                put!(out, "entries=");
                write_log_write(w, out);
            }
            (None, None) => {}
        });
        self.record(event!(
            now,
            Some(node),
            "persist",
            id = persist.0,
            what = what,
            done_at = slot.done_at
        ));
        self.schedule(
            slot.done_at,
            Event::PersistDone {
                node,
                incarnation,
                id: persist,
            },
        );
        if two_files {
            // A write that spans the WAL and the term/vote file: where a power loss in the
            // middle tests crash consistency (the event loop tells the nemesis).
            self.node_writes_log_and_term(node);
        }
    }

    /// The rename step of an atomic replacement (of the incarnation that wrote it).
    pub(super) fn on_rename(
        &mut self,
        node: usize,
        incarnation: u64,
        bytes: Vec<u8>,
        file: SmallFile,
    ) {
        if self.hosts[node].incarnation == incarnation {
            let disk = &mut self.hosts[node].disk;
            if file == SmallFile::TermVote {
                disk.term_vote_copy.begin_replace(bytes.clone());
                disk.term_vote_copy.rename();
            }
            let file = match file {
                SmallFile::TermVote => &mut disk.term_vote,
                SmallFile::Peers => &mut disk.peers,
                SmallFile::Snapshot => &mut disk.snapshot,
            };
            file.begin_replace(bytes);
            file.rename();
        }
    }

    /// The oldest persist in flight is synced: the disk, the checkers and then the node learn
    /// it.
    pub(super) fn on_persist_done(&mut self, node: usize, incarnation: u64, persist: PersistId) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation {
            return;
        }
        // A persist that failed with those before it (`write_errors.rs`) left the queue.
        if host.io.front().is_none_or(|p| p.id != persist) {
            return;
        }
        if self.fail_armed_persist(node, persist) {
            return;
        }
        let host = &mut self.hosts[node];
        let Some(done) = host.io.pop_front() else {
            return;
        };
        host.disk.wal.sync_to(done.wal_end);
        if done.hard_state.is_some() {
            host.disk.term_vote.complete();
            host.disk.term_vote_copy.complete();
        }
        if done.peers {
            host.disk.peers.complete();
        }
        let mut snapshot = None;
        if let Some(SnapshotIo { point, new_wal }) = done.snapshot {
            host.disk.snapshot.complete();
            let discard = new_wal.is_some();
            if let Some(bytes) = new_wal {
                // Log writes issued after this snapshot were appended to the old WAL while it
                // was being written; they follow the reset, so they move to the new WAL (still
                // unsynced), and their pending offsets with them.
                let wal = &mut host.disk.wal;
                let end = done.wal_end.min(wal.len());
                let later = wal.bytes()[end..].to_vec();
                let new_end = bytes.len();
                wal.replace(bytes);
                wal.append(&later);
                for pending in host.io.iter_mut() {
                    pending.wal_end = pending.wal_end.saturating_sub(end) + new_end;
                }
            } else {
                host.compact_wal_to = Some(point);
            }
            snapshot = Some((point, discard));
        }
        self.checks
            .persisted(now, node, snapshot, done.hard_state, done.log.as_ref());
        let host = &mut self.hosts[node];
        if host.io.is_empty() && compact_wal(host) {
            self.stats.wal_compactions += 1;
        }
        let Some(raft) = host.node.as_mut() else {
            return;
        };
        let mut actions = std::mem::take(&mut self.spare_actions);
        match raft.persisted_into(persist, &mut actions) {
            Ok(()) => self.execute(node, actions),
            Err(e) => panic!("simulated host broke the persist contract: {e}"),
        }
        self.note_repair(node);
    }
}

/// Rewrites the WAL without the records a durable local snapshot covers, so that a restart
/// reads only the tail (the host's side of [`raft_core::Action::PersistSnapshot`] without
/// `discard_log`). Runs only when no write is in flight, so every byte is synced and no
/// pending write's offset moves. The rewrite is a whole-file atomic replace (temp file,
/// fsync, rename): a crash before or after it recovers the same log, because recovery drops
/// the entries the snapshot covers, so it is modelled as instantaneous. A WAL that does not
/// decode cleanly is left as it is, for recovery to judge. Returns whether it rewrote.
fn compact_wal<A: Application>(host: &mut Host<A>) -> bool {
    let Some(SnapshotPoint { index, term }) = host.compact_wal_to.take() else {
        return false;
    };
    let wal = &mut host.disk.wal;
    if wal.synced_len() != wal.len() {
        return false;
    }
    let recovered = storage::recover_wal(wal.bytes());
    if recovered.verdict != storage::WalVerdict::Clean || recovered.log_start.0 >= index {
        return false;
    }
    let from = recovered
        .entries
        .iter()
        .position(|e| e.index > index)
        .unwrap_or(recovered.entries.len());
    let covers = from > 0
        && recovered.entries[from - 1].index == index
        && recovered.entries[from - 1].term == term;
    if !covers {
        return false;
    }
    let bytes = storage::encode_wal_append(index, term, &recovered.entries[from..], 0)
        .expect("entries that decoded encode again");
    wal.replace(bytes);
    true
}
