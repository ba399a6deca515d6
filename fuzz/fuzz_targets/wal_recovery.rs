//! WAL records and recovery: `recover_wal` on an arbitrary image, then a node restarted from
//! what it recovered (a usable log must start a node or be refused with an error, never a
//! panic).
#![no_main]
use libfuzzer_sys::fuzz_target;
use raft_core::storage::recover_wal;
use raft_core::{Config, Node, NodeId, Recovered};

fuzz_target!(|data: &[u8]| {
    let recovery = recover_wal(data);
    assert!(recovery.valid_len <= data.len());
    if recovery.is_usable() && recovery.log_start == (0, 0) {
        let id = NodeId(1);
        let recovered = Recovered {
            log: recovery.entries,
            ..Recovered::default()
        };
        let _ = Node::new(Config::new(id, vec![id, NodeId(2), NodeId(3)], 1), recovered);
    }
});
