//! Node configuration and the state a host recovered from storage.

use crate::types::{Entry, HardState, NodeId, PeerState, Snapshot};
use std::fmt;

/// Static configuration of one node. Timing is in ticks: the host decides how long a tick is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// This node's id.
    pub id: NodeId,
    /// The voting members at bootstrap, including this node if it votes: the membership
    /// until storage holds one ([`Recovered::membership`], a snapshot or a membership entry
    /// in the log). A node that is not a voter replicates but never campaigns.
    pub voters: Vec<NodeId>,
    /// Election timeout is drawn uniformly from `[election_timeout_min, election_timeout_max)`.
    pub election_timeout_min: u32,
    pub election_timeout_max: u32,
    /// A leader sends heartbeats (and retransmits unacknowledged entries) this often.
    pub heartbeat_interval: u32,
    /// Seeds the election jitter; the only randomness in the node.
    pub seed: u64,
    /// Most entries carried by one AppendEntries message.
    pub max_entries_per_message: usize,
    /// Most AppendEntries messages in flight (sent, not acknowledged) per follower.
    pub max_inflight_messages: usize,
    /// Most entry data bytes carried by one AppendEntries. A message always carries at least
    /// one entry, so an entry larger than this still travels (alone).
    pub max_bytes_per_message: usize,
    /// Most entries the leader lets its log run ahead of its commit index
    /// (`last_index - commit_index`). A proposal that would exceed it is refused with
    /// [`crate::ProposeError::Overloaded`], so a leader that cannot commit (a dead quorum, a
    /// slow disk) stops growing its log instead of buffering without bound.
    pub max_uncommitted_entries: u64,
    /// PreVote (Raft thesis §9.6): before a real election a node asks whether it could win at
    /// `term + 1` without changing its term or vote, so a node that was partitioned away
    /// cannot depose a healthy leader by coming back with a higher term.
    pub pre_vote: bool,
    /// CheckQuorum: a leader that has not heard from a quorum of voters (itself included)
    /// within an election timeout steps down (NRG's lost-quorum step-down). It also turns on
    /// leader stickiness: a node that heard from a current leader within the minimum
    /// election timeout ignores vote requests for a higher term, unless they come from a
    /// leader transfer.
    pub check_quorum: bool,
    /// Most entry payload bytes the node keeps in memory (`None`: the whole log, the
    /// default). Past it, the payloads of the oldest entries that are durable and applied
    /// are dropped (their index, term and kind stay); a leader that must send them asks the
    /// host to read them back from its log ([`crate::Action::ReadLog`]). Only `Normal`
    /// entries are evicted: the membership is read from the others. Entries not yet
    /// durable or applied are never evicted, so the bound can be exceeded while they wait.
    pub log_cache_bytes: Option<usize>,
    /// A managed group (NRG `Managed`): the layer above owns the membership. Its nodes only
    /// record unknown peers they hear from ([`crate::Node::observed_peers`]), and an
    /// operator may evict peers of a leaderless group ([`crate::Node::evict_peers`]).
    /// Unmanaged (the default, as in NRG): a leader that hears an append response from an
    /// unknown peer proposes adding it as a voter.
    pub managed: bool,
    /// Leader-side repair (`leader_repair.rs`): a repairing node that hears no leader for a
    /// few election timeouts campaigns, and repairs its log from a nack quorum of its peers
    /// before its no-op. It counts votes and the nack quorum in the membership of its intact
    /// log, which is the membership of the log it held only when no damaged entry changed
    /// the membership (two single-server changes apart, majorities need not meet: a node
    /// whose damaged range removed it and another voter could be elected by that voter in a
    /// term the remaining member already led, simulator seed 1327). So it campaigns only
    /// when [`Recovered::membership_bound`] shows no membership change past its intact log;
    /// a host that does not keep that file leaves it `None`, and its repairing nodes wait
    /// for a leader as they do with this off. On by default.
    pub repair_by_election: bool,
}

impl Config {
    /// Default [`Config::max_bytes_per_message`]: NRG's 256 KiB batch per append entry.
    pub const DEFAULT_MAX_BYTES_PER_MESSAGE: usize = 256 * 1024;
    /// Default [`Config::max_uncommitted_entries`]: NRG's 100,000-entry overrun threshold.
    pub const DEFAULT_MAX_UNCOMMITTED_ENTRIES: u64 = 100_000;

    /// A configuration with sensible defaults: election timeout 10..20 ticks, heartbeat every
    /// 3, PreVote and CheckQuorum on.
    pub fn new(id: NodeId, voters: Vec<NodeId>, seed: u64) -> Config {
        Config {
            id,
            voters,
            election_timeout_min: 10,
            election_timeout_max: 20,
            heartbeat_interval: 3,
            seed,
            max_entries_per_message: 64,
            max_inflight_messages: 8,
            max_bytes_per_message: Config::DEFAULT_MAX_BYTES_PER_MESSAGE,
            max_uncommitted_entries: Config::DEFAULT_MAX_UNCOMMITTED_ENTRIES,
            pre_vote: true,
            check_quorum: true,
            log_cache_bytes: None,
            managed: false,
            repair_by_election: true,
        }
    }

    /// Checks the configuration; [`crate::Node::new`] does this too.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.election_timeout_min == 0 || self.election_timeout_min >= self.election_timeout_max
        {
            return Err(ConfigError::ElectionTimeout {
                min: self.election_timeout_min,
                max: self.election_timeout_max,
            });
        }
        if self.heartbeat_interval == 0 || self.heartbeat_interval >= self.election_timeout_min {
            return Err(ConfigError::HeartbeatInterval {
                heartbeat: self.heartbeat_interval,
                election_min: self.election_timeout_min,
            });
        }
        if self.max_entries_per_message == 0 || self.max_entries_per_message > u16::MAX as usize {
            return Err(ConfigError::Limit {
                name: "max_entries_per_message",
            });
        }
        if self.max_inflight_messages == 0 {
            return Err(ConfigError::Limit {
                name: "max_inflight_messages",
            });
        }
        if self.max_bytes_per_message == 0 {
            return Err(ConfigError::Limit {
                name: "max_bytes_per_message",
            });
        }
        if self.max_uncommitted_entries == 0 {
            return Err(ConfigError::Limit {
                name: "max_uncommitted_entries",
            });
        }
        let mut sorted = self.voters.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != self.voters.len() {
            return Err(ConfigError::DuplicateVoter);
        }
        Ok(())
    }
}

/// What a host recovered from durable storage (see [`crate::storage`] for the formats).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    pub hard_state: HardState,
    /// The log, in index order: consecutive entries starting at index 1, or, with a
    /// snapshot, anywhere from 1 to just after the snapshot's index (the WAL as it is,
    /// compacted or not). Entries the snapshot covers are dropped, and so is the whole log
    /// when its entry at the snapshot's index has another term (a crash between writing a
    /// received snapshot and resetting the WAL). Entries that do not link (a WAL compacted
    /// past the snapshot, or with no snapshot) are dropped from the first one out of place,
    /// and the node answers for the log they made up until the leader gave it back, as
    /// after damage ([`crate::node::LogDamage`]).
    pub log: Vec<Entry>,
    /// The newest snapshot file ([`crate::storage::decode_snapshot_file`]), if any. The node
    /// starts with everything up to its index committed and applied: the host restores the
    /// application's state from the snapshot's data itself before feeding the node inputs.
    /// The leader sends this data to followers that need compacted entries.
    pub snapshot: Option<Snapshot>,
    /// The peer-state file (`peers.idx`), if one was ever written: the membership the last
    /// [`crate::Action::Persist`] with `peers` recorded. The node's membership is the one
    /// of the latest membership entry in the log; this (else [`Config::voters`]) is only the
    /// membership before the log's first membership entry.
    pub membership: Option<PeerState>,
    /// Damage recovery found in synced data ([`crate::storage::WalRecovery::damage`]): the
    /// log above is what survived, and the node answers for the log it held until the leader
    /// repaired it (see [`crate::node::LogDamage`]). `None` for undamaged storage.
    pub damage: Option<crate::node::LogDamage>,
    /// Whether `hard_state` came from every copy of the term/vote record or from the one
    /// that survived damage to another ([`crate::storage::recover_term_vote`]). A host does
    /// not start a node whose record was lost in every copy.
    pub vote_record: crate::storage::VoteRecord,
    /// The membership-bound file (`members.idx`,
    /// [`crate::storage::decode_membership_bound_file`]): no entry of the log the node held
    /// above this index changed its membership. `None` when the host does not keep that
    /// file or could not read it; a repairing node then never campaigns to repair
    /// ([`Config::repair_by_election`]).
    pub membership_bound: Option<u64>,
}

/// A configuration or recovered state that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    ElectionTimeout {
        min: u32,
        max: u32,
    },
    HeartbeatInterval {
        heartbeat: u32,
        election_min: u32,
    },
    Limit {
        name: &'static str,
    },
    DuplicateVoter,
    /// The recovered log has a term that goes down.
    LogTermDecreases {
        index: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ElectionTimeout { min, max } => write!(
                f,
                "election timeout range [{min}, {max}) ticks is empty or starts at 0"
            ),
            ConfigError::HeartbeatInterval { heartbeat, election_min } => write!(
                f,
                "heartbeat interval {heartbeat} must be at least 1 and below the minimum election timeout {election_min}"
            ),
            ConfigError::Limit { name } => write!(f, "limit {name} is out of range"),
            ConfigError::DuplicateVoter => write!(f, "a voter is listed twice"),
            ConfigError::LogTermDecreases { index } => {
                write!(f, "recovered log term decreases at index {index}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
