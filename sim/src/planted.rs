//! Simulator regressions: bugs found in the simulator itself, fixed, and re-plantable (with
//! the `planted-bugs` feature) so that their regression fixtures can prove they still guard
//! something, as raft-core's catalogue does for the core (`raft_core::planted`). A run plants
//! one by name through `RunOptions::planted_bug`, like a core bug; without the feature every
//! check is `false`.
//!
//! Each is a promise the nemesis makes to the core and once broke, so that the correct core
//! failed liveness (a false positive of the simulator):
//!
//! | bug | mechanism | where it happened | what breaks |
//! |-----|-----------|-------------------|-------------|
//! | `slow-fsyncs-outlast-the-faults` | slow fsyncs go on after the faults stop: a voter whose acknowledgements wait out a 300 ms fsync looks gone to its leader's CheckQuorum | held-out seed 7010037 (voters {n1,n3,n5,n6}, n5 stopped on damage, the leader stepped down after recovery) | liveness (leadership unstable) |
//! | `voter-added-while-a-damaged-node-votes` | the operator adds a voter while a node the nemesis may damage votes: an addition racing a failover can leave the newest log on the added node alone, which is an observer in its own log and never campaigns, once the damaged voter stops | held-out seed 7015702 (voters {n2,n4,n5} plus n6, n4 bit-flipped) | liveness (no leader) |

use std::fmt;

/// One planted simulator bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SimBug {
    SlowFsyncsOutlastTheFaults,
    VoterAddedWhileADamagedNodeVotes,
}

impl SimBug {
    pub const ALL: [SimBug; 2] = [
        SimBug::SlowFsyncsOutlastTheFaults,
        SimBug::VoterAddedWhileADamagedNodeVotes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SimBug::SlowFsyncsOutlastTheFaults => "slow-fsyncs-outlast-the-faults",
            SimBug::VoterAddedWhileADamagedNodeVotes => "voter-added-while-a-damaged-node-votes",
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
