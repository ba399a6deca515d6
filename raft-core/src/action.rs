//! What a node asks its host to do. A closed set: each variant documents why it exists and
//! what the host owes the node in return.

use crate::message::Message;
use crate::types::{Entry, HardState, NodeId, PeerState};

/// Identifies one [`Action::Persist`]. Ids increase by one per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PersistId(pub u64);

/// Entries to make durable: everything after `prev_index` is replaced by `entries`.
///
/// When `prev_index` is below the durable log's end, the host must drop the durable entries
/// after it (a conflict truncation). `entries` may be empty only when nothing follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogWrite {
    pub prev_index: u64,
    pub prev_term: u64,
    pub entries: Vec<Entry>,
}

/// A node's role in its current term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

/// One instruction to the host. Execute actions in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make `hard_state` (if any), then `log` (if any), then `peers` (if any) durable, then
    /// call [`crate::Node::persisted`] with `id`. Requests must complete in order: reporting
    /// `id` says every earlier request is durable too. Until then the node withholds every
    /// message that would attest this state (vote grants, append acknowledgements) and does
    /// not count its own entries toward commit.
    ///
    /// `peers` is the membership in effect after `log` (it changed with a membership entry
    /// appended or truncated): replace the peer-state file (`peers.idx`,
    /// [`crate::storage::encode_peer_state_file`]) atomically, after the log write. Hand it
    /// back in [`crate::Recovered::membership`] after a restart.
    Persist {
        id: PersistId,
        hard_state: Option<HardState>,
        log: Option<LogWrite>,
        peers: Option<PeerState>,
    },
    /// Deliver `message` to `to`. Delivery may be lost, duplicated or reordered: the protocol
    /// tolerates all three.
    Send { to: NodeId, message: Message },
    /// These entries are committed: apply them to the state machine in order, then call
    /// [`crate::Node::applied`] with the last index. Includes non-`Normal` entries (the leader's
    /// no-op peer state) so indexes stay contiguous; applications skip what they do not use.
    Apply { entries: Vec<Entry> },
    /// The node's role or term changed.
    RoleChanged { role: Role, term: u64 },
    /// A read requested with [`crate::Node::read_index`] is confirmed: serve it (with
    /// `context`) once the state machine has applied `index`. Reads become ready in the order
    /// they were requested.
    ReadReady { context: u64, index: u64 },
    /// The leader the application should use changed. `Some(self)` only once this node's
    /// no-op entry for the term is committed (NRG's `Leader()` semantics): before that, the
    /// node may lead but cannot yet serve.
    LeaderChanged { term: u64, leader: Option<NodeId> },
}
