//! Every bundle in `fixtures/regressions/` is a run in which the simulator once reported a
//! violation. Each must replay from its explicit fault script and workload and pass now.

use sim::bundle::Bundle;

#[test]
fn every_regression_bundle_replays_and_passes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no regression bundles in {}",
        dir.display()
    );
    for path in paths {
        let bundle = Bundle::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let replay = bundle.replay(false);
        assert!(
            replay.report.passed(),
            "{} fails again: {} (it once failed with: {})\nreplay: cargo xtask replay {}",
            path.display(),
            replay.report.violation.unwrap(),
            bundle.violation,
            path.display()
        );
    }
}
