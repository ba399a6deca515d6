//! The outbox: everything a node hands its host goes through it, and it is the only producer
//! of [`Action::Send`], [`Action::Persist`] and [`Action::PersistSnapshot`]. It keeps the
//! durability contract (durable before attested) in one place.
//!
//! The rooms tell it what changed in memory (the hard state, the log, the membership) and
//! what to send. Pending changes become one `Persist` the first time something needs them
//! issued: before a message leaves (a forwarded proposal aside: it carries nothing of this
//! node's), before entries are applied, and at the end of every input. A message that
//! attests state is held until the host reports every persist issued before it durable
//! ([`Node::persisted`](crate::Node::persisted)).
//!
//! # Invariants
//!
//! - Persist ids are one sequence for `Persist` and `PersistSnapshot`, increasing by one per
//!   request; `in_flight` holds the requests issued and not yet reported durable, oldest
//!   first, with ids in `last_completed + 1 ..= last_issued`.
//! - A held message waits for a persist still in flight; `held` is in the order the
//!   messages were sent, and their persists are in that order too, so releasing the front
//!   of the queue releases them in the order sent.
//! - Nothing is pending between inputs: every input ends in [`Outbox::finish_into`], which
//!   issues what is pending.
//! - `log_end` is the in-memory log's last index (the node checks it at the end of every
//!   input): what a persist issued now makes durable.
//! - `durable_index` never counts an entry that a persist still in flight replaces: a
//!   truncating write lowers it when recorded, and again when an earlier persist completes.
//! - Once a persist failed (`failed`), nothing is in flight or held, and nothing is issued or
//!   released again in this life: pending changes are dropped, attesting messages discarded.
//!
//! Deliberately absent: the outbox never decides what to send or when to persist; it has no
//! notion of roles or terms. It only orders what the rooms give it.

use super::errors::ContractError;
use crate::action::{Action, LogWrite, PersistId, Role};
use crate::log::Log;
use crate::message::{ForwardOutcome, Message};
use crate::types::{Entry, HardState, NodeId, PeerState, Snapshot, SnapshotMeta};
use bytes::Bytes;
use std::collections::VecDeque;

/// A Persist or PersistSnapshot issued and not yet reported complete.
#[derive(Clone, Debug)]
struct InFlightPersist {
    id: PersistId,
    hard_state: Option<HardState>,
    /// The log's last index once this request is durable.
    last_index_after: u64,
    /// Set when the request may cut the log: durable entries after this index are replaced.
    truncates_to: Option<u64>,
}

/// A message that attests state, waiting until the persist `after` is durable.
#[derive(Clone, Debug)]
struct HeldMessage {
    after: PersistId,
    to: NodeId,
    message: Message,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub(super) struct Outbox {
    /// The actions of the input being handled, in order.
    actions: Vec<Action>,
    /// The term and vote changed in memory and are not in a Persist yet.
    pending_hard_state: Option<HardState>,
    /// Entries appended (possibly after a truncation) and not in a Persist yet.
    pending_log_write: Option<LogWrite>,
    /// The membership changed and the peer-state file is not in a Persist yet.
    pending_peers: Option<Box<PeerState>>,
    /// The in-memory log's last index.
    log_end: u64,
    last_issued: PersistId,
    last_completed: PersistId,
    in_flight: VecDeque<InFlightPersist>,
    held: VecDeque<HeldMessage>,
    /// The (term, vote) known durable.
    durable_hard_state: HardState,
    /// Highest log index durable on this node and identical to the in-memory log.
    durable_index: u64,
    /// The first persist the host reported failed: the outbox is closed for this life.
    failed: Option<PersistId>,
}

impl Outbox {
    /// An outbox for a node whose durable state is `durable_hard_state` and a log, all of it
    /// durable, ending at `log_end`. `unpersisted_hard_state` is a hard state the node starts
    /// with that its storage does not hold yet: it is persisted first.
    pub(super) fn new(
        durable_hard_state: HardState,
        log_end: u64,
        unpersisted_hard_state: Option<HardState>,
    ) -> Outbox {
        Outbox {
            actions: Vec::new(),
            pending_hard_state: unpersisted_hard_state,
            pending_log_write: None,
            pending_peers: None,
            log_end,
            last_issued: PersistId(0),
            last_completed: PersistId(0),
            in_flight: VecDeque::new(),
            held: VecDeque::new(),
            durable_hard_state,
            durable_index: log_end,
            failed: None,
        }
    }

    // ----- what changed in memory ------------------------------------------------------------

    /// The term or vote changed: the next Persist carries `hard_state`.
    #[inline]
    pub(super) fn hard_state_changed(&mut self, hard_state: HardState) {
        self.pending_hard_state = Some(hard_state);
    }

    /// The membership in effect changed: the next Persist rewrites the peer-state file.
    pub(super) fn membership_changed(&mut self, peers: PeerState) {
        self.pending_peers = Some(Box::new(peers));
    }

    /// `log` now holds `entries` after `prev_index` (everything after it before was cut):
    /// adds them to the pending log write. An iterator, so a leader's entries extend the
    /// pending write one by one without a `Vec` each, and a follower's message `Vec` becomes
    /// the write's without a copy. A write that cuts the log makes the entries it cuts no
    /// longer durable.
    #[inline]
    pub(super) fn log_written(
        &mut self,
        log: &Log,
        prev_index: u64,
        entries: impl IntoIterator<Item = Entry>,
    ) {
        if prev_index < self.log_end {
            self.durable_index = self.durable_index.min(prev_index);
        }
        self.log_end = log.last_index();
        match self.pending_log_write.as_mut() {
            Some(write) if prev_index >= write.prev_index => {
                let keep = (prev_index - write.prev_index) as usize;
                write.entries.truncate(keep);
                write.entries.extend(entries);
            }
            _ => {
                let prev_term = log.term_at(prev_index).expect("prev within log");
                self.pending_log_write = Some(LogWrite {
                    prev_index,
                    prev_term,
                    entries: entries.into_iter().collect(),
                });
            }
        }
    }

    /// Planted bug `conflict-not-truncated`: `log` kept entries after the last write that no
    /// write holds.
    #[cfg(feature = "planted-bugs")]
    pub(super) fn log_grew_unwritten(&mut self, log: &Log) {
        self.log_end = log.last_index();
    }

    // ----- persists --------------------------------------------------------------------------

    /// Turns pending changes into one Persist action. Returns the id that a message attesting
    /// the current state must wait for (None when everything is already durable).
    ///
    /// Called for every message sent and every input, and usually with nothing pending: the
    /// check is inlined, the work is not.
    #[inline]
    pub(super) fn flush(&mut self) -> Option<PersistId> {
        if self.pending_hard_state.is_some()
            || self.pending_log_write.is_some()
            || self.pending_peers.is_some()
        {
            self.issue_persist();
        }
        self.in_flight.back().map(|p| p.id)
    }

    /// [`Outbox::flush`]'s work: one Persist action for everything pending.
    #[inline(never)]
    fn issue_persist(&mut self) {
        let log = self.pending_log_write.take();
        let hard_state = self.pending_hard_state.take();
        if self.failed.is_some() {
            // Nothing written after a failed persist could be trusted durable: the changes
            // stay in memory only, and attest nothing.
            self.pending_peers = None;
            if let Some(write) = log {
                self.durable_index = self.durable_index.min(write.prev_index);
            }
            return;
        }
        let truncates_to = log.as_ref().map(|w| w.prev_index);
        let id = self.issue(hard_state, truncates_to);
        self.actions.push(Action::Persist {
            id,
            hard_state,
            log,
            peers: self.pending_peers.take(),
        });
    }

    /// The next persist id, with what its request makes durable.
    fn issue(&mut self, hard_state: Option<HardState>, truncates_to: Option<u64>) -> PersistId {
        let id = PersistId(self.last_issued.0 + 1);
        self.last_issued = id;
        self.in_flight.push_back(InFlightPersist {
            id,
            hard_state,
            last_index_after: self.log_end,
            truncates_to,
        });
        id
    }

    /// `snapshot` replaced the log up to its index (`log` is what is left): the
    /// PersistSnapshot action. With `discard_log` the log was reset to start at the snapshot,
    /// so no entry after it is durable any more. Pending log writes must have been issued
    /// before the log changed.
    pub(super) fn persist_snapshot(&mut self, snapshot: &Snapshot, discard_log: bool, log: &Log) {
        debug_assert!(self.pending_log_write.is_none());
        let index = snapshot.meta.index;
        if discard_log {
            self.durable_index = self.durable_index.min(index);
        }
        self.log_end = log.last_index();
        if self.failed.is_some() {
            return;
        }
        let id = self.issue(None, discard_log.then_some(index));
        self.actions.push(Action::PersistSnapshot {
            id,
            snapshot: Box::new(snapshot.meta.clone()),
            data: snapshot.data.clone(),
            discard_log,
        });
    }

    /// The host reports persist `id` (and every earlier one) durable: the durable state moves
    /// on and the messages that waited for it leave. Ok(false) when `id` was reported before.
    #[inline]
    pub(super) fn persisted(&mut self, id: PersistId) -> Result<bool, ContractError> {
        if id > self.last_issued {
            return Err(ContractError::UnknownPersist {
                id,
                last_issued: self.last_issued,
            });
        }
        if let Some(failed) = self.failed.filter(|&f| id >= f) {
            return Err(ContractError::PersistedAfterFailure { id, failed });
        }
        if id <= self.last_completed {
            return Ok(false);
        }
        self.last_completed = id;
        let mut last_index_after = None;
        while self.in_flight.front().is_some_and(|p| p.id <= id) {
            let Some(done) = self.in_flight.pop_front() else {
                break;
            };
            if let Some(hard_state) = done.hard_state {
                self.durable_hard_state = hard_state;
            }
            last_index_after = Some(done.last_index_after);
        }
        if let Some(last_index) = last_index_after {
            self.durable_index = last_index;
            // A later request that truncates makes part of what is durable stale.
            for later in &self.in_flight {
                if let Some(to) = later.truncates_to {
                    self.durable_index = self.durable_index.min(to);
                }
            }
        }
        while self.held.front().is_some_and(|h| h.after <= id) {
            let Some(held) = self.held.pop_front() else {
                break;
            };
            self.actions.push(Action::Send {
                to: held.to,
                message: held.message,
            });
        }
        Ok(true)
    }

    /// The host reports that persist `id` failed (a write or an fsync error): every earlier
    /// persist is durable, `id` and every later one are not, and may have left nothing, part
    /// or all of their bytes (after a failed fsync the kernel may have dropped the dirty
    /// pages). The messages waiting for them are discarded, the durable index falls to where
    /// a failed truncating write could have cut the log, and the outbox closes for this life.
    pub(super) fn persist_failed(&mut self, id: PersistId) -> Result<(), ContractError> {
        if let Some(failed) = self.failed {
            return Err(ContractError::PersistedAfterFailure { id, failed });
        }
        if id > self.last_issued || id <= self.last_completed {
            return Err(ContractError::PersistNotInFlight {
                id,
                last_completed: self.last_completed,
                last_issued: self.last_issued,
            });
        }
        if id.0 > self.last_completed.0 + 1 {
            self.persisted(PersistId(id.0 - 1))?;
        }
        self.failed = Some(id);
        for lost in self.in_flight.drain(..) {
            if let Some(to) = lost.truncates_to {
                self.durable_index = self.durable_index.min(to);
            }
        }
        self.held.clear();
        Ok(())
    }

    #[inline]
    pub(super) fn durable_hard_state(&self) -> HardState {
        self.durable_hard_state
    }

    #[inline]
    pub(super) fn durable_index(&self) -> u64 {
        self.durable_index
    }

    /// A fresh outbox that replaces `old` in the same life (a reset): persist ids go on
    /// from where `old`'s stopped, so the host's ids stay one sequence.
    pub(super) fn continue_ids(&mut self, old: &Outbox) {
        self.last_issued = old.last_issued;
        self.last_completed = old.last_completed;
    }

    pub(super) fn persists_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub(super) fn held_messages(&self) -> usize {
        self.held.len()
    }

    // ----- sends -----------------------------------------------------------------------------

    /// Sends a message that attests this node's state (a vote, an acknowledgement, a vote
    /// request carrying our own vote): it waits for every persist issued so far.
    pub(super) fn send_attesting(&mut self, to: NodeId, message: Message) {
        if self.failed.is_some() {
            // It would attest state that is not durable and never will be in this life.
            self.flush();
            return;
        }
        match self.flush() {
            Some(after) => self.held.push_back(HeldMessage { after, to, message }),
            None => self.actions.push(Action::Send { to, message }),
        }
    }

    /// Sends a message that attests nothing (a leader's AppendEntries, PreVote requests and
    /// answers, TimeoutNow, read acknowledgements, snapshot chunks and requests for the next
    /// one): it leaves at once. Pending writes are issued first so the host can start the
    /// fsync in parallel with the network send.
    pub(super) fn send_unattested(&mut self, to: NodeId, message: Message) {
        self.flush();
        self.actions.push(Action::Send { to, message });
    }

    /// Asks the host for the durable entries `from..=to` (their payloads left memory). No
    /// write need precede it: only durable entries are evicted.
    pub(super) fn read_log(&mut self, from: u64, to: u64) {
        self.actions.push(Action::ReadLog { from, to });
    }

    /// Hands a proposal to the leader, or a leader's answer to its forwarder. Neither attests
    /// anything, and each is sent as it is, without issuing pending writes first (a follower
    /// has none of its own to start; a leader's answer follows the append it reports, whose
    /// write its replication already issued).
    pub(super) fn forward(&mut self, to: NodeId, message: Message) {
        self.actions.push(Action::Send { to, message });
    }

    /// The application's forwarded proposal `reply` was answered.
    pub(super) fn forward_answered(&mut self, reply: u64, term: u64, outcome: ForwardOutcome) {
        self.actions.push(Action::ForwardAnswered {
            reply,
            term,
            outcome,
        });
    }

    // ----- what the application hears ------------------------------------------------------

    #[inline]
    pub(super) fn role_changed(&mut self, role: Role, term: u64) {
        self.actions.push(Action::RoleChanged { role, term });
    }

    #[inline]
    pub(super) fn leader_changed(&mut self, term: u64, leader: Option<NodeId>) {
        self.actions.push(Action::LeaderChanged { term, leader });
    }

    /// Committed entries to apply. Pending writes are issued first, so a host can start the
    /// write before applying.
    #[inline]
    pub(super) fn apply(&mut self, entries: Vec<Entry>) {
        self.flush();
        self.actions.push(Action::Apply { entries });
    }

    pub(super) fn apply_snapshot(&mut self, snapshot: SnapshotMeta, data: Bytes) {
        self.actions.push(Action::ApplySnapshot {
            snapshot: Box::new(snapshot),
            data,
        });
    }

    #[inline]
    pub(super) fn read_ready(&mut self, context: u64, index: u64) {
        self.actions.push(Action::ReadReady { context, index });
    }

    // ----- output ----------------------------------------------------------------------------

    /// Issues what is pending and hands the input's actions to the host's buffer. When `out`
    /// is empty the two buffers are swapped: the host gets the actions, the outbox keeps
    /// `out`'s allocation for next time.
    #[inline]
    pub(super) fn finish_into(&mut self, out: &mut Vec<Action>) {
        self.flush();
        if out.is_empty() {
            std::mem::swap(out, &mut self.actions);
        } else {
            out.append(&mut self.actions);
        }
    }

    /// The log end the outbox knows, for the node's end-of-input check.
    pub(super) fn log_end(&self) -> u64 {
        self.log_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::VoteResponse;

    fn vote(peer: u64) -> Message {
        Message::VoteResponse(VoteResponse {
            term: 1,
            peer: NodeId(peer),
            granted: true,
            empty_log: true,
        })
    }

    fn hard_state(term: u64, vote: u64) -> HardState {
        HardState {
            term,
            vote: Some(NodeId(vote)),
        }
    }

    fn drain(outbox: &mut Outbox) -> Vec<Action> {
        let mut out = Vec::new();
        outbox.finish_into(&mut out);
        out
    }

    fn persist_ids(actions: &[Action]) -> Vec<u64> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Persist { id, .. } | Action::PersistSnapshot { id, .. } => Some(id.0),
                _ => None,
            })
            .collect()
    }

    fn sends(actions: &[Action]) -> Vec<(NodeId, Message)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { to, message } => Some((*to, message.clone())),
                _ => None,
            })
            .collect()
    }

    /// A log holding `terms` (entry i+1 in term terms[i]) and the outbox that wrote it.
    fn written(terms: &[u64]) -> (Log, Outbox) {
        let mut log = Log::new(Vec::new());
        let mut outbox = Outbox::new(HardState::default(), 0, None);
        let entries: Vec<Entry> = (1..)
            .zip(terms)
            .map(|(i, &t)| Entry::normal(t, i, ""))
            .collect();
        for e in &entries {
            log.append(e.clone());
        }
        outbox.log_written(&log, 0, entries);
        (log, outbox)
    }

    #[test]
    fn an_attesting_message_waits_for_the_persist_issued_before_it() {
        let mut outbox = Outbox::new(HardState::default(), 0, None);
        outbox.hard_state_changed(hard_state(1, 2));
        outbox.send_attesting(NodeId(2), vote(1));
        let actions = drain(&mut outbox);
        assert!(matches!(
            actions.as_slice(),
            [Action::Persist { id: PersistId(1), hard_state: Some(hs), log: None, peers: None }]
                if *hs == hard_state(1, 2)
        ));
        assert_eq!(outbox.held_messages(), 1);
        assert_eq!(outbox.persisted(PersistId(1)), Ok(true));
        assert_eq!(outbox.durable_hard_state(), hard_state(1, 2));
        assert_eq!(
            drain(&mut outbox),
            vec![Action::Send {
                to: NodeId(2),
                message: vote(1)
            }]
        );
        assert_eq!(
            (outbox.held_messages(), outbox.persists_in_flight()),
            (0, 0)
        );
    }

    #[test]
    fn an_attesting_message_waits_for_persists_still_in_flight() {
        let mut outbox = Outbox::new(HardState::default(), 0, None);
        outbox.hard_state_changed(hard_state(1, 1));
        drain(&mut outbox);
        // Nothing pending, but the vote it attests is not durable yet.
        outbox.send_attesting(NodeId(2), vote(1));
        assert!(drain(&mut outbox).is_empty());
        outbox.persisted(PersistId(1)).unwrap();
        assert_eq!(sends(&drain(&mut outbox)).len(), 1);
        // Everything durable: it leaves at once.
        outbox.send_attesting(NodeId(3), vote(1));
        assert_eq!(
            drain(&mut outbox),
            vec![Action::Send {
                to: NodeId(3),
                message: vote(1)
            }]
        );
    }

    #[test]
    fn an_unattested_message_leaves_at_once_after_the_pending_write_is_issued() {
        let (_, mut outbox) = written(&[1]);
        outbox.send_unattested(NodeId(2), vote(1));
        let actions = drain(&mut outbox);
        assert_eq!(persist_ids(&actions[..1]), vec![1]);
        assert_eq!(
            actions[1],
            Action::Send {
                to: NodeId(2),
                message: vote(1)
            }
        );
        assert_eq!(actions.len(), 2);
    }

    #[test]
    fn pending_changes_become_one_persist() {
        let (_, mut outbox) = written(&[1, 1]);
        outbox.hard_state_changed(hard_state(1, 1));
        outbox.hard_state_changed(hard_state(2, 1));
        let peers = PeerState {
            cluster_size: 1,
            peers: vec![NodeId(1)],
            ..PeerState::default()
        };
        outbox.membership_changed(peers.clone());
        let actions = drain(&mut outbox);
        let [Action::Persist {
            id,
            hard_state: hs,
            log: Some(write),
            peers: Some(p),
        }] = actions.as_slice()
        else {
            panic!("one persist with everything: {actions:?}");
        };
        assert_eq!((*id, *hs), (PersistId(1), Some(hard_state(2, 1))));
        assert_eq!((write.prev_index, write.entries.len()), (0, 2));
        assert_eq!(**p, peers);
        assert!(drain(&mut outbox).is_empty(), "nothing is pending any more");
    }

    #[test]
    fn persist_ids_are_one_sequence_with_snapshots_and_complete_in_order() {
        let (mut log, mut outbox) = written(&[1, 1, 1]);
        outbox.flush();
        log.compact(2);
        let snapshot = Snapshot {
            meta: SnapshotMeta {
                index: 2,
                term: 1,
                peers: PeerState::default(),
            },
            data: Bytes::from_static(b"state"),
        };
        outbox.persist_snapshot(&snapshot, false, &log);
        outbox.hard_state_changed(hard_state(2, 1));
        outbox.send_attesting(NodeId(2), vote(1));
        let actions = drain(&mut outbox);
        assert_eq!(persist_ids(&actions), vec![1, 2, 3]);
        assert_eq!(outbox.persists_in_flight(), 3);

        assert_eq!(
            outbox.persisted(PersistId(4)),
            Err(ContractError::UnknownPersist {
                id: PersistId(4),
                last_issued: PersistId(3)
            })
        );
        // Reporting 2 reports 1 too; the message waits for 3.
        assert_eq!(outbox.persisted(PersistId(2)), Ok(true));
        assert_eq!(
            (outbox.persists_in_flight(), outbox.held_messages()),
            (1, 1)
        );
        assert_eq!(outbox.persisted(PersistId(1)), Ok(false), "reported before");
        assert_eq!(outbox.persisted(PersistId(3)), Ok(true));
        assert_eq!(sends(&drain(&mut outbox)), vec![(NodeId(2), vote(1))]);
    }

    #[test]
    fn held_messages_leave_in_the_order_sent() {
        let mut outbox = Outbox::new(HardState::default(), 0, None);
        outbox.hard_state_changed(hard_state(1, 1));
        outbox.send_attesting(NodeId(2), vote(1));
        outbox.send_attesting(NodeId(3), vote(1));
        outbox.hard_state_changed(hard_state(2, 1));
        outbox.send_attesting(NodeId(4), vote(2));
        drain(&mut outbox);
        outbox.persisted(PersistId(1)).unwrap();
        let to: Vec<NodeId> = sends(&drain(&mut outbox))
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(to, vec![NodeId(2), NodeId(3)]);
        outbox.persisted(PersistId(2)).unwrap();
        assert_eq!(sends(&drain(&mut outbox)), vec![(NodeId(4), vote(2))]);
    }

    #[test]
    fn durable_index_never_counts_entries_a_truncation_in_flight_replaces() {
        let (mut log, mut outbox) = written(&[1, 1, 1]);
        drain(&mut outbox);
        // A conflict at index 3: cut after 2, append 3 in term 2.
        log.truncate_after(2);
        let e = Entry::normal(2, 3, "");
        log.append(e.clone());
        outbox.log_written(&log, 2, [e]);
        drain(&mut outbox);
        assert_eq!(outbox.durable_index(), 0);
        // The first write is durable, but its entry 3 is being replaced.
        outbox.persisted(PersistId(1)).unwrap();
        assert_eq!(outbox.durable_index(), 2);
        outbox.persisted(PersistId(2)).unwrap();
        assert_eq!(outbox.durable_index(), 3);
        // Cutting durable entries lowers it at once.
        log.truncate_after(1);
        outbox.log_written(&log, 1, []);
        assert_eq!(outbox.durable_index(), 1);
    }

    #[test]
    fn a_snapshot_that_discards_the_log_discards_its_durability() {
        let (mut log, mut outbox) = written(&[1, 1]);
        drain(&mut outbox);
        outbox.persisted(PersistId(1)).unwrap();
        assert_eq!(outbox.durable_index(), 2);
        log.reset(1, 3);
        let snapshot = Snapshot {
            meta: SnapshotMeta {
                index: 1,
                term: 3,
                peers: PeerState::default(),
            },
            data: Bytes::new(),
        };
        outbox.persist_snapshot(&snapshot, true, &log);
        assert_eq!((outbox.durable_index(), outbox.log_end()), (1, 1));
        drain(&mut outbox);
        outbox.persisted(PersistId(2)).unwrap();
        assert_eq!(outbox.durable_index(), 1);
    }

    #[test]
    fn a_hard_state_the_node_starts_with_is_persisted_first() {
        let mut outbox = Outbox::new(HardState::default(), 5, Some(hard_state(3, 1)));
        assert_eq!(outbox.durable_index(), 5);
        outbox.read_ready(7, 5);
        let actions = drain(&mut outbox);
        assert!(matches!(
            actions[0],
            Action::ReadReady {
                context: 7,
                index: 5
            }
        ));
        assert!(matches!(
            actions[1],
            Action::Persist {
                id: PersistId(1),
                ..
            }
        ));
    }

    #[test]
    fn finish_hands_the_host_the_actions_and_keeps_its_buffer() {
        let mut outbox = Outbox::new(HardState::default(), 0, None);
        outbox.role_changed(Role::Candidate, 1);
        let mut out = Vec::with_capacity(32);
        outbox.finish_into(&mut out);
        assert_eq!(
            out,
            vec![Action::RoleChanged {
                role: Role::Candidate,
                term: 1
            }]
        );
        assert!(
            outbox.actions.capacity() >= 32,
            "the outbox keeps the host's empty buffer for the next input"
        );
        outbox.leader_changed(1, None);
        outbox.finish_into(&mut out);
        assert_eq!(out.len(), 2, "appended to what the host did not drain");
    }
}
