//! Messages between nodes. Each maps onto one NRG wire layout (see [`crate::codec`]).

use crate::types::{Entry, NodeId, SnapshotMeta};
use bytes::Bytes;

/// AppendEntries (NRG `appendEntry`); a heartbeat when `entries` is empty.
///
/// Invariant (checked by the node on receipt, guaranteed by the decoder): every entry has the
/// same term, and entry `i` has index `prev_index + 1 + i`. On the wire the entries' term is the
/// `term` field and the sender's current term travels in the `lterm` trailer when it differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendEntries {
    pub leader: NodeId,
    /// The sender's current term.
    pub term: u64,
    /// The sender's commit index.
    pub commit: u64,
    pub prev_term: u64,
    pub prev_index: u64,
    pub entries: Vec<Entry>,
    /// ReadIndex: the leader's latest read round while reads are waiting for confirmation, 0
    /// otherwise. A follower that accepts the sender as its leader answers a non-zero value
    /// with a [`ReadAck`]. On the wire it is an optional uvarint after the `lterm` trailer,
    /// written only when non-zero (NRG decoders ignore bytes after `lterm`).
    pub read_seq: u64,
}

/// Reply to [`AppendEntries`] (NRG `appendEntryResponse`, 25 bytes).
///
/// `term` is the responder's current term. On success `index` is the last index this request
/// verified (`prev_index + entries.len()`), which is what the leader may record as the match
/// index. On rejection `index` is a hint: the leader should retry from `index + 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendResponse {
    pub term: u64,
    pub index: u64,
    pub peer: NodeId,
    pub success: bool,
}

/// RequestVote (NRG `voteRequest`, 32 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteRequest {
    pub term: u64,
    pub last_term: u64,
    pub last_index: u64,
    pub candidate: NodeId,
}

/// Reply to [`VoteRequest`] (NRG `voteResponse`, 17 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteResponse {
    pub term: u64,
    pub peer: NodeId,
    pub granted: bool,
    /// The voter's log is empty (NRG flag bit 1).
    pub empty_log: bool,
}

/// Leader transfer (etcd `MsgTimeoutNow`; NRG `EntryLeaderTransfer`): the leader of `term`
/// tells a caught-up voter to campaign at once. The receiver skips PreVote and its election
/// requests carry the transfer exemption from leader stickiness
/// ([`Message::TransferVoteRequest`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutNow {
    pub term: u64,
    pub leader: NodeId,
}

/// ReadIndex: "in `term` I still follow you, and I saw your read round `seq`". Sent by a
/// follower for every AppendEntries of its current term's leader that carries a non-zero
/// [`AppendEntries::read_seq`]. It attests no durable state (a node that acknowledged term
/// `term` cannot have granted a vote or an append in a later term before, because those
/// would have been persisted first), so it leaves at once.
///
/// Why a message of its own rather than the [`AppendResponse`]: its 25-byte NRG layout has no
/// room for a round number, and reusing its `index` would make every acknowledgement
/// ambiguous between a match index (which the commit rule trusts) and a read round. The
/// AppendResponse still answers the same AppendEntries; the ReadAck travels next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadAck {
    pub term: u64,
    pub seq: u64,
    pub peer: NodeId,
}

/// One chunk of the leader's snapshot, for a follower that needs entries the leader has
/// compacted (NRG sends its snapshot as an `EntrySnapshot` append entry instead; a message of
/// its own lets a large snapshot travel in chunks with flow control).
///
/// `data` is the snapshot's bytes from `offset` (at most [`crate::Config::max_bytes_per_message`]);
/// `done` marks the last chunk. Every chunk carries `meta`, so the follower can tell chunks of
/// different snapshots apart. The leader has one chunk in flight per follower, and resends it
/// at every heartbeat until the follower answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallSnapshot {
    /// The sender's current term.
    pub term: u64,
    pub leader: NodeId,
    pub meta: SnapshotMeta,
    pub offset: u64,
    pub data: Bytes,
    pub done: bool,
}

/// Reply to [`InstallSnapshot`]. `term` is the responder's current term and `index` the
/// snapshot (`meta.index`) it answers about.
///
/// Not done: "send me the snapshot at `index` from `next_offset`" (0 after a restart, or for a
/// chunk it cannot place). Done: "I hold everything up to `index`, durably", sent only once the
/// snapshot is persisted (it attests state, like an append acknowledgement); also the answer to
/// a snapshot the follower does not need (one at or below its commit index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotResponse {
    pub term: u64,
    pub peer: NodeId,
    pub index: u64,
    pub next_offset: u64,
    pub done: bool,
}

/// A proposal forwarded by a follower to the leader (NRG `$NRG.P.<group>`: the raw entry data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardProposal {
    pub data: bytes::Bytes,
    /// Where the leader answers with a [`ForwardResponse`]; 0: nobody waits for an answer
    /// (NRG's reply inbox, which travels beside the body as the NATS reply subject).
    pub reply: u64,
}

/// A remove-peer proposal forwarded by a follower to the leader (NRG `$NRG.RP.<group>`: the
/// peer's id). The leader proposes it only when it could take it from its own API: it
/// leads, its no-op is committed, no other membership change is pending, `peer` is a member
/// and not the last voter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardRemovePeer {
    pub peer: NodeId,
    /// As [`ForwardProposal::reply`].
    pub reply: u64,
}

/// Why a leader did not take a forwarded proposal (the forwarder's view of a
/// [`crate::ProposeError`]; each has a one-byte code on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardRefusal {
    /// The receiver does not lead (any more).
    NotLeader = 1,
    /// The leader's no-op is not committed yet.
    NotReady = 2,
    /// A leader transfer is in progress.
    TransferInProgress = 3,
    /// Flow control: too many entries are not committed yet.
    Overloaded = 4,
    /// Another membership change is not committed yet.
    MembershipChangePending = 5,
    /// The peer to remove is not a member.
    NotAMember = 6,
    /// The peer to remove is the last voter.
    LastVoter = 7,
}

/// What became of a forwarded proposal at the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardOutcome {
    /// Appended at `index` in the leader's term (not yet committed: it commits, or is
    /// truncated by a later leader, like any entry).
    Accepted {
        index: u64,
    },
    Refused(ForwardRefusal),
}

/// The leader's answer to a forwarded proposal that asked for one (NRG answers the reply
/// inbox once it accepted the proposal, and stays silent otherwise; this answer also says
/// why not). `term` is the answering node's term. The answer attests nothing and changes no
/// protocol state at the forwarder: it is handed to its application
/// ([`crate::Action::ForwardAnswered`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardResponse {
    pub term: u64,
    pub reply: u64,
    pub outcome: ForwardOutcome,
}

/// Protocol-aware recovery, leader side: a leader elected while repairing damage to its log
/// asks every peer what it holds before it relies on its own log (`node/leader_repair.rs`).
///
/// `after_index`/`after_term` is the end of the leader's intact log. `fetch` false asks only
/// for the positions ([`RepairResponse::held`], [`RepairResponse::log`]); `fetch` true also
/// asks for the entries after `after_index`, sent only when the peer's entry at
/// `after_index` has `after_term` (so they extend the leader's log, by log matching).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairRequest {
    pub term: u64,
    pub leader: NodeId,
    pub after_index: u64,
    pub after_term: u64,
    pub fetch: bool,
}

/// What a peer's log offers a repairing leader (see [`RepairResponse`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepairOffer {
    /// Positions only (the request did not fetch, or the peer has nothing after
    /// `after_index`).
    Positions,
    /// The entries after `after_index`, all of one term (the leader asks again from its new
    /// end for the rest).
    Entries(Vec<Entry>),
    /// The peer's entry at `after_index` is not of `after_term` (or compacted): retry after
    /// `hint`, the highest index below where the two logs may still agree.
    Mismatch { hint: u64 },
}

/// Reply to [`RepairRequest`]: the peer's answer for the leader's nack quorum. Sent once the
/// peer's term is durable, so it never again acknowledges an entry of an earlier term.
///
/// `held` is the position (last term, last index) the peer answers votes with: its log's,
/// or, while it repairs damage of its own, the position of the log it held. A peer whose
/// `held` is below an entry "never had it, or no longer does because it was never
/// committed". `log` is the position of the peer's intact log: a donor's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairResponse {
    pub term: u64,
    pub peer: NodeId,
    pub held: (u64, u64),
    pub log: (u64, u64),
    pub after_index: u64,
    pub offer: RepairOffer,
}

/// Every message a node sends or receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    AppendEntries(AppendEntries),
    AppendResponse(AppendResponse),
    VoteRequest(VoteRequest),
    VoteResponse(VoteResponse),
    ForwardProposal(ForwardProposal),
    ForwardRemovePeer(ForwardRemovePeer),
    ForwardResponse(ForwardResponse),
    /// PreVote: "could I win an election at `term`?" (`term` is the sender's term + 1). Never
    /// changes the receiver's term or vote. Same body as [`VoteRequest`].
    PreVoteRequest(VoteRequest),
    /// Answer to a [`Message::PreVoteRequest`]; `term` echoes the request's term. Never changes
    /// the receiver's term and needs no persistence. Same body as [`VoteResponse`].
    PreVoteResponse(VoteResponse),
    TimeoutNow(TimeoutNow),
    /// A [`VoteRequest`] from a candidate that campaigns because of a [`TimeoutNow`]: exempt
    /// from leader stickiness, otherwise handled exactly like a vote request. A separate
    /// variant (and envelope tag) keeps the 32-byte NRG vote request layout unchanged.
    TransferVoteRequest(VoteRequest),
    ReadAck(ReadAck),
    /// Boxed: rare, and large enough to make every message (and action) bigger inline.
    InstallSnapshot(Box<InstallSnapshot>),
    SnapshotResponse(SnapshotResponse),
    RepairRequest(RepairRequest),
    /// Boxed: rare, and the largest body after the snapshot chunk.
    RepairResponse(Box<RepairResponse>),
}

impl Message {
    /// The sender's term as carried by the message (0 for messages without one).
    pub fn term(&self) -> u64 {
        match self {
            Message::AppendEntries(m) => m.term,
            Message::AppendResponse(m) => m.term,
            Message::VoteRequest(m) => m.term,
            Message::VoteResponse(m) => m.term,
            // A forwarding message carries no term the receiver may adopt.
            Message::ForwardProposal(_)
            | Message::ForwardRemovePeer(_)
            | Message::ForwardResponse(_) => 0,
            Message::PreVoteRequest(m) => m.term,
            Message::PreVoteResponse(m) => m.term,
            Message::TimeoutNow(m) => m.term,
            Message::TransferVoteRequest(m) => m.term,
            Message::ReadAck(m) => m.term,
            Message::InstallSnapshot(m) => m.term,
            Message::SnapshotResponse(m) => m.term,
            Message::RepairRequest(m) => m.term,
            Message::RepairResponse(m) => m.term,
        }
    }

    /// A short stable name, used in traces.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Message::AppendEntries(m) if m.entries.is_empty() => "Heartbeat",
            Message::AppendEntries(_) => "AppendEntries",
            Message::AppendResponse(_) => "AppendResponse",
            Message::VoteRequest(_) => "VoteRequest",
            Message::VoteResponse(_) => "VoteResponse",
            Message::ForwardProposal(_) => "ForwardProposal",
            Message::ForwardRemovePeer(_) => "ForwardRemovePeer",
            Message::ForwardResponse(_) => "ForwardResponse",
            Message::PreVoteRequest(_) => "PreVoteRequest",
            Message::PreVoteResponse(_) => "PreVoteResponse",
            Message::TimeoutNow(_) => "TimeoutNow",
            Message::TransferVoteRequest(_) => "TransferVoteRequest",
            Message::ReadAck(_) => "ReadAck",
            Message::InstallSnapshot(_) => "InstallSnapshot",
            Message::SnapshotResponse(_) => "SnapshotResponse",
            Message::RepairRequest(_) => "RepairRequest",
            Message::RepairResponse(_) => "RepairResponse",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_append_without_entries_is_named_a_heartbeat_in_traces() {
        let mut append = AppendEntries {
            leader: NodeId(1),
            term: 2,
            commit: 0,
            prev_term: 0,
            prev_index: 0,
            entries: Vec::new(),
            read_seq: 0,
        };
        assert_eq!(
            Message::AppendEntries(append.clone()).kind_name(),
            "Heartbeat"
        );
        append.entries.push(Entry::normal(2, 1, "x"));
        assert_eq!(Message::AppendEntries(append).kind_name(), "AppendEntries");
    }
}
