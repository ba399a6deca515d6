//! The snapshot file on arbitrary bytes; a decoded snapshot re-encodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../fuzz_inputs.rs"]
mod fuzz_inputs;

fuzz_target!(|data: &[u8]| fuzz_inputs::snapshot_file(data));
