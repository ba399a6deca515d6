//! The term/vote file (`tav.idx`) on arbitrary bytes; a decoded state re-encodes to itself.
//! The same bytes split in two are a pair of copies: recovery from them never panics and
//! never reports a record from a copy that does not decode to it.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../fuzz_inputs.rs"]
mod fuzz_inputs;

fuzz_target!(|data: &[u8]| fuzz_inputs::term_vote(data));
