//! Resource bounds: memory per node bounded by its configuration. A node with a log cache
//! bound (`raft_core::Config::log_cache_bytes`) may keep in memory the payloads of entries
//! the disk or the application still needs, and the membership entries (the membership is
//! read from them), but of the other entries, those durable and applied, at most the bound.
//! The payloads are measured on the node's log as it exposes it, not taken from the core's
//! own accounting, so a payload the core forgot to drop counts.
//!
//! Not measured: the payloads a leader read back for one message (at most one read's
//! worth, `max_entries_per_message` entries), nor the per-peer state (progress, reads in
//! flight), whose size does not grow with the log.

use super::{Checkers, Property};
use crate::config::Micros;
use raft_core::{EntryKind, Node};

impl Checkers {
    /// After `raft`'s actions: with a cache bound of `bound` bytes, its durable, applied,
    /// `Normal` entries hold at most `bound` payload bytes.
    pub fn check_memory_within_bound(
        &mut self,
        now: Micros,
        node: usize,
        raft: &Node,
        bound: usize,
    ) {
        let evictable_through = raft.applied_index().min(raft.durable_index());
        let log = raft.log();
        // The log runs in index order: its evictable part is a prefix, found by bisection,
        // and summed without a branch per entry (this runs after every step of every node).
        let evictable = &log[..log.partition_point(|e| e.index <= evictable_through)];
        let held: usize = evictable
            .iter()
            .map(|e| usize::from(e.kind == EntryKind::Normal) * e.data.len())
            .sum();
        if held > bound {
            self.fail(
                Property::MemoryWithinBound,
                now,
                Some(node),
                format!(
                    "n{node} holds {held} payload bytes of entries that are durable and applied (through index {evictable_through}) in memory, above its log cache bound of {bound}"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{Action, Config, NodeId, Recovered};

    /// A single-voter node that committed and applied `entries` payloads of 10 bytes, with
    /// `cache` as its bound.
    fn node_with_applied_entries(cache: Option<usize>, entries: usize) -> Node {
        let mut config = Config::new(NodeId(1), vec![NodeId(1)], 1);
        config.log_cache_bytes = cache;
        let mut raft = Node::new(config, Recovered::default()).unwrap();
        let campaign = raft.campaign();
        drive(&mut raft, campaign);
        for _ in 0..entries {
            let proposed = raft.propose(1, "0123456789").unwrap().actions;
            drive(&mut raft, proposed);
        }
        assert_eq!(raft.applied_index(), entries as u64 + 1);
        raft
    }

    /// Completes every persist and apply at once, until the node asks for nothing more.
    fn drive(raft: &mut Node, mut pending: Vec<Action>) {
        while !pending.is_empty() {
            let mut next = Vec::new();
            for action in pending {
                match action {
                    Action::Persist { id, .. } => next.extend(raft.persisted(id).unwrap()),
                    Action::Apply { entries } => {
                        next.extend(raft.applied(entries.last().unwrap().index).unwrap())
                    }
                    _ => {}
                }
            }
            pending = next;
        }
    }

    #[test]
    fn a_node_keeping_payloads_past_its_bound_breaks_memory_within_bound() {
        let mut c = Checkers::new(1);
        // A core that ignores the bound: the checker is told of a bound the node never set.
        let leaky = node_with_applied_entries(None, 5);
        c.check_memory_within_bound(0, 0, &leaky, 30);
        let v = c
            .first_violation
            .clone()
            .expect("50 bytes held, 30 allowed");
        assert_eq!(v.property, Property::MemoryWithinBound);
        assert!(v.detail.contains("holds 50 payload bytes"), "{}", v.detail);
    }

    #[test]
    fn the_correct_core_keeps_its_applied_payloads_within_the_bound() {
        let mut c = Checkers::new(1);
        for bound in [0, 25, 30, 1000] {
            let raft = node_with_applied_entries(Some(bound), 5);
            c.check_memory_within_bound(0, 0, &raft, bound);
        }
        assert!(!c.violated(), "{:?}", c.first_violation);
    }
}
