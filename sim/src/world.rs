//! The world: one thread, virtual time, an event queue ordered by (time, sequence number), the
//! nodes with their hosts and disks, the network, the clients and the checkers.
//!
//! The world is split into rooms, each in its own file, after TigerBeetle's `src/testing/`:
//! the simulator's policy (which faults, when, and what the operator and the clients ask)
//! apart from the cluster it acts on (hosts, disks, network) and from what observes it
//! (checkers, trace, report).
//!
//! - `event_loop.rs`: runs the queue and hands each event to the room it belongs to; the one
//!   place where the cluster's news (a node won, a node is ready to lead) reaches the policy
//!   rooms. `events.rs`: the events and their queue.
//! - The cluster: `host.rs` carries out a node's actions, in order, against its disk, the
//!   network and its application, and steps the node with its inputs; `disk_io.rs` is the
//!   host's side of persists, renames and WAL compaction; `recovery.rs` power losses and
//!   boots through raft-core's recovery; `wire.rs` the network side of sends, deliveries and
//!   power losses; `service.rs` the key-value application each host runs (applies, client
//!   requests, ReadIndex reads, replies).
//! - The policy: `nemesis.rs` injects the fault script; `operator.rs` carries out the
//!   operator's membership plans; `clients.rs` runs the workload (`sticky.rs`: readers with
//!   connection affinity); `liveness.rs` stops the faults and judges liveness.
//! - What observes: `checks.rs` is the one place that feeds the safety checkers;
//!   `report.rs` counts the run's figures and writes the report; `trace_text.rs` is how the
//!   events read in the trace.
//! - `scripted.rs`: the same world driven step by step by a script (the scenarios).
//!
//! Architecture invariant: the cluster rooms do not know the policy rooms. The host reports
//! what happened (a node won, a node became ready to lead) to the event loop, which tells the
//! nemesis and the operator; no host code reads or changes fault, operator, client or
//! liveness state. The policy rooms act on the cluster only through its inputs (crash,
//! pause, partition, propose, step down, ...), as an outside nemesis or operator would.
//!
//! Architecture invariant: every random decision taken while the run runs goes through
//! `World::decisions` (`crate::decisions`), keyed by what it is about (a message's identity,
//! a node life's persist id, ...), never by its position in a stream; so the order in which
//! rooms draw is not behaviour, and a replay takes the recorded decisions. The order in
//! which a room schedules events (their sequence numbers) still decides which of two events
//! at the same virtual time runs first: moving code between rooms must keep it, which the
//! pinned trace hashes check.

use crate::app::kv::KvApp;
use crate::app::{Application, Replica};
use crate::config::{Micros, SimConfig};
use crate::decisions::{Decisions, Key};
use crate::disk::Disk;
use crate::network::Network;
use crate::perturbation::Perturbation;
use crate::trace::{Fields, LazyEvent, Trace};
use raft_core::{Action, Node, NodeId, Role};
use std::collections::BTreeSet;

mod atlas;
mod checks;
mod clients;
mod clocks;
mod compaction;
mod convergence;
mod disk_io;
mod disk_loss;
mod event_loop;
mod events;
mod host;
mod liveness;
mod log_reads;
mod nemesis;
mod operator;
mod recovery;
mod repair;
mod report;
mod rescue;
mod reset;
mod resource_bounds;
pub mod scripted;
mod service;
mod sticky;
mod trace_text;
mod upkeep;
mod wire;
mod write_errors;

pub use clients::{RecordedWorkload, ScriptedOp, WorkloadScript};
pub use host::Status;
pub use report::{RunOptions, RunReport, RunVerdict, Stats};
pub use trace_text::{fmt_message, write_message};

use checks::CheckerFeed;
use clients::Clients;
use events::{Event, EventQueue};
use host::Host;
use liveness::LivenessPhase;
use nemesis::Nemesis;
use operator::Operator;

/// The simulated world running application `A` on every host (the key-value store unless
/// said otherwise).
pub struct World<A: Application = KvApp> {
    config: SimConfig,

    // The event loop.
    /// The virtual time of the event being handled.
    now: Micros,
    queue: EventQueue<A>,

    // The cluster.
    hosts: Vec<Host<A>>,
    network: Network,
    /// The chance that an fsync is slow: the configuration's until the faults stop
    /// (`liveness.rs`), then none.
    slow_fsync_ppm: crate::rng::Ppm,
    /// An empty action buffer for the next `*_into` call on a node ([`World::execute`] hands
    /// it back drained), so stepping a node allocates no `Vec` of actions.
    spare_actions: Vec<Action>,
    /// An empty buffer for the operations a run of applies completes (reused likewise).
    spare_completions: Vec<crate::app::Completion<A>>,
    /// A planted core bug (`raft_core::planted`), switched on in every node.
    #[cfg(feature = "planted-bugs")]
    planted: Option<raft_core::planted::PlantedBug>,
    /// A planted simulator bug (`crate::planted`).
    #[cfg(feature = "planted-bugs")]
    sim_bug: Option<crate::planted::SimBug>,
    /// The planted bug's name, offered to every replica (an application-layer bug).
    #[cfg(feature = "planted-bugs")]
    planted_app: Option<String>,
    /// The last ReadIndex context handed out (contexts are unique across the cluster).
    next_read_context: u64,

    // The policy.
    nemesis: Nemesis,
    operator: Operator,
    clients: Clients<A>,
    liveness: LivenessPhase,
    /// What every live member must apply after the probe's write commits
    /// (`convergence.rs`).
    convergence: Option<convergence::ConvergenceTarget>,

    // What observes the run.
    checks: CheckerFeed,
    trace: Trace,
    stats: Stats,
    /// The terms in which some node became leader (`Stats::leaders` counts them).
    leader_terms: BTreeSet<u64>,

    /// Every random decision of the run, drawn by its key or replayed from a bundle, and
    /// recorded for the bundle (`crate::decisions`).
    decisions: Decisions,
    /// A perturbation the run is under (the perturbation test only).
    perturbation: Option<crate::perturbation::Perturbation>,

    /// Scripted mode (`World::scripted`): no automatic ticks, clients or nemesis; sent
    /// messages wait in an inspectable list until the script delivers them.
    scripted: Option<Box<scripted::ScriptState>>,
}

fn id(node: usize) -> NodeId {
    NodeId(node as u64)
}

/// A node's voters as a mask (bit `i` = node `i`).
fn voters_mask(raft: &Node) -> u64 {
    mask_of(raft.voters())
}

/// Node ids as a mask (bit `i` = node `i`).
fn mask_of(nodes: impl IntoIterator<Item = NodeId>) -> u64 {
    nodes
        .into_iter()
        .filter(|v| v.0 < 64)
        .fold(0, |mask, v| mask | 1 << v.0)
}

/// The planted bug named `name`: raft-core's, the simulator's, or (`app_knows`) the
/// application's, which the replicas take by name.
#[cfg(feature = "planted-bugs")]
fn resolve_planted(
    name: Option<&str>,
    app_knows: impl Fn(&str) -> bool,
) -> (
    Option<raft_core::planted::PlantedBug>,
    Option<crate::planted::SimBug>,
) {
    let Some(name) = name else {
        return (None, None);
    };
    if let Some(bug) = raft_core::planted::PlantedBug::from_name(name) {
        return (Some(bug), None);
    }
    if let Some(bug) = crate::planted::SimBug::from_name(name) {
        return (None, Some(bug));
    }
    assert!(
        app_knows(name),
        "unknown planted bug {name:?} (neither raft-core's, the simulator's nor this application's)"
    );
    (None, None)
}

impl<A: Application> World<A> {
    pub fn new(config: SimConfig, options: &RunOptions) -> World<A> {
        let n = config.nodes;
        let mut decisions = Decisions::new(
            config.seed,
            options.decisions.as_deref().unwrap_or_default(),
            options.perturbation == Some(Perturbation::ExtraDraw),
        );
        let hosts: Vec<Host<A>> = (0..n)
            .map(|i| {
                let drift = i64::from(config.faults.clock_drift_ppm);
                let key = Key::ClockDrift { node: i as u8 };
                let offset =
                    decisions.drift_ppm(key, |rng| rng.between(0, 2 * drift as u64) as i64 - drift);
                let tick_us =
                    (config.tick_us as i64 * (1_000_000 + offset) / 1_000_000).max(1) as Micros;
                Host::new(A::Replica::new(&config), Disk::default(), tick_us)
            })
            .collect();
        let network = Network::new(
            n,
            config.latency.clone(),
            config.faults.drop_ppm,
            config.faults.duplicate_ppm,
        );
        let checks = CheckerFeed::new(
            hosts.iter().map(|h| h.tick_us).collect(),
            config.election_timeout_max_ticks,
            options.checkers,
        );
        let clients = Clients::new(&config, options.workload.as_ref());
        assert!(
            cfg!(feature = "planted-bugs") || options.planted_bug.is_none(),
            "a planted bug needs the sim crate's planted-bugs feature"
        );
        #[cfg(feature = "planted-bugs")]
        let planted = resolve_planted(options.planted_bug.as_deref(), |name| {
            A::Replica::new(&config).plant(name)
        });
        let nemesis = Nemesis::new(&config, options.script.clone());
        let operator = Operator::new(&config);
        let mut trace = Trace::new(options.keep_trace);
        // Echoing costs a formatted line per event: only when asked, or when the subscriber
        // would show it.
        trace.set_echo(
            options.echo || tracing::enabled!(target: "sim::trace", tracing::Level::DEBUG),
        );
        World {
            now: 0,
            queue: EventQueue::default(),
            hosts,
            network,
            slow_fsync_ppm: config.faults.slow_fsync_ppm,
            spare_actions: Vec::new(),
            spare_completions: Vec::new(),
            #[cfg(feature = "planted-bugs")]
            planted: planted.0,
            #[cfg(feature = "planted-bugs")]
            sim_bug: planted.1,
            #[cfg(feature = "planted-bugs")]
            planted_app: options.planted_bug.clone(),
            next_read_context: 0,
            nemesis,
            operator,
            clients,
            liveness: LivenessPhase::new(&config),
            convergence: None,
            checks,
            trace,
            stats: Stats::default(),
            leader_terms: BTreeSet::new(),
            scripted: None,
            decisions,
            perturbation: options.perturbation,
            config,
        }
    }

    /// Offers the planted bug to a replica (an application-layer bug lives there).
    #[allow(unused_variables)]
    fn plant_in_replica(&self, replica: &mut A::Replica) {
        #[cfg(feature = "planted-bugs")]
        if let Some(name) = &self.planted_app {
            replica.plant(name);
        }
    }

    #[inline]
    fn schedule(&mut self, at: Micros, event: Event<A>) {
        self.queue.schedule(at, event);
    }

    /// Whether the simulator bug `bug` is planted (`crate::planted`; never without the
    /// `planted-bugs` feature).
    #[inline]
    #[allow(unused_variables)]
    fn sim_bug(&self, bug: crate::planted::SimBug) -> bool {
        #[cfg(feature = "planted-bugs")]
        return self.sim_bug == Some(bug);
        #[cfg(not(feature = "planted-bugs"))]
        return false;
    }

    /// Whether the run is under `perturbation` (the perturbation test).
    #[inline]
    fn perturbed(&self, perturbation: Perturbation) -> bool {
        self.perturbation == Some(perturbation)
    }

    #[inline]
    fn record<F: Fields>(&mut self, event: LazyEvent<F>) {
        self.trace.record(event);
    }

    /// The highest term of the nodes in memory (up or paused).
    fn highest_live_term(&self) -> u64 {
        self.hosts
            .iter()
            .filter_map(|h| h.node.as_ref())
            .map(|n| n.term())
            .max()
            .unwrap_or(0)
    }

    /// The nodes that are up, with their numbers.
    fn running_nodes(&self) -> impl Iterator<Item = (usize, &Node)> + '_ {
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.status == Status::Up)
            .filter_map(|(i, h)| Some((i, h.node.as_ref()?)))
    }

    /// The leader of the highest term among the nodes that are up, if any.
    fn current_leader(&self) -> Option<usize> {
        self.running_nodes()
            .filter(|(_, n)| n.role() == Role::Leader)
            .map(|(i, n)| (n.term(), i))
            .max()
            .map(|(_, i)| i)
    }
}
