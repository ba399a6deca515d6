//! `cargo xtask`: the project's command line.
//!
//! This file is the command line's definition (`Cli`, one `Command` variant per subcommand,
//! whose doc comments are the help texts) and the dispatch; each command lives in its own
//! module: `simulate` (`sim`), `sweep` (`sweep`, `replay`, `shrink`), `merge`
//! (`sweep-merge`), `hunt`, `scenario`, `ci`, `bench`, `perturb`, and `real` (`cluster`,
//! `real`, `bench-real`: raft-kv and etcd as real processes). `flags` holds the flag groups
//! several commands share (`Overrides`, `Views`), `shared` the helpers they share (exit
//! codes, usage errors, outputs checked before the work, panics caught inside runs),
//! `logging` the `tracing` set-up (`-v`, `RUST_LOG`), `version` the build (`--version`, and
//! what bundles and reports record).
//!
//! The command line never panics on bad input: flags are parsed and range-checked by clap,
//! files are validated when read, outputs are checked before any work, and a panic inside a
//! simulated run is that run's failure. `tests/bad_inputs.rs` holds it to that.

mod bench;
mod ci;
mod flags;
mod hunt;
mod logging;
mod merge;
mod perturb;
mod real;
mod scenario;
mod shared;
mod simulate;
mod sweep;
mod version;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version = version::LONG_VERSION,
    about = "Deterministic simulation of raft-core, and the project's CI entry point",
    long_about = "Deterministic simulation of raft-core, and the project's CI entry point.\n\n\
                  One u64 seed determines a whole run: the drawn configuration, the fault script, \
                  every message's fate and every client operation. The same seed gives the same \
                  trace hash on any machine.\n\n\
                  Verdicts: PASS (every property held), FAIL (a property was violated), UNKNOWN \
                  (no violation, but the linearizability check ran out of budget: not a pass).\n\
                  Exit codes: 0 pass, 1 a violation (or, per command, what it looks for failed), \
                  2 an error (bad flags or input, an output that cannot be written), 3 unknown or \
                  incomplete. A violation is never hidden: a failed run whose output could not \
                  be written still exits 1.",
    after_help = "Diagnostics go to stderr through `tracing`: -v for info, -vv for debug (every \
                  trace event of a run); RUST_LOG (e.g. RUST_LOG=sim=debug) overrides -v."
)]
struct Cli {
    /// More diagnostics on stderr: -v what each run and seed does, -vv also every event as it
    /// happens (RUST_LOG, when set, decides instead).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seed: print the drawn configuration, a summary, the verdict and the trace hash.
    ///
    /// A failing run prints the command that reproduces it and writes its bundle (checked
    /// before the run, like every output path).
    /// Exit codes: 0 PASS; 1 FAIL (a violation, or --check-determinism found a divergence);
    /// 2 error (bad flags, an output that cannot be written); 3 UNKNOWN (the linearizability
    /// check ran out of budget).
    Sim(simulate::SimArgs),
    /// Run a range of seeds in parallel and report the failures.
    ///
    /// Every failing seed writes a bundle (one JSON file) that `replay` and `shrink` read; a
    /// bundle that cannot be written is reported with the failure. A panic inside a run is
    /// reported as that seed's failure; the sweep goes on. Seeds whose linearizability check
    /// ran out of budget are counted as unknown.
    /// Exit codes: 0 every seed passed; 1 a seed failed; 2 error (bad flags, an output that
    /// cannot be written); 3 no failure, but some seed was unknown.
    Sweep(sweep::SweepArgs),
    /// Combine the `--json` reports of a sharded sweep; group failures by signature
    /// (violated property and where it fired).
    ///
    /// Refuses reports that are not the shards of one sweep: a different range, shard count,
    /// overrides, planted bug or build, a shard given twice, or a report that is empty,
    /// unreadable or does not match its shard. Missing shards are reported as incomplete.
    /// Exit codes: 0 complete and every seed passed; 1 a seed failed; 2 the reports were
    /// refused (or the merged report cannot be written); 3 no failure, but shards are missing
    /// or some seed was unknown.
    SweepMerge(merge::MergeArgs),
    /// Re-run a failure bundle from its explicit fault script and workload, and say whether
    /// the same violation and the same trace hash came back.
    ///
    /// Exit codes: 0 the replayed run passes (the bug is fixed); 1 it fails; 2 error (an
    /// invalid bundle, a view that cannot be written); 3 UNKNOWN.
    Replay(sweep::ReplayArgs),
    /// Minimize a failure bundle while the same property keeps failing: fewer nodes, a
    /// shorter run, fewer fault events, fewer client operations (delta debugging).
    ///
    /// Exit codes: 0 the shrunk bundle was written; 1 the bundle does not fail with its
    /// property any more (nothing to shrink); 2 error (an invalid bundle, an output that
    /// cannot be written or that is the input without --force).
    Shrink(sweep::ShrinkArgs),
    /// Plant catalogued Raft bugs in the core one at a time and measure how fast ordinary
    /// swarm seeds find each; the correct core runs the same seeds (a failure there is a
    /// false positive).
    ///
    /// Prints, for each bug found, the command that reproduces it (`sim --plant`).
    /// Exit codes: 0 every bug found and no false positive; 1 a bug not found, or a false
    /// positive; 2 error (bad flags, a bundle or report that cannot be written).
    Hunt(hunt::HuntArgs),
    /// Run a scripted scenario and print its trace (the text its golden snapshot holds).
    ///
    /// Scenarios are short scripts (Raft paper figures, ports of the NATS server's raft
    /// tests, real outages) that drive the simulator's host step by step; `cargo test`
    /// compares each one's trace with `scenarios/tests/snapshots/<name>.snap`.
    /// Exit codes: 0 the scenario passed; 1 an assertion or a checker failed; 2 error
    /// (unknown name, a view that cannot be written).
    Scenario(scenario::ScenarioArgs),
    /// Run exactly what CI runs: format check, clippy with warnings as errors, all tests,
    /// and the planted-bug hunt (`hunt --ci`).
    ///
    /// Exit codes: 0 every step passed; 1 a step failed; 2 cargo could not be run.
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
    /// Start a raft-kv cluster on loopback ports and print how to talk to it (curl
    /// examples); Ctrl-C stops every node cleanly.
    ///
    /// Exit code 0 after a clean stop, 1 if the cluster failed, 2 on a usage error.
    Cluster(real::ClusterArgs),
    /// Jepsen-style test of real server processes: concurrent HTTP clients, a nemesis that
    /// kills and restarts (SIGKILL), pauses (SIGSTOP/SIGCONT), cuts, delays and drops links
    /// (network namespaces with iptables and netem when run as root, else raft-kv's
    /// transport fault switch; the report says which) and fails or slows fsync
    /// (failpoints). The history is checked with the simulator's linearizability checker;
    /// append-only ledger keys check that acknowledged writes survive every kill.
    /// `--system etcd` runs the same test against an etcd 3.4 cluster.
    ///
    /// Exit code 0 when the history is linearizable and nothing acknowledged was lost, 1 on
    /// a violation, 2 on a usage error or when the run could not be carried out.
    Real(real::RealArgs),
    /// Benchmark raft-kv against etcd on this machine: same cluster size, workload and
    /// durability (fsync before acknowledging); writes per second and latency percentiles
    /// at several client counts, as one table with ratios (the README has it).
    BenchReal(real::BenchRealArgs),
}

fn main() -> ExitCode {
    reset_sigpipe();
    shared::install_panic_hook();
    let cli = Cli::parse();
    if let Err(e) = logging::init(cli.verbose) {
        return shared::usage_error(&e);
    }
    match cli.command {
        Command::Sim(args) => simulate::sim_command(args),
        Command::Scenario(args) => scenario::scenario_command(args),
        Command::Sweep(args) => sweep::sweep_command(args),
        Command::SweepMerge(args) => merge::merge_command(args),
        Command::Replay(args) => sweep::replay_command(args),
        Command::Shrink(args) => sweep::shrink_command(args),
        Command::Hunt(args) => hunt::hunt_command(args),
        Command::Ci => ci::ci_command(),
        Command::Bench(args) => bench::bench_command(args),
        Command::Perturb(args) => perturb::perturb_command(args),
        Command::Cluster(args) => real::cluster_command(args),
        Command::Real(args) => real::real_command(args, cli.verbose > 0),
        Command::BenchReal(args) => real::bench_real_command(args),
    }
}

/// Output piped into a program that stops reading (`| head`) ends the process quietly, as it
/// does for other command-line tools, instead of a panic on the failed print. Files are
/// written before the summaries are printed, so nothing is lost to it.
fn reset_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
