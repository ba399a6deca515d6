//! The one place that feeds the safety checkers: every hook the world calls while a run goes
//! on, each at the point where what it reports has happened.
//!
//! Architecture invariant: the world reaches the checkers only through [`CheckerFeed`], and
//! with `RunOptions::checkers` off it shows them nothing (not even crashes and recoveries),
//! so a run without checkers is the same run minus the checking. Nothing in the world reads
//! the checkers' state except [`CheckerFeed::first_violation`], which stops the run: the
//! run's figures are counted by the world itself (`report.rs`).
//!
//! Architecture invariant: order. Within one step of a node, the checkers see the node's
//! voters and commit first, then its role changes and log writes (its memory already changed
//! during the step), then the sends, applies and persists as the host carries them out, and
//! the commit index against the log last.

use super::disk_io::SnapshotPoint;
use super::{id, voters_mask};
use crate::checkers::{Checkers, Violation};
use crate::config::Micros;
use raft_core::{Action, Entry, HardState, LogWrite, Membership, Message, Node, NodeId, Role};

/// An acknowledgement on its way into a leader ([`CheckerFeed::ack_arriving`]): its term,
/// index and when it left the follower, and the leader's match index for the follower before.
pub(super) struct ArrivingAck {
    ack: (u64, u64, Micros),
    match_before: Option<u64>,
}

pub(super) struct CheckerFeed {
    checkers: Checkers,
    /// `RunOptions::checkers`.
    on: bool,
}

impl CheckerFeed {
    /// The feed of a run whose nodes tick every `tick_us[i]` and wait at most
    /// `election_timeout_max_ticks` ticks for an election.
    pub(super) fn new(
        tick_us: Vec<Micros>,
        election_timeout_max_ticks: u32,
        on: bool,
    ) -> CheckerFeed {
        CheckerFeed {
            checkers: Checkers::new(tick_us.len()).with_clocks(tick_us, election_timeout_max_ticks),
            on,
        }
    }

    /// Whether the checkers run (`RunOptions::checkers`); the linearizability check at the
    /// end runs with them.
    pub(super) fn on(&self) -> bool {
        self.on
    }

    /// The first violation found, if any: the run stops after the event that found it.
    #[inline]
    pub(super) fn first_violation(&self) -> Option<&Violation> {
        self.checkers.first_violation.as_ref()
    }

    /// A node was stepped and returned `actions`; `raft` is the node after the step.
    #[inline]
    pub(super) fn before_actions(
        &mut self,
        now: Micros,
        node: usize,
        raft: Option<&Node>,
        actions: &[Action],
    ) {
        if !self.on {
            return;
        }
        if let Some(raft) = raft {
            let leading = (raft.role() == Role::Leader).then(|| raft.term());
            let repairing = raft.is_leader_repairing();
            self.checkers
                .on_leader_repair(now, node, leading, repairing);
            // Before any Apply below is checked against the voters that committed it; also
            // when the step that committed made it step down (its own removal committed).
            // A repairing leader's voters change with the entries of earlier terms it
            // fetches from a donor (it proposes no change of its own before its no-op), so
            // it is not judged as a leader appending a change (simulator seed 2256).
            let voters = voters_mask(raft);
            let leading = leading.filter(|_| !repairing);
            self.checkers.on_voters(now, node, voters, leading);
            self.checkers
                .on_rescue_state(now, node, raft.rescue().map(|r| r.quorum));
            if raft.role() == Role::Leader || self.checkers.is_leader(node) {
                self.checkers
                    .on_leader_commit(node, raft.commit_index(), voters);
            }
            if raft.role() == Role::Leader {
                self.checkers
                    .on_leader_sessions(now, node, raft.term(), |peer| {
                        raft.match_index(id(peer)).is_some()
                    });
            }
        }
        let leading = raft.filter(|r| r.role() == Role::Leader).map(|r| r.term());
        for action in actions {
            match action {
                Action::PersistSnapshot { .. } => {
                    // The node's latest snapshot, which its log now starts at.
                    if let Some((raft, snapshot)) =
                        raft.and_then(|r| r.snapshot().map(|s| (r, &s.meta)))
                    {
                        let current = Membership {
                            voters: raft.voters().collect(),
                            observers: raft.observers().collect(),
                        };
                        self.checkers.check_membership_from_log(
                            now,
                            node,
                            &snapshot.peers,
                            raft.log(),
                            &current,
                        );
                    }
                }
                Action::RoleChanged { role, term } => {
                    self.checkers.on_role(now, node, *role, *term)
                }
                Action::Persist {
                    log: Some(write), ..
                } => {
                    self.checkers.on_log_write(now, node, write);
                    self.checkers.on_cache_log_write(node, write.prev_index);
                    if let Some(term) = leading {
                        self.checkers.on_leader_append(now, node, term);
                    }
                }
                _ => {}
            }
        }
    }

    /// The host carried out a node's actions.
    #[inline]
    pub(super) fn after_actions(&mut self, now: Micros, node: usize, raft: Option<&Node>) {
        if let Some(raft) = raft.filter(|_| self.on) {
            let (commit, last) = (raft.commit_index(), raft.last_index());
            self.checkers
                .check_commit_within_log(now, node, commit, last);
            self.checkers
                .check_progress(now, node, commit, raft.applied_index());
            if let Some(bound) = raft.config().log_cache_bytes {
                self.checkers
                    .check_memory_within_bound(now, node, raft, bound);
            }
        }
    }

    /// A message leaves `from` (before the network decides its fate).
    #[inline]
    pub(super) fn sent(&mut self, now: Micros, from: usize, to: NodeId, message: &Message) {
        if self.on {
            self.checkers.on_send(now, from, id(from), to, message);
            self.checkers.on_transfer_send(now, from, message);
        }
    }

    /// A message (or one copy of a duplicated one) from `from` to `to` is on the wire.
    pub(super) fn queued(&mut self, now: Micros, from: usize, to: usize) {
        if self.on {
            self.checkers.on_message_queued(now, from, to);
        }
    }

    /// A message from `from` to `to` left the wire (delivered, or dropped on arrival).
    pub(super) fn left_wire(&mut self, from: usize, to: usize) {
        if self.on {
            self.checkers.on_message_left_wire(from, to);
        }
    }

    /// `leader` handled `from`'s rejection (of an append of term `rejection.0`, hint
    /// `rejection.1`); `raft` is the node after it.
    pub(super) fn rejection_handled(
        &mut self,
        now: Micros,
        leader: usize,
        from: usize,
        rejection: (u64, u64),
        raft: Option<&Node>,
    ) {
        if let Some(raft) = raft.filter(|_| self.on) {
            let match_index = raft.match_index(id(from));
            self.checkers
                .on_rejection_handled(now, leader, from, rejection, match_index);
        }
    }

    /// `to` received `message` from `from`, which left `from` at `departs`: an append of
    /// `from`'s current session with `to` (progress from the current session).
    pub(super) fn append_received(
        &mut self,
        now: Micros,
        (from, to): (usize, usize),
        message: &Message,
        departs: Micros,
    ) {
        let term = match message {
            Message::AppendEntries(m) => m.term,
            Message::InstallSnapshot(m) => m.term,
            _ => return,
        };
        if self.on {
            self.checkers
                .on_append_received(now, from, to, term, departs);
        }
    }

    /// An acknowledgement from `from` (a successful append response naming it) is about to
    /// be handled by `leader`: what the checkers compare once it is, with the leader's match
    /// index for `from` before it. `None` for any other message, or with the checkers off.
    pub(super) fn ack_arriving(
        &self,
        from: usize,
        message: &Message,
        departs: Micros,
        leader: Option<&Node>,
    ) -> Option<ArrivingAck> {
        match message {
            Message::AppendResponse(r) if self.on && r.success && r.peer == id(from) => {
                Some(ArrivingAck {
                    ack: (r.term, r.index, departs),
                    match_before: leader.and_then(|l| l.match_index(id(from))),
                })
            }
            _ => None,
        }
    }

    /// `leader` handled `from`'s acknowledgement ([`CheckerFeed::ack_arriving`]), and `raft`
    /// is the node after it.
    pub(super) fn ack_handled(
        &mut self,
        now: Micros,
        (leader, from): (usize, usize),
        arriving: ArrivingAck,
        raft: Option<&Node>,
    ) {
        if let Some(raft) = raft.filter(|_| self.on) {
            let after = raft.match_index(id(from));
            self.checkers.on_ack_handled(
                now,
                leader,
                from,
                arriving.ack,
                arriving.match_before,
                after,
            );
        }
    }

    /// The nemesis damaged a node's synced data.
    pub(super) fn damaged(&mut self, node: usize) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_damage(node);
            self.checkers.on_progress_damaged(node);
        }
    }

    /// A node's disk was replaced by an empty one.
    pub(super) fn disk_replaced(&mut self, node: usize) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_disk_replaced(node);
            self.checkers.on_progress_disk_replaced(node);
        }
    }

    /// A node lost its log (and snapshot) but kept its term and vote.
    pub(super) fn log_lost(&mut self, node: usize) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_log_lost(node);
            self.checkers.on_progress_disk_replaced(node);
        }
    }

    /// A clock fault changed `node`'s tick to `tick_us`.
    pub(super) fn clock_rate(&mut self, node: usize, tick_us: Micros) {
        if self.on {
            self.checkers.on_clock_rate(node, tick_us);
        }
    }

    /// `node`'s clock jumped forward at `now`.
    pub(super) fn clock_jumped(&mut self, node: usize, now: Micros) {
        if self.on {
            self.checkers.on_clock_jump(node, now);
        }
    }

    /// Recovery refused what a node's disk holds.
    pub(super) fn stopped(&mut self, now: Micros, node: usize, reason: &str) {
        if self.on {
            self.checkers.on_stopped(now, node, reason);
        }
    }

    /// A node hands committed entries to its application.
    #[inline]
    /// A property of the application failed on `node` (see [`crate::app::Replica`]).
    pub(super) fn app_violation(&mut self, now: Micros, node: usize, v: crate::app::AppViolation) {
        if self.on {
            self.checkers.fail(v.property, now, Some(node), v.detail);
        }
    }

    /// A message did not survive the wire: it did not encode at `node` (its sender), or its
    /// bytes did not decode at `node` (its receiver).
    pub(super) fn wire_violation(&mut self, now: Micros, node: usize, detail: String) {
        if self.on {
            self.checkers.fail(
                crate::checkers::Property::WireCodec,
                now,
                Some(node),
                detail,
            );
        }
    }

    pub(super) fn applied(&mut self, now: Micros, node: usize, entries: &[Entry]) {
        if self.on {
            self.checkers.on_committed(now, node, entries);
        }
    }

    /// A node's memory now starts at a snapshot (its own, or one it received); with
    /// `discard_log` the log after it is gone too.
    pub(super) fn snapshot_submitted(
        &mut self,
        node: usize,
        point: SnapshotPoint,
        discard_log: bool,
    ) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            let SnapshotPoint { index, term } = point;
            self.checkers
                .on_snapshot(node, index, term, discard_log, false);
        }
    }

    /// A persist completed: its snapshot (with whether it discarded the log), then its term,
    /// vote and log writes are durable.
    #[inline]
    pub(super) fn persisted(
        &mut self,
        now: Micros,
        node: usize,
        snapshot: Option<(SnapshotPoint, bool)>,
        hard_state: Option<HardState>,
        log: Option<&LogWrite>,
    ) {
        if !self.on {
            return;
        }
        if let Some((SnapshotPoint { index, term }, discard)) = snapshot {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_snapshot(node, index, term, discard, true);
            self.checkers.on_durable_snapshot(node, index);
        }
        self.checkers.on_durable(now, node, hard_state, log);
    }

    /// A node lost power.
    /// `node`'s application starts over from its snapshot at `index` (drain and replay).
    pub(super) fn replayed(&mut self, node: usize, index: u64) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_progress_replay(node, index);
        }
    }

    pub(super) fn crashed(&mut self, node: usize) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_crash(node);
            self.checkers.on_progress_crash(node);
            self.checkers.on_loops_crash(node);
        }
    }

    /// The faults stopped: repeated deliveries without progress are counted from now on, at
    /// most `limit` allowed.
    pub(super) fn arm_loop_limit(&mut self, limit: u32) {
        if self.on {
            self.checkers.arm_loop_limit(limit);
        }
    }

    /// `leader` of `term`, with match index `leader_match` for `follower`, delivered `what`.
    pub(super) fn replication_delivered(
        &mut self,
        now: Micros,
        (leader, follower): (usize, usize),
        term: u64,
        what: crate::checkers::Replication,
        leader_match: u64,
    ) {
        if self.on {
            self.checkers
                .on_replication_delivered(now, leader, follower, term, what, leader_match);
        }
    }

    /// A node is lost for good: its machine never runs again.
    pub(super) fn lost(&mut self, node: usize) {
        if self.on {
            self.checkers.on_lost(node);
        }
    }

    /// Whether `node` knows as committed an entry a rescue gave up (see `checkers/rescue.rs`).
    pub(super) fn holds_given_up_commits(&self, node: usize) -> bool {
        self.on && self.checkers.holds_given_up_commits(node)
    }

    /// Committed entries that rescued wins gave up (see `checkers/rescue.rs`).
    pub(super) fn given_up(&self) -> &[crate::checkers::GivenUp] {
        self.checkers.given_up()
    }

    /// A node booted from what its disk held.
    /// A restarted node starts with this term and vote (after `recovered`).
    pub(super) fn started(&mut self, now: Micros, node: usize, hard_state: HardState) {
        if self.on {
            self.checkers.on_started(now, node, hard_state);
        }
    }

    pub(super) fn recovered(
        &mut self,
        now: Micros,
        node: usize,
        hard_state: HardState,
        log: &[Entry],
        snapshot: Option<SnapshotPoint>,
        answers_for_lost_log: bool,
    ) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            let snapshot = snapshot.map(|p| (p.index, p.term));
            self.checkers
                .on_recovered(now, node, hard_state, log, snapshot, answers_for_lost_log);
            let from = snapshot.map_or(0, |(index, _)| index);
            self.checkers.check_restart_progress(now, node, from);
        }
    }

    /// A node started its storage and application over (a reset): a new lifetime from an
    /// empty log, answering for the one it held when `answers_for_lost_log`.
    pub(super) fn reset(
        &mut self,
        now: Micros,
        node: usize,
        hard_state: HardState,
        answers_for_lost_log: bool,
    ) {
        if self.on {
            self.checkers.forget_cache_walk(node);
            self.checkers.on_progress_crash(node);
            self.checkers.on_progress_disk_replaced(node);
            self.checkers
                .on_recovered(now, node, hard_state, &[], None, answers_for_lost_log);
        }
    }

    /// A damaged node's durable log caught up with the log it held.
    pub(super) fn repaired(&mut self, node: usize) {
        if self.on {
            self.checkers.on_repaired(node);
        }
    }
}
