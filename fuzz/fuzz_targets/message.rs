//! Every message decoder on arbitrary bytes: the envelope (all fourteen message kinds) and, by
//! the first byte, each NRG body decoder on its own. A decoded message must re-encode and
//! decode to itself (one meaning per encoding).
#![no_main]
use libfuzzer_sys::fuzz_target;
use raft_core::codec::{self, decode_envelope, encode_envelope};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode_envelope(data) {
        if let Ok(bytes) = encode_envelope(&message) {
            let again = decode_envelope(&bytes).expect("an encoded message decodes");
            assert_eq!(again, message, "decode(encode(m)) != m");
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
});
