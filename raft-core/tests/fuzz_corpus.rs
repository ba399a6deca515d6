//! The fuzzing corpus (`fuzz/corpus/`, kept in the repository and minimised) run through the
//! same per-input functions as the cargo-fuzz targets (`fuzz/fuzz_inputs.rs`), on stable Rust:
//! CI's smoke of the fuzz targets. Each input must decode or be refused with an error, never
//! panic, and whatever decodes must re-encode to itself. Long runs: `cargo +nightly fuzz run
//! TARGET` from `fuzz/` (see the README).

#[path = "../../fuzz/fuzz_inputs.rs"]
mod fuzz_inputs;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// Runs every input of one target's corpus through `check`, naming the input that panics. A
/// target without a corpus directory fails: the corpus is part of the repository.
fn replay_corpus(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "{}: empty corpus", dir.display());
    for path in paths {
        let data = std::fs::read(&path).expect("a corpus file");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            panic!(
                "{}: the {target} target panicked on this input",
                path.display()
            );
        }
    }
}

#[test]
fn message_corpus_decodes_or_is_refused_and_round_trips() {
    replay_corpus("message", fuzz_inputs::message);
}

#[test]
fn wal_corpus_recovers_and_restarts_a_node_or_is_refused() {
    replay_corpus("wal_recovery", fuzz_inputs::wal_recovery);
}

#[test]
fn damage_file_corpus_decodes_or_is_refused_and_round_trips() {
    replay_corpus("damage_file", fuzz_inputs::damage_file);
}

#[test]
fn term_vote_corpus_decodes_or_is_refused_and_round_trips() {
    replay_corpus("term_vote", fuzz_inputs::term_vote);
}

#[test]
fn peer_state_corpus_decodes_or_is_refused_and_round_trips() {
    replay_corpus("peer_state", fuzz_inputs::peer_state);
}

#[test]
fn snapshot_file_corpus_decodes_or_is_refused_and_round_trips() {
    replay_corpus("snapshot_file", fuzz_inputs::snapshot_file);
}
