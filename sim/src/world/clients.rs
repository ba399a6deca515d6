//! The clients: the workload's closed-loop clients, each with one operation in flight,
//! looking for the leader by following redirects, retrying on timeouts, and recording every
//! invocation and completion in the history the linearizability check reads.
//!
//! Architecture invariant: a client talks to the cluster only through requests to a node
//! and the replies it gets back (`service.rs`), one client-network hop each way (a decision
//! keyed by the operation, its attempt and the way it goes). Its operations and think times
//! are drawn from generators keyed by the client and the operation's sequence number (and
//! recorded, so that a bundle replays them), or come from a replayed workload. An operation
//! that timed out on its last attempt is recorded as unknown, not failed: it may still take
//! effect. No new operation starts once the liveness
//! phase has begun, except the liveness probe's (`liveness.rs`).

use super::events::Event;
use super::trace_text::fmt_outcome;
use super::World;
use crate::app::Application;
use crate::config::{Micros, SimConfig};
use crate::decisions::{Key, Leg};
use crate::event;
use crate::history::{History, Outcome};
use crate::rng::Stream;
use std::collections::VecDeque;

/// One client operation of an explicit workload: wait `think_us` after the previous operation
/// completed (or after the start, for the first), then invoke `op` (the application's
/// operation as JSON, so a bundle holds any application's workload).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScriptedOp {
    pub think_us: Micros,
    pub op: serde_json::Value,
}

/// The explicit client workload of a run: each client's operations in order.
pub type WorkloadScript = Vec<Vec<ScriptedOp>>;

/// The client workload of a run as it ran: kept as the application's operations, and made
/// into a [`WorkloadScript`] (JSON) only when asked ([`RecordedWorkload::script`]: a bundle
/// is written), so a run does not pay for converting every operation.
#[derive(Clone)]
pub struct RecordedWorkload(Recorded);

#[derive(Clone)]
enum Recorded {
    Script(WorkloadScript),
    Typed {
        ops: std::sync::Arc<dyn std::any::Any + Send + Sync>,
        to_script: fn(&(dyn std::any::Any + Send + Sync)) -> WorkloadScript,
    },
}

impl RecordedWorkload {
    /// A workload given as a script (a replay).
    pub fn from_script(script: WorkloadScript) -> RecordedWorkload {
        RecordedWorkload(Recorded::Script(script))
    }

    /// Each client's operations, as JSON.
    pub fn script(&self) -> WorkloadScript {
        match &self.0 {
            Recorded::Script(s) => s.clone(),
            Recorded::Typed { ops, to_script } => to_script(ops.as_ref()),
        }
    }
}

impl std::fmt::Debug for RecordedWorkload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordedWorkload(..)")
    }
}

/// Converts a typed recording of application `A`.
fn typed_to_script<A: Application>(ops: &(dyn std::any::Any + Send + Sync)) -> WorkloadScript {
    let ops = ops
        .downcast_ref::<Vec<Vec<Timed<A>>>>()
        .expect("recorded with this application's operations");
    ops.iter()
        .map(|client| {
            client
                .iter()
                .map(|(think_us, op)| ScriptedOp {
                    think_us: *think_us,
                    op: serde_json::to_value(op).expect("operations serialize"),
                })
                .collect()
        })
        .collect()
}

/// An operation and the think time before it.
type Timed<A> = (Micros, <A as Application>::Op);

/// A node's answer to a client's request.
#[derive(Clone, Debug)]
pub(super) enum Reply<O> {
    Done(O),
    /// Not the leader (or not ready to lead): the leader it knows of, if any.
    NotLeader(Option<usize>),
    /// The answer of a copy an earlier attempt proposed, which cannot be the operation's
    /// outcome (a later copy may still take effect) but proves that the leader committed the
    /// write after it was invoked. Sent to the liveness probe only: its question is whether
    /// a leader commits, and a probe whose retries keep landing behind a slow log's backlog
    /// would otherwise chase its own latest copy for ever.
    EarlierCopy,
}

/// The clients of a run and what they did.
pub(super) struct Clients<A: Application> {
    /// The workload's clients, then the liveness probe once the faults stop.
    pub(super) list: Vec<Client<A>>,
    /// The run's seed: each operation and think time draws from a generator of its own,
    /// keyed by the client and the operation's sequence number (`World::workload_draws`).
    seed: u64,
    /// Replaying an explicit workload: each client's remaining operations.
    replay: Option<Vec<VecDeque<Timed<A>>>>,
    /// What the clients did, recorded for the bundle.
    recorded: Vec<Vec<(Micros, A::Op)>>,
    /// Each client's think time before its next operation.
    next_think: Vec<Micros>,
    /// Every operation invoked, with its outcome.
    pub(super) history: History<A>,
}

/// One client operation in flight.
struct InFlight<A: Application> {
    seq: u64,
    op: A::Op,
    /// Requests sent for it (each attempt of each part): matches replies and timeouts.
    attempt: u32,
    /// Times it was started from its first part.
    tries: u32,
    /// The part the next request carries (from 0; a batch has one per message).
    part: u32,
    /// The node the latest request went to.
    node: usize,
    history_index: usize,
    /// A request that could have reached the log timed out: the outcome is unknown, not
    /// failed, unless an answer comes.
    timed_out: bool,
}

pub(super) struct Client<A: Application> {
    id: u32,
    seq: u64,
    guess: usize,
    /// The node whose hint sent the client to `guess`: when `guess` knows no leader, the
    /// client moves on from the hinting node, so a stale hint (a removed node still naming
    /// an old leader) cannot send it back and forth between the same two nodes.
    hinted_by: Option<usize>,
    current: Option<InFlight<A>>,
    memory: A::ClientMemory,
    /// The liveness probe: one write issued when the faults stop.
    probe: bool,
    /// Where the client reads when it is a sticky reader (`sticky.rs`).
    pub(super) affinity: super::sticky::Affinity,
}

impl<A: Application> Client<A> {
    pub(super) fn new(id: usize, guess: usize, probe: bool) -> Client<A> {
        Client {
            id: id as u32,
            seq: 0,
            guess,
            current: None,
            hinted_by: None,
            memory: A::ClientMemory::default(),
            probe,
            affinity: super::sticky::Affinity::default(),
        }
    }

    /// The client's number in the history and the trace.
    pub(super) fn id(&self) -> u32 {
        self.id
    }

    /// Whether this is the liveness probe.
    pub(super) fn is_probe(&self) -> bool {
        self.probe
    }

    /// The next node to try when `guess` knew no leader or did not answer: the one after
    /// the node that hinted at `guess`, else the one after `guess`.
    fn move_on(&mut self, nodes: usize) {
        self.guess = (self.hinted_by.take().unwrap_or(self.guess) + 1) % nodes;
    }
}

impl<A: Application> Clients<A> {
    /// Panics when a replayed workload holds an operation that is not the application's
    /// (the bundle names its state machine, so only a hand-edited bundle does).
    pub(super) fn new(config: &SimConfig, replay: Option<&WorkloadScript>) -> Clients<A> {
        let n = config.nodes;
        let sticky = config.workload.sticky_readers.map_or(0, |s| s.clients);
        let replay = replay.map(|w| {
            w.iter()
                .map(|ops| {
                    ops.iter()
                        .map(|s| {
                            let op = serde_json::from_value(s.op.clone()).unwrap_or_else(|e| {
                                panic!("the workload's operation {} is not one of this state machine's: {e}", s.op)
                            });
                            (s.think_us, op)
                        })
                        .collect()
                })
                .collect()
        });
        Clients {
            list: (0..config.workload.clients)
                .map(|c| {
                    let mut client = Client::new(c, c % n, false);
                    client.affinity = super::sticky::Affinity::new(c < sticky);
                    client
                })
                .collect(),
            seed: config.seed,
            replay,
            recorded: (0..config.workload.clients).map(|_| Vec::new()).collect(),
            next_think: vec![0; config.workload.clients],
            history: History::default(),
        }
    }

    /// The workload as it ran: the recording (the replayed workload is the caller's).
    pub(super) fn into_parts(self) -> (History<A>, RecordedWorkload) {
        let recorded = RecordedWorkload(Recorded::Typed {
            ops: std::sync::Arc::new(self.recorded),
            to_script: typed_to_script::<A>,
        });
        (self.history, recorded)
    }
}

impl<A: Application> World<A> {
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
            A::probe_op(c.id, seq)
        } else if let Some(replay) = self.clients.replay.as_mut() {
            match replay.get_mut(client).and_then(|ops| ops.pop_front()) {
                Some((_, op)) => op,
                None => return,
            }
        } else {
            let mut rng = self.workload_draws("workload/op", client, seq);
            let c = &mut self.clients.list[client];
            let op = A::draw_op(&mut rng, &self.config, &mut c.memory, c.id, seq);
            let think_us = self.clients.next_think[client];
            self.clients.recorded[client].push((think_us, op.clone()));
            op
        };
        let c = &mut self.clients.list[client];
        let client_id = c.id;
        let history_index = self.clients.history.invoke(client_id, op.clone(), now);
        let what = A::op_text(&op);
        self.clients.list[client].current = Some(InFlight {
            seq,
            op,
            attempt: 0,
            tries: 0,
            part: 0,
            node: 0,
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
        if op.part == 0 {
            op.tries += 1;
        }
        let (seq, attempt, part, guess) = (op.seq, op.attempt, op.part, c.guess);
        let op = op.op.clone();
        let node = self.sticky_target(client, &op).unwrap_or(guess);
        if let Some(current) = self.clients.list[client].current.as_mut() {
            current.node = node;
        }
        let delay = self.client_hop(client, seq, attempt, Leg::Request);
        self.schedule(
            now + delay,
            Event::ClientRequest {
                node,
                client,
                seq,
                attempt,
                part,
                op,
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

    pub(super) fn on_client_reply(
        &mut self,
        client: usize,
        seq: u64,
        attempt: u32,
        reply: Reply<A::Output>,
    ) {
        let n = self.config.nodes;
        let c = &mut self.clients.list[client];
        let Some(op) = c.current.as_mut().filter(|op| op.seq == seq) else {
            return;
        };
        match reply {
            Reply::Done(result) => {
                if A::is_part_ack(&result) {
                    // The next part goes to the same node, unless this is a stale answer.
                    if attempt == op.attempt && op.part + 1 < A::parts(&op.op) {
                        op.part += 1;
                        self.client_attempt(client);
                    }
                    return;
                }
                if A::is_refused_before_log(&result) && attempt != op.attempt {
                    return; // answers an earlier request (one that waited in a paused node)
                }
                if A::is_refusal(&result) && op.timed_out {
                    // An earlier attempt may have reached the log.
                    // Answered by an applied entry all the same: for the liveness probe, a
                    // commit.
                    self.complete(client, Outcome::Unknown, true);
                    return;
                }
                A::observe(&mut c.memory, &op.op, &result);
                if A::is_read(&op.op) && attempt == op.attempt {
                    let node = op.node;
                    self.read_succeeded(client, seq, node);
                }
                self.complete(client, Outcome::Ok(result), true);
            }
            Reply::EarlierCopy => {
                // The outcome stays open (a later copy may still take effect): unknown, but
                // answered by an applied entry, which is what the probe asks.
                self.complete(client, Outcome::Unknown, true);
            }
            Reply::NotLeader(hint) => {
                if attempt != op.attempt {
                    return;
                }
                op.part = 0;
                let stays = A::is_read(&op.op) && c.affinity.node(self.now).is_some();
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
                // Without a known leader, back off a little before asking again; a sticky
                // reader asks the node it stays at again, so it backs off too.
                let backoff = if hint.is_some() && !stays {
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
        // Only the last part can reach the log (earlier parts are staged on the leader), so
        // only its timeout leaves the outcome open.
        if op.part + 1 == A::parts(&op.op) {
            op.timed_out = true;
        }
        op.part = 0;
        c.move_on(n);
        self.retry_or_give_up(client);
    }

    fn retry_or_give_up(&mut self, client: usize) {
        let c = &self.clients.list[client];
        let Some(op) = c.current.as_ref() else { return };
        if op.tries < self.config.workload.max_attempts || c.probe {
            self.client_attempt(client);
        } else if op.timed_out {
            self.complete(client, Outcome::Unknown, false);
        } else {
            self.complete(client, Outcome::Fail, false);
        }
    }

    /// Ends the client's operation; `answered`: a node answered it (for the probe).
    fn complete(&mut self, client: usize, outcome: Outcome<A::Output>, answered: bool) {
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
            outcome = fmt_outcome::<A>(&outcome)
        ));
        self.clients
            .history
            .complete(op.history_index, outcome.clone(), now);
        if probe {
            self.probe_completed(answered);
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
    pub(super) fn workload_draws(&self, what: &str, client: usize, seq: u64) -> Stream {
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
                .map(|(think_us, _)| *think_us),
            None => {
                self.clients.next_think[client] = drawn;
                Some(drawn)
            }
        }
    }
}
