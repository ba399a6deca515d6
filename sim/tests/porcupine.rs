//! Validates the linearizability checker against porcupine's test data (`shared/testdata/
//! porcupine`, see its README): 102 Jepsen etcd histories and 6 key-value histories with the
//! verdicts asserted by porcupine's own test suite.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sim::linearizability::porcupine_suite::{
    self, JEPSEN_EMPTY, JEPSEN_FILES, JEPSEN_LINEARIZABLE, KV_FILES,
};
use sim::linearizability::{
    check_with_stats, parse_jepsen_etcd_log, parse_porcupine_kv, CheckOptions, KvInput, KvModel,
    KvOutput, Model, Operation, RegisterInput, RegisterModel, RegisterOutput, Verdict,
};

fn data_dir() -> PathBuf {
    let dir = porcupine_suite::data_dir();
    assert!(
        dir.join("README.md").is_file(),
        "porcupine test data not found at {} (expected the `shared` directory beside the \
         workspace clone: <clone>/../shared/testdata/porcupine)",
        dir.display()
    );
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

struct Timing {
    name: String,
    ops: usize,
    steps: u64,
    elapsed: Duration,
}

fn run<M: Model>(
    name: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    expected: bool,
    timings: &mut Vec<Timing>,
) -> Verdict {
    let start = Instant::now();
    let (verdict, stats) = check_with_stats(model, history, &CheckOptions::default());
    timings.push(Timing {
        name: name.to_string(),
        ops: history.len(),
        steps: stats.steps,
        elapsed: start.elapsed(),
    });
    match (&verdict, expected) {
        (Verdict::Linearizable, true) | (Verdict::NotLinearizable(_), false) => {}
        _ => panic!("{name}: expected linearizable = {expected}, got {verdict}"),
    }
    verdict
}

fn jepsen_history(dir: &Path, n: usize) -> Vec<Operation<RegisterInput, RegisterOutput>> {
    let path = dir.join(format!("jepsen/etcd_{n:03}.log"));
    parse_jepsen_etcd_log(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kv_history(dir: &Path, name: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let path = dir.join(format!("kv/{name}.txt"));
    parse_porcupine_kv(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn all_108_porcupine_verdicts() {
    let dir = data_dir();
    let mut timings = Vec::new();
    let total = Instant::now();

    for n in 0..JEPSEN_FILES {
        let history = jepsen_history(&dir, n);
        if n == JEPSEN_EMPTY {
            assert!(history.is_empty(), "etcd_095.log is expected to be empty");
            continue;
        }
        assert!(!history.is_empty(), "etcd_{n:03}.log parsed to nothing");
        let expected = JEPSEN_LINEARIZABLE.contains(&n);
        run(
            &format!("jepsen/etcd_{n:03}"),
            &RegisterModel::new(None),
            &history,
            expected,
            &mut timings,
        );
    }
    for (name, expected) in KV_FILES {
        let history = kv_history(&dir, name);
        let verdict = run(
            &format!("kv/{name}"),
            &KvModel::with_initial(""),
            &history,
            expected,
            &mut timings,
        );
        if name == "c01-bad" {
            // README: c01 is a single client; the failure is a get of "7" returning "x 0 0 y"
            // where "x 0 0 yx 0 3 y" is required.
            let Verdict::NotLinearizable(c) = verdict else {
                unreachable!()
            };
            assert_eq!(c.partition, "7", "{}", c.explanation);
            assert!(c.explanation.contains("\"x 0 0 y\""), "{}", c.explanation);
        }
    }
    let total = total.elapsed();

    assert_eq!(timings.len(), 108, "files checked (102 Jepsen + 6 kv)");
    timings.sort_by_key(|t| std::cmp::Reverse(t.elapsed));
    eprintln!("porcupine: 108 files checked in {total:?}; slowest:");
    for t in timings.iter().take(10) {
        eprintln!(
            "  {:<18} {:>5} ops {:>9} steps {:>10.2?}",
            t.name, t.ops, t.steps, t.elapsed
        );
    }
}

/// A value no history ever writes.
const NEVER_WRITTEN: i64 = 1_000_000;

/// README, "Mutation check": flipping one read of a linearizable history to a value that was
/// never written must make it not linearizable. Every successful read of every linearizable
/// Jepsen file is tried in turn.
#[test]
fn mutated_jepsen_reads_are_caught() {
    let dir = data_dir();
    let mut mutants = 0;
    for &n in &JEPSEN_LINEARIZABLE {
        let history = jepsen_history(&dir, n);
        for (i, op) in history.iter().enumerate() {
            if !matches!(op.output, RegisterOutput::Value(_)) {
                continue;
            }
            let mut mutant = history.clone();
            mutant[i].output = RegisterOutput::Value(Some(NEVER_WRITTEN));
            let verdict = sim::linearizability::check(
                &RegisterModel::new(None),
                &mutant,
                &CheckOptions::default(),
            );
            assert!(
                verdict.is_not_linearizable(),
                "etcd_{n:03} with op #{i} mutated: expected not linearizable, got {verdict}"
            );
            mutants += 1;
        }
    }
    eprintln!("{mutants} mutated Jepsen histories rejected");
    assert!(mutants > 100);
}

#[test]
fn mutated_kv_gets_are_caught() {
    let dir = data_dir();
    for name in ["c01-ok", "c10-ok", "c50-ok"] {
        let history = kv_history(&dir, name);
        let gets: Vec<usize> = history
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op.output, KvOutput::Value(_)))
            .map(|(i, _)| i)
            .collect();
        assert!(!gets.is_empty());
        // The first, middle and last get.
        for &i in &[gets[0], gets[gets.len() / 2], gets[gets.len() - 1]] {
            let mut mutant = history.clone();
            mutant[i].output = KvOutput::Value(Some("never written".to_string()));
            let verdict = sim::linearizability::check(
                &KvModel::with_initial(""),
                &mutant,
                &CheckOptions::default(),
            );
            let Verdict::NotLinearizable(c) = &verdict else {
                panic!("kv/{name} with op #{i} mutated: expected not linearizable, got {verdict}");
            };
            assert_eq!(c.partition, history[i].input.key());
        }
    }
}

/// A budget too small gives `Unknown`, never a wrong verdict.
#[test]
fn small_budget_gives_unknown() {
    let dir = data_dir();
    let history = kv_history(&dir, "c50-ok");
    let verdict = sim::linearizability::check(
        &KvModel::with_initial(""),
        &history,
        &CheckOptions::with_max_steps(100),
    );
    assert!(matches!(verdict, Verdict::Unknown { .. }), "{verdict}");
}
