//! What the liveness check may and may not count as a stuck cluster. Two held-out seeds failed
//! on the correct core with a congested pipeline (one entry per message, one message in
//! flight, a slow network): the cluster committed steadily, and the checker was too strict.

use sim::{RunOptions, SimConfig, StateMachine};

/// Seed 1078 ends its chaos phase with 148 entries appended but not committed, which the
/// pipeline drains at about one entry per 45 ms round trip: the probe's write, appended after
/// them, commits 6.6 s after the faults stop. The bound grows by the time the backlog needs.
#[test]
fn the_bound_allows_for_the_backlog_a_slow_pipeline_must_drain() {
    let mut config = SimConfig::draw(1078);
    // The seed draws an overrun threshold of its own, which would cap the backlog this test
    // is about (the leader refuses proposals past it): the pipeline alone here.
    config.overrun_threshold = raft_core::Config::DEFAULT_MAX_UNCOMMITTED_ENTRIES;
    config.workload.forward_requests = false;
    assert_eq!(
        (config.max_entries_per_message, config.max_inflight_messages),
        (1, 1)
    );
    let report = sim::run(config, &RunOptions::default());
    assert!(report.passed(), "{:?}", report.violation);
    let recovery = report.recovery_time.expect("the probe committed");
    assert!(
        recovery > 6_000_000,
        "the probe committed after the unextended bound: {recovery}us"
    );
}

#[test]
fn the_backlog_allowance_is_one_round_trip_per_pipeline_load() {
    let mut config = SimConfig::draw(1078);
    config.max_entries_per_message = 8;
    config.max_inflight_messages = 4;
    config.latency.max_us = 10_000;
    config.fsync_max_us = 1_000;
    assert_eq!(config.backlog_allowance_us(0), 0);
    assert_eq!(config.backlog_allowance_us(1), 21_000);
    assert_eq!(config.backlog_allowance_us(32), 21_000);
    assert_eq!(config.backlog_allowance_us(33), 42_000);
    assert_eq!(config.backlog_allowance_us(u64::MAX), u64::MAX);
}

/// Seed 350 with the stream: the stream is full (discard new), so the probe's publish is
/// refused, and each of its retries lands behind a backlog longer than its attempt timeout.
/// The refusal of an earlier copy cannot be the probe's outcome (a later copy may still be
/// stored), but it proves that the leader committed the write.
#[test]
fn the_probe_counts_an_earlier_copy_as_proof_of_a_commit() {
    let mut config = SimConfig::draw(350);
    config.state_machine = StateMachine::Stream;
    let report = sim::run(config, &RunOptions::default());
    assert!(report.passed(), "{:?}", report.violation);
}

/// Seed 2983 (snapshot-heavy: a snapshot every 11 entries, 64-byte chunks, a slow network)
/// ends its chaos phase with the leader's own removal appended, so a new write needs the
/// other voter, which is behind the leader's 13 kB snapshot: 211 chunks, one per round
/// trip, about 9 s. The bound grows by the time the transfer needs.
#[test]
fn the_bound_allows_for_a_snapshot_a_needed_voter_must_receive() {
    let config = SimConfig::draw(2983);
    assert_eq!(config.max_bytes_per_message(), 64);
    let options = RunOptions {
        keep_trace: true,
        ..RunOptions::default()
    };
    let report = sim::run(config, &options);
    assert!(report.passed(), "{:?}", report.violation);
    let owed = report
        .trace
        .iter()
        .find(|e| e.kind == "snapshot-owed")
        .expect("a voter was behind the leader's snapshot when the faults stopped");
    assert!(owed.field("bytes").is_some_and(|b| b != "0"));
    let recovery = report.recovery_time.expect("the probe committed");
    assert!(
        recovery > 6_400_000,
        "the probe committed within the unextended bound: {recovery}us"
    );
}

#[test]
fn the_snapshot_allowance_is_one_round_trip_per_chunk() {
    let mut config = SimConfig::draw(2983);
    config.latency.max_us = 10_000;
    config.fsync_max_us = 1_000;
    assert_eq!(config.max_bytes_per_message(), 64);
    assert_eq!(config.snapshot_transfer_us(0), 0);
    assert_eq!(config.snapshot_transfer_us(1), 21_000);
    assert_eq!(config.snapshot_transfer_us(64), 21_000);
    assert_eq!(config.snapshot_transfer_us(65), 42_000);
    assert_eq!(config.snapshot_transfer_us(u64::MAX), u64::MAX);
}
