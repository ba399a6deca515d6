//! The service each host runs on top of its node, for any [`Application`]: committed entries
//! applied to the replica, client requests turned into proposals (through the replica) or
//! ReadIndex reads, and the replies sent back one client-network hop away.
//!
//! Architecture invariant: the replica changes only by applying committed entries in order,
//! or by installing a snapshot the node hands out; a reply to a write leaves only when the
//! write is applied on the node that proposed it, and a ReadIndex get is answered only once
//! a quorum confirmed the read and apply reached its index. A node that is not the leader
//! (or not yet ready to lead) redirects with its leader hint. Requests and reads pending at a
//! crash, and reads pending when leadership ends, get no answer: the client times out.

use super::clients::Reply;
use super::{Status, World};
use crate::app::{Application, Completion, Replica, Request};
use crate::event;
use raft_core::Role;

/// A ReadIndex read a leader is confirming.
pub(super) struct PendingRead<A: Application> {
    pub(super) client: usize,
    pub(super) seq: u64,
    pub(super) attempt: u32,
    pub(super) op: A::Op,
}

/// A confirmed ReadIndex read waiting for apply to reach `index`.
pub(super) struct ConfirmedRead {
    pub(super) index: u64,
    pub(super) context: u64,
}

impl<A: Application> World<A> {
    /// Committed entries: into the replica (answering the clients whose operations this node
    /// proposed), then the reads they unblock, then the node learns how far they are
    /// processed and applied (NRG `Processed`: an application holding part of a batch back
    /// has consumed entries whose effects are not in its state yet).
    pub(super) fn apply(&mut self, node: usize, entries: Vec<raft_core::Entry>) {
        let now = self.now;
        let Some(last) = entries.last().map(|e| e.index) else {
            return;
        };
        self.checks.applied(now, node, &entries);
        self.count_applied(&entries);
        let first = entries[0].index;
        self.record(event!(now, Some(node), "apply", first = first, last = last));
        let mut done = std::mem::take(&mut self.spare_completions);
        for entry in &entries {
            if let Err(v) = self.hosts[node].replica.apply(entry, &mut done) {
                self.checks.app_violation(now, node, v);
            }
            for Completion {
                client,
                seq,
                output,
            } in done.drain(..)
            {
                use std::collections::hash_map::Entry as Slot;
                let Slot::Occupied(waiting) = self.hosts[node].waiting.entry((client, seq)) else {
                    continue;
                };
                let (attempt, index) = *waiting.get();
                let reply = if index == entry.index || A::answers_from_any_copy(&output) {
                    Reply::Done(output)
                } else if self.clients.list[client as usize].is_probe() {
                    Reply::EarlierCopy
                } else {
                    continue; // an earlier attempt's copy cannot answer this
                };
                waiting.remove();
                self.reply_to_client(client as usize, seq, attempt, reply);
            }
        }
        self.spare_completions = done;
        if let Err(v) = self.hosts[node].replica.check_after_apply() {
            self.checks.app_violation(now, node, v);
        }
        self.serve_reads(node, last);
        let host = &mut self.hosts[node];
        let applied = host.replica.applied_through(last);
        if let Some(raft) = host.node.as_mut() {
            let mut actions = std::mem::take(&mut self.spare_actions);
            match raft.processed_into(last, applied, &mut actions) {
                Ok(()) => self.execute(node, actions),
                Err(e) => panic!("simulated host broke the apply contract: {e}"),
            }
        }
    }

    /// Replaces the state machine with a snapshot received from the leader.
    pub(super) fn apply_snapshot(
        &mut self,
        node: usize,
        meta: &raft_core::SnapshotMeta,
        data: &[u8],
    ) {
        let now = self.now;
        let index = meta.index;
        let host = &mut self.hosts[node];
        if let Err(e) = host.replica.restore(meta, data) {
            panic!("snapshots hold a state this host wrote: {e}");
        }
        self.record(event!(now, Some(node), "apply-snapshot", index = index));
        self.serve_reads(node, index);
        let host = &mut self.hosts[node];
        if let Some(raft) = host.node.as_mut() {
            match raft.applied(index) {
                Ok(actions) => self.execute(node, actions),
                Err(e) => panic!("simulated host broke the apply contract: {e}"),
            }
        }
    }

    /// A ReadIndex read is confirmed: serve it once apply has reached its index.
    pub(super) fn on_read_ready(&mut self, node: usize, context: u64, index: u64) {
        if self.scripted.is_some() {
            self.record(event!(
                self.now,
                Some(node),
                "read-ready",
                context = context,
                index = index
            ));
            return;
        }
        let host = &mut self.hosts[node];
        if !host.reads.contains_key(&context) {
            return;
        }
        host.reads_waiting.push(ConfirmedRead { index, context });
        let applied = host.node.as_ref().map_or(0, |n| n.applied_index());
        self.serve_reads(node, applied);
    }

    fn serve_reads(&mut self, node: usize, applied: u64) {
        let host = &mut self.hosts[node];
        let mut ready = Vec::new();
        host.reads_waiting.retain(|read| {
            if read.index <= applied {
                ready.push(read.context);
                false
            } else {
                true
            }
        });
        for context in ready {
            let host = &mut self.hosts[node];
            let Some(read) = host.reads.remove(&context) else {
                continue;
            };
            let reply = Reply::Done(host.replica.read(&read.op));
            self.reply_to_client(read.client, read.seq, read.attempt, reply);
        }
    }

    /// A client's request reaches a node: a leader ready to lead hands it to its replica,
    /// which proposes it (or, for a read with `read_index_gets`, the node starts a ReadIndex
    /// read); any other node redirects. A node that is not up does not answer.
    pub(super) fn on_client_request(
        &mut self,
        node: usize,
        client: usize,
        seq: u64,
        attempt: u32,
        part: u32,
        op: A::Op,
    ) {
        let now = self.now;
        let client_id = client as u32;
        let forwards = self.forwards();
        let host = &mut self.hosts[node];
        let Some(raft) = host.node.as_mut().filter(|_| host.status == Status::Up) else {
            return; // down: the client times out
        };
        if self.config.workload.read_index_gets && A::is_read(&op) {
            let reply = if raft.role() == Role::Leader {
                self.next_read_context += 1;
                let context = self.next_read_context;
                match raft.read_index(context) {
                    Ok(actions) => {
                        let read = PendingRead {
                            client,
                            seq,
                            attempt,
                            op,
                        };
                        host.reads.insert(context, read);
                        self.record(event!(
                            now,
                            Some(node),
                            "read-index",
                            client = client_id,
                            seq = seq,
                            context = context
                        ));
                        self.execute(node, actions);
                        return;
                    }
                    Err(_) => Reply::NotLeader(None),
                }
            } else {
                Reply::NotLeader(host.leader_hint)
            };
            self.reply_to_client(client, seq, attempt, reply);
            return;
        }
        let reply = if raft.is_ready_leader() {
            let term = raft.term();
            match host.replica.request(now, term, client_id, seq, &op, part) {
                Request::Answer(output) => Reply::Done(output),
                Request::Propose { data, answer_now } => match raft.propose(term, data) {
                    Ok(proposed) => {
                        let index = proposed.first_index;
                        let wait = answer_now.is_none().then_some(index);
                        self.proposed(node, client_id, seq, attempt, index, wait);
                        self.execute(node, proposed.actions);
                        match answer_now {
                            Some(output) => Reply::Done(output),
                            None => return,
                        }
                    }
                    Err(_) => Reply::NotLeader(None),
                },
                Request::ProposeBatch { term, entries } => {
                    let entries = entries.into_iter().map(Into::into).collect();
                    match raft.propose_batch(term, entries) {
                        Ok(proposed) => {
                            let (index, last) = (proposed.first_index, proposed.last_index);
                            self.proposed(node, client_id, seq, attempt, index, Some(last));
                            self.execute(node, proposed.actions);
                            return;
                        }
                        Err(_) => Reply::NotLeader(None),
                    }
                }
            }
        } else if let Some(leader) = host
            .leader_hint
            .filter(|_| forwards && raft.role() != Role::Leader)
        {
            // Forwarding: the leader appends it; this node answers once it applies it.
            let term = raft.term();
            if let Request::Propose {
                data,
                answer_now: None,
            } = host.replica.request(now, term, client_id, seq, &op, part)
            {
                if let Ok(actions) = raft.forward(data) {
                    host.waiting.insert((client_id, seq), (attempt, 0));
                    self.record(event!(
                        now,
                        Some(node),
                        "forward",
                        client = client_id,
                        seq = seq,
                        to = leader
                    ));
                    self.execute(node, actions);
                    return;
                }
            }
            Reply::NotLeader(Some(leader))
        } else {
            Reply::NotLeader(host.leader_hint)
        };
        self.reply_to_client(client, seq, attempt, reply);
    }

    /// Whether followers forward client requests to their leader
    /// (`Workload::forward_requests`; the key-value store only, whose sessions let the
    /// forwarder answer from its own copy of the entry).
    fn forwards(&self) -> bool {
        self.config.workload.forward_requests
            && self.config.state_machine == crate::config::StateMachine::Kv
    }

    /// A client's operation is in the log from `index`; its answer waits for the apply of
    /// the entry at `answered_at` (None: already answered).
    fn proposed(
        &mut self,
        node: usize,
        client: u32,
        seq: u64,
        attempt: u32,
        index: u64,
        answered_at: Option<u64>,
    ) {
        if let Some(at) = answered_at {
            self.hosts[node]
                .waiting
                .insert((client, seq), (attempt, at));
        }
        self.record(event!(
            self.now,
            Some(node),
            "propose",
            client = client,
            seq = seq,
            index = index
        ));
    }

    /// Sends a reply back to a client, one client-network hop away.
    fn reply_to_client(&mut self, client: usize, seq: u64, attempt: u32, reply: Reply<A::Output>) {
        if self.scripted.is_some() {
            // A script's request (`World::script_request`): the answer is the trace's.
            let text = match &reply {
                Reply::Done(output) => format!("ok{}", A::output_text(output)),
                Reply::NotLeader(hint) => match hint {
                    Some(n) => format!("not-leader:n{n}"),
                    None => "not-leader".into(),
                },
                Reply::EarlierCopy => "earlier-copy".into(),
            };
            let client = client as u32;
            self.record(event!(
                self.now,
                None,
                "reply",
                client = client,
                seq = seq,
                reply = text
            ));
            return;
        }
        let delay = self.client_hop(client, seq, attempt, crate::decisions::Leg::Reply);
        let at = self.now + delay;
        self.schedule(
            at,
            super::events::Event::ClientReply {
                client,
                seq,
                attempt,
                reply,
            },
        );
    }
}
