//! Which build this is: the version and the git commit (recorded by `build.rs`), printed by
//! `--version` and written into every bundle and report, so a replay or a merge can tell
//! results of different code apart.

use sim::bundle::WrittenBy;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit, `unknown` outside a checkout, `-modified` with uncommitted changes.
pub const COMMIT: &str = env!("XTASK_COMMIT");

/// `cargo xtask --version`.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("XTASK_COMMIT"),
    ")"
);

pub fn written_by() -> WrittenBy {
    WrittenBy {
        program: "cargo xtask".into(),
        version: VERSION.into(),
        commit: COMMIT.into(),
    }
}

/// The build as a report records it.
pub fn json() -> serde_json::Value {
    serde_json::json!({"program": "cargo xtask", "version": VERSION, "commit": COMMIT})
}
