//! Golden bytes pin every layout; the property tests in `tests/codec_props.rs` add round trips
//! and never-panic checks.

use super::*;
use crate::message::{
    AppendEntries, AppendResponse, ForwardOutcome, ForwardProposal, ForwardRefusal,
    ForwardRemovePeer, ForwardResponse, InstallSnapshot, Message, ReadAck, SnapshotResponse,
    TimeoutNow, VoteRequest, VoteResponse,
};
use crate::types::{Entry, EntryKind, NodeId, PeerState, SnapshotMeta};
use bytes::Bytes;

fn le8(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn ae(term: u64, prev_index: u64, entries: Vec<Entry>) -> AppendEntries {
    AppendEntries {
        leader: NodeId(0x0807060504030201),
        term,
        commit: 5,
        prev_term: 2,
        prev_index,
        entries,
        read_seq: 0,
    }
}

#[test]
fn append_entries_heartbeat_golden() {
    let m = ae(3, 7, vec![]);
    let bytes = encode_append_entries(&m).unwrap();
    let golden = cat(&[
        &[1, 2, 3, 4, 5, 6, 7, 8], // leader
        &le8(3),                   // term
        &le8(5),                   // commit
        &le8(2),                   // pterm
        &le8(7),                   // pindex
        &[0, 0],                   // count
        &[0x00],                   // lterm trailer = 0
    ]);
    assert_eq!(bytes, golden);
    assert_eq!(bytes.len(), 43);
    assert_eq!(append_entries_encoded_len(&m), 43);
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
}

#[test]
fn append_entries_with_entries_golden() {
    let m = ae(
        4,
        7,
        vec![
            Entry {
                term: 4,
                index: 8,
                kind: EntryKind::Normal,
                data: Bytes::from_static(b"hi"),
            },
            Entry {
                term: 4,
                index: 9,
                kind: EntryKind::AddPeer,
                data: Bytes::from_static(&[9; 8]),
            },
            Entry {
                term: 4,
                index: 10,
                kind: EntryKind::PeerState,
                data: Bytes::new(),
            },
        ],
    );
    let bytes = encode_append_entries(&m).unwrap();
    let golden = cat(&[
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &le8(4),
        &le8(5),
        &le8(2),
        &le8(7),
        &[3, 0],
        &[3, 0, 0, 0, 0, b'h', b'i'],
        &[9, 0, 0, 0, 3, 9, 9, 9, 9, 9, 9, 9, 9],
        &[1, 0, 0, 0, 2],
        &[0x00],
    ]);
    assert_eq!(bytes, golden);
    assert_eq!(append_entries_encoded_len(&m), golden.len());
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
}

#[test]
fn append_entries_lterm_trailer_golden() {
    // Catch-up re-send: entries of term 2 sent by a leader in term 300.
    let m = ae(300, 0, vec![Entry::normal(2, 1, &b"x"[..])]);
    let bytes = encode_append_entries(&m).unwrap();
    let golden = cat(&[
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &le8(2), // wire term = entries' term
        &le8(5),
        &le8(2),
        &le8(0),
        &[1, 0],
        &[2, 0, 0, 0, 0, b'x'],
        &[0xAC, 0x02], // uvarint 300
    ]);
    assert_eq!(bytes, golden);
    assert_eq!(append_entries_encoded_len(&m), golden.len());
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);

    // Maximum trailer: u64::MAX is 10 bytes.
    let m = ae(u64::MAX, 0, vec![Entry::normal(1, 1, &b""[..])]);
    let bytes = encode_append_entries(&m).unwrap();
    assert_eq!(
        &bytes[bytes.len() - 10..],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
    );
    assert_eq!(append_entries_encoded_len(&m), bytes.len());
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
}

#[test]
fn append_entries_missing_trailer_means_zero() {
    let m = ae(4, 1, vec![Entry::normal(4, 2, &b"ab"[..])]);
    let mut bytes = encode_append_entries(&m).unwrap();
    assert_eq!(bytes.pop(), Some(0));
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    // An lterm equal to the wire term decodes to the same message.
    bytes.push(4);
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    // A heartbeat with a trailer: lterm wins.
    let mut hb = encode_append_entries(&ae(4, 1, vec![])).unwrap();
    hb.pop();
    hb.push(9);
    assert_eq!(decode_append_entries(&hb).unwrap().term, 9);
}

#[test]
fn append_entries_read_seq_trailer_golden() {
    // A heartbeat of a ReadIndex round: lterm 0, then read_seq 300.
    let m = AppendEntries {
        read_seq: 300,
        ..ae(3, 7, vec![])
    };
    let bytes = encode_append_entries(&m).unwrap();
    let golden = cat(&[
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &le8(3),
        &le8(5),
        &le8(2),
        &le8(7),
        &[0, 0],
        &[0x00],       // lterm trailer = 0
        &[0xAC, 0x02], // read_seq = 300
    ]);
    assert_eq!(bytes, golden);
    assert_eq!(append_entries_encoded_len(&m), golden.len());
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    // Without the read sequence the bytes are exactly the NRG ones (what NRG decodes: it
    // ignores bytes after lterm).
    assert_eq!(
        encode_append_entries(&ae(3, 7, vec![])).unwrap(),
        &golden[..golden.len() - 2]
    );
    // With both trailers set.
    let m = AppendEntries {
        read_seq: 1,
        ..ae(300, 0, vec![Entry::normal(2, 1, &b"x"[..])])
    };
    let bytes = encode_append_entries(&m).unwrap();
    assert_eq!(&bytes[bytes.len() - 3..], &[0xAC, 0x02, 0x01]);
    assert_eq!(append_entries_encoded_len(&m), bytes.len());
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
}

#[test]
fn timeout_now_golden() {
    let m = TimeoutNow {
        term: 7,
        leader: NodeId(0x0201),
    };
    let bytes = encode_timeout_now(&m);
    let golden = cat(&[&le8(7), &[1, 2, 0, 0, 0, 0, 0, 0]]);
    assert_eq!(bytes, golden);
    assert_eq!(decode_timeout_now(&bytes).unwrap(), m);
    assert_eq!(
        decode_timeout_now(&golden[..15]),
        Err(DecodeError::BadLength {
            what: "timeout now",
            expected: 16,
            got: 15
        })
    );
}

#[test]
fn read_ack_golden() {
    let m = ReadAck {
        term: 7,
        seq: 0x0102,
        peer: NodeId(3),
    };
    let bytes = encode_read_ack(&m);
    let golden = cat(&[&le8(7), &le8(0x0102), &[3, 0, 0, 0, 0, 0, 0, 0]]);
    assert_eq!(bytes, golden);
    assert_eq!(decode_read_ack(&bytes).unwrap(), m);
    assert_eq!(
        decode_read_ack(&[golden.clone(), vec![0]].concat()),
        Err(DecodeError::BadLength {
            what: "read ack",
            expected: 24,
            got: 25
        })
    );
}

#[test]
fn append_entries_decode_errors() {
    let m = ae(4, 1, vec![Entry::normal(4, 2, &b"ab"[..])]);
    let good = encode_append_entries(&m).unwrap();

    assert_eq!(
        decode_append_entries(&good[..41]),
        Err(DecodeError::TooShort {
            what: "append entries header",
            offset: 0,
            need: 42,
            got: 41
        })
    );
    // Truncated length prefix.
    assert!(matches!(
        decode_append_entries(&good[..44]),
        Err(DecodeError::BadEntry {
            index_in_message: 0,
            offset: 42,
            ..
        })
    ));
    // Zero length.
    let mut b = good.clone();
    b[42..46].copy_from_slice(&0u32.to_le_bytes());
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadEntry { index_in_message: 0, offset: 42, reason }) if reason.contains("zero")
    ));
    // Entry beyond buffer.
    let mut b = good.clone();
    b[42..46].copy_from_slice(&100u32.to_le_bytes());
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadEntry { index_in_message: 0, offset: 42, reason }) if reason.contains("beyond")
    ));
    // Huge count with no entries: error, no huge allocation.
    let mut b = good[..42].to_vec();
    b[40..42].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadEntry {
            index_in_message: 0,
            ..
        })
    ));
    // Unknown entry type.
    let mut b = good.clone();
    b[46] = 7;
    assert_eq!(
        decode_append_entries(&b),
        Err(DecodeError::UnknownEntryType {
            index_in_message: 0,
            offset: 46,
            value: 7
        })
    );
    // Truncated trailer.
    let mut b = good.clone();
    *b.last_mut().unwrap() = 0x80;
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadTrailer { offset: 49, reason }) if reason.contains("truncated")
    ));
    // Non-minimal trailer.
    let mut b = good.clone();
    b.pop();
    b.extend_from_slice(&[0x80, 0x00]);
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadTrailer { offset: 49, reason }) if reason.contains("minimal")
    ));
    // Overflowing trailer (10th byte > 1) and overlong trailer (11 bytes).
    let mut b = good.clone();
    b.pop();
    b.extend_from_slice(&[0xff; 9]);
    b.push(0x02);
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadTrailer { reason, .. }) if reason.contains("overflows")
    ));
    let mut b = good.clone();
    b.pop();
    b.extend_from_slice(&[0x80; 10]);
    b.push(0x01);
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadTrailer { .. })
    ));
    // An explicit zero read sequence after the trailer (it is written by leaving it out).
    let mut b = good.clone();
    b.push(0x00);
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadTrailer { offset: 50, reason }) if reason.contains("leaving it out")
    ));
    // A truncated read sequence.
    let mut b = good.clone();
    b.push(0x80);
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadTrailer { offset: 50, reason }) if reason.contains("truncated")
    ));
    // Trailing garbage after the read sequence.
    let mut b = good.clone();
    b.extend_from_slice(&[0x05, 0x00]);
    assert_eq!(
        decode_append_entries(&b),
        Err(DecodeError::TrailingBytes {
            what: "append entries",
            offset: 51,
            count: 1
        })
    );
    // Index overflow.
    let mut b = good.clone();
    b[32..40].copy_from_slice(&le8(u64::MAX));
    assert!(matches!(
        decode_append_entries(&b),
        Err(DecodeError::BadEntry { reason, .. }) if reason.contains("overflow")
    ));
}

#[test]
fn append_entries_encode_errors() {
    let mixed = ae(
        5,
        0,
        vec![Entry::normal(4, 1, &b""[..]), Entry::normal(5, 2, &b""[..])],
    );
    assert_eq!(
        encode_append_entries(&mixed),
        Err(EncodeError::MixedTerms {
            index_in_message: 1,
            expected: 4,
            got: 5
        })
    );
    let gap = ae(
        5,
        0,
        vec![Entry::normal(5, 1, &b""[..]), Entry::normal(5, 3, &b""[..])],
    );
    assert_eq!(
        encode_append_entries(&gap),
        Err(EncodeError::NonConsecutiveIndex {
            index_in_message: 1,
            expected: Some(2),
            got: 3
        })
    );
    let wrong_start = ae(5, 3, vec![Entry::normal(5, 1, &b""[..])]);
    assert!(matches!(
        encode_append_entries(&wrong_start),
        Err(EncodeError::NonConsecutiveIndex { .. })
    ));
    let overflow = ae(5, u64::MAX, vec![Entry::normal(5, 0, &b""[..])]);
    assert_eq!(
        encode_append_entries(&overflow),
        Err(EncodeError::NonConsecutiveIndex {
            index_in_message: 0,
            expected: None,
            got: 0
        })
    );
    let future = ae(3, 0, vec![Entry::normal(4, 1, &b""[..])]);
    assert_eq!(
        encode_append_entries(&future),
        Err(EncodeError::EntryTermAboveMessageTerm {
            entry_term: 4,
            message_term: 3
        })
    );
    let many: Vec<Entry> = (1..=65_536)
        .map(|i| Entry::normal(1, i, Bytes::new()))
        .collect();
    assert_eq!(
        encode_append_entries(&ae(1, 0, many)),
        Err(EncodeError::TooManyEntries { count: 65_536 })
    );
    let max: Vec<Entry> = (1..=65_535)
        .map(|i| Entry::normal(1, i, Bytes::new()))
        .collect();
    let m = ae(1, 0, max);
    let bytes = encode_append_entries(&m).unwrap();
    assert_eq!(&bytes[40..42], &[0xff, 0xff]);
    assert_eq!(decode_append_entries(&bytes).unwrap(), m);
    // Errors do not leave partial output behind.
    let mut out = vec![7];
    assert!(encode_append_entries_into(&mixed, &mut out).is_err());
    assert_eq!(out, vec![7]);
}

#[test]
fn append_response_golden() {
    let m = AppendResponse {
        term: 9,
        index: 0x0102,
        peer: NodeId(0x11),
        success: true,
    };
    let bytes = encode_append_response(&m);
    let golden = cat(&[&le8(9), &le8(0x0102), &[0x11, 0, 0, 0, 0, 0, 0, 0], &[1]]);
    assert_eq!(bytes, golden);
    assert_eq!(decode_append_response(&bytes).unwrap(), m);
    let mut no = golden.clone();
    no[24] = 0;
    assert!(!decode_append_response(&no).unwrap().success);
    no[24] = 2;
    assert_eq!(
        decode_append_response(&no),
        Err(DecodeError::BadFlag {
            what: "append response success byte",
            offset: 24,
            value: 2
        })
    );
    assert_eq!(
        decode_append_response(&golden[..24]),
        Err(DecodeError::BadLength {
            what: "append response",
            expected: 25,
            got: 24
        })
    );
    let mut long = golden.clone();
    long.push(0);
    assert!(matches!(
        decode_append_response(&long),
        Err(DecodeError::BadLength { got: 26, .. })
    ));
}

#[test]
fn vote_request_golden() {
    let m = VoteRequest {
        term: 7,
        last_term: 6,
        last_index: 300,
        candidate: NodeId(0xAABB),
    };
    let bytes = encode_vote_request(&m);
    let golden = cat(&[&le8(7), &le8(6), &le8(300), &[0xBB, 0xAA, 0, 0, 0, 0, 0, 0]]);
    assert_eq!(bytes, golden);
    assert_eq!(decode_vote_request(&bytes).unwrap(), m);
    assert!(matches!(
        decode_vote_request(&golden[..31]),
        Err(DecodeError::BadLength {
            expected: 32,
            got: 31,
            ..
        })
    ));
    assert!(matches!(
        decode_vote_request(&[golden.clone(), vec![0]].concat()),
        Err(DecodeError::BadLength { got: 33, .. })
    ));
}

#[test]
fn vote_response_golden() {
    let m = VoteResponse {
        term: 7,
        peer: NodeId(3),
        granted: true,
        empty_log: false,
    };
    let bytes = encode_vote_response(&m);
    assert_eq!(bytes, cat(&[&le8(7), &[3, 0, 0, 0, 0, 0, 0, 0], &[0b01]]));
    assert_eq!(decode_vote_response(&bytes).unwrap(), m);
    let m2 = VoteResponse {
        granted: false,
        empty_log: true,
        ..m.clone()
    };
    assert_eq!(encode_vote_response(&m2)[16], 0b10);
    let m3 = VoteResponse {
        granted: true,
        empty_log: true,
        ..m
    };
    assert_eq!(encode_vote_response(&m3)[16], 0b11);
    assert_eq!(
        decode_vote_response(&encode_vote_response(&m3)).unwrap(),
        m3
    );
    let mut bad = bytes.clone();
    bad[16] = 0b100;
    assert_eq!(
        decode_vote_response(&bad),
        Err(DecodeError::BadFlag {
            what: "vote response flags",
            offset: 16,
            value: 4
        })
    );
    assert!(matches!(
        decode_vote_response(&bytes[..16]),
        Err(DecodeError::BadLength { expected: 17, .. })
    ));
}

#[test]
fn forward_proposal_golden() {
    let m = ForwardProposal {
        data: Bytes::from_static(b"abc"),
        reply: 0,
    };
    assert_eq!(encode_forward_proposal(&m), b"abc".to_vec());
    assert_eq!(decode_forward_proposal(b"abc").unwrap(), m);
    assert_eq!(
        decode_forward_proposal(b"").unwrap(),
        ForwardProposal {
            data: Bytes::new(),
            reply: 0
        }
    );
}

#[test]
fn forward_remove_peer_golden() {
    // NRG `$NRG.RP`: the peer's id, nothing else.
    let m = ForwardRemovePeer {
        peer: NodeId(0x0102),
        reply: 0,
    };
    assert_eq!(encode_forward_remove_peer(&m), vec![2, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        decode_forward_remove_peer(&[2, 1, 0, 0, 0, 0, 0, 0]).unwrap(),
        m
    );
    assert_eq!(
        decode_forward_remove_peer(&[2, 1, 0]),
        Err(DecodeError::BadLength {
            what: "forward remove peer",
            expected: 8,
            got: 3
        })
    );
}

#[test]
fn forward_response_golden() {
    let accepted = ForwardResponse {
        term: 2,
        reply: 7,
        outcome: ForwardOutcome::Accepted { index: 9 },
    };
    let mut expected = vec![2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0];
    expected.extend_from_slice(&9u64.to_le_bytes());
    assert_eq!(encode_forward_response(&accepted), expected);
    assert_eq!(decode_forward_response(&expected).unwrap(), accepted);

    let refused = ForwardResponse {
        outcome: ForwardOutcome::Refused(ForwardRefusal::NotAMember),
        ..accepted
    };
    let bytes = encode_forward_response(&refused);
    assert_eq!(bytes.len(), 17);
    assert_eq!(bytes[16], 6);
    assert_eq!(decode_forward_response(&bytes).unwrap(), refused);

    // A refusal carries no index; an unknown outcome is named.
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        decode_forward_response(&long),
        Err(DecodeError::TrailingBytes { .. })
    ));
    let mut unknown = bytes;
    unknown[16] = 8;
    assert_eq!(
        decode_forward_response(&unknown),
        Err(DecodeError::BadFlag {
            what: "forward response outcome",
            offset: 16,
            value: 8
        })
    );
}

#[test]
fn peer_state_golden() {
    let ps = PeerState {
        cluster_size: 3,
        peers: vec![NodeId(1), NodeId(0x0200)],
        domain_ext: 2,
        observers: vec![],
    };
    let bytes = encode_peer_state(&ps);
    let golden = cat(&[
        &[3, 0, 0, 0],
        &[2, 0, 0, 0],
        &[1, 0, 0, 0, 0, 0, 0, 0],
        &[0, 2, 0, 0, 0, 0, 0, 0],
        &[2, 0],
    ]);
    assert_eq!(bytes, golden);
    assert_eq!(decode_peer_state(&bytes).unwrap(), ps);
    // domainExt is optional.
    assert_eq!(
        decode_peer_state(&golden[..golden.len() - 2]).unwrap(),
        PeerState {
            domain_ext: 0,
            ..ps.clone()
        }
    );
    // Partial domainExt, missing ids, trailing bytes.
    assert!(matches!(
        decode_peer_state(&golden[..golden.len() - 1]),
        Err(DecodeError::TooShort {
            what: "peer state domain extension",
            offset: 24,
            ..
        })
    ));
    assert!(matches!(
        decode_peer_state(&golden[..20]),
        Err(DecodeError::TooShort {
            what: "peer state peer ids",
            offset: 8,
            need: 16,
            got: 12
        })
    ));
    // A byte after domainExt starts the observer extension, which is then incomplete.
    assert!(matches!(
        decode_peer_state(&[golden.clone(), vec![0]].concat()),
        Err(DecodeError::TooShort {
            what: "peer state observer count",
            offset: 26,
            ..
        })
    ));
    assert!(matches!(
        decode_peer_state(&golden[..7]),
        Err(DecodeError::TooShort { .. })
    ));
    // A huge count is rejected before any allocation.
    let huge = cat(&[&[3, 0, 0, 0], &u32::MAX.to_le_bytes()]);
    assert!(matches!(
        decode_peer_state(&huge),
        Err(DecodeError::TooShort {
            what: "peer state peer ids",
            ..
        })
    ));
    // Empty peer list.
    let empty = PeerState::default();
    assert_eq!(encode_peer_state(&empty), vec![0; 10]);
    assert_eq!(decode_peer_state(&[0; 10]).unwrap(), empty);
}

#[test]
fn peer_state_observer_extension_golden() {
    let ps = PeerState {
        cluster_size: 1,
        peers: vec![NodeId(1)],
        domain_ext: 0,
        observers: vec![NodeId(4), NodeId(5)],
    };
    let bytes = encode_peer_state(&ps);
    let nrg = cat(&[&[1, 0, 0, 0], &[1, 0, 0, 0], &le8(1), &[0, 0]]);
    let golden = cat(&[&nrg, &[2, 0, 0, 0], &le8(4), &le8(5)]);
    assert_eq!(bytes, golden);
    assert_eq!(decode_peer_state(&bytes).unwrap(), ps);
    // The NRG part alone is the same membership without observers: what an NRG encoder
    // writes, and what an NRG decoder reads out of the extended bytes.
    assert_eq!(
        decode_peer_state(&nrg).unwrap(),
        PeerState {
            observers: vec![],
            ..ps.clone()
        }
    );
    assert!(matches!(
        decode_peer_state(&golden[..golden.len() - 1]),
        Err(DecodeError::TooShort {
            what: "peer state observer ids",
            offset: 22,
            need: 16,
            got: 15
        })
    ));
    assert!(matches!(
        decode_peer_state(&[golden.clone(), vec![9]].concat()),
        Err(DecodeError::TrailingBytes {
            what: "peer state",
            offset: 38,
            count: 1
        })
    ));
    // A huge observer count is rejected before any allocation.
    let huge = cat(&[&nrg, &u32::MAX.to_le_bytes()]);
    assert!(matches!(
        decode_peer_state(&huge),
        Err(DecodeError::TooShort {
            what: "peer state observer ids",
            ..
        })
    ));
}

#[test]
fn envelope_golden() {
    let vr = VoteRequest {
        term: 1,
        last_term: 0,
        last_index: 0,
        candidate: NodeId(2),
    };
    let bytes = encode_envelope(&Message::VoteRequest(vr.clone())).unwrap();
    assert_eq!(bytes[0], 3);
    assert_eq!(&bytes[1..], &encode_vote_request(&vr)[..]);
    assert_eq!(
        decode_envelope(&bytes).unwrap(),
        Message::VoteRequest(vr.clone())
    );

    let hb = ae(2, 0, vec![]);
    let bytes = encode_envelope(&Message::AppendEntries(hb.clone())).unwrap();
    assert_eq!(bytes[0], 1);
    assert_eq!(decode_envelope(&bytes).unwrap(), Message::AppendEntries(hb));

    let ar = AppendResponse {
        term: 1,
        index: 2,
        peer: NodeId(3),
        success: false,
    };
    let bytes = encode_envelope(&Message::AppendResponse(ar.clone())).unwrap();
    assert_eq!(bytes[0], 2);
    assert_eq!(
        decode_envelope(&bytes).unwrap(),
        Message::AppendResponse(ar)
    );

    let vresp = VoteResponse {
        term: 1,
        peer: NodeId(3),
        granted: true,
        empty_log: true,
    };
    let bytes = encode_envelope(&Message::VoteResponse(vresp.clone())).unwrap();
    assert_eq!(bytes[0], 4);
    assert_eq!(
        decode_envelope(&bytes).unwrap(),
        Message::VoteResponse(vresp.clone())
    );

    assert_eq!(
        decode_envelope(&[5, b'z']).unwrap(),
        Message::ForwardProposal(ForwardProposal {
            data: Bytes::from_static(b"z"),
            reply: 0
        })
    );
    assert_eq!(
        decode_envelope(&[5]).unwrap(),
        Message::ForwardProposal(ForwardProposal {
            data: Bytes::new(),
            reply: 0
        })
    );
    // With a reply inbox: tag 13, the inbox before NRG's body; inbox 0 belongs to tag 5.
    let with_reply = Message::ForwardProposal(ForwardProposal {
        data: Bytes::from_static(b"z"),
        reply: 3,
    });
    let bytes = encode_envelope(&with_reply).unwrap();
    assert_eq!(bytes, vec![13, 3, 0, 0, 0, 0, 0, 0, 0, b'z']);
    assert_eq!(decode_envelope(&bytes).unwrap(), with_reply);
    assert!(matches!(
        decode_envelope(&[13, 0, 0, 0, 0, 0, 0, 0, 0, b'z']),
        Err(DecodeError::BadValue { .. })
    ));
    let removal = Message::ForwardRemovePeer(ForwardRemovePeer {
        peer: NodeId(4),
        reply: 3,
    });
    let bytes = encode_envelope(&removal).unwrap();
    assert_eq!(bytes[0], 14);
    assert_eq!(&bytes[1..9], &3u64.to_le_bytes());
    assert_eq!(&bytes[9..], &[4, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(decode_envelope(&bytes).unwrap(), removal);
    assert_eq!(decode_envelope(&[]), Err(DecodeError::EmptyEnvelope));
    assert_eq!(
        decode_envelope(&[0]),
        Err(DecodeError::UnknownTag { tag: 0 })
    );
    assert_eq!(
        decode_envelope(&[18, 1, 2]),
        Err(DecodeError::UnknownTag { tag: 18 })
    );

    // PreVote and transfer votes: the NRG vote bodies behind their own tags.
    let body = encode_vote_request(&vr);
    for (tag, m) in [
        (6, Message::PreVoteRequest(vr.clone())),
        (9, Message::TransferVoteRequest(vr.clone())),
    ] {
        let bytes = encode_envelope(&m).unwrap();
        assert_eq!(bytes[0], tag);
        assert_eq!(&bytes[1..], &body[..]);
        assert_eq!(decode_envelope(&bytes).unwrap(), m);
    }
    let pre_vote_response = Message::PreVoteResponse(vresp.clone());
    let bytes = encode_envelope(&pre_vote_response).unwrap();
    assert_eq!(bytes[0], 7);
    assert_eq!(&bytes[1..], &encode_vote_response(&vresp)[..]);
    assert_eq!(decode_envelope(&bytes).unwrap(), pre_vote_response);
    assert!(matches!(
        decode_envelope(&[6, 1, 2]),
        Err(DecodeError::BadLength {
            what: "vote request",
            ..
        })
    ));

    let tn = TimeoutNow {
        term: 4,
        leader: NodeId(1),
    };
    let bytes = encode_envelope(&Message::TimeoutNow(tn.clone())).unwrap();
    assert_eq!(bytes[0], 8);
    assert_eq!(&bytes[1..], &encode_timeout_now(&tn)[..]);
    assert_eq!(decode_envelope(&bytes).unwrap(), Message::TimeoutNow(tn));

    let ra = ReadAck {
        term: 4,
        seq: 2,
        peer: NodeId(3),
    };
    let bytes = encode_envelope(&Message::ReadAck(ra.clone())).unwrap();
    assert_eq!(bytes[0], 10);
    assert_eq!(&bytes[1..], &encode_read_ack(&ra)[..]);
    assert_eq!(decode_envelope(&bytes).unwrap(), Message::ReadAck(ra));
}

#[test]
fn install_snapshot_golden() {
    let m = InstallSnapshot {
        term: 5,
        leader: NodeId(1),
        meta: SnapshotMeta {
            index: 9,
            term: 4,
            peers: PeerState {
                cluster_size: 1,
                peers: vec![NodeId(1)],
                domain_ext: 0,
                observers: vec![],
            },
        },
        offset: 3,
        data: Bytes::from_static(b"xy"),
        done: true,
    };
    let bytes = encode_install_snapshot(&m);
    let golden = cat(&[
        &le8(5),                   // term
        &le8(1),                   // leader
        &le8(4),                   // lastTerm
        &le8(9),                   // lastIndex
        &[18, 0, 0, 0],            // peerstateLen
        &[1, 0, 0, 0, 1, 0, 0, 0], // peer state: csz 1, one peer
        &le8(1),                   // n1
        &[0, 0],                   // domainExt
        &le8(3),                   // offset
        &[1],                      // done
        b"xy",                     // data
    ]);
    assert_eq!(bytes, golden);
    assert_eq!(bytes.len(), INSTALL_SNAPSHOT_FIXED_LEN + 18 + 2);
    assert_eq!(decode_install_snapshot(&bytes).unwrap(), m);
    let envelope = encode_envelope(&Message::InstallSnapshot(Box::new(m.clone()))).unwrap();
    assert_eq!(envelope[0], 11);
    assert_eq!(&envelope[1..], &golden[..]);
    assert_eq!(
        decode_envelope(&envelope).unwrap(),
        Message::InstallSnapshot(Box::new(m))
    );

    // A bad done flag, a peer-state length past the end, a short header.
    let mut bad = golden.clone();
    bad[62] = 2;
    assert_eq!(
        decode_install_snapshot(&bad),
        Err(DecodeError::BadFlag {
            what: "install snapshot done",
            offset: 62,
            value: 2
        })
    );
    let mut bad = golden.clone();
    bad[32] = 200;
    assert!(matches!(
        decode_install_snapshot(&bad),
        Err(DecodeError::TooShort {
            what: "install snapshot peer state",
            offset: 36,
            need: 200,
            ..
        })
    ));
    assert!(matches!(
        decode_install_snapshot(&golden[..30]),
        Err(DecodeError::TooShort {
            what: "install snapshot",
            ..
        })
    ));
}

#[test]
fn snapshot_response_golden() {
    let m = SnapshotResponse {
        term: 5,
        peer: NodeId(2),
        index: 9,
        next_offset: 1024,
        done: false,
    };
    let bytes = encode_snapshot_response(&m);
    let golden = cat(&[&le8(5), &le8(2), &le8(9), &le8(1024), &[0]]);
    assert_eq!(bytes, golden);
    assert_eq!(bytes.len(), SNAPSHOT_RESPONSE_LEN);
    assert_eq!(decode_snapshot_response(&bytes).unwrap(), m);
    let envelope = encode_envelope(&Message::SnapshotResponse(m.clone())).unwrap();
    assert_eq!(envelope[0], 12);
    assert_eq!(
        decode_envelope(&envelope).unwrap(),
        Message::SnapshotResponse(m)
    );
    let mut bad = golden.clone();
    bad[32] = 7;
    assert!(matches!(
        decode_snapshot_response(&bad),
        Err(DecodeError::BadFlag {
            offset: 32,
            value: 7,
            ..
        })
    ));
    assert!(matches!(
        decode_snapshot_response(&golden[..32]),
        Err(DecodeError::BadLength {
            expected: 33,
            got: 32,
            ..
        })
    ));
}

#[test]
fn errors_display_what_and_where() {
    let e = DecodeError::BadEntry {
        index_in_message: 2,
        offset: 57,
        reason: "length is zero",
    };
    assert_eq!(
        e.to_string(),
        "append entries: entry #2 at byte 57: length is zero"
    );
    let e = DecodeError::TooShort {
        what: "vote request",
        offset: 0,
        need: 32,
        got: 3,
    };
    assert!(e.to_string().contains("vote request"));
    let e: Box<dyn std::error::Error> = Box::new(EncodeError::TooManyEntries { count: 70_000 });
    assert!(e.to_string().contains("70000"));
}

/// The messages sent most are encoded into a buffer sized exactly once (one allocation, no
/// growth): its capacity is its length.
#[test]
fn envelopes_of_the_common_messages_allocate_their_exact_length() {
    let mut with_trailer = ae(
        9,
        3,
        vec![Entry::normal(7, 4, "abc"), Entry::normal(7, 5, "")],
    );
    with_trailer.read_seq = 300;
    let messages = [
        Message::AppendEntries(ae(2, 0, vec![])),
        Message::AppendEntries(with_trailer),
        Message::AppendResponse(AppendResponse {
            term: 1,
            index: 2,
            peer: NodeId(3),
            success: true,
        }),
        Message::PreVoteRequest(VoteRequest {
            term: 1,
            last_term: 0,
            last_index: 0,
            candidate: NodeId(2),
        }),
        Message::VoteResponse(VoteResponse {
            term: 1,
            peer: NodeId(3),
            granted: true,
            empty_log: false,
        }),
    ];
    for m in messages {
        let bytes = encode_envelope(&m).unwrap();
        assert_eq!(bytes.capacity(), bytes.len(), "{m:?}");
        assert_eq!(decode_envelope(&bytes).unwrap(), m);
    }
}
