//! The host: the simulated server around one node. It steps the node with its inputs (ticks,
//! messages, completions) and carries out the actions that come back, in order, against the
//! node's disk (`disk_io.rs`), the network (`wire.rs`) and its application (`service.rs`),
//! following raft-core's durability contract.
//!
//! Architecture invariant: the host executes actions and nothing else. It does not decide
//! faults, membership changes or client operations, and it does not read the state of the
//! rooms that do: when a node wins an election or becomes ready to lead, the host says so to
//! the event loop (`node_won`, `node_ready_to_lead`), which tells the nemesis and the
//! operator. Every action batch is shown to the checkers (`checks.rs`) before it is carried
//! out and checked again after.
//!
//! Architecture invariant: a node's events carry its incarnation; a crash bumps it, so a
//! tick, completion or restart scheduled for an earlier life is ignored. A paused node's
//! inputs wait in its inbox (ticks are dropped) and run, in order, when it resumes.

use super::disk_io::{PendingIo, SnapshotPoint};
use super::events::Event;
use super::repair::DiskDamage;
use super::service::{ConfirmedRead, PendingRead};
use super::trace_text::{fmt_role, NodeOrNone};
use super::{id, World};
use crate::app::{Application, Replica};
use crate::config::Micros;
use crate::disk::Disk;
use crate::event;
use raft_core::{Action, Message, Node, Role};
use std::collections::{HashMap, VecDeque};

/// Whether a node is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Up,
    Paused,
    Down,
    /// Recovery found damage the node cannot answer for (the term/vote record lost); it
    /// stays down for the run.
    Stopped(String),
}

/// The simulated host of one node.
pub(super) struct Host<A: Application> {
    pub(super) node: Option<Node>,
    pub(super) status: Status,
    /// Bumped by every crash: events scheduled for an earlier life of the node are ignored.
    pub(super) incarnation: u64,
    /// The node's tick, with its clock's drift (a clock fault may change it for a while).
    pub(super) tick_us: Micros,
    /// What clock faults did to the clock (`clocks.rs`).
    pub(super) clock: super::clocks::Clock,
    /// Inputs that arrived while paused, replayed on resume.
    pub(super) paused_inbox: VecDeque<Event<A>>,

    // The disk (`disk_io.rs`, `recovery.rs`).
    pub(super) disk: Disk,
    /// Persists submitted and not completed, in submission order (the disk completes them
    /// in order).
    pub(super) io: VecDeque<PendingIo>,
    pub(super) io_busy_until: Micros,
    /// A local snapshot is durable: drop the WAL records it covers once no write is in
    /// flight (see `compact_wal`).
    pub(super) compact_wal_to: Option<SnapshotPoint>,
    /// Damage to this disk, from the strike to the repair (`repair.rs`).
    pub(super) damage: DiskDamage,
    /// Strikes not applied yet: the bytes are damaged at the next boot (`atlas.rs`).
    pub(super) armed_damage: Vec<crate::faults::DamagedFile>,
    /// A write error armed: the next persist fails (`write_errors.rs`).
    pub(super) armed_write_error: Option<super::write_errors::ArmedWriteError>,
    /// Log reads answered in this node's life, the key of each read's fault draw
    /// (`log_reads.rs`).
    pub(super) log_reads: u64,

    // The application (`service.rs`).
    pub(super) replica: A::Replica,
    /// Client commands this node proposed, by (client, seq), awaiting apply: the attempt
    /// and the index of the entry that answers it
    /// to answer.
    pub(super) waiting: HashMap<(u32, u64), (u32, u64)>,
    /// ReadIndex reads in progress, by context.
    pub(super) reads: HashMap<u64, PendingRead<A>>,
    /// Confirmed reads waiting for apply to reach their index.
    pub(super) reads_waiting: Vec<ConfirmedRead>,
    /// The leader the node last knew of, for redirecting clients.
    pub(super) leader_hint: Option<usize>,
    /// The snapshot checkpoint the application began and has not finished (`upkeep.rs`).
    pub(super) checkpoint: Option<super::upkeep::OpenCheckpoint>,
}

impl<A: Application> Host<A> {
    pub(super) fn new(replica: A::Replica, disk: Disk, tick_us: Micros) -> Host<A> {
        Host {
            node: None,
            status: Status::Down,
            incarnation: 0,
            tick_us,
            clock: super::clocks::Clock::new(tick_us),
            paused_inbox: VecDeque::new(),
            disk,
            io: VecDeque::new(),
            io_busy_until: 0,
            compact_wal_to: None,
            damage: DiskDamage::Intact,
            armed_damage: Vec::new(),
            armed_write_error: None,
            log_reads: 0,
            replica,
            waiting: HashMap::new(),
            reads: HashMap::new(),
            reads_waiting: Vec::new(),
            leader_hint: None,
            checkpoint: None,
        }
    }

    /// The node, if it is running (not down, stopped or paused).
    #[inline]
    pub(super) fn running(&mut self) -> Option<&mut Node> {
        match self.status {
            Status::Up => self.node.as_mut(),
            _ => None,
        }
    }
}

impl<A: Application> World<A> {
    pub(super) fn on_tick(&mut self, node: usize, incarnation: u64) {
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation {
            return;
        }
        let tick_us = host.tick_us;
        if host.running().is_none() || self.tick_stalled(node, incarnation) {
            return;
        }
        let next = self.now + tick_us;
        self.schedule(next, Event::Tick { node, incarnation });
        self.tick_once(node);
        self.compact_if_due(node);
    }

    /// One tick of a running node's clock.
    pub(super) fn tick_once(&mut self, node: usize) {
        let Some(raft) = self.hosts[node].running() else {
            return;
        };
        let mut actions = std::mem::take(&mut self.spare_actions);
        let was_leader = raft.role() == Role::Leader;
        raft.tick_into(&mut actions);
        if was_leader && raft.role() != Role::Leader {
            let threshold = self.config.overrun_threshold;
            let uncommitted = raft.last_index() - raft.commit_index();
            let unapplied = raft.commit_index() - raft.applied_index();
            if uncommitted >= threshold || unapplied > threshold {
                self.stats.overrun_step_downs += 1;
            }
        }
        if raft.is_quorum_paused() {
            self.stats.quorum_paused_ticks += 1;
        }
        self.execute(node, actions);
    }

    /// A message reaches a running node (`wire.rs` decided it arrives).
    pub(super) fn receive(&mut self, from: usize, to: usize, message: Message) {
        let Some(raft) = self.hosts[to].running() else {
            return;
        };
        let rejection = match &message {
            Message::AppendResponse(r) if !r.success && r.peer == id(from) => {
                Some((r.term, r.index))
            }
            _ => None,
        };
        let mut actions = std::mem::take(&mut self.spare_actions);
        raft.receive_into(id(from), message, &mut actions);
        self.execute(to, actions);
        if let Some(rejection) = rejection {
            let raft = self.hosts[to].node.as_ref();
            self.checks
                .rejection_handled(self.now, to, from, rejection, raft);
        }
    }

    /// The application resumes apply on a running node.
    pub(super) fn resume_apply(&mut self, node: usize) {
        let Some(raft) = self.hosts[node].running() else {
            return;
        };
        let actions = raft.resume_apply();
        self.record(event!(self.now, Some(node), "resume-apply"));
        self.execute(node, actions);
    }

    /// A paused node runs again: it ticks, and the inputs that waited run in order.
    pub(super) fn resume(&mut self, node: usize, incarnation: u64) {
        let host = &mut self.hosts[node];
        if host.incarnation != incarnation || host.status != Status::Paused {
            return;
        }
        host.status = Status::Up;
        let inbox: Vec<Event<A>> = host.paused_inbox.drain(..).collect();
        let tick_us = host.tick_us;
        self.record(event!(self.now, Some(node), "resume", queued = inbox.len()));
        self.schedule(self.now + tick_us, Event::Tick { node, incarnation });
        for event in inbox {
            self.handle(event);
        }
    }

    /// Carries out a node's actions, in order.
    pub(super) fn execute(&mut self, node: usize, mut actions: Vec<Action>) {
        let now = self.now;
        self.checks
            .before_actions(now, node, self.hosts[node].node.as_ref(), &actions);
        if self.perturbed(crate::perturbation::Perturbation::ReorderedSends) {
            reorder_sends(&mut actions);
        }
        for action in actions.drain(..) {
            match action {
                Action::Persist {
                    id: persist,
                    hard_state,
                    log,
                    peers,
                } => self.submit_io(node, persist, hard_state, log, peers.map(|p| *p)),
                Action::Send { to, message } => self.send(node, to.0 as usize, message),
                Action::Apply { entries } => self.apply(node, entries),
                Action::RoleChanged { role, term } => {
                    self.stats.max_term = self.stats.max_term.max(term);
                    if role == Role::Candidate {
                        self.stats.elections += 1;
                    }
                    if role == Role::Leader {
                        self.count_leader(term);
                        self.node_won(node);
                    }
                    if role != Role::Leader {
                        // Reads still waiting for confirmation are lost with the leadership;
                        // their clients time out and retry. So are the leader's staged
                        // requests (a stream's open batches).
                        self.hosts[node].reads.clear();
                        self.hosts[node].replica.leadership_lost();
                    }
                    self.record(event!(
                        now,
                        Some(node),
                        "role",
                        role = fmt_role(role),
                        term = term
                    ));
                }
                Action::LeaderChanged { term, leader } => {
                    self.hosts[node].leader_hint = leader.map(|l| l.0 as usize);
                    if leader == Some(id(node)) {
                        self.node_ready_to_lead(node);
                    }
                    self.record(event!(
                        now,
                        Some(node),
                        "leader",
                        term = term,
                        leader = NodeOrNone(leader)
                    ));
                }
                // A ReadIndex get (`Workload::read_index_gets`) was confirmed by a quorum: it
                // is answered once apply reaches the index.
                Action::ReadReady { context, index } => self.on_read_ready(node, context, index),
                // A snapshot to make durable: the node's own (the nemesis's or a script's
                // snapshot of the application) or one received from the leader.
                Action::PersistSnapshot {
                    id: persist,
                    snapshot,
                    data,
                    discard_log,
                } => self.submit_snapshot(node, persist, *snapshot, data, discard_log),
                Action::ApplySnapshot { snapshot, data } => {
                    self.apply_snapshot(node, &snapshot, &data)
                }
                Action::ResetStorage { peers, answers_for } => {
                    self.reset_storage(node, &peers, answers_for)
                }
                Action::ReadLog { from, to } => self.submit_log_read(node, from, to),
                // The operator's tool forwards removals; clients forward without a reply.
                Action::ForwardAnswered {
                    reply,
                    term,
                    outcome,
                } => self.on_forward_answered(node, reply, term, outcome),
            }
        }
        self.checks
            .after_actions(now, node, self.hosts[node].node.as_ref());
        // Keep the larger buffer (a nested step, e.g. the report after an Apply, may have
        // taken the spare meanwhile).
        if actions.capacity() > self.spare_actions.capacity() {
            self.spare_actions = actions;
        }
    }
}

/// [`crate::perturbation::Perturbation::ReorderedSends`]: each run of consecutive sends leaves
/// in descending order of the receiver; a stable sort keeps each receiver's own order.
fn reorder_sends(actions: &mut [Action]) {
    let receiver = |a: &Action| match a {
        Action::Send { to, .. } => Some(std::cmp::Reverse(*to)),
        _ => None,
    };
    for run in actions.chunk_by_mut(|a, b| receiver(a).is_some() && receiver(b).is_some()) {
        run.sort_by_key(receiver);
    }
}
