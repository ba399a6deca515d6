//! What each cargo-fuzz target does with one input, shared by the targets
//! (`fuzz/fuzz_targets/`, nightly) and by the corpus replay on stable Rust
//! (`raft-core/tests/fuzz_corpus.rs`, CI's smoke of the targets), so the two cannot drift.
//! Every function must return for any bytes; it panics only when a decoded value does not
//! re-encode to itself (one meaning per encoding) or a decoder broke its own contract.
// Each fuzz target uses one of these functions; the others are unused in that binary.
#![allow(dead_code)]

use raft_core::codec::{self, decode_envelope, encode_envelope};
use raft_core::storage::{
    decode_damage_file, decode_hard_state, decode_peer_state_file, decode_snapshot_file,
    encode_damage_file, encode_hard_state, encode_peer_state_file, encode_snapshot_file,
    recover_term_vote, recover_wal, VoteRecord,
};
use raft_core::{Config, Node, NodeId, Recovered};

/// Every message decoder: the envelope (all message kinds) and, by the first byte, each NRG
/// body decoder on its own.
pub fn message(data: &[u8]) {
    if let Ok(message) = decode_envelope(data) {
        if let Ok(bytes) = encode_envelope(&message) {
            let again = decode_envelope(&bytes).expect("an encoded message decodes");
            assert_eq!(again, message, "decode(encode(m)) != m");
        }
    }
    if let Some((&which, body)) = data.split_first() {
        let _ = match which % 14 {
            0 => codec::decode_append_entries(body).map(drop),
            1 => codec::decode_append_response(body).map(drop),
            2 => codec::decode_vote_request(body).map(drop),
            3 => codec::decode_vote_response(body).map(drop),
            4 => codec::decode_forward_proposal(body).map(drop),
            5 => codec::decode_peer_state(body).map(drop),
            6 => codec::decode_timeout_now(body).map(drop),
            7 => codec::decode_read_ack(body).map(drop),
            8 => codec::decode_install_snapshot(body).map(drop),
            9 => codec::decode_forward_remove_peer(body).map(drop),
            10 => codec::decode_forward_response(body).map(drop),
            11 => codec::decode_repair_request(body).map(drop),
            12 => codec::decode_repair_response(body).map(drop),
            _ => codec::decode_snapshot_response(body).map(drop),
        };
    }
}

/// WAL records and recovery: `recover_wal` on an arbitrary image, then a node restarted from
/// what it recovered (a usable log must start a node or be refused with an error).
pub fn wal_recovery(data: &[u8]) {
    let recovery = recover_wal(data);
    assert!(
        recovery.valid_len <= data.len(),
        "valid_len beyond the image"
    );
    if recovery.is_usable() && recovery.log_start == (0, 0) {
        let id = NodeId(1);
        let recovered = Recovered {
            log: recovery.entries,
            ..Recovered::default()
        };
        let _ = Node::new(
            Config::new(id, vec![id, NodeId(2), NodeId(3)], 1),
            recovered,
        );
    }
}

/// The term/vote file (`tav.idx`); the same bytes split in two are a pair of copies:
/// recovery from them never reports a record from a copy that does not decode to it.
pub fn term_vote(data: &[u8]) {
    if let Ok(hs) = decode_hard_state(data) {
        assert_eq!(decode_hard_state(&encode_hard_state(&hs)).ok(), Some(hs));
    }
    let (a, b) = data.split_at(data.len() / 2);
    let recovered = recover_term_vote(&[a, b]);
    if recovered.record != VoteRecord::Lost && !(a.is_empty() && b.is_empty()) {
        let from = |copy: &[u8]| decode_hard_state(copy).ok().filter(|_| !copy.is_empty());
        assert!(from(a) == Some(recovered.hard_state) || from(b) == Some(recovered.hard_state));
    }
}

/// The damage file (`damage.idx`): what a node under repair answers for. A decoded record
/// re-encodes to bytes that decode to it again.
pub fn damage_file(data: &[u8]) {
    if let Ok(Some(damage)) = decode_damage_file(data) {
        let again = decode_damage_file(&encode_damage_file(&damage));
        assert_eq!(again.ok(), Some(Some(damage)), "decode(encode(d)) != d");
    }
}

/// The peer-state file (`peers.idx`).
pub fn peer_state(data: &[u8]) {
    if let Ok(Some(ps)) = decode_peer_state_file(data) {
        let again = decode_peer_state_file(&encode_peer_state_file(&ps));
        assert_eq!(again.ok(), Some(Some(ps)));
    }
}

/// The snapshot file.
pub fn snapshot_file(data: &[u8]) {
    if let Ok(snapshot) = decode_snapshot_file(data) {
        let bytes = encode_snapshot_file(&snapshot.meta, &snapshot.data);
        assert_eq!(decode_snapshot_file(&bytes).ok(), Some(snapshot));
    }
}
