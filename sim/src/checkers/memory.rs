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
//!
//! # Cost: a walk of the cached window, not of the log
//!
//! The check runs after every step of every node, and the evictable prefix (durable and
//! applied) grows with the log when nothing compacts it; walking it whole made the check
//! most of an event's cost in long runs. So each node remembers, from its last walk, the
//! lowest index whose `Normal` payload was not empty ([`CacheWalk::low`]): every evictable
//! entry below it held nothing then. The next check walks only from there to the evictable
//! end. A correct core drops the oldest payloads first, so that is the cached window (at most
//! the bound's worth of payloads, plus the empty entries between them), whatever the log's
//! length. What this still catches, and why:
//!
//! - A payload the core forgot to drop, anywhere in the evictable prefix: it was not empty
//!   when its entry first became evictable, and the remembered index never passes an entry
//!   that was not walked (it is at most one past the evictable end of the last walk), so
//!   the first walk that saw it stopped there, and every later walk starts at or below it.
//! - Entries the log replaced: a log write after `prev_index` may rewrite entries below the
//!   remembered index, which comes down to the first rewritten one
//!   ([`Checkers::on_cache_log_write`]). A crash, recovery, reset, replaced or damaged disk,
//!   lost log, replay or snapshot (the log re-read, or started at a new first index) forgets
//!   the node's walk ([`Checkers::forget_cache_walk`]); so does a log whose first index
//!   differs from the last walk's, seen by the check itself.
//! - A payload that reappears below the remembered index by any other path (a core that
//!   puts a payload it read back into its log, say): a full walk, from the log's start, at
//!   the first check of a node and then whenever the node was checked a
//!   [`FULL_WALK_SHARE`]th of its evictable prefix's length (at the last full walk, at least
//!   once) since, reports it within that many checks of the node. The full walks cost at
//!   most `FULL_WALK_SHARE` entries per check on average, however long the log.

use super::{Checkers, Property};
use crate::config::Micros;
use raft_core::{Entry, EntryKind, Node};

/// A full walk whenever a node was checked `1 / FULL_WALK_SHARE` of its evictable prefix's
/// length (at its last full walk) times since: the amortised cost of the full walks, in
/// entries per check, and the delay in checks before a payload reappearing below the
/// remembered index is seen, a share of the log's length.
const FULL_WALK_SHARE: usize = 8;

/// What one node's last walk of its evictable prefix found (see the module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CacheWalk {
    /// Every evictable entry below this index held no counted payload at the last walk (0:
    /// nothing known, the next walk is a full one).
    low: u64,
    /// The index of the log's first entry at the last walk (0: an empty log).
    first: u64,
    /// Checks left before the next full walk (0: the next one is).
    until_full: usize,
}

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
        self.check_cached_payloads(now, node, raft.log(), evictable_through, bound);
    }

    /// The check itself, on `log` as `node` exposes it, whose entries through
    /// `evictable_through` are durable and applied.
    fn check_cached_payloads(
        &mut self,
        now: Micros,
        node: usize,
        log: &[Entry],
        evictable_through: u64,
        bound: usize,
    ) {
        let walk = &mut self.cache_walks[node];
        let first = log.first().map_or(0, |e| e.index);
        // The log runs in index order: its evictable part is a prefix, and the part of it
        // walked starts at the remembered index; both ends found by bisection.
        let end = log.partition_point(|e| e.index <= evictable_through);
        let start = if walk.until_full == 0 || first != walk.first {
            walk.until_full = (end / FULL_WALK_SHARE).max(1);
            0
        } else {
            let low = walk.low;
            log.partition_point(|e| e.index < low).min(end)
        };
        walk.until_full -= 1;
        walk.first = first;
        let window = &log[start..end];
        let counted = |e: &Entry| usize::from(e.kind == EntryKind::Normal) * e.data.len();
        // The empty entries the window starts with are skipped once, and the rest summed
        // without a branch per entry (this runs after every step of every node).
        let skip = window
            .iter()
            .position(|e| counted(e) != 0)
            .unwrap_or(window.len());
        walk.low = window
            .get(skip)
            .map_or(evictable_through.saturating_add(1), |e| e.index);
        let held: usize = window[skip..].iter().map(counted).sum();
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

    /// `node` wrote its log after `prev_index` (see [`Checkers::on_log_write`]): the entries
    /// it replaced are walked again.
    pub fn on_cache_log_write(&mut self, node: usize, prev_index: u64) {
        let walk = &mut self.cache_walks[node];
        walk.low = walk.low.min(prev_index + 1);
    }

    /// `node`'s log may have been re-read or replaced (a crash, recovery, reset, disk fault,
    /// replay or snapshot): its next check walks the whole evictable prefix.
    pub fn forget_cache_walk(&mut self, node: usize) {
        self.cache_walks[node] = CacheWalk::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::{Action, Config, NodeId, Recovered};

    /// Payload bytes of `log`'s durable, applied `Normal` entries, summed from scratch: what
    /// the check must compare with the bound.
    fn held(log: &[Entry], evictable_through: u64) -> usize {
        log.iter()
            .filter(|e| e.index <= evictable_through && e.kind == EntryKind::Normal)
            .map(|e| e.data.len())
            .sum()
    }

    /// A log of `len` entries of term 1 from index 1, with 10-byte payloads.
    fn log_of(len: u64) -> Vec<Entry> {
        (1..=len)
            .map(|i| Entry::normal(1, i, "0123456789"))
            .collect()
    }

    /// What a core with a cache of `cached` payloads leaves of `log` once the entries
    /// through `through` are evictable: the payloads of all but the newest `cached` of
    /// them dropped, except at the indexes in `leaked`.
    fn evict(log: &mut [Entry], through: u64, cached: u64, leaked: &[u64]) {
        for e in log.iter_mut() {
            if e.index + cached <= through && !leaked.contains(&e.index) {
                e.data = Default::default();
            }
        }
    }

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

    #[test]
    fn a_payload_left_behind_deep_in_the_prefix_is_reported_by_every_incremental_walk() {
        // A 1-byte payload the core forgot at index 10: the remembered index stays there,
        // so each check still counts it; with the bound's worth cached on top, it is over.
        let bound = 30;
        let mut log = log_of(2_000);
        log[9].data = "x".into();
        let mut c = Checkers::new(1);
        for through in 1..=1_000 {
            evict(&mut log, through, 2, &[10]);
            c.check_cached_payloads(0, 0, &log, through, bound);
            assert!(!c.violated(), "{through}: {:?}", c.first_violation);
        }
        assert_eq!(c.cache_walks[0].low, 10);
        // Three payloads cached (30 bytes, the bound) plus the forgotten byte.
        evict(&mut log, 1_001, 3, &[10]);
        c.check_cached_payloads(0, 0, &log, 1_001, bound);
        assert_eq!(held(&log, 1_001), 31);
        let v = c
            .first_violation
            .clone()
            .expect("31 bytes held, 30 allowed");
        assert!(v.detail.contains("holds 31 payload bytes"), "{}", v.detail);
    }

    #[test]
    fn the_incremental_walk_agrees_with_a_whole_walk_at_every_check() {
        // Leaks at scattered indexes (one at a time becomes evictable), each check compared
        // with the sum from scratch: the first check over the bound is the first violation.
        let bound = 40;
        let mut log = log_of(3_000);
        let leaked = [7, 500, 1_200, 2_900];
        let mut c = Checkers::new(1);
        for through in 1..=3_000 {
            evict(&mut log, through, 1, &leaked);
            c.check_cached_payloads(0, 0, &log, through, bound);
            let over = held(&log, through) > bound;
            assert_eq!(c.violated(), over, "{through}");
            if over {
                // The fourth leak, and the newest payload cached.
                assert_eq!(through, 2_901);
                return;
            }
        }
        panic!("never over the bound");
    }

    #[test]
    fn a_payload_reappearing_below_the_remembered_index_is_reported_by_the_next_full_walk() {
        let bound = 30;
        let mut log = log_of(800);
        evict(&mut log, 800, 0, &[]);
        let mut c = Checkers::new(1);
        c.check_cached_payloads(0, 0, &log, 800, bound);
        assert_eq!(c.cache_walks[0].low, 801);
        // A core that puts a payload back deep in its log without rewriting it: no log
        // write says so, so the incremental walks do not see it...
        log[99].data = vec![0u8; 100].into();
        let delay = 800 / FULL_WALK_SHARE;
        let mut checks = 0;
        while !c.violated() {
            checks += 1;
            assert!(checks <= delay, "not seen within {delay} checks");
            c.check_cached_payloads(0, 0, &log, 800, bound);
        }
        // ... and the next full walk does.
        assert_eq!(checks, delay);
        let v = c.first_violation.clone().unwrap();
        assert!(v.detail.contains("holds 100 payload bytes"), "{}", v.detail);
    }

    #[test]
    fn a_rewrite_a_lost_walk_or_a_new_first_index_is_walked_at_once() {
        let bound = 30;
        let over = |c: &mut Checkers, log: &[Entry]| {
            c.check_cached_payloads(0, 0, log, 800, bound);
            c.first_violation.take().is_some()
        };
        let mut log = log_of(800);
        evict(&mut log, 800, 0, &[]);
        let mut c = Checkers::new(1);
        assert!(!over(&mut c, &log));
        log[99].data = vec![0u8; 100].into();
        assert!(
            !over(&mut c, &log),
            "below the remembered index, not yet walked"
        );
        // A log write after index 50 replaced entry 100.
        c.on_cache_log_write(0, 50);
        assert!(over(&mut c, &log));
        assert!(over(&mut c, &log), "walked from there on");
        // A restart (or another re-read of the log) forgets the walk.
        let mut c = Checkers::new(1);
        log[99].data = Default::default();
        assert!(!over(&mut c, &log));
        log[99].data = vec![0u8; 100].into();
        assert!(!over(&mut c, &log));
        c.forget_cache_walk(0);
        assert!(over(&mut c, &log));
        // A log that starts at another index (a snapshot installed) is walked whole.
        let mut c = Checkers::new(1);
        let mut log = log_of(800);
        evict(&mut log, 800, 0, &[]);
        assert!(!over(&mut c, &log));
        log.remove(0);
        log[98].data = vec![0u8; 100].into();
        assert!(over(&mut c, &log));
    }
}
