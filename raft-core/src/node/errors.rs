//! Why an input was refused, and how a host broke the contract: the node's error types.
//! Every refusal leaves the node unchanged.

use super::write_error::WriteError;
use crate::action::PersistId;
use crate::types::NodeId;
use std::fmt;

/// Why a proposal was refused. Nothing was appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposeError {
    /// This node is not the leader; `leader` is the leader it knows of, if any.
    NotLeader { leader: Option<NodeId> },
    /// The proposal was made for a leadership term that is not the current one (term fencing:
    /// a stale leadership epoch cannot inject entries).
    WrongTerm {
        proposal_term: u64,
        current_term: u64,
    },
    /// A batch must contain at least one entry.
    EmptyBatch,
    /// Flow control: accepting the proposal would put more than `limit` entries
    /// ([`Config::max_uncommitted_entries`](crate::Config::max_uncommitted_entries)) between
    /// the leader's commit index and the end of its log; `uncommitted` is how many there are
    /// now. Retry once commits catch up.
    Overloaded { uncommitted: u64, limit: u64 },
    /// The leader is handing leadership to `target`
    /// ([`Node::step_down`](crate::Node::step_down)) and accepts no new entries until the
    /// transfer ends (it either loses leadership, or resumes after an election timeout).
    /// Retry with the new leader.
    TransferInProgress { target: NodeId },
    /// Membership: the membership change at `index` is not committed yet; one change at a
    /// time. Retry once it is.
    MembershipChangePending { index: u64 },
    /// Membership: this leader has not committed an entry of its own term yet (its no-op),
    /// so a change from an earlier term may still be uncommitted in some log (the
    /// single-server change bug Ongaro reported on raft-dev in 2015). Retry once
    /// [`Action::LeaderChanged`](crate::Action::LeaderChanged) names this node.
    NotYetCommittedInTerm,
    /// Membership: `peer` is already a voter (adding a voter), or already a member (adding an
    /// observer; a voter cannot become an observer in one step).
    AlreadyMember { peer: NodeId },
    /// Membership: `peer` is neither a voter nor an observer.
    NotAMember { peer: NodeId },
    /// Membership: `peer` is the last voter; a cluster needs one.
    LastVoter { peer: NodeId },
    /// Membership: this leader removed `peer` during its term, so answers the peer sent to
    /// the removed session may still be on the wire, and nothing in them tells them from the
    /// answers of a new session (etcd-io/raft#349). Re-add it after a leader change (the old
    /// answers then carry an older term and are ignored), or under a new id.
    RemovedInThisTerm { peer: NodeId },
    /// A persist of this node failed ([`Node::persist_failed`](crate::Node::persist_failed)):
    /// it accepts nothing it would have to write until it restarts.
    WriteFailed { error: WriteError },
    /// This leader was elected while repairing damage to its log and is still fetching
    /// intact copies from its peers; it appends nothing before. Retry once
    /// [`Action::LeaderChanged`](crate::Action::LeaderChanged) names this node.
    LeaderRepairing,
}

impl fmt::Display for ProposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProposeError::NotLeader { leader: Some(l) } => write!(f, "not the leader; {l} is"),
            ProposeError::NotLeader { leader: None } => write!(f, "not the leader; none known"),
            ProposeError::WrongTerm {
                proposal_term,
                current_term,
            } => write!(
                f,
                "proposal made for term {proposal_term} but the current term is {current_term}"
            ),
            ProposeError::EmptyBatch => write!(f, "a batch proposal must contain an entry"),
            ProposeError::Overloaded { uncommitted, limit } => write!(
                f,
                "{uncommitted} entries are not committed yet and the limit is {limit}"
            ),
            ProposeError::TransferInProgress { target } => {
                write!(f, "leadership is being transferred to {target}")
            }
            ProposeError::MembershipChangePending { index } => write!(
                f,
                "the membership change at index {index} is not committed yet"
            ),
            ProposeError::LeaderRepairing => write!(
                f,
                "this leader is still repairing damage to its log from its peers; retry once it is ready"
            ),
            ProposeError::NotYetCommittedInTerm => write!(
                f,
                "no entry of this leader's term is committed yet; membership changes wait for it"
            ),
            ProposeError::AlreadyMember { peer } => write!(f, "{peer} is already a member"),
            ProposeError::NotAMember { peer } => write!(f, "{peer} is not a member"),
            ProposeError::LastVoter { peer } => {
                write!(f, "{peer} is the last voter and cannot be removed")
            }
            ProposeError::RemovedInThisTerm { peer } => write!(
                f,
                "{peer} was removed in this leader's term; re-add it after a leader change or under a new id"
            ),
            ProposeError::WriteFailed { error } => {
                write!(f, "this node's storage failed ({error}); restart it")
            }
        }
    }
}

impl std::error::Error for ProposeError {}

/// Why [`Node::read_index`](crate::Node::read_index) refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Only the leader serves reads; `leader` is the leader this node knows of. (Followers do
    /// not forward reads: the host sends the read to the leader, as it does proposals.)
    NotLeader { leader: Option<NodeId> },
    /// This node leads but its no-op of the term is not committed yet, so its commit index
    /// may miss entries committed by earlier leaders. Retry once
    /// [`Action::LeaderChanged`](crate::Action::LeaderChanged) names this node.
    NotReady,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotLeader { leader: Some(l) } => write!(f, "not the leader; {l} is"),
            ReadError::NotLeader { leader: None } => write!(f, "not the leader; none known"),
            ReadError::NotReady => {
                write!(f, "the leader's entry of its term is not committed yet")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// Why [`Node::step_down`](crate::Node::step_down) refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// Only a leader can hand over leadership; `leader` is the leader this node knows of.
    NotLeader { leader: Option<NodeId> },
    /// The preferred successor is this node or not a voter.
    InvalidTarget { target: NodeId },
    /// There is no other voter to hand leadership to.
    NoSuccessor,
    /// A transfer to another node is already in progress.
    InProgress { target: NodeId },
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::NotLeader { leader: Some(l) } => write!(f, "not the leader; {l} is"),
            TransferError::NotLeader { leader: None } => {
                write!(f, "not the leader; none known")
            }
            TransferError::InvalidTarget { target } => {
                write!(f, "{target} is not another voter of this cluster")
            }
            TransferError::NoSuccessor => write!(f, "there is no other voter to lead"),
            TransferError::InProgress { target } => {
                write!(f, "a transfer to {target} is already in progress")
            }
        }
    }
}

impl std::error::Error for TransferError {}

/// The host broke the contract of [`Action::Persist`](crate::Action::Persist) or
/// [`Action::Apply`](crate::Action::Apply).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractError {
    /// `persisted` was called with an id the node never issued.
    UnknownPersist {
        id: PersistId,
        last_issued: PersistId,
    },
    /// `applied` was called beyond what the node asked to apply.
    AppliedBeyondCommitted { index: u64, handed_out: u64 },
    /// `persisted` or `persist_failed` was called with persist `id` after persist `failed`
    /// was reported failed: a failure fails every later persist of the node's life.
    PersistedAfterFailure { id: PersistId, failed: PersistId },
    /// `persist_failed` was called with an id that is not in flight (never issued, or
    /// already reported durable).
    PersistNotInFlight {
        id: PersistId,
        last_completed: PersistId,
        last_issued: PersistId,
    },
    /// `log_read` or `log_read_failed` answered a read the node did not ask for (`asked`
    /// is the read in flight, if any).
    UnexpectedLogRead {
        from: u64,
        asked: Option<(u64, u64)>,
    },
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContractError::UnknownPersist { id, last_issued } => write!(
                f,
                "persist {} reported complete but the last issued is {}",
                id.0, last_issued.0
            ),
            ContractError::AppliedBeyondCommitted { index, handed_out } => write!(
                f,
                "applied index {index} reported but only {handed_out} was handed out to apply"
            ),
            ContractError::PersistedAfterFailure { id, failed } => write!(
                f,
                "persist {} reported after persist {} failed (a failure fails every later persist until a restart)",
                id.0, failed.0
            ),
            ContractError::PersistNotInFlight {
                id,
                last_completed,
                last_issued,
            } => write!(
                f,
                "persist {} reported failed but only {}..={} are in flight",
                id.0,
                last_completed.0 + 1,
                last_issued.0
            ),
            ContractError::UnexpectedLogRead { from, asked } => match asked {
                Some((a, b)) => write!(
                    f,
                    "a log read from index {from} was answered but the read in flight is {a}..={b}"
                ),
                None => write!(
                    f,
                    "a log read from index {from} was answered but no read is in flight"
                ),
            },
        }
    }
}

impl std::error::Error for ContractError {}

/// Why [`Node::install_snapshot`](crate::Node::install_snapshot) or another snapshot input
/// refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The application has not applied `index` yet ([`Node::applied`](crate::Node::applied)
    /// reported `applied`).
    NotApplied { index: u64, applied: u64 },
    /// The node already has a snapshot at `snapshot_index` or later: nothing to compact.
    Stale { index: u64, snapshot_index: u64 },
    /// There is no snapshot to replay ([`Node::drain_and_replay_snapshot`]).
    ///
    /// [`Node::drain_and_replay_snapshot`]: crate::Node::drain_and_replay_snapshot
    NoSnapshot,
    /// A snapshot checkpoint building on the snapshot at `previous` is open
    /// ([`Node::begin_snapshot`]); force to abort it.
    ///
    /// [`Node::begin_snapshot`]: crate::Node::begin_snapshot
    InProgress { previous: u64 },
    /// The snapshot checkpoint up to `index` was aborted (by a newer snapshot, a forced
    /// checkpoint, an abort or a restart) or already finished: nothing was compacted.
    Aborted { index: u64 },
    /// A persist of this node failed: it writes nothing until it restarts.
    WriteFailed { error: WriteError },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::NotApplied { index, applied } => write!(
                f,
                "snapshot at index {index} but the application applied only up to {applied}"
            ),
            SnapshotError::Stale {
                index,
                snapshot_index,
            } => write!(
                f,
                "snapshot at index {index} is not past the current snapshot at {snapshot_index}"
            ),
            SnapshotError::NoSnapshot => write!(f, "there is no snapshot to replay"),
            SnapshotError::InProgress { previous } => write!(
                f,
                "a snapshot checkpoint building on the snapshot at {previous} is in progress"
            ),
            SnapshotError::Aborted { index } => write!(
                f,
                "the snapshot checkpoint up to index {index} was aborted or already finished"
            ),
            SnapshotError::WriteFailed { error } => {
                write!(f, "this node's storage failed ({error}); restart it")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}
