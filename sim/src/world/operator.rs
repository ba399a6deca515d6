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
//! Architecture invariant: the operator changes the cluster only through a leader's
//! `Node::propose_membership`, as a real tool does through the leader's API; it never
//! edits a membership. It skips (and says so in the trace) a change that would leave the
//! nodes the nemesis may damage half the voters or more, so that a correct core can stay
//! live. No step is asked once the liveness phase has begun.

use super::events::Event;
use super::{id, voters_mask, World};
use crate::app::Application;
use crate::config::Micros;
use crate::event;
use crate::faults::Step;
use raft_core::{MembershipChange, Node, ProposeError, Role};
use std::collections::VecDeque;

/// The operator's tool.
#[derive(Default)]
pub(super) struct Operator {
    /// The plan: the held change first, then the steps after it.
    pub(super) plan: VecDeque<OperatorChange>,
    /// An `OperatorRetry` is in the queue (one polling chain at a time).
    retry_scheduled: bool,
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
}

/// Why an operator's step proposes nothing now.
enum Skip {
    /// Nothing to do: the step is over.
    Done,
    /// Not yet (the observer is catching up): asked again at the next retry.
    NotYet,
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
            | OperatorChange::Remove { peer, .. } => peer,
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
        if !self.operator.plan.is_empty() {
            let every = self.config.tick_us * u64::from(self.config.heartbeat_ticks);
            self.schedule_operator_retry(self.now + every);
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
        let may_be_damaged = self.unrepaired_damage();
        let Some(raft) = self.hosts[leader].running() else {
            return;
        };
        let term = raft.term();
        let peer = change.peer();
        let proposal = match change.at_leader(raft) {
            Ok(proposal) => proposal,
            Err(Skip::NotYet) => return,
            Err(Skip::Done) => {
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
        let undamaged = (next & !may_be_damaged).count_ones();
        let outcome = if undamaged * 2 <= next.count_ones() {
            // Not a refusal of the core: the nemesis keeps the cluster able to recover.
            let why = format!(
                "skipped: the voters would be {} with {} of them possibly damaged",
                next.count_ones(),
                next.count_ones() - undamaged
            );
            Err(Refusal {
                why,
                for_now: false,
            })
        } else {
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
                self.step_done(proposal.then);
            }
            Err(Refusal { why, for_now }) => {
                if !for_now {
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

    /// The operator's tool asks again at `at` (every heartbeat while a change is held).
    fn schedule_operator_retry(&mut self, at: Micros) {
        if !self.operator.retry_scheduled {
            self.operator.retry_scheduled = true;
            self.schedule(at, Event::OperatorRetry);
        }
    }
}
