//! Convergence: after the faults stop, *every* live member applies the committed prefix, not
//! just the quorum that commits the liveness probe's write. A follower stuck in a loop (the
//! same snapshot sent to it again and again), or one its leader never replicates to, passes
//! the liveness probe but fails this.
//!
//! What is checked: when the probe's write commits, the target is the leader's commit index
//! and the members are the leader's members it reaches both ways (voters and observers; a
//! residual partition may leave some out). At the end of the run every node that is still
//! such a member, and up, must have applied through the target. The run lasts at least
//! until the bound after the probe's commit:
//!
//! ```text
//! bound = liveness bound / 4                    (heartbeats, probing back to a match,
//!                                                the slack the run always had after the probe)
//!       + backlog_allowance(gap)                (gap: the target minus the slowest member's
//!                                                applied index; at most entries_per_message()
//!                                                x max_inflight_messages entries per round trip)
//!       + chunks(snapshot) x round trip         (a member behind the leader's snapshot gets it
//!                                                one chunk per round trip)
//!       + messages(gap) x slowest fsync         (the member's disk writes each message's
//!                                                entries in turn: with one entry per message
//!                                                its fsyncs, not the network, set the pace;
//!                                                held-out seed 187 with the stream, 1,614
//!                                                entries behind)
//! ```
//!
//! where a round trip is two of the largest latencies (the tail included) and the slowest
//! fsync. With no member behind, nothing is added and the run ends as it did before.
//!
//! Not checked: a run without a leader when the probe commits (liveness judges that), nodes
//! that were not members then (a disaster recovery may add spares later), nodes down or
//! stopped at the end, and nodes that know as committed an entry a rescue gave up (they can
//! never take the rescued history; see `checkers/rescue.rs`).

use super::{Status, World};
use crate::app::Application;
use crate::checkers::{Property, Violation};
use crate::config::Micros;
use crate::event;

/// What the probe's commit asks every member to reach.
#[derive(Clone, Copy, Debug)]
pub(super) struct ConvergenceTarget {
    /// The leader's commit index when the probe's write committed.
    index: u64,
    /// The leader's members it reached both ways then (a mask).
    members: u64,
    /// When every one of them must have applied through `index`.
    deadline: Micros,
}

impl<A: Application> World<A> {
    /// Whether `node` knows as committed an entry a rescue gave up: it cannot take the
    /// rescued history until it restarts, so convergence and no loop without progress are
    /// suspended for it (see `checkers/rescue.rs`).
    pub(super) fn owes_nothing_after_a_rescue(&self, node: usize) -> bool {
        !self.sim_bug(crate::planted::SimBug::GivenUpCommitsStillOwed)
            && self.checks.holds_given_up_commits(node)
    }

    /// The probe's write committed: fix the target and make the run last until the bound.
    pub(super) fn arm_convergence(&mut self) {
        let Some(leader) = self.current_leader() else {
            return;
        };
        let Some(raft) = self.hosts[leader].node.as_ref() else {
            return;
        };
        let index = raft.commit_index();
        let snapshot_bytes = raft.snapshot().map_or(0, |s| s.data.len() as u64);
        let members = self.leader_members();
        let slowest = (0..self.config.nodes)
            .filter(|&n| members & (1 << n) != 0 && self.hosts[n].status == Status::Up)
            .filter(|&n| !self.owes_nothing_after_a_rescue(n))
            .filter_map(|n| self.hosts[n].node.as_ref().map(|r| r.applied_index()))
            .min()
            .unwrap_or(index);
        let gap = index.saturating_sub(slowest);
        let latency = &self.config.latency;
        let round_trip = 2 * latency.max_us.max(latency.tail_max_us) + self.config.fsync_max_us;
        let chunk = self.config.max_bytes_per_message() as u64;
        let chunks = if gap == 0 {
            0
        } else {
            snapshot_bytes.div_ceil(chunk.max(1)).max(1)
        };
        let allowance = if gap == 0 {
            0
        } else {
            self.config.liveness_bound_us() / 4
                + self.config.backlog_allowance_us(gap)
                + chunks * round_trip
                + gap.div_ceil(self.config.entries_per_message() as u64) * self.config.fsync_max_us
        };
        let deadline = self.now + allowance;
        self.convergence = Some(ConvergenceTarget {
            index,
            members,
            deadline,
        });
        if gap > 0 {
            self.record(event!(
                self.now,
                None,
                "converge",
                index = index,
                behind = gap,
                bound_us = allowance
            ));
            self.extend_run_to(deadline);
        }
    }

    /// The convergence verdict at the end of the run (after liveness held).
    pub(super) fn convergence_violation(&self) -> Option<Violation> {
        let target = self.convergence?;
        if self.now < target.deadline {
            return None; // the run stopped early (a safety violation stops it)
        }
        let members = target.members & self.leader_members();
        let (node, applied) = (0..self.config.nodes)
            .filter(|&n| members & (1 << n) != 0 && self.hosts[n].status == Status::Up)
            .filter(|&n| !self.owes_nothing_after_a_rescue(n))
            .filter_map(|n| Some((n, self.hosts[n].node.as_ref()?.applied_index())))
            .find(|&(_, applied)| applied < target.index)?;
        Some(Violation {
            property: Property::Convergence,
            time: self.now,
            node: Some(node),
            detail: format!(
                "n{node} had applied through {applied} at the end of the run, below {} that was committed when the liveness probe's write committed (every live member must apply it by {}us)",
                target.index, target.deadline
            ),
        })
    }
}
