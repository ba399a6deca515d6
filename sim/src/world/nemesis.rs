//! The nemesis: the fault script of a run, injected as it comes due, and the decisions taken
//! when a fault fires (which node a leader-targeted fault hits, what a corruption damages,
//! when each leader of a churn dies).
//!
//! Architecture invariant: every fault is an input from outside the cluster, as a real
//! nemesis would inject it: a partition or a clogged link of the network, a power loss, a
//! pause, damage to synced data, an armed read error, a leader asked to step down, an
//! application pausing apply or snapshotting, an operator's membership request
//! (`operator.rs`), a disaster the operator recovers from (`rescue.rs`). The nemesis never changes a node's memory. The script is drawn up front
//! (`crate::faults`) or replayed from a bundle; the decisions taken at run time (what a
//! corruption damages, when a leader racing the operator crashes) are the run's decisions
//! (`crate::decisions`), keyed by the fault they belong to.
//!
//! Architecture invariant: no fault fires once the liveness phase has begun (`liveness.rs`).
//! Disk damage goes through the fault atlas (`atlas.rs`), which keeps the voters holding
//! unrepaired damage a minority; the operator keeps them a minority of every membership it
//! asks for (`World::unrepaired_damage`), so a correct core can stay live.

use super::events::Event;
use super::operator::OperatorChange;
use super::{id, Status, World};
use crate::app::Application;
use crate::config::{Micros, SimConfig};
use crate::decisions::Key;
use crate::event;
use crate::faults::{draw_script, Fault, ScriptedFault, Step, Target};
use crate::network::Topology;

/// The nemesis's state in a run.
pub(super) struct Nemesis {
    /// The explicit fault script: drawn, or replayed from a bundle.
    pub(super) script: Vec<ScriptedFault>,
    /// Leader churn armed by [`Fault::KillNextLeader`].
    churn: Option<LeaderChurn>,
    /// [`Fault::CrashMidWrite`] armed: the downtime of the node that next writes its log
    /// and a new term together.
    mid_write: Option<Micros>,
}

/// An armed [`Fault::KillNextLeader`]: each of the next `leaders_left` nodes to win loses
/// power `after_us` after it wins, for `down_us`.
#[derive(Clone, Copy, Debug)]
struct LeaderChurn {
    after_us: Micros,
    down_us: Micros,
    leaders_left: u32,
}

impl Nemesis {
    pub(super) fn new(config: &SimConfig, script: Option<Vec<ScriptedFault>>) -> Nemesis {
        let script = script.unwrap_or_else(|| draw_script(config));
        Nemesis {
            script,
            churn: None,
            mid_write: None,
        }
    }
}

impl<A: Application> World<A> {
    /// Queues every fault of the script that falls before the liveness phase.
    pub(super) fn schedule_script(&mut self) {
        let until = self.liveness.starts_at();
        for (i, fault) in self.nemesis.script.iter().enumerate() {
            if fault.at < until {
                self.queue.schedule(fault.at, Event::Fault(i));
            }
        }
    }

    /// The script's fault `i` is due.
    pub(super) fn on_fault(&mut self, i: usize) {
        let fault = self.nemesis.script[i].fault.clone();
        self.inject(fault);
    }

    /// The node a fault hits: the current leader for a leader-targeted fault, else its
    /// fallback.
    pub(super) fn resolve(&self, target: Target) -> usize {
        match target {
            Target::Node(n) => n,
            Target::Leader { fallback } => self.current_leader().unwrap_or(fallback),
        }
    }

    /// Injects one fault (nothing once the faults have stopped).
    fn inject(&mut self, fault: Fault) {
        let now = self.now;
        if self.liveness.started() {
            return;
        }
        self.stats.fault(fault.kind());
        match fault {
            Fault::Split { side_a } => self.set_topology(Topology::Split { side_a }),
            Fault::Isolate { target } => {
                let node = self.resolve(target);
                self.set_topology(Topology::Isolate { node });
            }
            Fault::OneWay { from, to } => self.set_topology(Topology::OneWay { from, to }),
            Fault::Bridge { side_a, bridge } => {
                self.set_topology(Topology::Bridge { side_a, bridge })
            }
            Fault::Heal => {
                self.network.heal();
                self.record(event!(now, None, "fault", what = "heal"));
            }
            Fault::Clog { from, to, for_us } => {
                // A clog is a fault, and the faults stop when the liveness phase begins: what
                // it holds is released by then, so no stale message held past the heal reaches
                // a node that already recovered.
                let until = (now + for_us).min(self.config.chaos_us.max(now));
                self.network.clog(from, to, until);
                self.record(event!(
                    now,
                    None,
                    "fault",
                    what = format!("clog n{from}->n{to} until {until}")
                ));
            }
            Fault::KillNextLeader {
                after_us,
                down_us,
                leaders,
            } => {
                let leaders = leaders.max(1);
                self.nemesis.churn = Some(LeaderChurn {
                    after_us,
                    down_us,
                    leaders_left: leaders,
                });
                let what =
                    format!("kill the next {leaders} leader(s) {after_us}us after each wins");
                self.record(event!(now, None, "fault", what = what));
            }
            Fault::Crash { target, down_us } => {
                let node = self.resolve(target);
                self.crash(node, down_us);
            }
            Fault::CrashMidWrite { down_us } => {
                self.nemesis.mid_write = Some(down_us);
                let what = "crash the next node that writes its log and a new term together";
                self.record(event!(now, None, "fault", what = what));
            }
            Fault::ReplaceObserverDisk { node } => self.start_disk_replacement(node),
            Fault::Pause { target, for_us } => {
                let node = self.resolve(target);
                if self.hosts[node].status == Status::Up {
                    self.hosts[node].status = Status::Paused;
                    let incarnation = self.hosts[node].incarnation;
                    self.record(event!(
                        now,
                        Some(node),
                        "fault",
                        what = format!("pause until {}", now + for_us)
                    ));
                    self.schedule(now + for_us, Event::Resume { node, incarnation });
                }
            }
            Fault::Corrupt {
                node,
                then_crash,
                leader,
                file,
            } => self.strike(node, leader, file, then_crash),
            Fault::ReadError { node } => {
                self.hosts[node].disk.read_error_armed = true;
                self.record(event!(now, Some(node), "fault", what = "read-error armed"));
                self.crash(node, self.config.tick_us);
            }
            Fault::WriteError {
                target,
                error,
                restart_after_us,
            } => self.arm_write_error(target, error, restart_after_us),
            Fault::LoseLog { target, down_us } => self.lose_log(target, down_us),
            Fault::Clock { node, change } => self.clock_fault(node, change),
            Fault::Transfer { to } => {
                let Some(leader) = self.current_leader() else {
                    return;
                };
                let Some(raft) = self.hosts[leader].node.as_mut() else {
                    return;
                };
                // A transfer drawn to the leader itself goes to the voter furthest behind
                // instead: an operator moving leadership to a node still catching up, whose
                // campaign starts late in the transfer's window.
                let (to, laggard) = match to {
                    Some(n) if n == leader => (furthest_behind(raft), true),
                    _ => (to, false),
                };
                let outcome = raft.step_down(to.map(id));
                let what = match (&outcome, to) {
                    (Ok(_), Some(n)) if laggard => format!("transfer to n{n}, the furthest behind"),
                    (Ok(_), Some(n)) => format!("transfer to n{n}"),
                    (Ok(_), None) => "transfer to the best successor".to_string(),
                    (Err(e), _) => format!("transfer refused: {e}"),
                };
                self.record(event!(now, Some(leader), "fault", what = what));
                if let Ok(actions) = outcome {
                    self.execute(leader, actions);
                }
            }
            Fault::Snapshot { target } => {
                let node = self.resolve(target);
                self.snapshot_upkeep(node);
            }
            Fault::Membership {
                node: peer,
                voter,
                at_next_leader,
            } => {
                let change = OperatorChange::Toggle { peer, voter };
                // A new request replaces whatever the operator's tool was still working on.
                self.operator.plan.clear();
                if at_next_leader {
                    self.operator.plan.push_back(change);
                    let what = format!("change the membership of n{peer} at the next leader");
                    self.record(event!(now, None, "fault", what = what));
                } else if let Some(leader) = self.current_leader() {
                    self.ask_leader(leader, change, false);
                }
            }
            Fault::Replace {
                add,
                remove,
                crash_leader,
            } => {
                let steps = [Step::Add(add), Step::Remove(remove)];
                self.start_plan(&steps, crash_leader);
            }
            Fault::Reconfigure {
                steps,
                crash_leader,
            } => {
                let steps_text: Vec<String> = steps.iter().map(Step::to_string).collect();
                let what = format!("reconfigure {}", steps_text.join(" "));
                self.record(event!(now, None, "fault", what = what));
                self.start_plan(&steps, crash_leader);
            }
            Fault::Disaster { rescue_ticks } => self.start_disaster(rescue_ticks),
            Fault::PauseApply { target, for_us } => {
                let node = self.resolve(target);
                let host = &mut self.hosts[node];
                let incarnation = host.incarnation;
                let Some(raft) = host.running() else {
                    return;
                };
                let actions = raft.pause_apply();
                self.record(event!(
                    now,
                    Some(node),
                    "fault",
                    what = format!("pause-apply until {}", now + for_us)
                ));
                self.execute(node, actions);
                self.schedule(now + for_us, Event::ResumeApply { node, incarnation });
            }
        }
    }

    pub(super) fn set_topology(&mut self, topology: Topology) {
        let what = topology.to_string();
        self.network.set_topology(topology);
        self.record(event!(self.now, None, "fault", what = what));
    }

    /// A node just won: under leader churn, it loses power `after_us` from now.
    pub(super) fn churn_on_win(&mut self, node: usize) {
        let Some(churn) = self.nemesis.churn.take() else {
            return;
        };
        if churn.leaders_left > 1 {
            self.nemesis.churn = Some(LeaderChurn {
                leaders_left: churn.leaders_left - 1,
                ..churn
            });
        }
        let incarnation = self.hosts[node].incarnation;
        let kill = Event::Kill {
            node,
            incarnation,
            down_us: churn.down_us,
        };
        self.schedule(self.now + churn.after_us, kill);
    }

    /// A node submitted a persist that writes log entries and a new term together: an
    /// armed [`Fault::CrashMidWrite`] takes its power right now, before the term/vote file
    /// is renamed into place.
    pub(super) fn crash_mid_write(&mut self, node: usize) {
        let Some(down_us) = self.nemesis.mid_write.take() else {
            return;
        };
        let incarnation = self.hosts[node].incarnation;
        self.schedule(
            self.now,
            Event::Kill {
                node,
                incarnation,
                down_us,
            },
        );
    }

    /// A scheduled crash is due (unless the node already went down, or the faults stopped).
    pub(super) fn on_kill(&mut self, node: usize, incarnation: u64, down_us: Micros) {
        if self.hosts[node].incarnation == incarnation && !self.liveness.started() {
            self.crash(node, down_us);
        }
    }

    /// The operator's change races a failure: the leader that accepted it loses power within
    /// one network latency (with the messages that had not left it yet).
    pub(super) fn crash_leader_soon(&mut self, leader: usize) {
        let now = self.now;
        let incarnation = self.hosts[leader].incarnation;
        let key = Key::LeaderCrash {
            node: leader as u8,
            life: incarnation,
            term: self.hosts[leader].node.as_ref().map_or(0, |n| n.term()),
        };
        let config = &self.config;
        let (after, down_us) = self.decisions.leader_crash(key, |rng| {
            let after = rng.between(0, config.latency.min_us);
            let down = rng.between(config.tick_us, config.faults.nemesis_interval_us);
            (after, down)
        });
        let what = format!("crash the leader {after}us after it accepted the change");
        self.record(event!(now, Some(leader), "fault", what = what));
        self.schedule(
            now + after,
            Event::Kill {
                node: leader,
                incarnation,
                down_us,
            },
        );
    }
}

/// The voter (not the leader) whose match index the leader knows to be lowest, the lowest
/// id among equals.
fn furthest_behind(leader: &raft_core::Node) -> Option<usize> {
    leader
        .voters()
        .filter(|&v| v != leader.id())
        .filter_map(|v| leader.match_index(v).map(|m| (m, v.0 as usize)))
        .min()
        .map(|(_, n)| n)
}
