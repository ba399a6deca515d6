//! Messages between nodes. Each maps onto one NRG wire layout (see [`crate::codec`]).

use crate::types::{Entry, NodeId};

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

/// A proposal forwarded by a follower to the leader (NRG `$NRG.P.<group>`: the raw entry data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardProposal {
    pub data: bytes::Bytes,
}

/// Every message a node sends or receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    AppendEntries(AppendEntries),
    AppendResponse(AppendResponse),
    VoteRequest(VoteRequest),
    VoteResponse(VoteResponse),
    ForwardProposal(ForwardProposal),
}

impl Message {
    /// The sender's term as carried by the message (0 for messages without one).
    pub fn term(&self) -> u64 {
        match self {
            Message::AppendEntries(m) => m.term,
            Message::AppendResponse(m) => m.term,
            Message::VoteRequest(m) => m.term,
            Message::VoteResponse(m) => m.term,
            Message::ForwardProposal(_) => 0,
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
        }
    }
}
