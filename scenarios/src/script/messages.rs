//! Hand-built entries and messages, for preloaded logs and injected messages.

use raft_core::NodeId;
use sim::kv::{Command, KvOp};

/// The entry a preloaded log holds at `index` in `term` (see
/// [`Setup::state`](super::Setup::state)); a hand-built message carrying it carries the same
/// entry.
pub fn entry(index: u64, term: u64) -> raft_core::Entry {
    let data = Command {
        client: 2,
        seq: index,
        op: KvOp::Append {
            key: "k".into(),
            value: format!("{index}.{term};"),
        },
    };
    raft_core::Entry::normal(term, index, data.encode())
}

/// A hand-built AppendEntries from `leader` in `term` after `(prev_term, prev_index)`,
/// carrying entries of the given terms (see [`entry`]).
pub fn ae(
    leader: usize,
    term: u64,
    prev: (u64, u64),
    commit: u64,
    terms: &[u64],
) -> raft_core::Message {
    let entries = terms
        .iter()
        .enumerate()
        .map(|(i, &t)| entry(prev.1 + 1 + i as u64, t))
        .collect();
    raft_core::Message::AppendEntries(raft_core::AppendEntries {
        leader: NodeId(leader as u64),
        term,
        commit,
        prev_term: prev.0,
        prev_index: prev.1,
        entries,
        read_seq: 0,
    })
}

/// A hand-built VoteRequest.
pub fn vq(candidate: usize, term: u64, last_term: u64, last_index: u64) -> raft_core::Message {
    raft_core::Message::VoteRequest(raft_core::VoteRequest {
        term,
        last_term,
        last_index,
        candidate: NodeId(candidate as u64),
    })
}

/// A hand-built VoteResponse from `peer`.
pub fn vr(peer: usize, term: u64, granted: bool) -> raft_core::Message {
    raft_core::Message::VoteResponse(raft_core::VoteResponse {
        term,
        peer: NodeId(peer as u64),
        granted,
        empty_log: false,
    })
}

/// A hand-built AppendResponse.
pub fn ar(peer: usize, term: u64, index: u64, success: bool) -> raft_core::Message {
    raft_core::Message::AppendResponse(raft_core::AppendResponse {
        term,
        index,
        peer: NodeId(peer as u64),
        success,
    })
}
