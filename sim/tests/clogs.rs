//! A clogged link, run on a quiet network with a hand-written fault script: it holds what is
//! sent on it and releases it together, and never holds anything past the end of the faults.

use sim::faults::{Fault, ScriptedFault};
use sim::trace::TraceEvent;
use sim::{RunOptions, RunReport, SimConfig};

/// Three nodes on a lossless network running `script`.
fn run(script: Vec<ScriptedFault>) -> (SimConfig, RunReport) {
    let config = SimConfig::draw(3).without_faults();
    let options = RunOptions {
        keep_trace: true,
        script: Some(script),
        ..Default::default()
    };
    (config.clone(), sim::run(config, &options))
}

/// The arrival times of what n0 sent n1 between `from` and `to` (virtual microseconds).
fn arrivals_on_n0_to_n1(trace: &[TraceEvent], from: u64, to: u64) -> Vec<u64> {
    trace
        .iter()
        .filter(|e| e.kind == "send" && e.node == Some(0) && (from..to).contains(&e.time))
        .filter(|e| e.field("to") == Some("n1"))
        .flat_map(|e| {
            e.field("arrive")
                .unwrap_or_default()
                .split(',')
                .filter_map(|t| t.trim().parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_clog_holds_what_is_sent_on_its_link_until_its_release() {
    let (_, report) = run(vec![ScriptedFault {
        at: 2_000_000,
        fault: Fault::Clog {
            from: 0,
            to: 1,
            for_us: 1_000_000,
        },
    }]);
    assert!(report.passed(), "{:?}", report.violation);
    let held = arrivals_on_n0_to_n1(&report.trace, 2_000_000, 3_000_000);
    assert!(
        !held.is_empty(),
        "n0 sent n1 nothing while the link was clogged"
    );
    assert!(held.iter().all(|&t| t >= 3_000_000), "{held:?}");
}

#[test]
fn a_clog_drawn_to_outlast_the_faults_releases_when_they_stop() {
    let (config, report) = run(vec![ScriptedFault {
        at: 2_000_000,
        fault: Fault::Clog {
            from: 0,
            to: 1,
            for_us: 1_000_000_000,
        },
    }]);
    assert!(report.passed(), "{:?}", report.violation);
    let what = report
        .trace
        .iter()
        .find(|e| e.kind == "fault" && e.field("what").is_some_and(|w| w.starts_with("clog")))
        .and_then(|e| e.field("what"))
        .expect("the clog is traced");
    assert_eq!(what, format!("clog n0->n1 until {}", config.chaos_us));
    let latest = config.chaos_us + config.latency.max_us.max(config.latency.tail_max_us);
    let held = arrivals_on_n0_to_n1(&report.trace, 2_000_000, config.chaos_us);
    assert!(
        !held.is_empty(),
        "n0 sent n1 nothing while the link was clogged"
    );
    assert!(
        held.iter().all(|&t| t <= latest),
        "held past the faults: {held:?}"
    );
}
