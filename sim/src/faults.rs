//! The nemesis: the explicit fault script of a run. The script is drawn from the `faults`
//! stream before the run starts, so it can be printed, saved in a bundle, edited and replayed.
//! Decisions taken while the run runs (a message's fate, what a corruption damages) are the
//! run's decisions (`crate::decisions`), not the script's.

pub use crate::clocks::ClockChange;
use crate::config::{Micros, SimConfig};
use crate::network::Topology;
use crate::rng::Stream;
pub use crate::write_errors::WriteFailure;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which node a fault hits. `Leader` resolves when the fault fires (to the current leader, or
/// `fallback` when there is none), which is how real nemeses target leaders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Node(usize),
    Leader { fallback: usize },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Node(n) => write!(f, "n{n}"),
            Target::Leader { fallback } => write!(f, "leader(else n{fallback})"),
        }
    }
}

/// One fault decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Random split into two sides.
    Split { side_a: Vec<usize> },
    /// Cut one node off, both ways.
    Isolate { target: Target },
    /// Drop messages on one direction of one link.
    OneWay { from: usize, to: usize },
    /// Two sides plus a bridge node that sees both.
    Bridge { side_a: Vec<usize>, bridge: usize },
    /// Restore full connectivity; no link holds new messages (what a clog holds arrives at
    /// its release).
    Heal,
    /// Hold every message on a link for a while, then release them together; never past the
    /// end of the faults.
    Clog {
        from: usize,
        to: usize,
        for_us: Micros,
    },
    /// Power loss: memory, unsynced writes and the messages that had not left the machine
    /// (sent less than half a minimum network latency before) are lost; restart through
    /// recovery later.
    Crash { target: Target, down_us: Micros },
    /// Crash the next node to become leader, `after_us` after it wins.
    /// Leader churn: crash each of the next `leaders` leaders `after_us` after it wins (at
    /// least one; older bundles without the field mean one).
    KillNextLeader {
        after_us: Micros,
        down_us: Micros,
        #[serde(default)]
        leaders: u32,
    },
    /// Power loss in the middle of a write that spans two files: the next node to persist
    /// log entries together with a new term (a follower hearing of a new leader's term from
    /// its first append) loses power right after submitting it, before the term/vote file
    /// is renamed into place; what the WAL keeps of it is the power loss's decision. Nothing
    /// happens if no such write comes before the faults stop.
    CrashMidWrite { down_us: Micros },
    /// Stop processing for a while (a GC pause, SIGSTOP); messages queue up.
    Pause { target: Target, for_us: Micros },
    /// Damage synced data (bit flip or zeroed sector) of `file` on `node`, or on the leader
    /// when `leader` and there is one; `then_crash` restarts the node through recovery right
    /// away so the damage is read. The fault atlas (`world/atlas.rs`) may decline a strike
    /// that would leave no intact copy of a committed entry.
    Corrupt {
        node: usize,
        then_crash: bool,
        /// Older bundles: false.
        #[serde(default)]
        leader: bool,
        /// Older bundles: the WAL.
        #[serde(default)]
        file: DamagedFile,
    },
    /// The next recovery read fails; the node is crashed to reach it.
    ReadError { node: usize },
    /// The next persist of `target` fails with `error` (`world/write_errors.rs`): the node
    /// is told, the disk drops the WAL's unsynced bytes (after a failed fsync the dirty
    /// pages may be gone), and the node's supervisor restarts it `restart_after_us` later
    /// (at the latest when the faults stop), which clears its sticky error. Drawn from a
    /// stream of its own (`crate::write_errors`), not from the nemesis's slots.
    WriteError {
        target: Target,
        error: WriteFailure,
        restart_after_us: Micros,
    },
    /// `target` loses the disk holding its log (the WAL and the snapshot file; its term/vote
    /// and peer-state files survive) and boots `down_us` later with an empty log. Declined
    /// unless every entry the node acknowledged is held by a majority of the voters without
    /// it (`world/disk_loss.rs`). Drawn from a stream of its own (`crate::disk_loss`), not
    /// from the nemesis's slots.
    LoseLog { target: Target, down_us: Micros },
    /// `node`'s clock changes its rate, jumps forward or stalls (`world/clocks.rs`). Drawn
    /// from a stream of its own (`crate::clocks`), not from the nemesis's slots.
    Clock { node: usize, change: ClockChange },
    /// The leader is asked to step down, handing over to `to` (or the best successor).
    Transfer { to: Option<usize> },
    /// The application pauses apply on a node for a while, then resumes it.
    PauseApply { target: Target, for_us: Micros },
    /// The application snapshots its state at the applied index; the log is compacted.
    Snapshot { target: Target },
    /// An operator changes the membership at the leader, one server at a time. What the
    /// change is depends on `node`'s place in the leader's membership when it fires: a voter
    /// is removed; an observer is promoted (`voter`) or removed; a non-member is added as a
    /// voter (`voter`) or an observer. `at_next_leader` holds the change until the next
    /// leader wins and proposes it at once, as an operator does right after a failover.
    Membership {
        node: usize,
        voter: bool,
        #[serde(default)]
        at_next_leader: bool,
    },
    /// An operator replaces `remove` with `add`: the two-step [`Fault::Reconfigure`] that
    /// adds `add` as a voter (an observer first, promoted once caught up) and, as soon as the
    /// promotion is accepted (not committed), asks whichever node leads for the removal of
    /// `remove` until one accepts it. With `crash_leader` the leader that accepts the first
    /// change of the voters (the promotion, or the removal when `add` is a voter already)
    /// crashes within one network latency: the replacement races a failure.
    Replace {
        add: usize,
        remove: usize,
        crash_leader: bool,
    },
    /// An operator replaces the disk of an observer (a read replica): `node` is added as an
    /// observer if it is not a member, and once it has caught up it loses power and boots
    /// from an empty disk. Only a node that has never been a voter (a spare) is replaced:
    /// its lost votes and acknowledgements never counted anywhere, so a correct core loses
    /// nothing; its leader must notice it lost its log and repair it. The operator never
    /// promotes a node whose disk it replaced.
    ReplaceObserverDisk { node: usize },
    /// An operator reconfigures the cluster in several single-server steps — scaling it down
    /// or up by more than one server, or swapping servers one at a time — the way a
    /// deployment tool does: each step goes to whichever node leads as soon as the previous
    /// one is accepted (not committed), retried until one accepts it, so a step can reach a
    /// new leader right after a failover; the tool gives up at a step refused for good. A
    /// step that adds a non-member adds it as an observer first and promotes it once caught
    /// up; a step with nothing to do is skipped. With `crash_leader` the leader that accepts
    /// the first step changing the voters crashes within one network latency.
    Reconfigure {
        steps: Vec<Step>,
        crash_leader: bool,
    },
    /// A disaster: a majority of the voters is lost for good (machines and disks gone). The
    /// operator's disaster recovery (`world/rescue.rs`) rescues the survivors' quorum (NRG
    /// `RescueQuorum`) for `rescue_ticks` ticks, removes the lost peers, and then adds new
    /// machines in their place.
    Disaster { rescue_ticks: u32 },
}

/// The file a [`Fault::Corrupt`] damages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DamagedFile {
    /// The WAL's synced bytes.
    #[default]
    Wal,
    /// The newest snapshot file.
    Snapshot,
    /// The peer-state file (`peers.idx`).
    PeerState,
    /// One copy of the term/vote record (`tav.idx` or `tav.idx.copy`, as the draw says);
    /// with `damage_every_copy`, both.
    TermVote,
}

impl fmt::Display for DamagedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DamagedFile::Wal => "wal",
            DamagedFile::Snapshot => "snapshot",
            DamagedFile::PeerState => "peer-state",
            DamagedFile::TermVote => "term-vote",
        })
    }
}

/// One step of a [`Fault::Reconfigure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Make the node a voter.
    Add(usize),
    /// Take the node out of the membership.
    Remove(usize),
}

impl Step {
    /// The node the step adds or removes.
    pub fn node(self) -> usize {
        match self {
            Step::Add(node) | Step::Remove(node) => node,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Add(node) => write!(f, "+n{node}"),
            Step::Remove(node) => write!(f, "-n{node}"),
        }
    }
}

impl Fault {
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Split { .. } => "partition-split",
            Fault::Isolate { .. } => "partition-isolate",
            Fault::OneWay { .. } => "partition-one-way",
            Fault::Bridge { .. } => "partition-bridge",
            Fault::Heal => "heal",
            Fault::Clog { .. } => "clog",
            Fault::Crash { .. } => "crash",
            Fault::KillNextLeader { .. } => "kill-next-leader",
            Fault::CrashMidWrite { .. } => "crash-mid-write",
            Fault::ReplaceObserverDisk { .. } => "replace-observer-disk",
            Fault::Pause { .. } => "pause",
            Fault::Corrupt { .. } => "corrupt",
            Fault::ReadError { .. } => "read-error",
            Fault::WriteError { .. } => "write-error",
            Fault::LoseLog { .. } => "lose-log",
            Fault::Clock { .. } => "clock",
            Fault::Transfer { .. } => "leader-transfer",
            Fault::PauseApply { .. } => "pause-apply",
            Fault::Snapshot { .. } => "snapshot",
            Fault::Membership { .. } => "membership",
            Fault::Replace { .. } => "replace",
            Fault::Reconfigure { .. } => "reconfigure",
            Fault::Disaster { .. } => "disaster",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Split { side_a } => write!(
                f,
                "{}",
                Topology::Split {
                    side_a: side_a.clone()
                }
            ),
            Fault::Isolate { target } => write!(f, "isolate[{target}]"),
            Fault::OneWay { from, to } => write!(
                f,
                "{}",
                Topology::OneWay {
                    from: *from,
                    to: *to
                }
            ),
            Fault::Bridge { side_a, bridge } => {
                write!(
                    f,
                    "{}",
                    Topology::Bridge {
                        side_a: side_a.clone(),
                        bridge: *bridge
                    }
                )
            }
            Fault::Heal => write!(f, "heal"),
            Fault::Clog { from, to, for_us } => write!(f, "clog[n{from}->n{to} for {for_us}us]"),
            Fault::Crash { target, down_us } => write!(f, "crash[{target} down {down_us}us]"),
            Fault::KillNextLeader {
                after_us,
                down_us,
                leaders,
            } => {
                write!(
                    f,
                    "kill-next-leader[{} leader(s), {after_us}us after each wins, down {down_us}us]",
                    (*leaders).max(1)
                )
            }
            Fault::CrashMidWrite { down_us } => {
                write!(
                    f,
                    "crash-mid-write[next log and term write, down {down_us}us]"
                )
            }
            Fault::ReplaceObserverDisk { node } => write!(f, "replace-observer-disk[n{node}]"),
            Fault::Pause { target, for_us } => write!(f, "pause[{target} for {for_us}us]"),
            Fault::Corrupt {
                node,
                then_crash,
                leader,
                file,
            } => {
                let who = if *leader {
                    format!("leader(else n{node})")
                } else {
                    format!("n{node}")
                };
                let file = match file {
                    DamagedFile::Wal => String::new(),
                    other => format!(" {other}"),
                };
                let crash = if *then_crash { " then crash" } else { "" };
                write!(f, "corrupt[{who}{file}{crash}]")
            }
            Fault::ReadError { node } => write!(f, "read-error[n{node}]"),
            Fault::WriteError {
                target,
                error,
                restart_after_us,
            } => write!(
                f,
                "write-error[{target} {error}, restart after {restart_after_us}us]"
            ),
            Fault::LoseLog { target, down_us } => {
                write!(f, "lose-log[{target} down {down_us}us]")
            }
            Fault::Clock { node, change } => write!(f, "clock[n{node} {change}]"),
            Fault::Transfer { to: Some(n) } => write!(f, "transfer[to n{n}]"),
            Fault::Transfer { to: None } => write!(f, "transfer[to best]"),
            Fault::PauseApply { target, for_us } => {
                write!(f, "pause-apply[{target} for {for_us}us]")
            }
            Fault::Snapshot { target } => write!(f, "snapshot[{target}]"),
            Fault::Replace {
                add,
                remove,
                crash_leader,
            } => write!(
                f,
                "replace[n{remove} by n{add}{}]",
                if *crash_leader {
                    ", crashing the leader"
                } else {
                    ""
                }
            ),
            Fault::Reconfigure {
                steps,
                crash_leader,
            } => {
                write!(f, "reconfigure[")?;
                for (i, step) in steps.iter().enumerate() {
                    write!(f, "{}{step}", if i == 0 { "" } else { " " })?;
                }
                write!(
                    f,
                    "{}]",
                    if *crash_leader {
                        ", crashing the leader"
                    } else {
                        ""
                    }
                )
            }
            Fault::Disaster { rescue_ticks } => {
                write!(
                    f,
                    "disaster[a majority lost, rescued for {rescue_ticks} ticks]"
                )
            }
            Fault::Membership {
                node,
                voter,
                at_next_leader,
            } => write!(
                f,
                "membership[n{node}{}{}]",
                if *voter { " voter" } else { " observer" },
                if *at_next_leader {
                    " at the next leader"
                } else {
                    ""
                }
            ),
        }
    }
}

/// A fault at a virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedFault {
    pub at: Micros,
    pub fault: Fault,
}

/// Draws the fault script of a run. Each slot of the script (one nemesis action and the
/// gap before the next) draws from a stream of its own (`faults`, keyed by the slot's
/// number), so a draw added to one kind of fault leaves the other slots as they were.
///
/// Disk damage may strike any node, the leader, and the WAL, snapshot or peer-state file;
/// whether a strike is allowed (an intact copy of every committed entry must remain) is
/// decided when it fires, by the fault atlas (`world/atlas.rs`).
pub fn draw_script(config: &SimConfig) -> Vec<ScriptedFault> {
    let faults = &config.faults;
    let total = faults.nemesis_weights();
    let mut script = crate::write_errors::draw(config);
    script.extend(crate::disk_loss::draw(config));
    script.extend(crate::clocks::draw(config));
    if total == 0 || config.nodes < 2 {
        script.sort_by_key(|f| f.at);
        return script;
    }
    let n = config.nodes;
    let interval = faults.nemesis_interval_us;
    let mut at = Stream::new(config.seed, "faults/start").between(interval / 2, interval * 3 / 2);
    let mut slot = 0;
    while at < config.chaos_us {
        let mut rng = Stream::keyed(config.seed, "faults", &[slot]);
        slot += 1;
        let mut pick = rng.between(0, u64::from(total) - 1) as u32;
        let mut choose = |weight: u32| {
            if pick < weight {
                true
            } else {
                pick -= weight;
                false
            }
        };
        let target = |rng: &mut Stream| {
            let node = rng.below(n);
            if rng.chance(500_000) {
                Target::Leader { fallback: node }
            } else {
                Target::Node(node)
            }
        };
        let hold = rng.between(interval / 2, interval * 4);
        if choose(faults.partition_weight) {
            let fault = match rng.below(4) {
                0 => {
                    let mut side_a: Vec<usize> = (0..n).filter(|_| rng.chance(500_000)).collect();
                    if side_a.is_empty() || side_a.len() == n {
                        side_a = vec![rng.below(n)];
                    }
                    Fault::Split { side_a }
                }
                1 => Fault::Isolate {
                    target: target(&mut rng),
                },
                2 => {
                    let from = rng.below(n);
                    let to = (from + 1 + rng.below(n - 1)) % n;
                    Fault::OneWay { from, to }
                }
                _ => {
                    let bridge = rng.below(n);
                    let others: Vec<usize> = (0..n).filter(|&x| x != bridge).collect();
                    let side_a = others[..others.len() / 2].to_vec();
                    Fault::Bridge { side_a, bridge }
                }
            };
            script.push(ScriptedFault { at, fault });
            script.push(ScriptedFault {
                at: at + hold,
                fault: Fault::Heal,
            });
        } else if choose(faults.crash_weight) {
            let down_us = rng.between(config.tick_us, interval * 2);
            let fault = if rng.chance(300_000) {
                // Leaders that die right after winning, one after another, leave uncommitted
                // entries of several terms behind: the schedule behind Raft's Figure 8.
                // Half die before their first messages arrive anywhere (inside one
                // network latency; half of those before the messages even leave), half
                // within a few heartbeats.
                let after_us = if rng.chance(500_000) {
                    rng.between(0, config.latency.min_us)
                } else {
                    rng.between(0, 8 * config.tick_us)
                };
                let leaders = 1 + rng.below(4) as u32;
                Fault::KillNextLeader {
                    after_us,
                    down_us,
                    leaders,
                }
            } else if rng.chance(200_000) {
                Fault::CrashMidWrite { down_us }
            } else {
                Fault::Crash {
                    target: target(&mut rng),
                    down_us,
                }
            };
            script.push(ScriptedFault { at, fault });
        } else if choose(faults.pause_weight) {
            let for_us = rng.between(config.tick_us, interval * 2);
            script.push(ScriptedFault {
                at,
                fault: Fault::Pause {
                    target: target(&mut rng),
                    for_us,
                },
            });
        } else if choose(faults.clog_weight) {
            let from = rng.below(n);
            let to = (from + 1 + rng.below(n - 1)) % n;
            script.push(ScriptedFault {
                at,
                fault: Fault::Clog {
                    from,
                    to,
                    for_us: hold,
                },
            });
        } else if choose(faults.corrupt_weight) {
            let node = rng.below(n);
            let then_crash = rng.chance(500_000);
            let leader = rng.chance(250_000);
            let file = match rng.below(8) {
                0 => DamagedFile::Snapshot,
                1 => DamagedFile::PeerState,
                2 => DamagedFile::TermVote,
                _ => DamagedFile::Wal,
            };
            script.push(ScriptedFault {
                at,
                fault: Fault::Corrupt {
                    node,
                    then_crash,
                    leader,
                    file,
                },
            });
        } else if choose(faults.read_error_weight) {
            let node = rng.below(n);
            script.push(ScriptedFault {
                at,
                fault: Fault::ReadError { node },
            });
        } else if choose(faults.transfer_weight) {
            let to = if rng.chance(500_000) {
                Some(rng.below(n))
            } else {
                None
            };
            script.push(ScriptedFault {
                at,
                fault: Fault::Transfer { to },
            });
        } else if choose(faults.snapshot_weight) {
            script.push(ScriptedFault {
                at,
                fault: Fault::Snapshot {
                    target: target(&mut rng),
                },
            });
        } else if choose(faults.membership_weight) {
            let spares = faults.spare_nodes;
            let fault = if spares > 0 && rng.chance(200_000) {
                Fault::ReplaceObserverDisk {
                    node: n - spares + rng.below(spares),
                }
            } else if rng.chance(300_000) {
                let add = rng.below(n);
                let remove = (add + 1 + rng.below(n - 1)) % n;
                Fault::Replace {
                    add,
                    remove,
                    crash_leader: rng.chance(500_000),
                }
            } else if rng.chance(300_000) {
                let steps = (0..2 + rng.below(2))
                    .map(|_| {
                        let node = rng.below(n);
                        if rng.chance(500_000) {
                            Step::Add(node)
                        } else {
                            Step::Remove(node)
                        }
                    })
                    .collect();
                Fault::Reconfigure {
                    steps,
                    crash_leader: rng.chance(500_000),
                }
            } else {
                Fault::Membership {
                    node: rng.below(n),
                    voter: rng.chance(600_000),
                    at_next_leader: rng.chance(300_000),
                }
            };
            script.push(ScriptedFault { at, fault });
        } else {
            let for_us = rng.between(config.tick_us, interval * 2);
            script.push(ScriptedFault {
                at,
                fault: Fault::PauseApply {
                    target: target(&mut rng),
                    for_us,
                },
            });
        }
        at += rng.between(interval / 2, interval * 3 / 2);
    }
    // From a stream of its own, so that the scripts without a disaster stay as they were.
    let mut disaster_rng = Stream::new(config.seed, "faults/disaster");
    if disaster_rng.chance(faults.disaster_ppm) {
        let at = disaster_rng.between(interval / 2, (config.chaos_us / 2).max(interval / 2));
        // Long enough to outlast the run: it ends when the lost peers are removed.
        let run_us = config.chaos_us + 2 * config.liveness_bound_us();
        let rescue_ticks = (run_us / config.tick_us).clamp(1, u64::from(u32::MAX)) as u32;
        script.push(ScriptedFault {
            at,
            fault: Fault::Disaster { rescue_ticks },
        });
    }
    script.sort_by_key(|f| f.at);
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_strikes_every_node_the_leader_and_every_file_across_seeds() {
        let mut nodes = std::collections::BTreeSet::new();
        let mut files = std::collections::BTreeSet::new();
        let mut leader = false;
        for seed in 0..300 {
            for f in draw_script(&SimConfig::draw(seed)) {
                if let Fault::Corrupt {
                    node,
                    leader: l,
                    file,
                    ..
                } = f.fault
                {
                    nodes.insert(node);
                    files.insert(file.to_string());
                    leader |= l;
                }
            }
        }
        assert!(nodes.len() >= 5, "{nodes:?}");
        assert_eq!(files.len(), 4, "{files:?}");
        assert!(leader);
    }

    #[test]
    fn no_faults_means_an_empty_script() {
        assert!(draw_script(&SimConfig::draw(5).without_faults()).is_empty());
    }

    #[test]
    fn every_fault_kind_appears_across_seeds() {
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..100 {
            for f in draw_script(&SimConfig::draw(seed)) {
                kinds.insert(f.fault.kind());
            }
        }
        assert_eq!(kinds.len(), 23, "{kinds:?}");
    }
}
