//! Resource bounds: no loop without progress. Once the faults have stopped, a leader that
//! keeps delivering the same snapshot, or the same entries, to the same follower while its
//! match index for that follower does not move is stuck in a loop (camunda #9820: the same
//! snapshot sent again and again, the follower never caught up), even when a quorum keeps
//! committing without that follower and liveness holds.
//!
//! Only deliveries count, and only after the faults stopped: while a partition or a one-way
//! link stands, a leader legitimately resends an unanswered chunk or append at every
//! heartbeat forever. On the healed, lossless network a delivered snapshot or append is
//! answered within one round trip, and the leader resends it at most once per heartbeat
//! meanwhile; so the limit (`Checkers::arm_loop_limit`, computed by the world from the
//! configuration) is a few round trips' worth of heartbeat resends.

use super::{Checkers, FxMap, Property};
use crate::config::Micros;

/// What a leader delivered to a follower that should move the follower's match index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replication {
    /// The last chunk of the snapshot at `index`: the follower then holds it whole.
    SnapshotDone { index: u64 },
    /// Entries after `prev_index`, through `last_index`.
    Entries { prev_index: u64, last_index: u64 },
}

impl std::fmt::Display for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Replication::SnapshotDone { index } => write!(f, "the snapshot at {index}"),
            Replication::Entries {
                prev_index,
                last_index,
            } => write!(f, "entries {}..={last_index}", prev_index + 1),
        }
    }
}

/// The same delivery, repeated, with the leader's match index for the follower unchanged.
#[derive(Clone, Copy, Debug)]
struct Streak {
    term: u64,
    what: Replication,
    leader_match: u64,
    count: u32,
}

/// Per (leader, follower): the streak of identical deliveries without progress.
#[derive(Clone, Debug, Default)]
pub(super) struct Loops {
    streaks: FxMap<(usize, usize), Streak>,
    /// Deliveries without progress allowed; 0 until the faults stop.
    limit: u32,
    /// Per link (`from * nodes + to`): messages sent and not yet delivered or dropped.
    in_flight: Vec<u32>,
}

/// The messages one link may hold at once. Flow control keeps a leader's appends to a few
/// in flight, and heartbeats, votes and forwarded requests add a few per election timeout,
/// so even a clog or a paused receiver of seconds leaves hundreds. Thousands are a storm: a
/// node answering each message with more than one (a snapshot resent on every answer to it,
/// with the network duplicating some) grows the queue geometrically, and the run would
/// exhaust memory before virtual time moves (seed 385 with `snapshot-resent-after-install`
/// on the stream: 8.6 GB in minutes). Checked at all times, faults or not.
pub const MAX_IN_FLIGHT_PER_LINK: u32 = 10_000;

impl Checkers {
    /// The faults stopped: from now on at most `limit` identical deliveries without
    /// progress are allowed.
    pub fn arm_loop_limit(&mut self, limit: u32) {
        self.loops.limit = limit.max(1);
    }

    /// `leader`, leading `term` with match index `leader_match` for `follower`, delivered
    /// `what` to it.
    pub fn on_replication_delivered(
        &mut self,
        now: Micros,
        leader: usize,
        follower: usize,
        term: u64,
        what: Replication,
        leader_match: u64,
    ) {
        let limit = self.loops.limit;
        let beyond_match = match what {
            Replication::SnapshotDone { index } => index > leader_match,
            Replication::Entries { last_index, .. } => last_index > leader_match,
        };
        // What the match index already covers is a late resend of something the follower
        // holds, not a follower making no progress (held-out seed 642: an append resent
        // while its acknowledgement was on the way).
        if limit == 0 || !beyond_match {
            return;
        }
        let streak = self
            .loops
            .streaks
            .entry((leader, follower))
            .or_insert(Streak {
                term,
                what,
                leader_match,
                count: 0,
            });
        if (streak.term, streak.what, streak.leader_match) != (term, what, leader_match) {
            *streak = Streak {
                term,
                what,
                leader_match,
                count: 0,
            };
        }
        streak.count += 1;
        if streak.count > limit {
            let count = streak.count;
            self.fail(
                Property::NoLoopWithoutProgress,
                now,
                Some(leader),
                format!(
                    "n{leader} (leader of term {term}) delivered {what} to n{follower} {count} times after the faults stopped, its match index for it staying at {leader_match} (at most {limit} allowed)"
                ),
            );
        }
    }

    /// A message from `from` to `to` was put on the wire (each copy of a duplicated one).
    pub fn on_message_queued(&mut self, now: Micros, from: usize, to: usize) {
        let nodes = self.memory.len();
        let in_flight = &mut self.loops.in_flight;
        if in_flight.is_empty() {
            in_flight.resize(nodes * nodes, 0);
        }
        let count = &mut in_flight[from * nodes + to];
        *count += 1;
        if *count > MAX_IN_FLIGHT_PER_LINK {
            let count = *count;
            self.fail(
                Property::MessagesInFlightBounded,
                now,
                Some(from),
                format!(
                    "n{from} has {count} messages in flight to n{to} (at most {MAX_IN_FLIGHT_PER_LINK} allowed): a message storm"
                ),
            );
        }
    }

    /// A message from `from` to `to` left the wire: delivered, or dropped at its arrival.
    pub fn on_message_left_wire(&mut self, from: usize, to: usize) {
        let nodes = self.memory.len();
        if let Some(count) = self.loops.in_flight.get_mut(from * nodes + to) {
            *count = count.saturating_sub(1);
        }
    }

    /// A node lost power: its streaks, as a leader or as a follower, start over.
    pub fn on_loops_crash(&mut self, node: usize) {
        self.loops
            .streaks
            .retain(|&(leader, follower), _| leader != node && follower != node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: Replication = Replication::SnapshotDone { index: 10 };

    fn deliver(c: &mut Checkers, times: u32, leader_match: u64) {
        for _ in 0..times {
            c.on_replication_delivered(0, 0, 1, 2, SNAPSHOT, leader_match);
        }
    }

    #[test]
    fn more_messages_in_flight_on_one_link_than_allowed_is_a_storm() {
        let mut c = Checkers::new(3);
        for _ in 0..MAX_IN_FLIGHT_PER_LINK {
            c.on_message_queued(0, 0, 2);
        }
        // Arrivals make room, and other links count on their own.
        c.on_message_left_wire(0, 2);
        c.on_message_queued(0, 0, 2);
        c.on_message_queued(0, 2, 0);
        assert!(!c.violated(), "at the limit");
        c.on_message_queued(0, 0, 2);
        let v = c.first_violation.clone().expect("one past the limit");
        assert_eq!(v.property, Property::MessagesInFlightBounded);
        assert_eq!(v.node, Some(0));
    }

    #[test]
    fn nothing_counts_before_the_faults_stop() {
        let mut c = Checkers::new(3);
        deliver(&mut c, 100, 0);
        assert!(!c.violated());
    }

    #[test]
    fn the_same_delivery_past_the_limit_without_progress_is_a_loop() {
        let mut c = Checkers::new(3);
        c.arm_loop_limit(5);
        deliver(&mut c, 5, 0);
        assert!(!c.violated(), "at the limit");
        deliver(&mut c, 1, 0);
        let v = c.first_violation.clone().expect("one past the limit");
        assert_eq!(v.property, Property::NoLoopWithoutProgress);
        assert_eq!(v.node, Some(0));
    }

    #[test]
    fn progress_or_a_different_delivery_starts_the_count_over() {
        let mut c = Checkers::new(3);
        c.arm_loop_limit(5);
        deliver(&mut c, 5, 0);
        deliver(&mut c, 5, 3); // the match moved
        deliver(&mut c, 50, 10); // the follower holds it: late resends, not a loop
        let entries = Replication::Entries {
            prev_index: 10,
            last_index: 12,
        };
        for _ in 0..5 {
            c.on_replication_delivered(0, 0, 1, 2, entries, 3);
        }
        deliver(&mut c, 5, 3); // back to the snapshot: a new streak
        c.on_loops_crash(1);
        deliver(&mut c, 5, 3); // the follower restarted
        assert!(!c.violated(), "{:?}", c.first_violation);
    }
}
