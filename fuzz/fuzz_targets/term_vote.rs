//! The term/vote file (`tav.idx`) on arbitrary bytes; a decoded state re-encodes to itself.
//! The same bytes split in two are a pair of copies: recovery from them never panics and
//! never reports a record from a copy that does not decode to it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use raft_core::storage::{decode_hard_state, encode_hard_state, recover_term_vote, VoteRecord};

fuzz_target!(|data: &[u8]| {
    if let Ok(hs) = decode_hard_state(data) {
        assert_eq!(decode_hard_state(&encode_hard_state(&hs)).ok(), Some(hs));
    }
    let (a, b) = data.split_at(data.len() / 2);
    let r = recover_term_vote(&[a, b]);
    if r.record != VoteRecord::Lost && !(a.is_empty() && b.is_empty()) {
        let from_a = decode_hard_state(a).ok().filter(|_| !a.is_empty());
        let from_b = decode_hard_state(b).ok().filter(|_| !b.is_empty());
        assert!(from_a == Some(r.hard_state) || from_b == Some(r.hard_state));
    }
});
