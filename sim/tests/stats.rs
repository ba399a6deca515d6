//! The run's figures are the world's own: turning the checkers off (what `cargo xtask bench`
//! does to measure them) changes neither the trace nor any figure.

use sim::{RunOptions, SimConfig};

#[test]
fn figures_are_the_same_with_and_without_the_checkers() {
    for seed in 0..20 {
        let mut config = SimConfig::draw(seed);
        config.chaos_us = 2_000_000;
        let run = |checkers| {
            let options = RunOptions {
                checkers,
                ..RunOptions::default()
            };
            sim::run(config.clone(), &options)
        };
        let (checked, unchecked) = (run(true), run(false));
        assert!(checked.passed(), "seed {seed}: {:?}", checked.violation);
        assert_eq!(checked.trace_hash, unchecked.trace_hash, "seed {seed}");
        let figures = |r: &sim::RunReport| serde_json::to_string(&r.stats).unwrap();
        assert_eq!(figures(&checked), figures(&unchecked), "seed {seed}");
        assert!(
            unchecked.stats.leaders > 0,
            "seed {seed}: no leader counted"
        );
        assert!(
            unchecked.stats.entries_committed > 0,
            "seed {seed}: no commit counted"
        );
    }
}

/// Seed 42's summary as the README shows it.
#[test]
fn seed_42_counts_its_leaders_and_commits() {
    let report = sim::run(SimConfig::draw(42), &RunOptions::default());
    assert_eq!(report.trace_hash, 0xe801_2427_55fd_50a1);
    assert_eq!(
        (report.stats.elections, report.stats.leaders),
        (17, 13),
        "campaigns, leaders"
    );
    assert_eq!(report.stats.max_term, 14);
    assert_eq!(report.stats.entries_committed, 1327);
}
