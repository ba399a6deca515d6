//! The key-value service each host runs on top of its node: committed commands applied to the
//! store, client requests turned into proposals or ReadIndex reads, and the replies sent back
//! one client-network hop away.
//!
//! Architecture invariant: the store changes only by applying committed entries in order,
//! or by installing a snapshot the node hands out; a reply to a write leaves only when the
//! write is applied on the node that proposed it, and a ReadIndex get is answered only once
//! a quorum confirmed the read and apply reached its index. A node that is not the leader
//! (or not yet ready to lead) redirects with its leader hint. Requests and reads pending at a
//! crash, and reads pending when leadership ends, get no answer: the client times out.

use super::clients::Reply;
use super::{Status, World};
use crate::event;
use crate::kv::{Command, KvOp, KvResult, KvStore};
use raft_core::{EntryKind, Role};

/// A ReadIndex get a leader is confirming.
pub(super) struct PendingRead {
    pub(super) client: usize,
    pub(super) seq: u64,
    pub(super) attempt: u32,
    pub(super) key: String,
}

/// A confirmed ReadIndex read waiting for apply to reach `index`.
pub(super) struct ConfirmedRead {
    pub(super) index: u64,
    pub(super) context: u64,
}

impl World {
    /// Committed entries: into the store (answering the clients whose writes this node
    /// proposed), then the reads they unblock, then the node learns they are applied.
    pub(super) fn apply(&mut self, node: usize, entries: Vec<raft_core::Entry>) {
        let now = self.now;
        let Some(last) = entries.last().map(|e| e.index) else {
            return;
        };
        self.checks.applied(now, node, &entries);
        self.count_applied(&entries);
        let first = entries[0].index;
        self.record(event!(now, Some(node), "apply", first = first, last = last));
        for entry in &entries {
            if entry.kind != EntryKind::Normal {
                continue;
            }
            let Some(command) = Command::decode(&entry.data) else {
                continue;
            };
            let result = self.hosts[node].kv.apply(&command);
            if let Some(attempt) = self.hosts[node]
                .waiting
                .remove(&(command.client, command.seq))
            {
                let reply = Reply::Done(result);
                self.reply_to_client(command.client as usize, command.seq, attempt, reply);
            }
        }
        self.serve_reads(node, last);
        let host = &mut self.hosts[node];
        if let Some(raft) = host.node.as_mut() {
            let mut actions = std::mem::take(&mut self.spare_actions);
            match raft.applied_into(last, &mut actions) {
                Ok(()) => self.execute(node, actions),
                Err(e) => panic!("simulated host broke the apply contract: {e}"),
            }
        }
    }

    /// Replaces the state machine with a snapshot received from the leader.
    pub(super) fn apply_snapshot(&mut self, node: usize, index: u64, data: &[u8]) {
        let now = self.now;
        let host = &mut self.hosts[node];
        host.kv = KvStore::from_bytes(data).expect("snapshots hold a store this host wrote");
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
            let value = host.kv.get(&read.key).cloned();
            let reply = Reply::Done(KvResult::Value(value));
            self.reply_to_client(read.client, read.seq, read.attempt, reply);
        }
    }

    /// A client's request reaches a node: a leader ready to lead proposes the command (or,
    /// for a get with `read_index_gets`, starts a ReadIndex read); any other node redirects.
    /// A node that is not up does not answer.
    pub(super) fn on_client_request(
        &mut self,
        node: usize,
        client: usize,
        seq: u64,
        attempt: u32,
        command: Command,
    ) {
        let now = self.now;
        let host = &mut self.hosts[node];
        let Some(raft) = host.node.as_mut().filter(|_| host.status == Status::Up) else {
            return; // down: the client times out
        };
        if let (true, KvOp::Get { key }) = (self.config.workload.read_index_gets, &command.op) {
            let reply = if raft.role() == Role::Leader {
                self.next_read_context += 1;
                let context = self.next_read_context;
                match raft.read_index(context) {
                    Ok(actions) => {
                        let read = PendingRead {
                            client,
                            seq,
                            attempt,
                            key: key.clone(),
                        };
                        host.reads.insert(context, read);
                        self.record(event!(
                            now,
                            Some(node),
                            "read-index",
                            client = command.client,
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
            match raft.propose(term, command.encode()) {
                Ok(proposed) => {
                    host.waiting.insert((command.client, command.seq), attempt);
                    self.record(event!(
                        now,
                        Some(node),
                        "propose",
                        client = command.client,
                        seq = seq,
                        index = proposed.first_index
                    ));
                    self.execute(node, proposed.actions);
                    return;
                }
                Err(_) => Reply::NotLeader(None),
            }
        } else {
            Reply::NotLeader(host.leader_hint)
        };
        self.reply_to_client(client, seq, attempt, reply);
    }

    /// Sends a reply back to a client, one client-network hop away.
    fn reply_to_client(&mut self, client: usize, seq: u64, attempt: u32, reply: Reply) {
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
