//! The scenario builder: each method is one step of a script, recorded in the trace, run
//! through the simulator's scripted world (same host, disks, checkers), and followed by a
//! check that no safety property was violated.
//!
//! This module holds `Script` and its step protocol (`begin` names and records a step, `end`
//! fails the scenario on a checker violation). The steps are grouped by what they drive:
//! - `setup.rs` — `Setup`, the cluster a scenario starts with, and the steps that boot it;
//! - `time.rs` — ticks and elections;
//! - `inputs.rs` — proposals, membership changes, transfer, ReadIndex, snapshots, pause and
//!   resume apply, hand-built messages handed to a node;
//! - `network.rs` — the messages in flight (deliver, drop, duplicate, hold and release),
//!   settling, partitions and heals;
//! - `disk.rs` — syncs, stalled disks, power loss and process kills, restarts, damaged files;
//! - `expect.rs` — the assertion language (`expect(node, "leader t2 commit=3")`) and the
//!   other checks;
//! - `select.rs` — `Sel`, which messages a network step or a check means;
//! - `messages.rs` — entries and messages built by hand.

mod disk;
mod expect;
mod inputs;
mod messages;
mod network;
mod select;
mod setup;
mod stream;
mod time;

pub use inputs::Checkpoint;
pub use messages::{ae, ar, entry, vq, vr};
pub use select::Sel;
pub use setup::Setup;
pub use stream::msg;

use sim::app::kv::KvApp;
use sim::app::Application;
use sim::trace::TraceEvent;
use sim::world::World;

/// One scenario being run, on hosts running application `A` (the key-value store unless
/// said otherwise; the stream's scenarios run `Script<StreamApp>`).
pub struct Script<A: Application = KvApp> {
    name: &'static str,
    world: Option<World<A>>,
    step: usize,
    step_text: String,
    proposals: u64,
}

const SETTLE_ROUNDS: usize = 500;

impl<A: Application> Script<A> {
    pub fn new(name: &'static str) -> Script<A> {
        Script {
            name,
            world: None,
            step: 0,
            step_text: String::new(),
            proposals: 0,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The trace so far.
    pub fn events(&self) -> &[TraceEvent] {
        self.world.as_ref().map_or(&[], |w| w.trace_events())
    }

    pub fn nodes(&self) -> usize {
        self.world.as_ref().map_or(0, |w| w.nodes())
    }

    /// The scripted world (for reads the builder does not cover).
    pub fn world(&self) -> &World<A> {
        self.world
            .as_ref()
            .expect("the scenario must start with Script::setup")
    }

    fn w(&mut self) -> &mut World<A> {
        self.world
            .as_mut()
            .expect("the scenario must start with Script::setup")
    }

    /// Fails the scenario, naming it and the step.
    #[track_caller]
    pub fn fail(&self, what: String) -> ! {
        panic!(
            "scenario {} failed at step {} `{}`: {what}",
            self.name, self.step, self.step_text
        );
    }

    fn begin(&mut self, text: String) {
        self.step += 1;
        self.step_text = text.clone();
        let w = self.w();
        w.script_advance(1_000);
        w.script_note(&text);
    }

    #[track_caller]
    fn end(&mut self) {
        if let Some(v) = self.world().violation() {
            let v = v.to_string();
            self.fail(format!("checker violation: {v}"));
        }
    }

    /// The node's current term (for term-fenced proposals).
    pub fn term_of(&self, node: usize) -> u64 {
        self.world().node(node).map_or(0, |n| n.term())
    }

    /// Read-only access to a running node.
    #[track_caller]
    pub fn node(&self, node: usize) -> &raft_core::Node {
        self.world()
            .node(node)
            .unwrap_or_else(|| self.fail(format!("n{node} is not running")))
    }

    /// Runs the final checks of a scenario: no violation.
    pub fn finish(&mut self) {
        self.end();
    }
}

/// `n0,n1,n2`: nodes as a step's text names them.
fn list(nodes: &[usize]) -> String {
    nodes
        .iter()
        .map(|n| format!("n{n}"))
        .collect::<Vec<_>>()
        .join(",")
}
