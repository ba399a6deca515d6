//! The fuzzing corpus (`fuzz/corpus/`, kept in the repository and minimised) run through the
//! same decoders as the cargo-fuzz targets (`fuzz/fuzz_targets/`), on stable Rust: CI's smoke
//! of the fuzz targets. Each input must decode or be refused with an error, never panic, and
//! whatever decodes must re-encode to itself. Long runs: `cargo +nightly fuzz run TARGET`
//! from `fuzz/` (see the README).

use raft_core::codec::{self, decode_envelope, encode_envelope};
use raft_core::storage::{
    decode_hard_state, decode_peer_state_file, decode_snapshot_file, encode_hard_state,
    encode_peer_state_file, encode_snapshot_file, recover_term_vote, recover_wal, VoteRecord,
};
use raft_core::{Config, Node, NodeId, Recovered};
use std::path::PathBuf;

/// Every input of one target's corpus. A target without a corpus directory fails: the corpus
/// is part of the repository.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let bytes = std::fs::read(&path).expect("a corpus file");
            (path.display().to_string(), bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{}: empty corpus", dir.display());
    inputs
}

#[test]
fn message_corpus_decodes_or_is_refused_and_round_trips() {
    for (name, data) in corpus("message") {
        if let Ok(message) = decode_envelope(&data) {
            if let Ok(bytes) = encode_envelope(&message) {
                assert_eq!(decode_envelope(&bytes).as_ref(), Ok(&message), "{name}");
            }
        }
        if let Some((&which, body)) = data.split_first() {
            let _ = match which % 12 {
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
                _ => codec::decode_snapshot_response(body).map(drop),
            };
        }
    }
}

#[test]
fn wal_corpus_recovers_and_restarts_a_node_or_is_refused() {
    for (name, data) in corpus("wal_recovery") {
        let recovery = recover_wal(&data);
        assert!(recovery.valid_len <= data.len(), "{name}");
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
}

#[test]
fn term_vote_corpus_decodes_or_is_refused_and_round_trips() {
    for (name, data) in corpus("term_vote") {
        if let Ok(hs) = decode_hard_state(&data) {
            assert_eq!(
                decode_hard_state(&encode_hard_state(&hs)).ok(),
                Some(hs),
                "{name}"
            );
        }
        let (a, b) = data.split_at(data.len() / 2);
        let r = recover_term_vote(&[a, b]);
        if r.record != VoteRecord::Lost && !(a.is_empty() && b.is_empty()) {
            let from = |c: &[u8]| decode_hard_state(c).ok().filter(|_| !c.is_empty());
            assert!(
                from(a) == Some(r.hard_state) || from(b) == Some(r.hard_state),
                "{name}"
            );
        }
    }
}

#[test]
fn peer_state_corpus_decodes_or_is_refused_and_round_trips() {
    for (name, data) in corpus("peer_state") {
        if let Ok(Some(ps)) = decode_peer_state_file(&data) {
            let again = decode_peer_state_file(&encode_peer_state_file(&ps));
            assert_eq!(again.ok(), Some(Some(ps)), "{name}");
        }
    }
}

#[test]
fn snapshot_file_corpus_decodes_or_is_refused_and_round_trips() {
    for (name, data) in corpus("snapshot_file") {
        if let Ok(snapshot) = decode_snapshot_file(&data) {
            let bytes = encode_snapshot_file(&snapshot.meta, &snapshot.data);
            assert_eq!(decode_snapshot_file(&bytes).ok(), Some(snapshot), "{name}");
        }
    }
}
