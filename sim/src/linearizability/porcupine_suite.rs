//! Where porcupine's test histories live and the verdicts porcupine's own test suite asserts
//! for them (`shared/testdata/porcupine/README.md`), shared by the validation test and the
//! benchmark so the table exists once.

use std::path::PathBuf;

/// The Jepsen etcd files (`jepsen/etcd_NNN.log`) expected to be linearizable; every other
/// file is expected not to be, except [`JEPSEN_EMPTY`].
pub const JEPSEN_LINEARIZABLE: [usize; 23] = [
    2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102,
];

/// `etcd_095.log` is empty; upstream has no test for it.
pub const JEPSEN_EMPTY: usize = 95;

/// Number of Jepsen files (`etcd_000` to `etcd_102`).
pub const JEPSEN_FILES: usize = 103;

/// The key-value files (`kv/<name>.txt`) and whether each is linearizable.
pub const KV_FILES: [(&str, bool); 6] = [
    ("c01-ok", true),
    ("c01-bad", false),
    ("c10-ok", true),
    ("c10-bad", false),
    ("c50-ok", true),
    ("c50-bad", false),
];

/// The data directory: `shared/` beside the workspace clone.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/porcupine")
}
