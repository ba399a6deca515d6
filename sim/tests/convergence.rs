//! Convergence and no loop without progress, the two properties of the liveness phase that
//! look past the quorum: each fires on a run with a follower stuck in a loop
//! (`snapshot-resent-after-install`: the leader sends the same snapshot again and again) and
//! never on the correct core of the same seed.

#[cfg(feature = "planted-bugs")]
use sim::checkers::Property;
use sim::{RunOptions, SimConfig};

fn run(config: SimConfig, planted: Option<&str>) -> sim::RunReport {
    let options = RunOptions {
        planted_bug: planted.map(str::to_string),
        ..RunOptions::default()
    };
    sim::run(config, &options)
}

#[test]
fn the_correct_core_converges_where_the_planted_loop_does_not() {
    for seed in [89, 187, 275] {
        let report = run(SimConfig::draw(seed), None);
        assert!(report.passed(), "seed {seed}: {:?}", report.violation);
    }
}

/// Seed 642 with the stream: a clog held a follower's rejections; released together at the
/// heal, each made the leader resend the same entries (a rejection below its match index
/// resets the match, for a replaced disk). Stale answers arriving are not a loop: the count
/// starts once every message sent while the faults acted has arrived.
#[test]
fn answers_a_clog_held_until_the_heal_are_not_a_loop_without_progress() {
    let mut config = SimConfig::draw(642);
    config.state_machine = sim::config::StateMachine::Stream;
    let report = run(config, None);
    assert!(report.passed(), "{:?}", report.violation);
}

/// Seed 89: after the faults stop the leader delivers the snapshot at 110 to a follower more
/// often than a few round trips' worth of heartbeats allow, its match index never moving.
#[cfg(feature = "planted-bugs")]
#[test]
fn a_snapshot_sent_again_and_again_is_a_loop_without_progress() {
    let report = run(SimConfig::draw(89), Some("snapshot-resent-after-install"));
    let violation = report.violation.expect("the loop is found");
    assert_eq!(violation.property, Property::NoLoopWithoutProgress);
    assert!(violation.detail.contains("the snapshot at"), "{violation}");
}

/// With the incremental checkers off (the loop checker among them), the follower stuck behind
/// the snapshot is caught by convergence on its own, at the end of the run: the verdict is the
/// world's, as liveness is.
#[cfg(feature = "planted-bugs")]
#[test]
fn a_follower_that_never_catches_up_breaks_convergence() {
    let options = RunOptions {
        planted_bug: Some("snapshot-resent-after-install".to_string()),
        checkers: false,
        ..RunOptions::default()
    };
    let report = sim::run(SimConfig::draw(89), &options);
    let violation = report.violation.expect("the stuck follower is found");
    assert_eq!(violation.property, Property::Convergence, "{violation}");
    assert!(violation.detail.contains("applied through"), "{violation}");
}
