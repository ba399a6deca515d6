//! The key-value store as an [`Application`]: put, append, compare-and-set and get, with
//! per-client sessions so a retried command applies once; gets through the log or
//! ReadIndex; checked with the key-value model, partitioned by key.

use super::{AppViolation, Application, Completion, Replica, Request};
use crate::config::SimConfig;
use crate::history::{History, Outcome};
use crate::kv::{Command, CommandRef, KvOp, KvResult, KvStore};
use crate::linearizability::{
    check_kv, CheckOptions, KvInput, KvOutput, Operation, Verdict, PENDING,
};
use crate::rng::Stream;
use raft_core::{Entry, EntryKind, SnapshotMeta};
use std::collections::BTreeMap;

/// The key-value application.
pub struct KvApp;

/// The key-value replica: the store.
pub struct KvReplica {
    pub store: KvStore,
}

impl Replica<KvApp> for KvReplica {
    fn new(_config: &SimConfig) -> KvReplica {
        KvReplica {
            store: KvStore::default(),
        }
    }

    #[inline]
    fn apply(
        &mut self,
        entry: &Entry,
        done: &mut Vec<Completion<KvApp>>,
    ) -> Result<(), AppViolation> {
        if entry.kind != EntryKind::Normal {
            return Ok(());
        }
        // Borrowed: the store copies a key or value only when it keeps a new one.
        let Some(command) = CommandRef::decode(&entry.data) else {
            return Ok(());
        };
        let output = self.store.apply_ref(&command);
        done.push(Completion {
            client: command.client,
            seq: command.seq,
            output,
        });
        Ok(())
    }

    fn snapshot(&self) -> Vec<u8> {
        self.store.to_bytes()
    }

    /// The value of key `k` (`-`: absent): what the scenarios append to.
    fn state_text(&self) -> String {
        self.store.get("k").cloned().unwrap_or_else(|| "-".into())
    }

    fn restore(&mut self, _meta: &SnapshotMeta, data: &[u8]) -> Result<(), String> {
        self.store = KvStore::from_bytes(data).ok_or("not a key-value snapshot")?;
        Ok(())
    }

    fn read(&self, op: &KvOp) -> KvResult {
        KvResult::Value(self.store.get(op.key()).cloned())
    }

    #[inline]
    fn request(
        &mut self,
        _now: u64,
        _term: u64,
        client: u32,
        seq: u64,
        op: &KvOp,
        _part: u32,
    ) -> Request<KvApp> {
        let command = Command {
            client,
            seq,
            op: op.clone(),
        };
        Request::Propose {
            data: command.encode(),
            answer_now: None,
        }
    }
}

/// Search budget for the linearizability check; a run's history is small, so hitting this
/// means something pathological and is reported, not passed.
pub(crate) const MAX_STEPS: u64 = 50_000_000;

/// Memory budget of the check's caches: without it a few histories of a 10,000-seed sweep
/// (seeds 285, 8766, 7875) took up to 2 GB before the step budget ran out. Ordinary
/// histories use a few MiB; reaching this is reported like the step budget.
pub(crate) const MAX_CACHE_BYTES: u64 = 256 << 20;

/// The budgets every application's check uses.
pub fn check_options() -> CheckOptions {
    CheckOptions::with_max_steps(MAX_STEPS).with_max_cache_bytes(MAX_CACHE_BYTES)
}

impl Application for KvApp {
    type Op = KvOp;
    type Output = KvResult;
    type Replica = KvReplica;
    /// The value last seen for each key (what a compare-and-set expects).
    type ClientMemory = BTreeMap<String, Option<String>>;

    fn draw_op(
        rng: &mut Stream,
        config: &SimConfig,
        memory: &mut Self::ClientMemory,
        client: u32,
        seq: u64,
    ) -> KvOp {
        let w = &config.workload;
        let key = format!("k{}", rng.below(w.keys));
        let value = format!("c{client}s{seq}");
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
            let expected = memory.get(&key).cloned().flatten();
            return KvOp::Cas {
                key,
                expected,
                new: value,
            };
        }
        KvOp::Get { key }
    }

    fn probe_op(client: u32, seq: u64) -> KvOp {
        KvOp::Put {
            key: "probe".into(),
            value: format!("c{client}s{seq}"),
        }
    }

    fn observe(memory: &mut Self::ClientMemory, op: &KvOp, output: &KvResult) {
        if let (KvOp::Get { key }, KvResult::Value(v)) = (op, output) {
            memory.insert(key.clone(), v.clone());
        }
        if let (KvOp::Put { key, value }, KvResult::Done) = (op, output) {
            memory.insert(key.clone(), Some(value.clone()));
        }
    }

    #[inline]
    fn is_read(op: &KvOp) -> bool {
        matches!(op, KvOp::Get { .. })
    }

    /// `put(key,value)`, `cas(key,expected,new)`, ...: built with `push_str` rather than
    /// `format!`, since every client operation is traced.
    fn op_text(op: &KvOp) -> String {
        let (key, rest): (&str, [Option<&str>; 2]) = match op {
            KvOp::Put { key, value } | KvOp::Append { key, value } => (key, [Some(value), None]),
            KvOp::Cas { key, expected, new } => {
                (key, [Some(expected.as_deref().unwrap_or("-")), Some(new)])
            }
            KvOp::Get { key } => (key, [None, None]),
        };
        let mut text = String::with_capacity(48);
        text.push_str(op.name());
        text.push('(');
        text.push_str(key);
        for part in rest.into_iter().flatten() {
            text.push(',');
            text.push_str(part);
        }
        text.push(')');
        text
    }

    fn output_text(output: &KvResult) -> String {
        match output {
            KvResult::Done => String::new(),
            KvResult::Value(v) => format!(":{}", v.as_deref().unwrap_or("-")),
            KvResult::Swapped(s) => format!(":{}", if *s { "swapped" } else { "mismatch" }),
        }
    }

    fn check(history: &History<KvApp>, _config: &SimConfig) -> Verdict {
        check_kv(&to_operations(history), &check_options())
    }
}

/// The history in the key-value checker's terms. Definitely-failed operations did not happen
/// and are left out; unknown and unfinished ones may have happened at any time after their
/// invocation.
pub fn to_operations(history: &History<KvApp>) -> Vec<Operation<KvInput, KvOutput>> {
    let mut out = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
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
