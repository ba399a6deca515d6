//! The client history: every operation's invocation and completion with virtual times, and
//! its linearizability check after the run.

use crate::config::Micros;
use crate::kv::{KvOp, KvResult};
pub use crate::linearizability::Verdict;
use crate::linearizability::{check_kv, CheckOptions, KvInput, KvOutput, Operation, PENDING};

/// How an operation ended, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok(KvResult),
    /// Definitely not executed (every attempt was refused before reaching the log).
    Fail,
    /// Timed out: it may or may not have taken effect.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp {
    pub client: u32,
    pub op: KvOp,
    pub invoked: Micros,
    /// None until completed (and for operations still open at the end of the run).
    pub completed: Option<(Micros, Outcome)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub ops: Vec<HistoryOp>,
}

/// Search budget for the linearizability check; a run's history is small, so hitting this
/// means something pathological and is reported, not passed.
const MAX_STEPS: u64 = 50_000_000;

/// Memory budget of the check's caches: without it a few histories of a 10,000-seed sweep
/// (seeds 285, 8766, 7875) took up to 2 GB before the step budget ran out. Ordinary
/// histories use a few MiB; reaching this is reported like the step budget.
const MAX_CACHE_BYTES: u64 = 256 << 20;

impl History {
    pub fn invoke(&mut self, client: u32, op: KvOp, at: Micros) -> usize {
        self.ops.push(HistoryOp {
            client,
            op,
            invoked: at,
            completed: None,
        });
        self.ops.len() - 1
    }

    pub fn complete(&mut self, index: usize, outcome: Outcome, at: Micros) {
        self.ops[index].completed = Some((at, outcome));
    }

    /// The history in the checker's terms. Definitely-failed operations did not happen and
    /// are left out; unknown and unfinished ones may have happened at any time after their
    /// invocation.
    pub fn to_operations(&self) -> Vec<Operation<KvInput, KvOutput>> {
        let mut out = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let input = match &op.op {
                KvOp::Put { key, value } => KvInput::Put {
                    key: key.clone(),
                    value: value.clone(),
                },
                KvOp::Append { key, value } => KvInput::Append {
                    key: key.clone(),
                    value: value.clone(),
                },
                KvOp::Cas { key, expected, new } => KvInput::Cas {
                    key: key.clone(),
                    expected: expected.clone(),
                    new: new.clone(),
                },
                KvOp::Get { key } => KvInput::Get { key: key.clone() },
            };
            let (ret, output) = match &op.completed {
                Some((_, Outcome::Fail)) => continue,
                Some((at, Outcome::Ok(result))) => {
                    let output = match result {
                        KvResult::Done => KvOutput::Ok,
                        KvResult::Value(v) => KvOutput::Value(v.clone()),
                        KvResult::Swapped(true) => KvOutput::Ok,
                        KvResult::Swapped(false) => KvOutput::Fail,
                    };
                    (*at, output)
                }
                Some((_, Outcome::Unknown)) | None => (PENDING, KvOutput::Unknown),
            };
            out.push(Operation {
                client: u64::from(op.client),
                call: op.invoked,
                ret,
                input,
                output,
            });
        }
        out
    }

    /// Checks the history for linearizability.
    pub fn check(&self) -> Verdict {
        check_kv(
            &self.to_operations(),
            &CheckOptions::with_max_steps(MAX_STEPS).with_max_cache_bytes(MAX_CACHE_BYTES),
        )
    }
}
