//! The peer-state file (`peers.idx`) on arbitrary bytes; a decoded state re-encodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use raft_core::storage::{decode_peer_state_file, encode_peer_state_file};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(ps)) = decode_peer_state_file(data) {
        let again = decode_peer_state_file(&encode_peer_state_file(&ps));
        assert_eq!(again.ok(), Some(Some(ps)));
    }
});
