//! One Jepsen-style run: start the cluster, run clients and the nemesis for a while, heal,
//! read every key, and check the history with the simulator's linearizability checker and
//! the ledgers for lost, duplicated or phantom appends.

use crate::client::Reads;
use crate::cluster::{Cluster, System, Tuning};
use crate::nemesis::{Fault, Nemesis};
use crate::net::Network;
use crate::workload::History;
use crate::workload::{self, Mix, Recorder, Workload};
use sim::history::Outcome;
use sim::linearizability::Verdict;
use state_machines::kv::{KvOp, KvResult};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Options {
    pub system: System,
    pub nodes: usize,
    pub duration: Duration,
    pub clients: usize,
    pub keys: usize,
    pub faults: Vec<Fault>,
    pub reads: Reads,
    /// `auto`, `namespaces` or `loopback`.
    pub network: String,
    pub seed: u64,
    pub dir: PathBuf,
    pub verbose: bool,
}

/// What a run found.
#[derive(Debug)]
pub struct Report {
    /// `(label, text)` lines of the summary, in order.
    pub summary: Vec<(&'static str, String)>,
    /// The nemesis's timeline.
    pub events: Vec<String>,
    pub verdict: Verdict,
    /// Durability and harness problems (each one fails the run).
    pub problems: Vec<String>,
    pub history: History,
}

impl Report {
    /// No violation and no problem. An undecided linearizability check (a budget ran out)
    /// does not fail the run, as in the simulator; the summary says so.
    pub fn passed(&self) -> bool {
        !self.verdict.is_not_linearizable() && self.problems.is_empty()
    }

    pub fn print(&self) {
        println!("nemesis timeline");
        for event in &self.events {
            println!("  {event}");
        }
        for (label, text) in &self.summary {
            println!("{label:<11} {text}");
        }
        if let Verdict::NotLinearizable(counterexample) = &self.verdict {
            let ops = sim::app::kv::to_operations(&self.history);
            let show = |label: &str, index: usize| {
                if let Some(op) = ops.get(index) {
                    let ret = if op.ret == sim::linearizability::PENDING {
                        "never".to_string()
                    } else {
                        format!("{:.3}s", op.ret as f64 / 1e6)
                    };
                    println!(
                        "  {label:<9} client {} {:?} -> {:?}, called {:.3}s, returned {ret}",
                        op.client,
                        op.input,
                        op.output,
                        op.call as f64 / 1e6
                    );
                }
            };
            println!("counterexample on key {:?}:", counterexample.partition);
            let prefix = &counterexample.longest_prefix;
            for &index in &prefix[prefix.len().saturating_sub(3)..] {
                show("then", index);
            }
            println!("  state     {}", counterexample.state);
            if let Some(stuck) = counterexample.stuck_op {
                show("stuck", stuck);
            }
        }
        for problem in &self.problems {
            println!("problem     {problem}");
        }
        println!(
            "verdict     {}",
            if self.passed() { "PASS" } else { "FAIL" }
        );
    }
}

/// Ops that ended each way.
fn outcome_counts(history: &History) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for op in &history.ops {
        match &op.completed {
            Some((_, Outcome::Ok(_))) => counts.0 += 1,
            Some((_, Outcome::Fail)) => counts.1 += 1,
            _ => counts.2 += 1,
        }
    }
    counts
}

/// Checks the ledger keys: every acknowledged append is in the final value exactly once,
/// and no append the system refused is. Returns a summary line and the problems.
pub fn check_ledgers(
    history: &History,
    ledgers: usize,
    finals: &BTreeMap<String, Option<String>>,
) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let mut acknowledged = 0;
    for i in 0..ledgers {
        let key = workload::ledger_key(i);
        let Some(value) = finals.get(&key) else {
            problems.push(format!(
                "durability: {key} could not be read after the faults were healed"
            ));
            continue;
        };
        let tokens: Vec<&str> = value
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|t| !t.is_empty())
            .collect();
        let mut seen = BTreeSet::new();
        for token in &tokens {
            if !seen.insert(*token) {
                problems.push(format!("durability: append {token} is in {key} twice"));
            }
        }
        for op in &history.ops {
            let KvOp::Append { key: k, value } = &op.op else {
                continue;
            };
            if *k != key {
                continue;
            }
            let token = value.trim_end_matches(',');
            match &op.completed {
                Some((_, Outcome::Ok(KvResult::Done))) => {
                    acknowledged += 1;
                    if !seen.contains(token) {
                        problems.push(format!(
                            "durability: acknowledged append {token} to {key} is lost"
                        ));
                    }
                }
                Some((_, Outcome::Fail)) if seen.contains(token) => problems.push(format!(
                    "durability: append {token} to {key} was refused but is in the value"
                )),
                _ => {}
            }
        }
    }
    let line = if ledgers == 0 {
        "no ledger keys (the system has no append)".to_string()
    } else if problems.is_empty() {
        format!(
            "{ledgers} ledger keys, {acknowledged} acknowledged appends: every one present exactly once after every kill"
        )
    } else {
        format!("{} problems", problems.len())
    };
    (line, problems)
}

fn describe_reads(system: &System, reads: Reads) -> &'static str {
    match (system, reads) {
        (System::RaftKv { .. }, Reads::Linearizable) => "linearizable (ReadIndex)",
        (System::RaftKv { .. }, Reads::Log) => "linearizable (through the log)",
        (System::RaftKv { .. }, Reads::Stale) => "local (may be stale)",
        (System::Etcd { .. }, Reads::Stale) => "serializable (may be stale)",
        (System::Etcd { .. }, _) => "linearizable",
    }
}

/// Runs one test. `Err` means the run could not be carried out (not a verdict).
pub fn run(options: &Options) -> Result<Report, String> {
    let (network, fallback) = Network::choose(&options.network, options.nodes)?;
    let network_line = match &fallback {
        Some(why) => format!("{} (namespaces unavailable: {why})", network.describe()),
        None => network.describe(),
    };
    let mut skipped = Vec::new();
    let faults: Vec<Fault> = options
        .faults
        .iter()
        .copied()
        .filter(|f| match f.unavailable(&options.system, &network) {
            Some(why) => {
                skipped.push(format!("{} ({why})", f.name()));
                false
            }
            None => true,
        })
        .collect();
    let etcd = matches!(options.system, System::Etcd { .. });
    let workload = Workload {
        clients: options.clients,
        keys: options.keys,
        ledgers: if etcd { 0 } else { 2 },
        mix: Mix {
            put: 2,
            append: if etcd { 0 } else { 3 },
            cas: 2,
            get: 4,
        },
        think_ms: (5, 40),
        attempts: 5,
        random_node: etcd || options.reads == Reads::Stale,
        seed: options.seed,
    };

    let mut cluster = Cluster::start(
        options.system.clone(),
        network,
        options.nodes,
        &options.dir,
        &Tuning::harness(),
    )?;
    cluster.wait_ready(Duration::from_secs(30))?;

    let timeout = Duration::from_millis(1500);
    let recorder = Arc::new(Recorder::new());
    let stop = Arc::new(AtomicBool::new(false));
    let clients = (0..workload.clients)
        .map(|_| cluster.client(options.reads, timeout))
        .collect();
    let threads = workload::start(
        &workload,
        clients,
        cluster.len(),
        recorder.clone(),
        stop.clone(),
    );
    let mut nemesis = Nemesis::new(faults.clone(), options.seed, recorder.start);
    nemesis.verbose = options.verbose;
    nemesis.run(&mut cluster, recorder.start + options.duration);
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        let _ = thread.join();
    }

    let mut problems: Vec<String> = nemesis
        .log
        .errors
        .iter()
        .map(|e| format!("nemesis: {e}"))
        .collect();
    let finals = match cluster.wait_ready(Duration::from_secs(30)) {
        Ok(leader) => {
            let client = cluster.client(Reads::Linearizable, Duration::from_secs(3));
            workload::final_reads(
                &workload,
                client,
                cluster.len(),
                leader,
                workload.clients as u32,
                &recorder,
            )
        }
        Err(e) => {
            problems.push(format!("liveness: after healing, {e}"));
            BTreeMap::new()
        }
    };
    let unclean = cluster.stop_all();
    if !etcd && !unclean.is_empty() {
        problems.push(format!(
            "clean stop: nodes {unclean:?} did not exit 0 on SIGTERM"
        ));
    }

    let history = recorder
        .history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let checked = Instant::now();
    let verdict = sim::linearizability::check_kv(
        &sim::app::kv::to_operations(&history),
        &sim::app::kv::check_options(),
    );
    let check_time = checked.elapsed();
    let (durability, ledger_problems) = check_ledgers(&history, workload.ledgers, &finals);
    problems.extend(ledger_problems);

    let (ok, fail, unknown) = outcome_counts(&history);
    let counts: Vec<String> = nemesis
        .log
        .counts
        .iter()
        .map(|(f, n)| format!("{} {n}", f.name()))
        .collect();
    let mut nemesis_line = if counts.is_empty() {
        "none".to_string()
    } else {
        counts.join(", ")
    };
    if !skipped.is_empty() {
        nemesis_line.push_str(&format!("; skipped: {}", skipped.join(", ")));
    }
    let binary = match &options.system {
        System::RaftKv { binary } | System::Etcd { binary } => binary.display().to_string(),
    };
    let summary = vec![
        (
            "system",
            format!(
                "{} ({binary}), {} nodes, reads {}",
                options.system.name(),
                options.nodes,
                describe_reads(&options.system, options.reads)
            ),
        ),
        ("network", network_line),
        ("nemesis", nemesis_line),
        (
            "clients",
            format!(
                "{} clients for {:.1}s, seed {}: {ok} ok, {fail} not executed, {unknown} unknown",
                options.clients,
                options.duration.as_secs_f64(),
                options.seed
            ),
        ),
        (
            "history",
            format!(
                "{} operations: {} (checked in {:.2}s)",
                history.ops.len(),
                verdict,
                check_time.as_secs_f64()
            ),
        ),
        ("durability", durability),
        ("data", options.dir.display().to_string()),
    ];
    Ok(Report {
        summary,
        events: nemesis.log.events,
        verdict,
        problems,
        history,
    })
}
