//! Plugging a state machine of your own into the simulator: a replicated counter (add,
//! read), run with every fault, the Raft checkers, the liveness check and a linearizability
//! check with a counter model written here.
//!
//! ```console
//! $ cargo run --release -p sim --example counter -- 7
//! ```

use raft_core::{Entry, EntryKind, SnapshotMeta};
use serde::{Deserialize, Serialize};
use sim::app::{AppViolation, Application, Completion, Replica, Request};
use sim::history::{History, Outcome};
use sim::linearizability::{check, CheckOptions, Model, Operation, Verdict, PENDING};
use sim::rng::Stream;
use sim::{RunOptions, SimConfig};
use std::collections::BTreeMap;

/// What a client asks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum CounterOp {
    Add(u64),
    Read,
}

/// The replica: the value, and per client the last operation applied with its answer (so
/// a retried add applies once and answers what it answered the first time; answering the
/// current value instead is a bug the linearizability check finds within a few seeds).
struct CounterReplica {
    value: u64,
    sessions: BTreeMap<u32, (u64, u64)>,
}

/// An entry: client, operation sequence, amount (reads go through the log too).
fn encode(client: u32, seq: u64, op: &CounterOp) -> Vec<u8> {
    let amount = match op {
        CounterOp::Add(n) => *n,
        CounterOp::Read => u64::MAX,
    };
    [
        client.to_le_bytes().as_slice(),
        &seq.to_le_bytes(),
        &amount.to_le_bytes(),
    ]
    .concat()
}

impl Replica<Counter> for CounterReplica {
    fn new(_config: &SimConfig) -> Self {
        CounterReplica {
            value: 0,
            sessions: BTreeMap::new(),
        }
    }

    fn apply(
        &mut self,
        entry: &Entry,
        done: &mut Vec<Completion<Counter>>,
    ) -> Result<(), AppViolation> {
        if entry.kind != EntryKind::Normal || entry.data.len() != 20 {
            return Ok(());
        }
        let client = u32::from_le_bytes(entry.data[0..4].try_into().unwrap());
        let seq = u64::from_le_bytes(entry.data[4..12].try_into().unwrap());
        let amount = u64::from_le_bytes(entry.data[12..20].try_into().unwrap());
        let output = match self.sessions.get(&client) {
            Some(&(last, answer)) if last >= seq => answer,
            _ if amount == u64::MAX => self.value,
            _ => {
                self.value += amount;
                self.sessions.insert(client, (seq, self.value));
                self.value
            }
        };
        done.push(Completion {
            client,
            seq,
            output,
        });
        Ok(())
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&(self.value, &self.sessions)).unwrap()
    }

    fn restore(&mut self, _meta: &SnapshotMeta, data: &[u8]) -> Result<(), String> {
        (self.value, self.sessions) = serde_json::from_slice(data).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn state_text(&self) -> String {
        self.value.to_string()
    }

    fn read(&self, _op: &CounterOp) -> u64 {
        self.value
    }

    fn request(
        &mut self,
        _now: u64,
        _term: u64,
        client: u32,
        seq: u64,
        op: &CounterOp,
        _part: u32,
    ) -> Request<Counter> {
        Request::Propose {
            data: encode(client, seq, op),
            answer_now: None,
        }
    }
}

/// The application: the replica above, a workload, and the model below.
struct Counter;

impl Application for Counter {
    type Op = CounterOp;
    /// The value after the operation (an add answers the sum it made).
    type Output = u64;
    type Replica = CounterReplica;
    type ClientMemory = ();

    fn draw_op(
        rng: &mut Stream,
        _config: &SimConfig,
        _memory: &mut (),
        _client: u32,
        _seq: u64,
    ) -> CounterOp {
        if rng.below(3) == 0 {
            CounterOp::Read
        } else {
            CounterOp::Add(rng.between(1, 5))
        }
    }

    fn probe_op(_client: u32, _seq: u64) -> CounterOp {
        CounterOp::Add(1)
    }

    fn is_read(op: &CounterOp) -> bool {
        *op == CounterOp::Read
    }

    fn op_text(op: &CounterOp) -> String {
        format!("{op:?}")
    }

    fn output_text(output: &u64) -> String {
        format!(":{output}")
    }

    fn check(history: &History<Counter>, _config: &SimConfig) -> Verdict {
        let ops: Vec<_> = history
            .ops
            .iter()
            .filter_map(|op| {
                let (ret, output) = match &op.completed {
                    Some((_, Outcome::Fail)) => return None,
                    Some((at, Outcome::Ok(v))) => (*at, Some(*v)),
                    _ => (PENDING, None),
                };
                Some(Operation {
                    client: u64::from(op.client),
                    call: op.invoked,
                    ret,
                    input: op.op.clone(),
                    output,
                })
            })
            .collect();
        check(
            &CounterModel,
            &ops,
            &CheckOptions::with_max_steps(10_000_000),
        )
    }
}

/// The counter's sequential specification: an add answers the new value, a read the value.
struct CounterModel;

impl Model for CounterModel {
    type State = u64;
    type Input = CounterOp;
    /// None: unknown.
    type Output = Option<u64>;

    fn init(&self) -> u64 {
        0
    }

    fn step(&self, state: &u64, input: &CounterOp, output: &Option<u64>) -> Option<u64> {
        let next = match input {
            CounterOp::Add(n) => state + n,
            CounterOp::Read => *state,
        };
        match output {
            Some(v) if *v != next => None,
            _ => Some(next),
        }
    }

    fn is_unknown(&self, _input: &CounterOp, output: &Option<u64>) -> bool {
        output.is_none()
    }

    fn is_trivial(&self, input: &CounterOp, output: &Option<u64>) -> bool {
        *input == CounterOp::Read && output.is_none()
    }
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let report = sim::run_app::<Counter>(SimConfig::draw(seed), &RunOptions::default(), |_, _| {});
    println!(
        "seed {seed}: {} client operations, {} entries committed, linearizability {}, verdict {}",
        report.history_ops,
        report.stats.entries_committed,
        report
            .linearizability
            .as_ref()
            .map_or("not checked".into(), |v| v.to_string()),
        match &report.violation {
            None => "PASS".to_string(),
            Some(v) => format!("FAIL {v}"),
        }
    );
    std::process::exit(if report.passed() { 0 } else { 1 });
}
