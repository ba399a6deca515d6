//! Determinism is a feature: the same seed gives the same trace, different seeds differ, and
//! the concerns draw from separate streams.

use sim::{RunOptions, SimConfig};

fn hash(config: SimConfig) -> u64 {
    sim::run(config, &RunOptions::default()).trace_hash
}

#[test]
fn the_same_seed_gives_the_same_trace_hash() {
    for seed in [1, 17, 256] {
        let a = sim::run(
            SimConfig::draw(seed),
            &RunOptions {
                keep_trace: true,
                ..Default::default()
            },
        );
        let b = sim::run(
            SimConfig::draw(seed),
            &RunOptions {
                keep_trace: true,
                ..Default::default()
            },
        );
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(a.trace, b.trace, "seed {seed}");
        assert!(
            a.trace_events > 100,
            "seed {seed} traced only {} events",
            a.trace_events
        );
    }
}

#[test]
fn different_seeds_give_different_traces() {
    let hashes: std::collections::BTreeSet<u64> =
        (0..20).map(|s| hash(SimConfig::draw(s))).collect();
    assert_eq!(hashes.len(), 20);
}

#[test]
fn keeping_the_trace_does_not_change_the_run() {
    let kept = sim::run(
        SimConfig::draw(5),
        &RunOptions {
            keep_trace: true,
            ..Default::default()
        },
    );
    let hashed_only = sim::run(SimConfig::draw(5), &RunOptions::default());
    assert_eq!(kept.trace_hash, hashed_only.trace_hash);
}

#[test]
fn a_workload_change_does_not_reshuffle_the_fault_script() {
    // The fault script comes from its own stream: changing the workload leaves it as it was.
    let base = SimConfig::draw(9);
    let mut busier = base.clone();
    busier.workload.clients += 3;
    assert_eq!(
        sim::faults::draw_script(&base),
        sim::faults::draw_script(&busier)
    );
    assert_ne!(hash(base), hash(busier));
}
