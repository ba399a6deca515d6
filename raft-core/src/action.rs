//! What a node asks its host to do. A closed set: each variant documents why it exists and
//! what the host owes the node in return.

use crate::message::{ForwardOutcome, Message};
use crate::types::{Entry, HardState, NodeId, PeerState, SnapshotMeta};
use bytes::Bytes;

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
        /// Boxed: rare, and large enough to make every action bigger inline.
        peers: Option<Box<PeerState>>,
    },
    /// Make the snapshot durable, then call [`crate::Node::persisted`] with `id` (persist ids
    /// are one sequence: complete this in order with the [`Action::Persist`]s).
    ///
    /// 1. Write the snapshot file atomically ([`crate::storage::encode_snapshot_file`]; write a
    ///    temporary file, fsync, rename it over `snap.<term>.<index>`, fsync the directory)
    ///    and delete older snapshot files.
    /// 2. Then the log: the durable log now starts after `snapshot.index`.
    ///    - `discard_log: false` (the node keeps its entries after the index): nothing must
    ///      change; the host may drop the WAL records up to the index (rewrite the WAL
    ///      atomically from `(snapshot.index, snapshot.term)` with the entries after it,
    ///      [`crate::storage::encode_wal_append`]).
    ///    - `discard_log: true` (a snapshot received from the leader replaced a log that
    ///      does not contain it): replace the WAL atomically with one holding no entries and
    ///      starting at `(snapshot.index, snapshot.term)`:
    ///      `encode_wal_append(snapshot.index, snapshot.term, &[], 0)`. Later log writes
    ///      continue from there.
    /// 3. The peer-state file may be rewritten with `snapshot.peers` (a later
    ///    [`Action::Persist`] carries the membership whenever it changes).
    ///
    /// On restart hand the newest snapshot file back in [`crate::Recovered::snapshot`] (with
    /// the WAL as it is: recovery drops the entries the snapshot covers, and a log that
    /// contradicts the snapshot) and restore the application from its data yourself.
    PersistSnapshot {
        id: PersistId,
        /// Boxed: rare, and large enough to make every action bigger inline.
        snapshot: Box<SnapshotMeta>,
        data: Bytes,
        discard_log: bool,
    },
    /// Replace the application's state with `data`, the state after applying everything up
    /// to `snapshot.index` (a snapshot received from the leader), then call
    /// [`crate::Node::applied`] with `snapshot.index`. The [`Action::Apply`]s that follow
    /// continue after it. The node does not campaign until it is reported applied.
    ApplySnapshot {
        snapshot: Box<SnapshotMeta>,
        data: Bytes,
    },
    /// Start the storage and the application over ([`crate::Node::reset`]; no persist is in
    /// flight), before any later action, in this order:
    ///
    /// 1. A host that keeps the position a damaged node answers for (a damage file) writes
    ///    `answers_for` to it durably (a host that keeps none must not reset a node that
    ///    held entries: it would forget what the node may have acknowledged).
    /// 2. Replace the WAL atomically with an empty one, delete every snapshot file (the
    ///    orphans too), and replace the peer-state file with `peers`. The term/vote file is
    ///    kept.
    /// 3. Replace the application's state with the empty state: the [`Action::Apply`]s that
    ///    follow start at index 1.
    ResetStorage {
        /// Boxed: rare, and large enough to make every action bigger inline.
        peers: Box<PeerState>,
        answers_for: Option<crate::node::LogDamage>,
    },
    /// Read the entries `from..=to` of the durable log (the WAL) and hand them back with
    /// [`crate::Node::log_read`], in index order; on a read error call
    /// [`crate::Node::log_read_failed`] instead. Asked only of a host whose node has a
    /// cache bound ([`crate::Config::log_cache_bytes`]), one read at a time, and only for
    /// entries that are durable and applied (their payloads left memory). A host that never
    /// sets the bound never sees it.
    ReadLog { from: u64, to: u64 },
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
    /// What became of a proposal forwarded with reply inbox `reply`
    /// ([`crate::Node::forward_with_reply`], [`crate::Node::forward_remove_peer`]): accepted
    /// at an index of the leader's log in `term`, or refused and why. Decided by the leader
    /// (or by this node when it leads). No answer may come at all (a message lost, a leader
    /// gone): a host that waits needs a timeout, as with any request.
    ForwardAnswered {
        reply: u64,
        term: u64,
        outcome: ForwardOutcome,
    },
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// Every action and message is moved several times between the node and the host, so
    /// their size is a cost per action: keep the rare large variants boxed.
    #[test]
    fn actions_and_messages_stay_small() {
        assert!(
            std::mem::size_of::<Message>() <= 72,
            "{}",
            std::mem::size_of::<Message>()
        );
        assert!(
            std::mem::size_of::<Action>() <= 88,
            "{}",
            std::mem::size_of::<Action>()
        );
    }
}
