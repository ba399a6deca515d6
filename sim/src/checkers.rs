//! Raft's safety properties, checked incrementally after every event.
//!
//! The world's checker feed (`world/checks.rs`) is the only caller: it shows the checkers
//! every role change, log write, durable write, send, apply, snapshot, crash and recovery, in
//! the order they happen. Each property is checked in one place, grouped by what it is about:
//!
//! - `election.rs`: election safety, elected by quorum, leader completeness (at each win),
//!   term monotonic and one vote per term (on durable state, across restarts);
//! - `log.rs`: leader append-only and log matching (at each log write), state-machine safety
//!   (at each apply), commit within the log (after each step);
//! - `durability.rs`: committed durable on a quorum and persist-before-send, and the durable
//!   views they read (persists, snapshots, crashes, recoveries);
//! - `guards.rs`: the forward-looking properties, commit guarded by votes and configuration
//!   overlap: what a node could still win with the logs it holds now; and membership change
//!   after own-term commit, the rule that keeps configurations overlapping;
//! - `rescue.rs`: what a rescued quorum (NRG `RescueQuorum`) suspends, nodes lost for good,
//!   and rescue ends at natural quorum;
//! - `prefix_log.rs`: prefix hashes of every node's memory and durable log;
//! - `membership.rs`: membership from the log (when a node's log starts at a new snapshot);
//! - `progress.rs`: monotonic progress per node (commit and applied index, restarts);
//! - `sessions.rs`: progress from the current session (a leader's match index for a peer
//!   re-added in its term comes from answers of the new session);
//! - `resources.rs`: no loop without progress (the same snapshot or entries delivered again
//!   and again, once the faults stopped);
//! - `masks.rs`: voter masks and majorities.
//!
//! Architecture invariant: per-event cost does not grow with the length of the history.
//! Checks touch only the entries an event changed and compare whole logs by prefix hash; the
//! committed-prefix checks look only at the highest committed index. The checkers never
//! change the run: they read what the world shows them and record the first violation, which
//! the world reads to stop. Nothing else reads their state (the run's figures are counted by
//! the world itself).

mod durability;
mod election;
mod guards;
mod leader_view;
mod log;
pub(crate) mod masks;
mod membership;
mod memory;
mod prefix_log;
mod progress;
mod rescue;
mod resources;
mod sessions;
#[cfg(test)]
mod tests;

use crate::config::Micros;
use prefix_log::{FxMap, PrefixLog};
use raft_core::{HardState, NodeId, Role};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use prefix_log::entry_hash;
pub use rescue::GivenUp;
use rescue::Rescues;
pub use resources::Replication;

/// The properties the simulator checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Property {
    /// At most one leader per term, ever, across crashes.
    ElectionSafety,
    /// A node becomes leader of a term only with that term's votes of a majority of the
    /// voters of its own configuration: grants the voters sent, or their own durable vote
    /// (its own counts only when it is a voter). Checked when it wins, so a miscounted
    /// election is caught even when no rival ever wins the same term.
    ElectedByQuorum,
    /// A leader never overwrites or deletes entries in its log during its term.
    LeaderAppendOnly,
    /// Two logs with an entry of the same index and term are identical up to it.
    LogMatching,
    /// A new leader holds every entry committed before its term.
    LeaderCompleteness,
    /// The entry applied at an index is the same on every node in every lifetime.
    StateMachineSafety,
    /// Every committed entry is on the durable logs of a quorum: it survives if every node
    /// crashes now.
    CommittedDurableOnQuorum,
    /// No voter lacking a committed entry could collect a majority of votes, whichever of
    /// its logs (in memory, or on disk after a crash) it campaigned with: the vote
    /// restriction guards every commit, which is what keeps Leader Completeness true in
    /// every later term. Checked when the committed prefix grows.
    CommitGuardedByVotes,
    /// When a leader appends a membership change, no node behind it in term could still win
    /// an election in a configuration some majority of which shares no voter with some
    /// majority of the new one: both could go on to commit, each without the other's
    /// entries. Single-server changes keep every two consecutive configurations'
    /// majorities overlapping, but a change made by a new leader before an entry of its own
    /// term is committed can follow a change of the previous leader it never saw, and two
    /// changes away from a configuration with an even number of voters the majorities can
    /// be disjoint (Ongaro, raft-dev 2015). Checked at the append, before either commits.
    ConfigurationOverlap,
    /// A leader appends a membership change only once an entry of its own term is
    /// committed (its no-op): the rule that keeps single-server changes safe across a
    /// failover (`checkers/guards.rs`).
    MembershipChangeAfterOwnTermCommit,
    /// A node's durable term never decreases, across restarts.
    TermMonotonic,
    /// A node grants at most one vote per term, across restarts.
    OneVotePerTerm,
    /// The commit index never exceeds the log.
    CommitWithinLog,
    /// Every vote grant or acknowledgement attests only durable state.
    PersistBeforeSend,
    /// An append acknowledgement claims no more than the append it answers verified: the
    /// sender's log through the acknowledged index is the leader's (CCF #6001, Ratis #1519:
    /// a follower answering with its own last index vouches for a stale suffix).
    AckMatchesLeader,
    /// A node's membership is the one its snapshot and log imply (checked when its log starts
    /// at a new snapshot).
    MembershipFromLog,
    /// Every message encodes with raft-core's codec when sent and its bytes decode when
    /// delivered (messages cross the simulated wire as bytes).
    WireCodec,
    /// Within a node's lifetime its commit and applied index never go back; after a
    /// restart it never starts below the snapshot it had made durable.
    MonotonicProgress,
    /// A node whose disk the nemesis never damaged always restarts from it: recovery
    /// refuses only damage (a power loss never leaves a disk a node cannot start from).
    UndamagedNodeRestarts,
    /// Once a leader has handled a follower's rejection, its match index for that follower
    /// is at most what the rejection said the follower held, or an entry the follower does
    /// hold durably: a leader never goes on counting toward its commits entries a follower
    /// told it it lost (a replaced disk). (A match index can run ahead of a follower's disk
    /// only between the loss and the follower's first answer.)
    MatchOnFollowerDisk,
    /// A leader's match index for a peer rises only on an answer to an append of its current
    /// session with that peer: a peer removed and re-added in one term is not credited with
    /// what it acknowledged to the removed session (etcd-io/raft#349; `checkers/sessions.rs`).
    ProgressFromCurrentSession,
    /// A leader that told a node to campaign (TimeoutNow) appends nothing in that term for
    /// a whole maximum election timeout: the campaign it ordered gets its chance, and the
    /// leader's new entries do not make it fail.
    TransferWaitsForItsTarget,
    /// Stream: a batch's entries follow each other in the log, in one term.
    BatchContiguous,
    /// Stream: after every apply, a batch is stored whole (batch sequences 1 to N) or not at
    /// all.
    NoPartialBatch,
    /// Stream: each message stored takes the sequence after the last.
    DenseSequences,
    /// Stream: a `Nats-Msg-Id` is stored at most once inside its window.
    MsgIdOnce,
    /// Stream: once an entry of a newer term is applied, no batch begun in an older term is
    /// still being collected.
    BatchAbandonedOnLeaderChange,
    /// The client history is linearizable.
    Linearizability,
    /// After the faults stop, a stable leader appears and new writes commit in time.
    Liveness,
    /// After the faults stop, every live member applies what was committed when the
    /// liveness probe's write committed, within a bound computed from the configuration
    /// (`world/convergence.rs`).
    Convergence,
    /// After the faults stop, no leader keeps delivering the same snapshot or entries to a
    /// follower without its match index moving (`checkers/resources.rs`).
    NoLoopWithoutProgress,
    /// No link holds more than `MAX_IN_FLIGHT_PER_LINK` messages at once: a node that
    /// answers messages with more messages than it received floods the network and the run
    /// (`checkers/resources.rs`).
    MessagesInFlightBounded,
    /// A node reports a rescued quorum only while the rescue is in effect as the checkers
    /// account for it: a rescue ends for good once a majority of the node's voters is no
    /// more than the rescued quorum (it is not restored when the membership grows again),
    /// when the node reports it over, or at a crash (`checkers/rescue.rs`).
    RescueEndsAtNaturalQuorum,
    /// A node with a log cache bound keeps at most that many payload bytes of entries that
    /// are durable and applied in memory; only entries still waiting for the disk or the
    /// application, and the membership entries, may add to it (`checkers/memory.rs`).
    MemoryWithinBound,
    /// The run panicked (a bug in the core or the simulator); reported by sweeps and hunts.
    Panic,
}

impl Property {
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => "election-safety",
            Property::ElectedByQuorum => "elected-by-quorum",
            Property::LeaderAppendOnly => "leader-append-only",
            Property::LogMatching => "log-matching",
            Property::LeaderCompleteness => "leader-completeness",
            Property::StateMachineSafety => "state-machine-safety",
            Property::CommittedDurableOnQuorum => "committed-durable-on-quorum",
            Property::CommitGuardedByVotes => "commit-guarded-by-votes",
            Property::ConfigurationOverlap => "configuration-overlap",
            Property::MembershipChangeAfterOwnTermCommit => {
                "membership-change-after-own-term-commit"
            }
            Property::BatchContiguous => "batch-contiguous",
            Property::NoPartialBatch => "no-partial-batch",
            Property::DenseSequences => "dense-sequences",
            Property::MsgIdOnce => "msg-id-once",
            Property::BatchAbandonedOnLeaderChange => "batch-abandoned-on-leader-change",
            Property::TermMonotonic => "term-monotonic",
            Property::OneVotePerTerm => "one-vote-per-term",
            Property::CommitWithinLog => "commit-within-log",
            Property::PersistBeforeSend => "persist-before-send",
            Property::AckMatchesLeader => "ack-matches-leader",
            Property::MembershipFromLog => "membership-from-log",
            Property::WireCodec => "wire-codec",
            Property::MonotonicProgress => "monotonic-progress",
            Property::UndamagedNodeRestarts => "undamaged-node-restarts",
            Property::MatchOnFollowerDisk => "match-on-follower-disk",
            Property::ProgressFromCurrentSession => "progress-from-current-session",
            Property::TransferWaitsForItsTarget => "transfer-waits-for-its-target",
            Property::Linearizability => "linearizability",
            Property::Liveness => "liveness",
            Property::Convergence => "convergence",
            Property::NoLoopWithoutProgress => "no-loop-without-progress",
            Property::MessagesInFlightBounded => "messages-in-flight-bounded",
            Property::RescueEndsAtNaturalQuorum => "rescue-ends-at-natural-quorum",
            Property::MemoryWithinBound => "memory-within-bound",
            Property::Panic => "panic",
        }
    }

    /// Whether a run can break the property before the faults stop (the properties of the
    /// liveness phase cannot: a shrinker must not cut the chaos phase short for them).
    pub fn is_safety(self) -> bool {
        !matches!(
            self,
            Property::Liveness | Property::Convergence | Property::NoLoopWithoutProgress
        )
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A property that failed, where and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub property: Property,
    pub time: Micros,
    pub node: Option<usize>,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at t={}us", self.property, self.time)?;
        if let Some(n) = self.node {
            write!(f, " on n{n}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// A leader advanced its commit index to `index` while its membership had `voters` (a mask),
/// counting a rescued quorum of `rescued` voters if any (see `rescue.rs`).
#[derive(Clone, Copy, Debug)]
struct LeaderCommit {
    index: u64,
    voters: u64,
    rescued: Option<usize>,
}

/// The incremental safety checkers for one run.
#[derive(Clone, Debug)]
pub struct Checkers {
    /// Every node, as a voter mask (bit `i` is node `i`): the voters a committed index is
    /// checked against when no leader's commit covers it.
    all_nodes: u64,
    /// The commit indexes leaders reached, with their voters. Increasing in index;
    /// consecutive records have different voters; records below the highest applied index
    /// are dropped. A committed entry must be durable on a majority of the voters of the
    /// leader that committed it (with membership changes, not of every node).
    leader_commits: std::collections::VecDeque<LeaderCommit>,
    /// Each node's own voters (a mask), as its log last said: the configuration it would
    /// campaign in. 0 until the host reports it.
    node_voters: Vec<u64>,
    /// The commit index each node last reported as a leader (kept after it steps down,
    /// replaced at every step of a later leadership).
    leader_commit_index: Vec<u64>,
    leader_of_term: FxMap<u64, usize>,
    roles: Vec<(Role, u64)>,
    /// A leader repairing its log from its peers before its no-op (protocol-aware recovery):
    /// the term whose leader completeness is checked once the repair is done.
    completeness_pending: Vec<Option<u64>>,
    /// (index, term) -> prefix hash, over every log ever seen.
    seen: FxMap<(u64, u64), u64>,
    memory: Vec<PrefixLog>,
    /// What each node's last walk of its evictable prefix found (the memory bound's check).
    cache_walks: Vec<memory::CacheWalk>,
    durable: Vec<PrefixLog>,
    /// For a node repairing damage: the durable log it held before the damage, which it
    /// answers votes for (and so still guards every committed entry in it) until repaired.
    answered_for: Vec<Option<PrefixLog>>,
    durable_hard_state: Vec<HardState>,
    max_durable_term: Vec<u64>,
    /// Prefix hash at every committed index.
    committed: Vec<u64>,
    /// The term in which each index became committed (the committing leader's term). Never
    /// decreases along the log: commits happen in index order and leaders' terms grow.
    committed_in_term: Vec<u64>,
    applied: Vec<u64>,
    votes: FxMap<(usize, u64), NodeId>,
    progress: Vec<progress::NodeProgress>,
    /// Nodes whose disk the nemesis damaged (a mask): the only ones recovery may refuse.
    damaged: u64,
    /// Each node's tick, with its clock's drift.
    tick_us: Vec<Micros>,
    /// When each node's clock last jumped forward (a clock fault), if it did.
    clock_jumped_at: Vec<Option<Micros>>,
    /// `SimConfig::election_timeout_max_ticks`: how long a transfer's campaign may take.
    election_timeout_max_ticks: u32,
    /// (leader, term) -> when that leader first told a node to campaign (TimeoutNow).
    first_timeout_now: FxMap<(usize, u64), Micros>,
    /// Rescued quorums in effect, nodes lost for good, committed entries given up.
    rescues: Rescues,
    /// Repeated deliveries without progress, once the faults stopped.
    loops: resources::Loops,
    /// Each leader's session with each peer (progress from the current session).
    sessions: sessions::Sessions,
    pub first_violation: Option<Violation>,
}

impl Checkers {
    /// The checkers of a run of `nodes` nodes (ticking every 10 ms, waiting at most 30 ticks
    /// for an election unless [`Checkers::with_clocks`] says otherwise).
    pub fn new(nodes: usize) -> Checkers {
        Checkers {
            all_nodes: if nodes >= 64 {
                u64::MAX
            } else {
                (1u64 << nodes) - 1
            },
            leader_commits: std::collections::VecDeque::new(),
            node_voters: vec![0; nodes],
            leader_commit_index: vec![0; nodes],
            leader_of_term: FxMap::default(),
            roles: vec![(Role::Follower, 0); nodes],
            completeness_pending: vec![None; nodes],
            seen: FxMap::default(),
            memory: vec![PrefixLog::default(); nodes],
            cache_walks: vec![memory::CacheWalk::default(); nodes],
            durable: vec![PrefixLog::default(); nodes],
            answered_for: vec![None; nodes],
            durable_hard_state: vec![HardState::default(); nodes],
            max_durable_term: vec![0; nodes],
            committed: Vec::new(),
            committed_in_term: Vec::new(),
            applied: Vec::new(),
            votes: FxMap::default(),
            progress: vec![progress::NodeProgress::default(); nodes],
            damaged: 0,
            tick_us: vec![10_000; nodes],
            clock_jumped_at: vec![None; nodes],
            election_timeout_max_ticks: 30,
            first_timeout_now: FxMap::default(),
            rescues: Rescues::new(nodes),
            loops: resources::Loops::default(),
            sessions: sessions::Sessions::new(nodes),
            first_violation: None,
        }
    }

    /// The nodes tick every `tick_us[i]` (their clocks drift) and wait at most
    /// `election_timeout_max_ticks` ticks for an election.
    pub fn with_clocks(
        mut self,
        tick_us: Vec<Micros>,
        election_timeout_max_ticks: u32,
    ) -> Checkers {
        assert_eq!(tick_us.len(), self.tick_us.len(), "one tick per node");
        self.tick_us = tick_us;
        self.election_timeout_max_ticks = election_timeout_max_ticks;
        self
    }

    pub(crate) fn fail(
        &mut self,
        property: Property,
        time: Micros,
        node: Option<usize>,
        detail: String,
    ) {
        if self.first_violation.is_none() {
            self.first_violation = Some(Violation {
                property,
                time,
                node,
                detail,
            });
        }
    }

    pub fn violated(&self) -> bool {
        self.first_violation.is_some()
    }

    /// Whether the checkers last saw `node` as a leader (before the current step's role
    /// changes are shown to them).
    pub fn is_leader(&self, node: usize) -> bool {
        self.roles[node].0 == Role::Leader
    }
}
