//! Validates the linearizability checker against Knossos's histories (`shared/testdata/knossos`,
//! see its README): every `cas-register/{good,bad}` file with the verdict Knossos's own tests
//! assert under `(cas-register 0)`, the two extra assertions under `(cas-register nil)`, and
//! `multi-register/good` under `(multi-register {:x 0 :y 0})`, with a model defined here on the
//! checker's generic `Model` trait.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use sim::linearizability::{
    check, check_with_stats, parse_edn, parse_knossos_cas_register, CheckOptions, Edn, Model,
    Operation, RegisterModel, Verdict, PENDING,
};

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/knossos");
    assert!(
        dir.join("README.md").is_file(),
        "Knossos test data not found at {} (expected the `shared` directory beside the \
         workspace clone: <clone>/../shared/testdata/knossos)",
        dir.display()
    );
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn edn_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "edn"))
        .collect();
    files.sort();
    files
}

fn register_verdict(path: &Path, initial: Option<i64>) -> Verdict {
    let history = parse_knossos_cas_register(&read(path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // (`good/mongodb-v0-ack-rollback-.edn` holds only nemesis events: an empty history.)
    check(
        &RegisterModel::new(initial),
        &history,
        &CheckOptions::default(),
    )
}

#[test]
fn cas_register_verdicts() {
    let dir = data_dir().join("cas-register");
    let start = Instant::now();
    let mut checked = 0;
    for (sub, expected) in [("good", true), ("bad", false)] {
        let files = edn_files(&dir.join(sub));
        assert_eq!(
            files.len(),
            if expected { 113 } else { 7 },
            "files in {sub}/"
        );
        for path in files {
            let verdict = register_verdict(&path, Some(0));
            match (&verdict, expected) {
                (Verdict::Linearizable, true) | (Verdict::NotLinearizable(_), false) => {}
                _ => panic!(
                    "{}: expected linearizable = {expected}, got {verdict}",
                    path.display()
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 120);
    eprintln!(
        "knossos: 120 cas-register histories checked in {:?}",
        start.elapsed()
    );
}

/// `linear_test` / `wgl_test` also assert these two under `(cas-register nil)`.
#[test]
fn cas_register_nil_initial_verdicts() {
    let dir = data_dir().join("cas-register/bad");
    for name in ["cas-failure.edn", "rethink-fail-minimal.edn"] {
        let verdict = register_verdict(&dir.join(name), None);
        assert!(verdict.is_not_linearizable(), "{name}: {verdict}");
    }
}

/// Knossos's `multi-register`: a map of registers, updated by transactions of reads and writes.
/// As in Knossos, every read in a transaction sees the state from before the transaction, and
/// a read of `nil` is unconstrained.
struct MultiRegister {
    initial: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct MicroOp {
    write: bool,
    key: String,
    value: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum TxnOutput {
    Ok,
    Unknown,
}

impl Model for MultiRegister {
    type State = BTreeMap<String, i64>;
    type Input = Vec<MicroOp>;
    type Output = TxnOutput;

    fn init(&self) -> Self::State {
        self.initial.clone()
    }

    fn step(&self, state: &Self::State, txn: &Vec<MicroOp>, _: &TxnOutput) -> Option<Self::State> {
        let mut next = state.clone();
        for op in txn {
            match (op.write, op.value) {
                (false, Some(v)) if state.get(&op.key) != Some(&v) => return None,
                (false, _) => {}
                (true, Some(v)) => {
                    next.insert(op.key.clone(), v);
                }
                (true, None) => {
                    next.remove(&op.key);
                }
            }
        }
        Some(next)
    }

    fn is_unknown(&self, _: &Vec<MicroOp>, output: &TxnOutput) -> bool {
        *output == TxnOutput::Unknown
    }

    fn is_read_only(&self, txn: &Vec<MicroOp>, _: &TxnOutput) -> bool {
        txn.iter().all(|op| !op.write)
    }

    fn is_trivial(&self, txn: &Vec<MicroOp>, output: &TxnOutput) -> bool {
        self.is_read_only(txn, output)
            && (*output == TxnOutput::Unknown || txn.iter().all(|op| op.value.is_none()))
    }
}

/// Parses a Knossos `:txn` history: `:ok` uses the completion's micro-ops (with the values
/// read), `:info` and unfinished ones the invocation's, and `:fail` ones are dropped.
fn parse_txn_history(text: &str) -> Vec<Operation<Vec<MicroOp>, TxnOutput>> {
    let Ok(Edn::Vector(items) | Edn::List(items)) = parse_edn(text) else {
        panic!("expected a vector or list of operations");
    };
    let micro_ops = |value: &Edn| -> Vec<MicroOp> {
        value
            .as_seq()
            .expect("a :txn value is a vector")
            .iter()
            .map(|m| match m.as_seq() {
                Some([f, k, v]) => MicroOp {
                    write: f.as_keyword() == Some("write"),
                    key: k.as_keyword().expect("keyword key").to_string(),
                    value: v.as_int(),
                },
                _ => panic!("bad micro-op {m:?}"),
            })
            .collect()
    };
    let mut ops: Vec<Option<Operation<Vec<MicroOp>, TxnOutput>>> = Vec::new();
    let mut pending: HashMap<i64, usize> = HashMap::new();
    for (time, item) in items.iter().enumerate() {
        let Some(process) = item.get("process").and_then(Edn::as_int) else {
            continue;
        };
        let value = item.get("value").expect(":value");
        let time = time as u64;
        match item.get("type").and_then(Edn::as_keyword) {
            Some("invoke") => {
                assert!(pending.insert(process, ops.len()).is_none());
                ops.push(Some(Operation {
                    client: process as u64,
                    call: time,
                    ret: PENDING,
                    input: micro_ops(value),
                    output: TxnOutput::Unknown,
                }));
            }
            Some(kind) => {
                let slot = pending
                    .remove(&process)
                    .expect("completion without invocation");
                match kind {
                    "ok" => {
                        let op = ops[slot].as_mut().expect("pending operation");
                        op.ret = time;
                        op.output = TxnOutput::Ok;
                        op.input = micro_ops(value);
                    }
                    "fail" => ops[slot] = None,
                    _ => {}
                }
            }
            None => panic!("bad :type in {item:?}"),
        }
    }
    ops.into_iter().flatten().collect()
}

#[test]
fn multi_register_verdict() {
    let path = data_dir().join("multi-register/good/multi-register.edn");
    let history = parse_txn_history(&read(&path));
    assert!(history.len() > 100, "{} operations", history.len());
    let model = MultiRegister {
        initial: BTreeMap::from([("x".to_string(), 0), ("y".to_string(), 0)]),
    };
    let (verdict, stats) = check_with_stats(&model, &history, &CheckOptions::default());
    assert!(verdict.is_linearizable(), "{verdict}");
    eprintln!("knossos multi-register: {stats:?}");

    // Flipping one read to a value never written is caught.
    let i = history
        .iter()
        .position(|op| {
            op.output == TxnOutput::Ok && op.input.iter().any(|m| !m.write && m.value.is_some())
        })
        .expect("a transaction with a read");
    let mut mutant = history.clone();
    for m in mutant[i].input.iter_mut().filter(|m| !m.write) {
        m.value = Some(99);
    }
    let verdict = check(&model, &mutant, &CheckOptions::default());
    assert!(verdict.is_not_linearizable(), "{verdict}");
}
