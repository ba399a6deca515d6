//! Resource bounds, the world's side: what a leader delivers to a follower once the faults
//! stopped, shown to the no-loop-without-progress checker (`checkers/resources.rs`) with the
//! leader's match index for that follower, and the limit of repeated deliveries, computed
//! from the configuration.

use super::{id, Status, World};
use crate::app::Application;
use crate::checkers::Replication;
use crate::config::Micros;
use raft_core::{Message, Role};

/// How many round trips' worth of resends a delivery may go without progress. A delivery is
/// answered within one round trip on the healed network; the margin covers a follower that
/// first has to be probed back to the point where the leader's log and its own meet, one
/// rejection per round trip, while the leader resends at each heartbeat.
const ROUND_TRIPS_WITHOUT_PROGRESS: u64 = 4;

impl<A: Application> World<A> {
    /// The most identical deliveries to one follower without its match index moving that a
    /// correct leader makes on the healed network: a round trip (two of the largest
    /// latencies and the slowest fsync) holds at most `round trip / heartbeat + 1` resends,
    /// the heartbeat counted on the fastest clock; [`ROUND_TRIPS_WITHOUT_PROGRESS`] such
    /// round trips are allowed.
    pub(super) fn loop_limit(&self) -> u32 {
        let latency = &self.config.latency;
        let round_trip = 2 * latency.max_us.max(latency.tail_max_us) + self.config.fsync_max_us;
        let fastest_tick = self.hosts.iter().map(|h| h.tick_us).min().unwrap_or(1);
        let heartbeat = (fastest_tick * u64::from(self.config.heartbeat_ticks)).max(1);
        let per_round_trip = round_trip.div_ceil(heartbeat) + 1;
        u32::try_from(ROUND_TRIPS_WITHOUT_PROGRESS * per_round_trip).unwrap_or(u32::MAX)
    }

    /// `message` from `from`, which left it at `departs`, is about to be delivered to `to`:
    /// a snapshot's last chunk or an append with entries sent once what the faults set in
    /// motion has finished (`LivenessPhase::faults_drained_at`), from a node that still leads
    /// that term, is shown to the checker with the leader's match index for `to`.
    pub(super) fn observe_replication(
        &mut self,
        from: usize,
        to: usize,
        departs: Micros,
        message: &Message,
    ) {
        if !self.liveness.started() || departs < self.liveness.faults_drained_at() {
            return;
        }
        if self.owes_nothing_after_a_rescue(to) {
            return;
        }
        let (term, what) = match message {
            Message::InstallSnapshot(m) if m.done => (
                m.term,
                Replication::SnapshotDone {
                    index: m.meta.index,
                },
            ),
            Message::AppendEntries(m) if !m.entries.is_empty() => (
                m.term,
                Replication::Entries {
                    prev_index: m.prev_index,
                    last_index: m.prev_index + m.entries.len() as u64,
                },
            ),
            _ => return,
        };
        let Some(leader_match) = Some(&self.hosts[from])
            .filter(|h| h.status == Status::Up)
            .and_then(|h| h.node.as_ref())
            .filter(|r| r.role() == Role::Leader && r.term() == term)
            .and_then(|r| r.match_index(id(to)))
        else {
            return;
        };
        self.checks
            .replication_delivered(self.now, (from, to), term, what, leader_match);
    }
}
