//! Power losses and boots: what a crash takes from a host, and how a node comes back from
//! what its disk holds, through raft-core's own recovery code.
//!
//! Architecture invariant: a node boots only from its disk. Memory, unsynced writes (torn at
//! sector boundaries, or not) and small-file replacements not yet renamed are lost with the
//! power; the WAL, the term/vote file, the peer-state file and the snapshot file are decoded
//! by raft-core's storage code, exactly as a real host would. Damage inside synced data
//! stops the node for the rest of the run (`Status::Stopped`) rather than letting it vote on
//! a log it may have acknowledged; a torn unsynced tail is dropped.
//!
//! Deliberately absent: repair of a damaged node from its peers.

use super::disk_io::SnapshotPoint;
use super::events::Event;
use super::trace_text::NodeOrNone;
use super::{id, Host, Status, World};
use crate::app::{Application, Replica};
use crate::config::Micros;
use crate::decisions::{Key, PowerLossDraw};
use crate::disk::CrashEffect;
use crate::disk::Disk;
use crate::event;
use raft_core::storage;
use raft_core::{Config, Node, Recovered};

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
            max_bytes_per_message: Config::DEFAULT_MAX_BYTES_PER_MESSAGE,
            max_uncommitted_entries: Config::DEFAULT_MAX_UNCOMMITTED_ENTRIES,
            pre_vote: c.pre_vote_check_quorum,
            check_quorum: c.pre_vote_check_quorum,
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
        let wal = storage::recover_wal(host.disk.wal.bytes());
        let hard_state = storage::decode_hard_state(host.disk.term_vote.bytes());
        let refuse = match (&wal.verdict, &hard_state) {
            (storage::WalVerdict::Corrupt { .. }, _) => Some(format!("wal {}", wal.verdict)),
            (_, Err(e)) => Some(format!("term/vote file: {e}")),
            _ => None,
        };
        if let Some(reason) = refuse {
            // Damage inside synced data: the node may have acknowledged what it lost, so it
            // must not truncate and carry on as a voter.
            return self.stop(node, reason);
        }
        let hard_state = hard_state.expect("checked above");
        if let storage::WalVerdict::TornTail { dropped_bytes, .. } = wal.verdict {
            self.stats.torn_tails_dropped += 1;
            self.hosts[node].disk.wal.truncate(wal.valid_len);
            self.record(event!(
                now,
                Some(node),
                "torn-tail-dropped",
                bytes = dropped_bytes
            ));
        }
        let membership = match storage::decode_peer_state_file(self.hosts[node].disk.peers.bytes())
        {
            Ok(m) => m,
            Err(e) => return self.stop(node, format!("peer-state file: {e}")),
        };
        let snapshot_bytes = self.hosts[node].disk.snapshot.bytes();
        let snapshot = if snapshot_bytes.is_empty() {
            None
        } else {
            match storage::decode_snapshot_file(snapshot_bytes) {
                Ok(s) => Some(s),
                Err(e) => return self.stop(node, format!("snapshot file: {e}")),
            }
        };
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
            log: wal.entries,
            membership,
            snapshot,
        };
        let config = self.node_config(node);
        self.checks
            .recovered(now, node, hard_state, &recovered.log, snapshot_point);
        match Node::new(config, recovered) {
            #[allow(unused_mut)]
            Ok(mut raft) => {
                #[cfg(feature = "planted-bugs")]
                if let Some(bug) = self.planted {
                    if let Err(e) = raft.plant(bug) {
                        return self.stop(node, format!("recovered state refused: {e}"));
                    }
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
}
