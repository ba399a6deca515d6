//! The damage file (`damage.idx`) on arbitrary bytes: decoding never panics, and a decoded
//! record re-encodes to the bytes it came from.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../fuzz_inputs.rs"]
mod fuzz_inputs;

fuzz_target!(|data: &[u8]| fuzz_inputs::damage_file(data));
