//! A fixed set of seeds must pass every checker, and together they must reach every fault kind.

use sim::{RunOptions, SimConfig};
use std::collections::BTreeSet;

/// Seeds CI always runs (short chaos phases keep the suite fast).
const PINNED: std::ops::Range<u64> = 0..40;

#[test]
fn pinned_seeds_pass_and_reach_every_fault_kind() {
    let mut kinds = BTreeSet::new();
    let mut recovery = (0, 0, 0, 0, 0);
    for seed in PINNED {
        let mut config = SimConfig::draw(seed);
        config.chaos_us = 5_000_000;
        let report = sim::run(config, &RunOptions::default());
        assert!(
            report.passed(),
            "seed {seed}: {:?}\nrepro: cargo xtask sim --seed {seed} --chaos-secs 5",
            report.violation
        );
        assert!(
            report.stats.entries_committed > 0,
            "seed {seed} committed nothing"
        );
        kinds.extend(report.stats.faults.keys().cloned());
        recovery.0 += report.stats.torn_tails_dropped;
        recovery.1 += report.stats.nodes_damaged;
        recovery.4 += report.stats.nodes_repaired;
        recovery.2 += report.stats.read_errors;
        recovery.3 += report.stats.wal_compactions;
        if report.stats.messages_dropped > 0 {
            kinds.insert("message-drop".into());
        }
        if report.stats.messages_duplicated > 0 {
            kinds.insert("message-duplicate".into());
        }
    }
    let expected = [
        "clog",
        "corrupt",
        "crash",
        "heal",
        "kill-next-leader",
        "leader-transfer",
        "message-drop",
        "membership-proposed",
        "message-duplicate",
        "partition-bridge",
        "partition-isolate",
        "partition-one-way",
        "partition-split",
        "pause",
        "pause-apply",
        "read-error",
        "slow-fsync",
        "snapshot",
        "torn-write",
    ];
    for kind in expected {
        assert!(
            kinds.contains(kind),
            "no pinned seed injected {kind}; saw {kinds:?}"
        );
    }
    assert!(recovery.0 > 0, "no torn tail was ever dropped at recovery");
    assert!(recovery.1 > 0, "no node ever booted on damaged storage");
    assert!(recovery.4 > 0, "no damaged node was ever repaired");
    assert!(recovery.2 > 0, "no read error was ever hit");
    assert!(
        recovery.3 > 0,
        "no local snapshot ever compacted a WAL (restarts then recover from a compacted one)"
    );
}

#[test]
fn a_fault_free_run_commits_every_client_operation() {
    let mut config = SimConfig::draw(3).without_faults();
    config.workload.clients = 3;
    config.workload.think_max_us = 5_000;
    let report = sim::run(config, &RunOptions::default());
    assert!(report.passed(), "{:?}", report.violation);
    assert_eq!(report.stats.ops_unknown, 0);
    assert_eq!(report.stats.ops_fail, 0);
    assert!(report.stats.ops_ok > 100);
}
