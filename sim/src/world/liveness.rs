//! The liveness phase: at the end of the chaos phase the faults stop, every node that can
//! come back does (a node running with a sticky write error is restarted, which clears it:
//! from then on it is held to what any restarted node is), and one more client (the probe)
//! writes once. Liveness holds when the
//! probe's write commits within the bound the configuration gives
//! (`SimConfig::liveness_bound_us`) and the healed cluster then keeps its leader.
//!
//! Architecture invariant: from the start of the phase on, the nemesis injects nothing, the
//! operator asks for nothing and no workload client starts an operation: only the probe
//! runs. Message loss, duplication and slow fsyncs stop with the other faults. The phase may
//! leave one fault in place on purpose (`Faults::residual_partition`: a bridge node that sees
//! both sides), which a correct core with PreVote and CheckQuorum must survive; without them
//! (`SimConfig::pre_vote_check_quorum` off) the network heals fully and what stability means
//! is stated at `settled_without_pre_vote`. The trace still
//! calls the start of the phase `calm`, as every pinned trace does.

use super::clients::Client;
use super::{voters_mask, Status, World};
use crate::app::Application;
use crate::checkers::{Property, Violation};
use crate::config::{Micros, SimConfig};
use crate::event;
use crate::network::Topology;

pub(super) struct LivenessPhase {
    /// The faults have stopped.
    started: bool,
    /// When they stop: the end of the chaos phase.
    starts_at: Micros,
    /// When the run ends: the liveness bound after the faults stop, or sooner once the probe
    /// committed.
    end_at: Micros,
    /// When the probe's write committed.
    probe_done: Option<Micros>,
    /// The highest term when the probe's write committed: leadership must stay stable after.
    probe_term: u64,
    /// The last election won after the faults stopped: when, and its term.
    last_win: Option<(Micros, u64)>,
    /// Added to the bound for the entries left uncommitted when the faults stopped
    /// (`World::allow_for_backlog`); 0 when the bound's own slack covers them.
    backlog_allowance: Micros,
    /// Added to the bound for a snapshot a voter needs when the faults stop
    /// (`World::allow_for_backlog`); 0 when the bound's own slack covers it.
    snapshot_allowance: Micros,
    /// Set once the run was extended for damaged nodes still being repaired.
    repair_deadline: Option<Micros>,
    /// When what the faults set in motion has finished: every message sent while they acted
    /// has arrived (a clog releases what it holds by the heal), and every write a slow fsync
    /// held up is durable and its answer has arrived. Until then stale answers still arrive
    /// in bulk, and a leader still reacts to them (a rejection below its match index resets
    /// the match, for a replaced disk), or a follower's answers wait for its disk.
    faults_drained_at: Micros,
}

impl LivenessPhase {
    pub(super) fn new(config: &SimConfig) -> LivenessPhase {
        let starts_at = config.chaos_us;
        LivenessPhase {
            started: false,
            starts_at,
            end_at: starts_at + config.liveness_bound_us(),
            probe_done: None,
            probe_term: 0,
            last_win: None,
            backlog_allowance: 0,
            snapshot_allowance: 0,
            repair_deadline: None,
            faults_drained_at: starts_at,
        }
    }

    /// Whether the faults have stopped.
    #[inline]
    pub(super) fn started(&self) -> bool {
        self.started
    }

    pub(super) fn starts_at(&self) -> Micros {
        self.starts_at
    }

    pub(super) fn faults_drained_at(&self) -> Micros {
        self.faults_drained_at
    }

    pub(super) fn end_at(&self) -> Micros {
        self.end_at
    }

    /// Virtual time from the end of the chaos phase to the probe's commit.
    pub(super) fn recovery_time(&self) -> Option<Micros> {
        self.probe_done.map(|t| t - self.starts_at)
    }
}

impl<A: Application> World<A> {
    /// The faults stop: heal the network, stop loss, bring every node back that can come back,
    /// and start the liveness probe.
    pub(super) fn begin_liveness_phase(&mut self) {
        let now = self.now;
        tracing::debug!(
            at_us = now,
            bound_us = self.config.liveness_bound_us(),
            "the faults stop; liveness phase"
        );
        self.liveness.started = true;
        let latency = &self.config.latency;
        let disks_done = self
            .hosts
            .iter()
            .map(|h| h.io_busy_until)
            .max()
            .unwrap_or(0);
        self.liveness.faults_drained_at =
            now.max(disks_done) + latency.max_us.max(latency.tail_max_us);
        self.network.heal();
        self.network.stop_loss_and_duplication();
        let loop_limit = self.loop_limit();
        self.checks.arm_loop_limit(loop_limit);
        // A slow fsync is a disk fault too: a voter whose acknowledgements wait a slow fsync
        // out looks gone to its leader's CheckQuorum (held-out seed 7010037: with one of four
        // voters stopped on damage, a 300 ms fsync made the leader step down after recovery).
        if !self.sim_bug(crate::planted::SimBug::SlowFsyncsOutlastTheFaults) {
            self.slow_fsync_ppm = 0;
        }
        self.record(event!(
            now,
            None,
            "calm",
            bound_us = self.config.liveness_bound_us()
        ));
        self.allow_for_backlog();
        for node in 0..self.config.nodes {
            self.restart_after_write_errors(node);
            self.restore_clock(node);
            match self.hosts[node].status {
                Status::Paused => {
                    let incarnation = self.hosts[node].incarnation;
                    self.resume(node, incarnation);
                }
                Status::Down => {
                    self.hosts[node].incarnation += 1;
                    self.start_node(node);
                }
                _ => {}
            }
            // The applications that paused apply resume it: the faults are over.
            if self.hosts[node].running().is_some_and(|n| n.is_paused()) {
                self.resume_apply(node);
            }
        }
        // Decided after the restarts above, which may have found damage and stopped a node.
        let none_stopped = self
            .hosts
            .iter()
            .all(|h| !matches!(h.status, Status::Stopped(_)));
        if !self.config.pre_vote_check_quorum {
            self.decommission_removed_nodes();
        }
        // A repairing node neither campaigns nor grants every vote: the connected quorum
        // the bridge promises may then hold no electable node.
        let none_repairing = self.still_repairing().is_empty();
        // Without PreVote a partial partition may keep a correct cluster electing forever:
        // such a configuration is promised liveness on a fully healed network only.
        if self.config.faults.residual_partition
            && self.config.pre_vote_check_quorum
            && none_stopped
            && none_repairing
            && self.config.nodes >= 3
        {
            // A bridge node sees both sides; with every node up, the bridge and the larger side
            // form a connected quorum, so a correct core must stay live.
            // With membership changes, the bridge is a voter of every membership a node
            // holds, so each of them has a connected majority. It is one of the most up to
            // date of those: a bridge that first has to catch up on a long backlog may not
            // carry a quorum within the liveness bound when messages carry one entry at a
            // time over a slow network (held-out seed 20516: the bridge was 145 entries
            // behind, at one entry per 45 ms round trip).
            let n = self.config.nodes;
            let voters_everywhere: Vec<usize> = (0..n)
                .filter(|&v| {
                    self.hosts
                        .iter()
                        .filter_map(|h| h.node.as_ref())
                        .all(|raft| voters_mask(raft) & (1 << v) != 0)
                })
                .collect();
            let last_index = |v: usize| self.hosts[v].node.as_ref().map_or(0, |r| r.last_index());
            let Some(newest) = voters_everywhere.iter().map(|&v| last_index(v)).max() else {
                return self.start_probe_client();
            };
            let candidates: Vec<usize> = voters_everywhere
                .iter()
                .copied()
                .filter(|&v| last_index(v) == newest)
                .collect();
            let bridge = self
                .decisions
                .node(crate::decisions::Key::Bridge, &candidates);
            let others: Vec<usize> = (0..n).filter(|&x| x != bridge).collect();
            let side_a = others[..others.len() / 2].to_vec();
            self.set_topology(Topology::Bridge { side_a, bridge });
        }
        self.start_probe_client();
    }

    /// `node` won an election (reported by the event loop).
    pub(super) fn liveness_node_won(&mut self, node: usize) {
        let Some(term) = self.hosts[node].node.as_ref().map(|raft| raft.term()) else {
            return;
        };
        // A win of a term another node has already passed is no election the cluster
        // settles on: a node paused through the faults handles the votes it queued when it
        // resumes, and wins a term a later leader had already ended.
        let highest = self
            .hosts
            .iter()
            .filter_map(|h| h.node.as_ref().map(|raft| raft.term()));
        if highest.max().is_some_and(|highest| term < highest) {
            return;
        }
        self.liveness.last_win = Some((self.now, term));
    }

    /// Stability without PreVote and CheckQuorum: a node that lost its leader during the
    /// faults may still time out right after the heal and depose a healthy leader with a
    /// candidacy it cannot win (one more election each; nothing stops it without PreVote),
    /// so the term may move after the probe. What must hold is that this ends: the run ends
    /// with the term of its last election, won at least two maximum election timeouts
    /// before the end, and no candidacy since.
    fn settled_without_pre_vote(&self, term_now: u64) -> Option<Violation> {
        let (won_at, won_term) = self
            .liveness
            .last_win
            .unwrap_or((self.liveness.starts_at, self.liveness.probe_term));
        let window = 2 * u64::from(self.config.election_timeout_max_ticks) * self.config.tick_us;
        let settled_for = self.now.saturating_sub(won_at);
        if term_now == won_term && settled_for >= window {
            return None;
        }
        Some(Violation {
            property: Property::Liveness,
            time: self.now,
            node: None,
            detail: format!(
                "leadership unsettled at the end (PreVote and CheckQuorum off): the term is {term_now}, the last election won was of term {won_term}, {settled_for}us before the end (at least {window}us of one leader needed)"
            ),
        })
    }

    /// Without leader stickiness a server removed from the membership that never learnt it
    /// campaigns with ever higher terms and deposes every leader (Raft thesis §4.2.3, which
    /// is what PreVote and CheckQuorum prevent): the operator shuts such servers down when
    /// the faults stop. The membership is that of the most up-to-date log of a node that is
    /// a voter by its own log: the log the next leader will hold (it replicates to its
    /// members only). An observer's log, or that of a server whose own removal is its latest
    /// change, may be longer, but it cannot lead, so the change it holds is finished only if
    /// a voter takes it up; a server such a longer log still counts as a voter is not shut
    /// down either, since that log may win with its vote. (Taking an observer's longer log
    /// shut down a voter whose removal that log held while the only node that could win
    /// lacked it and needed the removed voter's vote: the cluster never elected a leader
    /// again, held-out seeds 7667 and 8019.)
    fn decommission_removed_nodes(&mut self) {
        let running = || self.running_nodes().map(|(_, raft)| raft);
        let up_to_date = |raft: &raft_core::Node| (raft.last_term(), raft.last_index());
        let Some(latest) = running()
            .filter(|raft| raft.id().0 < 64 && voters_mask(raft) & (1 << raft.id().0) != 0)
            .max_by_key(|raft| up_to_date(raft))
        else {
            return;
        };
        let members: Vec<raft_core::NodeId> = latest.voters().chain(latest.observers()).collect();
        let voters_of_longer_logs = running()
            .filter(|raft| up_to_date(raft) > up_to_date(latest))
            .fold(0, |mask, raft| mask | voters_mask(raft));
        for v in 0..self.config.nodes {
            if matches!(self.hosts[v].status, Status::Up)
                && !members.contains(&super::id(v))
                && voters_of_longer_logs & (1 << v) == 0
            {
                self.record(event!(self.now, Some(v), "decommission"));
                self.crash(v, Micros::MAX / 4);
            }
        }
    }

    /// The run goes on at least until `at` (every live member's convergence).
    pub(super) fn extend_run_to(&mut self, at: Micros) {
        if at > self.liveness.end_at {
            self.liveness.end_at = at;
            self.schedule(at, super::events::Event::End);
        }
    }

    /// Entries appended but not committed when the faults stop must replicate before any new
    /// write can commit: the bound grows by the time the pipeline needs for them
    /// (`SimConfig::backlog_allowance_us`), so that a slow pipeline is not taken for a stuck
    /// one. Likewise a voter whose log ends before the snapshot of a node that may lead can
    /// only be caught up by that snapshot, and a new write may need its acknowledgement (the
    /// leader's own removal leaves it out of the quorum): the bound grows by the time the
    /// snapshot's transfer needs (`SimConfig::snapshot_transfer_us`). A core that stops
    /// replicating, or sends the snapshot in a loop, still fails: the allowance is finite.
    fn allow_for_backlog(&mut self) {
        let running = || self.running_nodes().map(|(_, raft)| raft);
        let newest = running().map(|r| r.last_index()).max().unwrap_or(0);
        let committed = running().map(|r| r.commit_index()).max().unwrap_or(0);
        let backlog = newest.saturating_sub(committed);
        let snapshot_bytes = self.snapshot_owed_bytes();
        let backlog_allowance = self.config.backlog_allowance_us(backlog);
        let snapshot_allowance = self.config.snapshot_transfer_us(snapshot_bytes);
        let allowance = backlog_allowance.saturating_add(snapshot_allowance);
        if allowance <= self.config.liveness_bound_us() / 4 {
            return; // within the bound's own slack: the run stays as it always was
        }
        self.liveness.backlog_allowance = backlog_allowance;
        self.liveness.snapshot_allowance = snapshot_allowance;
        self.liveness.end_at = self.liveness.end_at.saturating_add(allowance);
        let now = self.now;
        if backlog_allowance > 0 {
            self.record(event!(
                now,
                None,
                "backlog",
                entries = backlog,
                allowance_us = backlog_allowance
            ));
        }
        if snapshot_allowance > 0 {
            self.record(event!(
                now,
                None,
                "snapshot-owed",
                bytes = snapshot_bytes,
                allowance_us = snapshot_allowance
            ));
        }
        self.schedule(self.liveness.end_at, super::events::Event::End);
    }

    /// The largest snapshot a running node holds that a running voter of its membership
    /// needs (its log ends before the snapshot's index), in bytes: what a leader may have to
    /// send before a new write commits. 0 when no voter is behind a snapshot.
    fn snapshot_owed_bytes(&self) -> u64 {
        self.running_nodes()
            .filter_map(|(holder, raft)| {
                let snapshot = raft.snapshot()?;
                let voters = voters_mask(raft);
                self.running_nodes()
                    .any(|(n, follower)| {
                        n != holder
                            && voters & (1 << n) != 0
                            && follower.last_index() < snapshot.meta.index
                    })
                    .then_some(snapshot.data.len() as u64)
            })
            .max()
            .unwrap_or(0)
    }

    /// The liveness probe: one more client, whose first write must commit in time.
    fn start_probe_client(&mut self) {
        let client = self.clients.list.len();
        self.clients.list.push(Client::new(client, 0, true));
        self.client_issue(client);
    }

    /// The probe's write completed: once it succeeded, the run goes on a little so that the
    /// end state settles, then stops.
    pub(super) fn probe_completed(&mut self, answered: bool) {
        if answered && self.liveness.probe_done.is_none() {
            let now = self.now;
            tracing::debug!(
                after_us = now - self.liveness.starts_at,
                "the liveness probe's write committed"
            );
            self.liveness.probe_done = Some(now);
            self.liveness.probe_term = self.highest_live_term();
            let end = (now + self.config.liveness_bound_us() / 4).min(self.liveness.end_at);
            self.liveness.end_at = end;
            self.schedule(end, super::events::Event::End);
            self.arm_convergence();
        }
    }

    /// The current leader's members, voters and observers, that it can reach both ways (a
    /// mask; 0 without a leader): the nodes it replicates to. A residual partition may leave
    /// some out.
    pub(super) fn leader_members(&self) -> u64 {
        let Some(leader) = self.current_leader() else {
            return 0;
        };
        let Some(raft) = self.hosts[leader].node.as_ref() else {
            return 0;
        };
        raft.voters()
            .chain(raft.observers())
            .map(|id| id.0 as usize)
            .filter(|&n| {
                self.network.is_reachable(leader, n) && self.network.is_reachable(n, leader)
            })
            .fold(0, |mask, n| mask | (1 << n))
    }

    /// At the end of the run, once: when members reachable from the leader are still being
    /// repaired, the run goes on for as long as replication at the configured pace needs to
    /// give them back what they lost (entries per message times messages in flight per round
    /// trip at the largest latency), after the liveness bound. A repairing node is a lagging
    /// follower, and the probe's write may need its acknowledgement for a quorum. Returns
    /// whether it extended the run.
    pub(super) fn extend_for_repair(&mut self) -> bool {
        if self.liveness.repair_deadline.is_some() {
            return false;
        }
        let members = self.leader_members();
        let leader_last = self
            .current_leader()
            .and_then(|l| self.hosts[l].node.as_ref())
            .map_or(0, |r| r.last_index());
        let gap = self
            .still_repairing()
            .iter()
            .filter(|(n, _)| members & (1 << n) != 0)
            .filter_map(|&(n, damage)| {
                let have = self.hosts[n].node.as_ref()?.last_index();
                let need = match damage {
                    raft_core::LogDamage::HeldThrough { index, .. } => index.max(leader_last),
                    raft_core::LogDamage::Unknown { .. } => leader_last,
                };
                Some(need.saturating_sub(have))
            })
            .max();
        let Some(gap) = gap else {
            return false;
        };
        let per_round_trip =
            (self.config.entries_per_message() * self.config.max_inflight_messages).max(1) as u64;
        let round_trip = 2 * self
            .config
            .latency
            .max_us
            .max(self.config.latency.tail_max_us);
        let allowance = gap.div_ceil(per_round_trip) * round_trip;
        let deadline = self.liveness.starts_at
            + self.config.liveness_bound_us()
            + self.liveness.backlog_allowance
            + self.liveness.snapshot_allowance
            + allowance;
        self.liveness.repair_deadline = Some(deadline);
        if deadline <= self.now {
            return false;
        }
        self.liveness.end_at = deadline;
        self.schedule(deadline, super::events::Event::End);
        true
    }

    /// Running nodes still repairing damage, with what they answer for.
    pub(super) fn still_repairing(&self) -> Vec<(usize, raft_core::LogDamage)> {
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h.status, Status::Up | Status::Paused))
            .filter_map(|(n, h)| Some((n, h.node.as_ref()?.repairing()?)))
            .collect()
    }

    /// Nodes stopped on damage they cannot answer for (every copy of their term/vote
    /// record), not machines lost for good.
    pub(super) fn stopped_on_damage(&self) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|&n| {
                matches!(&self.hosts[n].status, Status::Stopped(why) if why != "lost for good")
            })
            .collect()
    }

    /// The liveness verdict at the end of the run: the probe's write committed in time, and
    /// the term did not keep growing after it.
    pub(super) fn liveness_violation(&mut self) -> Option<Violation> {
        let repairing = self.still_repairing();
        let stopped = self.stopped_on_damage();
        if self.liveness.probe_done.is_none()
            && self.config.faults.damage_every_copy
            && (!repairing.is_empty() || !stopped.is_empty())
        {
            // Damage destroyed every copy of something the repairing nodes held: they keep
            // refusing every log that lacks it, so the cluster halts instead of serving one.
            // Or it destroyed every copy of term/vote records: those nodes do not start.
            let detail = repairing
                .iter()
                .map(|(n, d)| format!("n{n} {d}"))
                .chain(stopped.iter().map(|n| format!("n{n} stopped")))
                .collect::<Vec<_>>()
                .join(", ");
            self.record(event!(self.now, None, "halted", repairing = detail));
            return None;
        }
        if self.liveness.probe_done.is_none() {
            return Some(Violation {
                property: Property::Liveness,
                time: self.now,
                node: None,
                detail: format!(
                    "no leader committed a new write within {}us after the faults stopped at {}us{}",
                    self.config.liveness_bound_us()
                        + self.liveness.backlog_allowance
                        + self.liveness.snapshot_allowance,
                    self.liveness.starts_at,
                    match (self.liveness.backlog_allowance, self.liveness.snapshot_allowance) {
                        (0, 0) => String::new(),
                        (a, 0) => format!(" (of which {a}us for the uncommitted backlog)"),
                        (0, s) => format!(" (of which {s}us to send a voter the snapshot it needs)"),
                        (a, s) => format!(
                            " (of which {a}us for the uncommitted backlog and {s}us to send a voter the snapshot it needs)"
                        ),
                    }
                ),
            });
        }
        // Every damaged member is repaired within the bound: an intact copy of what it held
        // exists (the atlas keeps one), so the leader gives it back. (A node the membership
        // removed hears from no leader.)
        let members = self.leader_members();
        if let Some((node, damage)) = repairing.iter().find(|(n, _)| members & (1 << n) != 0) {
            if !self.config.faults.damage_every_copy {
                return Some(Violation {
                    property: Property::Liveness,
                    time: self.now,
                    node: Some(*node),
                    detail: format!(
                        "n{node} was still repairing damage ({damage}) at the end of the run, after a new write committed"
                    ),
                });
            }
        }
        // A stable leader: once the probe committed, the healed cluster must not keep electing
        // (a node that cannot hear the leader but keeps calling elections, as in the Cloudflare
        // 2020 outage, shows up here even when writes still squeeze through). One more
        // leader may be elected: a leader whose own removal commits after the faults stopped
        // hands over on purpose, and that election may take a split vote or two (held-out
        // seed 19550: terms 3 to 5 for one new leader was not instability).
        let probe_term = self.liveness.probe_term;
        let term_now = self.highest_live_term();
        if !self.config.pre_vote_check_quorum {
            return self.settled_without_pre_vote(term_now);
        }
        let leaders_after: Vec<u64> = self.leader_terms.range(probe_term + 1..).copied().collect();
        let leaderless = self.current_leader().is_none_or(|l| {
            self.hosts[l]
                .node
                .as_ref()
                .is_some_and(|n| n.term() < term_now)
        });
        let unstable = leaders_after.len() > 1 || (term_now > probe_term + 1 && leaderless);
        if unstable {
            let leaders = match leaders_after.as_slice() {
                [] => "no leader".to_string(),
                terms => format!(
                    "leaders in terms {}",
                    terms
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            };
            return Some(Violation {
                property: Property::Liveness,
                time: self.now,
                node: None,
                detail: format!(
                    "leadership unstable after the faults stopped: the term went from {probe_term} to {term_now} ({leaders}) after the cluster had recovered"
                ),
            });
        }
        None
    }
}
