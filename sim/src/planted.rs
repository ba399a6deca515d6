//! The one list of re-plantable bugs a run can take (`RunOptions::planted_bug`): raft-core's
//! catalogue (`raft_core::planted`: classic Raft bugs, then the regressions the simulator
//! found in this project's own core), the simulator's own regressions ([`SimBug`], below)
//! and the stream layer's (`state_machines::stream::planted`). The hunt iterates it, in
//! sections; `--plant` offers it, and a bundle naming a bug is checked against it. Empty
//! without the `planted-bugs` feature.
//!
//! **Simulator regressions.** Each is a promise the nemesis makes to the core and once
//! broke, so that the correct core failed liveness (a false positive of the simulator);
//! re-plantable so that their regression fixtures can prove they still guard something:
//!
//! | bug | mechanism | where it happened | what breaks |
//! |-----|-----------|-------------------|-------------|
//! | `slow-fsyncs-outlast-the-faults` | slow fsyncs go on after the faults stop: a voter whose acknowledgements wait out a 300 ms fsync looks gone to its leader's CheckQuorum | held-out seed 7010037 (voters {n1,n3,n5,n6}, n5 stopped on damage, the leader stepped down after recovery) | liveness (leadership unstable) |
//! | `damage-judged-on-a-union-of-memberships` | the fault atlas counts damaged voters against the union of every running node's membership, which a removed node's stale membership inflates: the leader of the two voters {n1,n3} was damaged because the union held four, and n1 could not win alone | seed 6274 before message bytes crossed the wire (fixture `fixtures/regressions/damage-judged-on-a-union-of-memberships.json`) | liveness (no leader) |
//! | `voter-added-while-a-damaged-node-votes` | the operator adds a voter while a node the nemesis may damage votes: an addition racing a failover can leave the newest log on the added node alone, which is an observer in its own log and never campaigns, once the damaged voter stops | held-out seed 7015702 (voters {n2,n4,n5} plus n6, n4 bit-flipped) | liveness (no leader) |
//! | `given-up-commits-still-owed` | convergence and the loop checker ask a node that knows as committed an entry a rescue gave up to take the rescued history, which a follower refuses (it never truncates what it committed): the leader's resends look like a loop | seed 1186 after the snapshot-heavy and clock faults joined the swarm (a voter removed before a disaster held the lost majority's commits and was added back after it); since the operator's disaster recovery evicts every member of the rescued log that is not a survivor, first found at seed 12005 (fixture `fixtures/regressions/given-up-commits-still-owed.json`) | no loop without progress, convergence |
//! | `log-loss-unguarded` | a disk loss (`Fault::LoseLog`) strikes whatever the other voters hold: a voter whose acknowledgements counted loses its log while no majority without it holds its entries | not found: planted with the guard it removes (`world/disk_loss.rs`), to show that the guard guards something | committed-durable-on-quorum |
//! | `log-loss-judged-on-current-memberships` | the disk-loss guard asks a majority of the voters of the membership each running node has in effect, not of every membership their logs hold: a node loses its log while an earlier membership that counted it (the one that committed the entries before a change in flight, or one a follower caught up from an empty log passes through) keeps its entries on a minority | seeds 2026, 9380 and 9472 of the 10,000-seed sweep (fixture `fixtures/regressions/log-loss-judged-on-current-memberships.json`) | committed-durable-on-quorum, commit-guarded-by-votes |
//! | `repaired-damage-left-on-disk` | the host leaves a damaged node's damaged WAL records on disk after the repair (the WAL was rewritten only at a quiet moment with the whole log in memory, which a bounded log cache never has): a later boot finds the old damage again and the node, counted repaired, answers for its whole log once more, with only its prefix before the damage intact | seeds 2182 (the sole voter, so no leader could repair it), 2613 and 9092 (an uncommitted tail only it held, so the other voter could not win) in the 10,000-seed sweep (fixture `fixtures/regressions/repaired-damage-left-on-disk.json`) | liveness (no leader) |

use crate::config::StateMachine;
use std::fmt;

/// Which part of the catalogue a bug belongs to (the hunt reports each in a section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Classic Raft bugs from elsewhere (`raft_core::planted`).
    Core,
    /// Bugs the simulator found in this project's own core (`raft_core::planted`).
    Regression,
    /// Bugs found in the simulator itself ([`SimBug`]): rarer than the hunt's seed target,
    /// hunted by name only.
    Simulator,
    /// Bugs of the stream layer (`state_machines::stream::planted`).
    Stream,
}

impl Section {
    /// The section's key in the hunt's JSON.
    pub fn key(self) -> &'static str {
        match self {
            Section::Core => "catalogue",
            Section::Regression => "regression",
            Section::Simulator => "simulator",
            Section::Stream => "stream",
        }
    }

    /// The section's heading in the hunt's table (none for the classic catalogue).
    pub fn heading(self) -> &'static str {
        match self {
            Section::Core => "",
            Section::Regression => {
                "regressions: bugs the simulator found in this project's own core"
            }
            Section::Simulator => "simulator regressions: bugs found in the simulator itself",
            Section::Stream => "stream layer",
        }
    }
}

/// A catalogued bug, and the state machine its runs need (`None`: any; a stream-layer bug
/// lives only in the stream, so its seeds must run the stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueBug {
    pub name: &'static str,
    pub state_machine: Option<StateMachine>,
    /// The sticky readers its seeds run with (`None`: as drawn). `prevote-judged-on-term`
    /// was found by seeds without them (its elections-only schedule is rare, 2 in 1,000,
    /// and the sticky readers' routing moves those seeds' schedules off it), so it runs
    /// them off, as a stream bug runs the stream.
    pub sticky_readers: Option<u64>,
    pub section: Section,
    /// Hunted by name only, not by `hunt --all` or `--ci`: its schedule is rarer than the
    /// 1,000-seed budget, so what guards it is its regression fixture where it has one
    /// (which must keep failing with it planted). The simulator's own regressions, and
    /// `repair-membership-unknown` (1 seed in 3,000: a repairing node must campaign with a
    /// hidden membership change, and the change must matter; its fixture guards it).
    pub by_name_only: bool,
}

/// Every bug this build can plant: raft-core's first (the classic ones, then the
/// regressions), then the simulator's, then the stream layer's.
pub fn catalogue() -> Vec<CatalogueBug> {
    #[cfg(feature = "planted-bugs")]
    {
        let core = raft_core::planted::PlantedBug::ALL
            .into_iter()
            .map(|b| CatalogueBug {
                name: b.name(),
                state_machine: None,
                sticky_readers: (b == raft_core::planted::PlantedBug::PreVoteJudgedOnTerm)
                    .then_some(0),
                section: if b.is_regression() {
                    Section::Regression
                } else {
                    Section::Core
                },
                by_name_only: b == raft_core::planted::PlantedBug::RepairMembershipUnknown,
            });
        let simulator = SimBug::ALL.into_iter().map(|b| CatalogueBug {
            name: b.name(),
            state_machine: None,
            sticky_readers: None,
            section: Section::Simulator,
            by_name_only: true,
        });
        let stream = state_machines::stream::planted::StreamBug::ALL
            .into_iter()
            .map(|b| CatalogueBug {
                name: b.name(),
                state_machine: Some(StateMachine::Stream),
                sticky_readers: None,
                section: Section::Stream,
                by_name_only: false,
            });
        core.chain(simulator).chain(stream).collect()
    }
    #[cfg(not(feature = "planted-bugs"))]
    Vec::new()
}

/// The catalogued bug named `name`.
pub fn find(name: &str) -> Option<CatalogueBug> {
    catalogue().into_iter().find(|b| b.name == name)
}

/// Why `name` cannot be planted in this build, if it cannot.
pub fn check(name: &str) -> Result<CatalogueBug, String> {
    if !cfg!(feature = "planted-bugs") {
        return Err(format!(
            "planted bug {name:?}: this build has no planted-bug catalogue (the sim crate's \
             planted-bugs feature is off)"
        ));
    }
    find(name).ok_or_else(|| {
        let known: Vec<&str> = catalogue().iter().map(|b| b.name).collect();
        format!(
            "planted bug {name:?} is not in the catalogue (known: {})",
            known.join(", ")
        )
    })
}

/// One planted simulator bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SimBug {
    SlowFsyncsOutlastTheFaults,
    VoterAddedWhileADamagedNodeVotes,
    DamageJudgedOnAUnionOfMemberships,
    LogLossUnguarded,
    LogLossJudgedOnCurrentMemberships,
    GivenUpCommitsStillOwed,
    RepairedDamageLeftOnDisk,
}

impl SimBug {
    pub const ALL: [SimBug; 7] = [
        SimBug::SlowFsyncsOutlastTheFaults,
        SimBug::VoterAddedWhileADamagedNodeVotes,
        SimBug::DamageJudgedOnAUnionOfMemberships,
        SimBug::LogLossUnguarded,
        SimBug::LogLossJudgedOnCurrentMemberships,
        SimBug::GivenUpCommitsStillOwed,
        SimBug::RepairedDamageLeftOnDisk,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SimBug::SlowFsyncsOutlastTheFaults => "slow-fsyncs-outlast-the-faults",
            SimBug::VoterAddedWhileADamagedNodeVotes => "voter-added-while-a-damaged-node-votes",
            SimBug::DamageJudgedOnAUnionOfMemberships => "damage-judged-on-a-union-of-memberships",
            SimBug::LogLossUnguarded => "log-loss-unguarded",
            SimBug::LogLossJudgedOnCurrentMemberships => "log-loss-judged-on-current-memberships",
            SimBug::GivenUpCommitsStillOwed => "given-up-commits-still-owed",
            SimBug::RepairedDamageLeftOnDisk => "repaired-damage-left-on-disk",
        }
    }

    pub fn from_name(name: &str) -> Option<SimBug> {
        SimBug::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for SimBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(all(test, feature = "planted-bugs"))]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_is_listed_once_and_stream_bugs_need_the_stream() {
        let all = catalogue();
        let mut names: Vec<&str> = all.iter().map(|b| b.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len(), "a name in two catalogues");
        assert_eq!(
            all.len(),
            raft_core::planted::PlantedBug::ALL.len()
                + SimBug::ALL.len()
                + state_machines::stream::planted::StreamBug::ALL.len()
        );
        for bug in &all {
            let in_core = raft_core::planted::PlantedBug::from_name(bug.name).is_some();
            let in_sim = SimBug::from_name(bug.name).is_some();
            assert_eq!(
                bug.state_machine.is_none(),
                in_core || in_sim,
                "{}",
                bug.name
            );
            assert_eq!(bug.section == Section::Simulator, in_sim, "{}", bug.name);
        }
        assert!(check("no-such-bug")
            .unwrap_err()
            .contains("not in the catalogue"));
    }
}
