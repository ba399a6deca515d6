//! Steps that let time pass and start elections.

use super::{Script, SETTLE_ROUNDS};
use sim::app::Application;

impl<A: Application> Script<A> {
    /// `count` ticks of one node (messages it sends wait in flight).
    pub fn tick(&mut self, node: usize, count: u32) {
        self.begin(format!("tick n{node} x{count}"));
        for _ in 0..count {
            self.w().script_tick(node);
        }
        self.end();
    }

    /// `count` rounds of: one tick of every node, then settle. Time passing on a healthy
    /// network (heartbeats delivered, CheckQuorum windows close).
    pub fn run_ticks(&mut self, count: u32) {
        self.begin(format!("run x{count} (tick all, settle)"));
        for _ in 0..count {
            for n in 0..self.nodes() {
                self.w().script_tick(n);
            }
            self.w().script_settle(SETTLE_ROUNDS);
        }
        self.end();
    }

    /// The node's election timeout fires now (NATS `Campaign`; a pre-vote first when on).
    pub fn campaign(&mut self, node: usize) {
        self.begin(format!("campaign n{node}"));
        self.w().script_input(node, |n| Ok::<_, ()>(n.campaign()));
        self.end();
    }

    /// Campaign, settle, and check that `node` leads with its no-op committed.
    pub fn elect(&mut self, node: usize) {
        self.campaign(node);
        self.settle();
        self.expect(node, "leader ready");
    }
}
