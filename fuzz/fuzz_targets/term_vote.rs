//! The term/vote file (`tav.idx`) on arbitrary bytes; a decoded state re-encodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use raft_core::storage::{decode_hard_state, encode_hard_state};

fuzz_target!(|data: &[u8]| {
    if let Ok(hs) = decode_hard_state(data) {
        assert_eq!(decode_hard_state(&encode_hard_state(&hs)).ok(), Some(hs));
    }
});
