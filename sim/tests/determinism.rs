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
    // The fault script draws from streams of its own: changing the workload leaves it as it was.
    let base = SimConfig::draw(9);
    let mut busier = base.clone();
    busier.workload.clients += 3;
    assert_eq!(
        sim::faults::draw_script(&base),
        sim::faults::draw_script(&busier)
    );
    assert_ne!(hash(base), hash(busier));
}

#[test]
fn a_decision_depends_on_its_key_not_on_what_else_was_drawn() {
    use sim::decisions::{Decision, Value};
    use sim::perturbation::Perturbation;
    // The part of a value no rule of the moment adjusts (loss, duplication and slow fsyncs
    // stop with the faults, so a decision taken on either side of that instant may differ).
    fn unadjusted(value: Value) -> Value {
        match value {
            Value::Fate(mut f) => {
                f.dropped = false;
                f.duplicate = None;
                Value::Fate(f)
            }
            Value::Fsync(mut f) => {
                f.slow_by = None;
                Value::Fsync(f)
            }
            other => other,
        }
    }
    for seed in 0..10 {
        let run = |perturbation| {
            let options = RunOptions {
                perturbation,
                ..RunOptions::default()
            };
            sim::run(SimConfig::draw(seed), &options).decisions
        };
        let plain: std::collections::HashMap<_, _> = run(None)
            .into_iter()
            .map(|d: Decision| ((d.key, d.ordinal), unadjusted(d.value)))
            .collect();
        for perturbation in [Perturbation::ReorderedSends, Perturbation::ExtraMessage] {
            let mut shared = 0;
            for d in run(Some(perturbation)) {
                if let Some(value) = plain.get(&(d.key, d.ordinal)) {
                    assert_eq!(
                        *value,
                        unadjusted(d.value),
                        "seed {seed} {perturbation}: {d}"
                    );
                    shared += 1;
                }
            }
            assert!(
                shared > 100,
                "seed {seed} {perturbation}: {shared} shared decisions"
            );
        }
    }
}
