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
//!
//! # Plugging in your own state machine
//!
//! What runs on top of Raft is an [`app::Application`]; the key-value store
//! ([`app::kv::KvApp`]) and the JetStream-like stream ([`stream::StreamApp`]) are two, and
//! [`SimConfig::state_machine`] picks between them. To check a state machine of your own
//! with the same faults and checkers:
//!
//! 1. implement [`app::Replica`] for what each host runs: `apply` a committed entry (and
//!    report the client operations it completes), `snapshot` and `restore`, `read` for a
//!    ReadIndex read, and `request` to turn a client's operation into a proposal when the
//!    node leads. An application that holds entries back (a batch spanning several) says
//!    how far its state reaches with `applied_through`, which the host reports to Raft as
//!    NRG's `Processed(index, applied)`;
//! 2. implement [`app::Application`]: the operation and answer types, how a client draws
//!    its next operation, and `check`, the linearizability verdict of the client history
//!    (usually [`linearizability::check`] with a [`linearizability::Model`] of yours);
//! 3. run it with [`run_app`]`::<YourApp>(config, options, |_, _| {})`.
//!
//! The network, disk and cluster faults, the Raft safety checkers after every event, the
//! liveness check and the bundles are the same for every application.
//! `sim/examples/counter.rs` does it for a counter in one file.

pub mod app;
pub mod bundle;
pub mod checkers;
pub mod clocks;
pub mod config;
pub mod decisions;
pub mod disk;
pub mod disk_loss;
pub mod faults;
pub mod history;
pub mod linearizability;
pub mod log_read_errors;
pub mod network;
pub mod perturbation;
pub mod planted;
pub mod rng;
pub mod stream;
pub mod trace;
pub mod views;
pub mod world;
pub mod write_errors;

/// The key-value state machine lives in `state-machines`, shared with the real server;
/// `sim::kv::...` paths keep working.
pub use state_machines::kv;

pub use checkers::{Property, Violation};
pub use config::{SimConfig, StateMachine};
pub use world::{RunOptions, RunReport, RunVerdict, ScriptedOp, Stats, WorkloadScript};

/// Runs one simulation to completion, with the state machine the configuration names.
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
    let report = match config.state_machine {
        config::StateMachine::Kv => run_app::<app::kv::KvApp>(config, options, progress),
        config::StateMachine::Stream => run_app::<stream::StreamApp>(config, options, progress),
    };
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

/// Runs one simulation of application `A` (see [`app`]): the same faults, Raft checkers,
/// liveness check and linearizability check (with `A`'s model) as every run.
pub fn run_app<A: app::Application>(
    config: SimConfig,
    options: &RunOptions,
    progress: impl FnMut(config::Micros, config::Micros),
) -> RunReport {
    world::World::<A>::new(config, options).run(options, progress)
}
