//! The operator's disaster recovery (`Fault::Disaster`), part of the operator's tool: a
//! majority of the voters is lost for good (machines and disks gone, the observers' too), and
//! the operator does
//! what NATS's disaster-recovery procedure does (nats-server #8408):
//!
//! 1. rescue: every survivor that is a leaderless voter is given a rescued quorum
//!    (`Node::rescue_quorum_past`) — a majority of the survivors, so two rescued survivors
//!    can never both win a term — past the highest term any running server heard, so no
//!    rescued leader wins a term whose entries a surviving log may hold from the lost
//!    majority; again whenever one restarted (a rescue lives in memory);
//! 2. evict: the leader, once ready, is asked to remove every member of its log that is not
//!    a survivor, one at a time: the lost peers, and any node the lost majority had removed
//!    whose removal the rescue gave up; its rescue ends by itself once a majority of its
//!    voters is no more than the rescued quorum;
//! 3. grow back: once no lost peer is in the leader's membership and its last change is
//!    committed, spare machines (running nodes outside the membership, as many as were
//!    lost, when there are any) join: the leader adds each as an observer, promoted to voter
//!    once caught up. A lost node never comes back under its old identity: it would replay a
//!    log in which it was a voter and could campaign in a configuration long gone.
//!
//! The checkers are told which nodes are lost for good (`checkers/rescue.rs` says what a
//! rescue suspends). Its decisions come from the
//! `faults/disaster` stream, so a run without a disaster draws exactly what it drew before.
//!
//! Architecture invariant: like the rest of the operator, it acts only through a node's
//! public inputs (`rescue_quorum`, `propose_membership`) and through what a machine room
//! does (power off a machine for good, boot a new one). Unlike the faults, recovery goes on
//! in the liveness phase until it is done: it is what makes the group live again. While it
//! is in progress the operator's tool takes no other membership change.

use super::events::Event;
use super::{id, Status, World};
use crate::app::Application;
use crate::event;
use crate::rng::Stream;
use raft_core::{MembershipChange, ProposeError, Role};

/// A disaster and the operator's recovery from it.
pub(super) struct DisasterRecovery {
    /// The nodes lost for good (and later replaced by new machines), in id order.
    lost: Vec<usize>,
    /// The voters that survived.
    survivors: Vec<usize>,
    /// The rescued quorum: a majority of the survivors.
    quorum: usize,
    rescue_ticks: u32,
    /// Once the lost peers are removed: the machines that join in their place.
    joiners: Option<Vec<usize>>,
    done: bool,
}

impl<A: Application> World<A> {
    /// Whether a disaster recovery is under way (it then owns the membership).
    pub(super) fn disaster_recovery_in_progress(&self) -> bool {
        self.operator.disaster.as_ref().is_some_and(|d| !d.done)
    }

    /// The disaster strikes: a majority of the voters (as the current leader, or else the
    /// running node with the most up-to-date log, sees them) is lost for good, keeping between one and as many
    /// survivors as leave the rest a majority. Only running, never-damaged voters with a
    /// non-empty log survive (a rescue is refused to an empty log).
    pub(super) fn start_disaster(&mut self, rescue_ticks: u32) {
        let now = self.now;
        if self.operator.disaster.is_some() {
            return;
        }
        // The membership the most up-to-date running node holds: the leader's, or the one
        // that would win.
        let newest = (0..self.hosts.len())
            .filter(|&n| self.hosts[n].status == Status::Up)
            .filter_map(|n| {
                self.hosts[n]
                    .node
                    .as_ref()
                    .map(|r| (r.last_term(), r.last_index(), n))
            })
            .max()
            .map(|(_, _, n)| n);
        let viewer = self.current_leader().or(newest);
        let Some(raft) = viewer.and_then(|n| self.hosts[n].node.as_ref()) else {
            return;
        };
        let voters: Vec<usize> = raft.voters().map(|v| v.0 as usize).collect();
        let damaged = self.unrepaired_damage();
        let mut candidates: Vec<usize> = voters
            .iter()
            .copied()
            .filter(|&v| self.hosts[v].status == Status::Up && damaged & (1 << v) == 0)
            // A rescue needs a log to carry on (an empty one is refused).
            .filter(|&v| {
                self.hosts[v]
                    .node
                    .as_ref()
                    .is_some_and(|r| r.last_index() > 0)
            })
            .collect();
        let most = voters.len() - (voters.len() / 2 + 1);
        if most == 0 || candidates.is_empty() {
            let what = format!(
                "disaster skipped: {} voters, {} running, undamaged and with a log",
                voters.len(),
                candidates.len()
            );
            self.record(event!(now, None, "fault", what = what));
            return;
        }
        let mut rng = Stream::new(self.config.seed, "faults/disaster/runtime");
        let count = 1 + rng.below(most.min(candidates.len()));
        let mut survivors = Vec::new();
        for _ in 0..count {
            survivors.push(candidates.remove(rng.below(candidates.len())));
        }
        survivors.sort_unstable();
        // Observers go with the majority: one could hold entries of a term the lost
        // majority led and a survivor wins again.
        let observers: Vec<usize> = raft.observers().map(|v| v.0 as usize).collect();
        let mut lost: Vec<usize> = voters
            .iter()
            .chain(&observers)
            .copied()
            .filter(|v| !survivors.contains(v))
            .collect();
        lost.sort_unstable();
        let quorum = survivors.len() / 2 + 1;
        let names = |nodes: &[usize]| {
            let names: Vec<String> = nodes.iter().map(|n| format!("n{n}")).collect();
            names.join(",")
        };
        let what = format!(
            "disaster: {} lost for good, survivors {} to be rescued at quorum {quorum}",
            names(&lost),
            names(&survivors)
        );
        self.record(event!(now, None, "fault", what = what));
        self.operator.plan.clear();
        for &node in &lost {
            self.lose(node);
        }
        self.operator.disaster = Some(DisasterRecovery {
            lost,
            survivors,
            quorum,
            rescue_ticks,
            joiners: None,
            done: false,
        });
        self.schedule(now, Event::RescuePoll);
    }

    /// One step of the recovery, then the next a heartbeat later until it is done.
    pub(super) fn on_rescue_poll(&mut self) {
        if !self.disaster_recovery_in_progress() {
            return;
        }
        self.rescue_survivors();
        if let Some(leader) = self.current_leader() {
            self.recovery_step(leader);
        }
        if self.disaster_recovery_in_progress() {
            let every = self.config.tick_us * u64::from(self.config.heartbeat_ticks);
            self.schedule(self.now + every, Event::RescuePoll);
        }
    }

    /// Rescues every running survivor that a rescue helps: a leaderless voter, not rescued,
    /// whose voters still include a lost node and whose natural quorum is above the rescued
    /// one. Refusals (it found a leader meanwhile) are not news.
    fn rescue_survivors(&mut self) {
        let Some(d) = self.operator.disaster.as_ref() else {
            return;
        };
        let (quorum, ticks) = (d.quorum, d.rescue_ticks);
        let lost = d.lost.clone();
        // The rescue campaigns past every term a running server heard: a survivor that
        // missed a term the lost majority led could otherwise win it again, and a log
        // holding the lost leader's entry of that term would take the rescued leader's
        // next entries as if it held its prefix (held-out seed 12328).
        let seen_term = self
            .running_nodes()
            .map(|(_, raft)| raft.term())
            .max()
            .unwrap_or(0);
        for node in d.survivors.clone() {
            let Some(raft) = self.hosts[node].running() else {
                continue;
            };
            let needs = raft.rescue().is_none()
                && raft.voters().any(|v| lost.contains(&(v.0 as usize)))
                && raft.natural_quorum() > quorum;
            if !needs {
                continue;
            }
            if let Ok(actions) = raft.rescue_quorum_past(quorum, ticks, seen_term) {
                self.stats.fault("rescue");
                let what =
                    format!("rescue quorum={quorum} for {ticks} ticks past term {seen_term}");
                self.record(event!(self.now, Some(node), "fault", what = what));
                self.execute(node, actions);
            }
        }
    }

    /// At a ready leader: remove the next member that is not a survivor; once none is left
    /// and the last change is committed, pick the machines that join in their place (running non-members that
    /// are not voters in their own view: spare nodes); then add each (observer, then voter
    /// once caught up); done when all are voters.
    fn recovery_step(&mut self, leader: usize) {
        let Some(d) = self.operator.disaster.as_ref() else {
            return;
        };
        let (survivors, lost, joiners) = (d.survivors.clone(), d.lost.clone(), d.joiners.clone());
        let Some(raft) = self.hosts[leader].node.as_ref() else {
            return;
        };
        if !raft.is_ready_leader() || raft.role() != Role::Leader {
            return;
        }
        let is_voter = |raft: &raft_core::Node, n: usize| raft.voters().any(|v| v == id(n));
        let is_observer = |raft: &raft_core::Node, n: usize| raft.observers().any(|v| v == id(n));
        // Every member of the rescued log that is not a survivor goes: the lost, and a node
        // the lost majority had removed (so it was not lost with it) whose removal the
        // rescue gave up. Its log may hold the lost majority's commits, and a follower never
        // gives up what it knows committed: kept a voter, it could end up the one voter a
        // commit needs, never able to take the rescued history (held-out seed 16153).
        let outsider = || {
            raft.voters()
                .chain(raft.observers())
                .map(|v| v.0 as usize)
                .find(|n| !survivors.contains(n))
        };
        let change = match joiners {
            None => match outsider() {
                Some(n) => Some(MembershipChange::RemovePeer(id(n))),
                None if raft.pending_membership_change().is_none() => {
                    return self.pick_joiners(leader, lost.len());
                }
                None => None,
            },
            Some(joiners) => match joiners.iter().find(|&&n| !is_voter(raft, n)) {
                Some(&n) if !is_observer(raft, n) => Some(MembershipChange::AddObserver(id(n))),
                Some(&n)
                    if raft
                        .match_index(id(n))
                        .is_some_and(|m| m >= raft.commit_index()) =>
                {
                    Some(MembershipChange::AddVoter(id(n)))
                }
                Some(_) => None,
                None => {
                    if let Some(d) = self.operator.disaster.as_mut() {
                        d.done = true;
                    }
                    self.record(event!(self.now, None, "fault", what = "disaster recovered"));
                    return;
                }
            },
        };
        let Some(change) = change else {
            return;
        };
        let Some(raft) = self.hosts[leader].running() else {
            return;
        };
        let term = raft.term();
        match raft.propose_membership(term, change) {
            Ok(proposed) => {
                self.stats.fault("membership-proposed");
                let what = match change {
                    MembershipChange::AddVoter(p) => format!("add voter {p} (disaster recovery)"),
                    MembershipChange::AddObserver(p) => {
                        format!("add observer {p} (disaster recovery)")
                    }
                    MembershipChange::RemovePeer(p) => format!("remove {p} (disaster recovery)"),
                };
                self.record(event!(self.now, Some(leader), "fault", what = what));
                self.execute(leader, proposed.actions);
            }
            Err(
                ProposeError::NotYetCommittedInTerm | ProposeError::MembershipChangePending { .. },
            ) => {}
            Err(e) => {
                let what = format!("disaster recovery refused: {e}");
                self.record(event!(self.now, Some(leader), "fault", what = what));
            }
        }
    }

    /// The lost peers are removed: up to `count` machines join in their place. A lost node
    /// never does (its identity is gone with it: a machine that replays a log in which it
    /// was a voter could campaign with a stale configuration), so the joiners are running
    /// nodes outside the leader's membership, no voters in their own view, with empty logs
    /// (spare nodes never added: a log could hold entries of a lost leader whose term a
    /// survivor reused), and never damaged by the script (the survivors are not either, so
    /// the damaged stay a minority of every membership, as the operator keeps them).
    fn pick_joiners(&mut self, leader: usize, count: usize) {
        let Some(raft) = self.hosts[leader].node.as_ref() else {
            return;
        };
        let outside = |n: usize| !raft.voters().chain(raft.observers()).any(|v| v == id(n));
        let lost = self
            .operator
            .disaster
            .as_ref()
            .map_or(Vec::new(), |d| d.lost.clone());
        let damaged = self.unrepaired_damage();
        let joiners: Vec<usize> = (0..self.hosts.len())
            .filter(|&n| !lost.contains(&n) && outside(n) && damaged & (1 << n) == 0)
            .filter(|&n| {
                self.hosts[n].status == Status::Up
                    && self.hosts[n].node.as_ref().is_some_and(|own| {
                        own.last_index() == 0 && !own.voters().any(|v| v == id(n))
                    })
            })
            .take(count)
            .collect();
        let names: Vec<String> = joiners.iter().map(|n| format!("n{n}")).collect();
        let what = format!(
            "lost peers removed; joining in their place: {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(",")
            }
        );
        self.record(event!(self.now, Some(leader), "fault", what = what));
        if let Some(d) = self.operator.disaster.as_mut() {
            d.joiners = Some(joiners);
        }
    }
}
