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
pub mod decisions;
pub mod disk;
pub mod faults;
pub mod history;
pub mod linearizability;
pub mod network;
pub mod perturbation;
pub mod planted;
pub mod rng;
pub mod trace;
pub mod views;
pub mod world;

/// The key-value state machine lives in `state-machines`, shared with the real server;
/// `sim::kv::...` paths keep working.
pub use state_machines::kv;

pub use checkers::{Property, Violation};
pub use config::SimConfig;
pub use world::{RunOptions, RunReport, ScriptedOp, Stats, WorkloadScript};

/// Runs one simulation to completion.
pub fn run(config: SimConfig, options: &RunOptions) -> RunReport {
    world::World::new(config, options).run(options, |_, _| {})
}

/// Runs one simulation, calling `progress(now, end)` every `options.progress_every` events.
pub fn run_with_progress(
    config: SimConfig,
    options: &RunOptions,
    progress: impl FnMut(config::Micros, config::Micros),
) -> RunReport {
    world::World::new(config, options).run(options, progress)
}
