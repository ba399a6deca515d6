//! The operator: membership changes the way an operator's deployment tool makes them, one
//! server at a time, asked of whichever node leads (the nemesis's `Fault::Membership`,
//! `Fault::Replace` and `Fault::Reconfigure`).
//!
//! The tool holds a plan: its first step is the held change. The held change is asked of a
//! node right after it wins or becomes ready to lead, and of the current leader at every
//! retry (each heartbeat while a change is held). A step leaves the plan when a leader
//! accepts it (replaced by the step it leads to, if any: a promotion after an observer is
//! added) or when it has nothing to do; a step refused for good ends the plan. A node is
//! added as an observer first and promoted once it has caught up with the leader's commit
//! index (Raft thesis §4.2.1).
//!
//! A removal is sometimes (`Faults::forward_removal_ppm`, a draw of its own per request)
//! asked of a follower that knows the leader instead, which forwards it
//! (`Node::forward_remove_peer`, NRG `ProposeRemovePeer` on a follower); the leader's answer
//! ends the step, or the polling finds the removal done, or asks again.
//!
//! In about one seed in two (a draw of its own, `operator/readd`) the tool re-adds each peer
//! it removes, as an observer, as soon as the leader takes it: an operator re-provisioning
//! a server under its old id. It polls every tick while the re-add is held, so the re-add
//! often reaches the leader that committed the removal, in the same term, while the removed
//! peer's answers are still on the wire (etcd-io/raft#349).
//!
//! Architecture invariant: the operator changes the cluster only through a leader's
//! `Node::propose_membership`, or a removal forwarded to it, as a real tool does through
//! the API; it never edits a membership. It skips (and says so in the trace) a change after which a correct
//! core could not stay live (`unrecoverable`): one that would leave the nodes the nemesis
//! may damage half the voters or more, or that adds a voter while a node the nemesis may
//! damage is a voter. No step is asked once the liveness phase has begun.

use super::events::Event;
use super::{id, voters_mask, Status, World};
use crate::app::Application;
use crate::checkers::masks::fmt_mask;
use crate::config::Micros;
use crate::disk::Disk;
use crate::event;
use crate::faults::Step;
use crate::planted::SimBug;
use raft_core::{ForwardOutcome, ForwardRefusal, MembershipChange, Node, ProposeError, Role};
use std::collections::VecDeque;

/// The operator's tool.
pub(super) struct Operator {
    /// The plan: the held change first, then the steps after it.
    pub(super) plan: VecDeque<OperatorChange>,
    /// An `OperatorRetry` is in the queue (one polling chain at a time).
    retry_scheduled: bool,
    /// Nodes that have been voters (a mask): the initial voters, and every node a leader
    /// accepted to promote. Their disks are never replaced: a lost vote could count.
    ever_voters: u64,
    /// Nodes whose disk the tool replaced (a mask): never promoted, since their leader may
    /// still count what they lost until they answer it.
    disk_replaced: u64,
    /// The disaster recovery in progress or done (`rescue.rs`): at most one per run. While
    /// it is in progress the tool takes no other membership change.
    pub(super) disaster: Option<super::rescue::DisasterRecovery>,
    /// Requests asked so far whose route was drawn (the key of each draw).
    routes_drawn: u64,
    /// The held step's removal, forwarded with this reply inbox, and not answered yet.
    forwarded: Option<(u64, OperatorChange)>,
    /// This run's tool re-adds every peer it removes (a draw of its own per seed).
    readds: bool,
}

/// The operator's reply inboxes: the top bit set, so they never meet a client's.
pub(super) const OPERATOR_REPLY: u64 = 1 << 63;

impl Operator {
    pub(super) fn new(config: &crate::config::SimConfig) -> Operator {
        let voters = config.nodes - config.faults.spare_nodes;
        Operator {
            plan: VecDeque::new(),
            retry_scheduled: false,
            ever_voters: (1u64 << voters) - 1,
            disk_replaced: 0,
            disaster: None,
            routes_drawn: 0,
            forwarded: None,
            readds: crate::rng::Stream::new(config.seed, "operator/readd").below(2) == 0,
        }
    }
}

/// A membership change an operator asks the leader for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OperatorChange {
    /// `Fault::Membership`: what it does depends on the peer's place in the leader's
    /// membership.
    Toggle { peer: usize, voter: bool },
    /// Make `peer` a voter the way operators do (Raft thesis §4.2.1): as an observer first,
    /// promoted once it has caught up with the leader's commit index, so that a new voter
    /// never holds up the quorum while it catches up. With `crash_leader` the leader that
    /// accepts the promotion crashes within one network latency.
    Add { peer: usize, crash_leader: bool },
    /// Remove `peer`; with `crash_leader` the leader that accepts the removal of a voter
    /// crashes within one network latency.
    Remove { peer: usize, crash_leader: bool },
    /// `Fault::ReplaceObserverDisk`: make `peer` an observer if it is not a member, and once
    /// it has caught up, replace its disk with an empty one.
    ReplaceDisk { peer: usize },
    /// Add `peer` back as an observer right after the tool removed it (the held step after
    /// a removal, in runs whose tool re-adds).
    Readd { peer: usize },
}

/// Why an operator's step proposes nothing now.
enum Skip {
    /// Nothing to do: the step is over.
    Done,
    /// Not yet (the observer is catching up): asked again at the next retry.
    NotYet,
    /// Nothing to propose: the observer has caught up, replace its disk now.
    ReplaceDisk,
}

/// What an operator's change comes to at one leader, when there is something to propose.
struct Proposal {
    /// The change to propose now.
    change: MembershipChange,
    /// What the operator holds once the leader accepts it.
    then: Option<OperatorChange>,
    /// Whether the leader that accepts it loses power soon after.
    crash_leader: bool,
}

/// Why a leader did not take a change: the text for the trace, and whether it may take it
/// later (not ready yet, or another change pending) rather than never.
struct Refusal {
    why: String,
    for_now: bool,
}

impl OperatorChange {
    fn peer(self) -> usize {
        match self {
            OperatorChange::Toggle { peer, .. }
            | OperatorChange::Add { peer, .. }
            | OperatorChange::Remove { peer, .. }
            | OperatorChange::ReplaceDisk { peer }
            | OperatorChange::Readd { peer } => peer,
        }
    }

    fn forget_crash(&mut self) {
        if let OperatorChange::Add { crash_leader, .. }
        | OperatorChange::Remove { crash_leader, .. } = self
        {
            *crash_leader = false;
        }
    }

    fn step(step: Step, crash_leader: bool) -> OperatorChange {
        match step {
            Step::Add(peer) => OperatorChange::Add { peer, crash_leader },
            Step::Remove(peer) => OperatorChange::Remove { peer, crash_leader },
        }
    }

    /// What this change comes to at `raft`, a leader, given the peer's place in its
    /// membership.
    fn at_leader(self, raft: &Node) -> Result<Proposal, Skip> {
        let peer = self.peer();
        let is_voter = raft.voters().any(|v| v == id(peer));
        let is_observer = raft.observers().any(|o| o == id(peer));
        let caught_up = |raft: &Node, peer: usize| {
            raft.match_index(id(peer))
                .is_some_and(|m| m >= raft.commit_index())
        };
        let propose = |change, then, crash_leader| {
            Ok(Proposal {
                change,
                then,
                crash_leader,
            })
        };
        match self {
            OperatorChange::Toggle { voter, .. } => match (is_voter, is_observer, voter) {
                (true, _, _) | (false, true, false) => {
                    propose(MembershipChange::RemovePeer(id(peer)), None, false)
                }
                (false, true, true) if caught_up(raft, peer) => {
                    propose(MembershipChange::AddVoter(id(peer)), None, false)
                }
                (false, true, true) => Err(Skip::Done),
                (false, false, true) => propose(
                    MembershipChange::AddObserver(id(peer)),
                    Some(OperatorChange::Add {
                        peer,
                        crash_leader: false,
                    }),
                    false,
                ),
                (false, false, false) => {
                    propose(MembershipChange::AddObserver(id(peer)), None, false)
                }
            },
            OperatorChange::Add { crash_leader, .. } => {
                if is_voter {
                    Err(Skip::Done)
                } else if !is_observer {
                    propose(MembershipChange::AddObserver(id(peer)), Some(self), false)
                } else if caught_up(raft, peer) {
                    propose(MembershipChange::AddVoter(id(peer)), None, crash_leader)
                } else {
                    // Not caught up yet: ask again at the next retry.
                    Err(Skip::NotYet)
                }
            }
            OperatorChange::ReplaceDisk { .. } => {
                if is_voter {
                    Err(Skip::Done)
                } else if !is_observer {
                    propose(MembershipChange::AddObserver(id(peer)), Some(self), false)
                } else if caught_up(raft, peer) {
                    Err(Skip::ReplaceDisk)
                } else {
                    Err(Skip::NotYet)
                }
            }
            OperatorChange::Readd { .. } => {
                if is_voter || is_observer {
                    Err(Skip::Done)
                } else {
                    propose(MembershipChange::AddObserver(id(peer)), None, false)
                }
            }
            OperatorChange::Remove { crash_leader, .. } => {
                if is_voter || is_observer {
                    propose(
                        MembershipChange::RemovePeer(id(peer)),
                        None,
                        crash_leader && is_voter,
                    )
                } else {
                    Err(Skip::Done)
                }
            }
        }
    }
}

/// Why the nemesis skips `change` (leaving the voters `next`, a mask) when the nodes in
/// `may_be_damaged` hold damage they have not repaired (they neither campaign nor grant
/// every vote until repaired): a correct core could not stay live after it. None when the change keeps the cluster recoverable.
///
/// Two rules. The nodes that are not possibly damaged stay a majority of the voters. And no
/// voter is added while a possibly damaged node is a voter (itself included): an addition
/// can leave the most up-to-date log on the added node alone, which does not campaign
/// because in its own log it is still an observer. Its leader appends the addition and
/// loses power before sending it; a damaged voter wins the old configuration and its first
/// entry, at the same index, reaches only the added node before it too loses power and
/// stops on the damage. Then the nodes holding the addition need the added node's vote,
/// which it refuses to their older log, and the others need theirs (held-out seed 7015702:
/// the leaderless cluster of voters {n2,n4,n5} and n6, with n4 damaged).
fn unrecoverable(
    change: MembershipChange,
    next: u64,
    may_be_damaged: u64,
    adds_beside_damaged: bool,
) -> Option<String> {
    let voters = next.count_ones();
    let damaged = (next & may_be_damaged).count_ones();
    if (voters - damaged) * 2 <= voters {
        return Some(format!(
            "skipped: the voters would be {voters} with {damaged} of them possibly damaged"
        ));
    }
    if matches!(change, MembershipChange::AddVoter(_)) && damaged > 0 && !adds_beside_damaged {
        return Some(format!(
            "skipped: no voter is added while a possibly damaged node votes ({})",
            fmt_mask(next & may_be_damaged)
        ));
    }
    None
}

impl<A: Application> World<A> {
    /// The operator's tool starts a plan of single-server steps: the first is asked of the
    /// current leader at once, the others follow as each is accepted. With `crash_leader`,
    /// every step carries the crash until one changes the voters.
    pub(super) fn start_plan(&mut self, steps: &[Step], crash_leader: bool) {
        self.operator.plan = steps
            .iter()
            .map(|&step| OperatorChange::step(step, crash_leader))
            .collect();
        if self.operator.plan.is_empty() {
            return;
        }
        match self.current_leader() {
            Some(leader) => self.ask_held_change(leader, false),
            None => self.schedule_operator_retry(self.now),
        }
    }

    /// A node just won or just became ready to lead: the held change, if any, goes to it
    /// right after the step that made it so is carried out.
    pub(super) fn offer_held_change(&mut self, node: usize) {
        if !self.operator.plan.is_empty() {
            let incarnation = self.hosts[node].incarnation;
            self.schedule(self.now, Event::MembershipAtLeader { node, incarnation });
        }
    }

    /// The held change reaches a node that won or became ready, if it still leads.
    pub(super) fn on_membership_at_leader(&mut self, node: usize, incarnation: u64) {
        let leads = self.hosts[node].incarnation == incarnation
            && self.hosts[node]
                .running()
                .is_some_and(|raft| raft.role() == Role::Leader);
        if leads && !self.liveness.started() {
            self.ask_held_change(node, false);
        }
    }

    /// The tool's polling: the current leader is asked again for the held change, and again
    /// a heartbeat later while one is held.
    pub(super) fn on_operator_retry(&mut self) {
        self.operator.retry_scheduled = false;
        if self.liveness.started() || self.operator.plan.is_empty() {
            return;
        }
        if let Some(leader) = self.current_leader() {
            self.ask_held_change(leader, true);
        }
        if let Some(held) = self.operator.plan.front() {
            // A re-add is asked for at every tick: the tool re-adds as soon as it can.
            let ticks = match held {
                OperatorChange::Readd { .. } => 1,
                _ => u64::from(self.config.heartbeat_ticks),
            };
            self.schedule_operator_retry(self.now + self.config.tick_us * ticks);
        }
    }

    /// Asks `leader` for the held change, if any.
    fn ask_held_change(&mut self, leader: usize, quiet: bool) {
        if let Some(&change) = self.operator.plan.front() {
            self.ask_leader(leader, change, quiet);
        }
    }

    /// The held step is done (accepted, or nothing to do), leading to `then` if any: the
    /// plan's next step is held and asked for at once. (A change asked for without being
    /// held finds the plan empty: a new request clears it.)
    fn step_done(&mut self, then: Option<OperatorChange>) {
        self.operator.forwarded = None;
        self.operator.plan.pop_front();
        if let Some(step) = then {
            self.operator.plan.push_front(step);
        }
        if !self.operator.plan.is_empty() {
            self.schedule_operator_retry(self.now);
        }
    }

    /// The operator's tool asks `leader` for one single-server membership change. A change
    /// refused only for now (the leader is not ready, or another change is pending) stays
    /// held for a retry; a change refused for good ends the operator's plan; `quiet` leaves
    /// refusals for now out of the trace (the tool's polling).
    pub(super) fn ask_leader(&mut self, leader: usize, change: OperatorChange, quiet: bool) {
        let now = self.now;
        if self.disaster_recovery_in_progress() {
            // The disaster recovery owns the membership until it is done.
            self.operator.plan.clear();
            return;
        }
        let may_be_damaged = self.unrepaired_damage();
        let adds_beside_damaged = self.sim_bug(SimBug::VoterAddedWhileADamagedNodeVotes);
        let Some(raft) = self.hosts[leader].running() else {
            return;
        };
        let term = raft.term();
        let peer = change.peer();
        if matches!(change, OperatorChange::ReplaceDisk { .. })
            && self.operator.ever_voters & (1 << peer) != 0
        {
            // Not the core's refusal: a node that may have voted cannot forget its votes.
            self.operator.plan.clear();
            let what = format!("replace the disk of n{peer} skipped: it has been a voter");
            self.record(event!(now, Some(leader), "fault", what = what));
            return;
        }
        let proposal = match change.at_leader(raft) {
            Ok(proposal) => proposal,
            Err(Skip::NotYet) => return,
            Err(Skip::Done) => {
                self.step_done(None);
                return;
            }
            Err(Skip::ReplaceDisk) => {
                self.replace_disk(peer);
                self.step_done(None);
                return;
            }
        };
        let mut next = voters_mask(raft);
        match proposal.change {
            MembershipChange::AddVoter(_) => next |= 1 << peer,
            MembershipChange::RemovePeer(_) => next &= !(1 << peer),
            MembershipChange::AddObserver(_) => {}
        }
        let forward_via = match proposal.change {
            MembershipChange::RemovePeer(_) if !proposal.crash_leader => {
                self.draw_forwarder(leader)
            }
            _ => None,
        };
        let replaced = self.operator.disk_replaced & (1 << peer) != 0;
        let outcome = if replaced && matches!(proposal.change, MembershipChange::AddVoter(_)) {
            Err(Refusal {
                why: "skipped: its disk was replaced".to_string(),
                for_now: false,
            })
        } else if let Some(why) =
            unrecoverable(proposal.change, next, may_be_damaged, adds_beside_damaged)
        {
            // Not a refusal of the core: the nemesis keeps the cluster able to recover.
            Err(Refusal {
                why,
                for_now: false,
            })
        } else if let Some(via) = forward_via {
            return self.forward_removal(leader, via, change);
        } else {
            let Some(raft) = self.hosts[leader].running() else {
                return;
            };
            raft.propose_membership(term, proposal.change)
                .map_err(|e| Refusal {
                    for_now: matches!(
                        e,
                        ProposeError::NotYetCommittedInTerm
                            | ProposeError::MembershipChangePending { .. }
                    ),
                    why: format!("refused: {e}"),
                })
        };
        let what = match proposal.change {
            MembershipChange::AddVoter(_) => format!("add voter n{peer}"),
            MembershipChange::AddObserver(_) => format!("add observer n{peer}"),
            MembershipChange::RemovePeer(_) => format!("remove n{peer}"),
        };
        match outcome {
            Ok(proposed) => {
                if let MembershipChange::AddVoter(_) = proposal.change {
                    self.operator.ever_voters |= 1 << peer;
                }
                self.stats.fault("membership-proposed");
                self.record(event!(now, Some(leader), "fault", what = what));
                self.execute(leader, proposed.actions);
                if proposal.crash_leader {
                    // One crash per plan: the steps after it go on normally.
                    for step in self.operator.plan.iter_mut().skip(1) {
                        step.forget_crash();
                    }
                    self.crash_leader_soon(leader);
                }
                let then = match proposal.change {
                    MembershipChange::RemovePeer(_) if self.operator.readds => {
                        Some(OperatorChange::Readd { peer })
                    }
                    _ => proposal.then,
                };
                self.step_done(then);
            }
            Err(Refusal { why, for_now }) => {
                if !for_now && matches!(change, OperatorChange::Readd { .. }) {
                    // A re-add refused for good (in the term of the removal) is dropped
                    // alone: the rest of the plan goes on.
                    self.step_done(None);
                } else if !for_now {
                    // Refused for good: the tool gives up, with the rest of its plan.
                    self.operator.plan.clear();
                }
                if !(quiet && for_now) {
                    self.record(event!(
                        now,
                        Some(leader),
                        "fault",
                        what = format!("{what} {why}")
                    ));
                }
            }
        }
    }

    /// Whether this request goes through a follower (a draw of its own per request), and
    /// which: one that runs and knows `leader` as its leader.
    fn draw_forwarder(&mut self, leader: usize) -> Option<usize> {
        let ppm = self.config.faults.forward_removal_ppm;
        if ppm == 0 {
            return None;
        }
        self.operator.routes_drawn += 1;
        let key = [self.operator.routes_drawn];
        let mut rng = crate::rng::Stream::keyed(self.config.seed, "operator/forward-removal", &key);
        if !rng.chance(ppm) {
            return None;
        }
        let followers: Vec<usize> = (0..self.hosts.len())
            .filter(|&n| n != leader)
            .filter(|&n| {
                let host = &self.hosts[n];
                host.status == Status::Up
                    && host
                        .node
                        .as_ref()
                        .is_some_and(|raft| raft.leader() == Some(id(leader)))
            })
            .collect();
        (!followers.is_empty()).then(|| followers[rng.below(followers.len())])
    }

    /// The tool asks `via` to remove the held step's peer, which it forwards to `leader`.
    /// The step waits for the answer, and the polling checks a heartbeat later whether the
    /// removal is in the leader's membership (an answer can be lost).
    fn forward_removal(&mut self, leader: usize, via: usize, change: OperatorChange) {
        let (now, peer) = (self.now, change.peer());
        let Some(raft) = self.hosts[via].running() else {
            return;
        };
        let reply = OPERATOR_REPLY | (self.operator.routes_drawn & !OPERATOR_REPLY);
        let Ok(actions) = raft.forward_remove_peer(reply, id(peer)) else {
            return;
        };
        self.operator.forwarded = Some((reply, change));
        self.stats.fault("membership-forwarded");
        let what = format!("remove n{peer} forwarded to n{leader} reply={reply}");
        self.record(event!(now, Some(via), "fault", what = what));
        self.execute(via, actions);
        let every = self.config.tick_us * u64::from(self.config.heartbeat_ticks);
        self.schedule_operator_retry(now + every);
    }

    /// The leader's answer to a forwarded request reached `node`'s host: for the held
    /// step, an acceptance (or "not a member": nothing left to do) ends it, "the last voter"
    /// ends the plan, and any other refusal is for now (the polling asks again).
    pub(super) fn on_forward_answered(
        &mut self,
        node: usize,
        reply: u64,
        term: u64,
        outcome: ForwardOutcome,
    ) {
        let mut text = crate::trace::Line::default();
        super::trace_text::write_forward_outcome(&mut text, outcome);
        let (now, outcome_text) = (self.now, text.into_string());
        self.record(event!(
            now,
            Some(node),
            "forward-answer",
            reply = reply,
            term = term,
            outcome = outcome_text
        ));
        let Some((awaited, change)) = self.operator.forwarded else {
            return;
        };
        if awaited != reply || self.operator.plan.front() != Some(&change) {
            return;
        }
        self.operator.forwarded = None;
        match outcome {
            ForwardOutcome::Accepted { .. }
            | ForwardOutcome::Refused(ForwardRefusal::NotAMember) => {
                self.stats.fault("membership-proposed");
                self.step_done(None)
            }
            ForwardOutcome::Refused(ForwardRefusal::LastVoter) => self.operator.plan.clear(),
            ForwardOutcome::Refused(_) => {}
        }
    }

    /// `Fault::ReplaceObserverDisk`: the tool's plan is to make `peer` an observer and
    /// replace its disk once it has caught up.
    pub(super) fn start_disk_replacement(&mut self, peer: usize) {
        self.operator.plan.clear();
        self.operator
            .plan
            .push_back(OperatorChange::ReplaceDisk { peer });
        match self.current_leader() {
            Some(leader) => self.ask_held_change(leader, false),
            None => self.schedule_operator_retry(self.now),
        }
    }

    /// The observer `node` loses power and boots, a few ticks later, from an empty disk.
    fn replace_disk(&mut self, node: usize) {
        if matches!(self.hosts[node].status, Status::Stopped(_)) {
            return;
        }
        self.operator.disk_replaced |= 1 << node;
        self.crash(node, 10 * self.config.tick_us);
        self.hosts[node].disk = Disk::default();
        self.checks.disk_replaced(node);
        self.stats.fault("disk-replaced");
        let what = "disk replaced by an empty one";
        self.record(event!(self.now, Some(node), "fault", what = what));
    }

    /// The operator's tool asks again at `at` (every heartbeat while a change is held).
    fn schedule_operator_retry(&mut self, at: Micros) {
        if !self.operator.retry_scheduled {
            self.operator.retry_scheduled = true;
            self.schedule(at, Event::OperatorRetry);
        }
    }
}
