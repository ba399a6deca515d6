//! The snapshot file on arbitrary bytes; a decoded snapshot re-encodes to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use raft_core::storage::{decode_snapshot_file, encode_snapshot_file};

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = decode_snapshot_file(data) {
        let bytes = encode_snapshot_file(&snapshot.meta, &snapshot.data);
        assert_eq!(decode_snapshot_file(&bytes).ok(), Some(snapshot));
    }
});
