//! Every message decoder on arbitrary bytes: the envelope (all fourteen message kinds) and, by
//! the first byte, each NRG body decoder on its own. A decoded message must re-encode and
//! decode to itself (one meaning per encoding).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../fuzz_inputs.rs"]
mod fuzz_inputs;

fuzz_target!(|data: &[u8]| fuzz_inputs::message(data));
