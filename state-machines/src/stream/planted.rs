//! The stream layer's re-plantable bugs (feature `planted-bugs`), the counterpart of
//! `raft_core::planted` for what runs on top of Raft. Each is one switch at the line where
//! the bug lives; the simulator's hunt (`cargo xtask hunt`) runs them like Raft's.
//!
//! | bug | mechanism | property that catches it |
//! |---|---|---|
//! | `batch-proposed-separately` | the leader proposes each batch message as it arrives, with its own `propose`, instead of staging the batch and proposing it with one `ProposeMulti`: other proposals interleave with it, and a leadership change can split it across terms | batch-contiguous |
//! | `batch-applied-at-arrival` | the applier stores a batch's messages as their entries are applied instead of at the commit marker: a batch spanning two committed entries is visible half-stored, and a batch cut short by a leadership change stays half-stored | no-partial-batch |
//! | `dedupe-not-restored` | a replica restoring a snapshot drops the `Nats-Msg-Id` table: a duplicate inside the window is stored again on that replica | msg-id-once |
//! | `batch-kept-open-across-leader-change` | the applier keeps collecting a batch across a newer term: a batch a deposed leader had committed part of is held forever (Raft never compacts past it), and a retry of the same batch under the next leader merges into it | batch-abandoned-on-leader-change (no-partial-batch when a retry merges) |

/// A stream-layer planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamBug {
    BatchProposedSeparately,
    BatchAppliedAtArrival,
    DedupeNotRestored,
    BatchKeptOpenAcrossLeaderChange,
}

impl StreamBug {
    pub const ALL: [StreamBug; 4] = [
        StreamBug::BatchProposedSeparately,
        StreamBug::BatchAppliedAtArrival,
        StreamBug::DedupeNotRestored,
        StreamBug::BatchKeptOpenAcrossLeaderChange,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StreamBug::BatchProposedSeparately => "batch-proposed-separately",
            StreamBug::BatchAppliedAtArrival => "batch-applied-at-arrival",
            StreamBug::DedupeNotRestored => "dedupe-not-restored",
            StreamBug::BatchKeptOpenAcrossLeaderChange => "batch-kept-open-across-leader-change",
        }
    }

    pub fn from_name(name: &str) -> Option<StreamBug> {
        StreamBug::ALL.into_iter().find(|b| b.name() == name)
    }
}
