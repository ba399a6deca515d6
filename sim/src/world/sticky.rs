//! Sticky readers (`config::StickyReaders`): clients with connection affinity for their
//! reads. After a read succeeds at a node, a sticky client stays there for a drawn while
//! after that success: its reads go to that node whatever it answers (a redirect, silence),
//! as a real client reading over the connection where it last succeeded does; its writes
//! look for the leader as every client's do. A deposed or isolated leader then keeps
//! receiving reads while the other clients write through the new leader, and its answers go
//! into the history for the linearizability check.
//!
//! Architecture invariant: a stay starts (or starts again) only at a successful read's
//! answer, and how long it lasts after it is a draw keyed by the client and the operation
//! (`workload/stick`), so a replayed workload sticks as the recorded run did. A client that
//! does not stick never calls into this room's state, so runs without sticky readers are as
//! they were before it.

use super::World;
use crate::app::Application;
use crate::config::Micros;
use crate::event;
use raft_core::Role;

/// Where a sticky client reads, and until when.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Affinity {
    /// Whether the client sticks at all (`StickyReaders::clients`).
    sticky: bool,
    /// The node of the client's last successful read, while the stay lasts.
    stay: Option<Stay>,
}

#[derive(Clone, Copy, Debug)]
struct Stay {
    node: usize,
    until: Micros,
}

impl Affinity {
    pub(super) fn new(sticky: bool) -> Affinity {
        Affinity { sticky, stay: None }
    }

    /// The node the client's reads go to at `now`, if it stays somewhere.
    pub(super) fn node(&self, now: Micros) -> Option<usize> {
        self.stay.filter(|s| now < s.until).map(|s| s.node)
    }
}

impl<A: Application> World<A> {
    /// The node a read of `client` goes to by affinity (instead of its guess of the leader),
    /// if it stays somewhere; counted, and counted again when that node is a leader some
    /// other node has deposed (it leads a term below the highest term a node holds).
    pub(super) fn sticky_target(&mut self, client: usize, op: &A::Op) -> Option<usize> {
        if !A::is_read(op) {
            return None;
        }
        let node = self.clients.list[client].affinity.node(self.now)?;
        self.stats.sticky_reads += 1;
        let highest = self
            .hosts
            .iter()
            .filter_map(|h| h.node.as_ref().map(|n| n.term()))
            .max()
            .unwrap_or(0);
        let deposed = self.hosts[node]
            .node
            .as_ref()
            .is_some_and(|n| n.role() == Role::Leader && n.term() < highest);
        if deposed {
            self.stats.sticky_reads_to_deposed_leader += 1;
        }
        Some(node)
    }

    /// A read of `client` (operation `seq`) succeeded at `node`: a sticky client stays there
    /// for a drawn while from now (a stay at that node starts again; one elsewhere ends).
    pub(super) fn read_succeeded(&mut self, client: usize, seq: u64, node: usize) {
        let now = self.now;
        let affinity = self.clients.list[client].affinity;
        let Some(sticky) = self
            .config
            .workload
            .sticky_readers
            .filter(|_| affinity.sticky)
        else {
            return;
        };
        let hold = self
            .workload_draws("workload/stick", client, seq)
            .between(sticky.hold_min_us, sticky.hold_max_us);
        let c = &mut self.clients.list[client];
        c.affinity.stay = Some(Stay {
            node,
            until: now + hold,
        });
        if affinity.node(now) != Some(node) {
            let client_id = c.id();
            self.record(event!(now, Some(node), "stick", client = client_id));
        }
    }
}
