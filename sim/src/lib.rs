//! # sim: a seeded deterministic simulator for raft-core
//!
//! One thread, virtual time, one `u64` seed. The world runs many [`raft_core::Node`]s over a
//! virtual network and virtual disks, injects the faults of a drawn script, checks Raft's
//! safety properties after every event, checks liveness after the faults stop and the client
//! history for linearizability at the end.
//!
//! ```
//! let config = sim::SimConfig::draw(7);
//! let report = sim::run(config, &sim::RunOptions::default());
//! assert!(report.passed(), "{:?}", report.violation);
//! ```

pub mod bundle;
pub mod checkers;
pub mod config;
pub mod disk;
pub mod faults;
pub mod history;
pub mod linearizability;
pub mod network;
pub mod rng;
pub mod trace;
pub mod views;
pub mod world;

/// The key-value state machine lives in `state-machines`, shared with the real server;
/// `sim::kv::...` paths keep working.
pub use state_machines::kv;

pub use checkers::{Property, Violation};
pub use config::SimConfig;
pub use world::{RunOptions, RunReport, RunVerdict, ScriptedOp, Stats, WorkloadScript};

/// Runs one simulation to completion.
pub fn run(config: SimConfig, options: &RunOptions) -> RunReport {
    run_with_progress(config, options, |_, _| {})
}

/// Runs one simulation, calling `progress(now, end)` every `options.progress_every` events.
///
/// The simulator's own diagnostics go through `tracing` (nothing is printed without a
/// subscriber): the run's start and end at info level in a `run` span naming the seed, the
/// phases and the linearizability check at debug, every trace event at debug with target
/// `sim::trace`. None of it changes the run.
pub fn run_with_progress(
    config: SimConfig,
    options: &RunOptions,
    progress: impl FnMut(config::Micros, config::Micros),
) -> RunReport {
    let _span = tracing::info_span!("run", seed = config.seed).entered();
    tracing::info!(
        nodes = config.nodes,
        chaos_us = config.chaos_us,
        clients = config.workload.clients,
        planted_bug = options.planted_bug.as_deref().unwrap_or("none"),
        replayed_script = options.script.is_some(),
        "run starts"
    );
    let report = world::World::new(config, options).run(options, progress);
    tracing::info!(
        events = report.stats.events,
        virtual_us = report.end_time,
        trace_hash = format_args!("{:016x}", report.trace_hash),
        "run ends: {}{}",
        report.verdict().name(),
        report
            .violation
            .as_ref()
            .map_or(String::new(), |v| format!(" {v}"))
    );
    report
}
