//! The peer-state file (`peers.idx`) on arbitrary bytes; a decoded state re-encodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../fuzz_inputs.rs"]
mod fuzz_inputs;

fuzz_target!(|data: &[u8]| fuzz_inputs::peer_state(data));
