//! Snapshot-heavy runs (`SimConfig::compaction`): the application snapshots every few
//! entries and messages carry a few hundred bytes, so a follower that was down is caught up
//! by a snapshot sent in chunks, and the chunks meet the network's faults like any message.

use sim::config::Compaction;
use sim::faults::{Fault, ScriptedFault, Target};
use sim::trace::TraceEvent;
use sim::{RunOptions, RunReport, SimConfig};

fn snapshot_heavy(mut config: SimConfig) -> SimConfig {
    config.compaction = Some(Compaction {
        every_entries: 8,
        // The quiet runs' snapshots hold a few dozen bytes: sixteen makes several chunks.
        max_bytes_per_message: 16,
    });
    config
}

fn run(config: SimConfig, script: Option<Vec<ScriptedFault>>) -> RunReport {
    let options = RunOptions {
        keep_trace: true,
        script,
        ..Default::default()
    };
    let report = sim::run(config, &options);
    assert!(report.passed(), "{:?}", report.violation);
    report
}

/// The snapshot chunks sent to `to`: (offset, deliveries).
fn chunks_to(trace: &[TraceEvent], to: usize) -> Vec<(u64, usize)> {
    trace
        .iter()
        .filter(|e| e.kind == "send" && e.field("to") == Some(&format!("n{to}")))
        .filter_map(|e| {
            let msg = e.field("msg")?;
            let offset = msg.strip_prefix("IS(")?.split("offset=").nth(1)?;
            let offset = offset.split(' ').next()?.parse().ok()?;
            Some((offset, e.field("arrive")?.split(',').count()))
        })
        .collect()
}

#[test]
fn a_follower_down_while_the_others_compact_is_caught_up_by_a_snapshot_in_chunks() {
    let mut config = snapshot_heavy(SimConfig::draw(3).without_faults());
    config.nodes = 3;
    let script = vec![ScriptedFault {
        at: 1_000_000,
        fault: Fault::Crash {
            target: Target::Node(2),
            down_us: 3_000_000,
        },
    }];
    let report = run(config, Some(script));
    assert!(report.stats.faults.get("compaction").copied().unwrap_or(0) > 10);
    let chunks = chunks_to(&report.trace, 2);
    let offsets: std::collections::BTreeSet<u64> = chunks.iter().map(|c| c.0).collect();
    assert!(offsets.len() > 1, "one chunk only: {chunks:?}");
    let installed = report
        .trace
        .iter()
        .any(|e| e.kind == "apply-snapshot" && e.node == Some(2) && e.time > 4_000_000);
    assert!(installed, "n2 never installed a snapshot after its restart");
}

#[test]
fn snapshot_chunks_are_duplicated_like_any_message() {
    let mut config = snapshot_heavy(SimConfig::draw(3).without_faults());
    config.nodes = 3;
    config.faults.duplicate_ppm = 200_000;
    let script = vec![ScriptedFault {
        at: 1_000_000,
        fault: Fault::Crash {
            target: Target::Node(2),
            down_us: 3_000_000,
        },
    }];
    let report = run(config, Some(script));
    let chunks = chunks_to(&report.trace, 2);
    assert!(
        chunks.iter().any(|&(_, deliveries)| deliveries > 1),
        "no chunk duplicated: {chunks:?}"
    );
}

#[test]
fn drawn_snapshot_heavy_seeds_compact_and_pass() {
    let mut compactions = 0;
    for seed in 0..12 {
        let report = run(snapshot_heavy(SimConfig::draw(seed)), None);
        compactions += report.stats.faults.get("compaction").copied().unwrap_or(0);
    }
    assert!(compactions > 100, "{compactions} compactions in 12 seeds");
}
