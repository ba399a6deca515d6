//! The clients: the workload's closed-loop clients, each with one operation in flight,
//! looking for the leader by following redirects, retrying on timeouts, and recording every
//! invocation and completion in the history the linearizability check reads.
//!
//! Architecture invariant: a client talks to the cluster only through requests to a node
//! and the replies it gets back (`service.rs`), one client-network hop each way (a decision
//! keyed by the operation, its attempt and the way it goes). Its operations and think times
//! are drawn from generators keyed by the client and the operation's sequence number (and
//! recorded, so that a bundle replays them), or come from a replayed workload. An operation that timed out on its last attempt is recorded as
//! unknown, not failed: it may still take effect. No new operation starts once the liveness
//! phase has begun, except the liveness probe's (`liveness.rs`).

use super::events::Event;
use super::trace_text::{fmt_op, fmt_outcome};
use super::World;
use crate::config::{Micros, SimConfig};
use crate::decisions::{Key, Leg};
use crate::event;
use crate::history::{History, Outcome};
use crate::kv::{Command, KvOp, KvResult};
use crate::rng::Stream;
use std::collections::{BTreeMap, VecDeque};

/// One client operation of an explicit workload: wait `think_us` after the previous operation
/// completed (or after the start, for the first), then invoke `op`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScriptedOp {
    pub think_us: Micros,
    pub op: KvOp,
}

/// The explicit client workload of a run: each client's operations in order.
pub type WorkloadScript = Vec<Vec<ScriptedOp>>;

/// A node's answer to a client's request.
#[derive(Clone, Debug)]
pub(super) enum Reply {
    Done(KvResult),
    /// Not the leader (or not ready to lead): the leader it knows of, if any.
    NotLeader(Option<usize>),
}

/// The clients of a run and what they did.
pub(super) struct Clients {
    /// The workload's clients, then the liveness probe once the faults stop.
    pub(super) list: Vec<Client>,
    /// The run's seed: each operation and think time draws from a generator of its own,
    /// keyed by the client and the operation's sequence number (`World::workload_draws`).
    seed: u64,
    /// Replaying an explicit workload: each client's remaining operations.
    replay: Option<Vec<VecDeque<ScriptedOp>>>,
    /// What the clients did, recorded for the bundle.
    recorded: WorkloadScript,
    /// Each client's think time before its next operation.
    next_think: Vec<Micros>,
    /// Every operation invoked, with its outcome.
    pub(super) history: History,
}

/// One client operation in flight.
#[derive(Clone, Debug)]
struct InFlight {
    seq: u64,
    command: Command,
    attempt: u32,
    history_index: usize,
    timed_out: bool,
}

pub(super) struct Client {
    id: u32,
    seq: u64,
    guess: usize,
    /// The node whose hint sent the client to `guess`: when `guess` knows no leader, the
    /// client moves on from the hinting node, so a stale hint (a removed node still naming
    /// an old leader) cannot send it back and forth between the same two nodes.
    hinted_by: Option<usize>,
    current: Option<InFlight>,
    last_seen: BTreeMap<String, Option<String>>,
    /// The liveness probe: one write issued when the faults stop.
    probe: bool,
}

impl Client {
    pub(super) fn new(id: usize, guess: usize, probe: bool) -> Client {
        Client {
            id: id as u32,
            seq: 0,
            guess,
            current: None,
            hinted_by: None,
            last_seen: BTreeMap::new(),
            probe,
        }
    }

    /// The next node to try when `guess` knew no leader or did not answer: the one after
    /// the node that hinted at `guess`, else the one after `guess`.
    fn move_on(&mut self, nodes: usize) {
        self.guess = (self.hinted_by.take().unwrap_or(self.guess) + 1) % nodes;
    }
}

impl Clients {
    pub(super) fn new(config: &SimConfig, replay: Option<&WorkloadScript>) -> Clients {
        let n = config.nodes;
        Clients {
            list: (0..config.workload.clients)
                .map(|c| Client::new(c, c % n, false))
                .collect(),
            seed: config.seed,
            replay: replay.map(|w| w.iter().map(|ops| ops.iter().cloned().collect()).collect()),
            recorded: vec![Vec::new(); config.workload.clients],
            next_think: vec![0; config.workload.clients],
            history: History::default(),
        }
    }

    /// The workload as it ran: the recording (the replayed workload is the caller's).
    pub(super) fn into_parts(self) -> (History, WorkloadScript) {
        (self.history, self.recorded)
    }
}

impl World {
    /// Each client wakes after a first think time.
    pub(super) fn start_clients(&mut self) {
        for client in 0..self.clients.list.len() {
            let think = self
                .workload_draws("workload/think", client, 1)
                .between(0, self.config.workload.think_max_us);
            if let Some(at) = self.think_before_next(client, think) {
                self.schedule(at, Event::ClientWake { client });
            }
        }
    }

    pub(super) fn client_issue(&mut self, client: usize) {
        let now = self.now;
        let c = &mut self.clients.list[client];
        if c.current.is_some() || (self.liveness.started() && !c.probe) || (c.probe && c.seq > 0) {
            return;
        }
        c.seq += 1;
        let seq = c.seq;
        let op = if c.probe {
            KvOp::Put {
                key: "probe".into(),
                value: format!("c{}s{seq}", c.id),
            }
        } else if let Some(replay) = self.clients.replay.as_mut() {
            match replay.get_mut(client).and_then(|ops| ops.pop_front()) {
                Some(scripted) => scripted.op,
                None => return,
            }
        } else {
            let mut rng = self.workload_draws("workload/op", client, seq);
            let (w, c) = (&self.config.workload, &self.clients.list[client]);
            let op = draw_op(&mut rng, w, c, seq);
            let think_us = self.clients.next_think[client];
            self.clients.recorded[client].push(ScriptedOp {
                think_us,
                op: op.clone(),
            });
            op
        };
        let c = &mut self.clients.list[client];
        let client_id = c.id;
        let command = Command {
            client: client_id,
            seq,
            op,
        };
        let history_index = self
            .clients
            .history
            .invoke(client_id, command.op.clone(), now);
        let what = fmt_op(&command.op);
        self.clients.list[client].current = Some(InFlight {
            seq,
            command,
            attempt: 0,
            history_index,
            timed_out: false,
        });
        self.record(event!(
            now,
            None,
            "invoke",
            client = client_id,
            seq = seq,
            op = what
        ));
        self.client_attempt(client);
    }

    fn client_attempt(&mut self, client: usize) {
        let now = self.now;
        let timeout = self.config.workload.attempt_timeout_us;
        let c = &mut self.clients.list[client];
        let Some(op) = c.current.as_mut() else { return };
        op.attempt += 1;
        let (seq, attempt, command, node) = (op.seq, op.attempt, op.command.clone(), c.guess);
        let delay = self.client_hop(client, seq, attempt, Leg::Request);
        self.schedule(
            now + delay,
            Event::ClientRequest {
                node,
                client,
                seq,
                attempt,
                command,
            },
        );
        self.schedule(
            now + timeout,
            Event::ClientTimeout {
                client,
                seq,
                attempt,
            },
        );
    }

    /// The latency of one hop between a client and a node: a decision keyed by the
    /// operation, the attempt and the way it goes.
    pub(super) fn client_hop(&mut self, client: usize, seq: u64, attempt: u32, leg: Leg) -> Micros {
        let key = Key::Hop {
            client: client as u32,
            seq,
            attempt,
            leg,
        };
        let network = &self.network;
        self.decisions.hop(key, |rng| network.client_latency(rng))
    }

    pub(super) fn on_client_reply(&mut self, client: usize, seq: u64, attempt: u32, reply: Reply) {
        let n = self.config.nodes;
        let c = &mut self.clients.list[client];
        let Some(op) = c.current.as_ref().filter(|op| op.seq == seq) else {
            return;
        };
        match reply {
            Reply::Done(result) => {
                if let (KvOp::Get { key }, KvResult::Value(v)) = (&op.command.op, &result) {
                    c.last_seen.insert(key.clone(), v.clone());
                }
                if let (KvOp::Put { key, value }, KvResult::Done) = (&op.command.op, &result) {
                    c.last_seen.insert(key.clone(), Some(value.clone()));
                }
                self.complete(client, Outcome::Ok(result));
            }
            Reply::NotLeader(hint) => {
                if attempt != op.attempt {
                    return;
                }
                c.guess = match hint {
                    Some(leader) => {
                        c.hinted_by = Some(c.guess);
                        leader
                    }
                    None => {
                        c.move_on(n);
                        c.guess
                    }
                };
                // Without a known leader, back off a little before asking again.
                let backoff = if hint.is_some() {
                    0
                } else {
                    self.config.tick_us * 5
                };
                self.schedule(
                    self.now + backoff,
                    Event::ClientRetry {
                        client,
                        seq,
                        attempt,
                    },
                );
            }
        }
    }

    pub(super) fn on_client_retry(&mut self, client: usize, seq: u64, attempt: u32) {
        let c = &self.clients.list[client];
        if c.current
            .as_ref()
            .is_some_and(|op| op.seq == seq && op.attempt == attempt)
        {
            self.retry_or_give_up(client);
        }
    }

    pub(super) fn on_client_timeout(&mut self, client: usize, seq: u64, attempt: u32) {
        let n = self.config.nodes;
        let c = &mut self.clients.list[client];
        let Some(op) = c
            .current
            .as_mut()
            .filter(|op| op.seq == seq && op.attempt == attempt)
        else {
            return;
        };
        op.timed_out = true;
        c.move_on(n);
        self.retry_or_give_up(client);
    }

    fn retry_or_give_up(&mut self, client: usize) {
        let c = &self.clients.list[client];
        let Some(op) = c.current.as_ref() else { return };
        if op.attempt < self.config.workload.max_attempts || c.probe {
            self.client_attempt(client);
        } else if op.timed_out {
            self.complete(client, Outcome::Unknown);
        } else {
            self.complete(client, Outcome::Fail);
        }
    }

    fn complete(&mut self, client: usize, outcome: Outcome) {
        let now = self.now;
        let c = &mut self.clients.list[client];
        let Some(op) = c.current.take() else { return };
        let (client_id, probe) = (c.id, c.probe);
        match &outcome {
            Outcome::Ok(_) => self.stats.ops_ok += 1,
            Outcome::Fail => self.stats.ops_fail += 1,
            Outcome::Unknown => self.stats.ops_unknown += 1,
        }
        self.record(event!(
            now,
            None,
            "complete",
            client = client_id,
            seq = op.seq,
            outcome = fmt_outcome(&outcome)
        ));
        self.clients
            .history
            .complete(op.history_index, outcome.clone(), now);
        if probe {
            self.probe_completed(&outcome);
            return;
        }
        let think = self
            .workload_draws("workload/think", client, op.seq + 1)
            .between(
                self.config.workload.think_min_us,
                self.config.workload.think_max_us,
            );
        if let Some(wait) = self.think_before_next(client, think) {
            self.schedule(now + wait, Event::ClientWake { client });
        }
    }

    /// The generator of one workload draw (`what`) for client `client`'s operation `seq`.
    fn workload_draws(&self, what: &str, client: usize, seq: u64) -> Stream {
        let mut rng = Stream::keyed(self.clients.seed, what, &[client as u64, seq]);
        if self.perturbed(crate::perturbation::Perturbation::ExtraDraw) {
            rng.next_u64();
        }
        rng
    }

    /// The wait before a client's next operation: drawn (and remembered for the recording),
    /// or taken from the replayed workload; None when a replayed client has nothing left.
    fn think_before_next(&mut self, client: usize, drawn: Micros) -> Option<Micros> {
        match self.clients.replay.as_ref() {
            Some(replay) => replay
                .get(client)
                .and_then(|ops| ops.front())
                .map(|op| op.think_us),
            None => {
                self.clients.next_think[client] = drawn;
                Some(drawn)
            }
        }
    }
}

/// Draws a client's next operation from the configured mix.
fn draw_op(rng: &mut Stream, w: &crate::config::Workload, c: &Client, seq: u64) -> KvOp {
    let key = format!("k{}", rng.below(w.keys));
    let value = format!("c{}s{seq}", c.id);
    let total = w.put_weight + w.append_weight + w.cas_weight + w.get_weight;
    let mut pick = rng.between(0, u64::from(total) - 1) as u32;
    if pick < w.put_weight {
        return KvOp::Put { key, value };
    }
    pick -= w.put_weight;
    if pick < w.append_weight {
        return KvOp::Append {
            key,
            value: format!("{value},"),
        };
    }
    pick -= w.append_weight;
    if pick < w.cas_weight {
        let expected = c.last_seen.get(&key).cloned().flatten();
        return KvOp::Cas {
            key,
            expected,
            new: value,
        };
    }
    KvOp::Get { key }
}
