//! Client requests inside the host: which are proposed, which wait for their entry to be
//! applied, which wait for a ReadIndex confirmation, and what each is answered.
//!
//! Every answer says whether the request took effect: a result (it did, exactly once), a
//! refusal ([`Outcome::NotLeader`], [`Outcome::Unavailable`], [`Outcome::Refused`]: it did
//! not and never will), or [`Outcome::Unknown`] (it may have, or may still). The
//! real-process harness relies on the distinction; so should any client.

use super::Status;
use bytes::Bytes;
use raft_core::{Action, MembershipChange, Node, NodeId, ProposeError, ReadError, Role};
use state_machines::kv::{Command, KvOp, KvResult, KvStore};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Client ids from here up belong to the server's own sessions: requests without a session
/// get the id `ANONYMOUS_CLIENTS | term` and a sequence number counted by the leader of that
/// term, which alone proposes with it, so its commands reach the log in sequence order and
/// the store's duplicate check never mistakes one for a retry. Clients that bring their
/// own session (to make retries exactly-once) use ids below it.
pub const ANONYMOUS_CLIENTS: u32 = 0x8000_0000;

/// How a read is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// Linearizable: the leader confirms it still leads (ReadIndex) and serves the read once
    /// it has applied the commit index it had when the read arrived.
    Index,
    /// Linearizable: the read goes through the log as a command.
    Log,
    /// Whatever this node has applied: may be stale (kept to show what the harness finds).
    Local,
}

/// A client's session: a retried request with the same `(client, seq)` is applied once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub client: u32,
    pub seq: u64,
}

/// What a client asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Read {
        key: String,
        mode: ReadMode,
    },
    /// Put, append or compare-and-set.
    Write {
        op: KvOp,
        session: Option<Session>,
    },
    Membership(MembershipChange),
    Transfer(Option<NodeId>),
    Snapshot,
    Status,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Value(Option<String>),
    Done,
    Swapped(bool),
    /// Not executed: this node does not lead; the leader it knows of, if any.
    NotLeader(Option<NodeId>),
    /// Not executed, and never will be; retrying may succeed.
    Unavailable(String),
    /// Not executed: the request is wrong for this cluster (retrying will not help).
    Refused(String),
    /// Proposed, but not known to be applied: it may take effect.
    Unknown(String),
    Status(Box<Status>),
}

/// A call with the channel its answer goes back on.
pub struct Request {
    pub call: Call,
    pub reply: oneshot::Sender<Outcome>,
}

/// The result an applied entry should have for its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Done,
    Swapped,
    Value,
    Membership,
}

impl Expect {
    fn of(op: &KvOp) -> Expect {
        match op {
            KvOp::Put { .. } | KvOp::Append { .. } => Expect::Done,
            KvOp::Cas { .. } => Expect::Swapped,
            KvOp::Get { .. } => Expect::Value,
        }
    }
}

/// A proposed entry waiting to be applied.
struct Waiter {
    term: u64,
    expect: Expect,
    reply: oneshot::Sender<Outcome>,
    deadline: Instant,
}

struct PendingWrite {
    op: KvOp,
    session: Option<Session>,
    reply: oneshot::Sender<Outcome>,
}

struct ReadGroup {
    reads: Vec<(String, oneshot::Sender<Outcome>)>,
    deadline: Instant,
}

pub(super) struct Clients {
    timeout: Duration,
    /// By log index.
    waiters: BTreeMap<u64, Waiter>,
    /// This round's writes (and log reads), proposed together at the round's end.
    writes: Vec<PendingWrite>,
    /// This round's ReadIndex reads, confirmed by one read round.
    reads: Vec<(String, oneshot::Sender<Outcome>)>,
    /// By read context.
    read_groups: BTreeMap<u64, ReadGroup>,
    /// Confirmed reads: (index to apply first, context), in confirmation order.
    ready: VecDeque<(u64, u64)>,
    next_context: u64,
    /// The anonymous session's (term, last sequence number).
    anonymous: (u64, u64),
}

fn not_leader(node: &Node) -> Outcome {
    if node.role() == Role::Leader {
        Outcome::Unavailable(
            "this node was just elected and has not committed its first entry; retry".into(),
        )
    } else {
        Outcome::NotLeader(node.leader())
    }
}

fn propose_error(error: ProposeError) -> Outcome {
    match error {
        ProposeError::NotLeader { leader } => Outcome::NotLeader(leader),
        ProposeError::AlreadyMember { .. }
        | ProposeError::NotAMember { .. }
        | ProposeError::LastVoter { .. } => Outcome::Refused(error.to_string()),
        _ => Outcome::Unavailable(error.to_string()),
    }
}

impl Clients {
    pub(super) fn new(timeout: Duration) -> Clients {
        Clients {
            timeout,
            waiters: BTreeMap::new(),
            writes: Vec::new(),
            reads: Vec::new(),
            read_groups: BTreeMap::new(),
            ready: VecDeque::new(),
            next_context: 0,
            anonymous: (0, 0),
        }
    }

    /// Takes a request: answers it at once, or queues it for the round's end, or proposes it
    /// (membership changes, which cannot share a batch). Returns the node's actions.
    pub(super) fn on_request(
        &mut self,
        node: &mut Node,
        kv: &KvStore,
        request: Request,
    ) -> Vec<Action> {
        let Request { call, reply } = request;
        let (outcome, actions) = match call {
            Call::Read {
                key,
                mode: ReadMode::Local,
            } => (Outcome::Value(kv.get(&key).cloned()), Vec::new()),
            Call::Read {
                key,
                mode: ReadMode::Index,
            } => {
                self.reads.push((key, reply));
                return Vec::new();
            }
            Call::Read {
                key,
                mode: ReadMode::Log,
            } => {
                let op = KvOp::Get { key };
                self.writes.push(PendingWrite {
                    op,
                    session: None,
                    reply,
                });
                return Vec::new();
            }
            Call::Write { op, session } => {
                self.writes.push(PendingWrite { op, session, reply });
                return Vec::new();
            }
            Call::Membership(change) => {
                if !node.is_ready_leader() {
                    (not_leader(node), Vec::new())
                } else {
                    let term = node.term();
                    match node.propose_membership(term, change) {
                        Ok(proposed) => {
                            self.wait(proposed.first_index, term, Expect::Membership, reply);
                            return proposed.actions;
                        }
                        Err(e) => (propose_error(e), Vec::new()),
                    }
                }
            }
            Call::Transfer(target) => match node.step_down(target) {
                Ok(actions) => (Outcome::Done, actions),
                Err(raft_core::TransferError::NotLeader { leader }) => {
                    (Outcome::NotLeader(leader), Vec::new())
                }
                Err(e) => (Outcome::Refused(e.to_string()), Vec::new()),
            },
            Call::Snapshot => match node.install_snapshot(node.applied_index(), kv.to_bytes()) {
                Ok(actions) => (Outcome::Done, actions),
                Err(e) => (Outcome::Refused(e.to_string()), Vec::new()),
            },
            // Answered by the host, which has the counters.
            Call::Status => return Vec::new(),
        };
        let _ = reply.send(outcome);
        actions
    }

    fn wait(&mut self, index: u64, term: u64, expect: Expect, reply: oneshot::Sender<Outcome>) {
        let deadline = Instant::now() + self.timeout;
        let waiter = Waiter {
            term,
            expect,
            reply,
            deadline,
        };
        if let Some(old) = self.waiters.insert(index, waiter) {
            // A leader never proposes twice at one index in one term; a waiter from an earlier
            // term at this index lost its entry to this one.
            let _ = old.reply.send(Outcome::Unavailable(
                "the entry was replaced by a later leader's; not applied".into(),
            ));
        }
    }

    /// Proposes the round's writes as one batch.
    pub(super) fn propose_round(&mut self, node: &mut Node) -> Vec<Action> {
        if self.writes.is_empty() {
            return Vec::new();
        }
        let writes = std::mem::take(&mut self.writes);
        if !node.is_ready_leader() {
            let outcome = not_leader(node);
            for write in writes {
                let _ = write.reply.send(outcome.clone());
            }
            return Vec::new();
        }
        let term = node.term();
        if self.anonymous.0 != term {
            self.anonymous = (term, 0);
        }
        // Terms are counted in 31 bits here; a cluster would need 2^31 elections to reuse one.
        let anonymous_client = ANONYMOUS_CLIENTS | (term as u32 & !ANONYMOUS_CLIENTS);
        let batch: Vec<Bytes> = writes
            .iter()
            .map(|write| {
                let (client, seq) = match write.session {
                    Some(session) => (session.client, session.seq),
                    None => {
                        self.anonymous.1 += 1;
                        (anonymous_client, self.anonymous.1)
                    }
                };
                let command = Command {
                    client,
                    seq,
                    op: write.op.clone(),
                };
                Bytes::from(command.encode())
            })
            .collect();
        match node.propose_batch(term, batch) {
            Ok(proposed) => {
                for (index, write) in (proposed.first_index..).zip(writes) {
                    self.wait(index, term, Expect::of(&write.op), write.reply);
                }
                proposed.actions
            }
            Err(e) => {
                let outcome = propose_error(e);
                for write in writes {
                    let _ = write.reply.send(outcome.clone());
                }
                Vec::new()
            }
        }
    }

    /// Asks one ReadIndex confirmation for the round's reads.
    pub(super) fn read_round(&mut self, node: &mut Node) -> Vec<Action> {
        if self.reads.is_empty() {
            return Vec::new();
        }
        let reads = std::mem::take(&mut self.reads);
        let refusal = if node.is_ready_leader() {
            self.next_context += 1;
            let context = self.next_context;
            match node.read_index(context) {
                Ok(actions) => {
                    let deadline = Instant::now() + self.timeout;
                    self.read_groups
                        .insert(context, ReadGroup { reads, deadline });
                    return actions;
                }
                Err(ReadError::NotLeader { leader }) => Outcome::NotLeader(leader),
                Err(ReadError::NotReady) => not_leader(node),
            }
        } else {
            not_leader(node)
        };
        for (_, reply) in reads {
            let _ = reply.send(refusal.clone());
        }
        Vec::new()
    }

    pub(super) fn read_ready(&mut self, context: u64, index: u64) {
        self.ready.push_back((index, context));
    }

    /// Serves the confirmed reads whose index is applied.
    pub(super) fn serve_reads(&mut self, kv: &KvStore, applied: u64) {
        while let Some(&(index, context)) = self.ready.front() {
            if index > applied {
                break;
            }
            self.ready.pop_front();
            if let Some(group) = self.read_groups.remove(&context) {
                for (key, reply) in group.reads {
                    let _ = reply.send(Outcome::Value(kv.get(&key).cloned()));
                }
            }
        }
    }

    /// Applies committed entries to the store and answers their waiters.
    pub(super) fn apply(&mut self, kv: &mut KvStore, entries: &[raft_core::Entry]) {
        for entry in entries {
            let result = match entry.kind {
                raft_core::EntryKind::Normal => Command::decode(&entry.data).map(|c| kv.apply(&c)),
                _ => None,
            };
            let Some(waiter) = self.waiters.remove(&entry.index) else {
                continue;
            };
            let outcome = if entry.term != waiter.term {
                Outcome::Unavailable(
                    "the entry was replaced by a later leader's; not applied".into(),
                )
            } else {
                match (waiter.expect, result) {
                    (Expect::Membership, _) => Outcome::Done,
                    (Expect::Done, Some(KvResult::Done)) => Outcome::Done,
                    (Expect::Swapped, Some(KvResult::Swapped(swapped))) => {
                        Outcome::Swapped(swapped)
                    }
                    (Expect::Value, Some(KvResult::Value(value))) => Outcome::Value(value),
                    // The session already moved past this sequence number: a retry of a request
                    // the client had given up on. Its own result is not known here.
                    _ => Outcome::Unknown(
                        "a request older than the session's latest; result not kept".into(),
                    ),
                }
            };
            let _ = waiter.reply.send(outcome);
        }
    }

    /// A snapshot from the leader replaced the store: the entries up to `index` are applied,
    /// but their results are not known here.
    pub(super) fn snapshot_installed(&mut self, index: u64) {
        let later = self.waiters.split_off(&(index + 1));
        for (_, waiter) in std::mem::replace(&mut self.waiters, later) {
            let _ = waiter.reply.send(Outcome::Unknown(
                "applied through a snapshot; result unknown".into(),
            ));
        }
    }

    /// The node was reset: its log may give the indexes writes wait for to other entries, so
    /// every waiting write is answered as unknown.
    pub(super) fn storage_reset(&mut self) {
        for (_, waiter) in std::mem::take(&mut self.waiters) {
            let _ = waiter.reply.send(Outcome::Unknown(
                "the node was reset before its result was known".into(),
            ));
        }
    }

    /// Reads waiting for confirmation die with the leadership (raft-core drops them); they
    /// had no effect, so they are refused. Waiting writes stay: their entries may commit.
    pub(super) fn leadership_lost(&mut self, leader: Option<NodeId>) {
        self.ready.clear();
        for (_, group) in std::mem::take(&mut self.read_groups) {
            for (_, reply) in group.reads {
                let _ = reply.send(Outcome::NotLeader(leader));
            }
        }
    }

    /// Answers what waited too long.
    pub(super) fn expire(&mut self) {
        let now = Instant::now();
        let expired: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, w)| w.deadline <= now)
            .map(|(&index, _)| index)
            .collect();
        for index in expired {
            if let Some(waiter) = self.waiters.remove(&index) {
                let _ = waiter.reply.send(Outcome::Unknown(format!(
                    "not applied within {} ms; it may still take effect",
                    self.timeout.as_millis()
                )));
            }
        }
        let late: Vec<u64> = self
            .read_groups
            .iter()
            .filter(|(_, g)| g.deadline <= now)
            .map(|(&context, _)| context)
            .collect();
        for context in late {
            if let Some(group) = self.read_groups.remove(&context) {
                for (_, reply) in group.reads {
                    let _ = reply.send(Outcome::Unavailable(
                        "the read was not confirmed in time".into(),
                    ));
                }
            }
        }
    }

    /// The server is stopping: every open request is answered.
    pub(super) fn abandon_all(&mut self, why: &str) {
        for (_, waiter) in std::mem::take(&mut self.waiters) {
            let _ = waiter.reply.send(Outcome::Unknown(why.to_string()));
        }
        for write in std::mem::take(&mut self.writes) {
            let _ = write.reply.send(Outcome::Unavailable(why.to_string()));
        }
        for (_, reply) in std::mem::take(&mut self.reads) {
            let _ = reply.send(Outcome::Unavailable(why.to_string()));
        }
        for (_, group) in std::mem::take(&mut self.read_groups) {
            for (_, reply) in group.reads {
                let _ = reply.send(Outcome::Unavailable(why.to_string()));
            }
        }
        self.ready.clear();
    }
}
