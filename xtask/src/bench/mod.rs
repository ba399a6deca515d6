//! `cargo xtask bench`: every figure of the project's performance budget from one process
//! run, printed as one table beside its target (and written as JSON with `--json`).
//!
//! The harness is hand-rolled: each measurement is a whole workload (a simulation run, a
//! sweep, a replication loop, a checker pass over a data set) that takes from milliseconds to
//! seconds, so it is timed with `Instant` around the workload, repeated, and the median of the
//! repetitions is reported. Measurements that are compared with each other (checkers on/off,
//! 1/2 jobs, raft-core/raft-rs) are interleaved repetition by repetition so that noise from
//! other tenants of the machine hits both sides alike. Peak memory is read from
//! `/proc/self/status` (`VmHWM`) in child processes (this executable, `bench --child ...`), so
//! one measurement's peak does not hide another's.
//!
//! Wall-clock time is used here only; tests never assert on time.
//!
//! The rooms: this module holds the flags, the `Plan` (how big each workload is), the order
//! of the sections and the rebuild with raft-rs; `simulator` (the standard workload and the
//! simulator's rows: checkers on and off, cost growth), `scaling` (the sweep on 1 and 2
//! jobs), `raft_pair` (raft-core against raft-rs), `porcupine` (the linearizability checker on
//! porcupine's histories), `memory` (peak and resident memory, measured in child processes),
//! `child` (what a child process runs and how the parent starts it), `timing` (wall, CPU and
//! run-queue time; medians) and `report` (the rows, the table and the machine they ran on).

mod child;
mod memory;
mod porcupine;
mod raft_pair;
mod report;
mod scaling;
mod simulator;
mod timing;

use clap::Args;
use report::{git_commit, load_average, machine, print_table, Row};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Also write every figure, machine-readably, to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Shrink every workload and repeat less: a smoke run (figures are noisier).
    #[arg(long)]
    quick: bool,
    /// Internal: run one memory measurement in this (child) process and print its result.
    #[arg(long, hide = true, value_name = "WHAT")]
    child: Option<String>,
    /// Internal: size of the child's workload (virtual seconds or seeds).
    #[arg(long, hide = true, default_value_t = 0)]
    child_size: u64,
}

/// How big each workload is.
struct Plan {
    /// Repetitions of each timed measurement (the median is reported).
    reps: usize,
    /// Seeds of the standard workload per repetition.
    standard_seeds: u64,
    /// Run lengths (virtual seconds of chaos) for the cost-growth rows.
    lengths: Vec<u64>,
    /// Seeds per repetition of the sweep-scaling rows.
    sweep_seeds: u64,
    /// Proposals per raft-core / raft-rs run, for each batch size.
    raft_proposals: u64,
    /// Seeds of the child sweep whose peak memory is measured.
    memory_sweep_seeds: u64,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                reps: 1,
                standard_seeds: 1,
                lengths: vec![10, 30, 100],
                sweep_seeds: 16,
                raft_proposals: 20_000,
                memory_sweep_seeds: 200,
            }
        } else {
            Plan {
                reps: 5,
                standard_seeds: 4,
                lengths: vec![10, 100, 1_000],
                sweep_seeds: 300,
                raft_proposals: 200_000,
                memory_sweep_seeds: 10_000,
            }
        }
    }
}

pub fn bench_command(args: BenchArgs) -> ExitCode {
    if let Some(what) = &args.child {
        return child::child_command(what, args.child_size);
    }
    if !cfg!(feature = "raft-rs-bench") && std::env::var_os("XTASK_BENCH_NO_RAFT_RS").is_none() {
        if let Some(code) = reinvoke_with_raft_rs() {
            return code;
        }
    }
    let plan = Plan::new(args.quick);
    let load_before = load_average();
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut details = serde_json::Map::new();

    eprintln!("==> simulator: standard workload, checkers on and off");
    simulator::simulator_rows(&plan, &mut rows, &mut details);
    eprintln!("==> simulator: cost growth with cluster size and run length");
    simulator::growth_rows(&plan, &mut rows, &mut details);
    eprintln!("==> sweep scaling: 1 and 2 jobs");
    scaling::sweep_rows(&plan, &mut rows);
    eprintln!("==> raft-core against raft-rs");
    raft_pair::rows(&plan, &mut rows, &mut details);
    eprintln!("==> linearizability checker: porcupine histories");
    porcupine::rows(&plan, &mut rows, &mut details);
    eprintln!("==> peak memory (child processes)");
    memory::memory_rows(&plan, &mut rows);

    let total = started.elapsed();
    let load = (load_before, load_average());
    print_table(&rows, args.quick, total, &load);
    if let Some(path) = &args.json {
        let doc = json!({
            "command": format!("cargo xtask bench{}", if args.quick { " --quick" } else { "" }),
            "quick": args.quick,
            "machine": machine(),
            "load_average_before_after": [load.0, load.1],
            "git_commit": git_commit(),
            "elapsed_s": total.as_secs_f64(),
            "harness": "hand-rolled: repeated whole-workload runs timed with Instant, median reported; \
                        compared measurements interleaved per repetition",
            "repetitions": plan.reps,
            "rows": rows.iter().map(Row::json).collect::<Vec<_>>(),
            "details": Value::Object(details),
        });
        let text = serde_json::to_string_pretty(&doc).expect("JSON renders") + "\n";
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        println!("json        written to {}", path.display());
    }
    ExitCode::SUCCESS
}

/// raft-rs is a heavy dependency (protobuf, slog; about two minutes of compiling on this
/// machine), so it sits behind the xtask feature `raft-rs-bench` and only `bench` pays for it:
/// build xtask with the feature and run this same command in that binary. Returns None when
/// the build fails; the bench then runs without the raft-rs rows.
fn reinvoke_with_raft_rs() -> Option<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let common = [
        "--release",
        "--package",
        "xtask",
        "--features",
        "raft-rs-bench",
        "--manifest-path",
        manifest,
    ];
    eprintln!("==> building xtask with the raft-rs comparison (cargo feature raft-rs-bench)");
    let built = std::process::Command::new(&cargo)
        .arg("build")
        .args(common)
        .status();
    if !built.as_ref().is_ok_and(|s| s.success()) {
        eprintln!(
            "warning: building with raft-rs failed ({built:?}); the raft-rs rows will be missing"
        );
        return None;
    }
    let status = std::process::Command::new(&cargo)
        .args(["run", "--quiet"])
        .args(common)
        .arg("--")
        .args(std::env::args_os().skip(1))
        .status();
    Some(match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().unwrap_or(1).clamp(1, 255) as u8),
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            ExitCode::from(2)
        }
    })
}
