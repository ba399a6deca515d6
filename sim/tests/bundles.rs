//! A deliberately broken core (a planted bug, switched on only here) produces a bundle that
//! replays to the same violation and trace hash, survives a round trip through its JSON file,
//! and shrinks to a handful of events.
#![cfg(feature = "planted-bugs")]

use sim::bundle::{self, Bundle};
use sim::{RunOptions, SimConfig};

fn first_failure(bug: &str) -> (u64, sim::RunReport) {
    for seed in 0..50 {
        let options = RunOptions {
            planted_bug: Some(bug.into()),
            ..RunOptions::default()
        };
        let report = sim::run(SimConfig::draw(seed), &options);
        if report.violation.is_some() {
            return (seed, report);
        }
    }
    panic!("planted bug {bug} not found in 50 seeds");
}

#[test]
fn a_planted_bug_gives_a_bundle_that_replays_and_shrinks() {
    let (seed, report) = first_failure("ack-before-fsync");
    let bundle = Bundle::from_report(&report, format!("cargo xtask sim --seed {seed}")).unwrap();
    assert_eq!(bundle.planted_bug.as_deref(), Some("ack-before-fsync"));

    let dir = std::env::temp_dir().join(format!("sim-bundle-{}", std::process::id()));
    let path = dir.join("bundle.json");
    bundle.write(&path).unwrap();
    let read = Bundle::read(&path).unwrap();
    assert_eq!(read, bundle);

    let replay = read.replay(false);
    assert!(
        replay.same_violation,
        "replay gave {:?}",
        replay.report.violation
    );
    assert!(replay.same_hash);

    let before = bundle.size();
    let shrunk = bundle::shrink(&bundle, |_| {});
    let after = shrunk.size();
    assert_eq!(shrunk.violation.property, bundle.violation.property);
    assert!(
        after.faults + after.client_ops <= 5,
        "shrunk only to {after} (from {before})"
    );
    assert!(after.chaos_us <= before.chaos_us);
    // The minimized bundle still fails on replay.
    assert!(shrunk.replay(false).same_property);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_correct_core_passes_the_seed_the_planted_bug_fails() {
    let (seed, _) = first_failure("match-from-bookkeeping");
    let report = sim::run(SimConfig::draw(seed), &RunOptions::default());
    assert!(report.passed(), "{:?}", report.violation);
}
