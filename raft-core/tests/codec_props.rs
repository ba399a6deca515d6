//! Property tests for the NRG wire codecs: round trips, and no panics on arbitrary or truncated
//! input.

use bytes::Bytes;
use proptest::prelude::*;
use raft_core::codec::*;
use raft_core::{
    AppendEntries, AppendResponse, Entry, EntryKind, ForwardOutcome, ForwardProposal,
    ForwardRefusal, ForwardRemovePeer, ForwardResponse, InstallSnapshot, Message, NodeId,
    PeerState, ReadAck, RepairOffer, RepairRequest, RepairResponse, SnapshotMeta, SnapshotResponse,
    TimeoutNow, VoteRequest, VoteResponse,
};

fn node_id() -> impl Strategy<Value = NodeId> {
    prop_oneof![(0u64..8).prop_map(NodeId), any::<u64>().prop_map(NodeId)]
}

/// Terms and indexes: mostly small, sometimes near the top of the range.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0u64..1_000, 1 => any::<u64>(), 1 => (u64::MAX - 300)..=u64::MAX]
}

fn kind() -> impl Strategy<Value = EntryKind> {
    prop_oneof![
        Just(EntryKind::Normal),
        Just(EntryKind::OldSnapshot),
        Just(EntryKind::PeerState),
        Just(EntryKind::AddPeer),
        Just(EntryKind::RemovePeer),
        Just(EntryKind::LeaderTransfer),
        Just(EntryKind::Snapshot),
    ]
}

fn data(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// A valid AppendEntries: one entry term, consecutive indexes, message term >= entry term;
/// mostly without a read sequence (as NRG sends them), sometimes with one.
fn append_entries() -> impl Strategy<Value = AppendEntries> {
    (
        node_id(),
        number(),
        number(),
        number(),
        number(),
        proptest::collection::vec((kind(), data(300)), 0..6),
        any::<bool>(),
        prop_oneof![2 => Just(0u64), 1 => number()],
    )
        .prop_flat_map(
            |(leader, t1, t2, commit, prev_term, raw, same_term, read_seq)| {
                let (entry_term, term) = (t1.min(t2), t1.max(t2));
                let term = if same_term { entry_term } else { term };
                // Leave room for the indexes so they do not overflow.
                let max_prev = u64::MAX - raw.len() as u64;
                (0..=max_prev).prop_map(move |prev_index| {
                    let prev_index = if prev_index % 2 == 0 {
                        prev_index % 1000
                    } else {
                        prev_index
                    };
                    AppendEntries {
                        leader,
                        term,
                        commit,
                        prev_term,
                        prev_index,
                        entries: raw
                            .iter()
                            .enumerate()
                            .map(|(i, (kind, data))| Entry {
                                term: entry_term,
                                index: prev_index + 1 + i as u64,
                                kind: *kind,
                                data: data.clone(),
                            })
                            .collect(),
                        read_seq,
                    }
                })
            },
        )
}

fn append_response() -> impl Strategy<Value = AppendResponse> {
    (number(), number(), node_id(), any::<bool>()).prop_map(|(term, index, peer, success)| {
        AppendResponse {
            term,
            index,
            peer,
            success,
        }
    })
}

fn vote_request() -> impl Strategy<Value = VoteRequest> {
    (number(), number(), number(), node_id()).prop_map(
        |(term, last_term, last_index, candidate)| VoteRequest {
            term,
            last_term,
            last_index,
            candidate,
        },
    )
}

fn vote_response() -> impl Strategy<Value = VoteResponse> {
    (number(), node_id(), any::<bool>(), any::<bool>()).prop_map(
        |(term, peer, granted, empty_log)| VoteResponse {
            term,
            peer,
            granted,
            empty_log,
        },
    )
}

fn timeout_now() -> impl Strategy<Value = TimeoutNow> {
    (number(), node_id()).prop_map(|(term, leader)| TimeoutNow { term, leader })
}

fn read_ack() -> impl Strategy<Value = ReadAck> {
    (number(), number(), node_id()).prop_map(|(term, seq, peer)| ReadAck { term, seq, peer })
}

/// Mostly without a reply inbox (as NRG forwards), sometimes with one.
fn reply() -> impl Strategy<Value = u64> {
    prop_oneof![2 => Just(0u64), 1 => number()]
}

fn forward() -> impl Strategy<Value = ForwardProposal> {
    (data(300), reply()).prop_map(|(data, reply)| ForwardProposal { data, reply })
}

fn forward_remove_peer() -> impl Strategy<Value = ForwardRemovePeer> {
    (node_id(), reply()).prop_map(|(peer, reply)| ForwardRemovePeer { peer, reply })
}

fn forward_response() -> impl Strategy<Value = ForwardResponse> {
    use ForwardRefusal::*;
    let outcome = prop_oneof![
        number().prop_map(|index| ForwardOutcome::Accepted { index }),
        prop::sample::select(vec![
            NotLeader,
            NotReady,
            TransferInProgress,
            Overloaded,
            MembershipChangePending,
            NotAMember,
            LastVoter,
        ])
        .prop_map(ForwardOutcome::Refused),
    ];
    (number(), number(), outcome).prop_map(|(term, reply, outcome)| ForwardResponse {
        term,
        reply,
        outcome,
    })
}

fn peer_state() -> impl Strategy<Value = PeerState> {
    (
        any::<u32>(),
        proptest::collection::vec(node_id(), 0..9),
        any::<u16>(),
        prop_oneof![2 => Just(vec![]), 1 => proptest::collection::vec(node_id(), 1..4)],
    )
        .prop_map(|(cluster_size, peers, domain_ext, observers)| PeerState {
            cluster_size,
            peers,
            domain_ext,
            observers,
        })
}

fn install_snapshot() -> impl Strategy<Value = InstallSnapshot> {
    (
        number(),
        node_id(),
        number(),
        number(),
        peer_state(),
        number(),
        data(300),
        any::<bool>(),
    )
        .prop_map(
            |(term, leader, index, last_term, peers, offset, data, done)| InstallSnapshot {
                term,
                leader,
                meta: SnapshotMeta {
                    index,
                    term: last_term,
                    peers,
                },
                offset,
                data,
                done,
            },
        )
}

fn snapshot_response() -> impl Strategy<Value = SnapshotResponse> {
    (number(), node_id(), number(), number(), any::<bool>()).prop_map(
        |(term, peer, index, next_offset, done)| SnapshotResponse {
            term,
            peer,
            index,
            next_offset,
            done,
        },
    )
}

fn repair_request() -> impl Strategy<Value = RepairRequest> {
    (number(), node_id(), number(), number(), any::<bool>()).prop_map(
        |(term, leader, after_index, after_term, fetch)| RepairRequest {
            term,
            leader,
            after_index,
            after_term,
            fetch,
        },
    )
}

/// A valid RepairResponse: an entries offer carries the entries of a valid append after
/// `after_index` (one term, consecutive, at least one).
fn repair_response() -> impl Strategy<Value = RepairResponse> {
    let offer = prop_oneof![
        Just(None),
        number().prop_map(|hint| Some(RepairOffer::Mismatch { hint })),
        append_entries()
            .prop_filter("an entries offer holds entries", |m| !m.entries.is_empty())
            .prop_map(|m| Some(RepairOffer::Entries(m.entries))),
    ];
    (
        (number(), node_id(), number(), number()),
        (number(), number(), number()),
        offer,
    )
        .prop_map(|((term, peer, ht, hi), (lt, li, after), offer)| {
            let (after_index, offer) = match offer {
                Some(RepairOffer::Entries(entries)) => {
                    (entries[0].index - 1, RepairOffer::Entries(entries))
                }
                Some(offer) => (after, offer),
                None => (after, RepairOffer::Positions),
            };
            RepairResponse {
                term,
                peer,
                held: (ht, hi),
                log: (lt, li),
                after_index,
                offer,
            }
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        append_entries().prop_map(Message::AppendEntries),
        append_response().prop_map(Message::AppendResponse),
        vote_request().prop_map(Message::VoteRequest),
        vote_response().prop_map(Message::VoteResponse),
        forward().prop_map(Message::ForwardProposal),
        vote_request().prop_map(Message::PreVoteRequest),
        vote_response().prop_map(Message::PreVoteResponse),
        timeout_now().prop_map(Message::TimeoutNow),
        vote_request().prop_map(Message::TransferVoteRequest),
        read_ack().prop_map(Message::ReadAck),
        install_snapshot().prop_map(|m| Message::InstallSnapshot(Box::new(m))),
        snapshot_response().prop_map(Message::SnapshotResponse),
        forward_remove_peer().prop_map(Message::ForwardRemovePeer),
        forward_response().prop_map(Message::ForwardResponse),
        repair_request().prop_map(Message::RepairRequest),
        repair_response().prop_map(|m| Message::RepairResponse(Box::new(m))),
    ]
}

/// Runs every decoder on `bytes`; they may fail but must not panic.
fn decode_all(bytes: &[u8]) {
    let _ = decode_append_entries(bytes);
    let _ = decode_append_response(bytes);
    let _ = decode_vote_request(bytes);
    let _ = decode_vote_response(bytes);
    let _ = decode_forward_proposal(bytes);
    let _ = decode_forward_remove_peer(bytes);
    let _ = decode_forward_response(bytes);
    let _ = decode_timeout_now(bytes);
    let _ = decode_read_ack(bytes);
    let _ = decode_peer_state(bytes);
    let _ = decode_install_snapshot(bytes);
    let _ = decode_snapshot_response(bytes);
    let _ = decode_repair_request(bytes);
    let _ = decode_repair_response(bytes);
    let _ = decode_envelope(bytes);
}

/// Every prefix of `bytes` decodes to Ok or Err without panicking, and errors display.
fn decode_all_prefixes(bytes: &[u8]) {
    for cut in 0..=bytes.len() {
        decode_all(&bytes[..cut]);
        if let Err(e) = decode_envelope(&bytes[..cut]) {
            assert!(!e.to_string().is_empty());
        }
    }
}

proptest! {
    #[test]
    fn append_entries_round_trip(m in append_entries()) {
        let bytes = encode_append_entries(&m).unwrap();
        prop_assert_eq!(bytes.len(), append_entries_encoded_len(&m));
        prop_assert_eq!(decode_append_entries(&bytes).unwrap(), m.clone());
        // The header length is fixed and the count is pinned.
        prop_assert_eq!(u16::from_le_bytes([bytes[40], bytes[41]]) as usize, m.entries.len());
        // Without a trailer only messages whose term equals the wire term (and that carry no
        // read sequence) survive.
        if m.read_seq == 0 && m.entries.iter().all(|e| e.term == m.term) {
            prop_assert_eq!(bytes.last(), Some(&0u8));
            let dropped = &bytes[..bytes.len() - 1];
            prop_assert_eq!(decode_append_entries(dropped).unwrap(), m);
        }
    }

    #[test]
    fn append_entries_prefixes_fail_cleanly(m in append_entries()) {
        let bytes = encode_append_entries(&m).unwrap();
        for cut in 0..bytes.len() {
            let r = decode_append_entries(&bytes[..cut]);
            // A prefix decodes only if it lost nothing but trailers (at most 10 bytes each).
            if let Ok(d) = r {
                prop_assert!(cut >= bytes.len() - 20);
                prop_assert_eq!(&d.entries, &m.entries);
            }
        }
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn append_response_round_trip(m in append_response()) {
        let bytes = encode_append_response(&m);
        prop_assert_eq!(bytes.len(), APPEND_RESPONSE_LEN);
        prop_assert_eq!(decode_append_response(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn vote_request_round_trip(m in vote_request()) {
        let bytes = encode_vote_request(&m);
        prop_assert_eq!(bytes.len(), VOTE_REQUEST_LEN);
        prop_assert_eq!(decode_vote_request(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn vote_response_round_trip(m in vote_response()) {
        let bytes = encode_vote_response(&m);
        prop_assert_eq!(bytes.len(), VOTE_RESPONSE_LEN);
        prop_assert_eq!(decode_vote_response(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn timeout_now_round_trip(m in timeout_now()) {
        let bytes = encode_timeout_now(&m);
        prop_assert_eq!(bytes.len(), TIMEOUT_NOW_LEN);
        prop_assert_eq!(decode_timeout_now(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn read_ack_round_trip(m in read_ack()) {
        let bytes = encode_read_ack(&m);
        prop_assert_eq!(bytes.len(), READ_ACK_LEN);
        prop_assert_eq!(decode_read_ack(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn install_snapshot_round_trip(m in install_snapshot()) {
        let bytes = encode_install_snapshot(&m);
        let peers_len = encode_peer_state(&m.meta.peers).len();
        prop_assert_eq!(bytes.len(), INSTALL_SNAPSHOT_FIXED_LEN + peers_len + m.data.len());
        prop_assert_eq!(decode_install_snapshot(&bytes).unwrap(), m.clone());
        // Every strict prefix that cuts the header fails; cuts in the data decode to less data.
        for cut in 0..bytes.len() {
            match decode_install_snapshot(&bytes[..cut]) {
                Ok(d) => {
                    prop_assert!(cut >= INSTALL_SNAPSHOT_FIXED_LEN + peers_len);
                    prop_assert_eq!(&d.data[..], &m.data[..cut - INSTALL_SNAPSHOT_FIXED_LEN - peers_len]);
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn snapshot_response_round_trip(m in snapshot_response()) {
        let bytes = encode_snapshot_response(&m);
        prop_assert_eq!(bytes.len(), SNAPSHOT_RESPONSE_LEN);
        prop_assert_eq!(decode_snapshot_response(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn forward_proposal_round_trip(m in forward()) {
        // The NRG body carries no reply inbox (NRG's reply subject does).
        let bytes = encode_forward_proposal(&m);
        prop_assert_eq!(decode_forward_proposal(&bytes).unwrap(), ForwardProposal { reply: 0, ..m });
    }

    #[test]
    fn forward_remove_peer_round_trip(m in forward_remove_peer()) {
        let bytes = encode_forward_remove_peer(&m);
        prop_assert_eq!(bytes.len(), FORWARD_REMOVE_PEER_LEN);
        prop_assert_eq!(decode_forward_remove_peer(&bytes).unwrap(), ForwardRemovePeer { reply: 0, ..m });
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn forward_response_round_trip(m in forward_response()) {
        let bytes = encode_forward_response(&m);
        let accepted = matches!(m.outcome, ForwardOutcome::Accepted { .. });
        prop_assert_eq!(bytes.len(), if accepted { FORWARD_RESPONSE_ACCEPTED_LEN } else { 17 });
        prop_assert_eq!(decode_forward_response(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn repair_request_round_trip(m in repair_request()) {
        let bytes = encode_repair_request(&m);
        prop_assert_eq!(bytes.len(), REPAIR_REQUEST_LEN);
        prop_assert_eq!(decode_repair_request(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn repair_response_round_trip(m in repair_response()) {
        let bytes = encode_repair_response(&m).unwrap();
        prop_assert!(bytes.len() >= REPAIR_RESPONSE_FIXED_LEN);
        prop_assert_eq!(decode_repair_response(&bytes).unwrap(), m.clone());
        // Every strict prefix is refused: the fixed part, the hint and the append body
        // (whose entries are counted) are all checked.
        for cut in 0..bytes.len() {
            let lost_only_a_trailer = matches!(m.offer, RepairOffer::Entries(_))
                && cut >= bytes.len().saturating_sub(10);
            prop_assert!(decode_repair_response(&bytes[..cut]).is_err() || lost_only_a_trailer);
        }
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn peer_state_round_trip(ps in peer_state()) {
        let bytes = encode_peer_state(&ps);
        let nrg_len = 4 + 4 + 8 * ps.peers.len() + 2;
        let extension = if ps.observers.is_empty() { 0 } else { 4 + 8 * ps.observers.len() };
        prop_assert_eq!(bytes.len(), nrg_len + extension);
        prop_assert_eq!(decode_peer_state(&bytes).unwrap(), ps.clone());
        for cut in 0..bytes.len() {
            match decode_peer_state(&bytes[..cut]) {
                // Only dropping whole optional parts is accepted: the observer extension
                // (what NRG writes), or it and the domainExt.
                Ok(d) if cut == nrg_len => {
                    prop_assert_eq!(d, PeerState { observers: vec![], ..ps.clone() });
                }
                Ok(d) => {
                    prop_assert_eq!(cut, nrg_len - 2);
                    prop_assert_eq!(d, PeerState { domain_ext: 0, observers: vec![], ..ps.clone() });
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
        let mut long = bytes.clone();
        long.push(0);
        prop_assert!(decode_peer_state(&long).is_err());
    }

    #[test]
    fn envelope_round_trip(m in message()) {
        let bytes = encode_envelope(&m).unwrap();
        prop_assert_eq!(bytes[0], envelope_tag(&m));
        prop_assert_eq!(decode_envelope(&bytes).unwrap(), m);
        decode_all_prefixes(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        decode_all(&bytes);
    }

    #[test]
    fn arbitrary_envelopes_never_panic(
        tag in 0u8..17,
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut bytes = vec![tag];
        bytes.extend_from_slice(&body);
        decode_all(&bytes);
        decode_all(&body);
    }

    /// Bytes that look like an AppendEntries header with random counts and entry lengths.
    #[test]
    fn structured_garbage_never_panics(
        header in proptest::collection::vec(any::<u8>(), 40),
        count in any::<u16>(),
        tail in proptest::collection::vec(any::<u8>(), 0..80),
        pindex in prop_oneof![Just(u64::MAX), Just(u64::MAX - 1), any::<u64>()],
    ) {
        let mut bytes = header;
        bytes[32..40].copy_from_slice(&pindex.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&tail);
        decode_all(&bytes);
        // Huge peer counts are rejected without allocating.
        let mut ps = vec![1, 0, 0, 0];
        ps.extend_from_slice(&(u32::from(count) << 16 | 0xffff).to_le_bytes());
        ps.extend_from_slice(&tail);
        prop_assert!(decode_peer_state(&ps).is_err());
    }

    /// Valid encodings with one byte mutated decode to Ok or Err, never panic.
    #[test]
    fn mutated_encodings_never_panic(m in message(), pos in any::<prop::sample::Index>(), x in any::<u8>()) {
        let mut bytes = encode_envelope(&m).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] ^= x;
        decode_all(&bytes);
    }
}
