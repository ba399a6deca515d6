//! The bundle reader's fuzzing corpus (`fuzz/corpus/bundle/`) through what the cargo-fuzz
//! target `bundle` runs, on stable Rust: CI's smoke of that target. Every input is refused
//! with an error or accepted as a bundle whose configuration a run can take.

use sim::bundle::Bundle;
use std::path::PathBuf;

#[test]
fn bundle_corpus_is_refused_or_validated() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/bundle");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        let data = std::fs::read(&path).expect("a corpus file");
        if let Ok(bundle) = serde_json::from_slice::<Bundle>(&data) {
            if bundle.validate().is_ok() {
                let _ = bundle.size();
                assert!(bundle.config.validate().is_ok(), "{}", path.display());
            }
        }
        // The reader itself, from the file.
        let _ = Bundle::read(&path);
        count += 1;
    }
    assert!(count > 0, "{}: empty corpus", dir.display());
}
