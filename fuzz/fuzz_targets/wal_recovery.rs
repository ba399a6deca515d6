//! WAL records and recovery: `recover_wal` on an arbitrary image, then a node restarted from
//! what it recovered (a usable log must start a node or be refused with an error, never a
//! panic).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../fuzz_inputs.rs"]
mod fuzz_inputs;

fuzz_target!(|data: &[u8]| fuzz_inputs::wal_recovery(data));
