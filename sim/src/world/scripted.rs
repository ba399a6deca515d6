//! Scripted mode: the same host, disks, checkers and trace as a random run, driven step by
//! step by a script instead of the clock, the nemesis and the clients.
//!
//! - Nothing ticks by itself: the script ticks a node ([`World::script_tick`]) or calls one of
//!   its inputs ([`World::script_input`]).
//! - A message a node sends is held in an in-flight list ([`World::in_flight`]) until the
//!   script delivers, drops or duplicates it, in any order it likes; a cut link
//!   ([`World::script_cut`]) loses it at delivery.
//! - A persist completes when the script syncs that node's disk ([`World::script_sync`]), or
//!   during [`World::script_settle`] unless the disk is stalled.
//! - A crash is a power loss (unsynced bytes lost) or a process kill (written bytes kept,
//!   small files not yet renamed lost); a restart runs the node's recovery from its disk.
//!
//! Every step runs through the host's own `execute`, so the safety checkers see every event
//! and the trace records it. The world's random-run paths are untouched: they only check
//! `scripted.is_none()`.

use super::events::Event;
use super::report::RunOptions;
use super::trace_text::fmt_message;
use super::{Status, World};
use crate::app::{Application, Replica};
use crate::checkers::Violation;
use crate::config::{Micros, SimConfig};
use crate::event;
use crate::trace::{NodeName, TraceEvent};
use raft_core::storage;
use raft_core::{Action, Config, HardState, Message, Node, SnapshotCheckpoint};
use std::collections::BTreeSet;

/// A message on the wire in scripted mode.
#[derive(Clone, Debug)]
pub struct Held {
    /// Stable id for the trace (`m7`), in send order.
    pub id: u64,
    pub from: usize,
    pub to: usize,
    pub message: Message,
}

/// Per-node configuration changes a script asks for (PreVote off, a smaller message size,
/// a node that starts outside the voter set, ...).
pub type Configure = Box<dyn Fn(usize, Config) -> Config>;

/// The scripted mode's own state.
pub struct ScriptState {
    in_flight: Vec<Held>,
    next_message: u64,
    cut: BTreeSet<(usize, usize)>,
    stalled: BTreeSet<usize>,
    configure: Option<Configure>,
}

impl ScriptState {
    pub(super) fn configure(&self, node: usize, config: Config) -> Config {
        match &self.configure {
            Some(f) => f(node, config),
            None => config,
        }
    }
}

/// How a scripted crash treats data that was written but not yet synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// Power loss: every unsynced WAL byte and every small-file replacement not yet synced
    /// is lost.
    PowerLoss,
    /// The process is killed: WAL bytes already written (in the OS page cache) survive;
    /// small-file replacements the host had not renamed yet (it renames when the persist
    /// completes) are lost.
    ProcessKill,
}

impl<A: Application> World<A> {
    /// A world in scripted mode, nodes not started yet. Use a [`SimConfig`] without faults;
    /// fsync latency is forced to zero (the script decides when I/O completes).
    pub fn scripted(mut config: SimConfig, configure: Option<Configure>) -> World<A> {
        config.fsync_min_us = 0;
        config.fsync_max_us = 0;
        config.faults = crate::config::Faults::none();
        config.workload.clients = 0;
        let options = RunOptions {
            keep_trace: true,
            script: Some(Vec::new()),
            workload: Some(Vec::new()),
            ..RunOptions::default()
        };
        let mut world = World::new(config, &options);
        world.scripted = Some(Box::new(ScriptState {
            in_flight: Vec::new(),
            next_message: 0,
            cut: BTreeSet::new(),
            stalled: BTreeSet::new(),
            configure,
        }));
        world
    }

    fn script(&mut self) -> &mut ScriptState {
        self.scripted.as_mut().expect("a scripted world")
    }

    /// Called by `send` in scripted mode: the message waits for the script.
    pub(super) fn hold(&mut self, from: usize, to: usize, message: Message, summary: String) {
        let script = self.script();
        script.next_message += 1;
        let id = script.next_message;
        script.in_flight.push(Held {
            id,
            from,
            to,
            message,
        });
        self.record(event!(
            self.now,
            Some(from),
            "send",
            id = format!("m{id}"),
            to = NodeName(to),
            msg = summary
        ));
    }

    pub fn nodes(&self) -> usize {
        self.config.nodes
    }

    /// Moves virtual time forward (one script step).
    pub fn script_advance(&mut self, us: Micros) {
        self.now += us;
    }

    /// Records a line of the script itself in the trace.
    pub fn script_note(&mut self, text: &str) {
        self.record(event!(self.now, None, "script", step = text));
    }

    /// The node, whether or not it is running (None while down or stopped).
    pub fn node(&self, node: usize) -> Option<&Node> {
        self.hosts[node].node.as_ref()
    }

    pub fn status(&self, node: usize) -> &Status {
        &self.hosts[node].status
    }

    /// The application state of a node (the key-value store).
    /// The application's replica on `node`.
    pub fn replica(&self, node: usize) -> &A::Replica {
        &self.hosts[node].replica
    }

    pub fn in_flight(&self) -> &[Held] {
        &self.scripted.as_ref().expect("a scripted world").in_flight
    }

    pub fn violation(&self) -> Option<&Violation> {
        self.checks.first_violation()
    }

    pub fn trace_events(&self) -> &[TraceEvent] {
        self.trace.events()
    }

    /// Boots (or reboots) a node from its disk.
    pub fn script_start(&mut self, node: usize) {
        if matches!(self.hosts[node].status, Status::Down) {
            self.start_node(node);
        }
    }

    /// One tick of a running node.
    pub fn script_tick(&mut self, node: usize) {
        if let Some(raft) = self.hosts[node].running() {
            let actions = raft.tick();
            self.execute(node, actions);
        }
    }

    /// Any input of a running node: `f` gets the node and returns its actions (or an error,
    /// handed back). None when the node is not running.
    pub fn script_input<E>(
        &mut self,
        node: usize,
        f: impl FnOnce(&mut Node) -> Result<Vec<Action>, E>,
    ) -> Option<Result<(), E>> {
        let raft = self.hosts[node].running()?;
        Some(f(raft).map(|actions| self.execute(node, actions)))
    }

    /// A client's request (part `part` of operation `seq` of `client`) reaches `node`, as in
    /// the random runs; the answer is recorded in the trace (`reply`), now or when the entry
    /// that answers it is applied on `node`.
    pub fn script_request(&mut self, node: usize, client: usize, seq: u64, op: A::Op, part: u32) {
        self.on_client_request(node, client, seq, 1, part, op);
    }

    /// Takes a snapshot of a running node at its applied index (its key-value store is the
    /// snapshot data, as in the random runs).
    pub fn script_snapshot(&mut self, node: usize) -> Option<Result<u64, String>> {
        self.snapshot_at_applied(node, false)
    }

    /// The application's state at the node's applied index becomes its snapshot: installed
    /// as usual, or forced (aborting an open checkpoint).
    fn snapshot_at_applied(&mut self, node: usize, force: bool) -> Option<Result<u64, String>> {
        let data = self.hosts[node].replica.snapshot();
        let raft = self.hosts[node].running()?;
        let index = raft.applied_index();
        let installed = if force {
            raft.force_install_snapshot(index, data)
        } else {
            raft.install_snapshot(index, data)
        };
        Some(match installed {
            Ok(actions) => {
                self.execute(node, actions);
                Ok(index)
            }
            Err(e) => Err(e.to_string()),
        })
    }

    /// Begins a snapshot checkpoint of a running node (NRG `CreateSnapshotCheckpoint`): the
    /// application keeps a copy of its state at the checkpoint's index, which it hands to
    /// [`World::script_finish_snapshot`] later.
    pub fn script_begin_snapshot(
        &mut self,
        node: usize,
        force: bool,
    ) -> Option<Result<(SnapshotCheckpoint, Vec<u8>), String>> {
        let data = self.hosts[node].replica.snapshot();
        let raft = self.hosts[node].running()?;
        Some(
            raft.begin_snapshot(force)
                .map(|checkpoint| (checkpoint, data))
                .map_err(|e| e.to_string()),
        )
    }

    /// The second step of a snapshot checkpoint, with the state copied when it began.
    pub fn script_finish_snapshot(
        &mut self,
        node: usize,
        checkpoint: &SnapshotCheckpoint,
        data: Vec<u8>,
    ) -> Option<Result<(), String>> {
        let raft = self.hosts[node].running()?;
        Some(match raft.finish_snapshot(checkpoint, data) {
            Ok(actions) => {
                self.execute(node, actions);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        })
    }

    /// A forced snapshot at the applied index (NRG `InstallSnapshot(force)`): it aborts an
    /// open checkpoint.
    pub fn script_force_snapshot(&mut self, node: usize) -> Option<Result<u64, String>> {
        self.snapshot_at_applied(node, true)
    }

    /// The application of a running node starts over from its latest snapshot (NRG
    /// `DrainAndReplaySnapshot`): the progress checker is told that its applied index goes
    /// back on purpose.
    pub fn script_drain_and_replay(&mut self, node: usize) -> Option<Result<(), String>> {
        let raft = self.hosts[node].running()?;
        let index = raft.snapshot_index();
        Some(match raft.drain_and_replay_snapshot() {
            Ok(actions) => {
                self.checks.replayed(node, index);
                self.execute(node, actions);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        })
    }

    /// A running node starts its storage and application over (NRG `Reset`); refused while
    /// it has persists in flight.
    pub fn script_reset(&mut self, node: usize) -> Option<Result<(), String>> {
        let raft = self.hosts[node].running()?;
        Some(match raft.reset() {
            Ok(actions) => {
                self.execute(node, actions);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        })
    }

    /// Delivers the in-flight message `id` (a cut link loses it; a node that is not
    /// running loses it too). Returns false if no such message is in flight.
    pub fn script_deliver(&mut self, id: u64) -> bool {
        let script = self.script();
        let Some(at) = script.in_flight.iter().position(|h| h.id == id) else {
            return false;
        };
        let held = script.in_flight.remove(at);
        let cut = script.cut.contains(&(held.from, held.to));
        let now = self.now;
        let (mid, from, to) = (format!("m{id}"), NodeName(held.from), held.to);
        if cut {
            self.stats.messages_partitioned += 1;
            self.record(event!(now, Some(to), "cut", id = mid, from = from));
        } else if self.hosts[to].running().is_none() {
            self.stats.messages_dropped += 1;
            self.record(event!(now, Some(to), "lost", id = mid, from = from));
        } else {
            let msg = fmt_message(&held.message);
            self.record(event!(
                now,
                Some(to),
                "recv",
                id = mid,
                from = from,
                msg = msg
            ));
            self.stats.messages_delivered += 1;
            self.receive(held.from, held.to, held.message);
        }
        true
    }

    /// Takes the in-flight message `id` off the wire (a delay): no delivery, settle or cut
    /// reaches it until [`World::script_put_back`] puts it back.
    pub fn script_take(&mut self, id: u64) -> Option<Held> {
        let script = self.script();
        let at = script.in_flight.iter().position(|h| h.id == id)?;
        Some(script.in_flight.remove(at))
    }

    /// Puts a message taken with [`World::script_take`] back on the wire, after everything
    /// already on it.
    pub fn script_put_back(&mut self, held: Held) {
        self.script().in_flight.push(held);
    }

    /// Drops the in-flight message `id`.
    pub fn script_drop(&mut self, id: u64) -> bool {
        let script = self.script();
        let Some(at) = script.in_flight.iter().position(|h| h.id == id) else {
            return false;
        };
        let held = script.in_flight.remove(at);
        self.stats.messages_dropped += 1;
        self.record(event!(
            self.now,
            Some(held.from),
            "drop",
            id = format!("m{id}"),
            to = NodeName(held.to)
        ));
        true
    }

    /// Puts a copy of the in-flight message `id` on the wire; returns the copy's id.
    pub fn script_duplicate(&mut self, id: u64) -> Option<u64> {
        let script = self.script();
        let held = script.in_flight.iter().find(|h| h.id == id)?.clone();
        script.next_message += 1;
        let copy = script.next_message;
        script.in_flight.push(Held { id: copy, ..held });
        self.stats.messages_duplicated += 1;
        self.record(event!(
            self.now,
            None,
            "dup",
            id = format!("m{id}"),
            copy = format!("m{copy}")
        ));
        Some(copy)
    }

    /// Cuts (or restores) the one-way link `from -> to`.
    pub fn script_cut(&mut self, from: usize, to: usize, cut: bool) {
        let script = self.script();
        if cut {
            script.cut.insert((from, to));
        } else {
            script.cut.remove(&(from, to));
        }
    }

    pub fn script_heal(&mut self) {
        self.script().cut.clear();
    }

    /// A stalled disk completes nothing during [`World::script_settle`] (an explicit
    /// [`World::script_sync`] still completes it).
    pub fn script_stall(&mut self, node: usize, stalled: bool) {
        let script = self.script();
        if stalled {
            script.stalled.insert(node);
        } else {
            script.stalled.remove(&node);
        }
    }

    /// Persists of `node` submitted and not completed yet.
    pub fn pending_io(&self, node: usize) -> usize {
        let incarnation = self.hosts[node].incarnation;
        self.queue
            .iter()
            .filter(|s| {
                matches!(&s.event, Event::PersistDone { node: n, incarnation: i, .. }
                    if *n == node && *i == incarnation)
            })
            .count()
    }

    /// Pops the earliest queued disk event of a node `pick` accepts; other queued events
    /// (restarts scheduled by a crash: the script restarts nodes itself) are discarded.
    fn take_disk_event(&mut self, pick: impl Fn(usize) -> bool) -> Option<Event<A>> {
        let disk_node = |event: &Event<A>| match event {
            Event::Rename { node, .. } | Event::PersistDone { node, .. } => Some(*node),
            _ => None,
        };
        self.queue.retain_and_take_first(
            |event| disk_node(event).is_some(),
            |event| disk_node(event).is_some_and(&pick),
        )
    }

    fn run_disk_event(&mut self, event: Event<A>) {
        if let Event::PersistDone {
            node,
            incarnation,
            id,
        } = &event
        {
            if self.hosts[*node].incarnation == *incarnation {
                self.record(event!(self.now, Some(*node), "synced", id = id.0));
            }
        }
        self.handle(event);
    }

    /// Completes every pending persist of `node` (and any its completion leads to).
    /// Returns how many completed.
    pub fn script_sync(&mut self, node: usize) -> usize {
        let mut done = 0;
        while let Some(event) = self.take_disk_event(|n| n == node) {
            if matches!(event, Event::PersistDone { .. }) {
                done += 1;
            }
            self.run_disk_event(event);
        }
        done
    }

    /// Runs until quiet: completes every persist of disks that are not stalled and delivers
    /// every message in flight, in rounds (all I/O, then every message in flight at the start
    /// of the round, in send order), until neither is left. Returns the number of rounds;
    /// panics after `max_rounds` (a livelock in a script is a bug in the script or the core).
    pub fn script_settle(&mut self, max_rounds: usize) -> usize {
        for round in 0..max_rounds {
            let mut progressed = false;
            loop {
                let stalled = self.scripted.as_ref().expect("scripted").stalled.clone();
                let Some(event) = self.take_disk_event(|n| !stalled.contains(&n)) else {
                    break;
                };
                self.run_disk_event(event);
                progressed = true;
            }
            let ids: Vec<u64> = self.in_flight().iter().map(|h| h.id).collect();
            for id in ids {
                progressed |= self.script_deliver(id);
            }
            if !progressed {
                return round;
            }
        }
        panic!("the script did not settle within {max_rounds} rounds");
    }

    /// Crashes a running node. Its pending persists never complete; its held messages are
    /// lost; messages it already sent stay on the wire.
    pub fn script_crash(&mut self, node: usize, kind: CrashKind) {
        let host = &mut self.hosts[node];
        if !matches!(host.status, Status::Up | Status::Paused) {
            return;
        }
        match kind {
            CrashKind::PowerLoss => {
                let synced = host.disk.wal.synced_len();
                host.disk.wal.truncate(synced);
            }
            CrashKind::ProcessKill => {
                let len = host.disk.wal.len();
                host.disk.wal.sync_to(len);
            }
        }
        // Small-file replacements are renamed only when the persist completes in scripted
        // mode, so none is half-renamed here: the crash loses them whole.
        self.crash(node, Micros::MAX / 4);
    }

    /// The node's machine is lost for good: power loss, and it never boots again.
    pub fn script_lose(&mut self, node: usize) {
        self.lose(node);
    }

    /// Writes a durable term/vote and log onto a node's disk before it boots: a scenario can
    /// start from a state drawn in a figure instead of replaying the history behind it.
    pub fn script_preload(&mut self, node: usize, hard_state: HardState, log: &[raft_core::Entry]) {
        let disk = &mut self.hosts[node].disk;
        disk.write_term_vote_now(storage::encode_hard_state(&hard_state));
        if !log.is_empty() {
            let bytes = storage::encode_wal_append(0, 0, log, 0).expect("a preloaded log encodes");
            let end = disk.wal.append(&bytes);
            disk.wal.sync_to(end);
        }
    }

    /// Flips a bit in one copy (0: `tav.idx`, 1: `tav.idx.copy`) of a node's durable
    /// term/vote record: damage to synced data. None when that copy was never written.
    pub fn script_damage_term_vote_copy(&mut self, node: usize, copy: usize) -> Option<()> {
        let disk = &mut self.hosts[node].disk;
        let file = [&mut disk.term_vote, &mut disk.term_vote_copy]
            .into_iter()
            .nth(copy)?;
        let draw = crate::decisions::CorruptionDraw::BitFlip { roll: 3, bit: 0 };
        let what = file.corrupt_durable(draw)?;
        self.checks.damaged(node);
        let name = raft_core::storage::TERM_VOTE_COPIES[copy];
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("corrupt {name} {what}")
        ));
        Some(())
    }

    /// Overwrites every copy of a node's durable term/vote record with `bytes` (a damaged
    /// or short file).
    pub fn script_write_term_vote(&mut self, node: usize, bytes: Vec<u8>) {
        self.hosts[node].disk.write_term_vote_now(bytes);
        self.checks.damaged(node);
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = "term/vote file overwritten"
        ));
    }

    /// Flips one bit in the payload of a node's WAL record `from_end` records before the last
    /// (0: the last), as damage to synced data does. Returns the byte flipped, or None when
    /// the WAL holds fewer records.
    pub fn script_corrupt_wal(&mut self, node: usize, from_end: usize) -> Option<usize> {
        let bytes = self.hosts[node].disk.wal.bytes();
        let mut starts = Vec::new();
        let mut at = 0;
        while at + storage::WAL_HEADER_LEN <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().ok()?) as usize;
            starts.push((at, len));
            at += storage::WAL_HEADER_LEN + len;
        }
        let &(start, len) = starts.iter().rev().nth(from_end)?;
        let offset = start + storage::WAL_HEADER_LEN + len / 2;
        self.hosts[node].disk.wal.flip_bit(offset);
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("corrupt bit-flip@{offset}.0")
        ));
        Some(offset)
    }

    /// Appends zeros to a node's WAL as synced bytes: a file system that extended the file
    /// before its data reached the disk (damage that looks like a torn tail).
    pub fn script_zero_wal_tail(&mut self, node: usize, len: usize) {
        let wal = &mut self.hosts[node].disk.wal;
        let end = wal.append(&vec![0; len]);
        wal.sync_to(end);
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("zero tail of {len} bytes")
        ));
    }

    /// Deletes a node's WAL, keeping its other files (NRG test: only `tav.idx` left).
    /// Cuts the last byte off a node's durable snapshot file: damage to synced data.
    pub fn script_truncate_snapshot(&mut self, node: usize) {
        let file = &mut self.hosts[node].disk.snapshot;
        let mut bytes = file.bytes().to_vec();
        bytes.pop();
        file.begin_replace(bytes);
        file.complete();
        self.checks.damaged(node);
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = "snapshot file truncated"
        ));
    }

    /// Rewrites a node's WAL without the entries up to `through`, whatever the snapshot
    /// holds (NRG tests compact the WAL by hand past, or without, a snapshot). `Err` names
    /// what is missing: a WAL that does not recover cleanly or does not hold `through`.
    pub fn script_compact_wal(&mut self, node: usize, through: u64) -> Result<(), String> {
        let wal = storage::recover_wal(self.hosts[node].disk.wal.bytes());
        if !wal.is_usable() {
            return Err(format!("n{node}'s WAL is damaged ({})", wal.verdict));
        }
        let term = if through == wal.log_start.0 {
            Some(wal.log_start.1)
        } else {
            wal.entries
                .iter()
                .find(|e| e.index == through)
                .map(|e| e.term)
        };
        let Some(term) = term else {
            return Err(format!(
                "n{node}'s WAL holds {}..={}, not {through}",
                wal.log_start.0 + 1,
                wal.last_index()
            ));
        };
        let rest: Vec<_> = wal
            .entries
            .into_iter()
            .filter(|e| e.index > through)
            .collect();
        let bytes = storage::encode_wal_append(through, term, &rest, 0)
            .map_err(|e| format!("n{node}'s compacted WAL does not encode: {e}"))?;
        self.hosts[node].disk.wal.replace(bytes);
        self.record(event!(
            self.now,
            Some(node),
            "fault",
            what = format!("wal compacted through {through}")
        ));
        Ok(())
    }

    pub fn script_delete_wal(&mut self, node: usize) {
        self.hosts[node].disk.wal = crate::disk::AppendFile::default();
        self.checks.damaged(node);
        self.record(event!(self.now, Some(node), "fault", what = "wal deleted"));
    }
}
