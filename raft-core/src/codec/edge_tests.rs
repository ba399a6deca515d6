//! Edges the golden tests in `tests.rs` do not reach: encoders that size their buffer once
//! (every message the simulator sends is encoded; an over-sized reservation is memory held
//! for nothing) and where a truncated entry is reported. The entry size limit is tested in
//! `nrg.rs`, next to the check.

use super::*;
use crate::message::{AppendEntries, ForwardProposal, InstallSnapshot, Message, VoteRequest};
use crate::types::{Entry, NodeId, PeerState, SnapshotMeta};
use bytes::Bytes;

/// The encoder reserved exactly the bytes it wrote: one allocation, no slack. (`Vec` grows
/// by doubling, so a reservation that was too small ends with spare capacity too.)
fn assert_allocated_once(what: &str, bytes: &[u8], capacity: usize) {
    assert!(
        bytes.len() >= 8,
        "{what}: too short to tell (Vec allocates at least 8)"
    );
    assert_eq!(
        capacity,
        bytes.len(),
        "{what}: capacity is not the encoded length"
    );
}

fn install_snapshot(data: &'static [u8]) -> InstallSnapshot {
    InstallSnapshot {
        term: 5,
        leader: NodeId(1),
        meta: SnapshotMeta {
            index: 9,
            term: 4,
            peers: PeerState {
                cluster_size: 3,
                peers: vec![NodeId(1), NodeId(2), NodeId(3)],
                domain_ext: 0,
                observers: vec![],
            },
        },
        offset: 0,
        data: Bytes::from_static(data),
        done: false,
    }
}

#[test]
fn an_install_snapshot_chunk_is_encoded_into_one_allocation_of_its_length() {
    for data in [&b""[..], b"x", b"a chunk of snapshot data"] {
        let m = install_snapshot(data);
        let bytes = encode_install_snapshot(&m);
        assert_allocated_once("install snapshot", &bytes, bytes.capacity());
        let envelope = encode_envelope(&Message::InstallSnapshot(Box::new(m))).unwrap();
        assert_allocated_once("install snapshot envelope", &envelope, envelope.capacity());
    }
}

#[test]
fn a_forwarded_proposal_with_a_reply_inbox_is_encoded_into_one_allocation_of_its_length() {
    for data in [&b""[..], b"p", b"a proposal forwarded to the leader"] {
        let m = Message::ForwardProposal(ForwardProposal {
            data: Bytes::from_static(data),
            reply: 77,
        });
        let envelope = encode_envelope(&m).unwrap();
        assert_eq!(envelope.len(), 1 + 8 + data.len());
        assert_allocated_once("forward proposal envelope", &envelope, envelope.capacity());
    }
}

/// A complete length prefix with nothing after it is an entry that runs past the end, not
/// a truncated prefix: the four bytes of the prefix are there.
#[test]
fn an_entry_whose_input_ends_right_after_its_length_prefix_extends_beyond_the_end() {
    let m = AppendEntries {
        leader: NodeId(1),
        term: 2,
        commit: 0,
        prev_term: 0,
        prev_index: 0,
        entries: vec![Entry::normal(2, 1, &b"ab"[..])],
        read_seq: 0,
    };
    let good = encode_append_entries(&m).unwrap();
    let prefix_end = APPEND_ENTRIES_HEADER_LEN + 4;
    assert_eq!(
        decode_append_entries(&good[..prefix_end]),
        Err(DecodeError::BadEntry {
            index_in_message: 0,
            offset: APPEND_ENTRIES_HEADER_LEN,
            reason: "entry extends beyond the end of the input",
        })
    );
    assert_eq!(
        decode_append_entries(&good[..prefix_end - 1]),
        Err(DecodeError::BadEntry {
            index_in_message: 0,
            offset: APPEND_ENTRIES_HEADER_LEN,
            reason: "length prefix truncated",
        })
    );
}

#[test]
fn a_peer_state_is_encoded_into_one_allocation_of_its_length() {
    let voters = PeerState {
        cluster_size: 3,
        peers: vec![NodeId(1), NodeId(2), NodeId(3)],
        domain_ext: 0,
        observers: vec![],
    };
    let bytes = encode_peer_state(&voters);
    assert_eq!(bytes.len(), 4 + 4 + 3 * 8 + 2);
    assert_allocated_once("peer state", &bytes, bytes.capacity());
}

/// The observer extension is reserved when it is written. With one voter and three
/// observers it needs more than the doubling `Vec` would grow by, so a reservation of the
/// wrong size shows in the capacity.
#[test]
fn a_peer_state_with_observers_reserves_exactly_the_observer_extension() {
    let with_observers = PeerState {
        cluster_size: 1,
        peers: vec![NodeId(1)],
        domain_ext: 0,
        observers: vec![NodeId(2), NodeId(3), NodeId(4)],
    };
    let bytes = encode_peer_state(&with_observers);
    assert_eq!(bytes.len(), (4 + 4 + 8 + 2) + (4 + 3 * 8));
    assert_allocated_once("peer state with observers", &bytes, bytes.capacity());
}

/// The shared decode gives the message the copying one gives, its payloads slices of the
/// envelope's buffer; an empty payload is an empty slice, and a bad envelope the same error.
#[test]
fn shared_decode_slices_the_envelope() {
    let entries = vec![
        Entry::normal(3, 8, "first"),
        Entry::normal(3, 9, ""),
        Entry::normal(3, 10, "third payload"),
    ];
    let ae = AppendEntries {
        term: 3,
        leader: NodeId(1),
        prev_index: 7,
        prev_term: 2,
        commit: 6,
        entries,
        read_seq: 4,
    };
    let buf = Bytes::from(encode_envelope(&Message::AppendEntries(ae.clone())).unwrap());
    let shared = decode_envelope_shared(&buf).unwrap();
    assert_eq!(shared, decode_envelope(&buf).unwrap());
    assert_eq!(shared, Message::AppendEntries(ae));
    let Message::AppendEntries(decoded) = shared else {
        unreachable!()
    };
    let range = buf.as_ptr_range();
    for entry in decoded.entries.iter().filter(|e| !e.data.is_empty()) {
        assert!(
            range.contains(&entry.data.as_ptr()),
            "entry {} was copied, not sliced",
            entry.index
        );
    }
    let truncated = buf.slice(..buf.len() - 3);
    assert_eq!(
        decode_envelope_shared(&truncated),
        decode_envelope(&truncated)
    );
    let vote = Bytes::from(
        encode_envelope(&Message::VoteRequest(VoteRequest {
            term: 2,
            last_term: 1,
            last_index: 5,
            candidate: NodeId(2),
        }))
        .unwrap(),
    );
    assert_eq!(decode_envelope_shared(&vote), decode_envelope(&vote));
}
