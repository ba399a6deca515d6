//! `cargo xtask`: the project's command line.
//!
//! This file is the command line's definition (`Cli`, one `Command` variant per subcommand,
//! whose doc comments are the help texts) and the dispatch; each command lives in its own
//! module: `simulate` (`sim`), `sweep` (`sweep`, `sweep-merge`, `replay`, `shrink`), `hunt`,
//! `scenario`, `ci`, `bench` and `perturb`. `flags` holds the flag groups several commands share
//! (`Overrides`, `Views`), `shared` the helpers they share (usage errors, written files, the
//! default job count, a caught panic's message).

mod bench;
mod ci;
mod flags;
mod hunt;
mod perturb;
mod scenario;
mod shared;
mod simulate;
mod sweep;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Deterministic simulation of raft-core, and the project's CI entry point",
    long_about = "Deterministic simulation of raft-core, and the project's CI entry point.\n\n\
                  One u64 seed determines a whole run: the drawn configuration, the fault script, \
                  every message's fate and every client operation. The same seed gives the same \
                  trace hash on any machine."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seed: print the drawn configuration, a summary, the verdict and the trace hash.
    ///
    /// Exit code 0 when every property held, 1 on a violation, 2 on a usage error.
    Sim(simulate::SimArgs),
    /// Run a range of seeds in parallel and report the failures.
    ///
    /// Every failing seed writes a bundle (one JSON file) that `replay` and `shrink` read.
    /// A panic inside a run is reported as that seed's failure; the sweep goes on.
    /// Exit code 0 when every seed passed, 1 when any failed, 2 on a usage error.
    Sweep(sweep::SweepArgs),
    /// Combine the `--json` reports of sharded sweeps; group failures by signature
    /// (violated property and where it fired).
    ///
    /// Exit code 0 when no shard had a failure, 1 otherwise.
    SweepMerge(sweep::MergeArgs),
    /// Re-run a failure bundle from its explicit fault script and workload, and say whether
    /// the same violation and the same trace hash came back.
    ///
    /// Exit code 0 when the replayed run passes (the bug is fixed), 1 when it fails.
    Replay(sweep::ReplayArgs),
    /// Minimize a failure bundle while the same property keeps failing: fewer nodes, a
    /// shorter run, fewer fault events, fewer client operations (delta debugging).
    Shrink(sweep::ShrinkArgs),
    /// Plant catalogued Raft bugs in the core one at a time and measure how fast ordinary
    /// swarm seeds find each; the correct core runs the same seeds (a failure there is a
    /// false positive).
    ///
    /// Exit code 0 when every bug was found and there was no false positive, 1 otherwise.
    Hunt(hunt::HuntArgs),
    /// Run a scripted scenario and print its trace (the text its golden snapshot holds).
    ///
    /// Scenarios are short scripts (Raft paper figures, ports of the NATS server's raft
    /// tests, real outages) that drive the simulator's host step by step; `cargo test`
    /// compares each one's trace with `scenarios/tests/snapshots/<name>.snap`.
    /// Exit code 0 when the scenario passed, 1 when an assertion or a checker failed, 2 on a
    /// usage error (unknown name).
    Scenario(scenario::ScenarioArgs),
    /// Run exactly what CI runs: format check, clippy with warnings as errors, all tests,
    /// and the planted-bug hunt (`hunt --ci`).
    Ci,
    /// Measure the simulator, raft-core against raft-rs, the linearizability checker and peak
    /// memory against the project's performance targets, and print one table (the figures are
    /// in the README).
    Bench(bench::BenchArgs),
    /// Replay bundles with the simulator changed the way unrelated code changes change it (an
    /// extra random draw in every decision, sends in another order, one more message kind)
    /// and count how many still fail the same property, replayed from their recorded
    /// decisions and with every decision derived afresh.
    ///
    /// Exit code 0 when at least 9 in 10 bundles survive each perturbation, 1 otherwise, 2
    /// on a usage error.
    Perturb(perturb::PerturbArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => simulate::sim_command(args),
        Command::Scenario(args) => scenario::scenario_command(args),
        Command::Sweep(args) => sweep::sweep_command(args),
        Command::SweepMerge(args) => sweep::merge_command(args),
        Command::Replay(args) => sweep::replay_command(args),
        Command::Shrink(args) => sweep::shrink_command(args),
        Command::Hunt(args) => hunt::hunt_command(args),
        Command::Ci => ci::ci_command(),
        Command::Bench(args) => bench::bench_command(args),
        Command::Perturb(args) => perturb::perturb_command(args),
    }
}
