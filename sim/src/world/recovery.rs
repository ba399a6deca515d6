//! Power losses and boots: what a crash takes from a host, and how a node comes back from
//! what its disk holds, through raft-core's own recovery code.
//!
//! Architecture invariant: a node boots only from its disk. Memory, unsynced writes (torn at
//! sector boundaries, or not) and small-file replacements not yet renamed are lost with the
//! power; the WAL, the term/vote file, the peer-state file and the snapshot file are decoded
//! by raft-core's storage code, exactly as a real host would. A torn unsynced tail is
//! dropped. Damage inside synced data (WAL, snapshot, peer-state file) is handed to the node
//! as the position of the log it held (`Recovered::damage`): it rejoins and is repaired by
//! the leader (`repair.rs`). Only a damaged term/vote file stops the node for the run
//! (`Status::Stopped`): without its vote record it could vote twice in a term.

use super::disk_io::SnapshotPoint;
use super::events::Event;
use super::repair::DiskDamage;
use super::trace_text::NodeOrNone;
use super::{id, Host, Status, World};
use crate::app::{Application, Replica};
use crate::config::Micros;
use crate::decisions::{Key, PowerLossDraw};
use crate::disk::{CrashEffect, Disk};
use crate::event;
use crate::planted::SimBug;
use raft_core::storage;
use raft_core::storage::VoteRecord;
use raft_core::{Config, EntryKind, LogDamage, Node, Recovered};

impl<A: Application> Host<A> {
    /// The machine loses power: the node's memory goes, with its I/O in flight, its inbox
    /// and its application's pending requests; the disk keeps what `Disk::crash` leaves.
    fn power_loss(&mut self, now: Micros, draw: PowerLossDraw) -> CrashEffect {
        let effect = self.disk.crash(draw);
        self.node = None;
        self.status = Status::Down;
        self.incarnation += 1;
        self.io.clear();
        self.compact_wal_to = None;
        self.checkpoint = None;
        self.io_busy_until = now;
        self.waiting.clear();
        self.paused_inbox.clear();
        self.reads.clear();
        self.reads_waiting.clear();
        effect
    }
}

impl<A: Application> World<A> {
    /// A power loss of a running (or paused) node; it boots again `down_us` later.
    pub(super) fn crash(&mut self, node: usize, down_us: Micros) {
        let now = self.now;
        let torn_write_ppm = self.config.faults.torn_write_ppm;
        if !matches!(self.hosts[node].status, Status::Up | Status::Paused) {
            return;
        }
        let key = Key::PowerLoss {
            node: node as u8,
            life: self.hosts[node].incarnation,
        };
        let draw = self
            .decisions
            .power_loss(key, |rng| Disk::draw_power_loss(rng, torn_write_ppm));
        let host = &mut self.hosts[node];
        let effect = host.power_loss(now, draw);
        let incarnation = host.incarnation;
        let unsent = self.take_unsent(node);
        self.checks.crashed(node);
        if effect.torn {
            self.stats.fault("torn-write");
        }
        self.record(event!(
            now,
            Some(node),
            "crash",
            unsynced = effect.unsynced_bytes,
            kept = effect.kept_bytes,
            torn = effect.torn,
            down_us = down_us
        ));
        self.record_unsent(node, unsent);
        self.schedule(now + down_us, Event::Restart { node, incarnation });
    }

    /// The machine of `node` is lost for good (a disaster: the machine and its disk are
    /// gone): it loses power and never boots again, and the checkers know it will neither
    /// campaign nor vote again (see `checkers/rescue.rs`).
    pub(super) fn lose(&mut self, node: usize) {
        self.crash(node, Micros::MAX / 4);
        self.hosts[node].status = Status::Stopped("lost for good".into());
        self.checks.lost(node);
        self.record(event!(self.now, Some(node), "lost"));
    }

    /// A crashed node's downtime is over (unless something restarted it meanwhile).
    pub(super) fn on_restart(&mut self, node: usize, incarnation: u64) {
        if self.hosts[node].incarnation == incarnation && self.hosts[node].status == Status::Down {
            self.start_node(node);
        }
    }

    /// The node's configuration for its current life; the election timer's seed is a
    /// decision keyed by the node life.
    fn node_config(&mut self, node: usize) -> Config {
        let seed = self
            .decisions
            .election_seed(node, self.hosts[node].incarnation);
        let c = &self.config;
        let config = Config {
            id: id(node),
            voters: (0..c.nodes - c.faults.spare_nodes).map(id).collect(),
            election_timeout_min: c.election_timeout_min_ticks,
            election_timeout_max: c.election_timeout_max_ticks,
            heartbeat_interval: c.heartbeat_ticks,
            seed,
            max_entries_per_message: c.max_entries_per_message,
            max_inflight_messages: c.max_inflight_messages,
            max_bytes_per_message: c.max_bytes_per_message(),
            max_uncommitted_entries: c.overrun_threshold,
            pre_vote: c.pre_vote_check_quorum,
            check_quorum: c.pre_vote_check_quorum,
            log_cache_bytes: c.log_cache.map(|cache| cache.bytes),
            managed: false,
            repair_by_election: true,
        };
        match &self.scripted {
            Some(script) => script.configure(node, config),
            None => config,
        }
    }

    /// Recovery found damage it must not paper over: the node stops for the run.
    fn stop(&mut self, node: usize, reason: String) {
        self.stats.corruption_detected += 1;
        self.checks.stopped(self.now, node, &reason);
        self.record(event!(self.now, Some(node), "stopped", reason = &reason));
        self.hosts[node].status = Status::Stopped(reason);
    }

    /// Boots a node from its disk through raft-core's recovery code.
    pub(super) fn start_node(&mut self, node: usize) {
        let now = self.now;
        let host = &mut self.hosts[node];
        if host.disk.read_error_armed {
            host.disk.read_error_armed = false;
            self.stats.read_errors += 1;
            self.record(event!(now, Some(node), "read-error", retry_in_us = 100_000));
            let incarnation = self.hosts[node].incarnation;
            self.schedule(now + 100_000, Event::Restart { node, incarnation });
            return;
        }
        self.apply_armed_damage(node);
        let read = match read_disk(&self.hosts[node].disk) {
            Ok(read) => read,
            // Without its vote record a node could vote twice in a term.
            Err(reason) => return self.stop(node, reason),
        };
        let DiskRead {
            hard_state,
            vote_record,
            torn_tail,
            log,
            membership,
            membership_bound,
            snapshot,
            damage,
            found,
            wal_unusable,
        } = read;
        if let Some((valid_len, dropped_bytes)) = torn_tail {
            self.stats.torn_tails_dropped += 1;
            self.hosts[node].disk.wal.truncate(valid_len);
            self.record(event!(
                now,
                Some(node),
                "torn-tail-dropped",
                bytes = dropped_bytes
            ));
        }
        let mut replica = A::Replica::new(&self.config);
        if let Some(s) = &snapshot {
            if let Err(e) = replica.restore(&s.meta, &s.data) {
                panic!("snapshots hold a state this host wrote: {e}");
            }
        }
        self.plant_in_replica(&mut replica);
        let snapshot_point = snapshot.as_ref().map(|s| SnapshotPoint {
            index: s.meta.index,
            term: s.meta.term,
        });
        let recovered = Recovered {
            hard_state,
            log,
            membership,
            snapshot,
            damage,
            vote_record,
            membership_bound,
        };
        if vote_record == VoteRecord::CopyDamaged {
            // The surviving copy is the record: both copies hold it again before the node
            // acts, so damage to the other one later still leaves one.
            let bytes = storage::encode_hard_state(&hard_state);
            self.hosts[node].disk.write_term_vote_now(bytes);
            self.stats.term_vote_copies_rewritten += 1;
        }
        let config = self.node_config(node);
        let log_for_checks = recovered.log.clone();
        match Node::new(config, recovered) {
            #[allow(unused_mut)]
            Ok(mut raft) => {
                #[cfg(feature = "planted-bugs")]
                if let Some(bug) = self.planted {
                    if let Err(e) = raft.plant(bug) {
                        return self.stop(node, format!("recovered state refused: {e}"));
                    }
                }
                self.checks.started(now, node, raft.hard_state());
                let answers_for = raft.repairing();
                // What the node answers for is durable before it acts: a later crash (after
                // a snapshot reset the WAL, say) must not let it answer for less.
                let file = answers_for.map_or(Vec::new(), |d| storage::encode_damage_file(&d));
                if file.as_slice() != self.hosts[node].disk.repair.bytes() {
                    self.hosts[node].disk.repair.write_now(file);
                }
                self.checks.recovered(
                    now,
                    node,
                    hard_state,
                    &log_for_checks,
                    snapshot_point,
                    answers_for.is_some(),
                );
                self.found_damage(node, &found, answers_for);
                if wal_unusable && !self.sim_bug(SimBug::RepairedDamageLeftOnDisk) {
                    // Only now that the damage file holds what the node answers for: a crash
                    // before this finds the damaged WAL again, one after finds the file.
                    let bytes = super::repair::wal_of(&raft);
                    let len = bytes.len();
                    self.hosts[node].disk.wal.replace(bytes);
                    self.record(event!(now, Some(node), "wal-rewritten", bytes = len));
                }
                // The log it starts with, a snapshot included (the WAL may hold only the tail).
                let last_index = raft.last_index();
                let host = &mut self.hosts[node];
                host.node = Some(raft);
                host.status = Status::Up;
                host.replica = replica;
                host.leader_hint = None;
                let incarnation = host.incarnation;
                let tick_us = host.tick_us;
                self.record(event!(
                    now,
                    Some(node),
                    "start",
                    term = hard_state.term,
                    vote = NodeOrNone(hard_state.vote),
                    last_index = last_index
                ));
                if self.scripted.is_none() {
                    self.schedule(now + tick_us, Event::Tick { node, incarnation });
                }
            }
            Err(e) => self.stop(node, format!("recovered state refused: {e}")),
        }
    }

    /// What a boot found damaged, for the trace and the counts: the node rejoins to be
    /// repaired (`repair.rs`), or is whole already.
    fn found_damage(&mut self, node: usize, found: &[String], answers_for: Option<LogDamage>) {
        let host = &mut self.hosts[node];
        if found.is_empty() && answers_for.is_none() {
            if host.damage == DiskDamage::Latent {
                // The strike hit nothing this boot reads (a file replaced since).
                host.damage = DiskDamage::Intact;
            }
            return;
        }
        // A boot during a repair finds the same damage again: one damaged node, not two.
        let again = host.damage == DiskDamage::Repairing;
        host.damage = if answers_for.is_some() {
            DiskDamage::Repairing
        } else {
            DiskDamage::Intact
        };
        if !again {
            self.stats.nodes_damaged += 1;
            if answers_for.is_none() {
                self.stats.nodes_repaired += 1;
            }
        }
        let found = if found.is_empty() {
            "the damage file".to_string()
        } else {
            found.join("; ")
        };
        let answers = answers_for.map_or("nothing (whole)".to_string(), |d| d.to_string());
        self.record(event!(
            self.now,
            Some(node),
            "damaged",
            found = found,
            answers_for = answers
        ));
    }
}

/// What a boot reads from a disk, through raft-core's decoders.
pub(super) struct DiskRead {
    pub(super) hard_state: raft_core::HardState,
    /// Whether a copy of the term/vote record was damaged (the host rewrites it).
    pub(super) vote_record: VoteRecord,
    /// A torn unsynced tail to cut: (valid length, bytes dropped).
    pub(super) torn_tail: Option<(usize, usize)>,
    pub(super) log: Vec<raft_core::Entry>,
    pub(super) membership: Option<raft_core::PeerState>,
    /// The membership-bound file's index; `None` when it cannot be read.
    pub(super) membership_bound: Option<u64>,
    pub(super) snapshot: Option<raft_core::Snapshot>,
    /// The log the node must answer for, when damage took part of it.
    pub(super) damage: Option<LogDamage>,
    /// What was found damaged, for the trace.
    pub(super) found: Vec<String>,
    /// The WAL holds records the node's log does not take (damaged ones, those after
    /// them, or a log that does not link to the snapshot): the host replaces it by the
    /// node's log once what the node answers for is durable.
    pub(super) wal_unusable: bool,
}

/// Decodes a disk as a boot does, without changing it. `Err` when the node cannot answer
/// for what it lost: the term/vote record.
pub(super) fn read_disk(disk: &Disk) -> Result<DiskRead, String> {
    let wal = storage::recover_wal(disk.wal.bytes());
    let term_vote = storage::recover_term_vote(&disk.term_vote_copies());
    let mut found = Vec::new();
    for (copy, error) in &term_vote.damaged {
        found.push(format!("{}: {error}", storage::TERM_VOTE_COPIES[*copy]));
    }
    if term_vote.record == VoteRecord::Lost {
        // Without the record of its term a node could vote twice in a term, and acknowledge
        // a deposed leader's appends it had promised to refuse (ARCHITECTURE.md).
        return Err(format!(
            "every copy of the term/vote record is lost: {}",
            found.join("; ")
        ));
    }
    let hard_state = term_vote.hard_state;
    let mut damage = wal.damage(hard_state.term);
    let mut wal_unusable = damage.is_some();
    if damage.is_some() {
        found.push(format!("wal {}", wal.verdict));
    }
    let torn_tail = match wal.verdict {
        storage::WalVerdict::TornTail { dropped_bytes, .. } => Some((wal.valid_len, dropped_bytes)),
        _ => None,
    };
    let wal_start = wal.log_start.0;
    let wal_end = (wal.last_index(), wal.last_term());
    let mut log = wal.entries;
    let snapshot = if disk.snapshot.bytes().is_empty() {
        None
    } else {
        match storage::decode_snapshot_file(disk.snapshot.bytes()) {
            Ok(s) => Some(s),
            Err(e) => {
                found.push(format!("snapshot file: {e}"));
                if wal_start > 0 {
                    // The log starts after the lost snapshot: without it, nothing of the log
                    // can be used; the leader sends both again.
                    log.clear();
                    wal_unusable = true;
                    damage = LogDamage::worst(damage, held_through(wal_end, hard_state.term));
                }
                None
            }
        }
    };
    let snapshot_index = snapshot.as_ref().map_or(0, |s| s.meta.index);
    if !log.is_empty() && wal_start > snapshot_index {
        // raft-core drops a log that does not link to the snapshot and answers for it.
        wal_unusable = true;
        found.push(match snapshot_index {
            0 => format!("wal starts after {wal_start}, with no snapshot"),
            _ => {
                format!("wal starts after {wal_start}, past the snapshot's index {snapshot_index}")
            }
        });
    }
    let membership = match storage::decode_peer_state_file(disk.peers.bytes()) {
        Ok(m) => m,
        Err(e) => {
            found.push(format!("peer-state file: {e}"));
            let log_has_membership = log.iter().any(|e| {
                matches!(
                    e.kind,
                    EntryKind::PeerState | EntryKind::AddPeer | EntryKind::RemovePeer
                )
            });
            if snapshot.is_none() && !log_has_membership {
                // The membership the node was in is unknown until the leader tells it.
                let term_bound = hard_state.term.max(log.last().map_or(0, |e| e.term));
                damage = LogDamage::worst(damage, Some(LogDamage::Unknown { term_bound }));
            }
            None
        }
    };
    match storage::decode_damage_file(disk.repair.bytes()) {
        Ok(answered) => damage = LogDamage::worst(damage, answered),
        Err(e) => {
            found.push(format!("damage file: {e}"));
            let term_bound = hard_state.term.max(log.last().map_or(0, |e| e.term));
            damage = LogDamage::worst(damage, Some(LogDamage::Unknown { term_bound }));
        }
    }
    let membership_bound = match storage::decode_membership_bound_file(disk.members.bytes()) {
        Ok(bound) => Some(bound),
        Err(e) => {
            // The node then cannot tell the membership it held and waits for a leader.
            found.push(format!("membership-bound file: {e}"));
            None
        }
    };
    Ok(DiskRead {
        hard_state,
        vote_record: term_vote.record,
        torn_tail,
        log,
        membership,
        membership_bound,
        snapshot,
        damage,
        found,
        wal_unusable,
    })
}

/// The position of a log that ended at `(index, term)`, or an unknown end when it was empty.
fn held_through((index, term): (u64, u64), durable_term: u64) -> Option<LogDamage> {
    Some(if index == 0 {
        LogDamage::Unknown {
            term_bound: durable_term,
        }
    } else {
        LogDamage::HeldThrough { index, term }
    })
}
