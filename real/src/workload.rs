//! The clients: threads that issue key-value operations against the cluster and record the
//! history the checker reads (`sim::history`, the same record the simulator keeps, with
//! microseconds of wall-clock time since the run began).
//!
//! Each client runs one operation at a time. An attempt the node refuses (not the leader,
//! unavailable) is retried, following the leader a node names; an attempt that times out is
//! retried only on a system that deduplicates by session (raft-kv), and the operation then
//! ends as unknown unless a later attempt gets an answer. Values are unique per operation
//! (`c<client>s<seq>`), so the durability check can find each acknowledged append in the
//! final values.

use crate::client::{KvClient, Reply};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sim::app::kv::KvApp;
use sim::history::Outcome;

/// The key-value history the harness records (the simulator's, for its checker).
pub type History = sim::history::History<KvApp>;
use state_machines::kv::{KvOp, KvResult};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The operation mix, as weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    pub put: u32,
    pub append: u32,
    pub cas: u32,
    pub get: u32,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub clients: usize,
    /// Keys that take every operation: `k0`, `k1`, ...
    pub keys: usize,
    /// Keys that only take appends (and reads): `ledger0`, ... Their final values must hold
    /// every acknowledged append exactly once.
    pub ledgers: usize,
    pub mix: Mix,
    /// Pause between one client's operations, drawn from the range.
    pub think_ms: (u64, u64),
    pub attempts: u32,
    /// Send each operation to a random node instead of the last leader seen (so reads reach
    /// followers: what exposes stale reads).
    pub random_node: bool,
    pub seed: u64,
}

/// The shared record of a run.
pub struct Recorder {
    pub start: Instant,
    pub history: Mutex<History>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            start: Instant::now(),
            history: Mutex::new(History::default()),
        }
    }

    pub fn now(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn invoke(&self, client: u32, op: KvOp) -> usize {
        let at = self.now();
        self.history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .invoke(client, op, at)
    }

    fn complete(&self, index: usize, outcome: Outcome<sim::kv::KvResult>) {
        let at = self.now();
        self.history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .complete(index, outcome, at);
    }
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder::new()
    }
}

pub fn ledger_key(i: usize) -> String {
    format!("ledger{i}")
}

/// One client's loop until `stop`.
struct ClientLoop {
    id: u32,
    client: Box<dyn KvClient>,
    nodes: usize,
    guess: usize,
    seq: u64,
    last_seen: BTreeMap<String, Option<String>>,
    rng: StdRng,
    workload: Workload,
}

impl ClientLoop {
    fn draw(&mut self) -> KvOp {
        let w = &self.workload;
        let tag = format!("c{}s{}", self.id, self.seq);
        if w.ledgers > 0 && self.rng.gen_ratio(1, 4) {
            let key = ledger_key(self.rng.gen_range(0..w.ledgers));
            return if self.rng.gen_ratio(1, 3) {
                KvOp::Get { key }
            } else {
                KvOp::Append {
                    key,
                    value: format!("{tag},"),
                }
            };
        }
        let key = format!("k{}", self.rng.gen_range(0..w.keys.max(1)));
        let total = w.mix.put + w.mix.append + w.mix.cas + w.mix.get;
        let mut pick = self.rng.gen_range(0..total.max(1));
        if pick < w.mix.put {
            return KvOp::Put { key, value: tag };
        }
        pick -= w.mix.put;
        if pick < w.mix.append {
            return KvOp::Append {
                key,
                value: format!("{tag},"),
            };
        }
        pick -= w.mix.append;
        if pick < w.mix.cas {
            let expected = self.last_seen.get(&key).cloned().flatten();
            return KvOp::Cas {
                key,
                expected,
                new: tag,
            };
        }
        KvOp::Get { key }
    }

    fn pick_node(&mut self) -> usize {
        self.rng.gen_range(0..self.nodes)
    }

    /// Runs one operation to its end and returns how it ended.
    fn perform(&mut self, op: &KvOp) -> Outcome<sim::kv::KvResult> {
        let mut unknown = false;
        for _ in 0..self.workload.attempts {
            if self.workload.random_node {
                self.guess = self.pick_node();
            }
            match self.client.invoke(self.guess, op, self.id, self.seq) {
                Reply::Ok(result) => {
                    match (op, &result) {
                        (KvOp::Get { key }, KvResult::Value(v)) => {
                            self.last_seen.insert(key.clone(), v.clone());
                        }
                        (KvOp::Put { key, value }, _) => {
                            self.last_seen.insert(key.clone(), Some(value.clone()));
                        }
                        (KvOp::Cas { key, new, .. }, KvResult::Swapped(true)) => {
                            self.last_seen.insert(key.clone(), Some(new.clone()));
                        }
                        _ => {}
                    }
                    return Outcome::Ok(result);
                }
                Reply::Redirect(Some(leader)) if leader < self.nodes => self.guess = leader,
                Reply::Redirect(_) | Reply::Fail(_) => {
                    self.guess = self.pick_node();
                    std::thread::sleep(Duration::from_millis(self.rng.gen_range(10..50)));
                }
                Reply::Unknown(_) => {
                    unknown = true;
                    if !self.client.exactly_once() {
                        return Outcome::Unknown;
                    }
                    self.guess = self.pick_node();
                }
            }
        }
        if unknown {
            Outcome::Unknown
        } else {
            Outcome::Fail
        }
    }

    fn run(mut self, recorder: &Recorder, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            self.seq += 1;
            let op = self.draw();
            let index = recorder.invoke(self.id, op.clone());
            let outcome = self.perform(&op);
            recorder.complete(index, outcome);
            let (lo, hi) = self.workload.think_ms;
            std::thread::sleep(Duration::from_millis(self.rng.gen_range(lo..=hi.max(lo))));
        }
    }
}

/// Starts the clients; they stop when `stop` is set. Client ids are 0..clients.
pub fn start(
    workload: &Workload,
    clients: Vec<Box<dyn KvClient>>,
    nodes: usize,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    clients
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            let mut rng =
                StdRng::seed_from_u64(workload.seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9));
            let guess = rng.gen_range(0..nodes);
            let state = ClientLoop {
                id: i as u32,
                client,
                nodes,
                guess,
                seq: 0,
                last_seen: BTreeMap::new(),
                rng,
                workload: workload.clone(),
            };
            let recorder = recorder.clone();
            let stop = stop.clone();
            std::thread::spawn(move || state.run(&recorder, &stop))
        })
        .collect()
}

/// Reads every key once, linearizably, as client `id` (after the faults are healed): the
/// final values, also recorded in the history.
pub fn final_reads(
    workload: &Workload,
    client: Box<dyn KvClient>,
    nodes: usize,
    leader: usize,
    id: u32,
    recorder: &Recorder,
) -> BTreeMap<String, Option<String>> {
    let keys = (0..workload.keys)
        .map(|i| format!("k{i}"))
        .chain((0..workload.ledgers).map(ledger_key));
    let mut state = ClientLoop {
        id,
        client,
        nodes,
        guess: leader,
        seq: 0,
        last_seen: BTreeMap::new(),
        rng: StdRng::seed_from_u64(workload.seed),
        workload: Workload {
            attempts: 20,
            random_node: false,
            ..workload.clone()
        },
    };
    let mut values = BTreeMap::new();
    for key in keys {
        state.seq += 1;
        let op = KvOp::Get { key: key.clone() };
        let index = recorder.invoke(id, op.clone());
        let outcome = state.perform(&op);
        if let Outcome::Ok(KvResult::Value(v)) = &outcome {
            values.insert(key, v.clone());
        }
        recorder.complete(index, outcome);
    }
    values
}
